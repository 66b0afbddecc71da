"""Filters of the deals lists: leads, registrations, opportunities."""

import django_filters
from django import forms
from django.db.models import Q

from deals.models import (
    DealRegistration,
    Lead,
    LeadSource,
    LeadStatus,
    Opportunity,
    OpportunityStatus,
    PipelineStage,
    Product,
    RegistrationStatus,
)
from partners.models import PartnerAccount, Region
from prm.access import role_of

#: What partner users filter by: the partner and routing filters are the manager's.
PARTNER_FILTERS = ("q", "status")


class LeadFilter(django_filters.FilterSet):
    q = django_filters.CharFilter(method="search", label="Search")
    status = django_filters.ChoiceFilter(choices=LeadStatus.choices, empty_label="Any status")
    account = django_filters.ModelChoiceFilter(
        queryset=PartnerAccount.objects.none(),
        empty_label="Any partner",
        null_label="Nobody (in the pool)",
        label="Assigned partner",
    )
    region = django_filters.ChoiceFilter(choices=Region.choices, empty_label="Any region")
    source = django_filters.ChoiceFilter(choices=LeadSource.choices, empty_label="Any source")

    class Meta:
        model = Lead
        fields = ["q", "status", "account", "region", "source"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        user = self.request.user
        if role_of(user).is_partner:
            for name in set(self.filters) - set(PARTNER_FILTERS):
                del self.filters[name]
        else:
            self.filters["account"].queryset = (
                PartnerAccount.objects.visible_to(user).only("pk", "name").order_by("name", "pk")
            )

    def search(self, queryset, name, value):
        value = value.strip()
        if not value:
            return queryset
        return queryset.filter(
            Q(company__icontains=value)
            | Q(domain__icontains=value)
            | Q(customer_domain__icontains=value)
        )


# --- registrations ------------------------------------------------------------------------------

#: What partner users filter their registrations by: the partner filter is the manager's.
REGISTRATION_PARTNER_FILTERS = ("q", "status", "conflict", "product_family")


class RegistrationFilter(django_filters.FilterSet):
    q = django_filters.CharFilter(method="search", label="Search")
    status = django_filters.ChoiceFilter(
        choices=RegistrationStatus.choices, empty_label="Any status"
    )
    conflict = django_filters.BooleanFilter(
        label="Conflict",
        widget=forms.Select(
            choices=[("", "Any"), ("true", "Possible conflict"), ("false", "No conflict")]
        ),
    )
    product_family = django_filters.ChoiceFilter(
        label="Product family", choices=[], empty_label="Any family"
    )
    account = django_filters.ModelChoiceFilter(
        queryset=PartnerAccount.objects.none(), empty_label="Any partner", label="Partner"
    )

    class Meta:
        model = DealRegistration
        fields = ["q", "status", "conflict", "product_family", "account"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        user = self.request.user
        families = (
            Product.objects.visible_to(user)
            .order_by("family")
            .values_list("family", flat=True)
            .distinct()
        )
        self.filters["product_family"].extra["choices"] = [(f, f) for f in families]
        if role_of(user).is_partner:
            for name in set(self.filters) - set(REGISTRATION_PARTNER_FILTERS):
                del self.filters[name]
        else:
            self.filters["account"].queryset = (
                PartnerAccount.objects.visible_to(user).only("pk", "name").order_by("name", "pk")
            )

    def search(self, queryset, name, value):
        value = value.strip()
        if not value:
            return queryset
        return queryset.filter(
            Q(company__icontains=value)
            | Q(domain__icontains=value)
            | Q(customer_domain__icontains=value)
            | Q(contact_name__icontains=value)
            | Q(contact_email__icontains=value)
        )


class ReviewQueueFilter(RegistrationFilter):
    """The review queue holds submitted registrations only: no status filter."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.filters.pop("status", None)


# --- opportunities ------------------------------------------------------------------------------

#: What partner users filter their pipeline by: the partner filter is the manager's.
OPPORTUNITY_PARTNER_FILTERS = ("q", "status", "stage", "close_after", "close_before")


class OpportunityFilter(django_filters.FilterSet):
    q = django_filters.CharFilter(method="search", label="Search")
    status = django_filters.ChoiceFilter(
        choices=OpportunityStatus.choices, empty_label="Any status"
    )
    stage = django_filters.ModelChoiceFilter(
        queryset=PipelineStage.objects.order_by("position", "pk"), empty_label="Any stage"
    )
    account = django_filters.ModelChoiceFilter(
        queryset=PartnerAccount.objects.none(), empty_label="Any partner", label="Partner"
    )
    close_after = django_filters.DateFilter(
        field_name="close_date",
        lookup_expr="gte",
        label="Closes from",
        widget=forms.DateInput(attrs={"type": "date"}),
    )
    close_before = django_filters.DateFilter(
        field_name="close_date",
        lookup_expr="lte",
        label="Closes by",
        widget=forms.DateInput(attrs={"type": "date"}),
    )

    class Meta:
        model = Opportunity
        fields = ["q", "status", "stage", "account", "close_after", "close_before"]

    def __init__(self, *args, board=False, **kwargs):
        super().__init__(*args, **kwargs)
        user = self.request.user
        if role_of(user).is_partner:
            for name in set(self.filters) - set(OPPORTUNITY_PARTNER_FILTERS):
                del self.filters[name]
        else:
            self.filters["account"].queryset = (
                PartnerAccount.objects.visible_to(user).only("pk", "name").order_by("name", "pk")
            )
        if board:  # the board is the open pipeline, a column per stage
            for name in ("status", "stage"):
                self.filters.pop(name, None)
        else:
            self.filters["stage"].queryset = PipelineStage.objects.visible_to(user).order_by(
                "position", "pk"
            )

    def search(self, queryset, name, value):
        value = value.strip()
        if not value:
            return queryset
        return queryset.filter(
            Q(name__icontains=value)
            | Q(company__icontains=value)
            | Q(customer_domain__icontains=value)
            | Q(next_step__icontains=value)
        )
