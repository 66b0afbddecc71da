"""Celery tasks of the analytics app: thin wrappers around services and notifications."""

from __future__ import annotations

from celery import shared_task
from django.contrib.auth import get_user_model
from django.urls import reverse

from analytics import kpis, services
from analytics.models import Goal, GoalStatus
from partners.models import Contact, PortalAccess
from prm.notifications import notify

RETRY = {"autoretry_for": (OSError,), "retry_backoff": True, "max_retries": 5}


@shared_task(name="analytics.refresh_scores", ignore_result=True)
def refresh_scores(period: str | None = None) -> int:
    """Every partner's kept scores for the current quarter (or ``period``, e.g. "2026-Q3")."""
    return services.refresh_scores(period)


@shared_task(name="analytics.refresh_account_scores", ignore_result=True)
def refresh_account_scores(account_ids: list[int]) -> int:
    """The current quarter's scores of a few partners, after a write that changed their figures
    (enqueued by name from deals and training, which do not import analytics)."""
    return services.refresh_scores(account_ids=account_ids)


@shared_task(name="analytics.notify_goal", ignore_result=True, **RETRY)
def notify_goal(goal_id: int, kind: str, stamp: str = "") -> int:
    """Tell the other side about a goal: a proposal goes to the account's manager (or, with none,
    the admins); a goal set or agreed goes to the account's partner admins. Once per change
    (``stamp`` is the goal's ``updated_at`` when it was enqueued)."""
    goal = Goal.objects.select_related("account__manager").filter(pk=goal_id).first()
    if goal is None:  # removed before the workers got to it
        return 0
    account = goal.account
    quarter = kpis.Period.quarter(goal.quarter)
    what = f"{goal.get_kpi_display()}: {goal.target:g} in {quarter.label}"
    query = f"?period={quarter.key}"
    if kind == "proposed":
        if goal.status != GoalStatus.PROPOSED:
            return 0
        manager = account.manager
        if manager is not None and manager.is_active:
            recipients = [manager]
        else:
            recipients = list(get_user_model().objects.filter(is_active=True, is_superuser=True))
        title = f"{account.name} proposes a goal"
        url = reverse("analytics:account_goals", args=[account.pk]) + query
        body = f"{what}. Accept it or set another target."
    else:
        if account.is_blocked:
            return 0
        recipients = [
            contact.user
            for contact in Contact.objects.filter(
                account=account, portal_access=PortalAccess.ADMIN, user__is_active=True
            ).select_related("user")
        ]
        title = "Goal agreed" if kind == "accepted" else "New goal from your manager"
        url = reverse("analytics:goals") + query
        body = what + (f". {goal.note}" if goal.note else ".")
    return notify(f"goal-{kind}:{goal.pk}:{stamp}", recipients, title=title, url=url, body=body)
