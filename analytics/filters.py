"""Filters of the manager dashboard and the ranked table: tier, region and (admins) manager."""

from __future__ import annotations

import django_filters
from django import forms
from django.http import QueryDict

from analytics.models import Alert, AlertCondition, PartnerScore
from partners.forms import manager_choices
from partners.models import PartnerAccount, Region, Tier
from prm.access import Role, role_of


def _person(user) -> str:
    return user.get_full_name() or user.email


class BookFilterMixin:
    """Tier and region for everyone; the manager choice for admins only (a manager's book is
    theirs: the parameter is dropped for them, not obeyed)."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if role_of(self.request.user) is Role.ADMIN:
            self.filters["manager"].queryset = manager_choices()
            self.filters["manager"].field.label_from_instance = _person
        else:
            del self.filters["manager"]


def _filters(prefix: str) -> dict:
    return {
        "tier": django_filters.ModelChoiceFilter(
            field_name=f"{prefix}tier",
            queryset=Tier.objects.order_by("-rank", "pk"),
            empty_label="Any tier",
            label="Tier",
        ),
        "region": django_filters.ChoiceFilter(
            field_name=f"{prefix}region",
            choices=Region.choices,
            empty_label="Any region",
            label="Region",
        ),
        "manager": django_filters.ModelChoiceFilter(
            field_name=f"{prefix}manager",
            queryset=PartnerAccount.objects.none(),
            empty_label="Any manager",
            label="Partner manager",
        ),
    }


_ACCOUNT = _filters("")
_SCORE = _filters("account__")


class BookFilter(BookFilterMixin, django_filters.FilterSet):
    """The partner accounts behind the dashboard's totals, forecast and charts."""

    tier = _ACCOUNT["tier"]
    region = _ACCOUNT["region"]
    manager = _ACCOUNT["manager"]

    class Meta:
        model = PartnerAccount
        fields = ["tier", "region", "manager"]


class RankingFilter(BookFilterMixin, django_filters.FilterSet):
    """The rows of the ranked table (one ``PartnerScore`` per partner in the quarter)."""

    tier = _SCORE["tier"]
    region = _SCORE["region"]
    manager = _SCORE["manager"]

    class Meta:
        model = PartnerScore
        fields = ["tier", "region", "manager"]


# --- alerts (issue 6) ---------------------------------------------------------------------------


class AlertFilter(django_filters.FilterSet):
    """The alerts page: what (the rule's condition), which partner, which state, since when.

    The default state is "open": not cleared, not acknowledged and not snoozed right now."""

    STATES = [
        ("open", "Open"),
        ("acknowledged", "Acknowledged"),
        ("snoozed", "Snoozed"),
        ("cleared", "Cleared"),
        ("all", "All"),
    ]

    state = django_filters.ChoiceFilter(
        choices=STATES, method="filter_state", empty_label=None, label="State"
    )
    condition = django_filters.ChoiceFilter(
        field_name="rule__condition",
        choices=AlertCondition.choices,
        empty_label="Any kind",
        label="Kind",
    )
    partner = django_filters.CharFilter(
        field_name="account__name", lookup_expr="icontains", label="Partner"
    )
    since = django_filters.DateFilter(
        field_name="raised_at",
        lookup_expr="date__gte",
        label="Raised since",
        widget=forms.DateInput(attrs={"type": "date"}),
    )

    class Meta:
        model = Alert
        fields = ["state", "condition", "partner", "since"]

    def __init__(self, data=None, *args, **kwargs):
        data = data.copy() if data is not None else QueryDict(mutable=True)
        if not data.get("state"):
            data["state"] = "open"
        super().__init__(data, *args, **kwargs)
        if role_of(self.request.user).is_partner:
            del self.filters["partner"]

    def filter_state(self, queryset, name, value):
        if value == "open":
            return queryset.needing_attention()
        if value == "acknowledged":
            return queryset.live().filter(acknowledged_at__isnull=False)
        if value == "snoozed":
            return queryset.snoozed()
        if value == "cleared":
            return queryset.filter(cleared_at__isnull=False)
        return queryset
