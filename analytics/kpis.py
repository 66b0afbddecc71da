"""The KPIs: each formula defined once, here; labels, units and directions live in admin
(``KpiDefinition``).

Every KPI is computed for a set of partner accounts (one account, a tier, a region, a manager's
book, everyone: always a queryset that started from ``PartnerAccount.objects.visible_to``) and a
``Period`` (month, quarter, year or custom days, in ``settings.TIME_ZONE``), either as one total
or grouped by account, tier, region or manager. Each source table is read by one aggregate query,
whatever the number of accounts: ``compute`` runs at most one query per set of rows read (ten;
plus one for the exchange rates).

Kept monthly figures: the additive measures (sums and counts of won/lost deals, new pipeline,
registrations submitted and decided, lead answers) are also kept per partner and calendar month in
``AccountMonth`` by ``analytics.services.refresh_months``, with these same sources (``measure``).
``compute(..., kept=True)`` and ``trend(..., kept=True)`` sum those rows for periods of whole
months (one query) instead of reading every deal; medians and stock figures stay live. Money is
converted and rounded to the cent deal by deal, so monthly sums add up exactly.

Formulas (period = [start, end) in the configured time zone):

- won revenue: amounts of opportunities won (closed) in the period, in the reporting currency;
- pipeline value / weighted pipeline: open opportunities expected to close in the period,
  unweighted and × their stage's probability;
- new pipeline: amounts of opportunities opened in the period;
- deals registered: registrations submitted in the period;
- approval rate: approved ÷ (approved + rejected) of registrations decided in the period
  (by their latest decision; approved ones that later expired or became opportunities count as
  approved); median time to decision: submission → decision, in hours;
- win rate: won ÷ (won + lost) closed in the period; average deal size: won revenue ÷ deals won
  (those whose currency has a rate, as the revenue only holds those);
  sales cycle length: median days from opening to winning, for deals won in the period;
- lead acceptance rate: accepted ÷ (accepted + rejected + let lapse) of the partner's answers in
  the period; median time to accept: assignment → acceptance, hours, for leads accepted in it;
- certified people: people with a certificate valid on the period's last day (or today, for a
  period still running), not revoked;
- training completion: completed ÷ started enrollments of the partner's people, as of the same
  day;
- satisfaction: net promoter score of the 0–10 survey answers submitted in the period
  (% promoters 9–10 − % detractors 0–6, from −100 to 100; none without answers);
- partner health score (0–100): the weighted mean of win rate (30), lead acceptance rate (20),
  approval rate (15), training completion (15) and satisfaction rescaled to 0–100 (20); a
  component with no data drops out and the others' weights are rescaled; no data at all → none.

A rate with nothing to divide by is ``None`` (shown as "—"), never 0.
"""

from __future__ import annotations

import calendar
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal

from django.core.cache import cache
from django.db.models import Count, Q, Sum
from django.db.models.functions import Round, TruncMonth
from django.utils import timezone

from analytics.models import RATES_CACHE_KEY, CurrencyRate, KpiCode
from analytics.sql import MONEY, HoursBetween, Median, converted, weighted

# --- periods ------------------------------------------------------------------------------------


def _month_start(day: date) -> date:
    return day.replace(day=1)


def _add_months(day: date, months: int) -> date:
    index = day.year * 12 + day.month - 1 + months
    return date(index // 12, index % 12 + 1, 1)


def local_today() -> date:
    return timezone.localdate()


@dataclass(frozen=True)
class Period:
    """Days ``[start, end)`` in the configured time zone, with a name people read."""

    start: date
    end: date
    kind: str = "custom"

    # constructors

    @classmethod
    def month(cls, day: date) -> Period:
        start = _month_start(day)
        return cls(start, _add_months(start, 1), "month")

    @classmethod
    def quarter(cls, day: date) -> Period:
        start = date(day.year, 3 * ((day.month - 1) // 3) + 1, 1)
        return cls(start, _add_months(start, 3), "quarter")

    @classmethod
    def year(cls, day: date) -> Period:
        return cls(date(day.year, 1, 1), date(day.year + 1, 1, 1), "year")

    @classmethod
    def custom(cls, first: date, last: date) -> Period:
        """From ``first`` to ``last``, both days included."""
        if last < first:
            raise ValueError("The period ends before it starts.")
        return cls(first, last + timedelta(days=1), "custom")

    @classmethod
    def current_quarter(cls) -> Period:
        return cls.quarter(local_today())

    @classmethod
    def parse(cls, text: str) -> Period:
        """``2026-Q4``, ``2026-11``, ``2026`` or ``2026-01-01..2026-02-15``; ValueError if not."""
        text = (text or "").strip()
        if ".." in text:
            first, last = text.split("..", 1)
            return cls.custom(date.fromisoformat(first), date.fromisoformat(last))
        if len(text) == 7 and text[4:6].upper() == "-Q" and text[6] in "1234":
            return cls.quarter(date(int(text[:4]), 3 * int(text[6]) - 2, 1))
        if len(text) == 7 and text[4] == "-":
            return cls.month(date(int(text[:4]), int(text[5:]), 1))
        if len(text) == 4 and text.isdigit():
            return cls.year(date(int(text), 1, 1))
        raise ValueError(f"Not a period: {text!r} (try 2026-Q4, 2026-11, 2026 or a..b).")

    # names

    @property
    def key(self) -> str:
        if self.kind == "quarter":
            return f"{self.start.year}-Q{(self.start.month - 1) // 3 + 1}"
        if self.kind == "month":
            return f"{self.start:%Y-%m}"
        if self.kind == "year":
            return str(self.start.year)
        return f"{self.start.isoformat()}..{self.last.isoformat()}"

    @property
    def label(self) -> str:
        if self.kind == "quarter":
            return f"Q{(self.start.month - 1) // 3 + 1} {self.start.year}"
        if self.kind == "month":
            return f"{calendar.month_abbr[self.start.month]} {self.start.year}"
        if self.kind == "year":
            return str(self.start.year)
        return f"{self.start:%d %b %Y} – {self.last:%d %b %Y}"

    def __str__(self):
        return self.label

    # arithmetic

    @property
    def last(self) -> date:
        return self.end - timedelta(days=1)

    @property
    def days(self) -> int:
        return (self.end - self.start).days

    def previous(self) -> Period:
        if self.kind in ("month", "quarter", "year"):
            months = {"month": 1, "quarter": 3, "year": 12}[self.kind]
            return Period(_add_months(self.start, -months), self.start, self.kind)
        return Period(self.start - timedelta(days=self.days), self.start, "custom")

    def next(self) -> Period:
        if self.kind in ("month", "quarter", "year"):
            months = {"month": 1, "quarter": 3, "year": 12}[self.kind]
            return Period(self.end, _add_months(self.end, months), self.kind)
        return Period(self.end, self.end + timedelta(days=self.days), "custom")

    def months(self) -> list[Period]:
        out, day = [], _month_start(self.start)
        while day < self.end:
            out.append(Period.month(day))
            day = _add_months(day, 1)
        return out

    @property
    def start_at(self) -> datetime:
        return _local_midnight(self.start)

    @property
    def end_at(self) -> datetime:
        return _local_midnight(self.end)

    def as_of(self, today: date | None = None) -> date:
        """The day stock figures (certified people, completion) are read on."""
        today = today or local_today()
        return min(self.last, today)

    def elapsed(self, today: date | None = None) -> float:
        """How much of the period is behind us, 0–1 (today counts as done)."""
        today = today or local_today()
        done = (min(max(today, self.start - timedelta(days=1)), self.last) - self.start).days + 1
        return max(0.0, min(1.0, done / self.days))

    @property
    def whole_months(self) -> bool:
        """Whether the period starts and ends on a month's first day (the kept monthly figures
        add up to it)."""
        return self.start.day == 1 and self.end.day == 1

    def contains(self, day: date) -> bool:
        return self.start <= day < self.end


def _local_midnight(day: date) -> datetime:
    return timezone.make_aware(datetime(day.year, day.month, day.day))


def trailing_months(count: int = 12, today: date | None = None) -> list[Period]:
    """The last ``count`` months, this one included, oldest first."""
    this = _month_start(today or local_today())
    return [Period.month(_add_months(this, -i)) for i in range(count - 1, -1, -1)]


# --- grouping -----------------------------------------------------------------------------------

#: What a figure can be grouped by: the path from the partner account.
GROUPS = {
    "account": "id",
    "tier": "tier_id",
    "region": "region",
    "manager": "manager_id",
}


@dataclass(frozen=True)
class Source:
    """One family of measures read from one table: which rows, and what is aggregated over
    them. Sources reading the same rows are run as one query (``measure``).

    ``kept``: its measures add up across months and accounts, and ``AccountMonth`` keeps them
    per partner and month under the same names (``compute(..., kept=True)`` sums those)."""

    name: str
    account_path: str  # from the table's row to the partner account
    rows: Callable  # (accounts, period, today) -> queryset
    measures: Callable  # (rates, period, today) -> {measure: aggregate}
    kept: bool = False

    def run(self, accounts, period, group_path, rates, today) -> dict:
        """``{group: {measure: value}}``: this source alone, one aggregate query."""
        return _aggregate(
            self.rows(accounts, period, today), group_path, self.measures(rates, period, today)
        )

    @property
    def fields(self) -> list[str]:
        """The names of a kept source's measures: its ``AccountMonth`` columns."""
        return list(self.measures({}, None, None))


def _group_path(source_account_path: str, by: str | None) -> str | None:
    if by is None:
        return None
    if by not in GROUPS:
        raise ValueError(f"Cannot group KPIs by {by!r}.")
    field = GROUPS[by]
    return f"{source_account_path}_id" if field == "id" else f"{source_account_path}__{field}"


def _aggregate(queryset, group_path: str | None, measures: dict) -> dict:
    if group_path is None:
        return {None: queryset.aggregate(**measures)}
    rows = queryset.order_by().values(group_path).annotate(**measures)
    return {row.pop(group_path): row for row in rows}


def money_of(rates, amount_field: str = "amount", currency_field: str = "currency"):
    """A row's amount in the reporting currency, rounded to the cent row by row, so that sums
    per partner and month (``AccountMonth``) add up to exactly the sum over a longer period."""
    return Round(converted(amount_field, currency_field, rates), 2, output_field=MONEY)


def _closed_opportunities(accounts, period, today):
    from deals.models import Opportunity, OpportunityStatus

    return Opportunity.objects.filter(
        account__in=accounts,
        status__in=[OpportunityStatus.WON, OpportunityStatus.LOST],
        closed_at__gte=period.start_at,
        closed_at__lt=period.end_at,
    )


WON = Q(status="won")


def _closed_measures(rates, period, today):
    money = money_of(rates)
    return {
        "won_revenue": Sum(money, filter=WON, output_field=MONEY),
        "won_count": Count("pk", filter=WON),
        # Won deals with an amount in the reporting currency (the average's divisor).
        "won_priced": Count(money, filter=WON),
        "lost_count": Count("pk", filter=Q(status="lost")),
    }


def _cycle_measures(rates, period, today):
    return {"cycle_hours": Median(HoursBetween("created_at", "closed_at"), filter=WON)}


def _open_pipeline(accounts, period, today):
    from deals.models import Opportunity, OpportunityStatus

    return Opportunity.objects.filter(
        account__in=accounts,
        status=OpportunityStatus.OPEN,
        close_date__gte=period.start,
        close_date__lt=period.end,
    )


def _pipeline_measures(rates, period, today):
    money = converted("amount", "currency", rates)  # not kept: no need to round row by row
    return {
        "pipeline_value": Sum(money, output_field=MONEY),
        "weighted_pipeline": Sum(weighted(money, "stage__probability"), output_field=MONEY),
    }


def _opened_opportunities(accounts, period, today):
    from deals.models import Opportunity

    return Opportunity.objects.filter(
        account__in=accounts, created_at__gte=period.start_at, created_at__lt=period.end_at
    )


def _new_pipeline_measures(rates, period, today):
    return {"new_pipeline": Sum(money_of(rates), output_field=MONEY)}


def _submitted_registrations(accounts, period, today):
    from deals.models import DealRegistration

    return DealRegistration.objects.filter(
        account__in=accounts, submitted_at__gte=period.start_at, submitted_at__lt=period.end_at
    )


def _submitted_measures(rates, period, today):
    return {"deals_registered": Count("pk")}


APPROVED_STATUSES = ("approved", "expired", "converted")


def _decided_registrations(accounts, period, today):
    from deals.models import DealRegistration

    return DealRegistration.objects.filter(
        account__in=accounts,
        decided_at__gte=period.start_at,
        decided_at__lt=period.end_at,
        status__in=[*APPROVED_STATUSES, "rejected"],
        submitted_at__isnull=False,
    )


def _decided_measures(rates, period, today):
    return {
        "approved": Count("pk", filter=Q(status__in=APPROVED_STATUSES)),
        "rejected": Count("pk", filter=Q(status="rejected")),
    }


def _decision_time_measures(rates, period, today):
    return {"decision_hours": Median(HoursBetween("submitted_at", "decided_at"))}


def _lead_answers(accounts, period, today):
    from deals.models import LeadEvent, LeadStatus
    from deals.routing import LAPSED_REASON

    return LeadEvent.objects.filter(
        account__in=accounts,
        created_at__gte=period.start_at,
        created_at__lt=period.end_at,
    ).filter(
        Q(to_status__in=[LeadStatus.ACCEPTED, LeadStatus.REJECTED])
        | Q(from_status=LeadStatus.ASSIGNED, to_status=LeadStatus.NEW, reason=LAPSED_REASON)
    )


def _lead_answer_measures(rates, period, today):
    return {
        "leads_accepted": Count("pk", filter=Q(to_status="accepted")),
        "leads_declined": Count("pk", filter=~Q(to_status="accepted")),
    }


def _accepted_leads(accounts, period, today):
    from deals.models import Lead

    return Lead.objects.filter(
        account__in=accounts,
        accepted_at__gte=period.start_at,
        accepted_at__lt=period.end_at,
        assigned_at__isnull=False,
    )


def _accept_time_measures(rates, period, today):
    return {"lead_accept_hours": Median(HoursBetween("assigned_at", "accepted_at"))}


def _valid_certificates(accounts, period, today):
    from training.models import Certificate

    day = period.as_of(today)
    return Certificate.objects.filter(
        account__in=accounts, issued_on__lte=day, expires_on__gte=day, revoked_at__isnull=True
    )


def _certificate_measures(rates, period, today):
    return {"certified_people": Count("user", distinct=True)}


def _as_of(period, today) -> datetime:
    return _local_midnight(period.as_of(today) + timedelta(days=1))


def _enrollments(accounts, period, today):
    from training.models import Enrollment

    return Enrollment.objects.filter(
        user__contact__account__in=accounts, enrolled_at__lt=_as_of(period, today)
    )


def _enrollment_measures(rates, period, today):
    completed = Q(completed_at__lt=_as_of(period, today))
    return {"enrolled": Count("pk"), "completed": Count("pk", filter=completed)}


def _survey_answers(accounts, period, today):
    from analytics.models import SurveyResponse

    return SurveyResponse.objects.filter(
        account__in=accounts,
        submitted_at__gte=period.start_at,
        submitted_at__lt=period.end_at,
        nps__isnull=False,
    )


def _survey_measures(rates, period, today):
    return {
        "nps_answers": Count("pk"),
        "promoters": Count("pk", filter=Q(nps__gte=9)),
        "detractors": Count("pk", filter=Q(nps__lte=6)),
    }


SOURCES: list[Source] = [
    Source("opportunities closed", "account", _closed_opportunities, _closed_measures, True),
    Source("sales cycle", "account", _closed_opportunities, _cycle_measures),
    Source("open pipeline", "account", _open_pipeline, _pipeline_measures),
    Source("new pipeline", "account", _opened_opportunities, _new_pipeline_measures, True),
    Source(
        "registrations submitted", "account", _submitted_registrations, _submitted_measures, True
    ),
    Source("registrations decided", "account", _decided_registrations, _decided_measures, True),
    Source("decision times", "account", _decided_registrations, _decision_time_measures),
    Source("lead answers", "account", _lead_answers, _lead_answer_measures, True),
    Source("lead acceptance times", "account", _accepted_leads, _accept_time_measures),
    Source("certificates", "account", _valid_certificates, _certificate_measures),
    Source("enrollments", "user__contact__account", _enrollments, _enrollment_measures),
    Source("satisfaction", "account", _survey_answers, _survey_measures),
]
#: The sources ``AccountMonth`` keeps per partner and month (``analytics.services.refresh_months``).
KEPT_SOURCES: list[Source] = [source for source in SOURCES if source.kept]


# --- derived figures ----------------------------------------------------------------------------

CENT = Decimal("0.01")

#: Health score components and their weights (documented in the module docstring and README).
HEALTH_WEIGHTS = {
    KpiCode.WIN_RATE: 30,
    KpiCode.LEAD_ACCEPTANCE_RATE: 20,
    KpiCode.APPROVAL_RATE: 15,
    KpiCode.TRAINING_COMPLETION: 15,
    KpiCode.SATISFACTION: 20,
}


def _ratio(part, whole) -> float | None:
    return None if not whole else round(100.0 * (part or 0) / whole, 1)


def _money(value) -> Decimal:
    return Decimal(value or 0).quantize(CENT, rounding=ROUND_HALF_UP)


def _rounded(value, places=1):
    return None if value is None else round(float(value), places)


def health_score(values: dict) -> float | None:
    parts = []
    for code, weight in HEALTH_WEIGHTS.items():
        value = values.get(code)
        if value is None:
            continue
        if code == KpiCode.SATISFACTION:
            value = (value + 100) / 2  # NPS −100…100 → 0…100
        parts.append((value, weight))
    if not parts:
        return None
    return round(sum(v * w for v, w in parts) / sum(w for _, w in parts), 1)


def _net_promoter_score(m: dict) -> float | None:
    """% promoters (9–10) − % detractors (0–6) of the 0–10 answers: −100…100."""
    answers = m.get("nps_answers") or 0
    if not answers:
        return None
    return round(100.0 * ((m.get("promoters") or 0) - (m.get("detractors") or 0)) / answers, 1)


def derive(m: dict) -> dict[str, object]:
    """The KPI values from one group's raw measures."""
    won = m.get("won_count") or 0
    priced = m.get("won_priced", won) or 0
    won_revenue = _money(m.get("won_revenue"))
    values = {
        KpiCode.WON_REVENUE: won_revenue,
        KpiCode.PIPELINE_VALUE: _money(m.get("pipeline_value")),
        KpiCode.WEIGHTED_PIPELINE: _money(m.get("weighted_pipeline")),
        KpiCode.NEW_PIPELINE: _money(m.get("new_pipeline")),
        KpiCode.DEALS_REGISTERED: m.get("deals_registered") or 0,
        KpiCode.APPROVAL_RATE: _ratio(
            m.get("approved"), (m.get("approved") or 0) + (m.get("rejected") or 0)
        ),
        KpiCode.DECISION_HOURS: _rounded(m.get("decision_hours")),
        KpiCode.WIN_RATE: _ratio(won, won + (m.get("lost_count") or 0)),
        KpiCode.AVERAGE_DEAL: (won_revenue / priced).quantize(CENT, rounding=ROUND_HALF_UP)
        if priced
        else None,
        KpiCode.SALES_CYCLE_DAYS: _rounded(
            None if m.get("cycle_hours") is None else m["cycle_hours"] / 24
        ),
        KpiCode.LEAD_ACCEPTANCE_RATE: _ratio(
            m.get("leads_accepted"), (m.get("leads_accepted") or 0) + (m.get("leads_declined") or 0)
        ),
        KpiCode.LEAD_ACCEPT_HOURS: _rounded(m.get("lead_accept_hours")),
        KpiCode.CERTIFIED_PEOPLE: m.get("certified_people") or 0,
        KpiCode.TRAINING_COMPLETION: _ratio(m.get("completed"), m.get("enrolled")),
        KpiCode.SATISFACTION: _net_promoter_score(m),
    }
    values[KpiCode.HEALTH_SCORE] = health_score(values)
    return values


def exchange_rates() -> dict[str, Decimal]:
    """The admin's exchange rates, read once a minute per process (a page computes several
    periods); saving or deleting a rate clears the cache (``CurrencyRate.save``)."""
    rates = cache.get(RATES_CACHE_KEY)
    if rates is None:
        rates = dict(CurrencyRate.objects.values_list("currency", "rate"))
        cache.set(RATES_CACHE_KEY, rates, 60)
    return rates


def measure(
    accounts,
    period: Period,
    *,
    by: str | None = None,
    sources: Iterable[Source] | None = None,
    today: date | None = None,
) -> dict:
    """The raw measures of ``sources`` (default: all) for ``accounts`` in ``period``, live from
    the tables: ``{group: {measure: value}}`` (``{None: …}`` without ``by``; groups with no rows
    are absent). Sources reading the same rows share one aggregate query."""
    rates = exchange_rates()
    queries: dict[tuple, dict] = {}
    for source in SOURCES if sources is None else sources:
        key = (source.rows, source.account_path)
        queries.setdefault(key, {}).update(source.measures(rates, period, today))
    measures: dict = {}
    for (rows, account_path), aggregates in queries.items():
        path = _group_path(account_path, by)
        for group, row in _aggregate(rows(accounts, period, today), path, aggregates).items():
            measures.setdefault(group, {}).update(row)
    return measures


def kept_measure(accounts, period: Period, *, by: str | None = None, sources=None) -> dict:
    """The raw measures of kept ``sources`` (default: all of them) as sums of the partners'
    ``AccountMonth`` rows over ``period``'s months, in one query (``period`` must be whole
    months). Same shape as ``measure``; a group whose sums are all 0 is left out, like a group
    with no rows there."""
    from analytics.models import AccountMonth

    if not period.whole_months:
        raise ValueError(f"{period} is not made of whole months.")
    fields = [field for source in sources or KEPT_SOURCES for field in source.fields]
    rows = AccountMonth.objects.filter(
        account__in=accounts, month__gte=period.start, month__lt=period.end
    )
    sums = {field: Sum(field) for field in fields}
    out = _aggregate(rows, _group_path("account", by), sums)
    if by is None:
        return out
    return {group: row for group, row in out.items() if any(row.values())}


def compute(
    accounts,
    period: Period,
    *,
    by: str | None = None,
    sources: Iterable[Source] | None = None,
    today: date | None = None,
    kept: bool = False,
) -> dict:
    """KPI values for ``accounts`` in ``period``: ``{None: {code: value}}`` as one total, or
    ``{group: {code: value}}`` with ``by`` in ``GROUPS`` (groups with no data at all are absent).

    ``accounts`` must already be scoped to the viewer (``PartnerAccount.objects.visible_to``).

    ``kept=True``, for a period of whole months: the additive sources (``KEPT_SOURCES``) are
    summed from the kept ``AccountMonth`` rows (one query for all of them) instead of read from
    every deal; the others (medians, open pipeline, certificates, training, satisfaction) are
    still read live. The same figures as live while the monthly rows are fresh (they are
    refreshed after every write that changes them). Other periods are computed live.
    """
    sources = list(sources) if sources else list(SOURCES)
    measures: dict = {}
    if kept and period.whole_months:
        summed = [source for source in sources if source.kept]
        sources = [source for source in sources if not source.kept]
        if summed:
            measures = kept_measure(accounts, period, by=by, sources=summed)
    if sources:
        for group, row in measure(accounts, period, by=by, sources=sources, today=today).items():
            measures.setdefault(group, {}).update(row)
    if by is None:
        return {None: derive(measures.get(None, {}))}
    return {group: derive(row) for group, row in measures.items()}


def compute_total(accounts, period: Period, **kwargs) -> dict:
    return compute(accounts, period, **kwargs)[None]


def empty_values() -> dict:
    return derive({})


# --- series for charts --------------------------------------------------------------------------

#: KPIs that can be drawn month by month in one query: (table, date field, measure).
TREND_CODES = (
    KpiCode.WON_REVENUE,
    KpiCode.NEW_PIPELINE,
    KpiCode.PIPELINE_VALUE,
    KpiCode.WEIGHTED_PIPELINE,
    KpiCode.DEALS_REGISTERED,
)


def trend(
    accounts, months: list[Period], code: str, *, by: str | None = None, kept: bool = False
) -> dict:
    """``{(month_start, group): value}`` of one KPI over consecutive months, in one query
    (``group`` is None without ``by``). Months without data are absent: callers fill zeros.

    ``kept=True``: the KPIs kept per partner and month (``KEPT_TREND``) are summed from the
    ``AccountMonth`` rows instead of read from every deal (the others are read live)."""
    from deals.models import DealRegistration, Opportunity, OpportunityStatus

    start, end = months[0], months[-1]
    if kept and code in KEPT_TREND:
        return _kept_trend(accounts, Period(start.start, end.end), code, by)
    rates = exchange_rates()
    money = money_of(rates) if code in KEPT_TREND else converted("amount", "currency", rates)
    if code == KpiCode.WON_REVENUE:
        rows = Opportunity.objects.filter(
            status=OpportunityStatus.WON, closed_at__gte=start.start_at, closed_at__lt=end.end_at
        )
        month, measure = TruncMonth("closed_at"), Sum(money, output_field=MONEY)
    elif code == KpiCode.NEW_PIPELINE:
        rows = Opportunity.objects.filter(created_at__gte=start.start_at, created_at__lt=end.end_at)
        month, measure = TruncMonth("created_at"), Sum(money, output_field=MONEY)
    elif code in (KpiCode.PIPELINE_VALUE, KpiCode.WEIGHTED_PIPELINE):
        rows = Opportunity.objects.filter(
            status=OpportunityStatus.OPEN, close_date__gte=start.start, close_date__lt=end.end
        )
        if code == KpiCode.WEIGHTED_PIPELINE:
            money = weighted(money, "stage__probability")
        month, measure = TruncMonth("close_date"), Sum(money, output_field=MONEY)
    elif code == KpiCode.DEALS_REGISTERED:
        rows = DealRegistration.objects.filter(
            submitted_at__gte=start.start_at, submitted_at__lt=end.end_at
        )
        month, measure = TruncMonth("submitted_at"), Count("pk")
    else:
        raise ValueError(f"{code} has no monthly trend.")
    group_path = _group_path("account", by)
    fields = ["month"] + ([group_path] if group_path else [])
    rows = (
        rows.filter(account__in=accounts)
        .annotate(month=month)
        .order_by()
        .values(*fields)
        .annotate(value=measure)
    )
    out = {}
    for row in rows:
        day = row["month"]
        day = day.date() if isinstance(day, datetime) else day
        value = row["value"]
        out[(day, row.get(group_path) if group_path else None)] = (
            _money(value) if code != KpiCode.DEALS_REGISTERED else value or 0
        )
    return out


#: The trend KPIs kept per partner and month, and their ``AccountMonth`` column.
KEPT_TREND = {
    KpiCode.WON_REVENUE: "won_revenue",
    KpiCode.NEW_PIPELINE: "new_pipeline",
    KpiCode.DEALS_REGISTERED: "deals_registered",
}


def _kept_trend(accounts, period: Period, code: str, by: str | None) -> dict:
    from analytics.models import AccountMonth

    field = KEPT_TREND[code]
    group_path = _group_path("account", by)
    rows = (
        AccountMonth.objects.filter(
            account__in=accounts,
            month__gte=period.start,
            month__lt=period.end,
            **{f"{field}__gt": 0},  # a partner's row kept for its other figures
        )
        .order_by()
        .values("month", *([group_path] if group_path else []))
        .annotate(value=Sum(field))
    )
    return {
        (row["month"], row[group_path] if group_path else None): (
            _money(row["value"]) if code != KpiCode.DEALS_REGISTERED else row["value"]
        )
        for row in rows
    }


#: Which source each KPI reads (health needs several).
KPI_SOURCES = {
    KpiCode.WON_REVENUE: ["opportunities closed"],
    KpiCode.WIN_RATE: ["opportunities closed"],
    KpiCode.AVERAGE_DEAL: ["opportunities closed"],
    KpiCode.SALES_CYCLE_DAYS: ["sales cycle"],
    KpiCode.PIPELINE_VALUE: ["open pipeline"],
    KpiCode.WEIGHTED_PIPELINE: ["open pipeline"],
    KpiCode.NEW_PIPELINE: ["new pipeline"],
    KpiCode.DEALS_REGISTERED: ["registrations submitted"],
    KpiCode.APPROVAL_RATE: ["registrations decided"],
    KpiCode.DECISION_HOURS: ["decision times"],
    KpiCode.LEAD_ACCEPTANCE_RATE: ["lead answers"],
    KpiCode.LEAD_ACCEPT_HOURS: ["lead acceptance times"],
    KpiCode.CERTIFIED_PEOPLE: ["certificates"],
    KpiCode.TRAINING_COMPLETION: ["enrollments"],
    KpiCode.SATISFACTION: ["satisfaction"],
    KpiCode.HEALTH_SCORE: [
        "opportunities closed",
        "registrations decided",
        "lead answers",
        "enrollments",
        "satisfaction",
    ],
}


def sources_for(codes: Iterable[str]) -> list[Source]:
    """The sources ``compute`` needs to read for these KPIs only."""
    names = {name for code in codes for name in KPI_SOURCES[code]}
    return [source for source in SOURCES if source.name in names]
