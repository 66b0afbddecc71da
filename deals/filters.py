"""Filters of the lead list: search, status, assigned partner, region, source."""

import django_filters
from django.db.models import Q

from deals.models import Lead, LeadSource, LeadStatus
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
