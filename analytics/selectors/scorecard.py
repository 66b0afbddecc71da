"""The partner scorecard: one account's KPIs for a period with the change from the period before,
its goals, its two charts (monthly trend, pipeline by stage), its largest open deals and its
training status. Every read starts from ``PartnerAccount.objects.visible_to(user)``."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal

from django.conf import settings
from django.db.models import Count, F, Q, Sum
from django.http import Http404

from analytics import kpis
from analytics.charts import Chart, Series, chart
from analytics.models import KpiCode, KpiDefinition, KpiDirection, KpiUnit
from analytics.sql import MONEY, converted
from prm.access import partner_contact, role_of

#: Certificates expiring within this many days are flagged on the scorecard.
EXPIRING_DAYS = 60
#: How many open opportunities the scorecard lists.
TOP_OPPORTUNITIES = 5
#: Months drawn by the trend chart.
TREND_MONTHS = 12
#: KPIs read from today's open deals: a past period's figure is not what it was then (those
#: deals have closed since), so they are shown without a change.
SNAPSHOT_KPIS = frozenset({KpiCode.PIPELINE_VALUE, KpiCode.WEIGHTED_PIPELINE})
#: Units whose change reads in points (a rate or a score), not in percent of itself.
POINT_UNITS = frozenset({KpiUnit.PERCENT, KpiUnit.SCORE})


# --- which account ------------------------------------------------------------------------------


def scorecard_account(user, requested=None):
    """The account whose scorecard ``user`` asked for: ``requested`` (a pk, e.g. ``?account=``)
    or, for partner users, their own company. Always looked up in ``visible_to``: an account
    the user may not see, a malformed pk, or no account at all is a 404."""
    from partners.models import PartnerAccount

    if requested in (None, ""):
        contact = partner_contact(user) if role_of(user).is_partner else None
        if contact is None:
            raise Http404("Choose a partner account.")
        requested = contact.account_id
    try:
        pk = int(requested)
    except (TypeError, ValueError) as exc:
        raise Http404("No such partner account.") from exc
    account = (
        PartnerAccount.objects.visible_to(user)
        .select_related("tier", "manager", "parent")
        .filter(pk=pk)
        .first()
    )
    if account is None:
        raise Http404("No such partner account.")
    return account


def chart_account(request):
    """The account a scorecard chart is drawn for: the one the page already looked up for this
    request (``_chart_request`` in the view), else ``?account=`` / the partner's own."""
    account = getattr(request, "scorecard_account", None)
    if account is not None:
        return account
    return scorecard_account(request.user, request.GET.get("account"))


def accounts_of(user, account):
    """The one account as a queryset that starts from ``visible_to`` (what the KPIs take)."""
    from partners.models import PartnerAccount

    return PartnerAccount.objects.visible_to(user).filter(pk=account.pk)


def period_of(text: str | None) -> kpis.Period:
    """``?period=``, or the current quarter when it is missing or not a period."""
    try:
        return kpis.Period.parse(text) if text else kpis.Period.current_quarter()
    except ValueError:
        return kpis.Period.current_quarter()


# --- KPI tiles ----------------------------------------------------------------------------------


def format_kpi(value, unit: str, currency: str | None = None) -> str:
    """A KPI value as people read it: "1,000 USD", "42.5%", "12 h", "—" for no data."""
    if value is None:
        return "—"
    if unit == KpiUnit.MONEY:
        text = f"{Decimal(value):,.0f}"
        return f"{text} {currency}" if currency else text
    number = float(value)
    short = f"{number:,.0f}" if number == int(number) else f"{number:,.1f}"
    if unit == KpiUnit.PERCENT:
        return f"{short}%"
    if unit == KpiUnit.HOURS:
        return f"{short} h"
    if unit == KpiUnit.DAYS:
        return f"{short} day" if number == 1 else f"{short} days"
    return short


@dataclass
class KpiTile:
    """One KPI of the scorecard: its value, the previous period's, and the change between."""

    definition: KpiDefinition
    value: object
    previous: object
    previous_label: str
    currency: str

    @property
    def code(self) -> str:
        return self.definition.code

    @property
    def label(self) -> str:
        return self.definition.label

    @property
    def description(self) -> str:
        return self.definition.description

    @property
    def value_text(self) -> str:
        return format_kpi(self.value, self.definition.unit, self.currency)

    @property
    def previous_text(self) -> str:
        return format_kpi(self.previous, self.definition.unit, self.currency)

    @property
    def is_snapshot(self) -> bool:
        return self.code in SNAPSHOT_KPIS

    @property
    def direction(self) -> str | None:
        """``up``, ``down`` or ``flat`` from the previous period; None without both figures."""
        if self.value is None or self.previous is None or self.is_snapshot:
            return None
        current, before = float(self.value), float(self.previous)
        if current > before:
            return "up"
        if current < before:
            return "down"
        return "flat"

    @property
    def is_better(self) -> bool | None:
        """Whether the change is good news, given the KPI's direction (None: no change)."""
        if self.direction in (None, "flat"):
            return None
        lower_is_better = self.definition.direction == KpiDirection.DOWN
        return (self.direction == "down") == lower_is_better

    @property
    def change_text(self) -> str:
        """ "+12% vs Q3 2026" (rates: "+4.5 pts"), or why there is nothing to compare."""
        versus = f"vs {self.previous_label}"
        if self.is_snapshot:
            return "As of today"
        if self.value is None:
            if self.previous is None:
                return "No data yet"
            return f"No data yet · {self.previous_label}: {self.previous_text}"
        if self.previous is None:
            return f"No data for {self.previous_label} to compare"
        current, before = float(self.value), float(self.previous)
        if current == before:
            return f"No change {versus}"
        if self.definition.unit in POINT_UNITS:
            return f"{current - before:+,.1f} pts {versus}"
        if before == 0:
            return f"from 0 in {self.previous_label}"
        change = 100.0 * (current - before) / abs(before)
        return f"{change:+,.0f}% {versus}" if abs(change) >= 1 else f"{change:+,.1f}% {versus}"


def kpi_tiles(accounts, period: kpis.Period, *, today: date | None = None) -> list[KpiTile]:
    """The scorecard's KPIs (``on_scorecard``, in position order) for ``period`` and the one
    before: two ``kpis.compute`` calls, whatever the data."""
    definitions = list(KpiDefinition.objects.filter(on_scorecard=True).order_by("position", "code"))
    if not definitions:
        return []
    sources = kpis.sources_for(d.code for d in definitions)
    previous = period.previous()
    now = kpis.compute_total(accounts, period, sources=sources, today=today)
    before = kpis.compute_total(accounts, previous, sources=sources, today=today)
    currency = settings.PRM_REPORTING_CURRENCY
    return [
        KpiTile(d, now.get(d.code), before.get(d.code), previous.label, currency)
        for d in definitions
    ]


# --- lists and counts ---------------------------------------------------------------------------


def top_open_opportunities(user, account, *, limit: int = TOP_OPPORTUNITIES) -> list:
    """The largest open opportunities of ``account`` that ``user`` may see (a member: their own
    and the shared ones), largest first in the reporting currency."""
    from deals.models import Opportunity, OpportunityStatus

    money = converted("amount", "currency", kpis.exchange_rates())
    return list(
        Opportunity.objects.visible_to(user)
        .filter(account=account, status=OpportunityStatus.OPEN)
        .select_related("stage", "owner")
        .annotate(reporting_amount=money)
        .order_by(F("reporting_amount").desc(nulls_last=True), "-amount", "-pk")[:limit]
    )


def pipeline_by_stage(accounts, rates=None) -> list[dict]:
    """Open opportunities of ``accounts`` per stage: count, amount and amount × the stage's
    probability, in the reporting currency, in stage order (one aggregate query)."""
    from deals.models import Opportunity, OpportunityStatus

    money = converted("amount", "currency", kpis.exchange_rates() if rates is None else rates)
    rows = (
        Opportunity.objects.filter(account__in=accounts, status=OpportunityStatus.OPEN)
        .order_by()
        .values("stage_id", "stage__name", "stage__position", "stage__probability")
        .annotate(
            deals=Count("pk"),
            unweighted=Sum(money, output_field=MONEY),
            weighted=Sum(money * F("stage__probability") / 100, output_field=MONEY),
        )
        .order_by("stage__position", "stage_id")
    )
    return [
        {
            "stage": row["stage__name"],
            "probability": row["stage__probability"],
            "deals": row["deals"],
            "unweighted": kpis._money(row["unweighted"]),
            "weighted": kpis._money(row["weighted"]),
        }
        for row in rows
    ]


@dataclass
class TrainingStatus:
    certified_people: int
    expiring: int  # valid certificates that expire within EXPIRING_DAYS
    in_progress: int
    completed: int
    expiring_days: int = EXPIRING_DAYS

    @property
    def is_empty(self) -> bool:
        return not (self.certified_people or self.expiring or self.in_progress or self.completed)


def training_status(accounts, *, today: date | None = None) -> TrainingStatus:
    """Certified people, certificates expiring soon, enrollments in progress and completed of
    the people of ``accounts``, as of today: two aggregate queries."""
    from training.models import Certificate, Enrollment, EnrollmentStatus

    today = today or kpis.local_today()
    certificates = Certificate.objects.filter(
        account__in=accounts, revoked_at__isnull=True, issued_on__lte=today, expires_on__gte=today
    ).aggregate(
        people=Count("user", distinct=True),
        expiring=Count("pk", filter=Q(expires_on__lte=today + timedelta(days=EXPIRING_DAYS))),
    )
    enrollments = Enrollment.objects.filter(user__contact__account__in=accounts).aggregate(
        in_progress=Count("pk", filter=Q(status=EnrollmentStatus.IN_PROGRESS)),
        completed=Count("pk", filter=Q(status=EnrollmentStatus.COMPLETED)),
    )
    return TrainingStatus(
        certified_people=certificates["people"] or 0,
        expiring=certificates["expiring"] or 0,
        in_progress=enrollments["in_progress"] or 0,
        completed=enrollments["completed"] or 0,
    )


# --- charts -------------------------------------------------------------------------------------


def trend_months(period: kpis.Period, *, today: date | None = None) -> list[kpis.Period]:
    """The 12 months up to the period's last month (or this one, for a period still running)."""
    return kpis.trailing_months(TREND_MONTHS, today=period.as_of(today))


def _total(values) -> Decimal:
    return sum((v or Decimal(0) for v in values), Decimal(0))


@chart("scorecard-trend")
def scorecard_trend_chart(request) -> Chart:
    """Won revenue and new pipeline of one account, month by month (one query per series)."""
    account = chart_account(request)
    accounts = accounts_of(request.user, account)
    months = trend_months(period_of(request.GET.get("period")))
    currency = settings.PRM_REPORTING_CURRENCY
    series = []
    for code, name in (
        (KpiCode.WON_REVENUE, "Won revenue"),
        (KpiCode.NEW_PIPELINE, "New pipeline"),
    ):
        values = kpis.trend(accounts, months, code)
        series.append(Series(name, [values.get((m.start, None), Decimal(0)) for m in months]))
    won, new = (_total(s.values) for s in series)
    return Chart(
        key="scorecard-trend",
        title=f"Won revenue and new pipeline, last {TREND_MONTHS} months",
        kind="line",
        categories=[m.label for m in months],
        series=series,
        x_title="Month",
        y_title=currency,
        money=True,
        summary=(
            f"{account.name}, {months[0].label} to {months[-1].label}: "
            f"{format_kpi(won, KpiUnit.MONEY, currency)} won, "
            f"{format_kpi(new, KpiUnit.MONEY, currency)} of new pipeline opened."
        ),
        empty_message="No deals won or opened in the last 12 months yet.",
    )


@chart("scorecard-stages")
def scorecard_stages_chart(request) -> Chart:
    """Open pipeline of one account by stage, unweighted and weighted (one aggregate query)."""
    account = chart_account(request)
    rows = pipeline_by_stage(accounts_of(request.user, account))
    currency = settings.PRM_REPORTING_CURRENCY
    unweighted = _total(r["unweighted"] for r in rows)
    weighted = _total(r["weighted"] for r in rows)
    return Chart(
        key="scorecard-stages",
        title="Open pipeline by stage",
        kind="hbar",
        categories=[f"{r['stage']} ({r['probability']}%)" for r in rows],
        series=[
            Series("Pipeline", [r["unweighted"] for r in rows]),
            Series("Weighted by stage probability", [r["weighted"] for r in rows]),
        ],
        x_title="Stage",
        money=True,
        summary=(
            f"{account.name} today: {sum(r['deals'] for r in rows)} open deals worth "
            f"{format_kpi(unweighted, KpiUnit.MONEY, currency)}, "
            f"{format_kpi(weighted, KpiUnit.MONEY, currency)} weighted by stage."
        ),
        empty_message="No open opportunities right now: register a deal to build pipeline.",
    )


# --- the page -----------------------------------------------------------------------------------


def scorecard_data(user, account, period: kpis.Period, *, today: date | None = None) -> dict:
    """Everything the scorecard shows of ``account`` (already looked up in ``visible_to``),
    except the charts (built by their registered builders): a fixed number of queries."""
    from analytics.selectors.goals import goals_with_progress

    accounts = accounts_of(user, account)
    # Goals are set per quarter: a month or a custom period shows its first day's quarter.
    quarter = period if period.kind == "quarter" else kpis.Period.quarter(period.start)
    return {
        "tiles": kpi_tiles(accounts, period, today=today),
        "goal_quarter": quarter,
        "goals": goals_with_progress(accounts, quarter, today=today),
        "top_opportunities": top_open_opportunities(user, account),
        "training": training_status(accounts, today=today),
    }
