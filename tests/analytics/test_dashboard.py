"""The manager dashboard: totals and change, the quarter's forecast, the charts and who sees what.

The book (``book`` fixture) is built around the current quarter (the page's default) on the
world's accounts: A ("Northwind", Gold, EMEA, ``manager``), its reseller A1 (moved to a Silver
tier, no region, ``manager``) and B ("Contoso", Platinum, NA, ``other_manager``). B's figures are
odd numbers no sum of A's can make (7,777 won, 8,888 open), so a leak shows in any output.

Won revenue of A in the four quarters before this one: 100, 300, 200, 400 (oldest first).
This quarter: A won 1,000 and lost one deal; A1 won 500; A has 2,000 open in "Proposal" (50 %)
closing this quarter; B won 7,777 and has 8,888 open.
"""

from __future__ import annotations

import csv
import io
import itertools
from datetime import timedelta
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone

from analytics.kpis import Period
from analytics.models import Goal, KpiCode, PartnerScore
from analytics.selectors.dashboard import (
    Forecast,
    forecast,
    totals,
    trend_projection,
)
from analytics.services import refresh_months, refresh_scores
from deals.models import DealRegistration, Opportunity, PipelineStage
from partners.models import PartnerAccount, Tier
from prm.testing.fixtures import login_as

pytestmark = pytest.mark.django_db

D = Decimal
_serial = itertools.count(1)
DASHBOARD = "/manager/dashboard/"
CHARTS = (
    "dashboard-revenue-by-tier",
    "dashboard-funnel",
    "dashboard-registrations",
    "dashboard-behind",
)


# --- building the book ----------------------------------------------------------------------


def opportunity(
    account, amount, *, status="open", closed_at=None, close_date=None, stage="Proposal"
):
    n = next(_serial)
    return Opportunity.objects.create(
        name=f"Deal {n}",
        company=f"Customer {n}",
        account=account,
        stage=PipelineStage.objects.get(name=stage),
        amount=D(amount),
        currency="USD",
        status=status,
        close_date=close_date or timezone.localdate(),
        closed_at=closed_at,
    )


def won(account, amount, when):
    return opportunity(account, amount, status="won", closed_at=when)


def registration(account, when):
    n = next(_serial)
    return DealRegistration.objects.create(
        account=account,
        company=f"Registered {n}",
        contact_name="Pat",
        contact_email=f"pat{n}@customer.example",
        amount=1000,
        expected_close_date=timezone.localdate() + timedelta(days=60),
        status="submitted",
        submitted_at=when,
    )


def ten_days_into(quarter: Period):
    return quarter.start_at + timedelta(days=10)


@pytest.fixture
def book(world):
    current = Period.current_quarter()
    silver = Tier.objects.create(name="Silver", rank=20)
    platinum = Tier.objects.create(name="Platinum", rank=40)
    PartnerAccount.objects.filter(pk=world.a_child.pk).update(tier=silver)
    PartnerAccount.objects.filter(pk=world.b.pk).update(tier=platinum)
    quarter = current
    for amount in (400, 200, 300, 100):  # newest first, going back
        quarter = quarter.previous()
        won(world.a, amount, ten_days_into(quarter))
    now = timezone.now()
    won(world.a, 1000, now)
    opportunity(world.a, 300, status="lost", closed_at=now)
    won(world.a_child, 500, now)
    opportunity(world.a, 2000, close_date=current.last)
    won(world.b, 7777, now)
    opportunity(world.b, 8888, close_date=current.last)
    registration(world.a, now)
    for _ in range(3):
        registration(world.b, now)
    world.silver, world.platinum, world.current = silver, platinum, current
    refresh_months(24)  # the kept monthly figures the dashboard sums (the tasks' job)
    return world


def scores_with_goals(world):
    """The kept scores of the quarter; A's one goal is on pace, B has two behind."""
    refresh_scores(world.current)
    for account, behind in ((world.a, 0), (world.b, 2)):
        Goal.objects.create(
            account=account, quarter=world.current.start, kpi=KpiCode.WON_REVENUE, target=1
        )
        PartnerScore.objects.filter(account=account).update(goals_behind=behind)


def rows_of(response) -> list[list[str]]:
    body = b"".join(response.streaming_content) if response.streaming else response.content
    return list(csv.reader(io.StringIO(body.decode())))


def book_of(user):
    return PartnerAccount.objects.visible_to(user)


# --- totals and change ----------------------------------------------------------------------


def by_code(items):
    return {t.code: t for t in items}


def test_totals_of_a_managers_book_and_their_change(book):
    t = by_code(totals(book_of(book.manager), book.current))
    # won: A 1,000 + A1 500 this quarter; A 400 the quarter before → (1,500 − 400) ÷ 400
    assert t[KpiCode.WON_REVENUE].value == D("1500.00")
    assert t[KpiCode.WON_REVENUE].previous == D("400.00")
    assert t[KpiCode.WON_REVENUE].change == 275.0
    assert t[KpiCode.WON_REVENUE].change_display == "+275.0 %"
    assert t[KpiCode.WON_REVENUE].good is True
    # weighted pipeline: 2,000 × 50 %; nothing open closed in the previous quarter
    assert t[KpiCode.WEIGHTED_PIPELINE].value == D("1000.00")
    assert t[KpiCode.WEIGHTED_PIPELINE].change is None
    assert t[KpiCode.WEIGHTED_PIPELINE].change_display == "new"
    # win rate: 2 won ÷ (2 won + 1 lost) = 66.7 %; before: 1 ÷ 1 = 100 % → −33.3 points
    assert t[KpiCode.WIN_RATE].value == 66.7
    assert t[KpiCode.WIN_RATE].change == -33.3
    assert t[KpiCode.WIN_RATE].change_display == "-33.3 pts"
    assert t[KpiCode.WIN_RATE].good is False
    assert t[KpiCode.DEALS_REGISTERED].value == 1
    # nothing decided or answered: no rate, never 0
    assert t[KpiCode.APPROVAL_RATE].value is None
    assert t[KpiCode.APPROVAL_RATE].display == "—"


def test_admin_totals_add_every_book(book):
    t = by_code(totals(book_of(book.admin), book.current))
    assert t[KpiCode.WON_REVENUE].value == D("9277.00")  # 1,500 + B's 7,777
    assert t[KpiCode.DEALS_REGISTERED].value == 4


def test_the_page_shows_the_managers_totals_and_none_of_another_book(client, book):
    login_as(client, book.manager)
    response = client.get(DASHBOARD)
    assert response.status_code == 200
    text = response.content.decode()
    assert "1,500" in text and "+275.0 %" in text
    assert "7,777" not in text and "9,277" not in text and "Contoso" not in text


def test_the_page_says_when_the_kept_figures_were_refreshed(client, book):
    from analytics.models import AccountMonth

    AccountMonth.objects.update(computed_at=timezone.localtime().replace(hour=9, minute=41))
    login_as(client, book.manager)
    text = client.get(DASHBOARD).content.decode()
    assert "Figures as of 09:41" in text
    AccountMonth.objects.all().delete()  # nothing kept (never refreshed): nothing to say
    assert "Figures as of" not in client.get(DASHBOARD).content.decode()


def test_admin_manager_filter_shows_that_managers_book(client, book):
    login_as(client, book.admin)
    text = client.get(DASHBOARD).content.decode()
    assert "9,277" in text
    text = client.get(f"{DASHBOARD}?manager={book.other_manager.pk}").content.decode()
    assert "7,777" in text and "1,500" not in text


def test_a_manager_cannot_look_into_another_book_with_the_manager_filter(client, book):
    login_as(client, book.manager)
    text = client.get(f"{DASHBOARD}?manager={book.other_manager.pk}").content.decode()
    assert "7,777" not in text and "1,500" in text


def test_tier_and_region_filters_narrow_the_totals(client, book):
    login_as(client, book.manager)
    text = client.get(f"{DASHBOARD}?tier={book.silver.pk}").content.decode()
    assert "500" in text and "1,500" not in text  # only A1
    text = client.get(f"{DASHBOARD}?region=emea").content.decode()
    assert "1,000" in text and "1,500" not in text  # only A


def test_a_bad_period_shows_the_current_quarter_with_a_message(client, book):
    login_as(client, book.manager)
    response = client.get(f"{DASHBOARD}?period=next-tuesday", follow=True)
    assert response.status_code == 200
    text = response.content.decode()
    assert "is not a period" in text
    assert book.current.label in text


def test_a_bad_tier_is_said_at_the_field(client, book):
    login_as(client, book.manager)
    response = client.get(f"{DASHBOARD}?tier=999999")
    assert response.status_code == 200
    assert "Select a valid choice" in response.content.decode()


# --- the forecast ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("history", "steps", "expected"),
    [
        # x̄ = 1.5, ȳ = 250, slope = 400 ÷ 5 = 80 → 250 + 80 × (4 − 1.5) = 450
        ([100, 300, 200, 400], 1, D("450.00")),
        ([100, 200, 300, 400], 1, D("500.00")),
        ([100, 200, 300, 400], 2, D("600.00")),  # a quarter further on
        # the two empty quarters are before the history began: the line goes through 2 points
        ([0, 0, 1000, 1500], 1, D("2000.00")),
        ([400, 300, 200, 100], 1, D("0.00")),  # falling: never below 0
        ([0, 0, 0, 900], 1, None),  # one quarter of history: no line
        ([0, 0, 0, 0], 1, None),
        ([], 1, None),
    ],
)
def test_trend_projection_by_hand(history, steps, expected):
    assert trend_projection([D(v) for v in history], steps) == expected


def test_forecast_of_this_quarter(book):
    f = forecast(book_of(book.manager), book.current)
    assert f.quarter == book.current
    assert f.won_so_far == D("1500.00")
    assert f.weighted_pipeline == D("1000.00")  # 2,000 × 50 %
    assert f.pipeline_forecast == D("2500.00")
    assert [v for _, v in f.history] == [D("100"), D("300"), D("200"), D("400")]
    assert f.trend == D("450.00")
    assert (f.low, f.high) == (D("450.00"), D("2500.00"))
    assert f.method == (
        "Won so far 1,500 + weighted pipeline 1,000 = 2,500; trend from the last 4 quarters: 450"
    )


def test_forecast_of_a_past_period_is_of_the_current_quarter(book):
    past = book.current.previous().previous()
    assert forecast(book_of(book.manager), past).quarter == book.current


def test_forecast_of_a_future_quarter(book):
    coming = book.current.next()
    opportunity(book.a, 4000, close_date=coming.start)
    f = forecast(book_of(book.manager), coming)
    assert f.quarter == coming
    assert (f.won_so_far, f.weighted_pipeline) == (D("0.00"), D("2000.00"))
    assert f.trend == D("530.00")  # the same line read one quarter further: 450 + 80


def test_forecast_without_enough_history_says_so(book):
    Opportunity.objects.filter(
        account=book.a, status="won", closed_at__lt=book.current.start_at
    ).exclude(closed_at__gte=book.current.previous().start_at).delete()
    refresh_months(24)
    f = forecast(book_of(book.manager), book.current)
    assert [v for _, v in f.history] == [D("0"), D("0"), D("0"), D("400")]
    assert f.trend is None
    assert (f.low, f.high) == (D("2500.00"), D("2500.00"))
    assert "no trend" in f.method and "fewer than 2" in f.method


def test_forecast_is_drawn_on_the_page_with_its_method(client, book):
    login_as(client, book.manager)
    text = client.get(DASHBOARD).content.decode()
    assert f"Forecast of {book.current.label}" in text
    assert "Won so far 1,500 + weighted pipeline 1,000 = 2,500" in text
    assert "trend from the last 4 quarters: 450" in text


def test_forecast_with_nothing_is_zero_and_no_trend():
    f = Forecast(quarter=Period.current_quarter(), won_so_far=D(0), weighted_pipeline=D(0))
    assert f.trend is None and f.pipeline_forecast == 0


# --- charts ---------------------------------------------------------------------------------


def chart_csv(client, key, query=""):
    response = client.get(reverse("analytics:chart_csv", args=[key]) + query)
    assert response.status_code == 200
    return rows_of(response)


def cells(rows) -> str:
    return "\n".join(",".join(row) for row in rows)


@pytest.mark.parametrize("key", CHARTS)
def test_no_chart_csv_shows_another_managers_partner(client, book, key):
    scores_with_goals(book)
    login_as(client, book.manager)
    text = cells(chart_csv(client, key))
    assert "7777" not in text and "8888" not in text and "Platinum" not in text


def test_revenue_by_tier_splits_the_won_revenue(client, book):
    login_as(client, book.admin)
    rows = chart_csv(client, "dashboard-revenue-by-tier")
    header, last = rows[0], rows[-1]  # the last row is this month
    assert header == ["Month", "Gold", "Platinum", "Silver"]
    assert [float(v) for v in last[1:]] == [1000.0, 7777.0, 500.0]


def test_funnel_counts_and_sums_the_open_pipeline_by_stage(client, book):
    login_as(client, book.manager)
    rows = chart_csv(client, "dashboard-funnel")
    assert rows[0] == ["Stage", "Open opportunities", "Amount (USD)"]
    assert rows[1:] == [["Proposal", "1", "2000.0"]]


def test_registrations_per_month(client, book):
    login_as(client, book.manager)
    rows = chart_csv(client, "dashboard-registrations")
    assert sum(int(row[1]) for row in rows[1:]) == 1
    login_as(client, book.admin)
    rows = chart_csv(client, "dashboard-registrations")
    assert rows[-1][1] == "4"


def test_partners_behind_on_goals_per_tier(client, book):
    scores_with_goals(book)
    login_as(client, book.admin)
    rows = chart_csv(client, "dashboard-behind")
    assert rows[0] == ["Tier", "Behind pace", "On pace"]
    assert rows[1:] == [["Platinum", "1", "0"], ["Gold", "0", "1"]]  # higher tiers first
    login_as(client, book.manager)
    assert chart_csv(client, "dashboard-behind")[1:] == [["Gold", "0", "1"]]


def test_chart_csv_follows_the_page_filters(client, book):
    login_as(client, book.admin)
    rows = chart_csv(client, "dashboard-registrations", f"?manager={book.other_manager.pk}")
    assert rows[-1][1] == "3"


def test_dashboard_draws_four_charts_and_the_top_partners(client, book):
    scores_with_goals(book)
    login_as(client, book.manager)
    text = client.get(DASHBOARD).content.decode()
    assert text.count('class="prm-chart"') == 4
    assert "Northwind Systems" in text and reverse("analytics:ranking") in text


def test_dashboard_says_when_the_quarter_has_no_scores(client, book):
    login_as(client, book.manager)
    text = client.get(DASHBOARD).content.decode()
    assert f"No partner scores for {book.current.label} yet" in text
    assert "refreshed every 15 minutes" in text


@pytest.mark.parametrize("persona", ["partner_admin_a", "member_a", "partner_admin_b"])
def test_partners_get_403_on_the_dashboard_and_its_charts(client, book, persona):
    login_as(client, getattr(book, persona))
    assert client.get(DASHBOARD).status_code == 403
    for key in CHARTS:
        assert client.get(reverse("analytics:chart_csv", args=[key])).status_code == 403


def test_internal_navigation_leads_to_the_dashboard(client, book):
    login_as(client, book.manager)
    text = client.get(reverse("partners:partner_list")).content.decode()
    assert f'href="{DASHBOARD}"' in text
