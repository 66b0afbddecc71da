"""The alerts page (internal users, and partner admins for their own company's alerts) and its
acknowledge / snooze buttons (plain POST or HTMX: the row comes back)."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_POST

from analytics import alerts as alert_rules
from analytics.filters import AlertFilter
from analytics.models import Alert
from prm.access import get_visible_or_404, require, role_of
from prm.views import page_of, render_htmx_or_redirect, site_path

ALERTS_PER_PAGE = 25


def _require_alerts(user) -> None:
    require(
        alert_rules.may_use_alerts(user),
        "Alerts are for partner managers and your company's partner admins.",
    )


def _row_context(request, alert) -> dict:
    return {
        "alert": alert,
        "now": timezone.now(),
        "snooze_choices": [(key, label) for key, (label, _) in alert_rules.SNOOZE_CHOICES.items()],
        "next_url": _back(request),
    }


def _back(request) -> str:
    """Where a button's POST returns: the list it was pressed on (our own paths only)."""
    return site_path(request.POST.get("next", "")) or reverse("analytics:alert_list")


@login_required
def alert_list(request):
    _require_alerts(request.user)
    alerts = (
        Alert.objects.visible_to(request.user)
        .select_related("rule", "account", "acknowledged_by")
        .order_by("-raised_at", "-pk")
    )
    filterset = AlertFilter(request.GET or None, queryset=alerts, request=request)
    if not filterset.is_valid():
        for name, errors in filterset.form.errors.items():
            label = filterset.form.fields[name].label if name in filterset.form.fields else ""
            messages.warning(request, f"{label}: {' '.join(errors)} That filter is left out.")
        data = request.GET.copy()
        for name in filterset.form.errors:
            data.pop(name, None)
        filterset = AlertFilter(data, queryset=alerts, request=request)
    rows = filterset.qs
    page = page_of(request, rows, ALERTS_PER_PAGE)
    return render(
        request,
        "analytics/alert_list.html",
        {
            "filter": filterset,
            "page_obj": page,
            "alerts": page.object_list,
            "state": filterset.form.cleaned_data.get("state", "open"),
            "is_internal": role_of(request.user).is_internal,
            "is_admin": request.user.is_superuser,
            "snooze_choices": [
                (key, label) for key, (label, _) in alert_rules.SNOOZE_CHOICES.items()
            ],
            "next_url": request.get_full_path(),
            "now": timezone.now(),
        },
    )


@login_required
@require_POST
def alert_acknowledge(request, pk):
    _require_alerts(request.user)
    alert = get_visible_or_404(Alert.objects, request.user, pk=pk)
    alert = alert_rules.acknowledge_alert(actor=request.user, alert=alert)
    messages.success(request, f"Acknowledged: {alert.title}.")
    return render_htmx_or_redirect(
        request,
        partial="analytics/partials/alert_row.html",
        context=_row_context(request, alert),
        redirect_to=_back(request),
    )


@login_required
@require_POST
def alert_snooze(request, pk):
    _require_alerts(request.user)
    alert = get_visible_or_404(Alert.objects, request.user, pk=pk)
    try:
        alert = alert_rules.snooze_alert(
            actor=request.user, alert=alert, length=request.POST.get("length", "")
        )
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    else:
        until = alert_rules.moment(alert.snoozed_until)
        messages.success(request, f"Snoozed until {until}: {alert.title}.")
    return render_htmx_or_redirect(
        request,
        partial="analytics/partials/alert_row.html",
        context=_row_context(request, alert),
        redirect_to=_back(request),
    )
