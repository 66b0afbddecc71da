"""Deal registration pages: the partner's registrations, registering a deal (with the pre-check),
a registration with its history and actions; the manager's review queue and conflict view."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Prefetch, prefetch_related_objects
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.formats import date_format
from django.views.decorators.http import require_GET, require_POST

from deals import selectors, services
from deals.filters import RegistrationFilter, ReviewQueueFilter
from deals.forms import (
    DecisionForm,
    ExtensionDecisionForm,
    ExtensionRequestForm,
    RegistrationForm,
    WithdrawForm,
    registration_lines_formset,
)
from deals.models import (
    DealRegistration,
    ExtensionRequest,
    ExtensionStatus,
    RegistrationLine,
    RegistrationStatus,
)
from deals.tables import PartnerRegistrationTable, RegistrationTable, ReviewQueueTable
from partners.models import PortalTab
from partners.navigation import require_tab
from prm.access import get_visible_or_404, require, role_of
from prm.views import ScopedTableView, apply_errors

S = RegistrationStatus


def registration_queryset():
    """Registrations with what every registration page shows: no row costs a query of its own."""
    return DealRegistration.objects.select_related(
        "account", "account__tier", "created_by", "stage"
    ).prefetch_related(
        Prefetch("lines", queryset=RegistrationLine.objects.select_related("product"))
    )


def _day(value) -> str:
    return date_format(value, "j F Y")


# --- lists ----------------------------------------------------------------------------------


class RegistrationListView(ScopedTableView):
    """Partners: the registrations they may see (their own, shared ones; all of the company for
    partner admins). Internal users: every registration of their partners, with filters."""

    model = DealRegistration
    table_class = RegistrationTable
    filterset_class = RegistrationFilter
    template_name = "deals/registration_list.html"
    export_filename = "registrations.csv"

    def dispatch(self, request, *args, **kwargs):
        require_tab(request, PortalTab.DEALS)
        return super().dispatch(request, *args, **kwargs)

    def get_table_class(self):
        return (
            PartnerRegistrationTable if role_of(self.request.user).is_partner else RegistrationTable
        )

    def get_queryset(self):
        return registration_queryset().visible_to(self.request.user)

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        role = role_of(self.request.user)
        context["is_partner"] = role.is_partner
        return context


class ReviewQueueView(ScopedTableView):
    """The manager's queue: submitted registrations, possible conflicts first, then the oldest."""

    model = DealRegistration
    table_class = ReviewQueueTable
    filterset_class = ReviewQueueFilter
    template_name = "deals/registration_review_queue.html"
    export_filename = "review-queue.csv"
    internal_only = True

    def get_queryset(self):
        return (
            selectors.review_queue(self.request.user)
            .select_related("account", "created_by", "stage")
            .prefetch_related(
                Prefetch("lines", queryset=RegistrationLine.objects.select_related("product"))
            )
        )


# --- one registration -----------------------------------------------------------------------


def _detail_context(request, registration, **forms) -> dict:
    user = request.user
    role = role_of(user)
    extensions = list(
        ExtensionRequest.objects.visible_to(user)
        .filter(registration=registration)
        .select_related("requested_by", "decided_by")
        .order_by("-created_at", "-pk")
    )
    pending = next((e for e in extensions if e.status == ExtensionStatus.PENDING), None)
    can_decide = services.can_decide_registration(user, registration)
    context = {
        "registration": registration,
        "lines": registration.lines.all(),
        "history": selectors.registration_history(registration, user),
        "extensions": extensions,
        "pending_extension": pending,
        "is_internal": role.is_internal,
        "can_edit": services.can_edit_registration(user, registration),
        "can_withdraw": services.can_withdraw_registration(user, registration),
        "can_decide": can_decide and registration.status == S.SUBMITTED,
        "can_compare": can_decide and registration.conflict,
        "can_extend": pending is None and services.can_request_extension(user, registration),
        "can_convert": services.can_convert_registration(user, registration),
        "can_decide_extension": can_decide and pending is not None,
        "conflict_note": services.CONFLICT_NOTICE,
        "decision_form": DecisionForm(),
        "withdraw_form": WithdrawForm(),
        "extension_form": ExtensionRequestForm(),
        "extension_decision_form": ExtensionDecisionForm(),
    }
    context.update(forms)
    return context


def _render_detail(request, registration, *, status=200, **forms):
    return render(
        request,
        "deals/registration_detail.html",
        _detail_context(request, registration, **forms),
        status=status,
    )


@login_required
def registration_detail(request, pk):
    require_tab(request, PortalTab.DEALS)
    registration = get_visible_or_404(registration_queryset(), request.user, pk=pk)
    return _render_detail(request, registration)


# --- register and edit ----------------------------------------------------------------------


def _form_page(request, form, lines, registration):
    """The register/edit page; after a refused post, with the pre-check of what was typed."""
    precheck = None
    if form.is_bound:
        company = (form.data.get("company") or "").strip()[:200]
        domain = (form.data.get("domain") or "").strip()[:253]
        if company or domain:
            precheck = selectors.precheck_customer(request.user, company, domain)
    return render(
        request,
        "deals/registration_form.html",
        {"form": form, "lines": lines, "registration": registration, "precheck": precheck},
    )


def _save(request, form, lines, *, creating: bool):
    """Save (and, for "Submit for approval", submit) in one transaction: a refused submission
    leaves nothing saved, and the form comes back as typed."""
    if not (form.is_valid() and lines.is_valid()):
        return None
    submit = request.POST.get("action") == "submit"
    try:
        with transaction.atomic():
            registration = services.save_registration(
                actor=request.user, registration=form.save(commit=False), lines=lines.lines()
            )
            if submit:
                registration = services.submit_registration(
                    actor=request.user, registration=registration
                )
    except ValidationError as error:
        if creating:
            form.instance.pk = None
            form.instance._state.adding = True
        if hasattr(error, "error_dict") and "lines" in error.error_dict:
            lines.add_non_form_error(error.error_dict.pop("lines")[0].messages)
            if not error.error_dict:
                return None
        apply_errors(form, error)
        return None
    if submit:
        messages.success(
            request,
            f"{registration.company} is submitted: your partner manager reviews it and you are "
            "told the decision.",
        )
    else:
        messages.success(
            request,
            f"{registration.company} is saved as a draft. Submit it for approval when it is ready.",
        )
    return redirect("deals:registration", pk=registration.pk)


@login_required
def registration_add(request):
    require_tab(request, PortalTab.DEALS)
    require(role_of(request.user).is_partner, "Partners register deals.")
    data = request.POST if request.method == "POST" else None
    form = RegistrationForm(data, user=request.user)
    lines = registration_lines_formset(request.user, data)
    if request.method == "POST":
        response = _save(request, form, lines, creating=True)
        if response is not None:
            return response
    return _form_page(request, form, lines, None)


@login_required
def registration_edit(request, pk):
    require_tab(request, PortalTab.DEALS)
    registration = get_visible_or_404(registration_queryset(), request.user, pk=pk)
    if not services.can_edit_registration(request.user, registration):
        require(
            services.acts_for_partner(request.user, registration),
            "Only the person who registered the deal or a partner admin can change it.",
        )
        messages.error(
            request,
            f"A registration that is {registration.get_status_display().lower()} can't be changed.",
        )
        return redirect("deals:registration", pk=pk)
    data = request.POST if request.method == "POST" else None
    form = RegistrationForm(data, instance=registration, user=request.user)
    lines = registration_lines_formset(request.user, data, registration=registration)
    if request.method == "POST":
        response = _save(request, form, lines, creating=False)
        if response is not None:
            return response
    return _form_page(request, form, lines, registration)


@login_required
@require_GET
def registration_precheck(request):
    """HTMX: is this customer open, under review, or registered until a date? Never by whom."""
    require_tab(request, PortalTab.DEALS)
    company = request.GET.get("company", "").strip()[:200]
    domain = request.GET.get("domain", "").strip()[:253]
    result = None
    if company or domain:
        result = selectors.precheck_customer(request.user, company, domain)
    return render(request, "deals/partials/registration_precheck.html", {"result": result})


# --- actions (POST only) --------------------------------------------------------------------


def _act(request, registration, form, act, *, form_name: str):
    """Validate ``form``, run ``act(form.cleaned_data)`` (a service call returning the success
    message) and go back to the registration; on a problem, the page again with the form's
    errors at their fields. PermissionDenied is left to Django (403)."""
    if form.is_valid():
        try:
            text = act(form.cleaned_data)
        except ValidationError as error:
            apply_errors(form, error)
        else:
            messages.success(request, text)
            return redirect("deals:registration", pk=registration.pk)
    registration = registration_queryset().get(pk=registration.pk)
    return _render_detail(request, registration, **{form_name: form})


@login_required
@require_POST
def registration_submit(request, pk):
    require_tab(request, PortalTab.DEALS)
    registration = get_visible_or_404(registration_queryset(), request.user, pk=pk)
    try:
        registration = services.submit_registration(actor=request.user, registration=registration)
    except ValidationError as error:
        fields = getattr(error, "error_dict", {})
        text = " ".join(error.messages)
        if "expected_close_date" in fields or "lines" in fields:
            text += " Edit the registration, then submit it."
        messages.error(request, text)
    else:
        messages.success(
            request,
            f"{registration.company} is submitted: your partner manager reviews it and you are "
            "told the decision.",
        )
    return redirect("deals:registration", pk=pk)


@login_required
@require_POST
def registration_withdraw(request, pk):
    require_tab(request, PortalTab.DEALS)
    registration = get_visible_or_404(registration_queryset(), request.user, pk=pk)

    def withdraw(data):
        services.withdraw_registration(
            actor=request.user, registration=registration, reason=data["reason"]
        )
        return f"You withdrew the registration of {registration.company}."

    return _act(
        request, registration, WithdrawForm(request.POST), withdraw, form_name="withdraw_form"
    )


@login_required
@require_POST
def registration_decide(request, pk):
    registration = get_visible_or_404(registration_queryset(), request.user, pk=pk)
    require(
        services.can_decide_registration(request.user, registration),
        "The partner's manager or an admin decides registrations.",
    )

    def decide(data):
        decision, reason = data["decision"], data["reason"]
        if decision == "approve":
            done = services.approve_registration(
                actor=request.user, registration=registration, reason=reason
            )
            return f"Approved: {done.company} is protected until {_day(done.expires_on)}."
        if decision == "return":
            services.return_registration(
                actor=request.user, registration=registration, reason=reason
            )
            return f"{registration.company} went back to the partner for more information."
        services.reject_registration(actor=request.user, registration=registration, reason=reason)
        return f"{registration.company} is rejected; the partner is told why."

    return _act(
        request, registration, DecisionForm(request.POST), decide, form_name="decision_form"
    )


@login_required
@require_POST
def registration_extend(request, pk):
    require_tab(request, PortalTab.DEALS)
    registration = get_visible_or_404(registration_queryset(), request.user, pk=pk)

    def extend(data):
        services.request_extension(
            actor=request.user,
            registration=registration,
            requested_until=data["requested_until"],
            reason=data["reason"],
        )
        return "Your extension request is with your partner manager."

    return _act(
        request,
        registration,
        ExtensionRequestForm(request.POST),
        extend,
        form_name="extension_form",
    )


@login_required
@require_POST
def extension_decide(request, pk):
    extension = get_visible_or_404(
        ExtensionRequest.objects.select_related("registration"), request.user, pk=pk
    )
    registration = registration_queryset().get(pk=extension.registration_id)
    require(
        services.can_decide_registration(request.user, registration),
        "The partner's manager or an admin decides extensions.",
    )

    def decide(data):
        done = services.decide_extension(
            actor=request.user, extension=extension, grant=data["grant"], reason=data["reason"]
        )
        if done.status == ExtensionStatus.GRANTED:
            return f"Extension granted: protected until {_day(extension.requested_until)}."
        return "Extension refused; the partner is told why."

    return _act(
        request,
        registration,
        ExtensionDecisionForm(request.POST),
        decide,
        form_name="extension_decision_form",
    )


# --- the manager's conflict view ------------------------------------------------------------


@login_required
def registration_conflicts(request, pk):
    """This registration next to each record naming the same customer, with why they matched."""
    registration = get_visible_or_404(registration_queryset(), request.user, pk=pk)
    require(
        services.can_decide_registration(request.user, registration),
        "The partner's manager compares conflicting registrations.",
    )
    matches = selectors.registration_conflicts(registration, request.user)
    prefetch_related_objects(
        [match.record for match in matches if match.kind == "registration"],
        Prefetch("lines", queryset=RegistrationLine.objects.select_related("product")),
    )
    return render(
        request,
        "deals/registration_conflicts.html",
        {
            "registration": registration,
            "lines": registration.lines.all(),
            "matches": matches,
            "can_decide": registration.status == S.SUBMITTED,
            "decision_form": DecisionForm(),
            "back_url": reverse("deals:review_queue"),
        },
    )
