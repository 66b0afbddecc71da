"""The portal home's "For your attention" panel: a partner admin's open alerts and the reports
shared with partner admins; nothing for members, nothing of another company."""

from datetime import timedelta

import pytest
from django.utils import timezone

from analytics.models import (
    Alert,
    AlertAudience,
    AlertChannel,
    AlertCondition,
    AlertRule,
    ReportRecordType,
    SavedReport,
)
from prm.testing.fixtures import login_as

pytestmark = pytest.mark.django_db


def _rule():
    return AlertRule.objects.create(
        name="Leads waiting",
        condition=AlertCondition.LEAD_NOT_ACCEPTED,
        threshold=0,
        audience=AlertAudience.PARTNER_ADMINS,
        channel=AlertChannel.IN_APP,
    )


def _alert(rule, account, n, **fields):
    return Alert.objects.create(
        rule=rule,
        subject=f"lead:{account.pk}{n}",
        account=account,
        title=f"Lead waiting: Customer {n} ({account.name})",
        why=f"Offered {n} hours ago",
        action="Accept or reject it",
        url="/leads/",
        **fields,
    )


def _panel(client, user):
    login_as(client, user)
    page = client.get("/portal/")
    assert page.status_code == 200
    return page.content.decode()


def test_a_partner_admin_sees_their_open_alerts_and_shared_reports(client, world):
    rule = _rule()
    now = timezone.now()
    _alert(rule, world.a, 1)
    _alert(rule, world.a, 2, acknowledged_at=now)
    _alert(rule, world.a, 3, snoozed_until=now + timedelta(days=1))
    _alert(rule, world.a, 4, cleared_at=now)
    _alert(rule, world.b, 5)  # another company's
    SavedReport.objects.create(
        name="Our pipeline", record_type=ReportRecordType.OPPORTUNITIES, shared_with_partners=True
    )
    SavedReport.objects.create(name="Managers only", record_type=ReportRecordType.PARTNERS)

    html = _panel(client, world.partner_admin_a)
    assert "For your attention" in html and "1 open alert" in html
    assert "Customer 1" in html
    for hidden in ("Customer 2", "Customer 3", "Customer 4", "Customer 5", "Managers only"):
        assert hidden not in html
    assert "Our pipeline" in html

    html = _panel(client, world.partner_admin_b)
    assert "Customer 5" in html and "Customer 1" not in html


def test_the_panel_shows_the_latest_three_and_counts_the_rest(client, world):
    rule = _rule()
    for n in range(1, 6):
        _alert(rule, world.a, n)
    html = _panel(client, world.partner_admin_a)
    assert "5 open alerts" in html and "All open alerts (5)" in html
    assert html.count('class="mb-2 attention-alert"') == 3


def test_members_and_partner_admins_with_nothing_get_no_panel(client, world):
    _alert(_rule(), world.a, 1)
    assert "For your attention" not in _panel(client, world.member_a)
    assert "For your attention" not in _panel(client, world.partner_admin_b)


def test_the_panel_costs_the_same_with_5_and_50_alerts_and_reports(client, world):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    rule = _rule()
    login_as(client, world.partner_admin_a)
    counts = []
    for total in (5, 50):
        for n in range(len(counts) * 5, total):
            _alert(rule, world.a, n)
            SavedReport.objects.create(
                name=f"Report {n}", record_type=ReportRecordType.LEADS, shared_with_partners=True
            )
        with CaptureQueriesContext(connection) as queries:
            assert client.get("/portal/").status_code == 200
        counts.append(len(queries))
    assert counts[0] == counts[1]
