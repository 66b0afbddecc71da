"""Goal progress: actual vs target vs where it should be by today (pace)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from analytics import kpis
from analytics.models import Goal, KpiCode, KpiDefinition, KpiDirection

#: KPIs that build up over the quarter: the pace line is the target × the share of the quarter
#: gone by. The others (rates, medians, stocks) are measured against the target as they stand.
CUMULATIVE = frozenset({KpiCode.WON_REVENUE, KpiCode.NEW_PIPELINE, KpiCode.DEALS_REGISTERED})


@dataclass
class GoalProgress:
    goal: Goal
    definition: KpiDefinition | None
    actual: object  # None: no data yet
    expected: float  # where it should be by today
    period: kpis.Period
    today: date | None = None  # the day progress is read on (None: the real today)

    @property
    def target(self) -> Decimal:
        return self.goal.target

    @property
    def lower_is_better(self) -> bool:
        return self.definition is not None and self.definition.direction == KpiDirection.DOWN

    @property
    def percent(self) -> float | None:
        """Actual as a share of the target, in percent (for a lower-is-better KPI: target ÷
        actual, so reaching the target is 100 either way)."""
        if self.actual is None:
            return None
        actual, target = float(self.actual), float(self.target)
        if self.lower_is_better:
            return 100.0 if actual <= target else round(100.0 * target / actual, 1)
        if target == 0:
            return 100.0
        return round(100.0 * actual / target, 1)

    @property
    def bar_percent(self) -> float:
        return min(100.0, self.percent or 0.0)

    @property
    def pace_percent(self) -> float:
        """Where the pace marker sits on the bar (percent of the target)."""
        if not float(self.target) or self.lower_is_better:
            return 100.0
        return round(min(100.0, 100.0 * self.expected / float(self.target)), 1)

    @property
    def state(self) -> str:
        """``achieved``, ``on_pace``, ``behind`` or ``no_data``."""
        if self.actual is None:
            return "no_data"
        actual, target = float(self.actual), float(self.target)
        over = self.period.elapsed(self.today) >= 1
        if self.lower_is_better:
            if actual > target:
                return "behind"
            return "achieved" if over else "on_pace"
        if self.goal.kpi in CUMULATIVE:
            if actual >= target:
                return "achieved"
            return "on_pace" if actual >= self.expected else "behind"
        if actual >= target:
            return "achieved" if over else "on_pace"
        return "behind"

    @property
    def state_label(self) -> str:
        return {
            "achieved": "Achieved",
            "on_pace": "On pace",
            "behind": "Behind pace",
            "no_data": "No data yet",
        }[self.state]


def goal_progress(
    goals, values_by_account: dict, period: kpis.Period, *, today: date | None = None
) -> list[GoalProgress]:
    """Progress of ``goals`` (of one quarter) from KPI values already computed per account."""
    definitions = {d.code: d for d in KpiDefinition.objects.all()}
    elapsed = period.elapsed(today)
    out = []
    for goal in goals:
        values = values_by_account.get(goal.account_id) or kpis.empty_values()
        actual = values.get(goal.kpi)
        target = float(goal.target)
        expected = target * elapsed if goal.kpi in CUMULATIVE else target
        out.append(
            GoalProgress(goal, definitions.get(goal.kpi), actual, expected, period, today=today)
        )
    return out


def goals_with_progress(
    accounts, period: kpis.Period, *, today: date | None = None, statuses=None
) -> list[GoalProgress]:
    """Every goal of ``accounts`` (already scoped to the viewer) in ``period``'s quarter, with
    its progress: a fixed number of queries whatever the number of accounts or goals."""
    goals = Goal.objects.filter(account__in=accounts, quarter=period.start).select_related(
        "account"
    )
    if statuses:
        goals = goals.filter(status__in=statuses)
    goals = list(goals.order_by("account__name", "account_id", "kpi"))
    if not goals:
        return []
    codes = {goal.kpi for goal in goals}
    values = kpis.compute(
        accounts,
        period,
        by="account",
        sources=kpis.sources_for(codes),
        today=today,
    )
    return goal_progress(goals, values, period, today=today)
