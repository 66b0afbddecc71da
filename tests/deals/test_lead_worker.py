"""The acceptance SLA as production runs it: a real Celery worker on Redis, twice."""

import re
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


def _runs(worker, task: str) -> list[str]:
    """What the worker's runs of ``task`` returned so far, oldest first."""
    return re.findall(rf"{re.escape(task)}\[[^\]]+\] succeeded in [\d.]+s: (\d+)", worker.log())


def _wait_for_runs(worker, count: int, task: str = "deals.return_overdue_leads") -> list[str]:
    def runs():
        found = _runs(worker, task)
        return found if len(found) >= count else None

    return worker.wait_for(f"run {task} {count} time(s)", runs)


def _wait_for_result(worker, sent) -> None:
    """Wait until the worker has run ``sent`` (what ``.delay()`` returned): it takes one task at
    a time from its queue, in order, so everything queued before it has run too."""
    worker.wait_for(f"run task {sent.id}", lambda: f"[{sent.id}] succeeded" in worker.log())


def _told(keys) -> set[tuple[str, str]]:
    """(recipient, key) of the bell entries with these keys."""
    return set(Notification.objects.filter(key__in=keys).values_list("user__email", "key"))


def _emails(worker, subject: str) -> list[tuple[str, str]]:
    """(subject, recipients) of the emails the worker printed whose subject contains ``subject``."""
    return sorted(
        (message["Subject"], message["To"])
        for message in worker.emails()
        if subject in message["Subject"]
    )


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
    # No rule here: back in the pool, and the worker tells the manager once per lead: one bell
    # entry and one email each.
    lapses = sorted(
        LeadEvent.objects.filter(reason="Not accepted in time").values_list("pk", flat=True)
    )
    assert len(lapses) == 3
    keys = {f"lead-returned:{pk}" for pk in lapses}
    expected = {(world.manager.email, key) for key in keys}
    live_worker.wait_for(
        "tell the manager of the lapses",
        lambda: _told(keys) == expected and len(_emails(live_worker, "did not accept")) == 3,
    )
    emails = _emails(live_worker, "did not accept")
    assert emails == [
        (f"{world.a.name} did not accept the lead {name} in time", world.manager.email)
        for name in ("Late One", "Late Three", "Late Two")
    ]

    # Running the notification again tells nobody twice, and the worker ran it once before (the
    # second SLA run queued none).
    _wait_for_result(live_worker, notify_leads_returned.delay(lapses))
    assert len(_runs(live_worker, "deals.notify_leads_returned")) == 2
    assert Notification.objects.filter(key__startswith="lead-returned:").count() == 3
    assert _told(keys) == expected
    assert _emails(live_worker, "did not accept") == emails


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
    # The worker tells the manager of the lapses and Sakura's admin of the new leads: one bell
    # entry and one email each.
    lapses = LeadEvent.objects.filter(lead_id__in=ids, reason="Not accepted in time")
    offers = LeadEvent.objects.filter(lead_id__in=ids, account=sakura)
    lapses = sorted(lapses.values_list("pk", flat=True))
    offers = sorted(offers.values_list("pk", flat=True))
    assert len(offers) == 3
    expected = {(world.manager.email, f"lead-returned:{pk}") for pk in lapses} | {
        ("aiko@sakura.example", f"lead-assigned:{pk}") for pk in offers
    }
    keys = {key for _, key in expected}

    def emails():
        return _emails(live_worker, "did not accept") + _emails(live_worker, "for Sakura")

    live_worker.wait_for(
        "tell the manager and Sakura", lambda: _told(keys) == expected and len(emails()) == 6
    )
    sent = emails()
    assert sorted(sent) == sorted(
        [
            (f"{world.a.name} did not accept the lead {lead.company} in time", world.manager.email)
            for lead in leads
        ]
        + [
            (f"New lead for Sakura Systems: {lead.company}", "aiko@sakura.example")
            for lead in leads
        ]
    )
    assert Notification.objects.filter(user=world.manager).count() == 3
    assert Notification.objects.filter(user__email="aiko@sakura.example").count() == 3

    snapshot = list(Lead.objects.order_by("pk").values_list("pk", "status", "account", "accept_by"))
    events, bells = LeadEvent.objects.count(), Notification.objects.count()
    return_overdue_leads.delay()
    assert _wait_for_runs(live_worker, 2) == ["3", "0"]
    # Running the notifications again tells nobody twice. The worker ran each once for these
    # events (three more assignment runs: the first assignments, sent from this process) and
    # the second SLA run queued none.
    _wait_for_result(live_worker, notify_leads_returned.delay(lapses))
    _wait_for_result(live_worker, notify_leads_assigned.delay(offers))
    assert len(_runs(live_worker, "deals.notify_leads_returned")) == 2
    assert len(_runs(live_worker, "deals.notify_leads_assigned")) == 3 + 2
    assert snapshot == list(
        Lead.objects.order_by("pk").values_list("pk", "status", "account", "accept_by")
    )
    assert (LeadEvent.objects.count(), Notification.objects.count()) == (events, bells)
    assert _told(keys) == expected
    assert emails() == sent
