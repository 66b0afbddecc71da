"""Template helpers of the deals pages: deadlines, and the sub-navigation of the Deals tab."""

from __future__ import annotations

from datetime import timedelta

from django import template
from django.urls import NoReverseMatch, reverse
from django.utils import timezone

from prm.access import role_of

register = template.Library()

#: A deadline closer than this is highlighted: the partner should act today.
SOON = timedelta(hours=24)


@register.filter
def deadline_state(accept_by) -> str:
    """ "overdue", "soon" (less than 24 hours left) or "" for a deadline further away."""
    if accept_by is None:
        return ""
    left = accept_by - timezone.now()
    if left <= timedelta(0):
        return "overdue"
    return "soon" if left < SOON else ""


#: The Deals tab's sections, for partners and for internal users: (label, URL name).
PARTNER_SECTIONS = [
    ("My registrations", "deals:registration_list"),
    ("Register a deal", "deals:registration_add"),
    ("Pipeline", "deals:opportunity_list"),
    ("Board", "deals:opportunity_board"),
]
INTERNAL_SECTIONS = [
    ("Review queue", "deals:review_queue"),
    ("All registrations", "deals:registration_list"),
    ("Pipeline", "deals:opportunity_list"),
    ("Board", "deals:opportunity_board"),
]


@register.inclusion_tag("deals/partials/deals_nav.html", takes_context=True)
def deals_nav(context):
    """Links between the Deals pages; ``request.path`` marks the current one."""
    request = context["request"]
    sections = PARTNER_SECTIONS if role_of(request.user).is_partner else INTERNAL_SECTIONS
    items = []
    for label, name in sections:
        try:
            url = reverse(name)
        except NoReverseMatch:  # a section whose page is not there does not show
            continue
        items.append({"label": label, "url": url, "active": request.path == url})
    return {"items": items}
