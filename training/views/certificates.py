"""Certificates (the printable page, verification by number) and the managers' training status."""

from __future__ import annotations

from datetime import timedelta

from django.contrib.auth.decorators import login_required
from django.db.models import Exists, OuterRef, Prefetch, Subquery
from django.shortcuts import render
from django.utils import timezone

from partners.models import Contact, PortalTab
from partners.navigation import portal_tab
from prm.access import get_visible_or_404, require, role_of
from prm.views import ScopedTableView
from training.filters import TrainingStatusFilter
from training.models import Certificate, Course, Enrollment, EnrollmentStatus
from training.services import CERTIFICATE_REMINDER_DAYS
from training.tables import TrainingStatusTable


def certificate_status(certificate: Certificate, today) -> str:
    """ "valid", "expiring" (within the reminder window), "expired" or "revoked"."""
    if certificate.revoked_at is not None:
        return "revoked"
    if certificate.expires_on < today:
        return "expired"
    if certificate.expires_on <= today + timedelta(days=CERTIFICATE_REMINDER_DAYS):
        return "expiring"
    return "valid"


STATUS_LABELS = {
    "valid": "Valid",
    "expiring": "Valid, expiring soon",
    "expired": "Expired",
    "revoked": "Revoked",
}


def _certificates():
    return Certificate.objects.select_related("user__contact", "course", "account")


@login_required
@portal_tab(PortalTab.TRAINING)
def certificate_detail(request, pk):
    """The printable certificate: its holder, their company's partner admins, internal users."""
    certificate = get_visible_or_404(_certificates(), request.user, pk=pk)
    today = timezone.localdate()
    status = certificate_status(certificate, today)
    return render(
        request,
        "training/certificate.html",
        {
            "certificate": certificate,
            "status": status,
            "status_label": STATUS_LABELS[status],
            "days_left": (certificate.expires_on - today).days,
            "is_internal": role_of(request.user).is_internal,
        },
    )


@login_required
def certificate_verify(request):
    """Internal users type a certificate's number and see whether it is valid, and whose it is.

    Only certificates of the partners the user sees are found: an unknown number and one of
    another manager's partner read the same.
    """
    require(role_of(request.user).is_internal, "Certificates are verified by partner managers.")
    number = (request.GET.get("number") or "").strip()[:40]
    certificate, status = None, None
    if number:
        certificate = _certificates().visible_to(request.user).filter(number__iexact=number).first()
        if certificate is not None:
            status = certificate_status(certificate, timezone.localdate())
    return render(
        request,
        "training/certificate_verify.html",
        {
            "number": number,
            "certificate": certificate,
            "status": status,
            "status_label": STATUS_LABELS.get(status, ""),
        },
    )


# --- the managers' training status ----------------------------------------------------------


def training_status_rows(queryset, today):
    """Partner people (contacts with a portal login) with what the status page shows of each:
    valid certificates, the next expiry, required courses of their tier not completed. Row data
    comes from three prefetches per page (or per export chunk), never a query per row."""
    valid = Certificate.objects.filter(revoked_at__isnull=True, expires_on__gte=today)
    completed = Enrollment.objects.filter(status=EnrollmentStatus.COMPLETED)
    required_open = Course.objects.filter(published=True, required_for=OuterRef("account__tier"))
    required_open = required_open.filter(
        ~Exists(completed.filter(user=OuterRef(OuterRef("user")), course=OuterRef("pk")))
    )
    return (
        queryset.filter(user__isnull=False)
        .with_portal_access()
        .select_related("account__tier", "user")
        .annotate(
            next_expiry=Subquery(
                valid.filter(user=OuterRef("user"))
                .order_by("expires_on", "pk")
                .values("expires_on")[:1]
            ),
            required_overdue=Exists(required_open),
        )
        .prefetch_related(
            Prefetch(
                "user__certificates",
                queryset=valid.select_related("course").order_by("expires_on", "pk"),
                to_attr="valid_certificates",
            ),
            Prefetch(
                "user__enrollments",
                queryset=completed.only("pk", "user_id", "course_id"),
                to_attr="completed_enrollments",
            ),
            Prefetch(
                "account__tier__required_courses",
                queryset=Course.objects.filter(published=True).only("pk", "title"),
                to_attr="published_required_courses",
            ),
        )
    )


class TrainingStatusView(ScopedTableView):
    """Managers: who of their partners is certified in what, what expires soon, and who has not
    completed the training their tier requires. One row per partner person; CSV export."""

    model = Contact
    table_class = TrainingStatusTable
    filterset_class = TrainingStatusFilter
    template_name = "training/status.html"
    export_filename = "training-status.csv"
    internal_only = True

    def get_queryset(self):
        self.today = timezone.localdate()
        return training_status_rows(super().get_queryset(), self.today)

    def get_table_kwargs(self):
        return {"today": self.today}

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["reminder_days"] = CERTIFICATE_REMINDER_DAYS
        return context
