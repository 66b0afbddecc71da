"""The ranked table of partners: one row per partner's kept scores of a quarter, a column per
KPI, sortable by any column in SQL (partners without a value last), with a CSV export."""

from __future__ import annotations

from itertools import count

import django_tables2 as tables
from django.conf import settings
from django.db.models import F
from django.urls import NoReverseMatch, reverse
from django.utils.html import format_html

from analytics.models import KpiCode, KpiUnit, PartnerScore
from analytics.selectors.scorecard import format_kpi
from prm.tables import PRMTable

#: What a KPI column's header adds to the label, by unit (the cells then show bare numbers).
UNIT_SUFFIX = {
    KpiUnit.MONEY: f" ({settings.PRM_REPORTING_CURRENCY})",
    KpiUnit.PERCENT: " (%)",
    KpiUnit.HOURS: " (hours)",
    KpiUnit.DAYS: " (days)",
}
NUMBER = {"td": {"class": "text-end text-nowrap"}, "th": {"class": "text-end text-nowrap"}}


class SortedColumn(tables.Column):
    """Sorts in SQL by ``sort_fields`` with empty values last either way, then by partner
    name and pk (a unique tie-breaker for the database pagination)."""

    def __init__(self, *args, sort_fields=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.sort_fields = sort_fields

    def order(self, queryset, is_descending):
        fields = self.sort_fields or [str(self.accessor).replace(".", "__")]
        ordering = [
            F(name).desc(nulls_last=True) if is_descending else F(name).asc(nulls_last=True)
            for name in fields
        ]
        return queryset.order_by(*ordering, "account__name", "pk"), True


class KpiColumn(SortedColumn):
    """One KPI: the header is its label in admin, the cell its value formatted by unit."""

    def __init__(self, definition, **kwargs):
        self.unit = definition.unit
        super().__init__(
            accessor=definition.code,
            verbose_name=f"{definition.label}{UNIT_SUFFIX.get(definition.unit, '')}",
            attrs=NUMBER,
            **kwargs,
        )

    def render(self, value):
        return format_kpi(value, self.unit)


class RankingTable(PRMTable):
    rank = tables.Column(
        verbose_name="#", empty_values=(), orderable=False, attrs={"td": {"class": "text-end"}}
    )
    account = SortedColumn(
        verbose_name="Partner", accessor="account__name", sort_fields=["account__name"]
    )
    tier = SortedColumn(
        verbose_name="Tier",
        accessor="account__tier__name",
        sort_fields=["account__tier__rank"],
        default="—",
    )
    region = SortedColumn(verbose_name="Region", accessor="account__region", default="—")
    manager = SortedColumn(
        verbose_name="Partner manager",
        accessor="account__manager",
        sort_fields=["account__manager__first_name", "account__manager__last_name"],
        default="—",
    )
    goals_behind = SortedColumn(verbose_name="Goals behind pace", attrs=NUMBER)
    computed_at = tables.DateTimeColumn(verbose_name="Computed at", visible=False)

    class Meta(PRMTable.Meta):
        model = PartnerScore
        fields = ()
        sequence = ("rank", "account", "tier", "region", "manager", "...", "goals_behind")
        order_by = ("-health_score",)
        empty_text = "No partners match these filters."
        attrs = {**PRMTable.Meta.attrs, "class": PRMTable.Meta.attrs["class"] + " ranking-table"}

    def __init__(self, *args, definitions, lead: str = KpiCode.HEALTH_SCORE, **kwargs):
        """``definitions``: the KPI definitions in display order (a column each); the ``lead``
        KPI (the one ranked by) comes first, next to the partner, where it is seen."""
        ordered = sorted(definitions, key=lambda d: d.code != lead)
        extra = [(d.code, KpiColumn(d)) for d in ordered if d.code in KpiCode.values]
        super().__init__(*args, extra_columns=extra, **kwargs)

    # the rank is the row's place in the current order, counted across pages

    def render_rank(self):
        if not hasattr(self, "_rank"):
            page = getattr(self, "page", None)
            start = (page.number - 1) * self.paginator.per_page + 1 if page else 1
            self._rank = count(start)
        return next(self._rank)

    def value_rank(self, record):
        if not hasattr(self, "_export_rank"):
            self._export_rank = count(1)
        return next(self._export_rank)

    def render_account(self, value, record):
        try:
            url = reverse("analytics:account_scorecard", args=[record.account_id])
        except NoReverseMatch:  # the scorecard page is not installed
            return value
        return format_html('<a href="{}">{}</a>', url, value)

    def render_region(self, record):
        return record.account.get_region_display()

    def render_manager(self, value):
        return value.get_full_name() or value.email

    def value_manager(self, record):
        user = record.account.manager
        return (user.get_full_name() or user.email) if user else ""

    def value_tier(self, record):
        return record.account.tier.name if record.account.tier_id else ""
