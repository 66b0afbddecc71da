"""The kept monthly figures (``AccountMonth``): refreshed in sets with the KPI sources themselves,
after the writes that change them, and summed by ``kpis.compute(..., kept=True)`` and
``kpis.trend(..., kept=True)`` to the same figures as reading every deal.

The book: A (Gold) and its reseller A1 (Silver) and B (Silver) with deals won, lost, opened,
registrations submitted and decided, lead answers, spread over 2025-11 … 2026-03, in USD, EUR
(rate 1.1037: conversions with fractions of a cent) and GBP (no rate: left out of money).
"""

from __future__ import annotations

import itertools
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from analytics import kpis
from analytics.kpis import Period
from analytics.models import AccountMonth, CurrencyRate, KpiCode
from analytics.services import refresh_months
from deals.models import DealRegistration, Lead, LeadEvent, Opportunity, PipelineStage
from deals.routing import LAPSED_REASON
from partners.models import PartnerAccount, Tier

pytestmark = pytest.mark.django_db

K = KpiCode
TODAY = date(2026, 6, 1)
_serial = itertools.count(1)

#: What the kept path serves (the others stay live, so agree by construction).
KEPT_CODES = [
    K.WON_REVENUE,
    K.WIN_RATE,
    K.AVERAGE_DEAL,
    K.NEW_PIPELINE,
    K.DEALS_REGISTERED,
    K.APPROVAL_RATE,
    K.LEAD_ACCEPTANCE_RATE,
    K.HEALTH_SCORE,
]
PERIODS = ["2025-11", "2026-01", "2026-02", "2025-Q4", "2026-Q1", "2025", "2026"]


def at(year, month, day, hour=12) -> datetime:
    return datetime(year, month, day, hour, tzinfo=UTC)


def opportunity(account, amount, *, created, status="open", closed=None, currency="USD"):
    n = next(_serial)
    opp = Opportunity.objects.create(
        name=f"Deal {n}",
        company=f"Customer {n}",
        account=account,
        stage=PipelineStage.objects.filter(active=True).order_by("position").first(),
        amount=Decimal(amount),
        currency=currency,
        status=status,
        close_date=(closed or created).date(),
    )
    Opportunity.objects.filter(pk=opp.pk).update(created_at=created, closed_at=closed)
    return opp


def registration(account, status, submitted, hours=None):
    n = next(_serial)
    return DealRegistration.objects.create(
        account=account,
        company=f"Registered {n}",
        contact_name="Pat",
        contact_email=f"pat{n}@customer.example",
        amount=Decimal(100),
        expected_close_date=date(2026, 9, 30),
        status=status,
        submitted_at=submitted,
        decided_at=None if hours is None else submitted + timedelta(hours=hours),
        expires_on=date(2026, 9, 30) if status == "approved" else None,
    )


def lead_answer(account, when, to_status, from_status="assigned", reason=""):
    lead = Lead.objects.create(company=f"Lead {next(_serial)}", status=to_status, account=None)
    LeadEvent.objects.create(
        lead=lead,
        from_status=from_status,
        to_status=to_status,
        account=account,
        reason=reason,
        created_at=when,
    )


def fill(account, seed: int) -> None:
    """A few months of everything for ``account``; ``seed`` varies the amounts."""
    for i, (y, m) in enumerate([(2025, 11), (2025, 12), (2026, 1), (2026, 2), (2026, 3)]):
        day = at(y, m, 3 + seed + i)
        opportunity(account, f"{1000 + 37 * seed + i}.35", created=day, status="won", closed=day)
        opportunity(account, f"{499 + seed}.99", created=day, status="won", closed=day,
                    currency="EUR")  # fmt: skip
        opportunity(account, "300", created=day, status="won", closed=day, currency="GBP")
        if (i + seed) % 2:
            opportunity(account, "700", created=day, status="lost", closed=day)
        opportunity(account, f"{200 + i}.10", created=day)  # opened, still open
        registration(account, "submitted", day)
        registration(account, "approved" if i % 3 else "rejected", day, hours=5 + i)
        lead_answer(account, day, "accepted")
        if i % 2:
            lead_answer(account, day, "rejected")
        else:
            lead_answer(account, day, "new", reason=LAPSED_REASON)


@pytest.fixture
def book(world):
    silver = Tier.objects.create(name="Silver", rank=20)
    PartnerAccount.objects.filter(pk__in=[world.a_child.pk, world.b.pk]).update(tier=silver)
    CurrencyRate.objects.create(currency="EUR", rate=Decimal("1.1037"))
    for seed, account in enumerate([world.a, world.a_child, world.b]):
        fill(account, seed)
    return world


def every_partner():
    return PartnerAccount.objects.all()


def filled(figures: dict, groups) -> dict:
    """``figures`` with the groups that have no data (absent) as their empty values."""
    return {group: figures.get(group) or kpis.empty_values() for group in groups}


# --- kept and live agree ------------------------------------------------------------------------


@pytest.mark.parametrize("by", [None, "account", "tier"])
@pytest.mark.parametrize("key", PERIODS)
def test_kept_and_live_figures_agree(book, key, by):
    refresh_months(["2025", "2026"], today=TODAY)
    period = Period.parse(key)
    live = kpis.compute(every_partner(), period, by=by, today=TODAY)
    kept = kpis.compute(every_partner(), period, by=by, today=TODAY, kept=True)
    groups = set(live) | set(kept)
    live, kept = filled(live, groups), filled(kept, groups)
    for group in groups:
        for code in KpiCode:
            assert kept[group][code] == live[group][code], (key, by, group, code)
    assert any(live[group][K.WON_REVENUE] for group in groups)


@pytest.mark.parametrize("by", [None, "tier"])
@pytest.mark.parametrize("code", sorted(kpis.KEPT_TREND))
def test_kept_and_live_trends_agree(book, code, by):
    refresh_months(["2025", "2026"], today=TODAY)
    months = Period.parse("2025-10-01..2026-04-30").months()
    live = kpis.trend(every_partner(), months, code, by=by)
    with CaptureQueriesContext(connection) as queries:
        kept = kpis.trend(every_partner(), months, code, by=by, kept=True)
    assert len(queries) == 1
    assert kept == live and kept


def test_kept_figures_are_read_from_the_monthly_rows_in_one_query(book):
    refresh_months(["2026-Q1"], today=TODAY)
    q1 = Period.parse("2026-Q1")
    before = kpis.compute_total(every_partner(), q1, kept=True)[K.WON_REVENUE]
    Opportunity.objects.filter(status="won").delete()  # behind the tasks' back
    sources = kpis.sources_for([K.WON_REVENUE, K.DEALS_REGISTERED, K.APPROVAL_RATE])
    with CaptureQueriesContext(connection) as queries:
        kept = kpis.compute_total(every_partner(), q1, sources=sources, kept=True)
    assert len(queries) == 1  # the three sources from AccountMonth at once (rates are cached)
    assert kept[K.WON_REVENUE] == before > 0
    assert kpis.compute_total(every_partner(), q1)[K.WON_REVENUE] == 0  # live sees it
    refresh_months(["2026-Q1"], today=TODAY)
    assert kpis.compute_total(every_partner(), q1, kept=True)[K.WON_REVENUE] == 0


def test_medians_stock_and_odd_periods_stay_live(book):
    refresh_months(["2026-Q1"], today=TODAY)
    AccountMonth.objects.update(deals_registered=999)
    q1 = Period.parse("2026-Q1")
    sources = kpis.sources_for([K.DECISION_HOURS, K.SALES_CYCLE_DAYS, K.PIPELINE_VALUE])
    assert all(not source.kept for source in sources)
    kept = kpis.compute_total(every_partner(), q1, sources=sources, kept=True, today=TODAY)
    live = kpis.compute_total(every_partner(), q1, sources=sources, today=TODAY)
    assert kept == live and live[K.DECISION_HOURS] is not None
    days = Period.parse("2026-01-05..2026-02-20")  # not whole months: read live
    assert (
        kpis.compute_total(every_partner(), days, kept=True)[K.DEALS_REGISTERED]
        == kpis.compute_total(every_partner(), days)[K.DEALS_REGISTERED]
        < 999
    )
    kept = kpis.compute_total(every_partner(), q1, kept=True)
    assert kept[K.DEALS_REGISTERED] == 999 * 9  # 3 partners × 3 months


# --- the refresh ---------------------------------------------------------------------------------


def more_partners(count: int) -> None:
    PartnerAccount.objects.bulk_create(
        PartnerAccount(name=f"More Partner {i:02d}", status="active") for i in range(count)
    )
    for account in PartnerAccount.objects.filter(name__startswith="More Partner"):
        fill(account, 1)


def refresh_cost(months) -> int:
    with CaptureQueriesContext(connection) as queries:
        refresh_months(months, today=TODAY)
    return len(queries)


def test_refresh_writes_in_sets_whatever_the_number_of_partners(book):
    kpis.exchange_rates()
    few = refresh_cost(["2026-01", "2026-02"])
    assert AccountMonth.objects.filter(month=date(2026, 1, 1)).count() == 3
    more_partners(37)  # 40 partners
    assert refresh_cost(["2026-01", "2026-02"]) == few
    assert AccountMonth.objects.filter(month=date(2026, 1, 1)).count() == 40
    # per month: five kept source tables, one upsert, one delete (+ the transaction)
    assert few <= 2 * 9


def test_refresh_upserts_and_drops_partners_with_nothing_left(book):
    assert refresh_months(["2026-01"], today=TODAY) == 3
    row = AccountMonth.objects.get(account=book.a, month=date(2026, 1, 1))
    assert (row.won_count, row.won_priced, row.deals_registered) == (3, 2, 2)
    # 1,002.35 + 499.99 × 1.1037 (551.838963 → 551.84); GBP has no rate
    assert row.won_revenue == Decimal("1554.19")
    Opportunity.objects.filter(account=book.a_child).delete()
    DealRegistration.objects.filter(account=book.a_child).delete()
    LeadEvent.objects.filter(account=book.a_child).delete()
    assert refresh_months(["2026-01"], today=TODAY) == 2
    assert not AccountMonth.objects.filter(account=book.a_child).exists()
    assert AccountMonth.objects.get(pk=row.pk).computed_at > row.computed_at


def test_refresh_of_a_few_partners_leaves_the_others(book):
    refresh_months(["2026-01"], today=TODAY)
    AccountMonth.objects.filter(account=book.b).update(won_count=0)
    refresh_months(["2026-01"], account_ids=[book.a.pk], today=TODAY)
    assert AccountMonth.objects.get(account=book.b).won_count == 0  # not asked for
    assert refresh_months(account_ids=[]) == 0


def test_closing_a_deal_won_refreshes_its_month(world, django_capture_on_commit_callbacks):
    from deals.services.opportunities import close_opportunity

    this = timezone.localdate().replace(day=1)
    opp = opportunity(world.a, "1234.50", created=timezone.now())
    with django_capture_on_commit_callbacks(execute=True):
        close_opportunity(actor=world.manager, opportunity=opp, won=True, reason="Signed")
    row = AccountMonth.objects.get(account=world.a, month=this)
    assert (row.won_revenue, row.won_count, row.new_pipeline) == (
        Decimal("1234.50"),
        1,
        Decimal("1234.50"),
    )
    month = Period.month(this)
    assert kpis.compute_total(PartnerAccount.objects.visible_to(world.manager), month, kept=True)[
        K.WON_REVENUE
    ] == Decimal("1234.50")


def test_the_beat_task_refreshes_this_month_and_the_last_for_everyone(world):
    from analytics.tasks import refresh_scores

    now = timezone.now()
    opportunity(world.b, "10", created=now, status="won", closed=now)
    refresh_scores.delay()
    assert AccountMonth.objects.filter(account=world.b, month=now.date().replace(day=1)).exists()


def test_the_backfill_command(book, capsys):
    from django.core.management import call_command

    call_command("refresh_analytics", months=36)
    assert AccountMonth.objects.filter(month=date(2025, 11, 1)).count() == 3
    assert "monthly rows over 36 months" in capsys.readouterr().out
