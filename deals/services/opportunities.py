"""Opportunities and the pipeline: from an approved registration or an accepted lead, stage
moves, won and lost.

Each function takes the acting user, checks permission, writes in a transaction and records the
opportunity's history (stage names, and "Won" / "Lost" with the reason). The caller has already
looked the record up with ``visible_to`` (404 for what the user can't see); here a user who sees
it but may not change it gets PermissionDenied (403), and a rule broken gets a ValidationError.
"""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone

from deals.models import (
    DealRegistration,
    Lead,
    LeadEvent,
    LeadStatus,
    Opportunity,
    OpportunityEvent,
    OpportunityStatus,
    PipelineStage,
    RegistrationEvent,
    RegistrationStatus,
)
from prm.access import Role, partner_contact, role_of
from prm.tasks import enqueue

__all__ = [
    "can_convert_lead",
    "can_convert_registration",
    "can_edit_opportunity",
    "close_opportunity",
    "convert_lead",
    "convert_registration",
    "move_opportunity",
    "update_opportunity",
]

#: What a partner (or their manager) may change on an open opportunity.
EDITABLE_FIELDS = frozenset({"stage", "amount", "close_date", "next_step", "custom"})
#: A converted lead has no close date of its own: the partner starts from this and adjusts it.
LEAD_CLOSE_DAYS = 90


# --- policies (no queries beyond role_of / partner_contact) ---------------------------------


def _own_account_id(user) -> int | None:
    contact = partner_contact(user)
    return contact.account_id if contact is not None else None


def can_edit_opportunity(user, opportunity: Opportunity) -> bool:
    """For a user who sees ``opportunity``: may they change it? Internal users who see it may;
    a partner admin of its own account may (a parent distributor only reads); a member may
    change the ones they own."""
    role = role_of(user)
    if role.is_internal:
        return True
    if not role.is_partner or _own_account_id(user) != opportunity.account_id:
        return False
    return role is Role.PARTNER_ADMIN or opportunity.owner_id == user.pk


def can_convert_registration(user, registration: DealRegistration) -> bool:
    """For a user who sees ``registration``: its creator, a partner admin of its account, or an
    internal user (its account's manager, an admin)."""
    role = role_of(user)
    if role.is_internal:
        return True
    if not role.is_partner or _own_account_id(user) != registration.account_id:
        return False
    return role is Role.PARTNER_ADMIN or registration.created_by_id == user.pk


def can_convert_lead(user, lead: Lead) -> bool:
    """For a user who sees ``lead``: the people of the partner holding it, or internal users."""
    role = role_of(user)
    if role.is_internal:
        return True
    return (
        role.is_partner and lead.account_id is not None and _own_account_id(user) == lead.account_id
    )


# --- helpers --------------------------------------------------------------------------------


def _actor(user):
    return user if getattr(user, "is_authenticated", False) else None


def _require_sees(actor, queryset, pk) -> None:
    """Internal users act only on what they see (a manager on their partners' records)."""
    if not queryset.visible_to(actor).filter(pk=pk).exists():
        raise PermissionDenied("You may not change this record.")


def _event(opportunity: Opportunity, *, actor, from_status: str, to_status: str, reason=""):
    return OpportunityEvent.objects.create(
        opportunity=opportunity,
        actor=_actor(actor),
        from_status=from_status[:80],
        to_status=to_status[:80],
        reason=(reason or "")[:500],
    )


def _check_stage(stage) -> PipelineStage:
    if not isinstance(stage, PipelineStage) or not stage.active:
        raise ValidationError({"stage": "Choose one of the pipeline's stages."})
    return stage


def _first_stage() -> PipelineStage:
    stage = PipelineStage.objects.filter(active=True).order_by("position", "pk").first()
    if stage is None:
        raise ValidationError(
            "No pipeline stage is set up yet: an admin adds the stages in the admin site."
        )
    return stage


def _lock_open(actor, opportunity: Opportunity) -> Opportunity:
    """The opportunity, locked, after checking that the actor may change it and that it's open."""
    locked = (
        Opportunity.objects.select_for_update(of=("self",))
        .select_related("stage")
        .get(pk=opportunity.pk)
    )
    if not can_edit_opportunity(actor, locked):
        raise PermissionDenied("Only its owner, your partner admins or your manager change it.")
    if role_of(actor).is_internal:
        _require_sees(actor, Opportunity.objects, locked.pk)
    if locked.status != OpportunityStatus.OPEN:
        raise ValidationError(
            f"This opportunity is {locked.get_status_display().lower()}: it can't be changed."
        )
    return locked


def _name(company: str, family: str) -> str:
    return (f"{company} — {family}" if family else company)[:200]


# --- conversions ----------------------------------------------------------------------------


@transaction.atomic
def convert_registration(*, actor, registration: DealRegistration, stage=None) -> Opportunity:
    """An approved registration becomes an opportunity of its account, owned by its creator."""
    locked = DealRegistration.objects.select_for_update().get(pk=registration.pk)
    if not can_convert_registration(actor, locked):
        raise PermissionDenied("Its creator, your partner admins or your manager convert it.")
    if role_of(actor).is_internal:
        _require_sees(actor, DealRegistration.objects, locked.pk)
    if locked.status != RegistrationStatus.APPROVED:
        if locked.status == RegistrationStatus.CONVERTED:
            raise ValidationError("This registration is already an opportunity.")
        raise ValidationError("Only an approved registration becomes an opportunity.")
    if stage is not None:
        stage = _check_stage(stage)
    elif locked.stage_id is not None and locked.stage.active:
        stage = locked.stage
    else:
        stage = _first_stage()
    opportunity = Opportunity.objects.create(
        name=_name(locked.company, locked.product_family),
        company=locked.company,
        domain=locked.domain,
        account_id=locked.account_id,
        owner_id=locked.created_by_id,
        shared_with_account=locked.shared_with_account,
        registration=locked,
        product_family=locked.product_family,
        stage=stage,
        amount=locked.amount,
        currency=locked.currency,
        close_date=locked.expected_close_date,
        created_by=_actor(actor),
    )
    locked.status = RegistrationStatus.CONVERTED
    locked.save(update_fields=["status", "updated_at"])
    RegistrationEvent.objects.create(
        registration=locked,
        actor=_actor(actor),
        from_status=RegistrationStatus.APPROVED,
        to_status=RegistrationStatus.CONVERTED,
        reason="Converted to an opportunity",
    )
    _event(opportunity, actor=actor, from_status="", to_status=stage.name,
           reason="Converted from an approved registration")  # fmt: skip
    registration.status = locked.status
    enqueue("analytics.refresh_account_scores", [opportunity.account_id])
    return opportunity


@transaction.atomic
def convert_lead(*, actor, lead: Lead, stage=None) -> Opportunity:
    """An accepted lead becomes an opportunity of the partner holding it, shared with its
    colleagues; a partner who converts it owns it."""
    locked = Lead.objects.select_for_update().get(pk=lead.pk)
    if not can_convert_lead(actor, locked):
        raise PermissionDenied("Only the partner working this lead converts it.")
    if role_of(actor).is_internal:
        _require_sees(actor, Lead.objects, locked.pk)
    if locked.status != LeadStatus.ACCEPTED:
        if locked.status == LeadStatus.CONVERTED:
            raise ValidationError("This lead is already an opportunity.")
        raise ValidationError("Only an accepted lead becomes an opportunity.")
    stage = _check_stage(stage) if stage is not None else _first_stage()
    families = sorted({p.family for p in locked.products.all()})
    family = families[0] if len(families) == 1 else ""
    owner = actor if role_of(actor).is_partner else locked.accepted_by
    opportunity = Opportunity.objects.create(
        name=_name(locked.company, family),
        company=locked.company,
        domain=locked.domain,
        account_id=locked.account_id,
        owner=owner,
        shared_with_account=True,
        lead=locked,
        product_family=family,
        stage=stage,
        amount=locked.estimated_value or Decimal("0"),
        currency=locked.currency,
        close_date=timezone.localdate() + timedelta(days=LEAD_CLOSE_DAYS),
        created_by=_actor(actor),
    )
    locked.status = LeadStatus.CONVERTED
    locked.save()
    LeadEvent.objects.create(
        lead=locked,
        actor=_actor(actor),
        from_status=LeadStatus.ACCEPTED,
        to_status=LeadStatus.CONVERTED,
        account_id=locked.account_id,
        reason="Converted to an opportunity",
    )
    _event(opportunity, actor=actor, from_status="", to_status=stage.name,
           reason="Converted from an accepted lead")  # fmt: skip
    lead.status = locked.status
    enqueue("analytics.refresh_account_scores", [opportunity.account_id])
    return opportunity


# --- working an opportunity -----------------------------------------------------------------


def _validate_changes(changes: dict, current: Opportunity) -> None:
    unknown = set(changes) - EDITABLE_FIELDS
    if unknown:
        raise TypeError(f"update_opportunity() can't change {', '.join(sorted(unknown))}")
    errors = {}
    if "stage" in changes and getattr(changes["stage"], "pk", None) != current.stage_id:
        try:
            _check_stage(changes["stage"])
        except ValidationError as error:
            errors.update(error.message_dict)
    amount = changes.get("amount")
    if "amount" in changes and (amount is None or Decimal(amount) < 0):
        errors["amount"] = ["The amount can't be negative."]
    close_date = changes.get("close_date")
    if "close_date" in changes:
        if close_date is None:
            errors["close_date"] = ["Give the date you expect to close the deal."]
        elif close_date != current.close_date and close_date < timezone.localdate():
            errors["close_date"] = ["The expected close date can't be in the past."]
    if len(changes.get("next_step") or "") > 200:
        errors["next_step"] = ["Keep the next step under 200 characters."]
    if errors:
        raise ValidationError(errors)


@transaction.atomic
def update_opportunity(*, actor, opportunity: Opportunity, **changes) -> Opportunity:
    """Change the stage, amount, close date or next step of an open opportunity. A stage
    change is recorded in its history; a close date moved into the past is refused."""
    locked = _lock_open(actor, opportunity)
    _validate_changes(changes, locked)
    before = locked.stage
    for field, value in changes.items():
        setattr(locked, field, (value or "").strip() if field == "next_step" else value)
    locked.save()
    if locked.stage_id != before.pk:
        _event(locked, actor=actor, from_status=before.name, to_status=locked.stage.name)
    enqueue("analytics.refresh_account_scores", [locked.account_id])
    return locked


@transaction.atomic
def move_opportunity(*, actor, opportunity: Opportunity, stage: PipelineStage) -> Opportunity:
    """Move an open opportunity to another stage (the board's arrows); the same stage is a no-op."""
    locked = _lock_open(actor, opportunity)
    stage = _check_stage(stage)
    if stage.pk == locked.stage_id:
        return locked
    before = locked.stage
    locked.stage = stage
    locked.save(update_fields=["stage", "updated_at"])
    _event(locked, actor=actor, from_status=before.name, to_status=stage.name)
    enqueue("analytics.refresh_account_scores", [locked.account_id])
    return locked


@transaction.atomic
def close_opportunity(*, actor, opportunity: Opportunity, won: bool, reason: str) -> Opportunity:
    """Won or lost, with the reason (required); a closed opportunity no longer moves."""
    reason = (reason or "").strip()
    locked = _lock_open(actor, opportunity)
    if not reason:
        word = "won" if won else "lost"
        raise ValidationError({"reason": f"Say why the deal was {word}: it helps the next one."})
    if len(reason) > 500:
        raise ValidationError({"reason": "Keep the reason under 500 characters."})
    locked.status = OpportunityStatus.WON if won else OpportunityStatus.LOST
    locked.reason = reason
    locked.closed_at = timezone.now()
    locked.save(update_fields=["status", "reason", "closed_at", "updated_at"])
    _event(
        locked,
        actor=actor,
        from_status=locked.stage.name,
        to_status=locked.get_status_display(),
        reason=reason,
    )
    enqueue("analytics.refresh_account_scores", [locked.account_id])
    if won:
        enqueue("analytics.survey_after_deal_won", [locked.pk])  # the feedback survey, if any
    return locked
