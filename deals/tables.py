"""The lead list tables: the manager's pool and partners' leads (also their CSV exports)."""

from __future__ import annotations

import django_tables2 as tables
from django.template.loader import render_to_string
from django.utils import timezone
from django.utils.formats import date_format, number_format
from django.utils.html import format_html

from deals.models import Lead, LeadStatus
from prm.tables import PRMTable


def _when(value) -> str:
    return timezone.localtime(value).strftime("%Y-%m-%d %H:%M") if value else ""


class LeadTableBase(PRMTable):
    """Columns and CSV values both lists share; hidden columns go to the export only."""

    company = tables.Column(linkify=("deals:lead", {"pk": tables.A("pk")}))
    products = tables.ManyToManyColumn(
        verbose_name="Products", transform=lambda p: p.name, orderable=False
    )
    estimated_value = tables.Column(
        verbose_name="Value",
        attrs={"td": {"class": "text-end text-nowrap"}, "th": {"class": "text-end"}},
    )
    status = tables.Column()
    accept_by = tables.Column(verbose_name="Accept by")
    domain = tables.Column(visible=False)
    contact_name = tables.Column(verbose_name="Contact", visible=False)
    contact_email = tables.Column(verbose_name="Contact email", visible=False)
    contact_phone = tables.Column(verbose_name="Contact phone", visible=False)
    country = tables.Column(visible=False)
    source = tables.Column()
    created_at = tables.Column(verbose_name="Created")

    currency = tables.Column(visible=False)

    class Meta(PRMTable.Meta):
        model = Lead
        fields = ()  # the declared columns only, not every model field
        order_by = ("-created_at",)

    def render_estimated_value(self, value, record):
        return f"{number_format(value, decimal_pos=0, force_grouping=True)} {record.currency}"

    def render_status(self, record):
        return format_html(
            '<span class="badge rounded-pill status-{}">{}</span>',
            record.status,
            record.get_status_display(),
        )

    def render_accept_by(self, value, record):
        if record.status != LeadStatus.ASSIGNED:
            return "—"
        return render_to_string("deals/partials/deadline.html", {"lead": record})

    def render_created_at(self, value):
        return format_html(
            '<time datetime="{}">{}</time>',
            value.isoformat(),
            date_format(timezone.localtime(value), "j M Y"),
        )

    def value_products(self, record):
        return ", ".join(p.name for p in record.products.all())

    def value_estimated_value(self, record):
        return "" if record.estimated_value is None else str(record.estimated_value)

    def value_accept_by(self, record):
        return _when(record.accept_by) if record.status == LeadStatus.ASSIGNED else ""

    def value_created_at(self, record):
        return _when(record.created_at)


class LeadTable(LeadTableBase):
    """What partner managers and admins see: the pool and their partners' leads."""

    account = tables.Column(verbose_name="Assigned partner", order_by=("account__name",))
    region = tables.Column()
    reason = tables.Column(verbose_name="Reason (rejected or lost)", visible=False)

    class Meta(LeadTableBase.Meta):
        sequence = (
            "company",
            "status",
            "account",
            "accept_by",
            "products",
            "estimated_value",
            "region",
            "source",
            "created_at",
            "...",
        )
        empty_text = "No leads match these filters."

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.columns.hide("products")  # in the CSV; on the page it made every row tall

    def render_account(self, value):
        return value.name

    def value_account(self, record):
        return record.account.name if record.account_id else ""


class PartnerLeadTable(LeadTableBase):
    """What a partner's people see of their leads. Its HTML rows are
    ``deals/partials/lead_row.html`` (they carry the Accept / Reject forms); the columns here
    give the headers, the sorting and the CSV export."""

    actions = tables.Column(
        empty_values=(), orderable=False, exclude_from_export=True, verbose_name="Actions"
    )

    class Meta(LeadTableBase.Meta):
        sequence = (
            "company",
            "products",
            "estimated_value",
            "status",
            "accept_by",
            "actions",
            "...",
        )
        order_by = None  # the view's order: leads waiting for an answer first, soonest due
        empty_text = "No leads match these filters."

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # Listed in the CSV, not on the page: the page has the Accept / Reject forms instead.
        self.columns.hide("source")
        self.columns.hide("created_at")
