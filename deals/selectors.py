"""Reads of deals data that are more than one filter: list and detail querysets, histories, the
registration pre-check and conflicts, the review queue, pipeline totals and the board."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from django.db.models import Case, F, IntegerField, Value, When
from django.utils import dateformat

from deals.models import (
    CustomerKey,
    DealRegistration,
    Lead,
    LeadEvent,
    LeadStatus,
    RegistrationEvent,
    RegistrationStatus,
)
from prm.access import role_of


def lead_queryset():
    """Leads with what every lead page shows, so that no row costs a query of its own."""
    return Lead.objects.select_related("account").prefetch_related("products")


def lead_history(lead: Lead, user):
    """The steps of ``lead`` the user may see, oldest first (a partner sees only their own)."""
    return (
        LeadEvent.objects.visible_to(user)
        .filter(lead=lead)
        .select_related("actor", "account")
        .order_by("created_at", "pk")
    )


def waiting_first(leads):
    """Leads waiting for the partner's answer first, the soonest due on top; then the newest."""
    return leads.annotate(
        waiting=Case(
            When(status=LeadStatus.ASSIGNED, then=Value(0)),
            default=Value(1),
            output_field=IntegerField(),
        ),
        due=Case(When(status=LeadStatus.ASSIGNED, then=F("accept_by"))),
    ).order_by("waiting", "due", "-created_at", "-pk")


# --- opportunities and the pipeline -----------------------------------------------------------

#: Cards per board column: the board stays bounded; the table lists the rest.
BOARD_COLUMN_CARDS = 50


def opportunity_queryset():
    """Opportunities with what every pipeline page shows, so that no row costs a query."""
    from deals.models import Opportunity

    return Opportunity.objects.select_related("stage", "account", "owner")


def opportunity_history(opportunity, user):
    """The steps of ``opportunity`` (stage moves, the close), oldest first."""
    from deals.models import OpportunityEvent

    return (
        OpportunityEvent.objects.visible_to(user)
        .filter(opportunity=opportunity)
        .select_related("actor")
        .order_by("created_at", "pk")
    )


def pipeline_summary(opportunities) -> dict:
    """Open count, open amount, weighted amount (amount × stage probability) and won amount of
    ``opportunities``, in one aggregate query. ``currency`` is set when they share one."""
    from django.db.models import Count, DecimalField, ExpressionWrapper, Max, Q, Sum

    from deals.models import OpportunityStatus

    is_open = Q(status=OpportunityStatus.OPEN)
    money = DecimalField(max_digits=20, decimal_places=2)
    totals = opportunities.order_by().aggregate(
        open_count=Count("pk", filter=is_open),
        open_amount=Sum("amount", filter=is_open),
        weighted_x100=Sum(
            ExpressionWrapper(F("amount") * F("stage__probability"), output_field=money),
            filter=is_open,
        ),
        won_amount=Sum("amount", filter=Q(status=OpportunityStatus.WON)),
        currencies=Count("currency", distinct=True),
        currency=Max("currency"),
    )
    weighted = totals.pop("weighted_x100")
    totals["weighted_amount"] = (weighted or 0) / 100
    totals["open_amount"] = totals["open_amount"] or 0
    totals["won_amount"] = totals["won_amount"] or 0
    if totals.pop("currencies") != 1:
        totals["currency"] = ""
    return totals


def pipeline_board(opportunities, *, per_column: int = BOARD_COLUMN_CARDS) -> list[dict]:
    """The open ``opportunities`` by active stage: each column's stage, count, amount and its
    first ``per_column`` cards (soonest close first). Three queries whatever the size: the
    stages, the column totals, and the cards (numbered per stage by a window function)."""
    from django.db.models import Count, Sum, Window
    from django.db.models.functions import RowNumber

    from deals.models import PipelineStage

    stages = list(PipelineStage.objects.filter(active=True).order_by("position", "pk"))
    open_rows = opportunities.open().filter(stage__active=True)
    totals = {
        row["stage"]: row
        for row in open_rows.order_by()
        .values("stage")
        .annotate(count=Count("pk"), amount=Sum("amount"))
    }
    cards = (
        open_rows.annotate(
            place=Window(
                RowNumber(),
                partition_by=[F("stage_id")],
                order_by=[F("close_date").asc(), F("pk").asc()],
            )
        )
        .filter(place__lte=per_column)
        .order_by("close_date", "pk")
    )
    by_stage: dict[int, list] = {stage.pk: [] for stage in stages}
    for card in cards:
        by_stage.setdefault(card.stage_id, []).append(card)
    columns = []
    for index, stage in enumerate(stages):
        total = totals.get(stage.pk, {})
        count = total.get("count", 0)
        columns.append(
            {
                "stage": stage,
                "cards": by_stage[stage.pk],
                "count": count,
                "amount": total.get("amount") or 0,
                "more": max(count - per_column, 0),
                "previous": stages[index - 1] if index else None,
                "next": stages[index + 1] if index + 1 < len(stages) else None,
            }
        )
    return columns


# --- registrations ------------------------------------------------------------------------------


@dataclass(frozen=True)
class PrecheckResult:
    """What a partner learns before registering: never who holds the customer."""

    state: str  # "open" | "under_review" | "registered"
    until: date | None
    message: str


@dataclass(frozen=True)
class ConflictMatch:
    """Another partner's record naming the same customer, and why (for managers only)."""

    kind: str  # "registration" | "opportunity"
    record: object
    reasons: list[str]


def precheck_customer(user, company: str, domain: str) -> PrecheckResult:
    """Is this customer open, under review or registered? Looks at every partner's claiming
    registrations and open opportunities (the one read not scoped by ``visible_to``, by design)
    and returns nothing that identifies them."""
    from deals.services.registrations import (
        claiming_registrations,
        find_customer_matches,
        open_opportunities,
    )

    if not getattr(user, "is_authenticated", False):
        return PrecheckResult("open", None, "Sign in to check a customer.")
    key = CustomerKey.of(company or "", domain or "")
    if not key.name and not key.domain:
        return PrecheckResult("open", None, "Type a company name or a domain to check.")
    fields = ("pk", "status", "expires_on", "customer_name_key", "customer_domain")
    claims = claiming_registrations().only(*fields)
    registrations = [record for record, _ in find_customer_matches(key, claims)]
    approved = [r.expires_on for r in registrations if r.status == RegistrationStatus.APPROVED]
    if approved:
        until = max(approved)
        return PrecheckResult(
            "registered",
            until,
            f"Already registered until {dateformat.format(until, 'j F Y')}.",
        )
    opportunities = find_customer_matches(
        key, open_opportunities().only("pk", "customer_name_key", "customer_domain")
    )
    if opportunities:
        return PrecheckResult(
            "registered", None, "Already registered: a deal with this customer is in progress."
        )
    if registrations:
        return PrecheckResult(
            "under_review", None, "Under review: a registration for this customer is pending."
        )
    return PrecheckResult("open", None, "Open: nobody has registered this customer.")


def registration_conflicts(registration: DealRegistration, user) -> list[ConflictMatch]:
    """Other partners' registrations under review or approved, and their open opportunities,
    that name the same customer, with the reasons; for the internal users who see the
    registration (anyone else gets [])."""
    from deals.services.registrations import (
        claiming_registrations,
        find_customer_matches,
        open_opportunities,
    )

    if not role_of(user).is_internal:
        return []
    if not DealRegistration.objects.visible_to(user).filter(pk=registration.pk).exists():
        return []
    key = registration.customer_key
    others = (
        claiming_registrations()
        .exclude(account_id=registration.account_id)
        .exclude(pk=registration.pk)
        .select_related("account", "created_by", "stage")
        .order_by("submitted_at", "pk")
    )
    matches = [
        ConflictMatch("registration", record, reasons)
        for record, reasons in find_customer_matches(key, others)
    ]
    opportunities = (
        open_opportunities()
        .exclude(account_id=registration.account_id)
        .select_related("account", "owner", "stage")
        .order_by("created_at", "pk")
    )
    matches += [
        ConflictMatch("opportunity", record, reasons)
        for record, reasons in find_customer_matches(key, opportunities)
    ]
    return matches


def review_queue(user):
    """Registrations under review that the user sees: conflicts first, then the oldest."""
    return (
        DealRegistration.objects.visible_to(user)
        .filter(status=RegistrationStatus.SUBMITTED)
        .select_related("account", "created_by", "stage")
        .order_by("-conflict", "submitted_at", "pk")
    )


def registration_history(registration: DealRegistration, user):
    """The steps of ``registration`` the user may see, oldest first."""
    return (
        RegistrationEvent.objects.visible_to(user)
        .filter(registration=registration)
        .select_related("actor")
        .order_by("created_at", "pk")
    )
