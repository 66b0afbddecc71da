"""The partner scorecard and the manager dashboard in a real browser, with their plotly charts
drawn by plotly.js from static/ (Playwright driving Debian's Chromium); screenshots are kept in
test-results/."""

import re
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from analytics import kpis
from analytics.models import Goal, KpiCode
from analytics.services import refresh_months, refresh_scores
from deals.models import Opportunity, OpportunityStatus, PipelineStage
from partners.models import PartnerAccount
from prm.testing.browser import chromium, sign_in
from prm.testing.world import World, build_world

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@dataclass
class Book:
    world: World
    won_this_quarter: str  # as the won revenue tile writes it


@pytest.fixture
def book(live_server):
    # Built before Playwright starts (see test_registration_journey.py for why).
    world = build_world()
    stages = list(PipelineStage.objects.order_by("position"))
    now = timezone.now()
    quarter = kpis.Period.current_quarter()
    rows = []
    for months_ago in range(12):
        closed = now - timedelta(days=30 * months_ago)
        for account, amount in ((world.a, 1000 + 250 * (12 - months_ago)), (world.b, 700)):
            rows.append(
                Opportunity(
                    name=f"Won {months_ago} {account.name}",
                    company=f"Customer {months_ago}",
                    account=account,
                    owner=world.partner_admin_a if account == world.a else None,
                    stage=stages[-1],
                    amount=Decimal(amount),
                    close_date=closed.date(),
                    status=OpportunityStatus.WON,
                )
            )
    for i, stage in enumerate(stages[:-1]):
        rows.append(
            Opportunity(
                name=f"Open {stage.name}",
                company=f"Prospect {i}",
                account=world.a,
                owner=world.partner_admin_a,
                stage=stage,
                amount=Decimal(5000 + 1000 * i),
                close_date=quarter.last,
            )
        )
    Opportunity.objects.bulk_create(rows)
    for opportunity in Opportunity.objects.filter(status=OpportunityStatus.WON):
        closed = timezone.make_aware(datetime.combine(opportunity.close_date, time(12)))
        Opportunity.objects.filter(pk=opportunity.pk).update(
            closed_at=closed, created_at=closed - timedelta(days=40)
        )
    Goal.objects.create(
        account=world.a,
        quarter=quarter.start,
        kpi=KpiCode.WON_REVENUE,
        target=Decimal("20000"),
        set_by=world.manager,
    )
    refresh_scores(quarter)
    refresh_months(kpis.trailing_months(13))  # what the tasks keep after each write
    won = kpis.compute_total(PartnerAccount.objects.filter(pk=world.a.pk), quarter)
    won = won[KpiCode.WON_REVENUE]
    return Book(world, f"{won:,.0f}")


@pytest.fixture
def browser(book):
    with chromium() as browser:
        yield browser


def _sign_in(browser, live_server, email, **context):
    page = browser.new_page(**context)
    errors = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    sign_in(page, live_server.url, email)
    return page, errors


def _charts_drawn(page, count: int) -> None:
    """Every chart of the page is drawn: plotly marked it and left its SVG with bars/lines."""
    page.wait_for_function(
        f"document.querySelectorAll('.prm-chart[data-drawn]').length >= {count}", timeout=15000
    )
    charts = page.locator(".prm-chart")
    assert charts.count() == count
    for i in range(count):
        chart = charts.nth(i)
        assert chart.get_attribute("data-drawn") == "1"
        assert chart.locator("svg.main-svg").count() >= 1
        assert chart.locator("g.trace, g.barlayer g.point, path.js-line").count() >= 1


def test_a_partner_admin_sees_the_scorecard_with_its_charts_drawn(book, browser, live_server):
    page, errors = _sign_in(browser, live_server, book.world.partner_admin_a.email)
    page.goto(f"{live_server.url}/dashboard/")
    _charts_drawn(page, 2)
    body = page.locator("main").inner_text()
    assert book.world.a.name in body
    assert book.won_this_quarter in body  # the won revenue tile
    assert "Won revenue" in body
    assert re.search("Behind pace|On pace|Achieved", body)  # the goal's progress
    assert book.world.b.name not in body
    page.screenshot(path="test-results/scorecard.png", full_page=True)
    assert not errors, errors


def test_a_manager_sees_the_dashboard_with_its_charts_drawn(book, browser, live_server):
    page, errors = _sign_in(browser, live_server, book.world.manager.email)
    page.goto(f"{live_server.url}/manager/dashboard/")
    drawn = page.locator(".prm-chart").count()
    assert drawn >= 3
    _charts_drawn(page, drawn)
    body = page.locator("main").inner_text()
    assert "Forecast" in body
    assert book.world.a.name in body
    page.screenshot(path="test-results/manager-dashboard.png", full_page=True)
    assert not errors, errors


def test_the_scorecard_reads_on_a_phone(book, browser, live_server):
    page, errors = _sign_in(
        browser,
        live_server,
        book.world.partner_admin_a.email,
        viewport={"width": 390, "height": 844},
    )
    page.goto(f"{live_server.url}/dashboard/")
    _charts_drawn(page, 2)
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= 390, f"the page scrolls sideways ({width}px)"
    page.screenshot(path="test-results/scorecard-phone.png", full_page=True)
    assert not errors, errors
