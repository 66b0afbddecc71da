"""The manager dashboard's reads: the book and its filters, totals with change, the quarter's
forecast, the top of the ranking and the dashboard's four charts.

The book is ``PartnerAccount.objects.visible_to(user)`` (a manager's partners; admins: all),
narrowed by ``?tier=``, ``?region=`` and, for admins, ``?manager=``; the period is ``?period=``
(default: the current quarter). Every figure is an aggregate in SQL (``analytics.kpis``) or a
read of the kept ``PartnerScore`` rows; nothing loads a row per partner into Python. The totals,
the forecast and the monthly charts sum the kept monthly figures (``AccountMonth``, refreshed
after every write that changes them) rather than every deal of the book: ``kept=True``.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date
from decimal import ROUND_HALF_UP, Decimal
from functools import cached_property

from django.conf import settings
from django.db.models import Count, Exists, F, Max, OuterRef, Q, Sum

from analytics import kpis
from analytics.charts import Chart, Series, chart, series_from
from analytics.filters import BookFilter
from analytics.models import (
    AccountMonth,
    Goal,
    KpiCode,
    KpiDefinition,
    KpiDirection,
    KpiUnit,
    PartnerScore,
)
from analytics.selectors.scorecard import format_kpi
from partners.models import PartnerAccount, Tier
from prm.access import Role, require, role_of

CENT = Decimal("0.01")

#: The totals at the top of the dashboard, in this order.
TOTAL_CODES = (
    KpiCode.WON_REVENUE,
    KpiCode.WEIGHTED_PIPELINE,
    KpiCode.DEALS_REGISTERED,
    KpiCode.WIN_RATE,
    KpiCode.APPROVAL_RATE,
    KpiCode.LEAD_ACCEPTANCE_RATE,
    KpiCode.CERTIFIED_PEOPLE,
    KpiCode.HEALTH_SCORE,
)
#: Units whose change is told in points (a rate going from 40 % to 45 % is +5 points).
POINT_UNITS = frozenset({KpiUnit.PERCENT, KpiUnit.SCORE})
#: How often the kept partner scores are recomputed (the beat schedule's interval).
SCORES_REFRESH_MINUTES = 15
#: How many quarters of won revenue the trend line is drawn through.
TREND_QUARTERS = 4


# --- the book: who, which period --------------------------------------------------------------


@dataclass
class Book:
    """The accounts and period a dashboard request is about (filters already applied)."""

    user: object
    period: kpis.Period
    filterset: BookFilter  # over PartnerAccount.objects.visible_to(user)
    period_error: str = ""

    @property
    def accounts(self):
        """The book's partner accounts, filtered (invalid filters are ignored, and said so at
        their field)."""
        return self.filterset.qs

    @cached_property
    def scope(self):
        """The book's accounts as the ids read once from ``accounts`` (one query): what the
        figures are summed over. Same partners; but the database then knows how many they are,
        where through the permission subquery of ``visible_to`` it guesses a dozen and walks a
        manager's deals partner by partner (measured 2–3× slower at 1,200 partners). Admins'
        books need no permission subquery: as they are (no list of thousands of ids to send)."""
        if role_of(self.user) is Role.ADMIN:
            return self.accounts
        ids = list(self.accounts.order_by().values_list("pk", flat=True))
        return PartnerAccount.objects.filter(pk__in=ids)

    @property
    def quarter(self) -> kpis.Period:
        """The quarter of the kept scores (the ranking, partners behind on goals)."""
        return kpis.Period.quarter(self.period.start)


def period_from(request) -> tuple[kpis.Period, str]:
    """``?period=`` or the current quarter; a value that isn't a period gives the default and
    says why (never a 500)."""
    text = request.GET.get("period", "").strip()
    if not text:
        return kpis.Period.current_quarter(), ""
    try:
        return kpis.Period.parse(text), ""
    except ValueError:
        return (
            kpis.Period.current_quarter(),
            f"“{text[:40]}” is not a period (try 2026-Q4, 2026-11, 2026 or "
            "2026-01-01..2026-02-15): showing the current quarter.",
        )


def book_for(request) -> Book:
    """The viewer's book for this request (internal users only: 403 for partners), computed
    once per request and shared by the page and its charts."""
    cached = getattr(request, "_dashboard_book", None)
    if cached is not None:
        return cached
    user = request.user
    require(role_of(user).is_internal, "The manager dashboard is for partner managers.")
    period, error = period_from(request)
    filterset = BookFilter(
        request.GET or None, queryset=PartnerAccount.objects.visible_to(user), request=request
    )
    book = Book(user=user, period=period, filterset=filterset, period_error=error)
    request._dashboard_book = book
    return book


def period_choices(period: kpis.Period, today: date | None = None) -> list[tuple[str, str]]:
    """The period picker: the next quarter, this one and the seven before (plus the chosen
    period when it is none of those)."""
    current = kpis.Period.quarter(today or kpis.local_today())
    quarters = [current.next(), current]
    for _ in range(7):
        quarters.append(quarters[-1].previous())
    choices = [(q.key, q.label) for q in quarters]
    if period.key not in {key for key, _ in choices}:
        choices.insert(0, (period.key, period.label))
    return choices


# --- formatting -------------------------------------------------------------------------------


def definitions() -> dict[str, KpiDefinition]:
    """Every KPI's label, unit and direction (one query)."""
    return {d.code: d for d in KpiDefinition.objects.all()}


def money(value) -> str:
    return "—" if value is None else f"{float(value):,.0f}"


# --- totals and change ------------------------------------------------------------------------


@dataclass
class Total:
    """One KPI of the book in the period, with the previous period's value and the change."""

    code: str
    label: str
    unit: str
    direction: str
    value: object
    previous: object

    @property
    def in_points(self) -> bool:
        return self.unit in POINT_UNITS

    @property
    def change(self) -> float | None:
        """Points for rates and scores, percent of the previous value for the others; None
        when either side has no value (or the previous one is 0 for a percent change)."""
        if self.value is None or self.previous is None:
            return None
        value, previous = float(self.value), float(self.previous)
        if self.in_points:
            return round(value - previous, 1)
        if previous == 0:
            return None
        return round(100.0 * (value - previous) / previous, 1)

    @property
    def good(self) -> bool | None:
        """Whether the change goes the way the KPI should (None: no change to judge)."""
        change = self.change
        if not change:
            return None
        return (change > 0) == (self.direction != KpiDirection.DOWN)

    @property
    def display(self) -> str:
        return format_kpi(self.value, self.unit)

    @property
    def previous_display(self) -> str:
        return format_kpi(self.previous, self.unit)

    @property
    def change_display(self) -> str:
        change = self.change
        if change is None:
            if self.previous is not None and not float(self.previous) and self.value:
                return "new"
            return "—"
        return f"{change:+,.1f} {'pts' if self.in_points else '%'}"

    @property
    def is_money(self) -> bool:
        return self.unit == KpiUnit.MONEY


def totals(
    accounts, period: kpis.Period, *, defs: dict | None = None, today: date | None = None
) -> list[Total]:
    """The dashboard's totals for ``accounts`` in ``period`` and the previous period."""
    defs = definitions() if defs is None else defs
    sources = kpis.sources_for(TOTAL_CODES)
    now = kpis.compute_total(accounts, period, sources=sources, today=today, kept=True)
    before = kpis.compute_total(
        accounts, period.previous(), sources=sources, today=today, kept=True
    )
    out = []
    for code in TOTAL_CODES:
        definition = defs.get(code)
        out.append(
            Total(
                code=code,
                label=definition.label if definition else KpiCode(code).label,
                unit=definition.unit if definition else KpiUnit.COUNT,
                direction=definition.direction if definition else KpiDirection.UP,
                value=now[code],
                previous=before[code],
            )
        )
    return out


def figures_as_of(accounts, period: kpis.Period):
    """When the kept monthly figures behind the totals were last refreshed (the latest
    ``computed_at`` of the book's rows in the period), or None: no kept figures there, or a
    period of odd days, computed live. One indexed query."""
    if not period.whole_months:
        return None
    return AccountMonth.objects.filter(
        account__in=accounts, month__gte=period.start, month__lt=period.end
    ).aggregate(at=Max("computed_at"))["at"]


# --- the quarter's forecast -------------------------------------------------------------------


def trend_projection(history: list[Decimal], steps_ahead: int = 1) -> Decimal | None:
    """The least-squares line through ``history`` (one value per quarter, oldest first, at
    x = 0, 1, …) read at ``steps_ahead`` quarters after the last one, never below 0.

    Quarters before the first one with any revenue are before the book's history began and are
    left out; with fewer than 2 quarters left there is no line (None).
    """
    first = next((i for i, value in enumerate(history) if value), None)
    if first is None or len(history) - first < 2:
        return None
    points = [(Decimal(x), Decimal(y)) for x, y in enumerate(history) if x >= first]
    n = Decimal(len(points))
    mean_x = sum(x for x, _ in points) / n
    mean_y = sum(y for _, y in points) / n
    slope = sum((x - mean_x) * (y - mean_y) for x, y in points) / sum(
        (x - mean_x) ** 2 for x, _ in points
    )
    target = Decimal(len(history) - 1 + steps_ahead)
    value = mean_y + slope * (target - mean_x)
    return max(Decimal(0), value).quantize(CENT, rounding=ROUND_HALF_UP)


@dataclass
class Forecast:
    """The quarter's forecast two ways, and how each was reached."""

    quarter: kpis.Period
    won_so_far: Decimal
    weighted_pipeline: Decimal
    history: list[tuple[kpis.Period, Decimal]] = field(default_factory=list)
    trend: Decimal | None = None

    @property
    def pipeline_forecast(self) -> Decimal:
        """Won so far + open pipeline closing in the quarter weighted by stage probability."""
        return self.won_so_far + self.weighted_pipeline

    @property
    def low(self) -> Decimal:
        return (
            self.pipeline_forecast
            if self.trend is None
            else min(self.pipeline_forecast, self.trend)
        )

    @property
    def high(self) -> Decimal:
        return (
            self.pipeline_forecast
            if self.trend is None
            else max(self.pipeline_forecast, self.trend)
        )

    @property
    def used_quarters(self) -> int:
        """How many of the past quarters the trend line went through."""
        values = [value for _, value in self.history]
        first = next((i for i, value in enumerate(values) if value), len(values))
        return len(values) - first

    @property
    def pipeline_method(self) -> str:
        return (
            f"Won so far {money(self.won_so_far)} + weighted pipeline "
            f"{money(self.weighted_pipeline)} = {money(self.pipeline_forecast)}"
        )

    @property
    def trend_method(self) -> str:
        if self.trend is None:
            return (
                f"no trend: won revenue in fewer than 2 of the last {len(self.history)} "
                "quarters, too little history to draw a line through"
            )
        return f"trend from the last {self.used_quarters} quarters: {money(self.trend)}"

    @property
    def method(self) -> str:
        return f"{self.pipeline_method}; {self.trend_method}"


def forecast(
    scope, period: kpis.Period, today: date | None = None, *, known: dict | None = None
) -> Forecast:
    """The forecast of the current quarter, or of ``period``'s quarter when that is still to
    come: won so far + the weighted open pipeline closing in the quarter (= the KPI "weighted
    pipeline" of the quarter), and a least-squares line through the won revenue of the last
    four complete quarters, read at that quarter.

    ``scope`` is the book (a ``PartnerAccount`` queryset from ``visible_to``). Three queries:
    the won revenue and the 12 months of it from the kept monthly figures, the open pipeline
    live (+ the exchange rates, kept a minute).
    """
    today = today or kpis.local_today()
    current = kpis.Period.quarter(today)
    chosen = kpis.Period.quarter(period.start)
    quarter = chosen if chosen.start >= current.start else current
    # ``known``: the totals' figures of ``period``, when that is the quarter (no second read)
    wanted = (KpiCode.WON_REVENUE, KpiCode.WEIGHTED_PIPELINE)
    if known is not None and period == quarter and all(code in known for code in wanted):
        values = known
    else:
        values = kpis.compute_total(
            scope, quarter, sources=kpis.sources_for(wanted), today=today, kept=True
        )
    past = [current.previous()]
    for _ in range(TREND_QUARTERS - 1):
        past.insert(0, past[0].previous())
    months = [m for q in past for m in q.months()]
    monthly = kpis.trend(scope, months, KpiCode.WON_REVENUE, kept=True)
    per_quarter = defaultdict(Decimal)
    for (month, _), value in monthly.items():
        per_quarter[kpis.Period.quarter(month).start] += value
    history = [(q, per_quarter.get(q.start, Decimal("0.00"))) for q in past]
    steps = 1
    step = current
    while step.start < quarter.start:
        step, steps = step.next(), steps + 1
    return Forecast(
        quarter=quarter,
        won_so_far=values[KpiCode.WON_REVENUE],
        weighted_pipeline=values[KpiCode.WEIGHTED_PIPELINE],
        history=history,
        trend=trend_projection([value for _, value in history], steps),
    )


# --- the ranking's top ------------------------------------------------------------------------


def scores(book: Book):
    """The kept scores of the book's partners in the book's quarter, accounts joined."""
    return (
        PartnerScore.objects.visible_to(book.user)
        .filter(quarter=book.quarter.start, account__in=book.accounts)
        .select_related("account", "account__tier", "account__manager")
    )


def top_partners(book: Book, limit: int = 10) -> list[PartnerScore]:
    """The best ``limit`` partners by health score (partners without one last)."""
    return list(
        scores(book).order_by(F("health_score").desc(nulls_last=True), "account__name", "pk")[
            :limit
        ]
    )


# --- charts -----------------------------------------------------------------------------------


def _month_labels(months: list[kpis.Period]) -> list[str]:
    return [m.label for m in months]


@chart("dashboard-revenue-by-tier")
def revenue_by_tier_chart(request) -> Chart:
    """Won revenue per month by tier, the last 12 months (one query + the rates)."""
    book = book_for(request)
    months = kpis.trailing_months(12)
    labels = {m.start: m.label for m in months}
    raw = kpis.trend(book.scope, months, KpiCode.WON_REVENUE, by="tier", kept=True)
    names = dict(Tier.objects.values_list("pk", "name"))
    names[None] = "No tier"
    points = {(labels[month], tier): value for (month, tier), value in raw.items()}
    total = sum(raw.values(), Decimal(0))
    return Chart(
        key="dashboard-revenue-by-tier",
        title="Won revenue by tier, last 12 months",
        kind="stacked",
        categories=_month_labels(months),
        series=series_from(_month_labels(months), points, names),
        x_title="Month",
        y_title=f"Won revenue ({settings.PRM_REPORTING_CURRENCY})",
        money=True,
        summary=f"Won revenue per month, stacked by partner tier; {money(total)} "
        f"{settings.PRM_REPORTING_CURRENCY} in the 12 months.",
        empty_message="No deals won in the last 12 months.",
    )


@dataclass
class FunnelChart(Chart):
    """The funnel as a horizontal bar per stage: the bars are the open amounts, each labelled
    with how many deals it holds (two scales on one axis would hide the counts)."""

    def figure(self) -> dict:
        figure = super().figure()
        counts, amounts = self.series
        bars = figure["data"][1]
        bars["text"] = [
            f"{count:,} open · {money(amount)}"
            for count, amount in zip(counts.values, amounts.values, strict=True)
        ]
        figure["data"] = [bars]
        figure["layout"]["showlegend"] = False
        return figure


@chart("dashboard-funnel")
def funnel_chart(request) -> Chart:
    """Open opportunities by pipeline stage, in stage order: count and amount (two queries: the
    sums per stage and currency, the stages' names; + the rates)."""
    from deals.models import Opportunity, OpportunityStatus, PipelineStage

    book = book_for(request)
    rates = kpis.exchange_rates()
    base = settings.PRM_REPORTING_CURRENCY
    # Summed per stage and currency, converted here: no expression per row over what may be
    # hundreds of thousands of open deals (a rate × a sum is the sum of rate × each, exactly).
    sums = (
        Opportunity.objects.filter(account__in=book.scope, status=OpportunityStatus.OPEN)
        .order_by()
        .values("stage_id", "currency")
        .annotate(count=Count("pk"), amount=Sum("amount"))
    )
    by_stage: dict[int, dict] = {}
    for row in sums:
        stage = by_stage.setdefault(row["stage_id"], {"count": 0, "amount": None})
        stage["count"] += row["count"]
        rate = Decimal(1) if row["currency"] == base else rates.get(row["currency"])
        if rate is not None and row["amount"] is not None:
            stage["amount"] = (stage["amount"] or Decimal(0)) + row["amount"] * rate
    stages = PipelineStage.objects.order_by("position", "pk").only("pk", "name", "position")
    rows = [
        {"stage__name": stage.name, **by_stage[stage.pk]}
        for stage in stages
        if stage.pk in by_stage
    ]
    total = sum((row["amount"] or 0 for row in rows), Decimal(0))
    return FunnelChart(
        key="dashboard-funnel",
        title="Open pipeline by stage",
        kind="hbar",
        categories=[row["stage__name"] for row in rows],
        series=[
            Series("Open opportunities", [row["count"] for row in rows]),
            Series(
                f"Amount ({settings.PRM_REPORTING_CURRENCY})",
                [_cents(row["amount"]) for row in rows],
            ),
        ],
        x_title="Stage",
        y_title="",
        money=True,
        summary=f"{sum(row['count'] for row in rows):,} open opportunities worth "
        f"{money(total)} {settings.PRM_REPORTING_CURRENCY}, by stage from first to last.",
        empty_message="No open opportunities.",
    )


def _partners(number: int) -> str:
    return f"{number:,} partner" if number == 1 else f"{number:,} partners"


def _cents(value) -> Decimal:
    return Decimal(value or 0).quantize(CENT, rounding=ROUND_HALF_UP)


@chart("dashboard-registrations")
def registrations_chart(request) -> Chart:
    """Deal registrations submitted per month, the last 12 months (one query + the rates)."""
    book = book_for(request)
    months = kpis.trailing_months(12)
    raw = kpis.trend(book.scope, months, KpiCode.DEALS_REGISTERED, kept=True)
    values = [raw.get((m.start, None), 0) for m in months]
    return Chart(
        key="dashboard-registrations",
        title="Deal registrations submitted, last 12 months",
        kind="bar",
        categories=_month_labels(months),
        series=[Series("Registrations submitted", values)],
        x_title="Month",
        y_title="Registrations",
        summary=f"{sum(values):,} deal registrations submitted in the 12 months, per month.",
        empty_message="No deal registrations submitted in the last 12 months.",
    )


@chart("dashboard-behind")
def behind_chart(request) -> Chart:
    """Per tier, the partners with a goal behind pace and those with goals all on pace, from the
    kept scores of the quarter (one query). Partners without goals that quarter are left out."""
    book = book_for(request)
    quarter = book.quarter
    has_goals = Exists(Goal.objects.filter(account=OuterRef("account"), quarter=quarter.start))
    rows = list(
        scores(book)
        .select_related(None)
        .annotate(has_goals=has_goals)
        .order_by()
        .values("account__tier__name", "account__tier__rank")
        .annotate(
            behind=Count("pk", filter=Q(goals_behind__gt=0)),
            on_pace=Count("pk", filter=Q(goals_behind=0, has_goals=True)),
        )
        .order_by(F("account__tier__rank").desc(nulls_last=True))
    )
    rows = [row for row in rows if row["behind"] or row["on_pace"]]
    tiers = [row["account__tier__name"] or "No tier" for row in rows]
    behind = [row["behind"] for row in rows]
    on_pace = [row["on_pace"] for row in rows]
    return Chart(
        key="dashboard-behind",
        title=f"Partners behind on goals, {quarter.label}",
        kind="bar",
        categories=tiers,
        series=[Series("Behind pace", behind), Series("On pace", on_pace)],
        x_title="Tier",
        y_title="Partners",
        summary=f"{_partners(sum(behind))} with at least one goal behind pace and "
        f"{sum(on_pace):,} with every goal on pace in {quarter.label}, per tier "
        "(partners without goals are not counted).",
        empty_message=f"No partner has goals for {quarter.label} yet, or the scores have "
        f"not been computed (they are refreshed every {SCORES_REFRESH_MINUTES} minutes).",
    )
