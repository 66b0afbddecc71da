"""The acceptance SLA as production runs it: a real Celery worker on Redis, twice."""

import base64
import json
import os
import re
import time
from datetime import timedelta

import pytest
from django.utils import timezone

from deals import services
from deals.models import AssignmentRule, Lead, LeadEvent, LeadStatus
from deals.tasks import notify_leads_assigned, notify_leads_returned, return_overdue_leads
from partners.models import AccountStatus, PartnerAccount, PortalAccess, Tier
from partners.services import sync_account_permissions
from prm.models import Notification
from prm.testing.world import build_world, make_partner_user

pytestmark = [pytest.mark.services, pytest.mark.django_db(transaction=True)]


def _take_notifications(event_ids) -> dict[str, list[int]]:
    """The lead notification messages the worker queued for these events (task name → event
    ids), removed from Redis.

    The worker sends follow-up tasks to the default queue, which no worker of this test consumes
    (and which another worker on the same Redis must not get: the ids are this test's)."""
    import redis

    client = redis.Redis.from_url(os.environ["REDIS_URL"], socket_timeout=5)
    taken: dict[str, list[int]] = {}
    for raw in client.lrange("celery", 0, -1):
        message = json.loads(raw)
        task = message.get("headers", {}).get("task")
        if task not in ("deals.notify_leads_assigned", "deals.notify_leads_returned"):
            continue
        args, _, _ = json.loads(base64.b64decode(message["body"]))
        if args and set(args[0]) <= set(event_ids):
            client.lrem("celery", 1, raw)
            taken.setdefault(task, []).extend(args[0])
    return taken


def _wait_for_runs(worker, count: int) -> list[str]:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        results = re.findall(
            r"deals\.return_overdue_leads\[[^\]]+\] succeeded in [\d.]+s: (\d+)", worker.log()
        )
        if len(results) >= count:
            return results
        time.sleep(0.25)
    pytest.fail(f"the worker did not run the task {count} time(s):\n{worker.log()}")


def test_overdue_leads_return_to_the_pool_once_when_the_task_runs_twice(live_worker):
    world = build_world()
    leads = []
    for name in ("Late One", "Late Two", "Late Three"):
        lead = services.create_lead(actor=world.manager, lead=Lead(company=name))
        leads.append(services.assign_lead(actor=world.manager, lead=lead, account=world.a))
    on_time = services.create_lead(actor=world.manager, lead=Lead(company="On Time"))
    services.assign_lead(actor=world.manager, lead=on_time, account=world.a)
    Lead.objects.filter(pk__in=[lead.pk for lead in leads]).update(
        accept_by=timezone.now() - timedelta(hours=1)
    )

    return_overdue_leads.delay()
    assert _wait_for_runs(live_worker, 1) == ["3"]
    events = LeadEvent.objects.count()
    return_overdue_leads.delay()
    assert _wait_for_runs(live_worker, 2) == ["3", "0"]

    assert LeadEvent.objects.count() == events
    assert set(
        Lead.objects.filter(pk__in=[lead.pk for lead in leads]).values_list("status", flat=True)
    ) == {LeadStatus.NEW}
    on_time.refresh_from_db()
    assert on_time.status == LeadStatus.ASSIGNED
    # No rule here: back in the pool, and the manager is told once per lead (queued once).
    lapses = LeadEvent.objects.filter(reason="Not accepted in time").values_list("pk", flat=True)
    assert _take_notifications(set(lapses)) == {"deals.notify_leads_returned": sorted(lapses)}


def test_the_sla_re_routes_returned_leads_by_the_rules_never_to_the_same_partner(live_worker):
    world = build_world()
    silver = Tier.objects.create(name="Silver", rank=20, lead_acceptance_hours=24)
    sakura = PartnerAccount.objects.create(
        name="Sakura Systems",
        tier=silver,
        status=AccountStatus.ACTIVE,
        manager=world.manager,
        region="emea",
    )
    make_partner_user(sakura, "aiko@sakura.example", PortalAccess.ADMIN)
    sync_account_permissions([sakura.pk])
    AssignmentRule.objects.create(name="EMEA", region="emea")
    leads = []
    for name in ("Late One", "Late Two", "Late Three"):
        lead = services.create_lead(actor=world.manager, lead=Lead(company=name, region="emea"))
        leads.append(services.assign_lead(actor=world.manager, lead=lead, account=world.a))
    ids = [lead.pk for lead in leads]
    Lead.objects.filter(pk__in=ids).update(accept_by=timezone.now() - timedelta(hours=1))

    return_overdue_leads.delay()
    assert _wait_for_runs(live_worker, 1) == ["3"]
    # Northwind (Gold) let them lapse: the rule's only other EMEA partner gets them.
    rows = Lead.objects.filter(pk__in=ids).values_list("status", "account", "accept_by")
    assert {(status, account) for status, account, _ in rows} == {("assigned", sakura.pk)}
    assert all(accept_by > timezone.now() for _, _, accept_by in rows)
    assert (
        LeadEvent.objects.filter(
            lead_id__in=ids, reason="Not accepted in time", account=world.a
        ).count()
        == 3
    )
    # The worker queued the notifications once: the manager hears of the lapses, Sakura's
    # admin of the new leads (run here, twice: one bell entry and one email each).
    new_events = set(LeadEvent.objects.filter(lead_id__in=ids).values_list("pk", flat=True))
    queued = _take_notifications(new_events)
    assert sorted(queued) == ["deals.notify_leads_assigned", "deals.notify_leads_returned"]
    assert all(len(event_ids) == 3 for event_ids in queued.values())
    for _ in range(2):
        notify_leads_returned.apply(args=[queued["deals.notify_leads_returned"]])
        notify_leads_assigned.apply(args=[queued["deals.notify_leads_assigned"]])
    assert Notification.objects.filter(user=world.manager).count() == 3
    assert Notification.objects.filter(user__email="aiko@sakura.example").count() == 3

    snapshot = list(Lead.objects.order_by("pk").values_list("pk", "status", "account", "accept_by"))
    events, bells = LeadEvent.objects.count(), Notification.objects.count()
    return_overdue_leads.delay()
    assert _wait_for_runs(live_worker, 2) == ["3", "0"]
    assert snapshot == list(
        Lead.objects.order_by("pk").values_list("pk", "status", "account", "accept_by")
    )
    assert (LeadEvent.objects.count(), Notification.objects.count()) == (events, bells)
    assert _take_notifications(set(LeadEvent.objects.values_list("pk", flat=True))) == {}
