"""An alert rule as production runs it: a real Celery worker on Redis evaluates the rules (the
beat's task), sends the new alert, and on the next run sends nothing; after the condition
clears and comes back, a new alert is sent once more."""

import re
from datetime import timedelta

import pytest
from django.utils import timezone

from analytics.models import Alert, AlertAudience, AlertChannel, AlertCondition, AlertRule
from analytics.tasks import evaluate_alert_rules
from deals.models import DealRegistration, RegistrationStatus
from prm.models import Notification
from prm.testing.world import build_world, submitted_registration

pytestmark = [pytest.mark.services, pytest.mark.django_db(transaction=True)]

TASK = "analytics.evaluate_alert_rules"


def _runs(log: str, task: str) -> list[str]:
    return re.findall(rf"{re.escape(task)}\[[^\]]+\] succeeded in [\d.]+s: (\d+)", log)


def _run_rules(worker, count: int) -> str:
    """Run the beat's task on the worker (the rule is due every time: ``every_minutes`` 0) and
    return what its ``count``-th run returned (how many alerts it raised)."""
    evaluate_alert_rules.delay()

    def runs():
        found = _runs(worker.log(), TASK)
        return found if len(found) >= count else None

    return worker.wait_for(f"run {TASK} {count} time(s)", runs)[count - 1]


def test_an_alert_fires_once_not_again_and_again_after_the_condition_returns(live_worker):
    world = build_world()
    rule = AlertRule.objects.create(
        name="Registration waiting more than 48 hours",
        condition=AlertCondition.REGISTRATION_WAITING,
        threshold=48,
        audience=AlertAudience.MANAGER,
        channel=AlertChannel.EMAIL,
        every_minutes=0,
    )
    registration = submitted_registration(world, hours=52)
    subject = "Registration waiting: Globex (Northwind Systems)"

    def bells():
        return list(
            Notification.objects.filter(key__startswith="alert:").values_list("key", "user")
        )

    def emails():
        return [m for m in live_worker.emails() if m["Subject"] == subject]

    # First run: one alert, one bell entry for the manager, one email.
    assert _run_rules(live_worker, 1) == "1"
    [alert] = Alert.objects.filter(rule=rule)
    live_worker.wait_for("send the alert", lambda: len(bells()) == 1 and len(emails()) == 1)
    assert bells() == [(f"alert:{alert.pk}", world.manager.pk)]
    assert emails()[0]["To"] == world.manager.email

    # Next run: the condition still holds, nothing new is raised or sent.
    assert _run_rules(live_worker, 2) == "0"
    assert Alert.objects.filter(rule=rule).count() == 1

    # The manager returns it: the next run clears the alert.
    DealRegistration.objects.filter(pk=registration.pk).update(status=RegistrationStatus.RETURNED)
    assert _run_rules(live_worker, 3) == "0"
    alert.refresh_from_db()
    assert alert.cleared_at is not None

    # Resubmitted and waiting again: a new alert, sent once.
    DealRegistration.objects.filter(pk=registration.pk).update(
        status=RegistrationStatus.SUBMITTED, submitted_at=timezone.now() - timedelta(hours=49)
    )
    assert _run_rules(live_worker, 4) == "1"
    again = Alert.objects.get(rule=rule, cleared_at__isnull=True)
    assert again.pk != alert.pk
    live_worker.wait_for("send the new alert", lambda: len(bells()) == 2 and len(emails()) == 2)
    assert _run_rules(live_worker, 5) == "0"
    # The worker has run everything queued before that run: no third bell entry or email.
    assert sorted(bells()) == sorted(
        [(f"alert:{alert.pk}", world.manager.pk), (f"alert:{again.pk}", world.manager.pk)]
    )
    assert len(emails()) == 2
