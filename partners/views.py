"""Partner pages: the portal home, the partner list and detail, contacts, invitations."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth import login
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_POST

from partners import selectors, services
from partners.filters import PartnerAccountFilter
from partners.forms import (
    AcceptInvitationForm,
    AccountStatusForm,
    ContactForm,
    PartnerAccountForm,
    PartnerProfileForm,
)
from partners.models import Contact, PartnerAccount, PortalTab
from partners.navigation import portal_tab, require_tab, workspace_for
from partners.tables import PartnerAccountTable
from prm.access import get_visible_or_404, require, role_of
from prm.portal import home_panels
from prm.views import ScopedTableView, apply_errors, render_htmx_or_redirect

# --- portal ---------------------------------------------------------------------------------


@login_required
@portal_tab(PortalTab.HOME)
def portal_home(request):
    if not role_of(request.user).is_partner:
        return redirect("home")
    data = selectors.portal_home_data(request.user)
    data["workspace"] = workspace_for(request.user)
    data["home_panels"] = home_panels(request)  # contributed by other apps (prm.portal)
    return render(request, "partners/portal_home.html", data)


@login_required
@portal_tab(PortalTab.COMPANY)
def company(request):
    require(role_of(request.user).is_partner, "The company page is for partner users.")
    return redirect("partners:partner", pk=request.user.contact.account_id)


# --- partner accounts -----------------------------------------------------------------------


class PartnerListView(ScopedTableView):
    model = PartnerAccount
    table_class = PartnerAccountTable
    filterset_class = PartnerAccountFilter
    template_name = "partners/partner_list.html"
    internal_only = True
    export_filename = "partners.csv"

    def get_queryset(self):
        return super().get_queryset().select_related("tier", "manager", "parent")


@login_required
def partner_detail(request, pk):
    require_tab(request, PortalTab.COMPANY)
    account = get_visible_or_404(selectors.account_queryset(), request.user, pk=pk)
    role = role_of(request.user)
    can_manage = services.can_manage_account(request.user, account)
    context = {
        "account": account,
        "contacts": selectors.contacts_visible_to(request.user).filter(account=account),
        "children": selectors.child_accounts(account, request.user),
        "can_change": can_manage or services.can_change_account(request.user, account),
        "can_manage": can_manage,
        "is_internal": role.is_internal,
        "own_contact_id": getattr(getattr(request.user, "contact", None), "pk", None)
        if role.is_partner
        else None,
    }
    if account.parent_id and role.is_partner:
        context["parent_visible"] = (
            PartnerAccount.objects.visible_to(request.user).filter(pk=account.parent_id).exists()
        )
    if role.is_internal:
        context["history"] = selectors.history(account, request.user)
        context["access_rows"] = selectors.explain_access(account)
        context["status_form"] = AccountStatusForm(initial={"status": account.status})
    return render(request, "partners/partner_detail.html", context)


@login_required
def partner_edit(request, pk):
    require_tab(request, PortalTab.COMPANY)
    account = get_visible_or_404(selectors.account_queryset(), request.user, pk=pk)
    require(services.can_change_account(request.user, account), "You may not edit this account.")
    internal = role_of(request.user).is_internal
    form_class = PartnerAccountForm if internal else PartnerProfileForm
    form = form_class(request.POST or None, instance=account, user=request.user)
    if request.method == "POST" and form.is_valid():
        try:
            services.save_account(actor=request.user, account=form.save(commit=False))
        except ValidationError as error:
            apply_errors(form, error)
        else:
            messages.success(request, "Company profile saved.")
            return redirect("partners:partner", pk=account.pk)
    return render(request, "partners/partner_form.html", {"form": form, "account": account})


@login_required
@require_POST
def partner_status(request, pk):
    account = get_visible_or_404(selectors.account_queryset(), request.user, pk=pk)
    require(
        role_of(request.user).is_internal and services.can_change_account(request.user, account),
        "Only the partner's manager or an admin changes its status.",
    )
    form = AccountStatusForm(request.POST)
    if form.is_valid():
        old = account.get_status_display()
        services.change_account_status(
            actor=request.user,
            account=account,
            status=form.cleaned_data["status"],
            reason=form.cleaned_data["reason"],
        )
        if old != account.get_status_display():
            text = f"{account.name} is now {account.get_status_display().lower()}."
            if account.is_blocked:
                text += " Its users can no longer sign in."
            messages.success(request, text)
    else:
        for errors in form.errors.values():
            for error in errors:
                messages.error(request, error)
    return redirect("partners:partner", pk=account.pk)


# --- contacts -------------------------------------------------------------------------------


def _managed_contact(request, pk) -> Contact:
    contact = get_visible_or_404(selectors.contacts_visible_to(request.user), request.user, pk=pk)
    require(
        services.can_manage_account(request.user, contact.account),
        "You may not manage this account's contacts.",
    )
    return contact


@login_required
def contact_add(request, pk):
    require_tab(request, PortalTab.COMPANY)
    account = get_visible_or_404(selectors.account_queryset(), request.user, pk=pk)
    require(
        services.can_manage_account(request.user, account),
        "You may not add contacts to this account.",
    )
    return _contact_form(request, account, Contact(account=account))


@login_required
def contact_edit(request, pk):
    require_tab(request, PortalTab.COMPANY)
    contact = _managed_contact(request, pk)
    return _contact_form(request, contact.account, contact)


def _contact_form(request, account, contact):
    creating = contact.pk is None
    form = ContactForm(request.POST or None, instance=contact)
    if request.method == "POST" and form.is_valid():
        try:
            with transaction.atomic():
                contact = services.save_contact(
                    actor=request.user,
                    contact=form.save(commit=False),
                    roles=form.cleaned_data["roles"],
                )
                if form.cleaned_data.get("send_invitation"):
                    services.invite_contact(actor=request.user, contact=contact)
        except ValidationError as error:
            if creating:
                form.instance.pk = None
            apply_errors(form, error)
        else:
            if form.cleaned_data.get("send_invitation"):
                messages.success(request, f"Invitation sent to {contact.email}.")
            else:
                messages.success(request, f"{contact.full_name} saved.")
            return redirect("partners:partner", pk=account.pk)
    return render(
        request,
        "partners/contact_form.html",
        {"form": form, "account": account, "contact": contact, "creating": creating},
    )


def _contact_action(request, pk, action, done: str):
    contact = _managed_contact(request, pk)
    try:
        action(actor=request.user, contact=contact)
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    except PermissionDenied as error:
        messages.error(request, str(error) or "You may not do this.")
    else:
        messages.success(request, done.format(name=contact.full_name, email=contact.email))
    contact = selectors.contacts_visible_to(request.user).get(pk=contact.pk)
    return render_htmx_or_redirect(
        request,
        partial="partners/partials/contact_row.html",
        context={
            "c": contact,
            "can_manage": True,
            "own_contact_id": getattr(getattr(request.user, "contact", None), "pk", None),
        },
        redirect_to=reverse("partners:partner", args=[contact.account_id]),
    )


@login_required
@require_POST
def contact_invite(request, pk):
    return _contact_action(request, pk, services.invite_contact, "Invitation sent to {email}.")


@login_required
@require_POST
def contact_revoke(request, pk):
    return _contact_action(
        request, pk, services.revoke_invitation, "The invitation for {name} was withdrawn."
    )


@login_required
@require_POST
def contact_disable(request, pk):
    return _contact_action(
        request, pk, services.disable_portal_access, "{name} can no longer sign in."
    )


@login_required
@require_POST
def contact_enable(request, pk):
    return _contact_action(request, pk, services.enable_portal_access, "{name} can sign in again.")


# --- invitations ----------------------------------------------------------------------------


def invitation_accept(request, token):
    """The link in the invitation email: set a password, then land on the portal home."""
    try:
        invitation = services.find_invitation(token)
    except services.InvitationInvalid as error:
        return render(
            request,
            "partners/invitation_invalid.html",
            {"reason": error.reason},
            status=410 if "expired" in error.reason or "used" in error.reason else 404,
        )
    contact = invitation.contact
    form = AcceptInvitationForm(
        request.POST or None,
        email=contact.email,
        initial={"first_name": contact.first_name, "last_name": contact.last_name},
    )
    if request.method == "POST" and form.is_valid():
        try:
            user = services.accept_invitation(
                token=token,
                password=form.cleaned_data["password1"],
                first_name=form.cleaned_data["first_name"],
                last_name=form.cleaned_data["last_name"],
            )
        except services.InvitationInvalid as error:
            return render(
                request, "partners/invitation_invalid.html", {"reason": error.reason}, status=410
            )
        login(request, user, backend="partners.auth.PortalAuthenticationBackend")
        messages.success(request, f"Welcome to {contact.account.name}'s partner portal!")
        return redirect("partners:portal_home")
    return render(
        request,
        "partners/invitation_accept.html",
        {"form": form, "invitation": invitation, "contact": contact},
    )
