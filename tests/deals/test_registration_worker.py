"""Registration expiry and its 14-day warning as production runs them: a real Celery worker on
Redis, each task twice, the second run changing nothing."""

import re
from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from deals import services
from deals.models import DealRegistration, Product, RegistrationEvent, RegistrationStatus
from deals.tasks import (
    expire_registrations,
    notify_registration,
    notify_registrations,
    warn_expiring_registrations,
)
from prm.models import Notification
from prm.testing.world import build_world

pytestmark = [pytest.mark.services, pytest.mark.django_db(transaction=True)]


def _runs(log: str, task: str) -> list[str]:
    """What the worker's runs of ``task`` in ``log`` returned, oldest first."""
    return re.findall(rf"{re.escape(task)}\[[^\]]+\] succeeded in [\d.]+s: (\d+)", log)


def _wait_for_runs(worker, task: str, count: int) -> list[str]:
    def runs():
        found = _runs(worker.log(), task)
        return found if len(found) >= count else None

    return worker.wait_for(f"run {task} {count} time(s)", runs)


def _wait_for_result(worker, sent) -> None:
    """Wait until the worker has run ``sent`` (what ``.delay()`` returned): it takes one task at
    a time from its queue, in order, so everything queued before it has run too."""
    worker.wait_for(f"run task {sent.id}", lambda: f"[{sent.id}] succeeded" in worker.log())


def _approved(world, product, company, domain, expires_on):
    reg = services.save_registration(
        actor=world.member_a,
        registration=DealRegistration(
            company=company,
            domain=domain,
            contact_name="Pat Buyer",
            contact_email="pat@example.com",
            amount=Decimal("1000"),
            expected_close_date=timezone.localdate() + timedelta(days=30),
        ),
        lines=[(product, 1)],
    )
    services.submit_registration(actor=world.member_a, registration=reg)
    services.approve_registration(actor=world.manager, registration=reg)
    DealRegistration.objects.filter(pk=reg.pk).update(expires_on=expires_on)
    return reg


def test_expiry_and_its_warning_run_once_when_the_tasks_run_twice(live_worker):
    world = build_world()
    product = Product.objects.create(name="Gateway", sku="GW-1", family="Network", list_price=1)
    today = timezone.localdate()
    ended = [
        _approved(world, product, "Globex", "globex.com", today - timedelta(days=1)),
        _approved(world, product, "Initech", "initech.com", today - timedelta(days=30)),
    ]
    ending = _approved(world, product, "Umbrella", "umbrella.com", today + timedelta(days=14))
    later = _approved(world, product, "Hooli", "hooli.com", today + timedelta(days=15))
    before = set(RegistrationEvent.objects.values_list("pk", flat=True))

    expire_registrations.delay()
    assert _wait_for_runs(live_worker, "deals.expire_registrations", 1) == ["2"]
    # The worker ran the notifications of the submissions and approvals above (sent from this
    # process) before the expiry: one task at a time, in order.
    log = live_worker.log()
    log = log[: re.search(r"deals\.expire_registrations\[[^\]]+\] succeeded", log).start()]
    earlier = len(_runs(log, "deals.notify_registration"))
    warn_expiring_registrations.delay()
    assert _wait_for_runs(live_worker, "deals.warn_expiring_registrations", 1) == ["1"]
    events = RegistrationEvent.objects.count()

    expire_registrations.delay()
    warn_expiring_registrations.delay()
    assert _wait_for_runs(live_worker, "deals.expire_registrations", 2) == ["2", "0"]
    assert _wait_for_runs(live_worker, "deals.warn_expiring_registrations", 2) == ["1", "0"]
    assert RegistrationEvent.objects.count() == events

    statuses = dict(
        DealRegistration.objects.filter(pk__in=[r.pk for r in (*ended, ending, later)]).values_list(
            "pk", "status"
        )
    )
    assert statuses == {
        ended[0].pk: RegistrationStatus.EXPIRED,
        ended[1].pk: RegistrationStatus.EXPIRED,
        ending.pk: RegistrationStatus.APPROVED,
        later.pk: RegistrationStatus.APPROVED,
    }
    new_events = RegistrationEvent.objects.exclude(pk__in=before)
    assert sorted(new_events.values_list("registration_id", "to_status")) == sorted(
        [
            (ended[0].pk, RegistrationStatus.EXPIRED),
            (ended[1].pk, RegistrationStatus.EXPIRED),
            (ending.pk, RegistrationStatus.APPROVED),
        ]
    )

    # The worker tells the submitter and the partner admins of each new event: one bell entry
    # each and one email each (with its own preferences link).
    told = {world.member_a.email, world.partner_admin_a.email}
    expected_emails = sorted(
        (subject, to)
        for subject in (
            "Registration expired: Globex",
            "Registration expired: Initech",
            "Registration expiring soon: Umbrella",
        )
        for to in told
    )

    def bells():
        return sorted(
            Notification.objects.filter(
                key__regex=r"^registration-(expired|expiring):"
            ).values_list("key", "user__email")
        )

    def emails():
        return sorted(
            (message["Subject"], message["To"])
            for message in live_worker.emails()
            if message["Subject"].startswith(("Registration expired", "Registration expiring"))
        )

    live_worker.wait_for(
        "notify the expiry and the warning",
        lambda: len(bells()) == 3 * len(told) and emails() == expected_emails,
    )
    notified = bells()
    for prefix, count in (("registration-expired", 2), ("registration-expiring", 1)):
        notes = Notification.objects.filter(key__startswith=prefix)
        assert notes.count() == count * len(told)
        assert set(notes.values_list("user__email", flat=True)) == told

    # The worker ran one notification task for the expiry run and one for the warning run,
    # none for the second runs of the tasks.
    assert len(_wait_for_runs(live_worker, "deals.notify_registrations", 2)) == 2
    assert len(_runs(live_worker.log(), "deals.notify_registration")) == earlier

    # Running the notifications again, in a batch or one by one, tells nobody twice.
    expired_ids = list(
        new_events.filter(to_status=RegistrationStatus.EXPIRED).values_list("pk", flat=True)
    )
    notify_registrations.delay(expired_ids)
    for event in new_events.order_by("pk"):
        kind = "expiring" if event.registration_id == ending.pk else ""
        sent = notify_registration.delay(event.pk, kind=kind)
    _wait_for_result(live_worker, sent)
    assert len(_runs(live_worker.log(), "deals.notify_registrations")) == 3
    assert len(_runs(live_worker.log(), "deals.notify_registration")) == earlier + 3
    assert bells() == notified
    assert emails() == expected_emails
