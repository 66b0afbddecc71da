"""The onboarding checklist: a partner's own page, a manager's view of one partner, ticking a
manual step (HTMX), and the progress panel of the portal home (registered in training.apps)."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.shortcuts import render
from django.urls import reverse
from django.views.decorators.http import require_POST

from partners.models import PartnerAccount
from prm.access import get_visible_or_404, partner_contact, require, role_of
from prm.views import render_htmx_or_redirect
from training import services
from training.models import ChecklistItem, StepCheck


def checklist_context(user, account: PartnerAccount) -> dict:
    """The account's checklist, made sure to exist and brought up to date, with its progress."""
    services.ensure_checklist(account)
    services.refresh_automatic_steps([account.pk])
    items = services.checklist_of(account)
    done = sum(1 for item in items if item.done_at)
    return {
        "account": account,
        "items": items,
        "done": done,
        "total": len(items),
        "percent": round(100 * done / len(items)) if items else 0,
        "can_tick": services.may_tick(user, account.pk),
        "manual": StepCheck.MANUAL,
        "own": getattr(partner_contact(user), "account_id", None) == account.pk,
    }


def _page(request, account: PartnerAccount):
    return render(request, "training/onboarding.html", checklist_context(request.user, account))


@login_required
def onboarding(request):
    """The signed-in partner's own company checklist."""
    contact = partner_contact(request.user)
    require(
        role_of(request.user).is_partner and contact is not None,
        "The onboarding checklist is your company's: managers open it from a partner.",
    )
    return _page(request, contact.account)


@login_required
def onboarding_account(request, pk):
    """One partner's checklist, for the people who see that partner (404 for the others)."""
    account = get_visible_or_404(PartnerAccount.objects.select_related("tier"), request.user, pk=pk)
    return _page(request, account)


@login_required
@require_POST
def onboarding_tick(request, pk):
    """Tick (``done=1``) or untick (``done=0``) a manual step: partner admins of the account."""
    item = get_visible_or_404(ChecklistItem.objects.select_related("account"), request.user, pk=pk)
    done = request.POST.get("done", "1") != "0"
    try:
        if done:
            services.tick_step(actor=request.user, item=item)
        else:
            services.untick_step(actor=request.user, item=item)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    account = item.account
    own = getattr(partner_contact(request.user), "account_id", None) == account.pk
    back = (
        reverse("training:onboarding")
        if own
        else reverse("training:onboarding_account", args=[account.pk])
    )
    return render_htmx_or_redirect(
        request,
        partial="training/partials/onboarding_checklist.html",
        context=checklist_context(request.user, account),
        redirect_to=back,
    )


def home_panel_context(request) -> dict | None:
    """The portal home's onboarding panel: progress of the user's company (partners only; no
    panel when the company has no checklist)."""
    contact = partner_contact(request.user)
    if contact is None or not role_of(request.user).is_partner:
        return None
    context = checklist_context(request.user, contact.account)
    if not context["total"]:
        return None
    context["next_items"] = [item for item in context["items"] if not item.done_at][:3]
    return context
