"""Certificates: issued by passing a certification course, shown on a printable page to the people
who may see them, verified by number by internal users, revoked by admins, and reminded once
before they expire."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core import mail
from django.core.exceptions import PermissionDenied, ValidationError
from django.urls import reverse
from django.utils import timezone

from partners.models import AuditEntry
from prm.models import Notification
from prm.testing.fixtures import login_as
from training import services
from training.models import Certificate, Choice, Course, Lesson, Question, Quiz

pytestmark = pytest.mark.django_db


def certification_course(title="Certified Security Seller", family="Network security", **extra):
    """A published certification course: one lesson and a one-question quiz (choice "Right")."""
    course = Course.objects.create(
        title=title,
        slug=title.lower().replace(" ", "-"),
        is_certification=True,
        product_family=family,
        validity_days=365,
        published=True,
        **extra,
    )
    Lesson.objects.create(course=course, title="Why gateways", body="Read this.", position=1)
    quiz = Quiz.objects.create(course=course, title="Final quiz", pass_mark=100, max_attempts=3)
    question = Question.objects.create(quiz=quiz, text="Pick the right one")
    Choice.objects.create(question=question, text="Right", is_correct=True, position=1)
    Choice.objects.create(question=question, text="Wrong", position=2)
    return course


def certify(user, course) -> Certificate:
    """Take ``course`` as ``user`` through the services: enroll, every lesson, pass the quiz."""
    enrollment = services.enroll(actor=user, course=course)
    for lesson in course.lessons.all():
        services.complete_lesson(actor=user, enrollment=enrollment, lesson=lesson)
    for quiz in course.quizzes.all():
        answers = {
            q.pk: [c.pk for c in q.choices.all() if c.is_correct] for q in quiz.questions.all()
        }
        services.submit_quiz(actor=user, enrollment=enrollment, quiz=quiz, answers=answers)
    return Certificate.objects.get(user=user, course=course, revoked_at__isnull=True)


def expiring_in(certificate, days) -> Certificate:
    Certificate.objects.filter(pk=certificate.pk).update(
        expires_on=timezone.localdate() + timedelta(days=days)
    )
    certificate.refresh_from_db()
    return certificate


# --- the printable page -------------------------------------------------------------------------


def test_passing_a_certification_course_issues_a_printable_certificate(client, world):
    certificate = certify(world.member_a, certification_course())
    today = timezone.localdate()
    assert certificate.number == f"OPRM-{today.year}-{certificate.pk:06d}"
    assert certificate.account == world.a
    assert certificate.expires_on == today + timedelta(days=365)

    login_as(client, world.member_a)
    response = client.get(reverse("training:certificate", args=[certificate.pk]))
    assert response.status_code == 200
    html = response.content.decode()
    for shown in (
        certificate.number,
        "Jamie Park",
        "Northwind Systems",
        "Certified Security Seller",
        "Network security",
        today.strftime("%Y-%m-%d"),
        certificate.expires_on.strftime("%Y-%m-%d"),
        "Valid",
    ):
        assert shown in html, shown
    assert "@media print" in html  # the page prints without the portal's menus


@pytest.mark.parametrize(
    ("persona", "status"),
    [
        ("member_a", 200),  # the holder
        ("partner_admin_a", 200),  # their company's partner admin
        ("manager", 200),  # the manager of their company
        ("admin", 200),
        ("partner_admin_b", 404),  # another company
        ("other_manager", 404),  # another company's manager
    ],
)
def test_a_certificate_is_seen_by_its_holder_their_admins_and_managers_only(
    client, world, persona, status
):
    certificate = certify(world.member_a, certification_course())
    login_as(client, getattr(world, persona))
    response = client.get(reverse("training:certificate", args=[certificate.pk]))
    assert response.status_code == status


def test_a_colleagues_certificate_is_a_404_to_a_member(client, world):
    certificate = certify(world.partner_admin_a, certification_course())
    login_as(client, world.member_a)
    assert client.get(reverse("training:certificate", args=[certificate.pk])).status_code == 404


@pytest.mark.parametrize(
    ("days", "revoked", "label"),
    [
        (200, False, "Valid"),
        (12, False, "Valid, expiring soon"),
        (-1, False, "Expired"),
        (200, True, "Revoked"),
    ],
)
def test_the_page_says_whether_the_certificate_is_still_valid(client, world, days, revoked, label):
    certificate = expiring_in(certify(world.member_a, certification_course()), days)
    if revoked:
        services.revoke_certificate(actor=world.admin, certificate=certificate, reason="Fraud")
    login_as(client, world.member_a)
    html = client.get(reverse("training:certificate", args=[certificate.pk])).content.decode()
    assert f">{label}</span>" in html
    if days == 12:
        assert "expires in 12 days" in html


# --- verification by number ---------------------------------------------------------------------


def test_a_manager_verifies_a_number_and_sees_holder_course_and_validity(client, world):
    certificate = certify(world.member_a, certification_course())
    login_as(client, world.manager)
    url = reverse("training:certificate_verify")
    response = client.get(url, {"number": f"  {certificate.number.lower()} "})
    html = response.content.decode()
    assert response.status_code == 200
    assert "Valid" in html and "Jamie Park" in html and "Certified Security Seller" in html
    assert reverse("training:certificate", args=[certificate.pk]) in html

    expiring_in(certificate, -3)
    assert "Expired" in client.get(url, {"number": certificate.number}).content.decode()


def test_an_unknown_number_gets_a_clear_message_not_an_error(client, world):
    certificate = certify(world.member_a, certification_course())
    login_as(client, world.other_manager)  # A is not theirs: the same answer as unknown
    for number in ("OPRM-2026-999999", certificate.number, "<script>x</script>"):
        response = client.get(reverse("training:certificate_verify"), {"number": number})
        assert response.status_code == 200
        html = response.content.decode()
        assert "No certificate has the number" in html
        assert "Jamie Park" not in html and "<script>x" not in html


def test_partners_cannot_use_the_verification_page(client, world):
    login_as(client, world.partner_admin_a)
    assert client.get(reverse("training:certificate_verify")).status_code == 403


# --- revoking -----------------------------------------------------------------------------------


def test_only_an_admin_revokes_and_the_reason_goes_to_the_history(world):
    certificate = certify(world.member_a, certification_course())
    with pytest.raises(PermissionDenied):
        services.revoke_certificate(actor=world.manager, certificate=certificate, reason="No")
    with pytest.raises(ValidationError) as error:
        services.revoke_certificate(actor=world.admin, certificate=certificate, reason="  ")
    assert "reason" in error.value.message_dict
    certificate.refresh_from_db()
    assert certificate.revoked_at is None

    services.revoke_certificate(actor=world.admin, certificate=certificate, reason="Shared answers")
    certificate.refresh_from_db()
    assert certificate.revoked_at is not None
    entry = AuditEntry.objects.get(object_type="certificate", object_id=certificate.pk)
    assert entry.account == world.a and entry.actor == world.admin
    assert "Shared answers" in entry.message
    with pytest.raises(ValidationError):
        services.revoke_certificate(actor=world.admin, certificate=certificate, reason="Again")


def test_passing_again_after_a_revocation_issues_a_new_certificate(world):
    course = certification_course()
    first = certify(world.member_a, course)
    services.revoke_certificate(actor=world.admin, certificate=first, reason="Shared answers")
    enrollment = world.member_a.enrollments.get(course=course)
    second = services.issue_certificate(enrollment)
    assert second.pk != first.pk and second.number != first.number


# --- the expiry reminder ------------------------------------------------------------------------


def test_certificates_expiring_within_30_days_are_reminded_once(world):
    course = certification_course()
    soon = expiring_in(certify(world.member_a, course), 30)
    later = expiring_in(certify(world.partner_admin_a, course), 31)
    other = certification_course("Endpoint Expert", "Endpoint")
    gone = expiring_in(certify(world.member_a, other), -1)
    revoked = expiring_in(certify(world.partner_admin_b, course), 5)
    services.revoke_certificate(actor=world.admin, certificate=revoked, reason="Left")
    mail.outbox.clear()

    assert services.remind_expiring_certificates() == 1
    notes = Notification.objects.filter(key__startswith="certificate-expiring:")
    assert sorted(notes.values_list("user__email", flat=True)) == sorted(
        [world.member_a.email, world.partner_admin_a.email]
    )
    note = notes.get(user=world.member_a)
    assert note.key == f"certificate-expiring:{soon.pk}:{soon.expires_on}"
    assert note.url == reverse("training:certificate", args=[soon.pk])
    assert "Certified Security Seller" in note.title
    # One email each (each with its own preferences link).
    assert sorted(m.to[0] for m in mail.outbox) == sorted(
        [world.member_a.email, world.partner_admin_a.email]
    )

    # A second run (or a second worker) tells nobody twice.
    assert services.remind_expiring_certificates() == 0
    assert notes.count() == 2 and len(mail.outbox) == 2
    assert later.pk and gone.pk  # not reminded: outside the window, already expired

    # A renewed certificate (a new expiry date) is reminded again when its time comes.
    Certificate.objects.filter(pk=soon.pk).update(expires_on=soon.expires_on + timedelta(days=1))
    today = timezone.localdate() + timedelta(days=1)
    assert services.remind_expiring_certificates(today=today) == 2  # and `later` is now due
    assert notes.filter(user=world.member_a).count() == 2


def test_a_suspended_partner_gets_no_reminder(world):
    from partners.models import AccountStatus, PartnerAccount

    expiring_in(certify(world.member_a, certification_course()), 10)
    PartnerAccount.objects.filter(pk=world.a.pk).update(status=AccountStatus.SUSPENDED)
    assert services.remind_expiring_certificates() == 0
