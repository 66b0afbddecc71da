"""Analytics writes: the kept partner scores and monthly figures (refreshed in sets by tasks)
and quarterly goals (set by the manager, proposed by the partner admin, accepted, removed)."""

from __future__ import annotations

from datetime import date
from decimal import Decimal, InvalidOperation

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.http import Http404
from django.utils import timezone

from analytics import kpis
from analytics.models import (
    AccountMonth,
    Goal,
    GoalStatus,
    KpiCode,
    KpiDefinition,
    KpiUnit,
    PartnerScore,
)
from analytics.selectors.goals import goal_progress
from partners.models import AuditAction, PartnerAccount
from partners.services import record
from prm.access import Role, partner_contact, require, role_of
from prm.tasks import enqueue

__all__ = [
    "SCORE_BATCH_SIZE",
    "accept_goal",
    "can_propose_goals",
    "can_remove_goal",
    "can_set_goals",
    "clean_goal",
    "propose_goal",
    "refresh_months",
    "refresh_scores",
    "remove_goal",
    "set_goal",
]

# --- partner scores -----------------------------------------------------------------------------

#: Rows written per ``bulk_create`` (one upsert query each).
SCORE_BATCH_SIZE = 1000
#: Every KPI has a column of the same name on PartnerScore.
SCORE_FIELDS = [code.value for code in KpiCode]


def _quarter_of(period) -> kpis.Period:
    if period is None:
        return kpis.Period.current_quarter()
    if isinstance(period, str):
        period = kpis.Period.parse(period)
    if isinstance(period, date):
        return kpis.Period.quarter(period)
    return kpis.Period.quarter(period.start)


def refresh_scores(period=None, account_ids=None, *, today: date | None = None) -> int:
    """Recompute every KPI and the goals behind pace of all accounts (or ``account_ids``) for
    ``period``'s quarter (default: the current one) and upsert their ``PartnerScore`` rows.

    A task acting for no user: every account, unscoped. A fixed number of queries (one per KPI
    source, two for goals) plus one upsert per ``SCORE_BATCH_SIZE`` accounts; an account with no
    data gets its row too, so the ranked table lists every partner. Returns the rows written.
    """
    quarter = _quarter_of(period)
    accounts = PartnerAccount.objects.all()
    if account_ids is not None:
        accounts = accounts.filter(pk__in=list(account_ids))
    ids = list(accounts.order_by("pk").values_list("pk", flat=True))
    if not ids:
        return 0
    values = kpis.compute(accounts, quarter, by="account", today=today)
    goals = Goal.objects.filter(
        account__in=accounts, quarter=quarter.start, status=GoalStatus.ACCEPTED
    ).order_by("pk")
    behind: dict[int, int] = {}
    for progress in goal_progress(list(goals), values, quarter, today=today):
        if progress.state == "behind":
            behind[progress.goal.account_id] = behind.get(progress.goal.account_id, 0) + 1
    now = timezone.now()
    empty = kpis.empty_values()
    written = 0
    for start in range(0, len(ids), SCORE_BATCH_SIZE):
        rows = []
        for pk in ids[start : start + SCORE_BATCH_SIZE]:
            figures = values.get(pk) or empty
            rows.append(
                PartnerScore(
                    account_id=pk,
                    quarter=quarter.start,
                    goals_behind=behind.get(pk, 0),
                    computed_at=now,
                    **{code: figures.get(code) for code in SCORE_FIELDS},
                )
            )
        PartnerScore.objects.bulk_create(
            rows,
            update_conflicts=True,
            unique_fields=["account", "quarter"],
            update_fields=[*SCORE_FIELDS, "goals_behind", "computed_at"],
        )
        written += len(rows)
    return written


# --- monthly figures ----------------------------------------------------------------------------

#: The kept figures of ``AccountMonth``: the measures of ``kpis.KEPT_SOURCES``, same names.
MONTH_FIELDS = [field for source in kpis.KEPT_SOURCES for field in source.fields]


def _months_of(months, today: date | None) -> list[kpis.Period]:
    """``months`` as calendar months: None → the current month and the previous one; a number
    → that many months back from the current one; else periods ("2026-Q3", dates, ``Period``s),
    each split into its months."""
    today = today or kpis.local_today()
    if months is None:
        months = 2
    if isinstance(months, int):
        return kpis.trailing_months(max(months, 1), today=today)
    out: dict[date, kpis.Period] = {}
    for item in months:
        if isinstance(item, str):
            item = kpis.Period.parse(item)
        if isinstance(item, date):
            item = kpis.Period.month(item)
        for month in item.months():
            out[month.start] = month
    return [out[start] for start in sorted(out)]


def refresh_months(months=None, account_ids=None, *, today: date | None = None) -> int:
    """Recompute the kept monthly figures (``AccountMonth``) of all accounts (or
    ``account_ids``) for ``months`` (default: the current month and the previous one; see
    ``_months_of``) with the KPI sources themselves (``kpis.measure``), and upsert them.

    A task acting for no user: every account, unscoped. Per month, a fixed number of queries
    whatever the number of accounts: one per kept source table, one upsert per
    ``SCORE_BATCH_SIZE`` partners with figures, and one delete of the rows of partners that no
    longer have any (a reopened deal, say). Returns the rows written.
    """
    accounts = PartnerAccount.objects.all()
    if account_ids is not None:
        account_ids = sorted({pk for pk in account_ids if pk is not None})
        if not account_ids:
            return 0
        accounts = accounts.filter(pk__in=account_ids)
    written = 0
    for month in _months_of(months, today):
        figures = kpis.measure(
            accounts, month, by="account", sources=kpis.KEPT_SOURCES, today=today
        )
        now = timezone.now()
        rows = [
            AccountMonth(
                account_id=pk,
                month=month.start,
                computed_at=now,
                **{field: measures.get(field) or 0 for field in MONTH_FIELDS},
            )
            for pk, measures in sorted(figures.items())
            if any(measures.values())
        ]
        with transaction.atomic():
            for start in range(0, len(rows), SCORE_BATCH_SIZE):
                AccountMonth.objects.bulk_create(
                    rows[start : start + SCORE_BATCH_SIZE],
                    update_conflicts=True,
                    unique_fields=["account", "month"],
                    update_fields=[*MONTH_FIELDS, "computed_at"],
                )
            # Rows this refresh did not write: partners with nothing left that month.
            AccountMonth.objects.filter(
                month=month.start, account__in=accounts, computed_at__lt=now
            ).delete()
        written += len(rows)
    return written


# --- goals --------------------------------------------------------------------------------------

#: Why a goal of an earlier quarter can't change.
PAST_QUARTER = "That quarter is over: its goals are kept as they were."


def can_set_goals(user, account: PartnerAccount) -> bool:
    """The account's manager and admins set, accept and remove its goals."""
    role = role_of(user)
    return role is Role.ADMIN or (role is Role.MANAGER and account.manager_id == user.pk)


def is_own_partner_admin(user, account: PartnerAccount) -> bool:
    """A partner admin of ``account`` itself (not of a parent distributor that reads it)."""
    contact = partner_contact(user)
    return (
        role_of(user) is Role.PARTNER_ADMIN
        and contact is not None
        and contact.account_id == account.pk
    )


def can_propose_goals(user, account: PartnerAccount) -> bool:
    """The partner admins of the account itself (not of a parent distributor) propose goals."""
    return is_own_partner_admin(user, account)


def _visible_account(actor, account: PartnerAccount) -> PartnerAccount:
    """The account when ``actor`` sees it; 404 (as if it did not exist) when not."""
    found = PartnerAccount.objects.visible_to(actor).filter(pk=account.pk).first()
    if found is None:
        raise Http404("No partner account matches the given query.")
    return found


def _visible_goal(actor, goal: Goal) -> Goal:
    """The goal, locked, when ``actor`` sees it; 404 when not (or when it is gone)."""
    if not Goal.objects.visible_to(actor).filter(pk=goal.pk).exists():
        raise Http404("No goal matches the given query.")
    found = (
        Goal.objects.select_for_update(of=("self",))
        .select_related("account")
        .filter(pk=goal.pk)
        .first()
    )
    if found is None:
        raise Http404("No goal matches the given query.")
    return found


def _is_past(quarter: date) -> bool:
    return quarter < kpis.Period.current_quarter().start


def clean_goal(quarter, kpi, target, note) -> tuple[date, KpiDefinition, Decimal, str]:
    """The checked values, or one ValidationError naming every field that is wrong."""
    errors: dict[str, str] = {}
    if not isinstance(quarter, date) or kpis.Period.quarter(quarter).start != quarter:
        errors["quarter"] = "Choose a quarter (its first day)."
    elif _is_past(quarter):
        errors["quarter"] = PAST_QUARTER
    definition = KpiDefinition.objects.filter(code=kpi or "").first()
    if definition is None:
        errors["kpi"] = "Choose one of the KPIs."
    elif not definition.goal_allowed:
        errors["kpi"] = f"{definition.label} takes no goals: choose another KPI."
    try:
        amount = Decimal(str(target).strip()) if target not in (None, "") else None
    except (InvalidOperation, ValueError):
        amount = None
    if amount is None or not amount.is_finite():
        errors["target"] = "Give the target as a number."
    elif amount < 0:
        errors["target"] = "The target can't be negative."
    elif amount >= Decimal("1e14"):
        errors["target"] = "That target is too large."
    elif definition is not None and definition.unit == KpiUnit.PERCENT and amount > 100:
        errors["target"] = "A percentage target is at most 100."
    note = (note or "").strip()
    if len(note) > 300:
        errors["note"] = "Keep the note under 300 characters."
    if errors:
        raise ValidationError(errors)
    return quarter, definition, amount.quantize(Decimal("0.01")), note


def _save_goal(goal: Goal) -> Goal:
    try:
        with transaction.atomic():
            goal.save()
    except IntegrityError as exc:  # someone saved the same KPI of the same quarter meanwhile
        raise ValidationError(
            {"kpi": "This goal was changed meanwhile: reload the page and try again."}
        ) from exc
    return goal


def _notify(goal: Goal, kind: str) -> None:
    enqueue("analytics.notify_goal", goal.pk, kind, goal.updated_at.isoformat())


def _audit(actor, goal: Goal, action: str, message: str, changes=None) -> None:
    record(
        actor=actor, account=goal.account, action=action, obj=goal, changes=changes, message=message
    )


def _describe(definition: KpiDefinition, target: Decimal, quarter: date) -> str:
    return f"{definition.label} {target:g} in {kpis.Period.quarter(quarter).label}"


@transaction.atomic
def set_goal(*, actor, account: PartnerAccount, quarter: date, kpi: str, target, note="") -> Goal:
    """The manager (or an admin) sets a target, or changes one: it is agreed at once, and the
    partner admins are told. A proposal on the same KPI becomes the agreed goal."""
    account = _visible_account(actor, account)
    require(can_set_goals(actor, account), "Only the partner's manager or an admin sets goals.")
    quarter, definition, target, note = clean_goal(quarter, kpi, target, note)
    goal = (
        Goal.objects.select_for_update()
        .filter(account=account, quarter=quarter, kpi=definition.code)
        .first()
    )
    creating = goal is None
    before = None if creating else (str(goal.target), goal.status)
    if creating:
        goal = Goal(account=account, quarter=quarter, kpi=definition.code)
    goal.account = account
    goal.target, goal.note, goal.status, goal.set_by = target, note, GoalStatus.ACCEPTED, actor
    _save_goal(goal)
    changes = (
        None
        if creating
        else {"target": [before[0], str(target)], "status": [before[1], goal.status]}
    )
    _audit(
        actor,
        goal,
        AuditAction.CREATE if creating else AuditAction.CHANGE,
        f"Goal set: {_describe(definition, target, quarter)}",
        changes,
    )
    _notify(goal, "set")
    return goal


@transaction.atomic
def propose_goal(
    *, actor, account: PartnerAccount, quarter: date, kpi: str, target, note=""
) -> Goal:
    """A partner admin proposes a target for their own company; the manager accepts it. An
    agreed goal is not overwritten: it changes only with the manager."""
    account = _visible_account(actor, account)
    require(can_propose_goals(actor, account), "Only your company's partner admins propose goals.")
    quarter, definition, target, note = clean_goal(quarter, kpi, target, note)
    goal = (
        Goal.objects.select_for_update()
        .filter(account=account, quarter=quarter, kpi=definition.code)
        .first()
    )
    if goal is not None and goal.status == GoalStatus.ACCEPTED:
        raise ValidationError(
            {
                "kpi": f"{definition.label} already has an agreed goal this quarter "
                f"({goal.target:g}): ask your manager to change it."
            }
        )
    creating = goal is None
    if creating:
        goal = Goal(account=account, quarter=quarter, kpi=definition.code)
    goal.account = account
    goal.target, goal.note, goal.status = target, note, GoalStatus.PROPOSED
    goal.proposed_by, goal.set_by = actor, None
    _save_goal(goal)
    _audit(
        actor,
        goal,
        AuditAction.CREATE if creating else AuditAction.CHANGE,
        f"Goal proposed: {_describe(definition, target, quarter)}",
    )
    _notify(goal, "proposed")
    return goal


@transaction.atomic
def accept_goal(*, actor, goal: Goal) -> Goal:
    """The manager (or an admin) agrees to a partner's proposal; the partner admins are told."""
    goal = _visible_goal(actor, goal)
    require(can_set_goals(actor, goal.account), "Only the partner's manager or an admin agrees.")
    if _is_past(goal.quarter):
        raise ValidationError(PAST_QUARTER)
    if goal.status != GoalStatus.PROPOSED:
        raise ValidationError("This goal is already agreed.")
    goal.status, goal.set_by = GoalStatus.ACCEPTED, actor
    goal.save(update_fields=["status", "set_by", "updated_at"])
    _audit(
        actor,
        goal,
        AuditAction.STATUS,
        f"Goal agreed: {goal.get_kpi_display()} {goal.target:g}",
        {"status": [GoalStatus.PROPOSED, GoalStatus.ACCEPTED]},
    )
    _notify(goal, "accepted")
    return goal


def can_remove_goal(user, goal: Goal) -> bool:
    """The manager and admins remove any goal; a partner admin withdraws their own company's
    proposals (not an agreed goal)."""
    if can_set_goals(user, goal.account):
        return True
    return goal.status == GoalStatus.PROPOSED and can_propose_goals(user, goal.account)


@transaction.atomic
def remove_goal(*, actor, goal: Goal) -> None:
    goal = _visible_goal(actor, goal)
    require(can_remove_goal(actor, goal), "Only the partner's manager or an admin removes goals.")
    if _is_past(goal.quarter):
        raise ValidationError(PAST_QUARTER)
    _audit(actor, goal, AuditAction.DELETE, f"Goal removed: {goal.get_kpi_display()}")
    goal.delete()
