"""Tables of the training app: the managers' training status (and its CSV export)."""

from __future__ import annotations

from datetime import timedelta

import django_tables2 as tables
from django.utils.formats import date_format
from django.utils.html import format_html, format_html_join

from partners.models import Contact
from prm.tables import PRMTable

#: Certificates expiring within this many days are flagged (the reminder's window).
EXPIRING_DAYS = 30


def _required_missing(record) -> list:
    tier = record.account.tier
    if tier is None:
        return []
    done = {e.course_id for e in record.user.completed_enrollments}
    return [c for c in tier.published_required_courses if c.pk not in done]


class TrainingStatusTable(PRMTable):
    """One row per partner person: certificates (with expiry), next expiry, required training."""

    person = tables.Column(
        verbose_name="Person", accessor="last_name", order_by=("last_name", "first_name")
    )
    email = tables.Column(visible=False)
    account = tables.Column(
        verbose_name="Company",
        linkify=("partners:partner", {"pk": tables.A("account_id")}),
        order_by=("account__name",),
    )
    tier = tables.Column(accessor="account__tier__name", verbose_name="Tier", default="—")
    certificates = tables.Column(
        verbose_name="Certified in", accessor="pk", orderable=False, empty_values=()
    )
    next_expiry = tables.Column(verbose_name="Next expiry", empty_values=())
    required = tables.Column(
        verbose_name="Required training", accessor="required_overdue", empty_values=()
    )

    class Meta(PRMTable.Meta):
        model = Contact
        fields = ()
        order_by = ("account", "person")
        attrs = {**PRMTable.Meta.attrs, "class": PRMTable.Meta.attrs["class"] + " status-table"}

    def __init__(self, *args, today, **kwargs):
        super().__init__(*args, **kwargs)
        self.today = today
        self.soon = today + timedelta(days=EXPIRING_DAYS)

    # --- page -------------------------------------------------------------------------------

    def render_person(self, record):
        return format_html(
            '<div class="fw-semibold">{} {}</div><div class="small text-body-secondary">{}</div>',
            record.first_name,
            record.last_name,
            record.email,
        )

    def render_certificates(self, record):
        certificates = record.user.valid_certificates
        if not certificates:
            return format_html('<span class="text-body-secondary">{}</span>', "No certificate")
        return format_html_join(
            "",
            '<a class="badge rounded-pill {} text-decoration-none me-1 mb-1" href="{}" '
            'title="{} · expires {}">{}</a>',
            (
                (
                    "status-expiring" if c.expires_on <= self.soon else "status-active",
                    _url(c),
                    c.number,
                    date_format(c.expires_on, "j M Y"),
                    c.product_family or c.course.title,
                )
                for c in certificates
            ),
        )

    def render_next_expiry(self, value):
        if value is None:
            return "—"
        label = date_format(value, "j M Y")
        if value <= self.soon:
            days = (value - self.today).days
            return format_html(
                '<time datetime="{}" class="text-danger fw-semibold">{}</time>'
                '<div class="small text-danger">in {} day{}</div>',
                value.isoformat(),
                label,
                days,
                "" if days == 1 else "s",
            )
        return format_html('<time datetime="{}">{}</time>', value.isoformat(), label)

    def render_required(self, record):
        missing = _required_missing(record)
        if missing:
            return format_html(
                '<span class="badge rounded-pill status-rejected">Overdue</span> {}',
                ", ".join(c.title for c in missing),
            )
        if record.account.tier is None or not record.account.tier.published_required_courses:
            return format_html('<span class="text-body-secondary">{}</span>', "None required")
        return format_html('<span class="badge rounded-pill status-completed">{}</span>', "Done")

    # --- CSV --------------------------------------------------------------------------------

    def value_person(self, record):
        return f"{record.first_name} {record.last_name}"

    def value_account(self, record):
        return record.account.name

    def value_certificates(self, record):
        return "; ".join(
            f"{c.course.title} ({c.product_family or '-'}) {c.number} until {c.expires_on}"
            for c in record.user.valid_certificates
        )

    def value_next_expiry(self, record):
        return record.next_expiry.isoformat() if record.next_expiry else ""

    def value_required(self, record):
        missing = _required_missing(record)
        return "Overdue: " + "; ".join(c.title for c in missing) if missing else ""


def _url(certificate) -> str:
    from django.urls import reverse

    return reverse("training:certificate", args=[certificate.pk])
