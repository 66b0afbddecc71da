"""Goal progress: actual vs target vs where it should be by today, worked out by hand.

Account A's Q1 2026: won 1000 USD and 500 EUR (EUR at 1.10), lost 700 USD, so won revenue
1000 + 550 = 1550 and a win rate of 2 ÷ 3; two registrations decided in 10 and 30 hours (median
20). Q1 2026 has 31 + 28 + 31 = 90 days.
"""

from __future__ import annotations

import itertools
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest

from analytics import kpis
from analytics.kpis import Period
from analytics.models import CurrencyRate, Goal, GoalStatus, KpiCode, KpiDefinition, KpiDirection
from analytics.selectors.goals import GoalProgress, goals_with_progress
from deals.models import DealRegistration, Opportunity, PipelineStage, RegistrationStatus
from partners.models import AccountStatus, PartnerAccount

K = KpiCode
Q1 = Period.parse("2026-Q1")
DAYS = 31 + 28 + 31
MID_FEB = date(2026, 2, 15)  # day 46 of 90
LATE_FEB = date(2026, 2, 20)  # day 51 of 90
AFTER = date(2026, 6, 1)  # the quarter is over
WON = Decimal("1000") + Decimal("500") * Decimal("1.10")
WIN_RATE = round(100 * 2 / 3, 1)
DECISION_HOURS = (10 + 30) / 2
_serial = itertools.count(1)


def at(year, month, day, hour=0) -> datetime:
    return datetime(year, month, day, hour, tzinfo=UTC)


def closed_deal(account, amount, status, *, currency="USD", closed=None):
    closed = closed or at(2026, 1, 20)
    n = next(_serial)
    opp = Opportunity.objects.create(
        name=f"Deal {n}",
        company=f"Customer {n}",
        account=account,
        stage=PipelineStage.objects.get(name="Proposal"),
        amount=Decimal(amount),
        currency=currency,
        status=status,
        close_date=closed.date(),
    )
    Opportunity.objects.filter(pk=opp.pk).update(
        created_at=closed - timedelta(days=5), closed_at=closed
    )


def decided_registration(account, status, hours):
    n = next(_serial)
    submitted = at(2026, 1, 10)
    DealRegistration.objects.create(
        account=account,
        company=f"Registered {n}",
        contact_name="Pat Buyer",
        contact_email=f"pat{n}@customer.example",
        amount=Decimal("100"),
        expected_close_date=date(2026, 6, 30),
        status=status,
        submitted_at=submitted,
        decided_at=submitted + timedelta(hours=hours),
        expires_on=date(2026, 9, 30) if status == RegistrationStatus.APPROVED else None,
    )


@pytest.fixture
def quarter(world):
    CurrencyRate.objects.create(currency="EUR", rate=Decimal("1.10"))
    closed_deal(world.a, "1000", "won")
    closed_deal(world.a, "500", "won", currency="EUR")
    closed_deal(world.a, "700", "lost")
    closed_deal(world.a, "9999", "won", closed=at(2026, 4, 2))  # Q2: not this quarter's
    decided_registration(world.a, RegistrationStatus.APPROVED, 10)
    decided_registration(world.a, RegistrationStatus.REJECTED, 30)
    return world


def goal(account, kpi, target, *, quarter=Q1) -> Goal:
    return Goal.objects.create(
        account=account, quarter=quarter.start, kpi=kpi, target=Decimal(target)
    )


def progress_of(world, today, viewer=None) -> dict:
    accounts = PartnerAccount.objects.visible_to(viewer or world.admin)
    return {
        (p.goal.account_id, p.goal.kpi): p for p in goals_with_progress(accounts, Q1, today=today)
    }


# --- a cumulative KPI: won revenue ------------------------------------------------------------


def test_won_revenue_is_on_pace_when_ahead_of_the_share_of_the_quarter_gone_by(quarter):
    goal(quarter.a, K.WON_REVENUE, "3000")
    p = progress_of(quarter, MID_FEB)[(quarter.a.pk, K.WON_REVENUE)]
    assert p.actual == WON
    assert p.target == Decimal("3000")
    assert p.expected == pytest.approx(3000 * 46 / DAYS)  # 1533.33 < 1550
    assert p.state == "on_pace"
    assert p.state_label == "On pace"
    assert p.percent == round(100 * float(WON) / 3000, 1)
    assert p.bar_percent == p.percent
    assert p.pace_percent == round(100 * 46 / DAYS, 1)


def test_won_revenue_falls_behind_as_the_quarter_goes_on(quarter):
    goal(quarter.a, K.WON_REVENUE, "3000")
    p = progress_of(quarter, LATE_FEB)[(quarter.a.pk, K.WON_REVENUE)]
    assert p.expected == pytest.approx(3000 * 51 / DAYS)  # 1700 > 1550
    assert (p.state, p.state_label) == ("behind", "Behind pace")
    assert p.pace_percent == round(100 * 51 / DAYS, 1)
    over = progress_of(quarter, AFTER)[(quarter.a.pk, K.WON_REVENUE)]
    assert over.expected == pytest.approx(3000)
    assert over.state == "behind"
    assert over.pace_percent == 100.0
    early = progress_of(quarter, date(2026, 1, 1))[(quarter.a.pk, K.WON_REVENUE)]
    assert early.expected == pytest.approx(3000 / DAYS)
    assert early.state == "on_pace"


def test_won_revenue_reaching_the_target_is_achieved_even_mid_quarter(quarter):
    goal(quarter.a, K.WON_REVENUE, "1500")
    p = progress_of(quarter, MID_FEB)[(quarter.a.pk, K.WON_REVENUE)]
    assert (p.state, p.state_label) == ("achieved", "Achieved")
    assert p.percent == round(100 * float(WON) / 1500, 1)  # 103.3
    assert p.bar_percent == 100.0  # the bar stops at the end
    assert p.pace_percent == round(100 * 46 / DAYS, 1)


def test_a_target_of_zero_is_reached(quarter):
    goal(quarter.a, K.WON_REVENUE, "0")
    p = progress_of(quarter, MID_FEB)[(quarter.a.pk, K.WON_REVENUE)]
    assert (p.percent, p.bar_percent, p.pace_percent, p.state) == (100.0, 100.0, 100.0, "achieved")


def test_no_deals_is_zero_revenue_behind_pace_not_missing_data(quarter):
    goal(quarter.a_child, K.WON_REVENUE, "900")
    p = progress_of(quarter, MID_FEB)[(quarter.a_child.pk, K.WON_REVENUE)]
    assert p.actual == Decimal("0.00")
    assert (p.percent, p.bar_percent, p.state) == (0.0, 0.0, "behind")


# --- a rate: win rate -------------------------------------------------------------------------


def test_a_rate_at_target_is_on_pace_until_the_quarter_is_over(quarter):
    goal(quarter.a, K.WIN_RATE, "60")
    p = progress_of(quarter, MID_FEB)[(quarter.a.pk, K.WIN_RATE)]
    assert p.actual == WIN_RATE
    assert p.expected == 60  # a rate is measured as it stands, not pro rata
    assert p.state == "on_pace"
    assert p.percent == round(100 * WIN_RATE / 60, 1)
    assert p.bar_percent == 100.0
    assert p.pace_percent == 100.0
    assert progress_of(quarter, AFTER)[(quarter.a.pk, K.WIN_RATE)].state == "achieved"


def test_a_rate_under_target_is_behind(quarter):
    goal(quarter.a, K.WIN_RATE, "80")
    for today in (MID_FEB, AFTER):
        p = progress_of(quarter, today)[(quarter.a.pk, K.WIN_RATE)]
        assert p.state == "behind"
        assert p.percent == round(100 * WIN_RATE / 80, 1)
        assert p.bar_percent == p.percent


def test_a_rate_with_nothing_to_divide_by_has_no_data(quarter):
    goal(quarter.b, K.WIN_RATE, "50")
    goal(quarter.a, K.LEAD_ACCEPTANCE_RATE, "90")
    progress = progress_of(quarter, MID_FEB)
    for key in ((quarter.b.pk, K.WIN_RATE), (quarter.a.pk, K.LEAD_ACCEPTANCE_RATE)):
        p = progress[key]
        assert p.actual is None
        assert (p.state, p.state_label) == ("no_data", "No data yet")
        assert p.percent is None
        assert p.bar_percent == 0.0


# --- lower is better: time to decision --------------------------------------------------------


def test_decision_hours_under_target_is_on_pace_then_achieved(quarter):
    assert KpiDefinition.objects.get(code=K.DECISION_HOURS).direction == KpiDirection.DOWN
    goal(quarter.a, K.DECISION_HOURS, "24")
    p = progress_of(quarter, MID_FEB)[(quarter.a.pk, K.DECISION_HOURS)]
    assert p.actual == DECISION_HOURS
    assert p.lower_is_better
    assert p.state == "on_pace"
    assert (p.percent, p.bar_percent, p.pace_percent) == (100.0, 100.0, 100.0)
    assert progress_of(quarter, AFTER)[(quarter.a.pk, K.DECISION_HOURS)].state == "achieved"


def test_decision_hours_over_target_is_behind_with_target_over_actual(quarter):
    goal(quarter.a, K.DECISION_HOURS, "16")
    p = progress_of(quarter, MID_FEB)[(quarter.a.pk, K.DECISION_HOURS)]
    assert p.state == "behind"
    assert p.percent == round(100 * 16 / DECISION_HOURS, 1)  # 80.0
    assert p.bar_percent == p.percent
    assert p.pace_percent == 100.0
    assert progress_of(quarter, AFTER)[(quarter.a.pk, K.DECISION_HOURS)].state == "behind"


def test_decision_hours_without_decisions_has_no_data(quarter):
    goal(quarter.b, K.DECISION_HOURS, "24")
    p = progress_of(quarter, MID_FEB)[(quarter.b.pk, K.DECISION_HOURS)]
    assert (p.actual, p.percent, p.bar_percent, p.state) == (None, None, 0.0, "no_data")


# --- which goals ------------------------------------------------------------------------------


def test_only_the_viewers_goals_of_the_quarter_are_listed(quarter):
    goal(quarter.a, K.WON_REVENUE, "3000")
    goal(quarter.b, K.WON_REVENUE, "3000")
    goal(quarter.a, K.WIN_RATE, "50", quarter=Q1.next())
    mine = progress_of(quarter, MID_FEB, viewer=quarter.partner_admin_b)
    assert list(mine) == [(quarter.b.pk, K.WON_REVENUE)]
    everyone = progress_of(quarter, MID_FEB)
    assert set(everyone) == {(quarter.a.pk, K.WON_REVENUE), (quarter.b.pk, K.WON_REVENUE)}
    accounts = PartnerAccount.objects.visible_to(quarter.admin)
    assert goals_with_progress(accounts, Period.parse("2025-Q4"), today=MID_FEB) == []


def test_proposed_goals_can_be_left_out(quarter):
    goal(quarter.a, K.WON_REVENUE, "3000")
    Goal.objects.create(
        account=quarter.a,
        quarter=Q1.start,
        kpi=K.WIN_RATE,
        target=Decimal("50"),
        status=GoalStatus.PROPOSED,
    )
    accounts = PartnerAccount.objects.visible_to(quarter.admin)
    agreed = goals_with_progress(accounts, Q1, today=MID_FEB, statuses=[GoalStatus.ACCEPTED])
    assert [p.goal.kpi for p in agreed] == [K.WON_REVENUE]
    assert len(goals_with_progress(accounts, Q1, today=MID_FEB)) == 2


def test_a_progress_without_definition_reads_as_higher_is_better(quarter):
    g = goal(quarter.a, K.WIN_RATE, "50")
    p = GoalProgress(g, None, 40.0, 50.0, Q1, today=MID_FEB)
    assert not p.lower_is_better
    assert (p.percent, p.state) == (80.0, "behind")


def test_goal_progress_costs_the_same_for_2_and_10_goals(quarter, django_assert_num_queries):
    codes = [K.WON_REVENUE, K.DECISION_HOURS]
    goal(quarter.a, K.WON_REVENUE, "3000")
    goal(quarter.b, K.DECISION_HOURS, "24")
    # The goals, the KPI definitions, then one query per source the KPIs read (closed deals;
    # decided registrations); the exchange rates are kept between pages.
    expected = 2 + 2
    kpis.exchange_rates()
    accounts = PartnerAccount.objects.visible_to(quarter.admin)
    with django_assert_num_queries(expected):
        assert len(goals_with_progress(accounts, Q1, today=MID_FEB)) == 2
    more = [
        PartnerAccount.objects.create(
            name=f"More {i}",
            tier=quarter.tier,
            status=AccountStatus.ACTIVE,
            manager=quarter.manager,
        )
        for i in range(2)
    ]
    goal(quarter.a, K.DECISION_HOURS, "24")
    goal(quarter.b, K.WON_REVENUE, "3000")
    for account in [quarter.a_child, *more]:
        closed_deal(account, "100", "won")
        for code in codes:
            goal(account, code, "100")
    accounts = PartnerAccount.objects.visible_to(quarter.admin)
    with django_assert_num_queries(expected):
        progress = goals_with_progress(accounts, Q1, today=MID_FEB)
    assert len(progress) == 10
    by_key = {(p.goal.account_id, p.goal.kpi): p for p in progress}
    assert by_key[(more[0].pk, K.WON_REVENUE)].actual == Decimal("100.00")
    assert by_key[(quarter.a.pk, K.WON_REVENUE)].actual == WON
