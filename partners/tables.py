"""The partner list table; its CSV export ends with the custom fields the viewer sees."""

import django_tables2 as tables
from django.utils.html import format_html

from partners.models import PartnerAccount
from prm.customfields import CustomFieldsExportMixin
from prm.tables import PRMTable


class PartnerAccountTable(CustomFieldsExportMixin, PRMTable):
    name = tables.Column(
        linkify=("partners:partner", {"pk": tables.A("pk")}), verbose_name="Partner"
    )
    tier = tables.Column(order_by=("tier__rank",))
    status = tables.Column()
    region = tables.Column()
    country = tables.Column()
    manager = tables.Column(
        verbose_name="Partner manager", order_by=("manager__first_name", "manager__last_name")
    )
    parent = tables.Column(verbose_name="Parent account", order_by=("parent__name",))
    partner_since = tables.DateColumn(format="j M Y")

    class Meta(PRMTable.Meta):
        model = PartnerAccount
        fields = [
            "name",
            "tier",
            "status",
            "region",
            "country",
            "manager",
            "parent",
            "partner_since",
        ]
        order_by = ("name",)
        empty_text = "No partners match these filters."

    def render_status(self, record):
        return format_html(
            '<span class="badge rounded-pill status-{}">{}</span>',
            record.status,
            record.get_status_display(),
        )

    def value_status(self, record):
        return record.get_status_display()
