"""The partner scorecard as its users meet it: the quarter's KPIs with their change, goals,
the largest open deals, training status and the two charts with their CSVs; and what another
company, a colleague or an internal user may (not) see of it."""

from __future__ import annotations

import csv
import io
from datetime import date, datetime, timedelta
from decimal import Decimal

import pytest
from django.urls import get_resolver, reverse
from django.utils import timezone

from analytics import charts
from analytics.models import Goal, KpiCode, KpiDefinition
from analytics.selectors.scorecard import KpiTile, format_kpi
from deals.models import Opportunity, PipelineStage
from prm.testing.fixtures import login_as
from training.models import Certificate, Course, Enrollment, EnrollmentStatus

pytestmark = pytest.mark.django_db

Q2 = "2026-Q2"


def at(day: date) -> datetime:
    return timezone.make_aware(datetime(day.year, day.month, day.day, 12))


def deal(
    world,
    name,
    *,
    account=None,
    owner=None,
    shared=True,
    amount=1000,
    status="open",
    stage="Qualification",
    closed_on=None,
    created_on=None,
    close_date=date(2026, 5, 20),
    currency="USD",
) -> Opportunity:
    account = account or world.a
    opportunity = Opportunity.objects.create(
        account=account,
        owner=owner or (world.partner_admin_b if account == world.b else world.partner_admin_a),
        shared_with_account=shared,
        name=name,
        company=f"{name} Customer",
        stage=PipelineStage.objects.get(name=stage),
        amount=Decimal(amount),
        currency=currency,
        close_date=close_date,
        status=status,
        closed_at=at(closed_on) if closed_on else None,
    )
    if created_on:
        Opportunity.objects.filter(pk=opportunity.pk).update(created_at=at(created_on))
    return opportunity


def page(response) -> str:
    assert response.status_code == 200, response.status_code
    return response.content.decode()


def tile_html(html: str, code: str) -> str:
    """The HTML of one KPI tile."""
    start = html.index(f'id="kpi-{code}"')
    return html[start : html.index("</section>", start)]


def csv_rows(response) -> list[list[str]]:
    assert response.status_code == 200, response.status_code
    body = b"".join(response.streaming_content) if response.streaming else response.content
    return list(csv.reader(io.StringIO(body.decode())))


def scorecard_of(account, period=Q2):
    return reverse("analytics:account_scorecard", args=[account.pk]) + f"?period={period}"


# --- figures ------------------------------------------------------------------------------------


def test_won_revenue_tile_shows_the_quarter_and_its_change_from_the_last(client, world):
    deal(world, "May Win", amount=1000, status="won", closed_on=date(2026, 5, 10))
    deal(world, "February Win", amount=800, status="won", closed_on=date(2026, 2, 10))
    deal(world, "B Win", account=world.b, amount=5000, status="won", closed_on=date(2026, 5, 10))
    login_as(client, world.manager)

    html = page(client.get(scorecard_of(world.a)))

    won = tile_html(html, KpiCode.WON_REVENUE)
    assert "1,000 USD" in won
    assert "+25% vs Q1 2026" in won
    assert "Up" in won and "(better)" in won  # not colour alone
    assert ">100%<" in tile_html(html, KpiCode.WIN_RATE)  # 1 won, 0 lost
    assert "Northwind Systems" in html and "Q2 2026" in html
    assert "Maya Manager" in html and "Gold tier" in html


def test_a_quarter_worse_than_the_last_reads_down_and_worse(client, world):
    deal(world, "May Win", amount=600, status="won", closed_on=date(2026, 5, 10))
    deal(world, "February Win", amount=800, status="won", closed_on=date(2026, 2, 10))
    login_as(client, world.partner_admin_a)

    won = tile_html(
        page(client.get(reverse("analytics:scorecard") + f"?period={Q2}")), "won_revenue"
    )

    assert "600 USD" in won
    assert "-25% vs Q1 2026" in won and "Down" in won and "(worse)" in won


def test_kpi_values_are_formatted_by_unit():
    assert format_kpi(Decimal("1234567.40"), "money", "USD") == "1,234,567 USD"
    assert format_kpi(42.5, "percent") == "42.5%"
    assert format_kpi(100.0, "percent") == "100%"
    assert format_kpi(12.0, "hours") == "12 h"
    assert format_kpi(30.5, "days") == "30.5 days"
    assert format_kpi(3, "people") == "3"
    assert format_kpi(None, "percent") == "—"


def test_a_lower_is_better_kpi_going_down_is_better_and_rates_change_in_points():
    cycle = KpiDefinition.objects.get(code=KpiCode.SALES_CYCLE_DAYS)
    shorter = KpiTile(cycle, 20.0, 40.0, "Q1 2026", "USD")
    assert shorter.direction == "down" and shorter.is_better is True
    assert shorter.change_text == "-50% vs Q1 2026"

    win_rate = KpiDefinition.objects.get(code=KpiCode.WIN_RATE)
    assert KpiTile(win_rate, 60.0, 50.0, "Q1 2026", "USD").change_text == "+10.0 pts vs Q1 2026"
    assert KpiTile(win_rate, None, 50.0, "Q1 2026", "USD").direction is None
    assert "No data for Q1 2026" in KpiTile(win_rate, 50.0, None, "Q1 2026", "USD").change_text

    # today's open deals: last quarter's figure would only count deals still open now
    pipeline = KpiDefinition.objects.get(code=KpiCode.PIPELINE_VALUE)
    snapshot = KpiTile(pipeline, Decimal(500), Decimal(0), "Q1 2026", "USD")
    assert snapshot.direction is None and snapshot.change_text.startswith("As of today")


def test_tiles_follow_the_admins_choice_and_order(client, world):
    KpiDefinition.objects.filter(code=KpiCode.HEALTH_SCORE).update(on_scorecard=False)
    KpiDefinition.objects.filter(code=KpiCode.CERTIFIED_PEOPLE).update(position=0)
    KpiDefinition.objects.filter(code=KpiCode.WON_REVENUE).update(
        description="Money in the bank this quarter."
    )
    login_as(client, world.partner_admin_a)

    html = page(client.get(reverse("analytics:scorecard")))

    assert 'id="kpi-health_score"' not in html
    assert html.index('id="kpi-certified_people"') < html.index('id="kpi-won_revenue"')
    assert "Money in the bank this quarter." in html


def test_an_account_without_data_shows_dashes_and_what_to_do_next(client, world):
    login_as(client, world.partner_admin_b)

    html = page(client.get(reverse("analytics:scorecard")))

    assert "—" in tile_html(html, KpiCode.WIN_RATE)
    assert "0 USD" in tile_html(html, KpiCode.WON_REVENUE)
    assert "No goals set for this quarter yet — your partner manager sets them" in html
    assert "No open opportunities yet" in html and "Register a deal" in html
    assert "Nobody has started a course yet" in html
    assert "No deals won or opened in the last 12 months yet." in html
    assert "data-figure" not in html  # no empty plot drawn


def test_goals_of_the_quarter_show_their_progress(client, world):
    deal(world, "May Win", amount=1000, status="won", closed_on=date(2026, 5, 10))
    Goal.objects.create(
        account=world.a, quarter=date(2026, 4, 1), kpi=KpiCode.WON_REVENUE, target=4000
    )
    Goal.objects.create(
        account=world.b, quarter=date(2026, 4, 1), kpi=KpiCode.WON_REVENUE, target=9
    )
    login_as(client, world.partner_admin_a)

    html = page(client.get(reverse("analytics:scorecard") + f"?period={Q2}"))

    assert "Goals for Q2 2026" in html
    assert "goal-progress" in html and "(25%)" in html
    assert html.count("goal-progress goal-") == 1  # not B's
    assert "No goals set" not in html


def test_training_status_counts_the_accounts_people(client, world):
    today = timezone.localdate()
    course = Course.objects.create(title="Security Pro", slug="security-pro")
    basics = Course.objects.create(title="Basics", slug="basics")
    for number, (user, expires) in enumerate(
        [(world.partner_admin_a, 30), (world.member_a, 300), (world.partner_admin_b, 10)]
    ):
        Certificate.objects.create(
            number=f"SC-{number}",
            user=user,
            course=course,
            account=user.contact.account,
            issued_on=today - timedelta(days=100),
            expires_on=today + timedelta(days=expires),
        )
    Enrollment.objects.create(user=world.member_a, course=basics)
    Enrollment.objects.create(
        user=world.partner_admin_a, course=basics, status=EnrollmentStatus.COMPLETED
    )
    login_as(client, world.manager)

    response = client.get(reverse("analytics:account_scorecard", args=[world.a.pk]))

    page(response)
    status = response.context["training"]
    assert (status.certified_people, status.expiring) == (2, 1)
    assert (status.in_progress, status.completed) == (1, 1)
    assert "Certificates expiring within 60 days" in response.content.decode()


def test_a_bad_period_falls_back_to_this_quarter_with_a_message(client, world):
    login_as(client, world.partner_admin_a)

    html = page(client.get(reverse("analytics:scorecard") + "?period=next-tuesday"))

    assert "is not a period we know" in html
    assert "This quarter" in html


def test_the_period_picker_moves_by_quarter(client, world):
    login_as(client, world.partner_admin_a)

    html = page(client.get(reverse("analytics:scorecard") + f"?period={Q2}"))

    assert "?period=2026-Q1" in html and "?period=2026-Q3" in html
    future = page(client.get(reverse("analytics:scorecard") + "?period=2099-Q1"))
    assert "Q1 2099 hasn't started yet" in future
    assert "?period=2099-Q2" not in future  # no way further into the future


# --- who sees what ------------------------------------------------------------------------------


def test_another_company_gets_404_for_a_scorecard_and_sees_only_its_own(client, world):
    deal(world, "Big A Win", amount=123456, status="won", closed_on=date(2026, 5, 10))
    deal(world, "Open A", amount=654321, close_date=date(2026, 6, 1))
    deal(world, "B Win", account=world.b, amount=7777, status="won", closed_on=date(2026, 5, 3))
    login_as(client, world.partner_admin_b)

    assert client.get(scorecard_of(world.a)).status_code == 404
    assert client.get(reverse("analytics:scorecard") + f"?account={world.a.pk}").status_code == 404
    assert client.get(reverse("analytics:scorecard") + "?account=nope").status_code == 404
    html = page(client.get(reverse("analytics:scorecard") + f"?period={Q2}"))

    assert "Contoso Partners" in html and "7,777 USD" in html
    assert "123,456" not in html and "654,321" not in html and "Northwind" not in html


def test_the_other_manager_gets_404_and_the_manager_sees_the_scorecard(client, world):
    login_as(client, world.other_manager)
    assert client.get(scorecard_of(world.a)).status_code == 404
    login_as(client, world.manager)
    assert client.get(scorecard_of(world.a)).status_code == 200


def test_internal_users_are_sent_from_the_portal_tab_to_their_dashboard(client, world):
    login_as(client, world.manager)

    response = client.get(reverse("analytics:scorecard"))

    assert response.status_code == 302
    assert response["Location"] != reverse("analytics:scorecard")


def test_a_distributors_admin_may_switch_to_a_reseller(client, world):
    deal(
        world,
        "Retail Win",
        account=world.a_child,
        amount=4242,
        status="won",
        closed_on=date(2026, 5, 1),
    )
    login_as(client, world.partner_admin_a)

    own = page(client.get(reverse("analytics:scorecard")))
    child = page(
        client.get(reverse("analytics:scorecard") + f"?account={world.a_child.pk}&period={Q2}")
    )

    assert f'<option value="{world.a_child.pk}"' in own  # the switcher
    assert "Northwind Retail" in child and "4,242 USD" in child


def test_a_member_sees_no_colleagues_unshared_deal_in_the_top_list(client, world):
    deal(world, "Private Deal", owner=world.partner_admin_a, shared=False, amount=90000)
    deal(world, "Shared Deal", owner=world.partner_admin_a, shared=True, amount=500)
    deal(world, "My Own Deal", owner=world.member_a, shared=False, amount=400)
    login_as(client, world.member_a)

    html = page(client.get(reverse("analytics:scorecard")))

    assert "Shared Deal" in html and "My Own Deal" in html
    assert "Private Deal" not in html
    login_as(client, world.partner_admin_a)
    assert "Private Deal" in page(client.get(reverse("analytics:scorecard")))


def test_the_top_list_holds_the_five_largest_open_deals_with_links(client, world):
    deals = [deal(world, f"Deal {n}", amount=n * 100) for n in range(1, 8)]
    deal(world, "Won Giant", amount=99999, status="won", closed_on=date(2026, 5, 1))
    login_as(client, world.manager)

    html = page(client.get(reverse("analytics:account_scorecard", args=[world.a.pk])))

    for shown in deals[2:]:
        assert reverse("deals:opportunity", args=[shown.pk]) in html
    assert "Deal 1<" not in html and "Deal 2<" not in html and "Won Giant" not in html


# --- charts and their CSVs ----------------------------------------------------------------------


def test_trend_csv_has_twelve_months_of_won_revenue_and_new_pipeline(client, world):
    deal(world, "May Win", amount=1000, status="won", closed_on=date(2026, 5, 10))
    deal(world, "April Open", amount=2500, created_on=date(2026, 4, 2))
    deal(world, "B Win", account=world.b, amount=7777, status="won", closed_on=date(2026, 5, 3))
    login_as(client, world.manager)

    url = reverse("analytics:chart_csv", args=["scorecard-trend"])
    rows = csv_rows(client.get(url + f"?account={world.a.pk}&period={Q2}"))

    assert rows[0] == ["Month", "Won revenue", "New pipeline"]
    assert [r[0] for r in rows[1:]] == [
        "Jul 2025", "Aug 2025", "Sep 2025", "Oct 2025", "Nov 2025", "Dec 2025",
        "Jan 2026", "Feb 2026", "Mar 2026", "Apr 2026", "May 2026", "Jun 2026",
    ]  # fmt: skip
    by_month = {r[0]: r[1:] for r in rows[1:]}
    assert float(by_month["May 2026"][0]) == 1000
    assert float(by_month["Apr 2026"][1]) == 2500
    assert float(by_month["Jun 2026"][0]) == 0


def test_stages_csv_has_open_pipeline_unweighted_and_weighted(client, world):
    deal(world, "Q1", amount=2000, stage="Qualification")
    deal(world, "Q2", amount=1000, stage="Qualification")
    deal(world, "P1", amount=4000, stage="Proposal")
    deal(world, "Won", amount=9999, stage="Proposal", status="won", closed_on=date(2026, 5, 1))
    deal(world, "B", account=world.b, amount=7777, stage="Proposal")
    login_as(client, world.partner_admin_a)

    rows = csv_rows(client.get(reverse("analytics:chart_csv", args=["scorecard-stages"])))

    assert rows[0] == ["Stage", "Pipeline", "Weighted by stage probability"]
    assert [[r[0], float(r[1]), float(r[2])] for r in rows[1:]] == [
        ["Qualification (10%)", 3000.0, 300.0],
        ["Proposal (50%)", 4000.0, 2000.0],
    ]


@pytest.mark.parametrize("key", ["scorecard-trend", "scorecard-stages"])
def test_scorecard_chart_csvs_are_404_across_companies(client, world, key):
    url = reverse("analytics:chart_csv", args=[key])
    login_as(client, world.partner_admin_b)
    assert client.get(url + f"?account={world.a.pk}").status_code == 404
    login_as(client, world.other_manager)
    assert client.get(url + f"?account={world.a.pk}").status_code == 404
    assert client.get(url).status_code == 404  # an internal user names the account


def test_the_page_draws_both_charts_with_csv_links_for_the_same_account(client, world):
    deal(world, "Open", amount=3000, created_on=timezone.localdate())
    login_as(client, world.manager)

    html = page(client.get(reverse("analytics:account_scorecard", args=[world.a.pk])))

    assert 'id="chart-scorecard-trend"' in html and 'id="chart-scorecard-stages"' in html
    assert f"scorecard-stages.csv?account={world.a.pk}" in html
    assert "plotly-basic.min.js" in html


def test_no_chart_shows_account_a_to_partner_admin_b(client, world):
    """Every registered chart (any area's), with and without ``?account=`` naming A."""
    assert get_resolver().url_patterns  # imports every view module: charts register on import
    deal(world, "Big A Win", amount=123456, status="won", closed_on=timezone.localdate())
    deal(world, "Big A Open", amount=654321, close_date=timezone.localdate())
    deal(world, "B Open", account=world.b, amount=100, close_date=timezone.localdate())
    login_as(client, world.partner_admin_b)
    checked = 0
    for key in sorted(charts.REGISTRY):
        url = reverse("analytics:chart_csv", args=[key])
        for query in ("", f"?account={world.a.pk}", f"?account={world.a.pk}&period=2026"):
            response = client.get(url + query)
            assert response.status_code in (200, 403, 404), (key, query, response.status_code)
            if response.status_code != 200:
                continue
            body = b"".join(response.streaming_content) if response.streaming else response.content
            text = body.decode()
            for secret in ("123456", "123,456", "654321", "654,321", "Northwind"):
                assert secret not in text, (key, query, secret)
            checked += 1
    assert checked >= 2  # at least the scorecard's own charts answered
