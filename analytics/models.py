"""Analytics tables: KPI definitions, goals per partner per quarter, the kept partner scores
behind the ranked table, saved reports and the exchange rates money KPIs convert with."""

from __future__ import annotations

from django.conf import settings
from django.core.cache import cache
from django.db import models

from prm.access import ReferenceQuerySet, Role, ScopedQuerySet, role_of, visible_through


class KpiCode(models.TextChoices):
    """The KPIs whose formulas exist in code (``analytics.kpis``); admins edit how they read."""

    WON_REVENUE = "won_revenue", "Won revenue"
    PIPELINE_VALUE = "pipeline_value", "Pipeline value"
    WEIGHTED_PIPELINE = "weighted_pipeline", "Weighted pipeline"
    NEW_PIPELINE = "new_pipeline", "New pipeline"
    DEALS_REGISTERED = "deals_registered", "Deals registered"
    APPROVAL_RATE = "approval_rate", "Registration approval rate"
    DECISION_HOURS = "decision_hours", "Median time to decision"
    WIN_RATE = "win_rate", "Win rate"
    AVERAGE_DEAL = "average_deal", "Average deal size"
    SALES_CYCLE_DAYS = "sales_cycle_days", "Sales cycle length"
    LEAD_ACCEPTANCE_RATE = "lead_acceptance_rate", "Lead acceptance rate"
    LEAD_ACCEPT_HOURS = "lead_accept_hours", "Median time to accept a lead"
    CERTIFIED_PEOPLE = "certified_people", "Certified people"
    TRAINING_COMPLETION = "training_completion", "Training completion"
    SATISFACTION = "satisfaction", "Satisfaction (NPS)"
    HEALTH_SCORE = "health_score", "Partner health score"


class KpiUnit(models.TextChoices):
    MONEY = "money", "Money (reporting currency)"
    COUNT = "count", "Count"
    PERCENT = "percent", "Percent"
    HOURS = "hours", "Hours"
    DAYS = "days", "Days"
    PEOPLE = "people", "People"
    SCORE = "score", "Score"


class KpiDirection(models.TextChoices):
    UP = "up", "Higher is better"
    DOWN = "down", "Lower is better"


class KpiDefinition(models.Model):
    """How a KPI reads (label, unit, direction, order): one row per formula in code."""

    code = models.CharField(max_length=40, choices=KpiCode.choices, unique=True, editable=False)
    label = models.CharField(max_length=80)
    unit = models.CharField(max_length=10, choices=KpiUnit.choices)
    direction = models.CharField(max_length=4, choices=KpiDirection.choices, default="up")
    description = models.TextField(blank=True, help_text="Shown next to the figure.")
    position = models.PositiveSmallIntegerField(default=0)
    on_scorecard = models.BooleanField(
        "on the scorecard", default=True, help_text="Shown on partners' scorecards."
    )
    goal_allowed = models.BooleanField(
        "goals allowed", default=True, help_text="Managers may set quarterly targets on it."
    )

    objects = ReferenceQuerySet.as_manager()

    class Meta:
        ordering = ["position", "code"]
        verbose_name = "KPI"
        verbose_name_plural = "KPIs"

    def __str__(self):
        return self.label


#: Where ``analytics.kpis.exchange_rates`` keeps the rates between queries.
RATES_CACHE_KEY = "analytics:exchange-rates"


class CurrencyRate(models.Model):
    """How many units of the reporting currency one unit of ``currency`` is worth."""

    currency = models.CharField(max_length=3, unique=True, help_text="ISO code, e.g. EUR.")
    rate = models.DecimalField(
        max_digits=14, decimal_places=6, help_text="1 unit of this currency in the reporting one."
    )
    updated_at = models.DateTimeField(auto_now=True)

    objects = ReferenceQuerySet.as_manager()

    class Meta:
        ordering = ["currency"]
        constraints = [models.CheckConstraint(condition=models.Q(rate__gt=0), name="rate_positive")]

    def __str__(self):
        return f"{self.currency} × {self.rate}"

    def save(self, *args, **kwargs):
        self.currency = self.currency.upper()
        super().save(*args, **kwargs)
        cache.delete(RATES_CACHE_KEY)

    def delete(self, *args, **kwargs):
        result = super().delete(*args, **kwargs)
        cache.delete(RATES_CACHE_KEY)
        return result


class GoalStatus(models.TextChoices):
    PROPOSED = "proposed", "Proposed by the partner"
    ACCEPTED = "accepted", "Agreed"


class Goal(models.Model):
    """One target for one KPI of one partner account in one quarter."""

    account = models.ForeignKey(
        "partners.PartnerAccount", on_delete=models.CASCADE, related_name="goals"
    )
    quarter = models.DateField(help_text="The quarter's first day.")
    kpi = models.CharField("KPI", max_length=40, choices=KpiCode.choices)
    target = models.DecimalField(max_digits=16, decimal_places=2)
    status = models.CharField(max_length=10, choices=GoalStatus.choices, default="accepted")
    note = models.CharField(max_length=300, blank=True)
    proposed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    set_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        help_text="The manager who set or agreed the target.",
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = visible_through("account").as_manager()

    class Meta:
        ordering = ["quarter", "account", "kpi", "pk"]
        indexes = [models.Index(fields=["quarter", "status"])]
        constraints = [
            models.UniqueConstraint(fields=["account", "quarter", "kpi"], name="one_goal_per_kpi"),
            models.CheckConstraint(condition=models.Q(target__gte=0), name="goal_target_positive"),
        ]

    def __str__(self):
        return f"{self.account}: {self.get_kpi_display()} {self.target} ({self.quarter:%Y-%m})"


class PartnerScore(models.Model):
    """Every KPI of one partner for one quarter, kept by a task so the ranked table sorts in SQL.

    Refreshed on a schedule (every account, in sets) and after the writes that change a partner's
    figures (a deal closed, a registration decided, a lead answered, a course completed).
    """

    account = models.ForeignKey(
        "partners.PartnerAccount", on_delete=models.CASCADE, related_name="scores"
    )
    quarter = models.DateField()
    won_revenue = models.DecimalField(max_digits=16, decimal_places=2, null=True)
    pipeline_value = models.DecimalField(max_digits=16, decimal_places=2, null=True)
    weighted_pipeline = models.DecimalField(max_digits=16, decimal_places=2, null=True)
    new_pipeline = models.DecimalField(max_digits=16, decimal_places=2, null=True)
    deals_registered = models.IntegerField(null=True)
    approval_rate = models.FloatField(null=True)
    decision_hours = models.FloatField(null=True)
    win_rate = models.FloatField(null=True)
    average_deal = models.DecimalField(max_digits=16, decimal_places=2, null=True)
    sales_cycle_days = models.FloatField(null=True)
    lead_acceptance_rate = models.FloatField(null=True)
    lead_accept_hours = models.FloatField(null=True)
    certified_people = models.IntegerField(null=True)
    training_completion = models.FloatField(null=True)
    satisfaction = models.FloatField(null=True)
    health_score = models.FloatField(null=True)
    goals_behind = models.PositiveSmallIntegerField(
        default=0, help_text="Goals of the quarter behind pace when computed."
    )
    computed_at = models.DateTimeField()

    objects = visible_through("account").as_manager()

    class Meta:
        ordering = ["quarter", "account", "pk"]
        constraints = [
            models.UniqueConstraint(fields=["account", "quarter"], name="one_score_per_quarter")
        ]

    def __str__(self):
        return f"{self.account} {self.quarter:%Y-%m}"


class ReportRecordType(models.TextChoices):
    PARTNERS = "partners", "Partners"
    LEADS = "leads", "Leads"
    REGISTRATIONS = "registrations", "Deal registrations"
    OPPORTUNITIES = "opportunities", "Opportunities"
    ENROLLMENTS = "enrollments", "Course enrollments"


class SavedReportQuerySet(ScopedQuerySet):
    def visible_to(self, user):
        """Internal users: their own and the shared ones. Partner admins: the ones shared with
        partners (their rows only, always: every report runs on the viewer's ``visible_to``)."""
        role = role_of(user)
        if role is Role.ADMIN:
            return self.all()
        if role.is_internal:
            return self.filter(models.Q(owner=user) | models.Q(shared=True))
        if role is Role.PARTNER_ADMIN:
            return self.filter(shared_with_partners=True)
        return self.none()


class SavedReport(models.Model):
    """A report definition: record type, columns, filters, grouping and sort."""

    name = models.CharField(max_length=120)
    description = models.CharField(max_length=300, blank=True)
    record_type = models.CharField(max_length=20, choices=ReportRecordType.choices)
    columns = models.JSONField(default=list, help_text="Column keys, in order.")
    filters = models.JSONField(default=list, help_text='[{"field": …, "op": …, "value": …}]')
    group_by = models.CharField(max_length=80, blank=True)
    sort = models.CharField(max_length=80, blank=True)
    descending = models.BooleanField(default=False)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="reports"
    )
    shared = models.BooleanField(
        "shared with all partner managers", default=False, help_text="Set by admins."
    )
    shared_with_partners = models.BooleanField(
        "shared with partner admins",
        default=False,
        help_text="Partner admins run it on their own company's records only. Set by admins.",
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = SavedReportQuerySet.as_manager()

    class Meta:
        ordering = ["name", "pk"]

    def __str__(self):
        return self.name
