"""Filters of the training app: the managers' training status."""

from __future__ import annotations

from datetime import timedelta

import django_filters
from django.db.models import Exists, OuterRef, Q
from django.utils import timezone

from partners.models import Contact, PartnerAccount, Tier
from training.models import Certificate, Course

#: Certificates expiring within this many days count as "expiring soon".
EXPIRING_DAYS = 30

STATUS_CHOICES = [
    ("certified", "Holds a valid certificate"),
    ("expiring", f"Certificate expiring within {EXPIRING_DAYS} days"),
    ("uncertified", "No valid certificate"),
    ("overdue", "Required training not completed"),
]


class TrainingStatusFilter(django_filters.FilterSet):
    q = django_filters.CharFilter(method="search", label="Search")
    status = django_filters.ChoiceFilter(
        choices=STATUS_CHOICES,
        method="filter_status",
        empty_label="Any training status",
        label="Training status",
    )
    product_family = django_filters.ChoiceFilter(
        choices=(), method="filter_family", empty_label="Any product family", label="Certified in"
    )
    account = django_filters.ModelChoiceFilter(
        queryset=PartnerAccount.objects.none(), empty_label="Any partner", label="Partner"
    )
    tier = django_filters.ModelChoiceFilter(
        field_name="account__tier",
        queryset=Tier.objects.none(),
        empty_label="Any tier",
        label="Tier",
    )

    class Meta:
        model = Contact
        fields = ["q", "status", "product_family", "account", "tier"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        user = self.request.user
        self.filters["account"].queryset = (
            PartnerAccount.objects.visible_to(user).only("pk", "name").order_by("name", "pk")
        )
        self.filters["tier"].queryset = Tier.objects.visible_to(user).order_by("rank", "pk")
        families = (
            Course.objects.filter(is_certification=True)
            .exclude(product_family="")
            .values_list("product_family", flat=True)
            .distinct()
            .order_by("product_family")
        )
        self.filters["product_family"].extra["choices"] = [(f, f) for f in families]

    def search(self, queryset, name, value):
        value = value.strip()
        if not value:
            return queryset
        return queryset.filter(
            Q(first_name__icontains=value)
            | Q(last_name__icontains=value)
            | Q(email__icontains=value)
            | Q(account__name__icontains=value)
        )

    def filter_status(self, queryset, name, value):
        today = timezone.localdate()
        if value == "certified":
            return queryset.filter(next_expiry__isnull=False)
        if value == "expiring":
            return queryset.filter(next_expiry__lte=today + timedelta(days=EXPIRING_DAYS))
        if value == "uncertified":
            return queryset.filter(next_expiry__isnull=True)
        if value == "overdue":
            return queryset.filter(required_overdue=True)
        return queryset

    def filter_family(self, queryset, name, value):
        if not value:
            return queryset
        held = Certificate.objects.filter(
            user=OuterRef("user"),
            product_family=value,
            revoked_at__isnull=True,
            expires_on__gte=timezone.localdate(),
        )
        return queryset.filter(Exists(held))
