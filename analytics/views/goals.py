"""Goals pages: a partner's goals of a quarter with their progress (partner admins propose), one
partner's goals for its manager (set, accept, remove), and the accept / remove buttons."""

from __future__ import annotations

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_POST

from analytics import kpis, services
from analytics.forms import GoalForm
from analytics.models import Goal, GoalStatus, KpiDefinition
from analytics.selectors import goal_progress
from partners.models import PartnerAccount, PortalTab
from partners.navigation import require_tab
from prm.access import get_visible_or_404, partner_contact, require, role_of
from prm.views import apply_errors


def _quarter(request) -> kpis.Period:
    """The quarter of ``?period=`` (a month or a day range counts as its quarter); a bad value
    is the current quarter, with a message."""
    text = request.GET.get("period", "").strip()
    default = kpis.Period.current_quarter()
    if not text:
        return default
    try:
        return kpis.Period.quarter(kpis.Period.parse(text).start)
    except ValueError:
        messages.warning(
            request,
            f"“{text[:40]}” is not a quarter we know, so this is {default.label}. Try 2026-Q4.",
        )
        return default


def _with_period(url: str, quarter: kpis.Period) -> str:
    return f"{url}?period={quarter.key}"


def _goal_progress(accounts, quarter: kpis.Period) -> list:
    """The quarter's goals of ``accounts`` (scoped) with their progress.

    Like ``selectors.goals_with_progress``, but the KPI values are read from every source: the
    page then costs the same number of queries whichever KPIs (and however many) have goals.
    """
    goals = list(
        Goal.objects.filter(account__in=accounts, quarter=quarter.start)
        .select_related("account", "proposed_by", "set_by")
        .order_by("status", "kpi", "pk")
    )
    if not goals:
        return []
    values = kpis.compute(accounts, quarter, by="account")
    return goal_progress(goals, values, quarter)


def _page(request, account, *, template: str, may_write: bool, form=None, quarter=None):
    """The goals page of ``account``: progress of the quarter's goals and, when the viewer may
    write and the quarter is not over, the form to add or change one (refilled after an error)."""
    quarter = quarter or _quarter(request)
    this_quarter = kpis.Period.current_quarter()
    accounts = PartnerAccount.objects.visible_to(request.user).filter(pk=account.pk)
    progress = _goal_progress(accounts, quarter)
    is_past = quarter.start < this_quarter.start
    if may_write and not is_past and form is None:
        form = GoalForm(
            definitions=list(KpiDefinition.objects.filter(goal_allowed=True)),
            initial={"quarter": quarter.key},
        )
    return render(
        request,
        template,
        {
            "account": account,
            "quarter": quarter,
            "is_this_quarter": quarter == this_quarter,
            "is_past": is_past,
            "previous_url": _with_period(request.path, quarter.previous()),
            "next_url": _with_period(request.path, quarter.next()),
            "this_quarter_url": request.path,
            "goals": [p for p in progress if p.goal.status == GoalStatus.ACCEPTED],
            "proposals": [p for p in progress if p.goal.status == GoalStatus.PROPOSED],
            "form": form if may_write and not is_past else None,
            "currency": settings.PRM_REPORTING_CURRENCY,
            "can_set": services.can_set_goals(request.user, account),
            "can_propose": services.can_propose_goals(request.user, account),
        },
    )


def _submit(request, account, write, *, template: str):
    """Validate the posted goal and hand it to ``write``: the saved goal, or the page again
    with the errors at their fields, the form refilled and nothing written."""
    form = GoalForm(request.POST, definitions=list(KpiDefinition.objects.filter(goal_allowed=True)))
    if form.is_valid():
        data = form.cleaned_data
        try:
            return write(
                actor=request.user,
                account=account,
                quarter=data["quarter"],
                kpi=data["kpi"],
                target=data["target"],
                note=data["note"],
            )
        except ValidationError as error:
            apply_errors(form, error)
    try:
        quarter = kpis.Period.parse(form.data.get("quarter", ""))
    except ValueError:
        quarter = None
    return _page(request, account, template=template, may_write=True, form=form, quarter=quarter)


@login_required
def goals(request):
    """The partner's own goals of a quarter; partner admins propose targets here."""
    role = role_of(request.user)
    if role.is_internal:  # internal users open a partner's goals from its page
        return redirect("partners:partner_list")
    require(role.is_partner, "Goals are for partner users.")
    require_tab(request, PortalTab.DASHBOARD)
    account = partner_contact(request.user).account
    may_propose = services.can_propose_goals(request.user, account)
    template = "analytics/goals.html"
    if request.method == "POST":
        require(may_propose, "Only your company's partner admins propose goals.")
        result = _submit(request, account, services.propose_goal, template=template)
        if not isinstance(result, Goal):
            return result
        messages.success(
            request,
            f"Proposed: {result.get_kpi_display()} {result.target:g}. "
            "Your partner manager has been asked to agree it.",
        )
        return redirect(_back(request, result))
    return _page(request, account, template=template, may_write=may_propose)


@login_required
def account_goals(request, pk):
    """One partner's goals of a quarter, for its manager and admins: set, accept, remove."""
    account = get_visible_or_404(
        PartnerAccount.objects.select_related("manager"), request.user, pk=pk
    )
    require(role_of(request.user).is_internal, "Partner users see their goals on their own page.")
    may_set = services.can_set_goals(request.user, account)
    template = "analytics/goals_account.html"
    if request.method == "POST":
        require(may_set, "Only the partner's manager or an admin sets goals.")
        result = _submit(request, account, services.set_goal, template=template)
        if not isinstance(result, Goal):
            return result
        messages.success(
            request,
            f"Goal saved: {result.get_kpi_display()} {result.target:g}. "
            "The partner's admins have been told.",
        )
        return redirect(_back(request, result))
    return _page(request, account, template=template, may_write=may_set)


def _back(request, goal: Goal) -> str:
    quarter = kpis.Period.quarter(goal.quarter)
    if role_of(request.user).is_internal:
        return _with_period(reverse("analytics:account_goals", args=[goal.account_id]), quarter)
    return _with_period(reverse("analytics:goals"), quarter)


@login_required
@require_POST
def goal_accept(request, pk):
    """The manager agrees to a partner's proposal."""
    goal = get_visible_or_404(Goal.objects.select_related("account"), request.user, pk=pk)
    try:
        services.accept_goal(actor=request.user, goal=goal)
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    else:
        messages.success(request, f"Agreed: {goal.get_kpi_display()} {goal.target:g}.")
    return redirect(_back(request, goal))


@login_required
@require_POST
def goal_delete(request, pk):
    """The manager removes a goal; a partner admin withdraws their own proposal."""
    goal = get_visible_or_404(Goal.objects.select_related("account"), request.user, pk=pk)
    try:
        services.remove_goal(actor=request.user, goal=goal)
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    else:
        messages.success(request, f"Removed the goal on {goal.get_kpi_display()}.")
    return redirect(_back(request, goal))
