"""Reads of leads that are more than one filter: the list and detail querysets, a lead's history."""

from __future__ import annotations

from django.db.models import Case, F, IntegerField, Value, When

from deals.models import Lead, LeadEvent, LeadStatus


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
