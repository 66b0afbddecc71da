"""Filters of the partner list: search, tier, status, region, manager, custom fields."""

import django_filters
from django.db.models import Q

from partners.forms import manager_choices
from partners.models import AccountStatus, Industry, PartnerAccount, Region, Tier
from prm.customfields import add_custom_filters


class PartnerAccountFilter(django_filters.FilterSet):
    q = django_filters.CharFilter(method="search", label="Search")
    tier = django_filters.ModelChoiceFilter(queryset=Tier.objects.all(), empty_label="Any tier")
    status = django_filters.ChoiceFilter(choices=AccountStatus.choices, empty_label="Any status")
    region = django_filters.ChoiceFilter(choices=Region.choices, empty_label="Any region")
    industry = django_filters.ChoiceFilter(choices=Industry.choices, empty_label="Any industry")
    manager = django_filters.ModelChoiceFilter(
        queryset=None, empty_label="Any manager", label="Partner manager"
    )

    class Meta:
        model = PartnerAccount
        fields = ["q", "tier", "status", "region", "industry", "manager"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.filters["manager"].queryset = manager_choices()
        self.filters["manager"].field.label_from_instance = lambda u: u.get_full_name() or u.email
        add_custom_filters(self, PartnerAccount, self.request.user)

    def search(self, queryset, name, value):
        value = value.strip()
        if not value:
            return queryset
        return queryset.filter(
            Q(name__icontains=value) | Q(domain__icontains=value) | Q(country__icontains=value)
        )
