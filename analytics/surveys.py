"""Feedback surveys: who is asked what and when (distributions, the fatigue rule, reminders), the
personal link, storing an answer sheet once, and the results internal users read.

Invitations are issued in sets: one query finds every candidate of a batch (the fatigue rule is a
subquery of it), one INSERT writes the invitations (the unique (distribution, user, occasion) makes
a re-run add nothing), one query reads their ids back for the email task. Nothing here runs a
query per recipient.

The personal link carries the invitation's id and its person's id, signed (``django.core.signing``
with its own salt): it works without signing in, for that survey and that person only.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, time, timedelta

from django.core import signing
from django.db import IntegrityError, transaction
from django.db.models import Avg, BooleanField, Count, Exists, OuterRef, Q, Value
from django.db.models.functions import TruncQuarter
from django.urls import reverse
from django.utils import timezone
from django.utils.formats import date_format

from analytics import kpis
from analytics.models import (
    QuestionKind,
    Survey,
    SurveyAnswer,
    SurveyAudienceRole,
    SurveyDistribution,
    SurveyInvitation,
    SurveyQuestion,
    SurveyResponse,
    SurveySettings,
    SurveyTrigger,
)
from partners.models import AccountStatus, Contact, PortalAccess
from prm.tasks import enqueue

LINK_SALT = "analytics.survey-link"
#: The highest NPS answer that counts as a detractor (0–6), and the lowest promoter (9–10).
DETRACTOR_MAX, PROMOTER_MIN = 6, 9
TEXT_MAX = 4000


# --- open or closed -----------------------------------------------------------------------------


def survey_is_open(survey: Survey, today=None) -> bool:
    """Active and not past its closing day (in the configured time zone)."""
    today = today or timezone.localdate()
    return survey.active and (survey.closes_on is None or survey.closes_on >= today)


def _open_distributions(today, triggers):
    return (
        SurveyDistribution.objects.filter(
            trigger__in=triggers,
            active=True,
            survey__active=True,
        )
        .filter(Q(survey__closes_on__isnull=True) | Q(survey__closes_on__gte=today))
        .filter(Q(starts_on__isnull=True) | Q(starts_on__lte=today))
        .select_related("survey")
        .prefetch_related("tiers", "accounts")
        .order_by("pk")
    )


def quarter_occasion(now: datetime) -> str:
    """The occasion of a quarterly distribution: the quarter key ("2026-Q4") of ``now`` in the
    configured time zone (so 31 Dec 23:30 UTC is already next year's Q1 in Berlin)."""
    return kpis.Period.quarter(timezone.localdate(now)).key


# --- issuing invitations in sets ----------------------------------------------------------------


@dataclass
class Ask:
    """One distribution asking on one occasion, optionally limited to one account (a deal won:
    its owner if they qualify, else the account's people) or one person (a course completed)."""

    distribution: SurveyDistribution
    occasion: str
    account_id: int | None = None
    user_id: int | None = None
    prefer_user_id: int | None = None


@dataclass
class Candidate:
    user_id: int
    account_id: int
    tier_id: int | None
    access: str
    rested: bool = True


@dataclass
class Issued:
    invitation_ids: list[int] = field(default_factory=list)

    def __len__(self):
        return len(self.invitation_ids)


def _matches(distribution: SurveyDistribution, candidate: Candidate) -> bool:
    audience = distribution.audience
    if audience == SurveyAudienceRole.PARTNER_ADMIN and candidate.access != PortalAccess.ADMIN:
        return False
    if audience == SurveyAudienceRole.PARTNER_MEMBER and candidate.access != PortalAccess.MEMBER:
        return False
    tiers = {t.pk for t in distribution.tiers.all()}
    if tiers and candidate.tier_id not in tiers:
        return False
    accounts = {a.pk for a in distribution.accounts.all()}
    return not accounts or candidate.account_id in accounts


def _candidates(asks: list[Ask], now: datetime, fatigue_days: int) -> list[Candidate]:
    """Every active partner user the asks could reach, each marked ``rested`` unless they were
    asked any survey in the last ``fatigue_days`` days: one query for the whole batch (the rule
    is its subquery). The tired ones stay in the list so that a deal's owner who was asked
    recently is still the one the deal's survey is for (and is then not asked)."""
    contacts = Contact.objects.filter(
        user__isnull=False,
        user__is_active=True,
        account__status=AccountStatus.ACTIVE,
        portal_access__in=[PortalAccess.ADMIN, PortalAccess.MEMBER],
    )
    if all(ask.account_id or ask.user_id for ask in asks):
        contacts = contacts.filter(
            Q(account_id__in={a.account_id for a in asks if a.account_id})
            | Q(user_id__in={a.user_id for a in asks if a.user_id})
        )
    if fatigue_days:
        recent = SurveyInvitation.objects.filter(
            user_id=OuterRef("user_id"), created_at__gt=now - timedelta(days=fatigue_days)
        )
        contacts = contacts.annotate(rested=~Exists(recent))
    else:
        contacts = contacts.annotate(rested=Value(True, output_field=BooleanField()))
    rows = contacts.order_by("account_id", "pk").values_list(
        "user_id", "account_id", "account__tier_id", "portal_access", "rested"
    )
    return [Candidate(*row) for row in rows]


def _already_asked(asks: list[Ask]) -> set[tuple[int, str, int]]:
    """(distribution, occasion, user) of the invitations the asks have already issued (one
    query; with a fatigue of 0 days nothing else keeps them out)."""
    existing = SurveyInvitation.objects.filter(
        distribution_id__in={a.distribution.pk for a in asks},
        occasion__in={a.occasion for a in asks},
    )
    if all(ask.account_id or ask.user_id for ask in asks):
        existing = existing.filter(
            Q(account_id__in={a.account_id for a in asks if a.account_id})
            | Q(user_id__in={a.user_id for a in asks if a.user_id})
        )
    return set(existing.values_list("distribution_id", "occasion", "user_id"))


def _expires_at(survey: Survey, now: datetime, link_days: int) -> datetime:
    expires = now + timedelta(days=link_days)
    if survey.closes_on is not None:
        closing = timezone.make_aware(
            datetime.combine(survey.closes_on + timedelta(days=1), time())
        )
        expires = min(expires, closing)
    return expires


def _issue(asks: list[Ask], now: datetime) -> Issued:
    """Write the invitations of ``asks`` (each person at most once per batch while the fatigue
    rule is on) and enqueue their emails after commit."""
    if not asks:
        return Issued()
    rules = SurveySettings.current()
    candidates = _candidates(asks, now, rules.fatigue_days)
    asked = _already_asked(asks)
    taken: set[int] = set()
    invitations = []
    for ask in asks:
        distribution = ask.distribution
        chosen = [
            c
            for c in candidates
            if (ask.account_id is None or c.account_id == ask.account_id)
            and (ask.user_id is None or c.user_id == ask.user_id)
            and _matches(distribution, c)
        ]
        if ask.prefer_user_id is not None:
            preferred = [c for c in chosen if c.user_id == ask.prefer_user_id]
            chosen = preferred or chosen
        for candidate in chosen:
            if (
                not candidate.rested
                or candidate.user_id in taken
                or ((distribution.pk, ask.occasion, candidate.user_id) in asked)
            ):
                continue
            if rules.fatigue_days:
                taken.add(candidate.user_id)
            asked.add((distribution.pk, ask.occasion, candidate.user_id))
            invitations.append(
                SurveyInvitation(
                    survey_id=distribution.survey_id,
                    distribution=distribution,
                    user_id=candidate.user_id,
                    account_id=candidate.account_id,
                    occasion=ask.occasion,
                    expires_at=_expires_at(distribution.survey, now, rules.link_days),
                )
            )
    if not invitations:
        return Issued()
    with transaction.atomic():
        SurveyInvitation.objects.bulk_create(invitations, ignore_conflicts=True, batch_size=500)
        wanted = {(i.distribution_id, i.occasion, i.user_id) for i in invitations}
        rows = SurveyInvitation.objects.filter(
            distribution_id__in={i.distribution_id for i in invitations},
            occasion__in={i.occasion for i in invitations},
            user_id__in={i.user_id for i in invitations},
            responded_at__isnull=True,
        ).values_list("pk", "distribution_id", "occasion", "user_id")
        ids = sorted(pk for pk, *key in rows if tuple(key) in wanted)
        if ids:
            enqueue("analytics.send_survey_invitations", ids)
    return Issued(ids)


def distribute_due(now: datetime | None = None) -> int:
    """Beat (hourly): issue the invitations of every open ONCE distribution (occasion "once")
    and QUARTERLY one (occasion: the current quarter's key, from its first day on). Running it
    again issues nothing new. Returns how many invitations were issued."""
    now = now or timezone.now()
    today = timezone.localdate(now)
    quarter = quarter_occasion(now)
    asks = [
        Ask(d, "once" if d.trigger == SurveyTrigger.ONCE else quarter)
        for d in _open_distributions(today, [SurveyTrigger.ONCE, SurveyTrigger.QUARTERLY])
    ]
    return len(_issue(asks, now))


def survey_after_deal_won(opportunity_ids, now: datetime | None = None) -> int:
    """After deals are won: the DEAL_WON distributions ask the partner that won each deal (its
    owner when they are in the audience, else the account's people in it); occasion
    "deal:<opportunity id>"."""
    from deals.models import Opportunity, OpportunityStatus

    now = now or timezone.now()
    distributions = list(_open_distributions(timezone.localdate(now), [SurveyTrigger.DEAL_WON]))
    if not distributions or not opportunity_ids:
        return 0
    deals = Opportunity.objects.filter(
        pk__in=list(opportunity_ids), status=OpportunityStatus.WON, account__isnull=False
    ).values_list("pk", "account_id", "owner_id")
    asks = [
        Ask(d, f"deal:{pk}", account_id=account_id, prefer_user_id=owner_id)
        for pk, account_id, owner_id in sorted(deals)
        for d in distributions
    ]
    return len(_issue(asks, now))


def survey_after_course_completed(enrollment_ids, now: datetime | None = None) -> int:
    """After courses are completed: the COURSE_COMPLETED distributions ask the person who
    completed it (if in the audience); occasion "course:<course id>" (asked once per course)."""
    from training.models import Enrollment, EnrollmentStatus

    now = now or timezone.now()
    distributions = list(
        _open_distributions(timezone.localdate(now), [SurveyTrigger.COURSE_COMPLETED])
    )
    if not distributions or not enrollment_ids:
        return 0
    done = Enrollment.objects.filter(
        pk__in=list(enrollment_ids), status=EnrollmentStatus.COMPLETED
    ).values_list("pk", "user_id", "course_id")
    asks = [
        Ask(d, f"course:{course_id}", user_id=user_id)
        for _, user_id, course_id in sorted(done)
        for d in distributions
    ]
    return len(_issue(asks, now))


def remind_non_responders(now: datetime | None = None) -> int:
    """Beat (daily): invitations not answered, not expired, of an open survey, older than their
    distribution's ``remind_after_days`` and not reminded yet get one reminder each (claimed in
    one UPDATE, so a second run sends nothing). Returns how many were claimed."""
    now = now or timezone.now()
    today = timezone.localdate(now)
    distributions = [
        (pk, days)
        for pk, days in SurveyDistribution.objects.filter(remind_after_days__gt=0)
        .filter(survey__active=True)
        .filter(Q(survey__closes_on__isnull=True) | Q(survey__closes_on__gte=today))
        .values_list("pk", "remind_after_days")
    ]
    if not distributions:
        return 0
    old_enough = Q()
    for pk, days in distributions:
        old_enough |= Q(distribution_id=pk, created_at__lte=now - timedelta(days=days))
    with transaction.atomic():
        due = list(
            SurveyInvitation.objects.filter(old_enough)
            .filter(responded_at__isnull=True, reminded_at__isnull=True, expires_at__gt=now)
            .order_by("pk")
            .values_list("pk", flat=True)
        )
        if not due:
            return 0
        SurveyInvitation.objects.filter(pk__in=due, reminded_at__isnull=True).update(
            reminded_at=now
        )
        enqueue("analytics.send_survey_reminders", due)
    return len(due)


# --- emails -------------------------------------------------------------------------------------


def _sendable(invitation_ids, now):
    return (
        SurveyInvitation.objects.filter(
            pk__in=list(invitation_ids), responded_at__isnull=True, expires_at__gt=now
        )
        .select_related("survey", "user", "account")
        .annotate(question_count=Count("survey__questions"))
        .order_by("pk")
    )


def _tell(invitation, *, kind: str, now) -> int:
    from prm.notifications import notify

    survey = invitation.survey
    if not survey_is_open(survey, timezone.localdate(now)):
        return 0
    path = answer_path(invitation)
    expires = timezone.localtime(invitation.expires_at)
    if kind == "invitation":
        title = f"{survey.title}: a few questions for you"
    else:
        title = f"Reminder: {survey.title}"
    body = (
        f"{invitation.question_count} question{'s' if invitation.question_count != 1 else ''}, "
        f"a couple of minutes. Your personal link works until {date_format(expires, 'j M Y')}."
    )
    return notify(
        f"survey-{kind}:{invitation.pk}",
        [invitation.user],
        title=title,
        url=path,
        body=body,
        email_template=f"analytics/email/survey_{kind}",
        context={
            "survey": survey,
            "invitation": invitation,
            "account": invitation.account,
            "question_count": invitation.question_count,
            "expires_at": expires,
        },
        topic="surveys",
    )


def send_invitations(invitation_ids, now: datetime | None = None) -> int:
    """The invitation email (and bell entry) of each invitation, once (keyed by the invitation):
    only while it is unanswered, unexpired and its survey open."""
    now = now or timezone.now()
    return sum(_tell(i, kind="invitation", now=now) for i in _sendable(invitation_ids, now))


def send_reminders(invitation_ids, now: datetime | None = None) -> int:
    now = now or timezone.now()
    return sum(_tell(i, kind="reminder", now=now) for i in _sendable(invitation_ids, now))


# --- the personal link --------------------------------------------------------------------------


def link_token(invitation: SurveyInvitation) -> str:
    return signing.dumps([invitation.pk, invitation.user_id], salt=LINK_SALT)


def answer_path(invitation: SurveyInvitation) -> str:
    return reverse("analytics:survey_answer", args=[link_token(invitation)])


class LinkRefused(Exception):
    """Why a personal link can't be used now: ``reason`` is one of REFUSALS."""

    def __init__(self, reason: str, invitation: SurveyInvitation | None = None):
        super().__init__(reason)
        self.reason = reason
        self.invitation = invitation


#: reason → (HTTP status, heading, what to say). Nothing here names the link's person.
REFUSALS = {
    "invalid": (
        403,
        "This link is not valid",
        "The address may have been cut short or changed. Open the link from your email again, "
        "or ask your partner manager for a new one.",
    ),
    "other_person": (
        403,
        "This link belongs to another person",
        "Survey links are personal. If it was forwarded to you, ask your partner manager for "
        "your own; if it is yours, sign out and open it again.",
    ),
    "answered": (
        410,
        "Thanks — you already answered",
        "Your answers to this survey are in. There is nothing more to do.",
    ),
    "closed": (
        410,
        "This survey is closed",
        "It no longer takes answers. Thank you for your time all the same.",
    ),
    "expired": (
        410,
        "This link has expired",
        "Personal survey links work for a limited time. Ask your partner manager if you would "
        "still like to answer.",
    ),
}


def invitation_for_link(token: str, user, now: datetime | None = None) -> SurveyInvitation:
    """The invitation a personal link opens for ``user`` (anonymous works), or LinkRefused:
    tampered → invalid; someone else signed in → other_person; then answered, closed, expired."""
    now = now or timezone.now()
    try:
        invitation_id, user_id = signing.loads(token, salt=LINK_SALT)
        invitation_id, user_id = int(invitation_id), int(user_id)
    except (signing.BadSignature, TypeError, ValueError) as exc:
        raise LinkRefused("invalid") from exc
    invitation = (
        SurveyInvitation.objects.select_related("survey", "account", "user", "response")
        .filter(pk=invitation_id, user_id=user_id)
        .first()
    )
    if invitation is None or not invitation.user.is_active:
        raise LinkRefused("invalid")
    if getattr(user, "is_authenticated", False) and user.pk != invitation.user_id:
        raise LinkRefused("other_person")
    if invitation.responded_at is not None or _has_response(invitation):
        raise LinkRefused("answered", invitation)
    if not survey_is_open(invitation.survey, timezone.localdate(now)):
        raise LinkRefused("closed", invitation)
    if invitation.expires_at <= now:
        raise LinkRefused("expired", invitation)
    return invitation


def _has_response(invitation) -> bool:
    try:
        return invitation.response is not None
    except SurveyResponse.DoesNotExist:
        return False


def questions_of(survey: Survey) -> list:
    return list(survey.questions.order_by("position", "pk"))


class AlreadyAnswered(Exception):
    pass


def submit_response(
    *, invitation: SurveyInvitation, questions: list, values: dict, now=None
) -> SurveyResponse:
    """Store one answer sheet (``values``: question id → the cleaned value) in one transaction:
    the response, its answers, the invitation marked answered. A second submit of the same
    invitation (another POST, another thread) adds nothing and raises AlreadyAnswered."""
    now = now or timezone.now()
    nps = None
    answers = []
    for question in questions:
        value = values.get(question.pk)
        if value in (None, ""):
            continue
        answer = SurveyAnswer(question=question)
        if question.kind in (QuestionKind.NPS, QuestionKind.RATING):
            answer.number = int(value)
            if question.kind == QuestionKind.NPS and nps is None:
                nps = answer.number
        elif question.kind == QuestionKind.CHOICE:
            answer.choice = str(value)[:200]
        else:
            answer.text = str(value)[:TEXT_MAX]
        answers.append(answer)
    try:
        with transaction.atomic():
            response = SurveyResponse.objects.create(
                invitation=invitation,
                survey_id=invitation.survey_id,
                account_id=invitation.account_id,
                user_id=invitation.user_id,
                nps=nps,
                submitted_at=now,
            )
            for answer in answers:
                answer.response = response
            SurveyAnswer.objects.bulk_create(answers)
            SurveyInvitation.objects.filter(pk=invitation.pk).update(responded_at=now)
    except IntegrityError as exc:
        raise AlreadyAnswered from exc
    if nps is not None and nps <= DETRACTOR_MAX:
        # The detractor alert rules look at it now rather than at their next scheduled run.
        enqueue("analytics.evaluate_alerts_for", "detractor")
    return response


# --- what a partner user sees -------------------------------------------------------------------


def open_invitations_of(user, now: datetime | None = None) -> list:
    """The user's own invitations they can still answer, newest first, each with its link."""
    now = now or timezone.now()
    today = timezone.localdate(now)
    rows = list(
        SurveyInvitation.objects.visible_to(user)
        .filter(user=user, responded_at__isnull=True, expires_at__gt=now, survey__active=True)
        .filter(Q(survey__closes_on__isnull=True) | Q(survey__closes_on__gte=today))
        .select_related("survey")
        .annotate(question_count=Count("survey__questions"))
        .order_by("-created_at", "-pk")[:20]
    )
    for invitation in rows:
        invitation.link = answer_path(invitation)
    return rows


def own_responses(user):
    """The user's own answer sheets (never a colleague's), newest first."""
    return (
        SurveyResponse.objects.visible_to(user)
        .filter(user=user)
        .select_related("survey")
        .order_by("-submitted_at", "-pk")
    )


# --- results for internal users -----------------------------------------------------------------


def surveys_with_counts(user):
    """Surveys with the invitations and responses of the accounts ``user`` sees (one query)."""
    from django.db.models import IntegerField, Subquery

    def counted(queryset):
        return Subquery(
            queryset.filter(survey=OuterRef("pk"))
            .order_by()
            .values("survey")
            .annotate(n=Count("pk"))
            .values("n"),
            output_field=IntegerField(),
        )

    responses = SurveyResponse.objects.visible_to(user)
    return (
        Survey.objects.visible_to(user)
        .annotate(
            invited=counted(SurveyInvitation.objects.visible_to(user)),
            answered=counted(responses),
            question_count=counted(SurveyQuestion.objects.all()),
            promoters=counted(responses.filter(nps__gte=PROMOTER_MIN)),
            detractors=counted(responses.filter(nps__lte=DETRACTOR_MAX)),
            nps_answers=counted(responses.filter(nps__isnull=False)),
        )
        .order_by("-created_at", "-pk")
    )


def net_promoter_score(promoters, detractors, answers) -> float | None:
    """% promoters (9–10) − % detractors (0–6): the same formula as the satisfaction KPI."""
    if not answers:
        return None
    return round(100.0 * ((promoters or 0) - (detractors or 0)) / answers, 1)


def rate(part, whole) -> float | None:
    return round(100.0 * part / whole, 1) if whole else None


@dataclass
class QuestionScore:
    question: object
    overall: float | None
    answers: int
    by_tier: list  # one (average or None) per tier of ``Results.tiers``


@dataclass
class Results:
    survey: Survey
    invited: int
    answered: int
    response_rate: float | None
    nps: float | None
    promoters: int
    passives: int
    detractors: int
    nps_answers: int
    tiers: list  # [(tier id or None, name, invited, answered, rate, nps)]
    scores: list[QuestionScore]
    choices: list  # [(question, [(option, count, percent)], answered)]
    text_questions: list


def survey_results(survey: Survey, user) -> Results:
    """A survey's figures over the accounts ``user`` sees, in a fixed handful of grouped
    queries (invitations by tier; number answers by question and tier; choice counts)."""
    from partners.models import Tier

    questions = questions_of(survey)
    invitations = SurveyInvitation.objects.visible_to(user).filter(survey=survey)
    answers = SurveyAnswer.objects.filter(
        response__in=SurveyResponse.objects.visible_to(user).filter(survey=survey)
    )
    tier_names = dict(Tier.objects.order_by("rank", "pk").values_list("pk", "name"))

    by_tier = {
        row["account__tier_id"]: row
        for row in invitations.order_by()
        .values("account__tier_id")
        .annotate(
            invited=Count("pk"),
            answered=Count("pk", filter=Q(responded_at__isnull=False)),
        )
    }
    numbers = list(
        answers.filter(question__kind__in=[QuestionKind.NPS, QuestionKind.RATING])
        .order_by()
        .values("question_id", "response__account__tier_id")
        .annotate(
            average=Avg("number"),
            n=Count("pk"),
            promoters=Count("pk", filter=Q(number__gte=PROMOTER_MIN)),
            detractors=Count("pk", filter=Q(number__lte=DETRACTOR_MAX)),
        )
    )
    tier_ids = sorted(
        set(by_tier) | {row["response__account__tier_id"] for row in numbers},
        key=lambda pk: (pk is None, list(tier_names).index(pk) if pk in tier_names else 0),
    )
    nps_question = next((q for q in questions if q.kind == QuestionKind.NPS), None)
    nps_rows = [r for r in numbers if nps_question and r["question_id"] == nps_question.pk]
    nps_by_tier = {
        r["response__account__tier_id"]: net_promoter_score(r["promoters"], r["detractors"], r["n"])
        for r in nps_rows
    }
    tiers = []
    for pk in tier_ids:
        row = by_tier.get(pk, {"invited": 0, "answered": 0})
        tiers.append(
            (
                pk,
                tier_names.get(pk, "No tier"),
                row["invited"],
                row["answered"],
                rate(row["answered"], row["invited"]),
                nps_by_tier.get(pk),
            )
        )
    scores = []
    for question in questions:
        if question.kind not in (QuestionKind.NPS, QuestionKind.RATING):
            continue
        rows = {
            r["response__account__tier_id"]: r for r in numbers if r["question_id"] == question.pk
        }
        count = sum(r["n"] for r in rows.values())
        overall = sum(r["average"] * r["n"] for r in rows.values()) / count if count else None
        scores.append(
            QuestionScore(
                question=question,
                overall=round(overall, 1) if overall is not None else None,
                answers=count,
                by_tier=[round(rows[pk]["average"], 1) if pk in rows else None for pk in tier_ids],
            )
        )
    counted = {}
    for question_id, choice, n in (
        answers.filter(question__kind=QuestionKind.CHOICE)
        .order_by()
        .values_list("question_id", "choice")
        .annotate(n=Count("pk"))
    ):
        counted.setdefault(question_id, {})[choice] = n
    choices = []
    for question in questions:
        if question.kind != QuestionKind.CHOICE:
            continue
        got = counted.get(question.pk, {})
        total = sum(got.values())
        options = question.option_list + [o for o in got if o not in question.option_list]
        choices.append(
            (
                question,
                [(o, got.get(o, 0), rate(got.get(o, 0), total) or 0) for o in options],
                total,
            )
        )
    promoters = sum(r["promoters"] for r in nps_rows)
    detractors = sum(r["detractors"] for r in nps_rows)
    nps_answers = sum(r["n"] for r in nps_rows)
    invited = sum(r["invited"] for r in by_tier.values())
    answered = sum(r["answered"] for r in by_tier.values())
    return Results(
        survey=survey,
        invited=invited,
        answered=answered,
        response_rate=rate(answered, invited),
        nps=net_promoter_score(promoters, detractors, nps_answers),
        promoters=promoters,
        passives=nps_answers - promoters - detractors,
        detractors=detractors,
        nps_answers=nps_answers,
        tiers=tiers,
        scores=scores,
        choices=choices,
        text_questions=[q for q in questions if q.kind == QuestionKind.TEXT],
    )


def text_answers(survey: Survey, user):
    """The free-text answers over the accounts ``user`` sees, newest first, with the partner."""
    return (
        SurveyAnswer.objects.filter(
            response__in=SurveyResponse.objects.visible_to(user).filter(survey=survey),
            question__kind=QuestionKind.TEXT,
        )
        .exclude(text="")
        .select_related("question", "response__account")
        .order_by("-response__submitted_at", "-response_id", "-pk")
    )


def nps_by_quarter(survey: Survey, user, quarters: list) -> dict:
    """``{quarter start: (NPS, answers)}`` of the responses the user sees, in one grouped query
    (quarters in the configured time zone)."""
    if not quarters:
        return {}
    rows = (
        SurveyResponse.objects.visible_to(user)
        .filter(
            survey=survey,
            nps__isnull=False,
            submitted_at__gte=quarters[0].start_at,
            submitted_at__lt=quarters[-1].end_at,
        )
        .annotate(quarter=TruncQuarter("submitted_at"))
        .order_by()
        .values("quarter")
        .annotate(
            n=Count("pk"),
            promoters=Count("pk", filter=Q(nps__gte=PROMOTER_MIN)),
            detractors=Count("pk", filter=Q(nps__lte=DETRACTOR_MAX)),
        )
    )
    out = {}
    for row in rows:
        value = row["quarter"]
        day = timezone.localtime(value).date() if isinstance(value, datetime) else value
        out[kpis.Period.quarter(day).start] = (
            net_promoter_score(row["promoters"], row["detractors"], row["n"]),
            row["n"],
        )
    return out


def trailing_quarters(count: int = 6, today=None) -> list:
    quarter = kpis.Period.quarter(today or timezone.localdate())
    out = [quarter]
    for _ in range(count - 1):
        out.insert(0, out[0].previous())
    return out
