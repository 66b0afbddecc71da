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
from prm.customfields import add_custom_filters


class DealsFilterSet(django_filters.FilterSet):
    """Filters of a deals list. Partner users get only ``partner_filters`` (choosing a partner
    is the manager's); internal users choose among the partners they see. ``q`` searches
    ``search_fields`` (case-insensitive, any of them). The custom fields the user sees are
    filters too (``custom_<key>``)."""

    partner_filters: tuple[str, ...] = ("q", "status")
    search_fields: tuple[str, ...] = ()

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        user = self.request.user
        if role_of(user).is_partner:
            for name in set(self.filters) - set(self.partner_filters):
                del self.filters[name]
        elif "account" in self.filters:
            self.filters["account"].queryset = (
                PartnerAccount.objects.visible_to(user).only("pk", "name").order_by("name", "pk")
            )
        add_custom_filters(self, self._meta.model, user)

    def search(self, queryset, name, value):
        value = value.strip()
        if not value:
            return queryset
        matches = Q()
        for field in self.search_fields:
            matches |= Q(**{f"{field}__icontains": value})
        return queryset.filter(matches)


class LeadFilter(DealsFilterSet):
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

    search_fields = ("company", "domain", "customer_domain")

    class Meta:
        model = Lead
        fields = ["q", "status", "account", "region", "source"]


# --- registrations ------------------------------------------------------------------------------


class RegistrationFilter(DealsFilterSet):
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

    partner_filters = ("q", "status", "conflict", "product_family")
    search_fields = ("company", "domain", "customer_domain", "contact_name", "contact_email")

    class Meta:
        model = DealRegistration
        fields = ["q", "status", "conflict", "product_family", "account"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        families = (
            Product.objects.visible_to(self.request.user)
            .order_by("family")
            .values_list("family", flat=True)
            .distinct()
        )
        if "product_family" in self.filters:
            self.filters["product_family"].extra["choices"] = [(f, f) for f in families]


class ReviewQueueFilter(RegistrationFilter):
    """The review queue holds submitted registrations only: no status filter."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.filters.pop("status", None)


# --- opportunities ------------------------------------------------------------------------------


class OpportunityFilter(DealsFilterSet):
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

    partner_filters = ("q", "status", "stage", "close_after", "close_before")
    search_fields = ("name", "company", "customer_domain", "next_step")

    class Meta:
        model = Opportunity
        fields = ["q", "status", "stage", "account", "close_after", "close_before"]

    def __init__(self, *args, board=False, **kwargs):
        super().__init__(*args, **kwargs)
        user = self.request.user
        if board:  # the board is the open pipeline, a column per stage
            for name in ("status", "stage"):
                self.filters.pop(name, None)
        else:
            self.filters["stage"].queryset = PipelineStage.objects.visible_to(user).order_by(
                "position", "pk"
            )
