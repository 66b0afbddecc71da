"""Admin for the core tables: users (email login, one role each), the task outbox, sent mail,
custom fields."""

from __future__ import annotations

import json
import re

from django import forms
from django.contrib import admin, messages
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.contrib.auth.forms import AdminUserCreationForm, UserChangeForm
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.db.models import Exists, JSONField, OuterRef, Q
from django.http import Http404, HttpResponseNotAllowed, HttpResponseRedirect
from django.urls import path, reverse
from django.utils import timezone
from django.utils.html import format_html
from django.utils.text import Truncator

from prm.access import partner_contact
from prm.models import (
    PARTNER_MANAGERS_GROUP,
    CustomField,
    CustomFieldType,
    FailedTask,
    Notification,
    PendingTask,
    SentMessage,
    User,
)
from prm.tasks import enqueue, resend_pending_tasks


class ReadOnlyAdminMixin:
    """Records that services and tasks write and people only read in the admin."""

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


def _clean_email(form) -> str:
    email = User.objects.normalize_email(form.cleaned_data["email"]).strip().lower()
    clash = User.objects.filter(email__iexact=email)
    if form.instance.pk:
        clash = clash.exclude(pk=form.instance.pk)
    if clash.exists():
        raise forms.ValidationError("Another login already uses this email address.")
    return email


class UserCreationForm(AdminUserCreationForm):
    class Meta:
        model = User
        fields = ("email",)
        field_classes = {}

    def clean_email(self):
        return _clean_email(self)


class UserEditForm(UserChangeForm):
    class Meta:
        model = User
        fields = "__all__"
        field_classes = {}

    def clean_email(self):
        return _clean_email(self)


class RoleFilter(admin.SimpleListFilter):
    title = "role"
    parameter_name = "role"

    def lookups(self, request, model_admin):
        return [
            ("admin", "Admin"),
            ("manager", "Partner manager"),
            ("partner_admin", "Partner admin"),
            ("partner_member", "Partner member"),
            ("none", "No role"),
        ]

    def queryset(self, request, queryset):
        internal = Q(is_superuser=True) | Q(is_partner_manager=True)
        partner = Q(contact__portal_access__in=["admin", "member"])
        match self.value():
            case "admin":
                return queryset.filter(is_superuser=True)
            case "manager":
                return queryset.filter(is_superuser=False, is_partner_manager=True)
            case "partner_admin":
                return queryset.filter(contact__portal_access="admin")
            case "partner_member":
                return queryset.filter(contact__portal_access="member")
            case "none":
                return queryset.exclude(internal | partner)
        return queryset


@admin.register(User)
class UserAdmin(DjangoUserAdmin):
    form = UserEditForm
    add_form = UserCreationForm
    fieldsets = (
        (None, {"fields": ("email", "password")}),
        ("Personal info", {"fields": ("first_name", "last_name")}),
        (
            "Permissions",
            {
                "fields": ("is_active", "is_staff", "is_superuser", "groups", "user_permissions"),
                "description": (
                    "Admins are superusers; partner managers are in the group "
                    f"“{PARTNER_MANAGERS_GROUP}”. Partner users get their access from their "
                    "contact (Partners › Contacts) and cannot also be internal users."
                ),
            },
        ),
        ("Important dates", {"fields": ("last_login", "date_joined")}),
    )
    add_fieldsets = (
        (
            None,
            {
                "classes": ("wide",),
                "fields": (
                    "email",
                    "first_name",
                    "last_name",
                    "usable_password",
                    "password1",
                    "password2",
                ),
            },
        ),
    )
    list_display = ("email", "full_name", "role", "is_active", "last_login", "date_joined")
    list_filter = (RoleFilter, "is_superuser", "is_active", "groups")
    list_select_related = ("contact__account",)
    search_fields = ("email", "first_name", "last_name")
    ordering = ("email",)
    readonly_fields = ("last_login", "date_joined")

    def get_queryset(self, request):
        in_group = User.groups.through.objects.filter(
            user_id=OuterRef("pk"), group__name=PARTNER_MANAGERS_GROUP
        )
        return super().get_queryset(request).annotate(is_partner_manager=Exists(in_group))

    def get_readonly_fields(self, request, obj=None):
        fields = list(super().get_readonly_fields(request, obj))
        if obj is not None and partner_contact(obj) is not None:
            # A partner user is never internal (ARCHITECTURE.md §3), and is enabled or disabled
            # through their contact so that the audit trail and permissions follow.
            fields += ["is_active", "is_staff", "is_superuser", "groups", "user_permissions"]
        return fields

    def has_delete_permission(self, request, obj=None):
        if obj is not None and partner_contact(obj) is not None:
            return False  # disable their portal access from the contact instead
        return super().has_delete_permission(request, obj)

    @admin.display(description="name", ordering="last_name")
    def full_name(self, user):
        return user.get_full_name()

    @admin.display(description="role")
    def role(self, user):
        if user.is_superuser:
            return "Admin"
        contact = partner_contact(user)
        if contact is not None:
            if contact.portal_access == "none":
                return f"None (contact at {contact.account}, no portal access)"
            return f"{contact.get_portal_access_display()} · {contact.account}"
        if getattr(user, "is_partner_manager", False):
            return "Partner manager"
        return "None"


@admin.register(PendingTask)
class PendingTaskAdmin(admin.ModelAdmin):
    """Tasks the broker refused; the beat re-sends them every minute, this sends them now."""

    list_display = ("task_name", "created_at", "attempts", "arguments", "short_error")
    list_filter = ("task_name",)
    search_fields = ("task_name", "error")
    ordering = ("created_at", "pk")
    readonly_fields = ("task_name", "args", "kwargs", "error", "attempts", "created_at")
    actions = ["resend_now"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    @admin.display(description="arguments")
    def arguments(self, task):
        return Truncator(f"{task.args} {task.kwargs or ''}".strip()).chars(60)

    @admin.display(description="error")
    def short_error(self, task):
        return Truncator(task.error).chars(80)

    @admin.action(description="Re-send the selected tasks now")
    def resend_now(self, request, queryset):
        ids = list(queryset.values_list("pk", flat=True))
        sent = resend_pending_tasks(batch_size=len(ids), ids=ids)
        left = PendingTask.objects.filter(pk__in=ids).count()
        if sent:
            self.message_user(request, f"Re-sent {sent} task(s) to the workers.", messages.SUCCESS)
        if left:
            self.message_user(
                request,
                f"{left} task(s) still waiting: the broker refused them again (see the error).",
                messages.WARNING,
            )


# --- failed tasks: what the workers gave up on, for admins to read and re-run ------------------


def rerun_failed_tasks(*, actor, ids) -> tuple[list[FailedTask], list[str]]:
    """Send the failed tasks ``ids`` not re-run yet to the workers again, with their arguments,
    after the commit; each is re-run once (a failing re-run is recorded as a new failure).

    Returns the tasks re-sent and a problem per task that was not (already re-run, unknown).
    """
    from prm.celery import app

    app.loader.import_default_modules()  # every app's tasks, as the workers know them
    problems = []
    with transaction.atomic():
        chosen = FailedTask.objects.select_for_update().filter(pk__in=ids).order_by("pk")
        rerun = []
        for failed in chosen:
            if failed.rerun_at is not None:
                problems.append(f"{failed.task_name} [{failed.task_id}] was already re-run.")
            elif failed.task_name not in app.tasks:
                problems.append(f"{failed.task_name} is not a task any more: not re-run.")
            else:
                rerun.append(failed)
        FailedTask.objects.filter(pk__in=[failed.pk for failed in rerun]).update(
            rerun_at=timezone.now(), rerun_by=actor
        )
        for failed in rerun:
            enqueue(failed.task_name, *failed.args, **failed.kwargs)
    return rerun, problems


class RerunStateFilter(admin.SimpleListFilter):
    title = "re-run"
    parameter_name = "rerun"

    def lookups(self, request, model_admin):
        return [("no", "Not re-run yet"), ("yes", "Re-run")]

    def queryset(self, request, queryset):
        if self.value() == "no":
            return queryset.filter(rerun_at__isnull=True)
        if self.value() == "yes":
            return queryset.filter(rerun_at__isnull=False)
        return queryset


@admin.register(FailedTask)
class FailedTaskAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    """Tasks that failed for good (a permanent error, or their retries spent), for admins only;
    an admin re-runs them with the same arguments once the cause is fixed."""

    list_display = (
        "task_name",
        "exception",
        "short_message",
        "failed_at",
        "retries",
        "rerun_state",
    )
    list_filter = (RerunStateFilter, "task_name", "exception", "failed_at")
    list_select_related = ("rerun_by",)
    search_fields = ("task_id", "task_name", "exception", "message")
    date_hierarchy = "failed_at"
    ordering = ("-failed_at", "-pk")
    show_full_result_count = False
    fields = (
        "task_name",
        "task_id",
        "arguments",
        "exception",
        "message",
        "retries",
        "failed_at",
        "rerun_state",
        "traceback_text",
    )
    readonly_fields = fields
    actions = ["rerun_selected"]

    def has_view_permission(self, request, obj=None):
        return request.user.is_active and request.user.is_superuser

    def has_rerun_permission(self, request, obj=None):
        return request.user.is_active and request.user.is_superuser

    def get_urls(self):
        info = self.opts.app_label, self.opts.model_name
        rerun = path(
            "<path:object_id>/rerun/",
            self.admin_site.admin_view(self.rerun_view),
            name="{}_{}_rerun".format(*info),
        )
        return [rerun, *super().get_urls()]

    def changelist_view(self, request, extra_context=None):
        waiting = FailedTask.objects.filter(rerun_at__isnull=True).count()
        if waiting:
            subtitle = f"{waiting} failed task(s) not re-run yet"
            extra_context = {"subtitle": subtitle, **(extra_context or {})}
        return super().changelist_view(request, extra_context)

    def change_view(self, request, object_id, form_url="", extra_context=None):
        extra_context = {"can_rerun": self.has_rerun_permission(request), **(extra_context or {})}
        return super().change_view(request, object_id, form_url, extra_context)

    @admin.display(description="message")
    def short_message(self, failed):
        return Truncator(failed.message).chars(80)

    @admin.display(description="re-run")
    def rerun_state(self, failed):
        if failed.rerun_at is None:
            return "Not re-run yet"
        when = timezone.localtime(failed.rerun_at).strftime("%Y-%m-%d %H:%M")
        return f"Re-run {when} by {failed.rerun_by or 'a deleted user'}"

    @admin.display(description="arguments")
    def arguments(self, failed):
        text = json.dumps({"args": failed.args, "kwargs": failed.kwargs}, indent=2)
        return format_html("<pre>{}</pre>", text)

    @admin.display(description="traceback")
    def traceback_text(self, failed):
        return format_html("<pre>{}</pre>", failed.traceback or "(none)")

    @admin.action(description="Re-run selected tasks", permissions=["rerun"])
    def rerun_selected(self, request, queryset):
        self._rerun(request, list(queryset.values_list("pk", flat=True)))

    def rerun_view(self, request, object_id):
        if request.method != "POST":
            return HttpResponseNotAllowed(["POST"])
        if not self.has_rerun_permission(request):
            raise PermissionDenied
        failed = self.get_object(request, object_id)
        if failed is None:
            raise Http404("No such failed task.")
        self._rerun(request, [failed.pk])
        change = reverse("admin:prm_failedtask_change", args=[failed.pk])
        return HttpResponseRedirect(change)

    def _rerun(self, request, ids):
        rerun, problems = rerun_failed_tasks(actor=request.user, ids=ids)
        if rerun:
            self.message_user(
                request, f"Re-sent {len(rerun)} task(s) to the workers.", messages.SUCCESS
            )
        for problem in problems:
            self.message_user(request, problem, messages.WARNING)


_site_app_list = admin.site.get_app_list


def _app_list_counting_failed_tasks(request, app_label=None):
    """The admin's app list, with the number of failed tasks not re-run yet next to them."""
    app_list = _site_app_list(request, app_label)
    for app in app_list:
        for entry in app["models"]:
            if entry.get("model") is FailedTask:
                waiting = FailedTask.objects.filter(rerun_at__isnull=True).count()
                if waiting:
                    entry["name"] = f"{entry['name']} ({waiting} not re-run)"
    return app_list


admin.site.get_app_list = _app_list_counting_failed_tasks


@admin.register(SentMessage)
class SentMessageAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    """The keys of notifications already sent: what makes a re-run task send nothing twice."""

    list_display = ("key", "created_at")
    search_fields = ("key",)
    date_hierarchy = "created_at"
    ordering = ("-created_at", "-pk")
    show_full_result_count = False


@admin.register(Notification)
class NotificationAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    """In-app notifications (the bell), read-only: tasks write them, people read them."""

    list_display = ("title", "user", "created_at", "read_at")
    list_filter = ("created_at",)
    list_select_related = ("user",)
    search_fields = ("title", "key", "user__email")
    date_hierarchy = "created_at"
    ordering = ("-created_at", "-pk")
    show_full_result_count = False


#: A key is a lower-case identifier without double underscores: it is the last part of the
#: ``custom__<key>`` lookups of filters and reports.
_KEY = re.compile(r"[a-z][a-z0-9]*(_[a-z0-9]+)*")
#: Keys Django would read as a lookup on the JSON itself rather than as a key in it.
_RESERVED_KEYS = set(JSONField.get_lookups())


_CUSTOM_FIELD_FIELDS = (
    "target",
    "label",
    "key",
    "field_type",
    "choices",
    "required",
    "help_text",
    "internal_only",
    "position",
    "active",
)


class CustomFieldForm(forms.ModelForm):
    class Meta:
        model = CustomField
        fields = _CUSTOM_FIELD_FIELDS

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if "key" in self.fields:  # clean_key says it better than the generic slug message
            self.fields["key"].validators = []

    def clean_key(self):
        key = self.cleaned_data["key"].strip()
        if not _KEY.fullmatch(key):
            raise forms.ValidationError(
                "Use lower-case letters, digits and single underscores, starting with a letter "
                "(e.g. annual_revenue)."
            )
        if key in _RESERVED_KEYS:
            raise forms.ValidationError(f"“{key}” is reserved: choose another key.")
        return key

    def clean(self):
        cleaned = super().clean()
        field_type = cleaned.get("field_type")
        options = [line.strip() for line in cleaned.get("choices", "").splitlines()]
        options = [option for option in options if option]
        if field_type == CustomFieldType.CHOICE:
            if not options:
                self.add_error("choices", "List the options of a choice field, one per line.")
            elif len(set(options)) != len(options):
                self.add_error("choices", "Each option once, please.")
            else:
                cleaned["choices"] = "\n".join(options)
        elif field_type and options:
            self.add_error("choices", "Only a choice field has options: clear them.")
        if field_type == CustomFieldType.BOOLEAN and cleaned.get("required"):
            self.add_error("required", "A yes/no field can't be required: unticked means no.")
        return cleaned


@admin.register(CustomField)
class CustomFieldAdmin(admin.ModelAdmin):
    """Fields admins add to partner accounts, leads, registrations and opportunities; they show
    in the portal's forms, detail pages, filters, exports and reports."""

    form = CustomFieldForm
    list_display = (
        "label",
        "target",
        "field_type",
        "required",
        "internal_only",
        "active",
        "position",
    )
    list_filter = ("target", "field_type", "active", "internal_only")
    search_fields = ("label", "key")
    ordering = ("target", "position", "label", "pk")
    fields = _CUSTOM_FIELD_FIELDS

    def get_readonly_fields(self, request, obj=None):
        if obj is not None:
            # Records keep their values under the key, for this record type: changing either
            # would orphan every value already stored. Retire a field with "active" instead.
            return ("target", "key")
        return ()
