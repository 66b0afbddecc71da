"""Opportunities pages: the pipeline as a table and as a board, one opportunity (edit, close),
the board's stage moves, and turning an accepted lead or an approved registration into one."""

from __future__ import annotations

from urllib.parse import urlsplit

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import QueryDict
from django.shortcuts import redirect, render
from django.urls import NoReverseMatch, reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_POST

from deals import selectors, services
from deals.filters import OpportunityFilter
from deals.forms import OpportunityCloseForm, OpportunityForm, OpportunityStageForm
from deals.models import DealRegistration, Lead, Opportunity, OpportunityStatus
from deals.tables import OpportunityTable
from partners.models import PortalTab
from partners.navigation import require_tab
from prm.access import get_visible_or_404, require, role_of
from prm.views import ScopedTableView, apply_errors

NOT_YOURS = "Only its owner, your partner admins or your partner manager change this opportunity."


def _safe_next(request) -> str:
    """The page a plain form post came from, if it is one of ours ("" otherwise)."""
    target = request.POST.get("next", "")
    if target and url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return target
    return ""


# --- the pipeline as a table ------------------------------------------------------------------


class OpportunityListView(ScopedTableView):
    """Partners: their pipeline (what ``visible_to`` lets them see). Internal users: their
    partners' pipeline, with the partner column and filter. Totals above the table."""

    model = Opportunity
    table_class = OpportunityTable
    filterset_class = OpportunityFilter
    template_name = "deals/opportunity_list.html"
    export_filename = "opportunities.csv"

    def dispatch(self, request, *args, **kwargs):
        require_tab(request, PortalTab.DEALS)
        return super().dispatch(request, *args, **kwargs)

    def get_queryset(self):
        return selectors.opportunity_queryset().visible_to(self.request.user)

    def get_table_kwargs(self):
        if role_of(self.request.user).is_partner:
            return {"exclude": ("account",)}
        return {}

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["is_partner"] = role_of(self.request.user).is_partner
        if not self.export:
            context["summary"] = selectors.pipeline_summary(self.object_list)
        return context


# --- the pipeline as a board ------------------------------------------------------------------


def _board_context(request, query: QueryDict) -> dict:
    user = request.user
    filterset = OpportunityFilter(
        query or None,
        queryset=selectors.opportunity_queryset().visible_to(user),
        request=request,
        board=True,
    )
    columns = selectors.pipeline_board(filterset.qs)
    for column in columns:
        for card in column["cards"]:
            card.can_move = services.can_edit_opportunity(user, card)
    query_string = query.urlencode()
    return {
        "filter": filterset,
        "columns": columns,
        "is_partner": role_of(user).is_partner,
        "per_column": selectors.BOARD_COLUMN_CARDS,
        "query_string": query_string,
        "board_url": reverse("deals:opportunity_board")
        + (f"?{query_string}" if query_string else ""),
    }


@login_required
def opportunity_board(request):
    require_tab(request, PortalTab.DEALS)
    return render(request, "deals/opportunity_board.html", _board_context(request, request.GET))


@login_required
@require_POST
def opportunity_move(request, pk):
    """Move a card to another stage: HTMX gets the board again (totals included), a plain
    post goes back to the page it came from."""
    require_tab(request, PortalTab.DEALS)
    opportunity = get_visible_or_404(selectors.opportunity_queryset(), request.user, pk=pk)
    require(services.can_edit_opportunity(request.user, opportunity), NOT_YOURS)
    form = OpportunityStageForm(request.POST)
    try:
        if not form.is_valid():
            raise ValidationError(form.errors.as_data())
        stage = form.cleaned_data["stage"]
        services.move_opportunity(actor=request.user, opportunity=opportunity, stage=stage)
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    else:
        messages.success(request, f"{opportunity.name} is now in {stage.name}.")
    back = _safe_next(request)
    if getattr(request, "htmx", False):
        query = QueryDict(urlsplit(back).query) if back else QueryDict()
        context = {**_board_context(request, query), "oob_messages": True}
        return render(request, "deals/partials/board_columns.html", context)
    return redirect(back or reverse("deals:opportunity", args=[opportunity.pk]))


# --- one opportunity --------------------------------------------------------------------------


def _detail(request, opportunity, *, edit_form=None, close_form=None, status=200):
    can_edit = services.can_edit_opportunity(request.user, opportunity)
    is_open = opportunity.status == OpportunityStatus.OPEN
    context = {
        "opportunity": opportunity,
        "history": selectors.opportunity_history(opportunity, request.user),
        "is_internal": role_of(request.user).is_internal,
        "can_edit": can_edit and is_open,
    }
    if can_edit and is_open:
        context["edit_form"] = edit_form or OpportunityForm(
            opportunity=opportunity, user=request.user
        )
        context["close_form"] = close_form or OpportunityCloseForm()
    return render(request, "deals/opportunity_detail.html", context, status=status)


@login_required
def opportunity_detail(request, pk):
    """The opportunity, its history, and (for who may change it) the edit and close forms;
    a POST here saves the edit form."""
    require_tab(request, PortalTab.DEALS)
    opportunity = get_visible_or_404(selectors.opportunity_queryset(), request.user, pk=pk)
    if request.method != "POST":
        return _detail(request, opportunity)
    require(services.can_edit_opportunity(request.user, opportunity), NOT_YOURS)
    form = OpportunityForm(request.POST, opportunity=opportunity, user=request.user)
    if form.is_valid():
        try:
            services.update_opportunity(
                actor=request.user, opportunity=opportunity, **form.cleaned_data
            )
        except ValidationError as error:
            apply_errors(form, error)
        else:
            messages.success(request, f"{opportunity.name} is saved.")
            return redirect("deals:opportunity", pk=opportunity.pk)
    return _detail(request, opportunity, edit_form=form)


@login_required
@require_POST
def opportunity_close(request, pk):
    require_tab(request, PortalTab.DEALS)
    opportunity = get_visible_or_404(selectors.opportunity_queryset(), request.user, pk=pk)
    require(services.can_edit_opportunity(request.user, opportunity), NOT_YOURS)
    form = OpportunityCloseForm(request.POST)
    if form.is_valid():
        won = form.cleaned_data["won"]
        try:
            services.close_opportunity(
                actor=request.user,
                opportunity=opportunity,
                won=won,
                reason=form.cleaned_data["reason"],
            )
        except ValidationError as error:
            if not hasattr(error, "error_dict"):  # already closed: nothing to fix in the form
                messages.error(request, " ".join(error.messages))
                return redirect("deals:opportunity", pk=opportunity.pk)
            apply_errors(form, error)
        else:
            outcome = "won — congratulations" if won else "marked lost"
            messages.success(request, f"{opportunity.name} is {outcome}.")
            return redirect("deals:opportunity", pk=opportunity.pk)
    return _detail(request, opportunity, close_form=form)


# --- conversions ------------------------------------------------------------------------------


def _convert(request, record, convert, *, back: str):
    """Run a conversion the user may do; on to the new opportunity, or back with the reason."""
    form = OpportunityStageForm(request.POST, required=False)
    try:
        if not form.is_valid():
            raise ValidationError(form.errors.as_data())
        opportunity = convert(record, form.cleaned_data.get("stage"))
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
        return redirect(back)
    messages.success(
        request,
        f"{opportunity.name} is in your pipeline at {opportunity.stage.name}. "
        "Keep its amount, close date and next step up to date here.",
    )
    return redirect("deals:opportunity", pk=opportunity.pk)


@login_required
@require_POST
def lead_convert(request, pk):
    """An accepted lead becomes an opportunity (the partner holding it, or internal users)."""
    require_tab(request, PortalTab.LEADS)
    lead = get_visible_or_404(Lead.objects, request.user, pk=pk)
    require(
        services.can_convert_lead(request.user, lead),
        "Only the partner working this lead converts it.",
    )
    return _convert(
        request,
        lead,
        lambda lead, stage: services.convert_lead(actor=request.user, lead=lead, stage=stage),
        back=reverse("deals:lead", args=[lead.pk]),
    )


def _registration_url(pk: int) -> str:
    try:
        return reverse("deals:registration", args=[pk])
    except NoReverseMatch:  # the registration pages are not wired up
        return reverse("deals:opportunity_list")


@login_required
@require_POST
def registration_convert(request, pk):
    """An approved registration becomes an opportunity (its creator, a partner admin of its
    account, or internal users)."""
    require_tab(request, PortalTab.DEALS)
    registration = get_visible_or_404(DealRegistration.objects, request.user, pk=pk)
    require(
        services.can_convert_registration(request.user, registration),
        "Its creator, your partner admins or your partner manager convert it.",
    )
    return _convert(
        request,
        registration,
        lambda registration, stage: services.convert_registration(
            actor=request.user, registration=registration, stage=stage
        ),
        back=_registration_url(registration.pk),
    )
