"""Quarterly goal reviews: made once per active partner and quarter (in sets, in the configured
time zone), the QBR page, the manager's edit, the partner admin's acknowledgement."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from analytics import kpis, reviews
from analytics.models import Goal, KpiDefinition, QuarterlyReview
from deals.models import Opportunity, OpportunityStatus, PipelineStage
from partners.models import AccountStatus, PartnerAccount
from prm.models import Notification
from prm.testing.fixtures import login_as

pytestmark = pytest.mark.django_db


def last_quarter() -> kpis.Period:
    return kpis.Period.current_quarter().previous()


def won(account, amount, when, name="Won deal"):
    stage = PipelineStage.objects.filter(active=True).order_by("position").first()
    return Opportunity.objects.create(
        name=name,
        company="Brandt GmbH",
        account=account,
        stage=stage,
        amount=Decimal(amount),
        currency="USD",
        close_date=when.date(),
        status=OpportunityStatus.WON,
        closed_at=when,
    )


def middle(period: kpis.Period) -> datetime:
    return period.start_at + timedelta(days=40)


@pytest.fixture
def reviewed(world):
    """A won 30,000 + 20,000 + 10,000 + 5,000 last quarter and 15,000 the quarter before; goals:
    won revenue 60,000 (achieved), deals registered 5 (missed)."""
    quarter = last_quarter()
    for amount, name in (("30000", "Big"), ("20000", "Mid"), ("10000", "Small"), ("5000", "Tiny")):
        won(world.a, amount, middle(quarter), name)
    won(world.a, "15000", middle(quarter.previous()), "Earlier")
    Goal.objects.create(account=world.a, quarter=quarter.start, kpi="won_revenue", target=60000)
    Goal.objects.create(account=world.a, quarter=quarter.start, kpi="deals_registered", target=5)
    return quarter


def review_of(account, quarter=None) -> QuarterlyReview:
    return QuarterlyReview.objects.get(account=account, quarter=(quarter or last_quarter()).start)


# --- creating --------------------------------------------------------------------------------


def test_reviews_hold_the_quarters_figures(world, reviewed):
    created = reviews.create_quarter_reviews()
    active = PartnerAccount.objects.filter(status=AccountStatus.ACTIVE).count()
    assert created == active == QuarterlyReview.objects.count()
    review = review_of(world.a)
    figures = review.figures
    kpi = {row["kpi"]: row for row in figures["kpis"]}
    assert Decimal(kpi["won_revenue"]["value"]) == Decimal("65000")
    assert Decimal(kpi["won_revenue"]["previous"]) == Decimal("15000")
    assert Decimal(kpi["won_revenue"]["change"]) == Decimal("50000")
    goals = {row["kpi"]: row for row in figures["goals"]}
    assert goals["won_revenue"]["state"] == "achieved"
    assert goals["deals_registered"]["state"] == "missed"
    assert [w["name"] for w in figures["wins"]] == ["Big", "Mid", "Small"]
    assert figures["certificates_issued"] == 0
    # 65,000 beats the two quarters' average (40,000); deals registered: no figures → keep 5.
    assert review.proposed_goals == [
        {"kpi": "deals_registered", "target": "5"},
        {"kpi": "won_revenue", "target": "65000"},
    ]


def test_partner_without_goals_gets_won_revenue_and_deals_registered_proposed(world):
    quarter = last_quarter()
    won(world.b, "12300", middle(quarter))
    reviews.create_quarter_reviews()
    assert review_of(world.b).proposed_goals == [{"kpi": "won_revenue", "target": "13000"}]


@pytest.mark.parametrize(
    ("code", "actual", "previous", "expected"),
    [
        ("won_revenue", "12000", "30000", "21000"),  # average beats a weak quarter
        ("won_revenue", "12345", "12000", "13000"),  # up to the next 1,000
        ("won_revenue", "4010", None, "4100"),  # under 10,000: the next 100
        ("deals_registered", 7, 10, "9"),  # 8.5 → 9
        ("win_rate", 99.6, 99.0, "100"),  # percentages at most 100
        ("decision_hours", 30.0, 50.0, "30"),  # lower is better: the smaller
    ],
)
def test_proposed_target_rule(code, actual, previous, expected):
    definition = KpiDefinition.objects.get(code=code)
    assert reviews.propose_target(actual, previous, definition) == Decimal(expected)


def test_running_twice_creates_nothing_new_and_tells_nobody_twice(
    world, reviewed, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        first = reviews.create_quarter_reviews()
    bell = Notification.objects.filter(key__startswith="review:").count()
    assert first and bell
    assert Notification.objects.filter(
        user=world.manager, key=f"review:{review_of(world.a).pk}:created-manager"
    ).exists()
    assert Notification.objects.filter(user=world.partner_admin_a, key__startswith="review:")
    with django_capture_on_commit_callbacks(execute=True):
        again = reviews.create_quarter_reviews()
    assert again == 0
    assert Notification.objects.filter(key__startswith="review:").count() == bell


def test_inactive_partners_get_no_review(world):
    PartnerAccount.objects.filter(pk=world.b.pk).update(status=AccountStatus.INACTIVE)
    reviews.create_quarter_reviews()
    assert not QuarterlyReview.objects.filter(account=world.b).exists()


def _count_queries(n_accounts):
    with CaptureQueriesContext(connection) as ctx:
        reviews.create_quarter_reviews(quarter=last_quarter())
    QuarterlyReview.objects.all().delete()
    return len(ctx)


def test_reviews_are_made_in_sets(world, reviewed):
    _count_queries(3)  # warm-up: the exchange rates are cached
    small = _count_queries(3)
    PartnerAccount.objects.bulk_create(
        PartnerAccount(name=f"Set {i:02d}", status=AccountStatus.ACTIVE, manager=world.manager)
        for i in range(30)
    )
    for account in PartnerAccount.objects.filter(name__startswith="Set ")[:10]:
        won(account, "1000", middle(last_quarter()))
    assert _count_queries(33) == small


# --- time zones and daylight-saving time -----------------------------------------------------


@pytest.mark.parametrize(
    ("zone", "complete"),
    [("America/New_York", False), ("Europe/Berlin", True)],
)
def test_quarter_boundary_in_the_configured_zone(settings, world, zone, complete):
    settings.TIME_ZONE = zone
    now = datetime(2027, 1, 1, 3, 0, tzinfo=UTC)  # NY: 31 Dec 22:00; Berlin: 1 Jan 04:00
    quarter = reviews.last_complete_quarter(now)
    assert (quarter.key == "2026-Q4") is complete
    reviews.create_quarter_reviews(now=now)
    q4 = QuarterlyReview.objects.filter(quarter="2026-10-01")
    assert q4.exists() is complete


def _hourly(start: datetime, hours: int):
    return [start + timedelta(hours=h) for h in range(hours)]


@pytest.mark.parametrize("zone", ["America/New_York", "Europe/Berlin"])
@pytest.mark.parametrize(
    ("around", "quarter", "boundary"),
    [
        (datetime(2026, 10, 1, tzinfo=UTC), "2026-07-01", True),  # quarter end
        (datetime(2026, 10, 25, tzinfo=UTC), "2026-07-01", False),  # EU DST ends
        (datetime(2026, 11, 1, tzinfo=UTC), "2026-07-01", False),  # US DST ends
        (datetime(2027, 1, 1, tzinfo=UTC), "2026-10-01", True),  # quarter end
        (datetime(2027, 3, 14, tzinfo=UTC), "2026-10-01", False),  # US DST starts
        (datetime(2027, 3, 28, tzinfo=UTC), "2026-10-01", False),  # EU DST starts
        (datetime(2027, 4, 1, tzinfo=UTC), "2027-01-01", True),  # quarter end, summer time
    ],
)
def test_hourly_beat_across_boundaries_and_dst_creates_each_review_once(
    settings, world, zone, around, quarter, boundary, django_capture_on_commit_callbacks
):
    """The beat's hourly runs for three days around a quarter's end or a DST change: the
    quarter's reviews are made once (at the first run after local midnight of a quarter's
    first day), and each is announced once."""
    settings.TIME_ZONE = zone
    active = PartnerAccount.objects.filter(status=AccountStatus.ACTIVE).count()
    made, first = 0, None
    with django_capture_on_commit_callbacks(execute=True):
        for now in _hourly(around - timedelta(days=1, hours=12), 72):
            before = QuarterlyReview.objects.filter(quarter=quarter).count()
            created = reviews.create_quarter_reviews(now=now)
            after = QuarterlyReview.objects.filter(quarter=quarter).count()
            if after > before:
                made += after - before
                first = first or now
            assert created >= after - before
    assert made == active
    assert QuarterlyReview.objects.filter(quarter=quarter).count() == active
    keys = list(Notification.objects.filter(key__startswith="review:").values_list("key", "user"))
    assert len(keys) == len(set(keys))
    if boundary:
        local = first.astimezone(timezone.get_current_timezone())
        assert (local.day, local.hour) == (1, 0)
        assert (
            first - timedelta(hours=1)
            < kpis.Period.parse(reviews.last_complete_quarter(first).next().key).start_at
            <= first
        )


# --- pages and permissions -------------------------------------------------------------------


def test_qbr_page_shows_goals_vs_actuals_and_prints(client, world, reviewed):
    reviews.create_quarter_reviews()
    review = review_of(world.a)
    login_as(client, world.partner_admin_a)
    body = client.get(f"/reviews/{review.pk}/").content.decode()
    assert "Goals vs actuals" in body and "✓ Achieved" in body and "✗ Missed" in body
    assert "Big" in body and "Proposed from the trend" in body
    assert "@media print" in body and "data-print" in body
    assert "Acknowledge the review" in body


def test_permissions(client, world, reviewed):
    reviews.create_quarter_reviews()
    review = review_of(world.a)
    url = f"/reviews/{review.pk}/"
    login_as(client, world.partner_admin_b)
    assert client.get(url).status_code == 404
    login_as(client, world.other_manager)
    assert client.get(url).status_code == 404
    assert client.get(url + "edit/").status_code == 404
    login_as(client, world.member_a)
    assert client.get(url).status_code == 200
    assert client.post(url + "acknowledge/").status_code == 403
    assert client.get(url + "edit/").status_code == 403
    login_as(client, world.partner_admin_a)
    assert client.get(url + "edit/").status_code == 403
    login_as(client, world.manager)
    assert client.get(url + "edit/").status_code == 200
    assert client.post(url + "acknowledge/").status_code == 403


def test_acknowledged_once_and_the_manager_is_told(
    client, world, reviewed, django_capture_on_commit_callbacks
):
    reviews.create_quarter_reviews()
    review = review_of(world.a)
    login_as(client, world.partner_admin_a)
    with django_capture_on_commit_callbacks(execute=True):
        client.post(f"/reviews/{review.pk}/acknowledge/")
    review.refresh_from_db()
    stamp = review.acknowledged_at
    assert stamp and review.acknowledged_by == world.partner_admin_a
    assert Notification.objects.filter(
        user=world.manager, key=f"review:{review.pk}:acknowledged"
    ).exists()
    response = client.post(f"/reviews/{review.pk}/acknowledge/", follow=True)
    assert "already acknowledged" in response.content.decode()
    review.refresh_from_db()
    assert review.acknowledged_at == stamp
    assert "Acknowledge the review" not in client.get(f"/reviews/{review.pk}/").content.decode()


def test_edit_validates_at_the_field_and_keeps_what_was_typed(client, world, reviewed):
    reviews.create_quarter_reviews()
    review = review_of(world.a)
    login_as(client, world.manager)
    response = client.post(
        f"/reviews/{review.pk}/edit/",
        {"manager_comments": "Great quarter", "target_won_revenue": "lots", "save": "1"},
    )
    body = response.content.decode()
    assert response.status_code == 200
    assert "Give the target as a number" in body and "Great quarter" in body and "lots" in body
    review.refresh_from_db()
    assert review.manager_comments == ""
    response = client.post(
        f"/reviews/{review.pk}/edit/",
        {
            "manager_comments": "Great quarter",
            "target_won_revenue": "70000",
            "target_deals_registered": "",
            "save": "1",
        },
    )
    assert response.status_code == 302
    review.refresh_from_db()
    assert review.manager_comments == "Great quarter"
    assert review.proposed_goals == [{"kpi": "won_revenue", "target": "70000"}]


def test_apply_proposed_goals_sets_next_quarters_goals(client, world, reviewed):
    reviews.create_quarter_reviews()
    review = review_of(world.a)
    login_as(client, world.manager)
    response = client.post(f"/reviews/{review.pk}/edit/", {"apply": "1"})
    assert response.status_code == 302
    goals = Goal.objects.filter(account=world.a, quarter=kpis.Period.current_quarter().start)
    assert {(g.kpi, g.target) for g in goals} == {
        ("won_revenue", Decimal("65000")),
        ("deals_registered", Decimal("5")),
    }
    assert all(g.status == "accepted" for g in goals)


def test_list_is_scoped_and_filtered(client, world, reviewed):
    reviews.create_quarter_reviews()
    login_as(client, world.partner_admin_b)
    body = client.get("/reviews/").content.decode()
    assert review_of(world.b).figures["label"] in body
    assert f"/reviews/{review_of(world.a).pk}/" not in body
    login_as(client, world.manager)
    body = client.get("/reviews/?acknowledged=yes").content.decode()
    assert "No reviews match these filters" in body
    body = client.get("/reviews/?acknowledged=no&quarter=nonsense").content.decode()
    assert "Northwind Systems" in body and "Contoso" not in body


def test_demo_seeds_last_quarters_reviews_once_with_one_acknowledged(world, reviewed):
    from analytics.demo import seed_reviews
    from partners.demo import SeedReport

    seed_reviews(SeedReport())
    made = QuarterlyReview.objects.count()
    assert made and review_of(world.a).acknowledged_by == world.partner_admin_a
    seed_reviews(SeedReport())
    assert QuarterlyReview.objects.count() == made
