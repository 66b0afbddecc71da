"""Lead pages: the partner's leads and the manager's pool, a lead, adding one, and its actions."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_POST

from deals import selectors, services
from deals.filters import LeadFilter
from deals.forms import LeadAssignForm, LeadForm, ReasonForm
from deals.models import ASSIGNABLE, Lead, LeadStatus
from deals.tables import LeadTable, PartnerLeadTable
from partners.models import PortalTab
from partners.navigation import require_tab
from prm.access import get_visible_or_404, partner_contact, require, role_of
from prm.views import ScopedTableView, apply_errors, render_htmx_or_redirect


def _own_account_id(user) -> int | None:
    """The account whose leads the user works (None for internal users)."""
    contact = partner_contact(user)
    return contact.account_id if contact is not None else None


# --- lists ----------------------------------------------------------------------------------


class LeadListView(ScopedTableView):
    """Partners: their account's leads, to accept or reject in the row. Internal users: the
    pool and their partners' leads, with filters."""

    model = Lead
    table_class = LeadTable
    filterset_class = LeadFilter
    template_name = "deals/lead_list.html"
    export_filename = "leads.csv"

    def dispatch(self, request, *args, **kwargs):
        require_tab(request, PortalTab.LEADS)
        return super().dispatch(request, *args, **kwargs)

    def get_table_class(self):
        return PartnerLeadTable if role_of(self.request.user).is_partner else LeadTable

    def get_queryset(self):
        leads = selectors.lead_queryset().visible_to(self.request.user)
        if role_of(self.request.user).is_partner:
            return selectors.waiting_first(leads)
        return leads

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        role = role_of(self.request.user)
        context["is_partner"] = role.is_partner
        context["can_add"] = role.is_internal
        context["can_route"] = role.is_internal
        context["own_account_id"] = _own_account_id(self.request.user)
        context["next_url"] = self.request.get_full_path()
        return context


# --- one lead -------------------------------------------------------------------------------


@login_required
def lead_detail(request, pk):
    require_tab(request, PortalTab.LEADS)
    lead = get_visible_or_404(selectors.lead_queryset(), request.user, pk=pk)
    role = role_of(request.user)
    holds_lead = lead.account_id is not None and lead.account_id == _own_account_id(request.user)
    context = {
        "lead": lead,
        "history": selectors.lead_history(lead, request.user),
        "is_internal": role.is_internal,
        "can_accept": holds_lead and lead.status == LeadStatus.ASSIGNED and not lead.is_overdue,
        "can_mark_lost": lead.status == LeadStatus.ACCEPTED and (role.is_internal or holds_lead),
        "can_route": role.is_internal and lead.status in ASSIGNABLE,
        "reason_form": ReasonForm(),
        "next_url": request.get_full_path(),
    }
    if role.is_internal and lead.status in ASSIGNABLE:
        context["assign_form"] = LeadAssignForm(user=request.user, lead=lead)
    return render(request, "deals/lead_detail.html", context)


@login_required
def lead_add(request):
    require(role_of(request.user).is_internal, "Partner managers and admins add leads.")
    form = LeadForm(request.POST or None, user=request.user)
    if request.method == "POST" and form.is_valid():
        try:
            lead = services.create_lead(
                actor=request.user,
                lead=form.save(commit=False),
                products=form.cleaned_data["products"],
            )
        except ValidationError as error:
            form.instance.pk = None
            apply_errors(form, error)
        else:
            messages.success(
                request, f"{lead.company} is in the lead pool. Assign it to a partner below."
            )
            return redirect("deals:lead", pk=lead.pk)
    return render(request, "deals/lead_form.html", {"form": form})


# --- actions (POST only) --------------------------------------------------------------------


def _back(request, lead: Lead | None) -> str:
    """Where a plain form post returns to: the page it came from (if it is ours), else the
    lead; the list once the lead is no longer the user's to see (after a rejection)."""
    if lead is None:
        return reverse("deals:lead_list")
    return _safe_next(request) or reverse("deals:lead", args=[lead.pk])


def _safe_next(request) -> str | None:
    """The ``next`` the form posted, when it is a page of this site."""
    target = request.POST.get("next", "")
    if target and url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return target
    return None


def _lead_action(request, pk, act, *, reason_form: ReasonForm | None = None):
    """Run a service on a lead the user can see; answer with its row (HTMX) or a redirect.

    ``act(lead)`` calls the service and returns the success message (or a ``(level, text)``
    pair). PermissionDenied is left to Django (403); a ValidationError becomes a message, or an
    error on the row's reject form.
    """
    require_tab(request, PortalTab.LEADS)
    lead = get_visible_or_404(selectors.lead_queryset(), request.user, pk=pk)
    htmx = bool(getattr(request, "htmx", False))
    failed = False
    try:
        if reason_form is not None and not reason_form.is_valid():
            raise ValidationError(reason_form.errors.as_data())
        text = act(lead)
    except ValidationError as error:
        failed = True
        if htmx and reason_form is not None and hasattr(error, "error_dict"):
            if not reason_form.errors:  # the service's rule, not the form's own
                apply_errors(reason_form, error)  # shown in the row, next to the field
        else:
            messages.error(request, " ".join(error.messages))
    else:
        level, text = text if isinstance(text, tuple) else (messages.SUCCESS, text)
        messages.add_message(request, level, text)
    lead = selectors.lead_queryset().visible_to(request.user).filter(pk=pk).first()
    return render_htmx_or_redirect(
        request,
        partial="deals/partials/lead_row.html",
        context={
            "lead": lead,
            "own_account_id": _own_account_id(request.user),
            "reject_form": reason_form if failed else None,
            "next_url": request.POST.get("next", ""),
        },
        redirect_to=_back(request, lead),
    )


@login_required
@require_POST
def lead_accept(request, pk):
    def accept(lead):
        services.accept_lead(actor=request.user, lead=lead)
        return f"You accepted {lead.company}: it is yours to work now."

    return _lead_action(request, pk, accept)


@login_required
@require_POST
def lead_reject(request, pk):
    form = ReasonForm(request.POST)

    def reject(lead):
        services.reject_lead(actor=request.user, lead=lead, reason=form.cleaned_data["reason"])
        return f"You turned down {lead.company}; it goes back to your partner manager."

    return _lead_action(request, pk, reject, reason_form=form)


@login_required
@require_POST
def lead_lost(request, pk):
    form = ReasonForm(request.POST)

    def lose(lead):
        services.mark_lead_lost(actor=request.user, lead=lead, reason=form.cleaned_data["reason"])
        return f"{lead.company} is marked lost."

    return _lead_action(request, pk, lose, reason_form=form)


@login_required
@require_POST
def lead_assign(request, pk):
    def assign(lead):
        # After the lookup: a lead the user can't see is a 404 whoever asks.
        require(role_of(request.user).is_internal, "Partner managers and admins assign leads.")
        form = LeadAssignForm(request.POST, user=request.user, lead=lead)
        if not form.is_valid():
            raise ValidationError(form.errors["account"])
        lead = services.assign_lead(
            actor=request.user, lead=lead, account=form.cleaned_data["account"]
        )
        return (
            f"{lead.company} was sent to {lead.account.name}. "
            f"They have until {_deadline(lead)} to accept it."
        )

    return _lead_action(request, pk, assign)


def _deadline(lead: Lead) -> str:
    return date_format(timezone.localtime(lead.accept_by), "j M Y, H:i")


@login_required
@require_POST
def lead_route(request, pk):
    """Run the assignment rules on one lead of the pool (lead page, pool list row)."""

    def route(lead):
        require(role_of(request.user).is_internal, "Partner managers and admins route leads.")
        decision = services.route_lead(actor=request.user, lead=lead)
        if decision.candidate is None:
            return messages.WARNING, f"{lead.company}: {decision.note}"
        lead = decision.lead
        return (
            f"{lead.company} was sent to {decision.candidate.name} by the rule "
            f'"{decision.rule.name}". They have until {_deadline(lead)} to accept it.'
        )

    return _lead_action(request, pk, route)


@login_required
@require_POST
def lead_route_all(request):
    """A manager runs the assignment rules on every waiting lead they see, in one batch."""
    require_tab(request, PortalTab.LEADS)
    require(role_of(request.user).is_internal, "Partner managers and admins route leads.")
    waiting = Lead.objects.visible_to(request.user).filter(status__in=ASSIGNABLE).values("pk")
    decisions = services.route_leads(waiting, actor=request.user)
    routed = sum(1 for decision in decisions if decision.candidate is not None)
    stayed = len(decisions) - routed
    if not decisions:
        messages.info(request, "No lead is waiting in the pool: there is nothing to route.")
    elif not stayed:
        messages.success(request, f"The assignment rules sent all {routed} waiting lead(s) on.")
    else:
        messages.warning(
            request,
            f"The assignment rules sent {routed} of {len(decisions)} waiting lead(s) on; "
            f"{stayed} stay in the pool because no rule found a partner — each one's page "
            "says why.",
        )
    return redirect(_safe_next(request) or reverse("deals:lead_list"))
