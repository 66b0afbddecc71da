"""Training: enroll, mark lessons done, submit quizzes (graded here), complete, certify.

Each function takes the acting user, checks permission and writes in a transaction. Quiz answers
are graded on the server only: ``Choice.is_correct`` never leaves it before a submission.
"""

from __future__ import annotations

import uuid
from datetime import timedelta

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, models, transaction
from django.utils import timezone

from partners.models import PartnerAccount
from prm.access import Role, partner_contact, role_of
from prm.tasks import enqueue
from training.models import (
    Certificate,
    Course,
    Enrollment,
    EnrollmentStatus,
    Lesson,
    LessonProgress,
    Quiz,
    QuizAttempt,
)

__all__ = [
    "attempts_left",
    "complete_lesson",
    "enroll",
    "grade_answers",
    "issue_certificate",
    "record_download",
    "submit_quiz",
]


# --- enrollment, progress, quizzes (player) -----------------------------------------------------


def _require_enrollment_owner(actor, enrollment: Enrollment) -> None:
    if enrollment.user_id != getattr(actor, "pk", None):
        raise PermissionDenied("Only the person taking the course does this.")


def _may_enroll_other(actor, user) -> bool:
    """A partner admin enrolls a colleague of their own company; an internal user, a person of
    a company they see."""
    contact = partner_contact(user)
    if contact is None or contact.portal_access == "none":
        return False
    role = role_of(actor)
    if role is Role.PARTNER_ADMIN:
        own = partner_contact(actor)
        return own is not None and own.account_id == contact.account_id
    if role.is_internal:
        return PartnerAccount.objects.visible_to(actor).filter(pk=contact.account_id).exists()
    return False


@transaction.atomic
def enroll(*, actor, course: Course, user=None) -> Enrollment:
    """Enroll ``user`` (default: the actor) in ``course``; enrolling twice returns the first."""
    user = actor if user is None else user
    if user.pk == actor.pk:
        if not role_of(actor).is_partner:
            raise PermissionDenied("Only partner users take courses.")
    elif not _may_enroll_other(actor, user):
        raise PermissionDenied("You can't enroll this person.")
    if not Course.objects.visible_to(user).filter(pk=course.pk).exists():
        raise ValidationError("This course isn't open to this person.")
    existing = Enrollment.objects.filter(user=user, course=course).first()
    if existing is not None:
        return existing
    try:
        with transaction.atomic():
            return Enrollment.objects.create(user=user, course=course, enrolled_by=actor)
    except IntegrityError:  # a parallel request enrolled them first
        return Enrollment.objects.get(user=user, course=course)


def _locked(enrollment: Enrollment) -> Enrollment:
    return Enrollment.objects.select_for_update().select_related("course").get(pk=enrollment.pk)


@transaction.atomic
def complete_lesson(*, actor, enrollment: Enrollment, lesson: Lesson) -> Enrollment:
    """Mark a lesson done (again is harmless) and remember it as where the person stopped."""
    _require_enrollment_owner(actor, enrollment)
    enrollment = _locked(enrollment)
    if lesson.course_id != enrollment.course_id:
        raise ValidationError("This lesson belongs to another course.")
    LessonProgress.objects.get_or_create(enrollment=enrollment, lesson=lesson)
    enrollment.last_lesson = lesson
    enrollment.save(update_fields=["last_lesson"])
    _complete_if_done(enrollment)
    return enrollment


def attempts_left(quiz: Quiz, used: int) -> int | None:
    """Attempts still allowed after ``used`` (None: unlimited)."""
    if not quiz.max_attempts:
        return None
    return max(quiz.max_attempts - used, 0)


def _clean_answers(quiz: Quiz, answers) -> dict[int, set[int]]:
    """Answers as {question id: set of choice ids}, every id checked against this quiz."""
    questions = {q.pk: q for q in quiz.questions.prefetch_related("choices")}
    cleaned: dict[int, set[int]] = {}
    try:
        items = [(int(qid), {int(c) for c in chosen}) for qid, chosen in dict(answers).items()]
    except (TypeError, ValueError) as exc:
        raise ValidationError("These answers don't belong to this quiz.") from exc
    for qid, chosen in items:
        question = questions.get(qid)
        if question is None:
            raise ValidationError("These answers don't belong to this quiz.")
        if not chosen <= {c.pk for c in question.choices.all()}:
            raise ValidationError("These answers don't belong to this quiz.")
        cleaned[qid] = chosen
    for qid, question in questions.items():
        chosen = cleaned.get(qid, set())
        if not chosen:
            raise ValidationError(f"Answer every question (“{question.text}” has no answer).")
        if question.kind == "single" and len(chosen) != 1:
            raise ValidationError(f"“{question.text}” takes exactly one answer.")
    return cleaned


def grade_answers(quiz: Quiz, answers: dict[int, set[int]]) -> int:
    """The score in percent: a question counts only if the chosen set equals the correct set."""
    questions = list(quiz.questions.prefetch_related("choices"))
    if not questions:
        return 100
    right = sum(
        1
        for q in questions
        if answers.get(q.pk, set()) == {c.pk for c in q.choices.all() if c.is_correct}
    )
    return round(100 * right / len(questions))


@transaction.atomic
def submit_quiz(
    *, actor, enrollment: Enrollment, quiz: Quiz, answers: dict[int, list[int]]
) -> QuizAttempt:
    """Grade a submission and record it as the next attempt.

    The enrollment row is locked, so two parallel submissions can't exceed the attempts limit.
    """
    _require_enrollment_owner(actor, enrollment)
    enrollment = _locked(enrollment)
    if quiz.course_id != enrollment.course_id:
        raise ValidationError("This quiz belongs to another course.")
    used = QuizAttempt.objects.filter(enrollment=enrollment, quiz=quiz).count()
    if attempts_left(quiz, used) == 0:
        raise ValidationError(f"You have used all {quiz.max_attempts} attempts at this quiz.")
    cleaned = _clean_answers(quiz, answers)
    score = grade_answers(quiz, cleaned)
    attempt = QuizAttempt.objects.create(
        enrollment=enrollment,
        quiz=quiz,
        number=used + 1,
        score=score,
        passed=score >= quiz.pass_mark,
        answers={str(qid): sorted(chosen) for qid, chosen in sorted(cleaned.items())},
    )
    if attempt.passed:
        _complete_if_done(enrollment)
    return attempt


def is_done(enrollment: Enrollment) -> bool:
    """Every lesson has progress and every quiz of the course has a passed attempt."""
    course = enrollment.course
    lessons = set(Lesson.objects.filter(course=course).values_list("pk", flat=True))
    done = set(enrollment.progress.values_list("lesson_id", flat=True))
    if not lessons <= done:
        return False
    quizzes = set(Quiz.objects.filter(course=course).values_list("pk", flat=True))
    passed = set(enrollment.attempts.filter(passed=True).values_list("quiz_id", flat=True))
    return quizzes <= passed


def _complete_if_done(enrollment: Enrollment) -> None:
    if not is_done(enrollment):
        return
    if enrollment.status != EnrollmentStatus.COMPLETED:
        enrollment.status = EnrollmentStatus.COMPLETED
        enrollment.completed_at = timezone.now()
        enrollment.save(update_fields=["status", "completed_at"])
        if (contact := partner_contact(enrollment.user)) is not None:
            enqueue("analytics.refresh_account_scores", [contact.account_id])
            enqueue("analytics.survey_after_course_completed", [enrollment.pk])
    if enrollment.course.is_certification:
        issue_certificate(enrollment)


@transaction.atomic
def issue_certificate(enrollment: Enrollment, *, today=None) -> Certificate:
    """The person's certificate for a completed certification course.

    Idempotent: while a certificate of this person and course is valid it is returned; after it
    expired (or was revoked) a completed enrollment earns a new one.
    """
    today = today or timezone.localdate()
    course = enrollment.course
    if not course.is_certification:
        raise ValidationError("Only a certification course issues certificates.")
    if enrollment.status != EnrollmentStatus.COMPLETED:
        raise ValidationError("The course isn't completed yet.")
    contact = partner_contact(enrollment.user)
    if contact is None:
        raise ValidationError("Only partner users are certified.")
    current = (
        Certificate.objects.select_for_update()
        .filter(user_id=enrollment.user_id, course=course)
        .valid_on(today)
        .first()
    )
    if current is not None:
        return current
    certificate = Certificate.objects.create(
        number=uuid.uuid4().hex[:20],
        user_id=enrollment.user_id,
        course=course,
        account_id=contact.account_id,
        product_family=course.product_family,
        issued_on=today,
        expires_on=today + timedelta(days=course.validity_days),
    )
    certificate.number = f"OPRM-{today.year}-{certificate.pk:06d}"
    certificate.save(update_fields=["number"])
    enqueue("analytics.refresh_account_scores", [contact.account_id])
    return certificate


# --- certificates ---

__all__ += ["CERTIFICATE_REMINDER_DAYS", "remind_expiring_certificates", "revoke_certificate"]

#: How many days ahead a certificate's holder is reminded that it expires.
CERTIFICATE_REMINDER_DAYS = 30


def certificate_reminder_key(certificate_id: int, expires_on) -> str:
    """The notification key of a reminder: one per certificate and expiry date."""
    return f"certificate-expiring:{certificate_id}:{expires_on}"


def remind_expiring_certificates(*, today=None) -> int:
    """Remind the holder (and their company's partner admins) of every valid certificate that
    expires within ``CERTIFICATE_REMINDER_DAYS`` days; once per certificate and expiry date.

    Works in sets: one query for the certificates due, one for the reminders already sent, one
    for the partner admins of their companies. Returns how many certificates were reminded.
    """
    from django.contrib.auth import get_user_model
    from django.db.models import F
    from django.urls import reverse
    from django.utils.dateformat import format as format_date

    from partners.models import BLOCKED_STATUSES, PortalAccess
    from prm.models import Notification
    from prm.notifications import notify

    today = today or timezone.localdate()
    due = list(
        Certificate.objects.valid_on(today)
        .filter(
            expires_on__lte=today + timedelta(days=CERTIFICATE_REMINDER_DAYS),
            user__is_active=True,
            user__contact__account_id=F("account_id"),
        )
        .exclude(account__status__in=BLOCKED_STATUSES)
        .select_related("user", "course", "account")
        .order_by("expires_on", "pk")
    )
    if not due:
        return 0
    keys = {c.pk: certificate_reminder_key(c.pk, c.expires_on) for c in due}
    reminded = set(
        Notification.objects.filter(key__in=keys.values(), user_id__in={c.user_id for c in due})
        .values_list("key", flat=True)
        .distinct()
    )
    due = [c for c in due if keys[c.pk] not in reminded]
    admins: dict[int, list] = {}
    users = {
        u.pk: u
        for u in get_user_model()
        .objects.filter(
            is_active=True,
            contact__account_id__in={c.account_id for c in due},
            contact__portal_access=PortalAccess.ADMIN,
        )
        .select_related("contact")
    }
    for user in users.values():
        admins.setdefault(user.contact.account_id, []).append(user)
    for certificate in due:
        days = (certificate.expires_on - today).days
        when = "today" if days == 0 else f"in {days} day{'s' if days != 1 else ''}"
        notify(
            keys[certificate.pk],
            [certificate.user, *admins.get(certificate.account_id, [])],
            title=f"Certificate expiring {when}: {certificate.course}",
            url=reverse("training:certificate", args=[certificate.pk]),
            body=(
                f"{certificate.user.get_full_name() or certificate.user.email}'s certificate "
                f"{certificate.number} ({certificate.course}) expires on "
                f"{format_date(certificate.expires_on, 'j F Y')}. "
                "Take the course again to renew it."
            ),
            topic="training.certificates",
        )
    return len(due)


@transaction.atomic
def revoke_certificate(*, actor, certificate: Certificate, reason: str) -> Certificate:
    """Withdraw a certificate (admins only); the reason goes to the company's audit trail."""
    from partners.models import AuditAction
    from partners.services import record

    if role_of(actor) is not Role.ADMIN:
        raise PermissionDenied("Only admins revoke certificates.")
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError({"reason": "Say why the certificate is revoked."})
    certificate = Certificate.objects.select_for_update().get(pk=certificate.pk)
    if certificate.revoked_at is not None:
        raise ValidationError(f"Certificate {certificate.number} is already revoked.")
    certificate.revoked_at = timezone.now()
    certificate.save(update_fields=["revoked_at"])
    enqueue("analytics.refresh_account_scores", [certificate.account_id])
    record(
        actor=actor,
        account=certificate.account,
        action=AuditAction.STATUS,
        obj=certificate,
        changes={"status": ["valid", "revoked"]},
        message=f"Certificate revoked: {reason}",
    )
    return certificate


# --- onboarding -------------------------------------------------------------------------------

__all__ += [
    "checklist_of",
    "ensure_checklist",
    "ensure_checklists",
    "mark_deal_registered",
    "may_tick",
    "refresh_automatic_steps",
    "tick_step",
    "untick_step",
]


def _template_steps(tier_ids: set) -> dict:
    """tier id -> its checklist steps (the default template's for a tier without one)."""
    from training.models import ChecklistStep

    steps = list(
        ChecklistStep.objects.filter(
            models.Q(template__tier__isnull=True) | models.Q(template__tier_id__in=tier_ids)
        ).select_related("template")
    )
    by_tier: dict = {}
    for step in steps:
        by_tier.setdefault(step.template.tier_id, []).append(step)
    default = by_tier.get(None, [])
    return {tier_id: by_tier.get(tier_id, default) for tier_id in tier_ids | {None}}


def ensure_checklists(account_ids) -> int:
    """Give each account the checklist of its tier (or the default one): one item per step,
    created once (a unique constraint: safe to run twice, or in parallel). Returns how many
    items were created. A fixed number of queries, whatever the number of accounts."""
    tiers = dict(PartnerAccount.objects.filter(pk__in=list(account_ids)).values_list("pk", "tier"))
    return _ensure_items(tiers)


def _ensure_items(tiers: dict) -> int:
    """Create the missing items of {account id: tier id}."""
    from training.models import ChecklistItem

    if not tiers:
        return 0
    steps = _template_steps(set(tiers.values()))
    if not any(steps.values()):
        return 0
    have = set(
        ChecklistItem.objects.filter(account_id__in=list(tiers)).values_list("account", "step")
    )
    missing = [
        ChecklistItem(account_id=account_id, step_id=step.pk)
        for account_id, tier_id in tiers.items()
        for step in steps[tier_id]
        if (account_id, step.pk) not in have
    ]
    if missing:
        ChecklistItem.objects.bulk_create(missing, ignore_conflicts=True)
    return len(missing)


def ensure_checklist(account: PartnerAccount) -> None:
    _ensure_items({account.pk: account.tier_id})


def checklist_of(account: PartnerAccount) -> list:
    """The items of ``account``'s current checklist (its tier's template, else the default),
    in order, with step, course and who ticked them loaded."""
    from training.models import ChecklistItem, ChecklistTemplate

    template = (
        ChecklistTemplate.objects.filter(
            models.Q(tier_id=account.tier_id) | models.Q(tier__isnull=True)
        )
        .order_by(models.F("tier").asc(nulls_last=True))
        .first()
        if account.tier_id
        else ChecklistTemplate.objects.filter(tier__isnull=True).first()
    )
    if template is None:
        return []
    return list(
        ChecklistItem.objects.filter(account=account, step__template=template)
        .select_related("step", "step__course", "done_by")
        .order_by("step__position", "step__pk")
    )


def refresh_automatic_steps(account_ids) -> int:
    """Tick the open automatic items of these accounts that the system sees done (a profile
    completed, a colleague invited, a course completed). In sets: the same few queries for 10 or
    10,000 accounts. Returns how many items were ticked."""
    from training.checklists import AUTOMATIC_CHECKS, satisfied
    from training.models import ChecklistItem

    open_items = list(
        ChecklistItem.objects.filter(
            account_id__in=list(account_ids),
            done_at__isnull=True,
            step__ticks_when__in=AUTOMATIC_CHECKS,
        ).select_related("step")
    )
    done = satisfied(open_items)
    if not done:
        return 0
    return ChecklistItem.objects.filter(pk__in=[i.pk for i in done], done_at__isnull=True).update(
        done_at=timezone.now(), done_by=None, ticked_automatically=True
    )


def mark_deal_registered(account_id: int) -> int:
    """Tick the account's "register a first deal" step (the deals app enqueues this when a
    registration is submitted). Idempotent: an item already ticked stays as it was."""
    from training.models import ChecklistItem, StepCheck

    ensure_checklists([account_id])
    return ChecklistItem.objects.filter(
        account_id=account_id, step__ticks_when=StepCheck.DEAL_REGISTERED, done_at__isnull=True
    ).update(done_at=timezone.now(), done_by=None, ticked_automatically=True)


def may_tick(actor, account_id: int) -> bool:
    """Manual steps are ticked by the partner admins of the account itself (not of a parent
    account, not the vendor's staff, not members)."""
    if role_of(actor) is not Role.PARTNER_ADMIN:
        return False
    contact = partner_contact(actor)
    return contact is not None and contact.account_id == account_id


def _set_manual_step(*, actor, item, done: bool):
    from partners.models import AuditAction
    from partners.services import record
    from training.models import ChecklistItem, StepCheck

    if not may_tick(actor, item.account_id):
        raise PermissionDenied("Only a partner admin of this company ticks onboarding steps.")
    current = ChecklistItem.objects.select_for_update().select_related("step").get(pk=item.pk)
    if current.step.ticks_when != StepCheck.MANUAL:
        raise ValidationError("This step ticks itself once it is done.")
    if (current.done_at is not None) == done:
        return current
    before = "done" if current.done_at else "open"
    current.done_at = timezone.now() if done else None
    current.done_by = actor if done else None
    current.ticked_automatically = False
    current.save(update_fields=["done_at", "done_by", "ticked_automatically"])
    record(
        actor=actor,
        account=current.account,
        action=AuditAction.CHANGE,
        obj=current,
        changes={"onboarding step": [before, "done" if done else "open"]},
        message=f"Onboarding step “{current.step.title}” {'ticked' if done else 'unticked'}",
    )
    return current


@transaction.atomic
def tick_step(*, actor, item):
    """A partner admin ticks a manual step of their company's checklist."""
    return _set_manual_step(actor=actor, item=item, done=True)


@transaction.atomic
def untick_step(*, actor, item):
    """A partner admin takes the tick off a manual step (ticked by mistake)."""
    return _set_manual_step(actor=actor, item=item, done=False)


# --- library ------------------------------------------------------------------------------------


def record_download(*, user, resource):
    """Count one download of ``resource`` for the partner user's account: one row per account
    and resource, counted up in the database (``F()``), so concurrent downloads all count and
    no row is written per download. Internal users download without counting (returns None).
    """
    from django.db.models import F

    from training.models import Resource, ResourceDownload

    contact = partner_contact(user)
    if contact is None:
        return None
    if not Resource.objects.visible_to(user).filter(pk=resource.pk).exists():
        raise PermissionDenied("This resource is not open to your company.")
    now = timezone.now()
    with transaction.atomic():
        counted = ResourceDownload.objects.filter(
            resource=resource, account_id=contact.account_id
        ).update(count=F("count") + 1, last_at=now)
        if not counted:
            try:
                with transaction.atomic():
                    ResourceDownload.objects.create(
                        resource=resource, account_id=contact.account_id, count=1, last_at=now
                    )
            except IntegrityError:  # a colleague's first download won the race: count up
                ResourceDownload.objects.filter(
                    resource=resource, account_id=contact.account_id
                ).update(count=F("count") + 1, last_at=now)
    return ResourceDownload.objects.get(resource=resource, account_id=contact.account_id)


# --- enrolling other people (a partner admin's colleagues, a manager's partner users) --------

__all__ += ["enroll_people", "may_enroll_people", "notify_enrolled"]


def may_enroll_people(actor) -> bool:
    """Partner admins enroll colleagues; internal users, people of the companies they see."""
    role = role_of(actor)
    return role is Role.PARTNER_ADMIN or role.is_internal


def _why_not_open(course: Course, contact) -> str:
    if not course.published:
        return "the course isn't published yet"
    tier = contact.account.tier
    return f"the course isn't open to {contact.account.name}'s tier ({tier or 'no tier'})"


@transaction.atomic
def enroll_people(*, actor, course: Course, users) -> tuple[list[Enrollment], list]:
    """Enroll each of ``users`` in ``course``: all of them or, on any refusal, none.

    Returns (the new enrollments, the people who were enrolled already). A refusal raises one
    ValidationError naming each person and why; each new enrollment's person is notified
    (bell and email) once the transaction commits.
    """
    from prm.tasks import enqueue

    if not may_enroll_people(actor):
        raise PermissionDenied("Only partner admins and partner managers enroll other people.")
    users = list({u.pk: u for u in users}.values())
    if not users:
        raise ValidationError("Choose at least one person to enroll.")
    already = set(
        Enrollment.objects.filter(course=course, user__in=users).values_list("user_id", flat=True)
    )
    problems = []
    for user in users:
        contact = partner_contact(user)
        name = f"{user.get_full_name() or user.email} ({user.email})"
        if user.pk == actor.pk:
            problems.append(f"{name}: enroll yourself with the Enroll button.")
        elif not _may_enroll_other(actor, user):
            problems.append(f"{name}: you can't enroll this person.")
        elif not Course.objects.visible_to(user).filter(pk=course.pk).exists():
            problems.append(f"{name}: {_why_not_open(course, contact)}.")
    if problems:
        raise ValidationError(problems)
    created = [
        enroll(actor=actor, course=course, user=user) for user in users if user.pk not in already
    ]
    if created:
        enqueue("training.notify_enrolled", [e.pk for e in created])
    return created, [u for u in users if u.pk in already]


def notify_enrolled(enrollment_ids) -> int:
    """Tell each person that someone enrolled them (bell and email, once per enrollment)."""
    from django.urls import reverse

    from prm.notifications import notify

    sent = 0
    for enrollment in Enrollment.objects.filter(pk__in=list(enrollment_ids)).select_related(
        "user", "course", "enrolled_by"
    ):
        by = enrollment.enrolled_by
        who = (by.get_full_name() or by.email) if by is not None else "Your partner manager"
        sent += notify(
            f"enrolled:{enrollment.pk}",
            [enrollment.user],
            title=f"You are enrolled in {enrollment.course.title}"[:200],
            url=reverse("training:course", args=[enrollment.course.slug]),
            body=f"{who} enrolled you in {enrollment.course.title}. Start with the first lesson.",
            topic="training.enrollments",
        )
    return sent
