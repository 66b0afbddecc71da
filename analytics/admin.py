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
from analytics.models import (
    Alert,
    AlertRule,
    CurrencyRate,
    Goal,
    KpiDefinition,
    PartnerScore,
    QuarterlyReview,
    QuestionKind,
    SavedReport,
    Survey,
    SurveyDistribution,
    SurveyInvitation,
    SurveyQuestion,
    SurveyResponse,
    SurveySettings,
)
from prm.admin import ReadOnlyAdminMixin


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
class PartnerScoreAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
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


# --- alert rules and alerts (issue 6) -----------------------------------------------------------


@admin.register(AlertRule)
class AlertRuleAdmin(admin.ModelAdmin):
    """Admins decide what is watched (condition and threshold), who is told, how and how often.
    ``manage.py install_alert_rules`` creates the shipped rules."""

    list_display = (
        "name",
        "condition",
        "threshold",
        "audience",
        "channel",
        "every_minutes",
        "active",
        "last_run_at",
    )
    list_editable = ("active",)
    list_filter = ("active", "condition", "audience", "channel")
    search_fields = ("name",)
    ordering = ("name", "pk")
    fields = ("name", "condition", "threshold", "audience", "channel", "every_minutes", "active")


@admin.register(Alert)
class AlertAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    """What the rules raised (read-only: people acknowledge and snooze on the alerts page)."""

    list_display = ("title", "rule", "account", "raised_at", "cleared_at", "acknowledged_at")
    list_filter = ("rule__condition", "rule")
    list_select_related = ("rule", "account")
    search_fields = ("title", "subject", "account__name")
    date_hierarchy = "raised_at"
    ordering = ("-raised_at", "-pk")


# --- feedback surveys (issue 6) -----------------------------------------------------------------


class SurveyQuestionFormSet(forms.BaseInlineFormSet):
    """A survey's questions together: choice questions need options, at most one NPS question
    (it is the one that feeds the satisfaction KPI)."""

    def clean(self):
        super().clean()
        nps = 0
        for form in self.forms:
            data = getattr(form, "cleaned_data", None) or {}
            if not data or data.get("DELETE"):
                continue
            kind = data.get("kind")
            if kind == QuestionKind.CHOICE and not [
                line for line in (data.get("options") or "").splitlines() if line.strip()
            ]:
                form.add_error("options", "A choice question needs its options, one per line.")
            if kind == QuestionKind.NPS:
                nps += 1
                if nps > 1:
                    form.add_error(
                        "kind", "A survey asks one 0–10 (NPS) question at most: it feeds the KPI."
                    )


class SurveyQuestionInline(admin.TabularInline):
    model = SurveyQuestion
    formset = SurveyQuestionFormSet
    fields = ("position", "text", "kind", "options", "required")
    extra = 1
    ordering = ("position", "pk")


class SurveyDistributionInline(admin.TabularInline):
    model = SurveyDistribution
    fields = ("name", "trigger", "audience", "starts_on", "remind_after_days", "active")
    extra = 0
    show_change_link = True


@admin.register(Survey)
class SurveyAdmin(admin.ModelAdmin):
    """A survey and its questions; who is asked and when is set on its distributions."""

    list_display = ("title", "active", "closes_on", "created_at")
    list_filter = ("active",)
    search_fields = ("title",)
    ordering = ("-created_at", "-pk")
    fields = ("title", "intro", "active", "closes_on")
    inlines = (SurveyQuestionInline, SurveyDistributionInline)


@admin.register(SurveyDistribution)
class SurveyDistributionAdmin(admin.ModelAdmin):
    """To whom (audience, tiers, accounts: empty means all) and when (once, every quarter,
    after a deal is won, after a course is completed). The fatigue rule is in the settings."""

    list_display = ("name", "survey", "trigger", "audience", "starts_on", "active")
    list_filter = ("trigger", "audience", "active")
    list_select_related = ("survey",)
    search_fields = ("name", "survey__title")
    autocomplete_fields = ("accounts",)
    filter_horizontal = ("tiers",)
    ordering = ("survey", "name", "pk")
    fields = (
        "survey",
        "name",
        "trigger",
        "audience",
        "tiers",
        "accounts",
        "starts_on",
        "remind_after_days",
        "active",
    )


class SurveySettingsForm(forms.ModelForm):
    class Meta:
        model = SurveySettings
        fields = ("fatigue_days", "link_days")

    def clean(self):
        data = super().clean()
        if self.instance.pk is None and SurveySettings.objects.exists():
            raise ValidationError("The survey settings exist already: change that row instead.")
        if data.get("link_days") == 0:
            self.add_error("link_days", "A link must work for at least one day.")
        return data


@admin.register(SurveySettings)
class SurveySettingsAdmin(admin.ModelAdmin):
    """One row: the fatigue rule and how long a personal link lasts (a second one is refused;
    without any, the defaults hold)."""

    form = SurveySettingsForm
    list_display = ("__str__", "fatigue_days", "link_days")

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(SurveyInvitation)
class SurveyInvitationAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    """Who was asked (written by the distribution tasks)."""

    list_display = (
        "survey",
        "user",
        "account",
        "occasion",
        "created_at",
        "expires_at",
        "reminded_at",
        "responded_at",
    )
    list_filter = ("survey", "distribution__trigger")
    list_select_related = ("survey", "user", "account")
    search_fields = ("user__email", "account__name", "survey__title", "occasion")
    date_hierarchy = "created_at"
    ordering = ("-created_at", "-pk")
    show_full_result_count = False


@admin.register(SurveyResponse)
class SurveyResponseAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    """The answer sheets (the results page reads them per manager's partners)."""

    list_display = ("survey", "account", "user", "nps", "submitted_at")
    list_filter = ("survey",)
    list_select_related = ("survey", "account", "user")
    search_fields = ("account__name", "user__email", "survey__title")
    date_hierarchy = "submitted_at"
    ordering = ("-submitted_at", "-pk")
    show_full_result_count = False


# --- quarterly goal reviews (issue 6) -------------------------------------------------------------


@admin.register(QuarterlyReview)
class QuarterlyReviewAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    """The reviews the quarter-end task made (edited by managers on the review page)."""

    list_display = ("account", "quarter", "acknowledged", "created_at")
    list_filter = ("quarter",)
    list_select_related = ("account",)
    search_fields = ("account__name",)
    ordering = ("-quarter", "account__name", "pk")
    show_full_result_count = False

    @admin.display(boolean=True, ordering="acknowledged_at")
    def acknowledged(self, review):
        return review.acknowledged_at is not None
