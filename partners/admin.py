"""Admin for partner data: tiers, accounts, contacts, invitations, workspaces, the audit trail.

Every write goes through partners.services (save_model, save_formset and the actions call it), so
the audit trail and guardian's permission rows stay right; the permission rows and the audit
trail are shown read-only. Deleting accounts and contacts is not offered: no service does it yet.
"""

from __future__ import annotations

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.widgets import RelatedFieldWidgetWrapper
from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Count, Prefetch, Q
from django.urls import reverse
from django.utils import timezone
from django.utils.html import format_html, format_html_join

from partners import services
from partners.forms import ContactRulesForm, manager_choices
from partners.models import (
    AccountStatus,
    AuditEntry,
    Contact,
    ContactRole,
    Invitation,
    PartnerAccount,
    PartnerAccountGroupObjectPermission,
    PartnerAccountUserObjectPermission,
    PortalAccess,
    Tier,
    Workspace,
    WorkspaceTab,
)
from prm.admin import ReadOnlyAdminMixin

STATUS_COLOURS = {
    AccountStatus.PROSPECT: "#6b7280",
    AccountStatus.ONBOARDING: "#2563eb",
    AccountStatus.ACTIVE: "#15803d",
    AccountStatus.INACTIVE: "#b45309",
    AccountStatus.SUSPENDED: "#b91c1c",
}
LOGIN_STATES = {
    "none": "No portal access",
    "not_invited": "Not invited yet",
    "invited": "Invited",
    "active": "Can sign in",
    "disabled": "Disabled",
}


def _error_text(error: Exception) -> str:
    if isinstance(error, ValidationError):
        return " ".join(error.messages)
    return str(error) or "You may not do this."


def _run_per_row(modeladmin, request, rows, action, *, done: str) -> None:
    """Call a service for each row; one message per refused row instead of a crashed request."""
    succeeded = 0
    for row in rows:
        try:
            action(row)
        except (ValidationError, PermissionDenied) as error:
            modeladmin.message_user(request, f"{row}: {_error_text(error)}", messages.ERROR)
        else:
            succeeded += 1
    if succeeded:
        modeladmin.message_user(request, done.format(count=succeeded), messages.SUCCESS)


class ScopedAdminMixin:
    """Admins see every row; any other staff user sees what ``visible_to`` lets them see."""

    def get_queryset(self, request):
        queryset = super().get_queryset(request)
        if request.user.is_superuser:
            return queryset
        return queryset.visible_to(request.user)


# --- tiers ----------------------------------------------------------------------------------


@admin.register(Tier)
class TierAdmin(admin.ModelAdmin):
    list_display = ("name", "rank", "account_count", "workspace")
    list_select_related = ("workspace",)
    search_fields = ("name",)
    ordering = ("rank", "pk")

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(account_count=Count("accounts"))

    @admin.display(description="partner accounts", ordering="account_count")
    def account_count(self, tier):
        url = reverse("admin:partners_partneraccount_changelist") + f"?tier__id__exact={tier.pk}"
        return format_html('<a href="{}">{}</a>', url, tier.account_count)

    @admin.display(description="workspace")
    def workspace(self, tier):
        try:
            return tier.workspace
        except Workspace.DoesNotExist:
            return "— (the default workspace)"


# --- partner accounts -----------------------------------------------------------------------


class PartnerAccountAdminForm(forms.ModelForm):
    website = forms.URLField(required=False, assume_scheme="https")
    reason = forms.CharField(
        required=False,
        max_length=300,
        label="Reason for the change",
        help_text="Kept in the audit trail. Required when the account is made inactive or "
        "suspended.",
    )

    class Meta:
        model = PartnerAccount
        fields = [*services.ACCOUNT_FIELDS]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        manager = self.fields.get("manager")
        if manager is not None:
            # Partner managers and admins only; keep the current one even if no longer active.
            allowed = Q(pk__in=manager_choices().values("pk"))
            if self.instance.manager_id:
                allowed |= Q(pk=self.instance.manager_id)
            manager.queryset = (
                get_user_model().objects.filter(allowed).order_by("first_name", "last_name", "pk")
            )
            manager.label_from_instance = lambda u: u.get_full_name() or u.email

    def clean(self):
        cleaned = super().clean()
        status = cleaned.get("status")
        entering_block = status in (AccountStatus.INACTIVE, AccountStatus.SUSPENDED) and (
            self.instance.pk is None or "status" in self.changed_data
        )
        if entering_block and not cleaned.get("reason"):
            self.add_error("reason", "Say why: the partner manager and the audit trail see it.")
        return cleaned

    def _post_clean(self):
        super()._post_clean()
        try:
            # The service checks the hierarchy again on save; here the error lands on the field.
            services.check_hierarchy(self.instance)
        except ValidationError as error:
            self._update_errors(error)


class ContactInlineForm(ContactRulesForm):
    """The service's rules come back as form errors, not as a failed save."""


class ContactInline(admin.TabularInline):
    model = Contact
    form = ContactInlineForm
    fields = ("first_name", "last_name", "email", "title", "portal_access", "login")
    readonly_fields = ("login",)
    extra = 0
    can_delete = False
    show_change_link = True

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("user")

    @admin.display(description="login")
    def login(self, contact):
        if not contact.user_id:
            return "—"
        state = "" if contact.user.is_active else " (disabled)"
        return f"{contact.user.email}{state}"


@admin.register(PartnerAccount)
class PartnerAccountAdmin(ScopedAdminMixin, admin.ModelAdmin):
    form = PartnerAccountAdminForm
    list_display = (
        "name",
        "tier",
        "status_badge",
        "region",
        "country",
        "manager",
        "parent",
        "partner_since",
    )
    list_filter = (
        "status",
        "tier",
        "region",
        "industry",
        ("manager", admin.RelatedOnlyFieldListFilter),
    )
    list_select_related = ("tier", "manager", "parent")
    search_fields = ("name", "domain", "website")
    ordering = ("name", "pk")
    autocomplete_fields = ("parent",)
    readonly_fields = ("domain", "created_at", "updated_at", "history")
    show_full_result_count = False
    inlines = [ContactInline]
    fieldsets = (
        (
            "Company",
            {
                "fields": (
                    "name",
                    "website",
                    "domain",
                    "phone",
                    "country",
                    "region",
                    "industry",
                    "description",
                )
            },
        ),
        (
            "Program",
            {"fields": ("status", "reason", "tier", "parent", "manager", "partner_since")},
        ),
        ("Record", {"fields": ("created_at", "updated_at", "history")}),
    )
    actions = ["activate", "mark_inactive", "suspend", "resync_permissions"]

    def get_form(self, request, obj=None, change=False, **kwargs):
        form = super().get_form(request, obj, change=change, **kwargs)
        # No "add / edit / delete this user" buttons beside the manager, nor delete beside
        # the tier and parent: those are other pages' business.
        for name in ("manager", "tier", "parent"):
            widget = form.base_fields[name].widget if name in form.base_fields else None
            if isinstance(widget, RelatedFieldWidgetWrapper):
                widget.can_delete_related = False
                if name == "manager":
                    widget.can_add_related = widget.can_change_related = False
        return form

    @admin.display(description="status", ordering="status")
    def status_badge(self, account):
        return format_html(
            '<span style="color:{};font-weight:600">{}</span>',
            STATUS_COLOURS.get(account.status, "inherit"),
            account.get_status_display(),
        )

    @admin.display(description="audit trail")
    def history(self, account):
        if not account.pk:
            return "—"
        url = reverse("admin:partners_auditentry_changelist") + f"?account__id__exact={account.pk}"
        return format_html('<a href="{}">Every change to this account and its contacts</a>', url)

    def save_model(self, request, obj, form, change):
        services.save_account(
            actor=request.user, account=obj, reason=form.cleaned_data.get("reason", "")
        )

    def save_formset(self, request, form, formset, change):
        if formset.model is not Contact:
            return super().save_formset(request, form, formset, change)
        for contact in formset.save(commit=False):
            services.save_contact(actor=request.user, contact=contact)
        formset.save_m2m()

    def has_delete_permission(self, request, obj=None):
        return False

    def _set_status(self, request, queryset, status: str, verb: str):
        already = queryset.filter(status=status).count()
        _run_per_row(
            self,
            request,
            queryset.exclude(status=status),
            lambda account: services.change_account_status(
                actor=request.user,
                account=account,
                status=status,
                reason=f"{verb} with the admin's bulk action.",
            ),
            done=f"{verb} {{count}} partner account(s).",
        )
        if already:
            label = AccountStatus(status).label.lower()
            self.message_user(request, f"{already} were already {label}.", messages.INFO)

    @admin.action(description="Activate", permissions=["change"])
    def activate(self, request, queryset):
        self._set_status(request, queryset, AccountStatus.ACTIVE, "Activated")

    @admin.action(description="Mark inactive", permissions=["change"])
    def mark_inactive(self, request, queryset):
        self._set_status(request, queryset, AccountStatus.INACTIVE, "Marked inactive")

    @admin.action(description="Suspend", permissions=["change"])
    def suspend(self, request, queryset):
        self._set_status(request, queryset, AccountStatus.SUSPENDED, "Suspended")

    @admin.action(description="Re-sync access permissions", permissions=["resync"])
    def resync_permissions(self, request, queryset):
        ids = list(queryset.values_list("pk", flat=True))
        added, removed = services.sync_account_permissions(ids)
        self.message_user(
            request,
            f"Access re-synced on {len(ids)} account(s) and the accounts below them: "
            f"{added} permission(s) granted, {removed} revoked.",
            messages.SUCCESS,
        )

    def has_resync_permission(self, request):
        return request.user.is_superuser


# --- contacts -------------------------------------------------------------------------------


class ContactAdminForm(ContactInlineForm):
    roles = forms.ModelMultipleChoiceField(
        queryset=ContactRole.objects.all(),
        required=False,
        widget=forms.CheckboxSelectMultiple,
        label="Contact roles",
    )

    class Meta(ContactInlineForm.Meta):
        fields = ["account", *services.CONTACT_FIELDS, "roles"]


class LoginStateFilter(admin.SimpleListFilter):
    title = "login"
    parameter_name = "login"

    def lookups(self, request, model_admin):
        return [
            ("active", "Can sign in"),
            ("disabled", "Disabled"),
            ("invited", "Invited, no login yet"),
            ("not_invited", "Portal access, not invited"),
            ("none", "No portal access"),
        ]

    def queryset(self, request, queryset):
        invited = Invitation.objects.open().values("contact_id")
        match self.value():
            case "active":
                return queryset.filter(user__isnull=False, user__is_active=True)
            case "disabled":
                return queryset.filter(user__isnull=False, user__is_active=False)
            case "invited":
                return queryset.filter(user__isnull=True, pk__in=invited)
            case "not_invited":
                return (
                    queryset.filter(user__isnull=True)
                    .exclude(portal_access=PortalAccess.NONE)
                    .exclude(pk__in=invited)
                )
            case "none":
                return queryset.filter(portal_access=PortalAccess.NONE)
        return queryset


class InvitationInline(ReadOnlyAdminMixin, admin.TabularInline):
    model = Invitation
    fields = ("email", "state", "invited_by", "created_at", "expires_at", "sent_at")
    readonly_fields = fields
    extra = 0

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("invited_by")


@admin.register(Contact)
class ContactAdmin(ScopedAdminMixin, admin.ModelAdmin):
    form = ContactAdminForm
    list_display = ("full_name", "email", "account", "portal_access", "login_state", "role_list")
    list_filter = (
        "portal_access",
        LoginStateFilter,
        "roles",
        ("account__tier", admin.RelatedFieldListFilter),
    )
    list_select_related = ("account", "user")
    search_fields = ("first_name", "last_name", "email", "account__name")
    ordering = ("last_name", "first_name", "pk")
    autocomplete_fields = ("account",)
    readonly_fields = ("login", "created_at", "updated_at")
    show_full_result_count = False
    inlines = [InvitationInline]
    fieldsets = (
        (None, {"fields": ("account", "first_name", "last_name", "email", "phone", "title")}),
        ("Roles and portal access", {"fields": ("roles", "portal_access", "login")}),
        ("Record", {"fields": ("created_at", "updated_at")}),
    )
    actions = ["invite", "disable_access", "enable_access"]

    def get_queryset(self, request):
        return (
            super()
            .get_queryset(request)
            .prefetch_related(
                "roles",
                Prefetch(
                    "invitations", queryset=Invitation.objects.open(), to_attr="open_invitations"
                ),
            )
        )

    def get_readonly_fields(self, request, obj=None):
        fields = list(super().get_readonly_fields(request, obj))
        if obj is not None:
            # Moving a person to another company is not a thing; their permissions would not move.
            fields.append("account")
        return fields

    @admin.display(description="name", ordering="last_name")
    def full_name(self, contact):
        return contact.full_name

    @admin.display(description="login")
    def login_state(self, contact):
        return LOGIN_STATES.get(contact.access_state, contact.access_state)

    @admin.display(description="roles")
    def role_list(self, contact):
        return ", ".join(str(role) for role in contact.roles.all())

    @admin.display(description="login")
    def login(self, contact):
        if not contact.user_id:
            return "No login yet: use the action “Enable as partner (send invitation)”."
        url = reverse("admin:prm_user_change", args=[contact.user_id])
        state = "active" if contact.user.is_active else "disabled"
        return format_html('<a href="{}">{}</a> ({})', url, contact.user.email, state)

    def save_model(self, request, obj, form, change):
        services.save_contact(actor=request.user, contact=obj, roles=form.cleaned_data["roles"])

    def save_related(self, request, form, formsets, change):
        # Not form.save_m2m(): save_contact has set (and audited) the roles already.
        for formset in formsets:
            self.save_formset(request, form, formset, change=change)

    def has_delete_permission(self, request, obj=None):
        return False

    @admin.action(description="Enable as partner (send invitation)", permissions=["change"])
    def invite(self, request, queryset):
        _run_per_row(
            self,
            request,
            queryset.select_related("account"),
            lambda contact: services.invite_contact(actor=request.user, contact=contact),
            done="Sent {count} invitation(s).",
        )

    @admin.action(description="Disable portal access", permissions=["change"])
    def disable_access(self, request, queryset):
        _run_per_row(
            self,
            request,
            queryset.select_related("account", "user"),
            lambda contact: services.disable_portal_access(actor=request.user, contact=contact),
            done="Disabled the portal access of {count} contact(s).",
        )

    @admin.action(description="Re-enable portal access", permissions=["change"])
    def enable_access(self, request, queryset):
        _run_per_row(
            self,
            request,
            queryset.select_related("account", "user"),
            lambda contact: services.enable_portal_access(actor=request.user, contact=contact),
            done="Re-enabled the portal access of {count} contact(s).",
        )


@admin.register(ContactRole)
class ContactRoleAdmin(admin.ModelAdmin):
    list_display = ("name", "code", "position")
    list_editable = ("position",)
    search_fields = ("name", "code")
    ordering = ("position", "pk")
    prepopulated_fields = {"code": ("name",)}


# --- invitations ----------------------------------------------------------------------------


class InvitationStateFilter(admin.SimpleListFilter):
    title = "state"
    parameter_name = "state"

    def lookups(self, request, model_admin):
        return [(s, s.capitalize()) for s in ("open", "accepted", "revoked", "expired")]

    def queryset(self, request, queryset):
        now = timezone.now()
        match self.value():
            case "open":
                return queryset.open()
            case "accepted":
                return queryset.filter(accepted_at__isnull=False)
            case "revoked":
                return queryset.filter(accepted_at__isnull=True, revoked_at__isnull=False)
            case "expired":
                return queryset.filter(
                    accepted_at__isnull=True, revoked_at__isnull=True, expires_at__lte=now
                )
        return queryset


@admin.register(Invitation)
class InvitationAdmin(ScopedAdminMixin, ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = (
        "email",
        "contact",
        "account",
        "state",
        "created_at",
        "expires_at",
        "sent_at",
        "accepted_at",
        "revoked_at",
    )
    list_filter = (InvitationStateFilter,)
    list_select_related = ("contact__account",)
    search_fields = ("email", "contact__first_name", "contact__last_name", "contact__account__name")
    ordering = ("-created_at", "-pk")
    show_full_result_count = False
    actions = ["revoke"]

    @admin.display(description="account", ordering="contact__account__name")
    def account(self, invitation):
        return invitation.contact.account

    @admin.action(description="Revoke")
    def revoke(self, request, queryset):
        contacts = {
            invitation.contact_id: invitation.contact
            for invitation in queryset.open().select_related("contact__account")
        }
        _run_per_row(
            self,
            request,
            contacts.values(),
            lambda contact: services.revoke_invitation(actor=request.user, contact=contact),
            done="Revoked the open invitations of {count} contact(s).",
        )


# --- workspaces -----------------------------------------------------------------------------


class WorkspaceTabInline(admin.TabularInline):
    model = WorkspaceTab
    fields = ("tab", "label", "position", "enabled")
    ordering = ("position", "pk")
    extra = 0


@admin.register(Workspace)
class WorkspaceAdmin(admin.ModelAdmin):
    list_display = ("name", "tier", "enabled_tabs", "welcome_title")
    list_select_related = ("tier",)
    search_fields = ("name", "welcome_title")
    ordering = ("tier__rank", "pk")
    inlines = [WorkspaceTabInline]

    def get_queryset(self, request):
        return (
            super()
            .get_queryset(request)
            .annotate(enabled_tab_count=Count("tabs", filter=Q(tabs__enabled=True)))
        )

    @admin.display(description="enabled tabs", ordering="enabled_tab_count")
    def enabled_tabs(self, workspace):
        return workspace.enabled_tab_count


# --- audit trail and permission rows (read-only) --------------------------------------------


@admin.register(AuditEntry)
class AuditEntryAdmin(ScopedAdminMixin, ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ("created_at", "account", "actor", "action", "object", "message")
    list_filter = ("action", "object_type")
    list_select_related = ("account", "actor")
    search_fields = ("object_repr", "message", "account__name", "actor__email")
    date_hierarchy = "created_at"
    ordering = ("-created_at", "-pk")
    show_full_result_count = False
    fields = (
        "created_at",
        "account",
        "actor",
        "action",
        "object_type",
        "object_id",
        "object_repr",
        "message",
        "change_list",
    )
    readonly_fields = fields

    @admin.display(description="object", ordering="object_repr")
    def object(self, entry):
        return f"{entry.object_type}: {entry.object_repr}"

    @admin.display(description="changes")
    def change_list(self, entry):
        if not entry.changes:
            return "—"
        return format_html(
            "<table>{}</table>",
            format_html_join(
                "",
                "<tr><th>{}</th><td>{}</td><td>→</td><td>{}</td></tr>",
                (
                    (label, *(values if len(values) == 2 else ("", values)))
                    for label, values in entry.changes.items()
                ),
            ),
        )


class PermissionCodenameFilter(admin.SimpleListFilter):
    title = "permission"
    parameter_name = "permission"

    def lookups(self, request, model_admin):
        return [(codename, codename) for codename in services.ALL_PERMS]

    def queryset(self, request, queryset):
        if self.value():
            return queryset.filter(permission__codename=self.value())
        return queryset


class PermissionRowAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    """Guardian's rows, to inspect: sync_account_permissions is their only writer."""

    list_filter = (PermissionCodenameFilter,)
    show_full_result_count = False

    @admin.display(description="permission", ordering="permission__codename")
    def codename(self, row):
        return row.permission.codename

    @admin.display(description="partner account", ordering="content_object__name")
    def account(self, row):
        return row.content_object


@admin.register(PartnerAccountUserObjectPermission)
class PartnerAccountUserObjectPermissionAdmin(PermissionRowAdmin):
    list_display = ("user", "codename", "account")
    list_select_related = ("user", "permission", "content_object")
    search_fields = ("user__email", "content_object__name")
    ordering = ("content_object__name", "user__email", "permission__codename", "pk")


@admin.register(PartnerAccountGroupObjectPermission)
class PartnerAccountGroupObjectPermissionAdmin(PermissionRowAdmin):
    list_display = ("group", "codename", "account")
    list_select_related = ("group", "permission", "content_object")
    search_fields = ("group__name", "content_object__name")
    ordering = ("content_object__name", "group__name", "permission__codename", "pk")
