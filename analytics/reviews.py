"""Quarterly goal reviews: made for every active partner once its quarter is over (in sets, by
the beat), edited by the manager, acknowledged by the partner's admins, printed as a QBR page.

When: ``create_quarter_reviews`` reviews the last complete quarter in ``settings.TIME_ZONE``
as of ``now``. The beat runs it every hour (beat is kept in UTC, ARCHITECTURE.md §4, so a
"00:30 on 1 January" crontab would fire at the wrong local hour half of the year): the first run
after local midnight of a quarter's first day creates the reviews, the others find them there
and create nothing (the unique (account, quarter) constraint), and a missed run is caught up by
the next one.

Proposed goals ("proposed from the trend"): for each KPI that had an agreed goal in the quarter
(won revenue and deals registered when there was none), next quarter's target is the better of
this quarter's actual and the average of the last two quarters (higher-is-better KPIs: the
larger; lower-is-better: the smaller), rounded: money up to the next 1,000 (the next 100 under
10,000), counts and people up to the next whole number, percentages, hours, days and scores to
the nearest whole number (percentages at most 100). With no figures to go on, a KPI that had a
goal keeps its target, and one that had none is left out.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import ROUND_CEILING, ROUND_HALF_UP, Decimal, InvalidOperation
from zoneinfo import ZoneInfo

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Count, F, Window
from django.db.models.functions import RowNumber
from django.http import Http404
from django.utils import timezone

from analytics import kpis, services
from analytics.models import (
    Goal,
    GoalStatus,
    KpiCode,
    KpiDefinition,
    KpiDirection,
    KpiUnit,
    QuarterlyReview,
)
from analytics.selectors.goals import goal_progress
from partners.models import AccountStatus, PartnerAccount
from prm.access import require
from prm.tasks import enqueue

#: KPIs proposed for next quarter when the partner had no goals.
DEFAULT_GOAL_KPIS = (KpiCode.WON_REVENUE, KpiCode.DEALS_REGISTERED)
#: How many of the quarter's biggest wins a review lists.
TOP_WINS = 3
#: Shown on the review page under the proposed goals.
PROPOSAL_RULE = (
    "Proposed from the trend: for each KPI that had a goal (won revenue and deals registered "
    "when there was none), the better of this quarter's actual and the average of the last two "
    "quarters, rounded (money up to the next 1,000, counts up to a whole number). "
    "The manager can change the targets before they are applied."
)


# --- when ---------------------------------------------------------------------------------------


def local_date(now: datetime | None = None) -> date:
    """``now``'s calendar day in the configured time zone."""
    now = now or timezone.now()
    return now.astimezone(ZoneInfo(settings.TIME_ZONE)).date()


def last_complete_quarter(now: datetime | None = None) -> kpis.Period:
    """The quarter before the one ``now`` falls in, in ``settings.TIME_ZONE``."""
    return kpis.Period.quarter(local_date(now)).previous()


# --- the figures --------------------------------------------------------------------------------


def _json(value):
    """Decimal → str (exact), floats and ints as they are, None as None."""
    if isinstance(value, Decimal):
        return str(value)
    return value


def _change(value, previous):
    if value is None or previous is None:
        return None
    return _json(Decimal(str(value)) - Decimal(str(previous)))


def round_target(value: Decimal, unit: str, lower_is_better: bool = False) -> Decimal:
    """A target people read easily (the rule of the module docstring)."""
    if unit == KpiUnit.MONEY:
        step = Decimal(1000) if value >= 10000 else Decimal(100)
        return (value / step).to_integral_value(rounding=ROUND_CEILING) * step
    if unit in (KpiUnit.COUNT, KpiUnit.PEOPLE) and not lower_is_better:
        return value.to_integral_value(rounding=ROUND_CEILING)
    rounded = value.to_integral_value(rounding=ROUND_HALF_UP)
    if unit == KpiUnit.PERCENT:
        rounded = min(rounded, Decimal(100))
    return rounded


def propose_target(actual, previous, definition: KpiDefinition, current_target=None):
    """Next quarter's target of one KPI from this quarter's and the previous quarter's values
    (the module docstring's rule); None when there is nothing to go on."""
    known = [Decimal(str(v)) for v in (actual, previous) if v is not None]
    lower = definition.direction == KpiDirection.DOWN
    target = None
    if known:
        average = sum(known) / len(known)
        this = Decimal(str(actual)) if actual is not None else average
        target = min(this, average) if lower else max(this, average)
        target = round_target(target, definition.unit, lower)
    if not target:  # nothing (or zero) to go on: keep the goal's own target, if there was one
        target = current_target
    if target is None or target <= 0:
        return None
    return target.quantize(Decimal("0.01")).normalize() if target % 1 else target.quantize(1)


def _biggest_wins(account_ids, period: kpis.Period) -> dict[int, list[dict]]:
    """The ``TOP_WINS`` biggest deals won in ``period`` per account, in one ranked query."""
    from deals.models import Opportunity, OpportunityStatus

    money = kpis.money_of(kpis.exchange_rates())
    rows = (
        Opportunity.objects.filter(
            account_id__in=account_ids,
            status=OpportunityStatus.WON,
            closed_at__gte=period.start_at,
            closed_at__lt=period.end_at,
        )
        .annotate(
            value=money,
            rank=Window(
                RowNumber(),
                partition_by=[F("account_id")],
                order_by=[money.desc(nulls_last=True), F("closed_at").desc(), F("pk").desc()],
            ),
        )
        .filter(rank__lte=TOP_WINS)
        .order_by("account_id", "rank")
        .values("account_id", "name", "company", "value", "amount", "currency", "closed_at")
    )
    wins: dict[int, list[dict]] = {}
    for row in rows:
        wins.setdefault(row["account_id"], []).append(
            {
                "name": row["name"],
                "customer": row["company"],
                "value": _json(row["value"]),
                "amount": _json(row["amount"]),
                "currency": row["currency"],
                "closed_on": timezone.localtime(row["closed_at"]).date().isoformat(),
            }
        )
    return wins


def _certificates_issued(account_ids, period: kpis.Period) -> dict[int, int]:
    from training.models import Certificate

    rows = (
        Certificate.objects.filter(
            account_id__in=account_ids,
            issued_on__gte=period.start,
            issued_on__lt=period.end,
            revoked_at__isnull=True,
        )
        .order_by()
        .values("account_id")
        .annotate(n=Count("pk"))
    )
    return {row["account_id"]: row["n"] for row in rows}


def build_reviews(accounts, quarter: kpis.Period, *, today: date | None = None) -> list:
    """Unsaved reviews of ``accounts`` (a queryset) for ``quarter``, in a fixed number of
    queries whatever the number of accounts: two KPI computes, one for the goals, one for the
    biggest wins, one for the certificates."""
    account_ids = list(accounts.order_by("pk").values_list("pk", flat=True))
    if not account_ids:
        return []
    today = today or max(quarter.last, kpis.local_today())
    previous = quarter.previous()
    now_values = kpis.compute(accounts, quarter, by="account", today=today)
    before_values = kpis.compute(accounts, previous, by="account", today=today)
    goals = list(
        Goal.objects.filter(
            account_id__in=account_ids, quarter=quarter.start, status=GoalStatus.ACCEPTED
        ).order_by("account_id", "kpi", "pk")
    )
    progress_by_account: dict[int, list] = {}
    for progress in goal_progress(goals, now_values, quarter, today=today):
        progress_by_account.setdefault(progress.goal.account_id, []).append(progress)
    definitions = list(KpiDefinition.objects.all())
    by_code = {d.code: d for d in definitions}
    wins = _biggest_wins(account_ids, quarter)
    certificates = _certificates_issued(account_ids, quarter)
    empty = kpis.empty_values()
    reviews = []
    for pk in account_ids:
        values = now_values.get(pk) or empty
        before = before_values.get(pk) or empty
        goal_rows = [
            {
                "kpi": p.goal.kpi,
                "label": p.definition.label if p.definition else p.goal.get_kpi_display(),
                "unit": p.definition.unit if p.definition else KpiUnit.COUNT,
                "target": _json(p.goal.target),
                "actual": _json(p.actual),
                "percent": p.percent,
                "achieved": p.state == "achieved",
                "state": "achieved"
                if p.state == "achieved"
                else ("no_data" if p.state == "no_data" else "missed"),
            }
            for p in progress_by_account.get(pk, [])
        ]
        kpi_rows = [
            {
                "kpi": d.code,
                "label": d.label,
                "unit": d.unit,
                "direction": d.direction,
                "value": _json(values.get(d.code)),
                "previous": _json(before.get(d.code)),
                "change": _change(values.get(d.code), before.get(d.code)),
            }
            for d in definitions
            if d.on_scorecard and d.code in values
        ]
        targets = {p.goal.kpi: p.goal.target for p in progress_by_account.get(pk, [])}
        codes = list(targets) or list(DEFAULT_GOAL_KPIS)
        proposed = []
        for code in codes:
            definition = by_code.get(code)
            if definition is None or not definition.goal_allowed:
                continue
            target = propose_target(
                values.get(code), before.get(code), definition, targets.get(code)
            )
            if target is not None:
                proposed.append({"kpi": code, "target": str(target)})
        reviews.append(
            QuarterlyReview(
                account_id=pk,
                quarter=quarter.start,
                figures={
                    "quarter": quarter.key,
                    "label": quarter.label,
                    "previous_label": previous.label,
                    "currency": settings.PRM_REPORTING_CURRENCY,
                    "kpis": kpi_rows,
                    "goals": goal_rows,
                    "wins": wins.get(pk, []),
                    "certificates_issued": certificates.get(pk, 0),
                },
                proposed_goals=proposed,
            )
        )
    return reviews


def create_quarter_reviews(quarter=None, now: datetime | None = None) -> int:
    """One review of ``quarter`` (default: the last complete quarter in ``settings.TIME_ZONE``
    as of ``now``) per active partner that has none yet; returns how many were created. Safe to
    run any number of times: a second run creates nothing and tells nobody again. Each new
    review is announced by ``analytics.notify_reviews`` (the manager, or the admins, and the
    partner's admins)."""
    now = now or timezone.now()
    if quarter is None:
        quarter = last_complete_quarter(now)
    elif not isinstance(quarter, kpis.Period):
        quarter = services._quarter_of(quarter)
    active = PartnerAccount.objects.filter(status=AccountStatus.ACTIVE)
    done = QuarterlyReview.objects.filter(quarter=quarter.start).values("account_id")
    missing = active.exclude(pk__in=done)
    if not missing.exists():
        return 0
    with transaction.atomic():
        reviews = build_reviews(missing, quarter, today=max(quarter.last, local_date(now)))
        for review in reviews:
            review.created_at = now
        QuarterlyReview.objects.bulk_create(reviews, ignore_conflicts=True, batch_size=500)
        # Ours are those stamped with this run's time (another run's rows won any race).
        created = list(
            QuarterlyReview.objects.filter(
                quarter=quarter.start,
                account_id__in=[r.account_id for r in reviews],
                created_at=now,
            )
            .order_by("pk")
            .values_list("pk", flat=True)
        )
        if created:
            enqueue("analytics.notify_reviews", created)
    return len(created)


# --- who may do what ----------------------------------------------------------------------------


def can_edit(user, review: QuarterlyReview) -> bool:
    """The account's manager and admins write comments and change the proposed goals."""
    return services.can_set_goals(user, review.account)


def can_acknowledge(user, review: QuarterlyReview) -> bool:
    """The partner admins of the reviewed account itself."""
    return services.is_own_partner_admin(user, review.account)


def _locked(actor, review: QuarterlyReview) -> QuarterlyReview:
    if not QuarterlyReview.objects.visible_to(actor).filter(pk=review.pk).exists():
        raise Http404("No quarterly review matches the given query.")
    return (
        QuarterlyReview.objects.select_for_update(of=("self",))
        .select_related("account")
        .get(pk=review.pk)
    )


# --- writes -------------------------------------------------------------------------------------


def clean_targets(targets: dict[str, object]) -> dict[str, Decimal | None]:
    """The posted targets (KPI code → text; blank drops the goal), or a ValidationError naming
    each field (``target_<kpi>``) that is wrong."""
    definitions = {d.code: d for d in KpiDefinition.objects.filter(goal_allowed=True)}
    errors, out = {}, {}
    for code, text in targets.items():
        field = f"target_{code}"
        definition = definitions.get(code)
        if definition is None:
            errors[field] = "That KPI takes no goals."
            continue
        text = str(text or "").strip().replace(",", "")
        if not text:
            out[code] = None
            continue
        try:
            amount = Decimal(text)
        except InvalidOperation:
            amount = None
        if amount is None or not amount.is_finite():
            errors[field] = "Give the target as a number (or leave it empty to drop it)."
        elif amount < 0:
            errors[field] = "The target can't be negative."
        elif amount >= Decimal("1e14"):
            errors[field] = "That target is too large."
        elif definition.unit == KpiUnit.PERCENT and amount > 100:
            errors[field] = "A percentage target is at most 100."
        else:
            out[code] = amount.quantize(Decimal("0.01"))
    if errors:
        raise ValidationError(errors)
    return out


def _target_text(amount: Decimal) -> str:
    return str(amount.quantize(1) if amount == amount.to_integral_value() else amount.normalize())


@transaction.atomic
def update_review(*, actor, review: QuarterlyReview, comments: str, targets: dict):
    """The manager's comments and next quarter's targets (blank drops a proposed goal)."""
    review = _locked(actor, review)
    require(can_edit(actor, review), "Only the partner's manager or an admin edits the review.")
    comments = (comments or "").strip()
    if len(comments) > 4000:
        raise ValidationError({"manager_comments": "Keep the comments under 4,000 characters."})
    cleaned = clean_targets(targets)
    proposed = [
        {"kpi": code, "target": _target_text(amount)}
        for code, amount in cleaned.items()
        if amount is not None
    ]
    review.manager_comments = comments
    review.proposed_goals = proposed
    review.save(update_fields=["manager_comments", "proposed_goals", "updated_at"])
    return review


@transaction.atomic
def apply_proposed_goals(*, actor, review: QuarterlyReview) -> list[Goal]:
    """Set next quarter's goals of the account to the review's proposed targets (all or none)."""
    review = _locked(actor, review)
    require(can_edit(actor, review), "Only the partner's manager or an admin sets goals.")
    next_quarter = kpis.Period.quarter(review.quarter).next()
    if not review.proposed_goals:
        raise ValidationError("There are no proposed goals to apply.")
    return [
        services.set_goal(
            actor=actor,
            account=review.account,
            quarter=next_quarter.start,
            kpi=item["kpi"],
            target=item["target"],
            note=f"Proposed in the review of {kpis.Period.quarter(review.quarter).label}",
        )
        for item in review.proposed_goals
    ]


@transaction.atomic
def acknowledge_review(*, actor, review: QuarterlyReview) -> QuarterlyReview:
    """A partner admin of the account acknowledges the review, once; its manager is told."""
    review = _locked(actor, review)
    require(can_acknowledge(actor, review), "Only your company's partner admins acknowledge it.")
    if review.acknowledged_at is not None:
        raise ValidationError("This review was already acknowledged.")
    review.acknowledged_at = timezone.now()
    review.acknowledged_by = actor
    review.save(update_fields=["acknowledged_at", "acknowledged_by", "updated_at"])
    enqueue("analytics.notify_review_acknowledged", review.pk)
    return review


# --- notifications (called by the tasks) --------------------------------------------------------


def _internal_recipients(account, admins):
    manager = account.manager
    if manager is not None and manager.is_active:
        return [manager]
    return admins


def notify_reviews(review_ids: list[int]) -> int:
    """Tell the manager (or, with none, the admins) and the partner admins of each review:
    once per review and person (the bell's key)."""
    from django.contrib.auth import get_user_model
    from django.urls import reverse

    from partners.models import Contact, PortalAccess
    from prm.notifications import notify

    reviews = list(
        QuarterlyReview.objects.filter(pk__in=review_ids)
        .select_related("account__manager")
        .order_by("pk")
    )
    if not reviews:
        return 0
    admins = list(get_user_model().objects.filter(is_active=True, is_superuser=True))
    partner_admins: dict[int, list] = {}
    for contact in Contact.objects.filter(
        account_id__in={r.account_id for r in reviews},
        portal_access=PortalAccess.ADMIN,
        user__is_active=True,
    ).select_related("user"):
        partner_admins.setdefault(contact.account_id, []).append(contact.user)
    sent = 0
    for review in reviews:
        label = kpis.Period.quarter(review.quarter).label
        url = reverse("analytics:review", args=[review.pk])
        sent += notify(
            f"review:{review.pk}:created-manager",
            _internal_recipients(review.account, admins),
            title=f"{review.account.name}: the {label} review is ready",
            url=url,
            body="Add your comments and check next quarter's proposed goals.",
            topic="reviews",
        )
        if not review.account.is_blocked:
            sent += notify(
                f"review:{review.pk}:created-partner",
                partner_admins.get(review.account_id, []),
                title=f"Your {label} quarterly review is ready",
                url=url,
                body="Goals vs actuals, highlights and next quarter's proposed goals. "
                "Please read and acknowledge it.",
                topic="reviews",
            )
    return sent


def notify_review_acknowledged(review_id: int) -> int:
    from django.contrib.auth import get_user_model
    from django.urls import reverse

    from prm.notifications import notify

    review = (
        QuarterlyReview.objects.select_related("account__manager", "acknowledged_by")
        .filter(pk=review_id, acknowledged_at__isnull=False)
        .first()
    )
    if review is None:
        return 0
    admins = list(get_user_model().objects.filter(is_active=True, is_superuser=True))
    label = kpis.Period.quarter(review.quarter).label
    who = review.acknowledged_by.get_full_name() if review.acknowledged_by else "A partner admin"
    return notify(
        f"review:{review.pk}:acknowledged",
        _internal_recipients(review.account, admins),
        title=f"{review.account.name} acknowledged the {label} review",
        url=reverse("analytics:review", args=[review.pk]),
        body=f"{who or review.acknowledged_by.email} acknowledged it.",
        topic="reviews",
    )


# --- reads --------------------------------------------------------------------------------------


def proposal_rows(review: QuarterlyReview, definitions: dict) -> list[dict]:
    """The proposed goals with their KPI's label and unit (definitions: code → definition)."""
    rows = []
    for item in review.proposed_goals or []:
        definition = definitions.get(item.get("kpi"))
        rows.append(
            {
                "kpi": item.get("kpi"),
                "label": definition.label if definition else item.get("kpi"),
                "unit": definition.unit if definition else KpiUnit.COUNT,
                "target": item.get("target"),
            }
        )
    return rows


def achieved_summary(review: QuarterlyReview) -> tuple[int, int]:
    goals = review.figures.get("goals", [])
    return sum(1 for g in goals if g.get("achieved")), len(goals)


__all__ = [
    "PROPOSAL_RULE",
    "achieved_summary",
    "acknowledge_review",
    "apply_proposed_goals",
    "build_reviews",
    "can_acknowledge",
    "can_edit",
    "create_quarter_reviews",
    "last_complete_quarter",
]


def kpi_rows(review: QuarterlyReview) -> list[dict]:
    """The review's KPI rows with which way each one moved and whether that is good news."""
    rows = []
    for row in review.figures.get("kpis", []):
        change = row.get("change")
        moved = 0 if change in (None, "0", "0.00") else (1 if float(change) > 0 else -1)
        if change is not None and float(change) == 0:
            moved = 0
        better = moved * (-1 if row.get("direction") == KpiDirection.DOWN else 1)
        rows.append(
            {
                **row,
                "moved": {1: "up", -1: "down", 0: "flat"}[moved],
                "good": better > 0,
                "bad": better < 0,
                "magnitude": None if change is None else abs(Decimal(str(change))),
            }
        )
    return rows
