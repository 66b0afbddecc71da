"""Leads: create, assign (by hand or by the rules), accept, reject, lose, and the SLA return.

Each function takes the acting user, checks permission, writes in a transaction, records the
lead's history and enqueues notifications after commit.
"""

from __future__ import annotations

from datetime import timedelta

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone

from deals import routing
from deals.models import ASSIGNABLE, Lead, LeadEvent, LeadRejection, LeadStatus
from partners.models import PartnerAccount
from prm.access import partner_contact, role_of
from prm.tasks import enqueue

__all__ = [
    "accept_lead",
    "assign_lead",
    "assignable_accounts",
    "create_lead",
    "mark_lead_lost",
    "reject_lead",
    "return_overdue_leads",
    "route_lead",
    "route_leads",
]


def _event(lead: Lead, *, actor, from_status: str, reason: str = "", account=None) -> LeadEvent:
    return LeadEvent.objects.create(
        lead=lead,
        actor=actor if getattr(actor, "is_authenticated", False) else None,
        from_status=from_status,
        to_status=lead.status,
        account=account if account is not None else lead.account,
        reason=reason[:500],
    )


def _require_internal(actor) -> None:
    if not role_of(actor).is_internal:
        raise PermissionDenied("Only partner managers and admins do this.")


def _require_partner_of(actor, lead: Lead) -> None:
    """Only the people of the partner holding the lead act on it (not a distributor above it)."""
    contact = partner_contact(actor)
    if contact is None or lead.account_id is None or contact.account_id != lead.account_id:
        raise PermissionDenied("Only the partner the lead is assigned to can do this.")


@transaction.atomic
def create_lead(*, actor, lead: Lead, products=()) -> Lead:
    _require_internal(actor)
    lead.status = LeadStatus.NEW
    lead.account = None
    lead.created_by = actor
    lead.save()
    lead.products.set(products)
    _event(lead, actor=actor, from_status="")
    return lead


def assignable_accounts(actor, lead: Lead):
    """Partners the actor may hand this lead to: visible to them, open, and not ones that
    already turned it down."""
    return (
        PartnerAccount.objects.visible_to(actor)
        .filter(status__in=("active", "onboarding"))
        .exclude(pk__in=LeadRejection.objects.filter(lead=lead).values("account_id"))
    )


@transaction.atomic
def assign_lead(*, actor, lead: Lead, account: PartnerAccount) -> Lead:
    """Hand a lead from the pool to a partner, who must accept it within their tier's hours."""
    _require_internal(actor)
    lead = Lead.objects.select_for_update().get(pk=lead.pk)
    if lead.status not in ASSIGNABLE:
        raise ValidationError(
            f"A lead that is {lead.get_status_display().lower()} can't be assigned."
        )
    if LeadRejection.objects.filter(lead=lead, account=account).exists():
        raise ValidationError({"account": f"{account} already turned this lead down."})
    if not assignable_accounts(actor, lead).filter(pk=account.pk).exists():
        raise ValidationError({"account": f"{account} can't receive leads from you right now."})
    hours = account.tier.lead_acceptance_hours if account.tier_id else 48
    now = timezone.now()
    before = lead.status
    lead.status = LeadStatus.ASSIGNED
    lead.account = account
    lead.assigned_at, lead.accept_by = now, now + timedelta(hours=hours)
    lead.accepted_at = lead.accepted_by = None
    lead.assignment_note = ""  # by hand: no rule to explain
    lead.save()
    event = _event(lead, actor=actor, from_status=before)
    from deals.tasks import notify_leads_assigned

    enqueue(notify_leads_assigned, [event.pk])
    return lead


@transaction.atomic
def accept_lead(*, actor, lead: Lead) -> Lead:
    lead = Lead.objects.select_for_update().get(pk=lead.pk)
    _require_partner_of(actor, lead)
    if lead.status != LeadStatus.ASSIGNED:
        raise ValidationError("Only a lead waiting for you can be accepted.")
    if lead.is_overdue:
        raise ValidationError("The time to accept this lead has passed; it goes back to the pool.")
    lead.status = LeadStatus.ACCEPTED
    lead.accepted_at, lead.accepted_by = timezone.now(), actor
    lead.save()
    _event(lead, actor=actor, from_status=LeadStatus.ASSIGNED)
    enqueue("analytics.refresh_account_scores", [lead.account_id])
    return lead


@transaction.atomic
def reject_lead(*, actor, lead: Lead, reason: str) -> Lead:
    """Turn a lead down (a reason is required): it goes back to the manager, never to us again."""
    lead = Lead.objects.select_for_update().get(pk=lead.pk)
    _require_partner_of(actor, lead)
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError({"reason": "Say why, so that the lead finds a better partner."})
    if lead.status != LeadStatus.ASSIGNED:
        raise ValidationError("Only a lead waiting for you can be rejected.")
    account = lead.account
    LeadRejection.objects.create(lead=lead, account=account, reason=reason, rejected_by=actor)
    lead.status, lead.account, lead.reason = LeadStatus.REJECTED, None, reason
    lead.accept_by, lead.assignment_note = None, ""
    lead.save()
    event = _event(
        lead, actor=actor, from_status=LeadStatus.ASSIGNED, reason=reason, account=account
    )
    from deals.tasks import notify_leads_returned

    enqueue(notify_leads_returned, [event.pk])
    enqueue("analytics.refresh_account_scores", [account.pk])
    return lead


@transaction.atomic
def mark_lead_lost(*, actor, lead: Lead, reason: str) -> Lead:
    lead = Lead.objects.select_for_update().get(pk=lead.pk)
    if not role_of(actor).is_internal:
        _require_partner_of(actor, lead)
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError({"reason": "Say why the lead was lost."})
    if lead.status != LeadStatus.ACCEPTED:
        raise ValidationError("Only an accepted lead can be marked lost.")
    lead.status, lead.reason = LeadStatus.LOST, reason
    lead.save()
    _event(lead, actor=actor, from_status=LeadStatus.ACCEPTED, reason=reason)
    return lead


# --- routing by the assignment rules -----------------------------------------------------------

#: The lead fields a routing run writes (one bulk update per batch).
_ROUTED_FIELDS = [
    "status",
    "account",
    "assigned_at",
    "accept_by",
    "accepted_at",
    "accepted_by",
    "assignment_note",
    "updated_at",
]


def _apply_routing(decisions: list[routing.Decision], *, actor, now) -> list[LeadEvent]:
    """Write a batch of decisions: the leads in one bulk update, their history in one insert,
    the partner admins told after commit. A lead no rule could place keeps its status and gets
    the explanation in ``assignment_note``."""
    events = []
    for decision in decisions:
        lead = decision.lead
        lead.assignment_note, lead.updated_at = decision.note, now
        if decision.candidate is None:
            continue
        before = lead.status
        lead.status, lead.account_id = LeadStatus.ASSIGNED, decision.candidate.pk
        lead.assigned_at = now
        lead.accept_by = now + timedelta(hours=decision.candidate.acceptance_hours)
        lead.accepted_at = lead.accepted_by = None
        # The partner reads this step in the lead's history: the summary names no other partner.
        events.append(
            LeadEvent(
                lead=lead,
                actor=actor if getattr(actor, "is_authenticated", False) else None,
                from_status=before,
                to_status=LeadStatus.ASSIGNED,
                account_id=decision.candidate.pk,
                reason=decision.summary[:500],
                created_at=now,
            )
        )
    if decisions:
        Lead.objects.bulk_update([d.lead for d in decisions], _ROUTED_FIELDS)
    created = LeadEvent.objects.bulk_create(events)
    if created:
        from deals.tasks import notify_leads_assigned

        enqueue(notify_leads_assigned, [event.pk for event in created])
    return created


def route_lead(*, actor, lead: Lead) -> routing.Decision:
    """A manager runs the assignment rules on one lead of the pool, among their own partners.

    Returns the decision: ``decision.candidate`` is None when no rule found a partner (the lead
    stays in the pool; ``decision.note`` says why, and so does ``lead.assignment_note``).
    """
    _require_internal(actor)
    with transaction.atomic():
        lead = Lead.objects.select_for_update().get(pk=lead.pk)
        if lead.status not in ASSIGNABLE:
            raise ValidationError(
                f"A lead that is {lead.get_status_display().lower()} isn't in the pool: "
                "the rules only route waiting leads."
            )
        decisions = routing.choose_partners(
            [lead], accounts=PartnerAccount.objects.visible_to(actor)
        )
        _apply_routing(decisions, actor=actor, now=timezone.now())
    return decisions[0]


def route_leads(lead_ids, *, actor=None, now=None, exclude=None) -> list[routing.Decision]:
    """Run the assignment rules on the waiting leads among ``lead_ids`` (ids, or a queryset of
    them), in sets.

    With an ``actor`` (a manager's "Route all waiting leads"): the leads and the partners they
    see. Without (the SLA task): every lead and partner. ``exclude`` maps lead ids to accounts
    not to offer them to in this run. Leads another run holds are skipped, not waited for.
    """
    if actor is not None:
        _require_internal(actor)
    now = now or timezone.now()
    with transaction.atomic():
        ids = lead_ids if isinstance(lead_ids, QuerySet) else list(lead_ids)
        leads = Lead.objects.filter(pk__in=ids, status__in=ASSIGNABLE)
        accounts = None
        if actor is not None:
            leads = leads.visible_to(actor)
            accounts = PartnerAccount.objects.visible_to(actor)
        # Oldest first: the lead waiting longest gets the first pick of partners.
        leads = list(leads.select_for_update(skip_locked=True).order_by("created_at", "pk"))
        decisions = routing.choose_partners(leads, accounts=accounts, exclude=exclude)
        _apply_routing(decisions, actor=actor, now=now)
    return decisions


def return_overdue_leads(*, now=None) -> int:
    """Leads not accepted in time go back to the pool and the assignment rules route them again
    in the same run, never to the partner that let them lapse (a set per run; running twice is a
    no-op: the routed leads have a new deadline). Returns how many leads were returned."""
    now = now or timezone.now()
    with transaction.atomic():
        overdue = list(
            Lead.objects.overdue(now)
            .select_for_update(skip_locked=True)
            .values_list("pk", "account_id")
        )
        if not overdue:
            return 0
        Lead.objects.filter(pk__in=[pk for pk, _ in overdue]).update(
            status=LeadStatus.NEW, account=None, accept_by=None, assignment_note="", updated_at=now
        )
        returned = LeadEvent.objects.bulk_create(
            LeadEvent(
                lead_id=pk,
                from_status=LeadStatus.ASSIGNED,
                to_status=LeadStatus.NEW,
                account_id=account_id,
                reason=routing.LAPSED_REASON,
                created_at=now,
            )
            for pk, account_id in overdue
        )
        route_leads(
            [pk for pk, _ in overdue],
            now=now,
            exclude={pk: {account_id} for pk, account_id in overdue},
        )
        from deals.tasks import notify_leads_returned

        enqueue(notify_leads_returned, [event.pk for event in returned])
        enqueue("analytics.refresh_account_scores", sorted({a for _, a in overdue if a}))
    return len(overdue)
