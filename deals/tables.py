"""The deals tables (leads, registrations, opportunities) and their CSV exports (which end with
the custom fields the viewer sees)."""

from __future__ import annotations

import django_tables2 as tables
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone
from django.utils.formats import date_format, number_format
from django.utils.html import format_html, format_html_join
from django.utils.timesince import timesince

from deals.models import (
    DealRegistration,
    Lead,
    LeadStatus,
    Opportunity,
    OpportunityStatus,
    RegistrationStatus,
)
from prm.customfields import CustomFieldsExportMixin
from prm.tables import PRMTable


def _when(value) -> str:
    return timezone.localtime(value).strftime("%Y-%m-%d %H:%M") if value else ""


class LeadTableBase(CustomFieldsExportMixin, PRMTable):
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
    route = tables.TemplateColumn(
        template_name="deals/partials/lead_route_cell.html",
        verbose_name="Routing",
        empty_values=(),
        orderable=False,
        exclude_from_export=True,
    )

    class Meta(LeadTableBase.Meta):
        sequence = (
            "company",
            "status",
            "account",
            "route",
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


# --- registrations ------------------------------------------------------------------------------

#: What a partner reads on a flagged registration: never whose record it collided with.
CONFLICT_NOTE = "Possible conflict — under review"


def _person(user) -> str:
    return (user.get_full_name() or user.email) if user is not None else ""


def _day(value) -> str:
    return date_format(value, "j M Y") if value else "—"


class RegistrationTableBase(CustomFieldsExportMixin, PRMTable):
    """Columns and CSV values of the registration lists (rows need ``account``, ``created_by``
    selected and ``lines__product`` prefetched)."""

    company = tables.Column(
        verbose_name="Customer", linkify=("deals:registration", {"pk": tables.A("pk")})
    )
    status = tables.Column()
    products = tables.Column(verbose_name="Products", empty_values=(), orderable=False)
    amount = tables.Column(
        verbose_name="Amount",
        attrs={"td": {"class": "text-end text-nowrap"}, "th": {"class": "text-end"}},
    )
    expected_close_date = tables.Column(verbose_name="Expected close")
    expires_on = tables.Column(verbose_name="Protected until")
    created_by = tables.Column(verbose_name="Registered by", order_by=("created_by__first_name",))
    created_at = tables.Column(verbose_name="Created")
    domain = tables.Column(visible=False)
    contact_name = tables.Column(verbose_name="Customer contact", visible=False)
    contact_email = tables.Column(verbose_name="Contact email", visible=False)
    contact_phone = tables.Column(verbose_name="Contact phone", visible=False)
    currency = tables.Column(visible=False)
    product_family = tables.Column(verbose_name="Product family", visible=False)
    stage = tables.Column(visible=False)
    competitors = tables.Column(visible=False)
    submitted_at = tables.Column(verbose_name="Submitted", visible=False)

    #: Internal users' tables link a conflict to the side-by-side view.
    conflict_link = False

    class Meta(PRMTable.Meta):
        model = DealRegistration
        fields = ()
        order_by = ("-created_at",)
        empty_text = "No registrations match these filters."

    def render_status(self, record):
        badge = format_html(
            '<span class="badge rounded-pill status-{}">{}</span>',
            "pending" if record.status == RegistrationStatus.RETURNED else record.status,
            record.get_status_display(),
        )
        if not (record.conflict and record.status == RegistrationStatus.SUBMITTED):
            return badge
        if self.conflict_link:
            return format_html(
                '{}<a class="d-block small text-danger-emphasis" href="{}">Possible conflict:'
                " compare</a>",
                badge,
                reverse("deals:registration_conflicts", args=[record.pk]),
            )
        return format_html(
            '{}<span class="d-block small text-warning-emphasis">{}</span>', badge, CONFLICT_NOTE
        )

    def render_products(self, record):
        lines = list(record.lines.all())
        if not lines:
            return "—"
        return format_html_join(
            "",
            '<span class="badge rounded-pill text-bg-light border fw-normal me-1">{} × {}</span>',
            ((line.quantity, line.product.name) for line in lines),
        )

    def render_amount(self, value, record):
        return f"{number_format(value, decimal_pos=0, force_grouping=True)} {record.currency}"

    def render_expected_close_date(self, value):
        return _day(value)

    def render_expires_on(self, value, record):
        if record.status != RegistrationStatus.APPROVED:
            return "—"
        return _day(value)

    def render_created_by(self, value):
        return _person(value)

    def render_created_at(self, value):
        return format_html(
            '<time datetime="{}">{}</time>',
            value.isoformat(),
            date_format(timezone.localtime(value), "j M Y"),
        )

    def value_status(self, record):
        label = record.get_status_display()
        if record.conflict and record.status == RegistrationStatus.SUBMITTED:
            return f"{label} ({CONFLICT_NOTE.lower()})"
        return label

    def value_products(self, record):
        return "; ".join(f"{line.quantity} × {line.product.name}" for line in record.lines.all())

    def value_amount(self, record):
        return str(record.amount)

    def value_expires_on(self, record):
        return str(record.expires_on) if record.expires_on else ""

    def value_created_by(self, record):
        return _person(record.created_by)

    def value_stage(self, record):
        return record.stage.name if record.stage_id else ""

    def value_created_at(self, record):
        return _when(record.created_at)

    def value_submitted_at(self, record):
        return _when(record.submitted_at)


class PartnerRegistrationTable(RegistrationTableBase):
    """A partner's registrations (their own, shared ones, and all of the account for admins)."""

    class Meta(RegistrationTableBase.Meta):
        sequence = (
            "company",
            "status",
            "products",
            "amount",
            "expected_close_date",
            "expires_on",
            "created_by",
            "created_at",
            "...",
        )


class RegistrationTable(RegistrationTableBase):
    """Partner managers and admins: every registration of their partners."""

    account = tables.Column(verbose_name="Partner", order_by=("account__name",))
    conflict_reasons = tables.Column(verbose_name="Why records matched", visible=False)
    conflict_link = True

    class Meta(RegistrationTableBase.Meta):
        sequence = (
            "company",
            "account",
            "status",
            "products",
            "amount",
            "expected_close_date",
            "expires_on",
            "created_at",
            "...",
        )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.columns.hide("created_by")

    def render_account(self, value):
        return value.name

    def value_account(self, record):
        return record.account.name


class ReviewQueueTable(RegistrationTable):
    """Submitted registrations in the order a manager should decide them: conflicts first,
    then the longest waiting."""

    submitted_at = tables.Column(verbose_name="Waiting since")

    class Meta(RegistrationTable.Meta):
        order_by = None
        orderable = False
        sequence = (
            "company",
            "account",
            "status",
            "submitted_at",
            "products",
            "amount",
            "expected_close_date",
            "...",
        )
        empty_text = "Nothing to review: every submitted registration has a decision."

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.columns.hide("expires_on")
        self.columns.hide("created_at")

    def render_submitted_at(self, value):
        return format_html(
            '<time datetime="{}" title="{}">{} ago</time>',
            value.isoformat(),
            date_format(timezone.localtime(value), "j M Y, H:i"),
            timesince(value),
        )


# --- opportunities ------------------------------------------------------------------------------


class OpportunityTable(CustomFieldsExportMixin, PRMTable):
    """The pipeline as a table (and its CSV): a partner's own, or a manager's partners' with the
    partner column. Hidden columns go to the export only."""

    name = tables.Column(
        verbose_name="Opportunity", linkify=("deals:opportunity", {"pk": tables.A("pk")})
    )
    account = tables.Column(verbose_name="Partner", order_by=("account__name",))
    stage = tables.Column(order_by=("stage__position",), attrs={"td": {"class": "text-nowrap"}})
    amount = tables.Column(
        attrs={"td": {"class": "text-end text-nowrap"}, "th": {"class": "text-end"}}
    )
    close_date = tables.Column(verbose_name="Close date", attrs={"td": {"class": "text-nowrap"}})
    status = tables.Column()
    owner = tables.Column(order_by=("owner__first_name", "owner__last_name"))
    next_step = tables.Column(verbose_name="Next step", orderable=False)
    company = tables.Column(verbose_name="Customer", visible=False)
    domain = tables.Column(visible=False)
    product_family = tables.Column(verbose_name="Product family", visible=False)
    currency = tables.Column(visible=False)
    probability = tables.Column(
        verbose_name="Probability (%)", accessor="stage__probability", visible=False
    )
    reason = tables.Column(verbose_name="Won/lost reason", visible=False)

    class Meta(PRMTable.Meta):
        model = Opportunity
        fields = ()
        sequence = (
            "name",
            "account",
            "stage",
            "amount",
            "close_date",
            "status",
            "owner",
            "next_step",
            "...",
        )
        order_by = ("close_date",)
        empty_text = "No opportunities match these filters."

    def render_name(self, value, record):
        return format_html(
            '<span class="fw-semibold">{}</span>{}',
            value,
            format_html('<div class="small text-body-secondary">{}</div>', record.company)
            if record.company and record.company not in value
            else "",
        )

    def render_account(self, value):
        return value.name

    def render_stage(self, value, record):
        return format_html(
            '{} <span class="small text-body-secondary">· {}%</span>', value.name, value.probability
        )

    def render_amount(self, value, record):
        return f"{number_format(value, decimal_pos=0, force_grouping=True)} {record.currency}"

    def render_close_date(self, value, record):
        overdue = record.status == OpportunityStatus.OPEN and value < timezone.localdate()
        return format_html(
            '<time datetime="{}"{}>{}</time>{}',
            value.isoformat(),
            format_html(' class="{}"', "text-danger") if overdue else "",
            date_format(value, "j M Y"),
            format_html('<span class="visually-hidden"> ({})</span>', "past due")
            if overdue
            else "",
        )

    def render_status(self, record):
        return format_html(
            '<span class="badge rounded-pill status-{}">{}</span>',
            record.status,
            record.get_status_display(),
        )

    def render_owner(self, value):
        return value.get_full_name() or value.email

    def value_name(self, record):
        return record.name

    def value_account(self, record):
        return record.account.name

    def value_stage(self, record):
        return record.stage.name

    def value_amount(self, record):
        return str(record.amount)

    def value_close_date(self, record):
        return record.close_date.isoformat()

    def value_owner(self, record):
        owner = record.owner
        return (owner.get_full_name() or owner.email) if owner else ""
