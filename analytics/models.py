"""Analytics tables: KPI definitions, goals per partner per quarter, the kept partner scores
behind the ranked table, saved reports and the exchange rates money KPIs convert with."""

from __future__ import annotations

from django.conf import settings
from django.core.cache import cache
from django.db import models
from django.utils import timezone

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


class AccountMonth(models.Model):
    """One partner's additive figures for one calendar month (in ``TIME_ZONE``), kept by tasks
    so that dashboards over many partners sum a few thousand rows instead of scanning every deal.

    Only measures that add up across months and accounts live here (sums and counts: the raw
    measures of ``analytics.kpis``); medians, open pipeline and stocks are computed live.
    """

    account = models.ForeignKey(
        "partners.PartnerAccount", on_delete=models.CASCADE, related_name="months"
    )
    month = models.DateField(help_text="The month's first day.")
    won_revenue = models.DecimalField(max_digits=16, decimal_places=2, default=0)
    won_count = models.PositiveIntegerField(default=0)
    won_priced = models.PositiveIntegerField(default=0)
    lost_count = models.PositiveIntegerField(default=0)
    new_pipeline = models.DecimalField(max_digits=16, decimal_places=2, default=0)
    deals_registered = models.PositiveIntegerField(default=0)
    approved = models.PositiveIntegerField(default=0)
    rejected = models.PositiveIntegerField(default=0)
    leads_accepted = models.PositiveIntegerField(default=0)
    leads_declined = models.PositiveIntegerField(default=0)
    computed_at = models.DateTimeField()

    objects = visible_through("account").as_manager()

    class Meta:
        ordering = ["month", "account", "pk"]
        indexes = [models.Index(fields=["month", "account"])]
        constraints = [
            models.UniqueConstraint(fields=["account", "month"], name="one_row_per_account_month")
        ]

    def __str__(self):
        return f"{self.account} {self.month:%Y-%m}"


# --- feedback surveys (issue 6) -----------------------------------------------------------------


class SurveySettings(models.Model):
    """The survey rules that hold across all surveys (one row, edited in admin)."""

    fatigue_days = models.PositiveSmallIntegerField(
        default=30, help_text="Nobody is asked to answer a survey more than once in this many days."
    )
    link_days = models.PositiveSmallIntegerField(
        default=14, help_text="How long a personal survey link stays valid."
    )

    objects = ReferenceQuerySet.as_manager()

    class Meta:
        verbose_name = verbose_name_plural = "survey settings"

    def __str__(self):
        return "Survey settings"

    @classmethod
    def current(cls) -> SurveySettings:
        return cls.objects.order_by("pk").first() or cls()


class SurveyQuerySet(ScopedQuerySet):
    def visible_to(self, user):
        """Surveys and their results are for internal users; partners answer through their
        personal links and never browse surveys."""
        return self.all() if role_of(user).is_internal else self.none()


class Survey(models.Model):
    title = models.CharField(max_length=150)
    intro = models.TextField(blank=True, help_text="Shown above the questions.")
    active = models.BooleanField(default=True)
    closes_on = models.DateField(
        null=True, blank=True, help_text="No answers accepted after this day."
    )
    created_at = models.DateTimeField(auto_now_add=True)

    objects = SurveyQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-pk"]

    def __str__(self):
        return self.title


class QuestionKind(models.TextChoices):
    NPS = "nps", "How likely to recommend (0–10)"
    RATING = "rating", "Rating (1–5)"
    CHOICE = "choice", "Choice"
    TEXT = "text", "Free text"


class SurveyQuestion(models.Model):
    survey = models.ForeignKey(Survey, on_delete=models.CASCADE, related_name="questions")
    position = models.PositiveSmallIntegerField(default=0)
    text = models.CharField(max_length=300)
    kind = models.CharField(max_length=10, choices=QuestionKind.choices)
    options = models.TextField(blank=True, help_text="For a choice question: one per line.")
    required = models.BooleanField(default=True)

    objects = visible_through("survey").as_manager()

    class Meta:
        ordering = ["survey", "position", "pk"]

    def __str__(self):
        return self.text

    @property
    def option_list(self) -> list[str]:
        return [line.strip() for line in self.options.splitlines() if line.strip()]


class SurveyTrigger(models.TextChoices):
    ONCE = "once", "Once"
    QUARTERLY = "quarterly", "Every quarter"
    DEAL_WON = "deal_won", "After a deal is won"
    COURSE_COMPLETED = "course_completed", "After a course is completed"


class SurveyAudienceRole(models.TextChoices):
    PARTNER_ADMIN = "admin", "Partner admins"
    PARTNER_MEMBER = "member", "Partner members"
    ALL = "all", "All partner users"


class SurveyDistribution(models.Model):
    """Who is asked a survey and when."""

    survey = models.ForeignKey(Survey, on_delete=models.CASCADE, related_name="distributions")
    name = models.CharField(max_length=120)
    trigger = models.CharField(max_length=20, choices=SurveyTrigger.choices)
    audience = models.CharField(
        max_length=10, choices=SurveyAudienceRole.choices, default=SurveyAudienceRole.ALL
    )
    tiers = models.ManyToManyField(
        "partners.Tier", blank=True, related_name="+", help_text="None: every tier."
    )
    accounts = models.ManyToManyField(
        "partners.PartnerAccount",
        blank=True,
        related_name="+",
        help_text="None: every account (of the tiers chosen).",
    )
    starts_on = models.DateField(null=True, blank=True)
    remind_after_days = models.PositiveSmallIntegerField(
        default=5, help_text="Remind who has not answered after this many days (0: never)."
    )
    active = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)

    objects = visible_through("survey").as_manager()

    class Meta:
        ordering = ["survey", "name", "pk"]

    def __str__(self):
        return f"{self.survey}: {self.name}"


class PersonalSurveyQuerySet(ScopedQuerySet):
    """Invitations and responses: internal users see those of the accounts they see; a partner
    user only their own — never a colleague's, never another partner's."""

    def visible_to(self, user):
        from partners.models import PartnerAccount

        role = role_of(user)
        if role.is_internal:
            return self.filter(account__in=PartnerAccount.objects.visible_to(user))
        if role.is_partner:
            return self.filter(user=user)
        return self.none()


class SurveyInvitation(models.Model):
    """One person asked one survey on one occasion ("once", "2026-Q4", "deal:42", "course:7");
    the personal link carries its signed id."""

    survey = models.ForeignKey(Survey, on_delete=models.CASCADE, related_name="invitations")
    distribution = models.ForeignKey(
        SurveyDistribution, on_delete=models.CASCADE, related_name="invitations"
    )
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    account = models.ForeignKey(
        "partners.PartnerAccount", on_delete=models.CASCADE, related_name="survey_invitations"
    )
    occasion = models.CharField(max_length=40)
    created_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField()
    reminded_at = models.DateTimeField(null=True, blank=True)
    responded_at = models.DateTimeField(null=True, blank=True)

    objects = PersonalSurveyQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-pk"]
        indexes = [
            models.Index(fields=["user", "created_at"]),
            models.Index(fields=["responded_at", "expires_at"]),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["distribution", "user", "occasion"], name="asked_once_per_occasion"
            )
        ]

    def __str__(self):
        return f"{self.survey} → {self.user} ({self.occasion})"


class SurveyResponse(models.Model):
    """One submitted answer sheet: stored once per invitation (a double submit adds nothing)."""

    invitation = models.OneToOneField(
        SurveyInvitation, on_delete=models.CASCADE, related_name="response"
    )
    survey = models.ForeignKey(Survey, on_delete=models.CASCADE, related_name="responses")
    account = models.ForeignKey(
        "partners.PartnerAccount", on_delete=models.CASCADE, related_name="survey_responses"
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    nps = models.PositiveSmallIntegerField(
        null=True, blank=True, help_text="The 0–10 answer, if the survey asks it (for the KPI)."
    )
    submitted_at = models.DateTimeField(default=timezone.now)

    objects = PersonalSurveyQuerySet.as_manager()

    class Meta:
        ordering = ["-submitted_at", "-pk"]
        indexes = [models.Index(fields=["account", "submitted_at"])]

    def __str__(self):
        return f"{self.survey} — {self.account}"


class SurveyAnswer(models.Model):
    response = models.ForeignKey(SurveyResponse, on_delete=models.CASCADE, related_name="answers")
    question = models.ForeignKey(SurveyQuestion, on_delete=models.CASCADE, related_name="answers")
    number = models.SmallIntegerField(null=True, blank=True)
    choice = models.CharField(max_length=200, blank=True)
    text = models.TextField(blank=True, max_length=4000)

    objects = visible_through("response").as_manager()

    class Meta:
        ordering = ["response", "question__position", "pk"]
        constraints = [
            models.UniqueConstraint(fields=["response", "question"], name="one_answer_per_question")
        ]

    def __str__(self):
        return f"{self.question}: {self.number if self.number is not None else self.choice}"


# --- alert rules and alerts (issue 6) -----------------------------------------------------------


class AlertCondition(models.TextChoices):
    """What a rule watches; each has its evaluation in ``analytics.alerts`` (in sets)."""

    REGISTRATION_WAITING = "registration_waiting", "Registration waiting for a decision"
    LEAD_NOT_ACCEPTED = "lead_not_accepted", "Lead not accepted before its deadline"
    PARTNER_INACTIVE = "partner_inactive", "Partner inactive (no login, lead or deal)"
    GOAL_BEHIND = "goal_behind", "Goal behind pace at mid-quarter"
    CERTIFICATION_EXPIRING = "certification_expiring", "Certification expiring"
    OPPORTUNITY_OVERDUE = "opportunity_overdue", "Opportunity past its close date, still open"
    DETRACTOR = "detractor", "Survey answered with a detractor score"
    ACCOUNT_DEACTIVATED = "account_deactivated", "Account deactivated or suspended"


class AlertAudience(models.TextChoices):
    MANAGER = "manager", "The partner's manager (admins if none)"
    MANAGER_AND_ADMINS = "manager_admins", "The partner's manager and the admins"
    PARTNER_ADMINS = "partner_admins", "The partner's admins"
    ADMINS = "admins", "Admins"


class AlertChannel(models.TextChoices):
    IN_APP = "in_app", "In the portal (bell) only"
    EMAIL = "email", "Bell and an email at once"
    DIGEST = "digest", "Bell and the daily digest email"


class AlertRule(models.Model):
    """An admin-defined rule: a condition with its threshold, who is told, how and how often."""

    name = models.CharField(max_length=120)
    condition = models.CharField(max_length=30, choices=AlertCondition.choices)
    threshold = models.PositiveIntegerField(
        default=0,
        help_text="Hours (registration waiting), days (inactive, certification expiring, "
        "opportunity overdue) or the highest detractor score (0–6); unused otherwise.",
    )
    audience = models.CharField(
        max_length=20, choices=AlertAudience.choices, default=AlertAudience.MANAGER
    )
    channel = models.CharField(
        max_length=10, choices=AlertChannel.choices, default=AlertChannel.IN_APP
    )
    every_minutes = models.PositiveIntegerField(
        default=60, help_text="How often the rule is evaluated (the beat checks every 5 minutes)."
    )
    active = models.BooleanField(default=True)
    last_run_at = models.DateTimeField(null=True, blank=True, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)

    objects = ReferenceQuerySet.as_manager()

    class Meta:
        ordering = ["name", "pk"]

    def __str__(self):
        return self.name


class AlertQuerySet(ScopedQuerySet):
    def visible_to(self, user):
        """Internal users: alerts on the accounts they see (and account-less ones for admins).
        Partner admins: the alerts addressed to partner admins, of their account."""
        from partners.models import PartnerAccount

        role = role_of(user)
        if role is Role.ADMIN:
            return self.all()
        accounts = PartnerAccount.objects.visible_to(user)
        if role.is_internal:
            return self.filter(account__in=accounts).exclude(
                rule__audience=AlertAudience.PARTNER_ADMINS
            )
        if role is Role.PARTNER_ADMIN:
            return self.filter(account__in=accounts, rule__audience=AlertAudience.PARTNER_ADMINS)
        return self.none()

    def live(self):
        """Not cleared: the condition still holds."""
        return self.filter(cleared_at__isnull=True)

    def needing_attention(self, now=None):
        """Open: not cleared, not acknowledged and not snoozed right now."""
        now = now or timezone.now()
        return self.live().filter(acknowledged_at__isnull=True).exclude(snoozed_until__gt=now)

    def snoozed(self, now=None):
        now = now or timezone.now()
        return self.live().filter(acknowledged_at__isnull=True, snoozed_until__gt=now)


class Alert(models.Model):
    """One occurrence of a rule's condition on one record. Sent once; a new one is raised only
    after the condition cleared (``cleared_at``) and came back."""

    rule = models.ForeignKey(AlertRule, on_delete=models.CASCADE, related_name="alerts")
    subject = models.CharField(
        max_length=60, help_text='The record it is about, e.g. "registration:42".'
    )
    account = models.ForeignKey(
        "partners.PartnerAccount",
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="alerts",
    )
    title = models.CharField(max_length=200)
    why = models.CharField(max_length=300)
    action = models.CharField("what to do", max_length=300)
    url = models.CharField(max_length=300, blank=True)
    raised_at = models.DateTimeField(default=timezone.now)
    cleared_at = models.DateTimeField(null=True, blank=True)
    acknowledged_at = models.DateTimeField(null=True, blank=True)
    acknowledged_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    snoozed_until = models.DateTimeField(null=True, blank=True)

    objects = AlertQuerySet.as_manager()

    class Meta:
        ordering = ["-raised_at", "-pk"]
        indexes = [models.Index(fields=["rule", "cleared_at"])]
        constraints = [
            # One open occurrence per rule and record: what makes "sent once" hold under retries.
            models.UniqueConstraint(
                fields=["rule", "subject"],
                condition=models.Q(cleared_at__isnull=True),
                name="one_open_alert_per_subject",
            )
        ]

    def __str__(self):
        return self.title


# --- quarterly business reviews (issue 6) -------------------------------------------------------


class QuarterlyReview(models.Model):
    """One partner's review of one finished quarter: goals vs actuals, KPI changes, highlights
    (kept as they were when the review was made), the manager's comments and next quarter's
    proposed goals; the partner admin acknowledges it."""

    account = models.ForeignKey(
        "partners.PartnerAccount", on_delete=models.CASCADE, related_name="reviews"
    )
    quarter = models.DateField(help_text="The reviewed quarter's first day.")
    figures = models.JSONField(
        default=dict,
        help_text="The quarter's KPIs and the previous quarter's, goals vs actuals, highlights.",
    )
    proposed_goals = models.JSONField(
        default=list, help_text='Next quarter targets: [{"kpi": …, "target": …}], editable.'
    )
    manager_comments = models.TextField(blank=True, max_length=4000)
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(auto_now=True)
    acknowledged_at = models.DateTimeField(null=True, blank=True)
    acknowledged_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )

    objects = visible_through("account").as_manager()

    class Meta:
        ordering = ["-quarter", "account", "pk"]
        indexes = [models.Index(fields=["quarter", "acknowledged_at"])]
        constraints = [
            # Running the quarter-end job twice creates nothing new.
            models.UniqueConstraint(fields=["account", "quarter"], name="one_review_per_quarter")
        ]

    def __str__(self):
        return f"{self.account} — review of {self.quarter:%Y-%m}"
