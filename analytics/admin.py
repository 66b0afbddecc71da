"""Admin for analytics: how KPIs read, exchange rates, goals, the kept scores (read only) and
saved reports (admins share them here).

Goals are written through ``analytics.services`` (the checks, the audit entry, the partner's
admins told), so the admin and the goals pages give the same answers.
"""

from __future__ import annotations

from django import forms
from django.contrib import admin
from django.core.exceptions import ValidationError

from analytics import kpis, services
from analytics.models import CurrencyRate, Goal, KpiDefinition, PartnerScore, SavedReport


@admin.register(KpiDefinition)
class KpiDefinitionAdmin(admin.ModelAdmin):
    """The formulas are in code (``analytics.kpis``): admins change how a KPI reads, not what
    it is, so there is nothing to add or delete here."""

    list_display = (
        "label",
        "code",
        "unit",
        "direction",
        "position",
        "on_scorecard",
        "goal_allowed",
    )
    list_editable = ("position", "on_scorecard")
    list_filter = ("unit", "on_scorecard", "goal_allowed")
    search_fields = ("label", "code")
    readonly_fields = ("code",)
    fields = (
        "code",
        "label",
        "unit",
        "direction",
        "description",
        "position",
        "on_scorecard",
        "goal_allowed",
    )
    ordering = ("position", "code")

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(CurrencyRate)
class CurrencyRateAdmin(admin.ModelAdmin):
    list_display = ("currency", "rate", "updated_at")
    search_fields = ("currency",)
    ordering = ("currency",)


class GoalAdminForm(forms.ModelForm):
    class Meta:
        model = Goal
        fields = ("account", "quarter", "kpi", "target", "note")

    def clean(self):
        data = super().clean()
        if self.errors:
            return data
        try:
            services.clean_goal(
                data.get("quarter") or self.instance.quarter,
                data.get("kpi") or self.instance.kpi,
                data.get("target"),
                data.get("note"),
            )
        except ValidationError as error:
            for field, messages in error.message_dict.items():
                self.add_error(field if field in self.fields else None, messages)
        return data


def _is_past(goal: Goal | None) -> bool:
    return goal is not None and goal.quarter < kpis.Period.current_quarter().start


@admin.register(Goal)
class GoalAdmin(admin.ModelAdmin):
    """Goals set here are agreed at once (``set_goal``); past quarters are read only."""

    form = GoalAdminForm
    list_display = ("account", "quarter", "kpi", "target", "status", "set_by", "updated_at")
    list_filter = ("quarter", "status", "kpi")
    list_select_related = ("account", "set_by")
    search_fields = ("account__name", "note")
    autocomplete_fields = ("account",)
    readonly_fields = ("status", "proposed_by", "set_by", "created_at", "updated_at")
    ordering = ("-quarter", "account__name", "kpi", "pk")
    show_full_result_count = False

    def get_readonly_fields(self, request, obj=None):
        if obj is not None:  # the goal's identity: a different KPI or quarter is another goal
            return ("account", "quarter", "kpi", *self.readonly_fields)
        return self.readonly_fields

    def get_actions(self, request):
        actions = super().get_actions(request)
        actions.pop("delete_selected", None)  # one at a time, through remove_goal
        return actions

    def has_change_permission(self, request, obj=None):
        return super().has_change_permission(request, obj) and not _is_past(obj)

    def has_delete_permission(self, request, obj=None):
        return super().has_delete_permission(request, obj) and not _is_past(obj)

    def save_model(self, request, obj, form, change):
        goal = services.set_goal(
            actor=request.user,
            account=obj.account,
            quarter=obj.quarter,
            kpi=obj.kpi,
            target=obj.target,
            note=obj.note,
        )
        obj.pk = goal.pk
        obj.refresh_from_db()

    def delete_model(self, request, obj):
        services.remove_goal(actor=request.user, goal=obj)


@admin.register(PartnerScore)
class PartnerScoreAdmin(admin.ModelAdmin):
    """What the refresh task kept, to look at (it is recomputed every 15 minutes)."""

    list_display = (
        "account",
        "quarter",
        "won_revenue",
        "weighted_pipeline",
        "win_rate",
        "health_score",
        "goals_behind",
        "computed_at",
    )
    list_filter = ("quarter",)
    list_select_related = ("account",)
    search_fields = ("account__name",)
    ordering = ("-quarter", "account__name", "pk")
    show_full_result_count = False

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(SavedReport)
class SavedReportAdmin(admin.ModelAdmin):
    """Reports are built in the portal; here admins share them with every partner manager or
    with partner admins (who always see their own company's rows only)."""

    list_display = ("name", "record_type", "owner", "shared", "shared_with_partners", "updated_at")
    list_editable = ("shared", "shared_with_partners")
    list_filter = ("record_type", "shared", "shared_with_partners")
    list_select_related = ("owner",)
    search_fields = ("name", "description")
    ordering = ("name", "pk")
    fields = (
        "name",
        "description",
        "shared",
        "shared_with_partners",
        "record_type",
        "columns",
        "filters",
        "group_by",
        "sort",
        "descending",
        "owner",
        "created_at",
        "updated_at",
    )
    readonly_fields = (
        "record_type",
        "columns",
        "filters",
        "group_by",
        "sort",
        "descending",
        "owner",
        "created_at",
        "updated_at",
    )

    def has_add_permission(self, request):
        return False
