"""Alert rules: the evaluation of every ``AlertCondition`` in sets, who is told, and the
acknowledge / snooze services.

``evaluate_rule`` finds every record that matches a rule's condition in one query (the goal rule:
a fixed handful), then works in sets: matches without an open alert get one (one INSERT that
ignores a concurrent run's rows), open alerts whose record no longer matches are cleared (one
UPDATE). An alert is therefore raised once per occurrence, not again on the next run, and again
after the condition cleared and came back. The new alerts are sent by a task after commit, once
per alert (the bell's key is the alert).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Exists, Max, OuterRef, Q, Subquery
from django.urls import reverse
from django.utils import timezone
from django.utils.formats import date_format

from analytics.models import (
    Alert,
    AlertAudience,
    AlertChannel,
    AlertCondition,
    AlertRule,
    Goal,
    GoalStatus,
    KpiUnit,
    SurveyResponse,
)
from prm.access import Role, require, role_of
from prm.models import EmailMode
from prm.tasks import enqueue

#: Detractor answers younger than this raise an alert.
DETRACTOR_WINDOW = timedelta(days=30)
#: The goal rule looks at the current quarter from this many days in.
GOAL_CHECK_FROM_DAY = 45
#: Conditions whose alerts are not cleared when the record stops matching (one per record).
NEVER_CLEARED = frozenset({AlertCondition.DETRACTOR})
#: How long a snooze lasts, by the choice offered on the alerts page.
SNOOZE_CHOICES = {"1d": ("1 day", timedelta(days=1)), "1w": ("1 week", timedelta(weeks=1))}


@dataclass(frozen=True)
class Match:
    """A record that matches a rule's condition, with what its alert says."""

    subject: str
    account_id: int | None
    title: str
    why: str
    action: str
    url: str = ""


@dataclass(frozen=True)
class Found:
    """What a matcher finds, cheaply: ``rows``, one tuple per matching record that starts with
    the record's id and its account's id and carries the few values its alert's text needs (read
    with ``values_list``, no model instances), and ``describe``, which writes one row's alert
    (title, why, action, link). ``evaluate_rule`` describes only the rows without an open alert:
    the next run over 600k overdue opportunities builds no text at all."""

    kind: str  # the subject's prefix: "opportunity" → "opportunity:42"
    rows: list[tuple]
    describe: Callable[[tuple], Match]

    def subject(self, row: tuple) -> str:
        return f"{self.kind}:{row[0]}"


def _day(value) -> str:
    if isinstance(value, datetime):
        value = timezone.localtime(value)
    return date_format(value, "j M Y")


def moment(value: datetime) -> str:
    return date_format(timezone.localtime(value), "j M Y, H:i")


def _plural(count: int, word: str) -> str:
    return f"{count} {word}{'' if count == 1 else 's'}"


_PK = 987654321


def _path(name: str) -> Callable[[int], str]:
    """``reverse(name, args=[pk])`` without resolving once per row: the path is reversed once
    with a placeholder id that is then replaced."""
    template = reverse(name, args=[_PK])
    head, found, tail = template.partition(str(_PK))
    if not found or str(_PK) in tail:
        return lambda pk: reverse(name, args=[pk])
    return lambda pk: f"{head}{pk}{tail}"


def _full_name(first: str, last: str) -> str:
    """``User.get_full_name()`` from its two columns."""
    return f"{first} {last}".strip()


# --- one query per condition ----------------------------------------------------------------


def _registration_waiting(rule: AlertRule, now: datetime) -> Found:
    from deals.models import DealRegistration, RegistrationStatus

    rows = (
        DealRegistration.objects.filter(
            status=RegistrationStatus.SUBMITTED,
            submitted_at__lt=now - timedelta(hours=rule.threshold),
        )
        .order_by("submitted_at", "pk")
        .values_list("pk", "account_id", "company", "submitted_at", "account__name")
    )
    path = _path("deals:registration")

    def describe(row) -> Match:
        pk, account_id, company, submitted_at, account_name = row
        return Match(
            subject=f"registration:{pk}",
            account_id=account_id,
            title=f"Registration waiting: {company} ({account_name})",
            why=(
                f"Waiting {int((now - submitted_at).total_seconds() // 3600)} h for a decision "
                f"(rule: more than {rule.threshold} h)"
            ),
            action="Approve, return or reject it",
            url=path(pk),
        )

    return Found("registration", list(rows), describe)


def _lead_not_accepted(rule: AlertRule, now: datetime) -> Found:
    from deals.models import Lead

    rows = (
        Lead.objects.overdue(now)
        .filter(account__isnull=False)
        .order_by("accept_by", "pk")
        .values_list("pk", "account_id", "company", "accept_by", "account__name")
    )
    path = _path("deals:lead")

    def describe(row) -> Match:
        pk, account_id, company, accept_by, account_name = row
        return Match(
            subject=f"lead:{pk}",
            account_id=account_id,
            title=f"Lead not accepted: {company} ({account_name})",
            why=(
                f"Not accepted by its deadline, {moment(accept_by)} "
                f"({_plural(int((now - accept_by).total_seconds() // 3600), 'hour')} ago)"
            ),
            action="Remind the partner, or take the lead back and hand it to another partner",
            url=path(pk),
        )

    return Found("lead", list(rows), describe)


def _partner_inactive(rule: AlertRule, now: datetime) -> Found:
    from deals.models import DealRegistration, LeadEvent, LeadStatus, Opportunity
    from partners.models import AccountStatus, Contact, PartnerAccount

    since = now - timedelta(days=rule.threshold)
    logins = Contact.objects.filter(account=OuterRef("pk"), user__isnull=False)
    rows = (
        PartnerAccount.objects.filter(status=AccountStatus.ACTIVE, created_at__lt=since)
        .annotate(
            last_login=Subquery(
                logins.order_by()
                .values("account")
                .annotate(last=Max("user__last_login"))
                .values("last")[:1]
            )
        )
        .filter(Q(last_login__isnull=True) | Q(last_login__lt=since))
        .exclude(
            Exists(
                LeadEvent.objects.filter(
                    account=OuterRef("pk"),
                    to_status__in=[LeadStatus.ACCEPTED, LeadStatus.REJECTED],
                    created_at__gte=since,
                )
            )
        )
        .exclude(
            Exists(DealRegistration.objects.filter(account=OuterRef("pk"), created_at__gte=since))
        )
        .exclude(Exists(Opportunity.objects.filter(account=OuterRef("pk"), created_at__gte=since)))
        .order_by("name", "pk")
        .values_list("pk", "name", "last_login")
    )
    path = _path("partners:partner")

    def describe(row) -> Match:
        pk, _, name, last_login = row
        last = f"last login {_day(last_login)}" if last_login else "nobody ever logged in"
        return Match(
            subject=f"account:{pk}",
            account_id=pk,
            title=f"{name} is inactive",
            why=(
                f"No login, lead answer, registration or opportunity in "
                f"{_plural(rule.threshold, 'day')} ({last})"
            ),
            action="Get in touch: check the partner still sells, and plan a call or training",
            url=path(pk),
        )

    return Found("account", [(pk, pk, name, last) for pk, name, last in rows], describe)


def _goal_behind(rule: AlertRule, now: datetime) -> Found:
    from analytics import kpis
    from analytics.selectors.goals import goal_progress
    from partners.models import AccountStatus, PartnerAccount

    today = timezone.localtime(now).date()
    quarter = kpis.Period.quarter(today)
    elapsed = round(100 * quarter.elapsed(today))

    def describe(row) -> Match:
        _, _, progress = row
        goal = progress.goal
        label = progress.definition.label if progress.definition else goal.get_kpi_display()
        suffix = "%" if progress.definition and progress.definition.unit == KpiUnit.PERCENT else ""
        actual = (
            "no figure yet" if progress.actual is None else f"{float(progress.actual):,.0f}{suffix}"
        )
        return Match(
            subject=f"goal:{goal.pk}",
            account_id=goal.account_id,
            title=f"{goal.account.name}: {label} behind pace",
            why=(
                f"At {actual} of a {float(goal.target):,.0f}{suffix} target with {elapsed}% "
                f"of {quarter.label} gone (pace: {progress.expected:,.0f}{suffix})"
            ),
            action="Review the goal with the partner and agree how to catch up",
            url=reverse("analytics:account_goals", args=[goal.account_id])
            + f"?period={quarter.key}",
        )

    if (today - quarter.start).days < GOAL_CHECK_FROM_DAY:
        return Found("goal", [], describe)
    goals = list(
        Goal.objects.filter(
            quarter=quarter.start,
            status=GoalStatus.ACCEPTED,
            account__status=AccountStatus.ACTIVE,
        )
        .select_related("account")
        .order_by("account_id", "kpi", "pk")
    )
    if not goals:
        return Found("goal", [], describe)
    # One compute over every account with a goal (not one per goal).
    accounts = PartnerAccount.objects.filter(pk__in={goal.account_id for goal in goals})
    values = kpis.compute(
        accounts,
        quarter,
        by="account",
        sources=kpis.sources_for({goal.kpi for goal in goals}),
        today=today,
    )
    rows = [
        (progress.goal.pk, progress.goal.account_id, progress)
        for progress in goal_progress(goals, values, quarter, today=today)
        if progress.state == "behind"
    ]
    return Found("goal", rows, describe)


def _certification_expiring(rule: AlertRule, now: datetime) -> Found:
    from training.models import Certificate

    today = timezone.localtime(now).date()
    rows = (
        Certificate.objects.filter(
            revoked_at__isnull=True,
            expires_on__gte=today,
            expires_on__lte=today + timedelta(days=rule.threshold),
        )
        .order_by("expires_on", "pk")
        .values_list(
            "pk",
            "account_id",
            "expires_on",
            "account__name",
            "course__title",
            "user__first_name",
            "user__last_name",
            "user__email",
        )
    )
    path = _path("training:certificate")

    def describe(row) -> Match:
        pk, account_id, expires_on, account_name, course, first, last, email = row
        return Match(
            subject=f"certificate:{pk}",
            account_id=account_id,
            title=(
                f"Certification expiring: {_full_name(first, last) or email}, "
                f"{course} ({account_name})"
            ),
            why=(
                f"Expires on {_day(expires_on)}, in "
                f"{_plural((expires_on - today).days, 'day')} "
                f"(rule: within {_plural(rule.threshold, 'day')})"
            ),
            action="Ask them to renew it before it lapses",
            url=path(pk),
        )

    return Found("certificate", list(rows), describe)


def _opportunity_overdue(rule: AlertRule, now: datetime) -> Found:
    from deals.models import Opportunity, OpportunityStatus

    today = timezone.localtime(now).date()
    rows = (
        Opportunity.objects.filter(
            status=OpportunityStatus.OPEN,
            close_date__lt=today - timedelta(days=rule.threshold),
        )
        .order_by("close_date", "pk")
        .values_list("pk", "account_id", "name", "close_date", "account__name")
    )
    path = _path("deals:opportunity")
    days = {}  # close date → its text: a few hundred dates for any number of opportunities

    def describe(row) -> Match:
        pk, account_id, name, close_date, account_name = row
        if close_date not in days:
            days[close_date] = (
                f"Expected to close on {_day(close_date)}, "
                f"{_plural((today - close_date).days, 'day')} ago, and still open "
                f"(rule: more than {_plural(rule.threshold, 'day')})"
            )
        return Match(
            subject=f"opportunity:{pk}",
            account_id=account_id,
            title=f"Opportunity overdue: {name} ({account_name})",
            why=days[close_date],
            action="Update its close date, or close it as won or lost",
            url=path(pk),
        )

    return Found("opportunity", list(rows), describe)


def _detractor(rule: AlertRule, now: datetime) -> Found:
    rows = (
        SurveyResponse.objects.filter(
            nps__isnull=False, nps__lte=rule.threshold, submitted_at__gte=now - DETRACTOR_WINDOW
        )
        .order_by("submitted_at", "pk")
        .values_list(
            "pk",
            "account_id",
            "nps",
            "submitted_at",
            "account__name",
            "survey__title",
            "user_id",
            "user__first_name",
            "user__last_name",
            "user__email",
        )
    )
    path = _path("partners:partner")

    def describe(row) -> Match:
        pk, account_id, nps, submitted_at, account_name, survey, user_id, first, last, email = row
        who = f" by {_full_name(first, last) or email}" if user_id is not None else ""
        return Match(
            subject=f"response:{pk}",
            account_id=account_id,
            title=f"Detractor: {account_name} scored {nps} of 10",
            why=(
                f"Answered {nps} to “how likely to recommend” in "
                f"“{survey}”{who} on {_day(submitted_at)} "
                f"(rule: {rule.threshold} or less)"
            ),
            action="Call the partner to hear what is wrong and agree a fix",
            url=path(account_id),
        )

    return Found("response", list(rows), describe)


def _account_deactivated(rule: AlertRule, now: datetime) -> Found:
    from partners.models import BLOCKED_STATUSES, AccountStatus, PartnerAccount

    rows = (
        PartnerAccount.objects.filter(status__in=BLOCKED_STATUSES)
        .order_by("name", "pk")
        .values_list("pk", "name", "status")
    )
    labels = dict(AccountStatus.choices)
    path = _path("partners:partner")

    def describe(row) -> Match:
        pk, _, name, status = row
        label = str(labels.get(status, status))
        return Match(
            subject=f"account:{pk}",
            account_id=pk,
            title=f"{name} is {label.lower()}",
            why=f"The account's status is {label}: its people cannot log in to the portal",
            action=(
                "Check the reason with the partner; reactivate the account, or hand its open "
                "leads and deals to others"
            ),
            url=path(pk),
        )

    return Found("account", [(pk, pk, name, status) for pk, name, status in rows], describe)


MATCHERS: dict[str, Callable[[AlertRule, datetime], Found]] = {
    AlertCondition.REGISTRATION_WAITING: _registration_waiting,
    AlertCondition.LEAD_NOT_ACCEPTED: _lead_not_accepted,
    AlertCondition.PARTNER_INACTIVE: _partner_inactive,
    AlertCondition.GOAL_BEHIND: _goal_behind,
    AlertCondition.CERTIFICATION_EXPIRING: _certification_expiring,
    AlertCondition.OPPORTUNITY_OVERDUE: _opportunity_overdue,
    AlertCondition.DETRACTOR: _detractor,
    AlertCondition.ACCOUNT_DEACTIVATED: _account_deactivated,
}


def find(rule: AlertRule, now: datetime | None = None) -> Found:
    """Every record that matches ``rule``'s condition now, as cheap rows (no text yet)."""
    return MATCHERS[rule.condition](rule, now or timezone.now())


def matches_for(rule: AlertRule, now: datetime | None = None) -> list[Match]:
    """Every record that matches ``rule``'s condition now, described (no alert is written)."""
    found = find(rule, now)
    return [found.describe(row) for row in found.rows]


# --- evaluation -----------------------------------------------------------------------------


@dataclass
class Evaluation:
    raised: list[int]  # the new alerts' pks
    cleared: int


def evaluate_rule(rule: AlertRule, now: datetime | None = None, *, send: bool = True) -> Evaluation:
    """Raise the alerts of ``rule``'s new matches, clear those whose record stopped matching,
    and (after commit) send the new ones. A fixed number of queries whatever the matches; the
    alert text is written for the new matches only."""
    now = now or timezone.now()
    found = find(rule, now)
    rows = {found.subject(row): row for row in found.rows}
    with transaction.atomic():
        open_alerts = dict(
            Alert.objects.filter(rule=rule, cleared_at__isnull=True).values_list("subject", "pk")
        )
        fresh = [found.describe(row) for subject, row in rows.items() if subject not in open_alerts]
        raised: list[int] = []
        if fresh:
            Alert.objects.bulk_create(
                [
                    Alert(
                        rule=rule,
                        subject=match.subject,
                        account_id=match.account_id,
                        title=match.title[:200],
                        why=match.why[:300],
                        action=match.action[:300],
                        url=match.url[:300],
                        raised_at=now,
                    )
                    for match in fresh
                ],
                batch_size=500,
                ignore_conflicts=True,  # a concurrent run's open alert wins: raised once
            )
            # Which rows are ours: a concurrent run's have another raised_at.
            raised = list(
                Alert.objects.filter(rule=rule, raised_at=now, cleared_at__isnull=True).values_list(
                    "pk", flat=True
                )
            )
        cleared = 0
        if rule.condition not in NEVER_CLEARED:
            gone = [pk for subject, pk in open_alerts.items() if subject not in rows]
            if gone:
                cleared = Alert.objects.filter(pk__in=gone, cleared_at__isnull=True).update(
                    cleared_at=now
                )
        AlertRule.objects.filter(pk=rule.pk).update(last_run_at=now)
        rule.last_run_at = now
        if raised and send:
            enqueue("analytics.send_alerts", raised)
    return Evaluation(raised=raised, cleared=cleared)


def due_rules(now: datetime | None = None) -> list[AlertRule]:
    """The active rules whose interval has passed since their last run."""
    now = now or timezone.now()
    return [
        rule
        for rule in AlertRule.objects.filter(active=True).order_by("pk")
        if rule.last_run_at is None
        or rule.last_run_at + timedelta(minutes=rule.every_minutes) <= now
    ]


# --- sending --------------------------------------------------------------------------------


def recipients_of(alerts: list[Alert]) -> dict[int, list]:
    """Who is told of each alert, by its audience: a fixed number of queries for any batch."""
    from partners.models import Contact, PortalAccess

    users = get_user_model().objects
    admins = None
    partner_admins: dict[int, list] = {}
    account_ids = {
        alert.account_id
        for alert in alerts
        if alert.account_id and alert.rule.audience == AlertAudience.PARTNER_ADMINS
    }
    if account_ids:
        for contact in Contact.objects.filter(
            account_id__in=account_ids,
            portal_access=PortalAccess.ADMIN,
            user__is_active=True,
        ).select_related("user"):
            partner_admins.setdefault(contact.account_id, []).append(contact.user)
    out = {}
    for alert in alerts:
        audience = alert.rule.audience
        account = alert.account
        manager = account.manager if account is not None else None
        if manager is not None and not manager.is_active:
            manager = None
        people = []
        if audience == AlertAudience.PARTNER_ADMINS:
            if account is not None and not account.is_blocked:
                people = partner_admins.get(account.pk, [])
        else:
            if audience in (AlertAudience.MANAGER, AlertAudience.MANAGER_AND_ADMINS) and manager:
                people.append(manager)
            if audience == AlertAudience.ADMINS or (
                audience == AlertAudience.MANAGER_AND_ADMINS
                or (audience == AlertAudience.MANAGER and manager is None)
            ):
                if admins is None:
                    admins = list(users.filter(is_active=True, is_superuser=True).order_by("pk"))
                people.extend(user for user in admins if user not in people)
        out[alert.pk] = people
    return out


def send_alerts(alert_ids: list[int]) -> int:
    """Tell each new alert's audience: a bell entry each, and for the email channel an email
    (the digest channel's email goes out with the daily digest). Once per alert: the
    notification key is the alert, so a second run adds nothing."""
    from prm.notifications import notify

    alerts = list(
        Alert.objects.filter(pk__in=alert_ids, cleared_at__isnull=True)
        .select_related("rule", "account__manager")
        .order_by("pk")
    )
    told = 0
    audience = recipients_of(alerts)
    for alert in alerts:
        # The rule's channel is the default; a person's preference for the condition's topic
        # overrides email and digest, never a bell-only rule.
        channel = alert.rule.channel
        told += notify(
            f"alert:{alert.pk}",
            audience[alert.pk],
            title=alert.title,
            url=alert.url,
            body=f"{alert.why}. {alert.action}.",
            email_template=None if channel == AlertChannel.IN_APP else "prm/email/notification",
            topic=f"alert:{alert.rule.condition}",
            default_mode=EmailMode.DIGEST if channel == AlertChannel.DIGEST else EmailMode.INSTANT,
        )
    return told


# --- acknowledge and snooze -----------------------------------------------------------------


def may_use_alerts(user) -> bool:
    """Internal users and partner admins have alerts; partner members do not."""
    role = role_of(user)
    return role.is_internal or role is Role.PARTNER_ADMIN


@transaction.atomic
def acknowledge_alert(*, actor, alert: Alert) -> Alert:
    """Mark ``alert`` seen and handled by ``actor`` (it leaves the default list)."""
    require(may_use_alerts(actor), "Alerts are for partner managers and partner admins.")
    alert = Alert.objects.visible_to(actor).select_for_update().get(pk=alert.pk)
    if alert.acknowledged_at is None:
        alert.acknowledged_at = timezone.now()
        alert.acknowledged_by = actor
        alert.snoozed_until = None
        alert.save(update_fields=["acknowledged_at", "acknowledged_by", "snoozed_until"])
    return alert


@transaction.atomic
def snooze_alert(*, actor, alert: Alert, length: str) -> Alert:
    """Hide ``alert`` from the default list for ``length`` (a key of ``SNOOZE_CHOICES``)."""
    require(may_use_alerts(actor), "Alerts are for partner managers and partner admins.")
    if length not in SNOOZE_CHOICES:
        raise ValidationError({"length": "Choose how long to snooze: 1 day or 1 week."})
    alert = Alert.objects.visible_to(actor).select_for_update().get(pk=alert.pk)
    if alert.cleared_at is not None:
        raise ValidationError("This alert has cleared already: there is nothing to snooze.")
    alert.snoozed_until = timezone.now() + SNOOZE_CHOICES[length][1]
    alert.save(update_fields=["snoozed_until"])
    return alert


# --- the shipped rules ----------------------------------------------------------------------

#: The rules OpenPRM ships (``install_alert_rules``): name, condition, threshold, audience,
#: channel, minutes between runs.
DEFAULT_RULES = [
    (
        "Registration waiting more than 48 hours",
        AlertCondition.REGISTRATION_WAITING,
        48,
        AlertAudience.MANAGER,
        AlertChannel.EMAIL,
        60,
    ),
    (
        "Lead not accepted before its deadline",
        AlertCondition.LEAD_NOT_ACCEPTED,
        0,
        AlertAudience.MANAGER,
        AlertChannel.IN_APP,
        30,
    ),
    (
        "Partner inactive for 30 days",
        AlertCondition.PARTNER_INACTIVE,
        30,
        AlertAudience.MANAGER,
        AlertChannel.DIGEST,
        24 * 60,
    ),
    (
        "Goal behind pace at mid-quarter",
        AlertCondition.GOAL_BEHIND,
        0,
        AlertAudience.MANAGER,
        AlertChannel.DIGEST,
        24 * 60,
    ),
    (
        "Certification expiring within 30 days",
        AlertCondition.CERTIFICATION_EXPIRING,
        30,
        AlertAudience.PARTNER_ADMINS,
        AlertChannel.EMAIL,
        24 * 60,
    ),
    (
        "Opportunity open 14 days past its close date",
        AlertCondition.OPPORTUNITY_OVERDUE,
        14,
        AlertAudience.MANAGER,
        AlertChannel.DIGEST,
        24 * 60,
    ),
    (
        "Detractor survey answer (NPS 0–6)",
        AlertCondition.DETRACTOR,
        6,
        AlertAudience.MANAGER_AND_ADMINS,
        AlertChannel.EMAIL,
        60,
    ),
    (
        "Partner account deactivated",
        AlertCondition.ACCOUNT_DEACTIVATED,
        0,
        AlertAudience.MANAGER_AND_ADMINS,
        AlertChannel.EMAIL,
        60,
    ),
]


def install_alert_rules() -> list[AlertRule]:
    """Create the shipped rules that are missing (by condition): running it again, or after an
    admin changed a rule's threshold, changes nothing. Returns the rules it created."""
    have = set(AlertRule.objects.values_list("condition", flat=True))
    created = []
    for name, condition, threshold, audience, channel, every in DEFAULT_RULES:
        if condition in have:
            continue
        created.append(
            AlertRule.objects.create(
                name=name,
                condition=condition,
                threshold=threshold,
                audience=audience,
                channel=channel,
                every_minutes=every,
            )
        )
    return created
