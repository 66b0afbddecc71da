"""Template helpers of the lead pages: how close a lead's acceptance deadline is."""

from __future__ import annotations

from datetime import timedelta

from django import template
from django.utils import timezone

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
