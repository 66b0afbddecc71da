"""Celery tasks of the analytics app: thin wrappers around services and notifications."""

from __future__ import annotations

from celery import shared_task
from django.contrib.auth import get_user_model
from django.urls import reverse

from analytics import kpis, services
from analytics.models import Goal, GoalStatus
from partners.models import Contact, PortalAccess
from prm.notifications import notify


@shared_task(name="analytics.refresh_scores", ignore_result=True)
def refresh_scores(period: str | None = None) -> int:
    """Every partner's kept scores for the current quarter (or ``period``, e.g. "2026-Q3"),
    and everyone's kept figures of the current and the previous month."""
    written = services.refresh_scores(period)
    services.refresh_months()
    return written


@shared_task(name="analytics.refresh_account_scores", ignore_result=True)
def refresh_account_scores(account_ids: list[int]) -> int:
    """The current quarter's scores of a few partners, after a write that changed their figures
    (enqueued by name from deals and training, which do not import analytics), and their kept
    figures of the current and the previous month (a deal closed last month may reopen)."""
    written = services.refresh_scores(account_ids=account_ids)
    services.refresh_months(account_ids=account_ids)
    return written


@shared_task(name="analytics.notify_goal", ignore_result=True)
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
    return notify(
        f"goal-{kind}:{goal.pk}:{stamp}",
        recipients,
        title=title,
        url=url,
        body=body,
        topic="goals",
    )


# --- alert rules (issue 6) ----------------------------------------------------------------------


@shared_task(name="analytics.evaluate_alert_rules", ignore_result=True)
def evaluate_alert_rules() -> int:
    """Beat, every 5 minutes: evaluate the active rules whose interval has passed. Returns how
    many alerts were raised."""
    from analytics import alerts

    return sum(len(alerts.evaluate_rule(rule).raised) for rule in alerts.due_rules())


@shared_task(name="analytics.evaluate_alerts_for", ignore_result=True)
def evaluate_alerts_for(condition: str) -> int:
    """Right after an event (an account deactivated, a survey answered): evaluate the active
    rules of ``condition`` now (enqueued by name from apps that do not import analytics)."""
    from analytics import alerts
    from analytics.models import AlertRule

    rules = AlertRule.objects.filter(active=True, condition=condition).order_by("pk")
    return sum(len(alerts.evaluate_rule(rule).raised) for rule in rules)


@shared_task(name="analytics.send_alerts", ignore_result=True)
def send_alerts(alert_ids: list[int]) -> int:
    """Tell the audience of newly raised alerts; once per alert (the bell's key)."""
    from analytics import alerts

    return alerts.send_alerts(alert_ids)


# --- feedback surveys (issue 6) -----------------------------------------------------------------


@shared_task(name="analytics.distribute_surveys", ignore_result=True)
def distribute_surveys() -> int:
    """Beat, hourly: the invitations of the open ONCE and QUARTERLY distributions (in sets;
    a second run issues nothing new)."""
    from analytics import surveys

    return surveys.distribute_due()


@shared_task(name="analytics.remind_survey_non_responders", ignore_result=True)
def remind_survey_non_responders() -> int:
    """Beat, daily: one reminder to each invitation still unanswered after its distribution's
    ``remind_after_days``."""
    from analytics import surveys

    return surveys.remind_non_responders()


@shared_task(name="analytics.survey_after_deal_won", ignore_result=True)
def survey_after_deal_won(opportunity_ids: list[int]) -> int:
    """Enqueued by name from deals when deals are won (deals does not import analytics)."""
    from analytics import surveys

    return surveys.survey_after_deal_won(opportunity_ids)


@shared_task(name="analytics.survey_after_course_completed", ignore_result=True)
def survey_after_course_completed(enrollment_ids: list[int]) -> int:
    """Enqueued by name from training when enrollments are completed."""
    from analytics import surveys

    return surveys.survey_after_course_completed(enrollment_ids)


@shared_task(name="analytics.send_survey_invitations", ignore_result=True)
def send_survey_invitations(invitation_ids: list[int]) -> int:
    """The invitation email (HTML and text) and bell entry with the personal link, once each."""
    from analytics import surveys

    return surveys.send_invitations(invitation_ids)


@shared_task(name="analytics.send_survey_reminders", ignore_result=True)
def send_survey_reminders(invitation_ids: list[int]) -> int:
    """The reminder email of each invitation claimed by ``remind_survey_non_responders``."""
    from analytics import surveys

    return surveys.send_reminders(invitation_ids)


# --- quarterly goal reviews (issue 6) ---------------------------------------------------------


@shared_task(name="analytics.create_quarter_reviews", ignore_result=True)
def create_quarter_reviews(quarter: str | None = None) -> int:
    """Beat, hourly: the reviews of the last complete quarter in ``settings.TIME_ZONE`` (or of
    ``quarter``, e.g. "2026-Q3"). Beat keeps UTC, so rather than a local-time crontab the task
    runs every hour and decides the quarter itself: the first run after a quarter's end creates
    the reviews, later runs create nothing (one review per account and quarter), and a missed
    run is caught up by the next."""
    from analytics import reviews

    return reviews.create_quarter_reviews(quarter)


@shared_task(name="analytics.notify_reviews", ignore_result=True)
def notify_reviews(review_ids: list[int]) -> int:
    """Tell the manager (or the admins) and the partner admins about new reviews, once each."""
    from analytics import reviews

    return reviews.notify_reviews(review_ids)


@shared_task(name="analytics.notify_review_acknowledged", ignore_result=True)
def notify_review_acknowledged(review_id: int) -> int:
    """Tell the manager (or the admins) that the partner acknowledged its review."""
    from analytics import reviews

    return reviews.notify_review_acknowledged(review_id)
