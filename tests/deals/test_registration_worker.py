"""Registration expiry and its 14-day warning as production runs them: a real Celery worker on
Redis, each task twice, the second run changing nothing."""

import base64
import json
import os
import re
import time
from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from deals import services
from deals.models import DealRegistration, Product, RegistrationEvent, RegistrationStatus
from deals.tasks import expire_registrations, notify_registration, warn_expiring_registrations
from prm.models import Notification
from prm.testing.world import build_world

pytestmark = [pytest.mark.services, pytest.mark.django_db(transaction=True)]


def _wait_for_runs(worker, task: str, count: int) -> list[str]:
    pattern = rf"{re.escape(task)}\[[^\]]+\] succeeded in [\d.]+s: (\d+)"
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        results = re.findall(pattern, worker.log())
        if len(results) >= count:
            return results
        time.sleep(0.25)
    pytest.fail(f"the worker did not run {task} {count} time(s):\n{worker.log()}")


def _take_notifications(event_ids) -> list[tuple[int, dict]]:
    """The notify_registration messages the worker queued for these events, removed from Redis.

    The worker sends follow-up tasks to the default queue, which no worker of this test consumes
    (and which another worker on the same Redis must not get: the ids are this test's)."""
    import redis

    client = redis.Redis.from_url(os.environ["REDIS_URL"], socket_timeout=5)
    taken = []
    for raw in client.lrange("celery", 0, -1):
        message = json.loads(raw)
        if message.get("headers", {}).get("task") != "deals.notify_registration":
            continue
        args, kwargs, _ = json.loads(base64.b64decode(message["body"]))
        if args and args[0] in event_ids:
            client.lrem("celery", 1, raw)
            taken.append((args[0], kwargs))
    return sorted(taken)


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

    # One notification per new event was queued by the worker (none by the second runs);
    # delivering them tells the submitter and the partner admins, once each.
    queued = _take_notifications(set(new_events.values_list("pk", flat=True)))
    assert len(queued) == 3
    for event_id, kwargs in queued:
        notify_registration.apply(args=[event_id], kwargs=kwargs)
        notify_registration.apply(args=[event_id], kwargs=kwargs)
    told = {world.member_a.email, world.partner_admin_a.email}
    for prefix, count in (("registration-expired", 2), ("registration-expiring", 1)):
        notes = Notification.objects.filter(key__startswith=prefix)
        assert notes.count() == count * len(told)
        assert set(notes.values_list("user__email", flat=True)) == told
