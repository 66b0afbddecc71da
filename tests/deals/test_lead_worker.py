"""The acceptance SLA as production runs it: a real Celery worker on Redis, twice."""

import re
import time
from datetime import timedelta

import pytest
from django.utils import timezone

from deals import services
from deals.models import Lead, LeadEvent, LeadStatus
from deals.tasks import return_overdue_leads
from prm.testing.world import build_world

pytestmark = [pytest.mark.services, pytest.mark.django_db(transaction=True)]


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
