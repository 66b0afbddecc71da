"""The partner scorecard: the portal's "Dashboard" tab, and one partner's scorecard for the
internal users who look after it."""

from __future__ import annotations

import copy

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import QueryDict
from django.shortcuts import redirect, render
from django.urls import NoReverseMatch, reverse

from analytics import charts, kpis
from analytics.selectors import scorecard as selectors  # registers the scorecard charts
from partners.models import PartnerAccount, PortalTab
from partners.navigation import portal_tab, require_tab
from prm.access import Role, require, role_of

#: The charts of the page, in the order they are shown.
CHART_KEYS = ("scorecard-trend", "scorecard-stages")
#: A distributor's admin switches between at most this many of its accounts.
SWITCHABLE_ACCOUNTS = 100


@login_required
@portal_tab(PortalTab.DASHBOARD)
def scorecard(request):
    """A partner's own scorecard (a distributor's admin may pick a child: ``?account=``)."""
    role = role_of(request.user)
    if role.is_internal:
        try:
            return redirect(reverse("analytics:dashboard"))
        except NoReverseMatch:  # the manager dashboard is not installed
            return redirect("home")
    require(role.is_partner, "The scorecard is for partner users.")
    account = selectors.scorecard_account(request.user, request.GET.get("account"))
    return _render(request, account)


@login_required
def account_scorecard(request, pk):
    """One partner's scorecard for whoever may see the account (404 otherwise)."""
    require_tab(request, PortalTab.DASHBOARD)
    account = selectors.scorecard_account(request.user, pk)
    return _render(request, account)


def _period(request) -> kpis.Period:
    text = request.GET.get("period", "").strip()
    default = kpis.Period.current_quarter()
    if not text:
        return default
    try:
        return kpis.Period.parse(text)
    except ValueError:
        messages.warning(
            request,
            f"“{text[:40]}” is not a period we know, so this is {default.label}. "
            "Try 2026-Q4, 2026-11, 2026 or 2026-01-01..2026-02-15.",
        )
        return default


def _url(request, **params) -> str:
    """This page's URL with ``params`` replacing those of the query string (None: removed)."""
    query = request.GET.copy()
    for key, value in params.items():
        if value is None:
            query.pop(key, None)
        else:
            query[key] = value
    return f"{request.path}?{query.urlencode()}" if query else request.path


def _chart_request(request, account, period):
    """The request the chart builders see: the account and period made explicit, so that each
    chart's CSV link (the same query string) returns exactly what the page drew."""
    chart_request = copy.copy(request)
    query = QueryDict(mutable=True)
    query["account"] = str(account.pk)
    query["period"] = period.key
    chart_request.GET = query
    chart_request.scorecard_account = account  # looked up in visible_to already: no 2nd query
    return chart_request


def _render(request, account):
    user = request.user
    role = role_of(user)
    period = _period(request)
    today = kpis.local_today()
    this_quarter = kpis.Period.current_quarter()
    previous, following = period.previous(), period.next()
    chart_request = _chart_request(request, account, period)
    switchable = []
    if role is Role.PARTNER_ADMIN:
        switchable = list(
            PartnerAccount.objects.visible_to(user).only("pk", "name")[:SWITCHABLE_ACCOUNTS]
        )
    context = {
        "account": account,
        "period": period,
        "currency": settings.PRM_REPORTING_CURRENCY,
        "is_internal": role.is_internal,
        "is_partner_admin": role is Role.PARTNER_ADMIN,
        "own_account": getattr(getattr(user, "contact", None), "account_id", None) == account.pk,
        "switchable_accounts": switchable if len(switchable) > 1 else [],
        "previous_period": previous,
        "previous_url": _url(request, period=previous.key),
        "next_period": following if following.start <= today else None,
        "next_url": _url(request, period=following.key),
        "this_quarter_url": _url(request, period=None),
        "is_this_quarter": period == this_quarter,
        "not_started": period.start > today,
        "charts": [charts.build(key, chart_request) for key in CHART_KEYS],
        **selectors.scorecard_data(user, account, period, today=today),
    }
    return render(request, "analytics/scorecard.html", context)
