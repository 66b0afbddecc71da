"""Enrollment, progress and completion: who may enroll whom, lessons done, completion only when
every lesson is done and every quiz passed, resuming where the person stopped."""

from __future__ import annotations

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from partners.models import Tier
from tests.training.test_grading import answers, make_course
from training import selectors, services
from training.models import Certificate, Enrollment, EnrollmentStatus

pytestmark = pytest.mark.django_db


def test_enrolling_twice_returns_the_same_enrollment(world):
    course = make_course()
    first = services.enroll(actor=world.member_a, course=course)
    assert services.enroll(actor=world.member_a, course=course) == first
    assert Enrollment.objects.count() == 1


def test_partner_admin_enrolls_a_colleague_but_not_another_company(world):
    course = make_course()
    enrollment = services.enroll(actor=world.partner_admin_a, course=course, user=world.member_a)
    assert (enrollment.user, enrollment.enrolled_by) == (world.member_a, world.partner_admin_a)
    with pytest.raises(PermissionDenied):
        services.enroll(actor=world.partner_admin_b, course=course, user=world.member_a)
    with pytest.raises(PermissionDenied):
        services.enroll(actor=world.member_a, course=course, user=world.partner_admin_a)


def test_manager_enrolls_people_of_their_partners_only(world):
    course = make_course()
    services.enroll(actor=world.manager, course=course, user=world.member_a)
    with pytest.raises(PermissionDenied):
        services.enroll(actor=world.manager, course=course, user=world.partner_admin_b)
    with pytest.raises(PermissionDenied):
        services.enroll(actor=world.manager, course=course)  # internal users don't take courses


def test_a_course_not_open_to_the_persons_tier_cannot_be_enrolled(world):
    silver = Tier.objects.create(name="Silver", rank=10)
    course = make_course()
    course.tiers.add(silver)
    with pytest.raises(ValidationError):
        services.enroll(actor=world.member_a, course=course)
    course.tiers.add(world.tier)
    services.enroll(actor=world.member_a, course=course)


def test_unpublished_course_cannot_be_enrolled(world):
    course = make_course(published=False)
    with pytest.raises(ValidationError):
        services.enroll(actor=world.member_a, course=course)


def _done_lessons(world, enrollment):
    for lesson in enrollment.course.lessons.all():
        enrollment = services.complete_lesson(
            actor=world.member_a, enrollment=enrollment, lesson=lesson
        )
    return enrollment


def test_completed_only_when_all_lessons_done_and_quiz_passed(world):
    course = make_course()
    enrollment = services.enroll(actor=world.member_a, course=course)
    services.submit_quiz(
        actor=world.member_a,
        enrollment=enrollment,
        quiz=course.quiz,
        answers=answers(course, ["blue"], ["two", "three"]),
    )
    enrollment.refresh_from_db()
    assert enrollment.status == EnrollmentStatus.IN_PROGRESS  # lessons still to do
    first = course.lessons.first()
    services.complete_lesson(actor=world.member_a, enrollment=enrollment, lesson=first)
    enrollment.refresh_from_db()
    assert enrollment.status == EnrollmentStatus.IN_PROGRESS
    enrollment = _done_lessons(world, enrollment)
    assert enrollment.status == EnrollmentStatus.COMPLETED
    assert enrollment.completed_at is not None


def test_a_failed_quiz_does_not_complete(world):
    course = make_course()
    enrollment = _done_lessons(world, services.enroll(actor=world.member_a, course=course))
    services.submit_quiz(
        actor=world.member_a,
        enrollment=enrollment,
        quiz=course.quiz,
        answers=answers(course, ["red"], ["two", "three"]),
    )
    enrollment.refresh_from_db()
    assert enrollment.status == EnrollmentStatus.IN_PROGRESS


def test_completing_a_lesson_twice_is_harmless_and_only_for_oneself(world):
    course = make_course()
    enrollment = services.enroll(actor=world.member_a, course=course)
    lesson = course.lessons.first()
    services.complete_lesson(actor=world.member_a, enrollment=enrollment, lesson=lesson)
    services.complete_lesson(actor=world.member_a, enrollment=enrollment, lesson=lesson)
    assert enrollment.progress.count() == 1
    with pytest.raises(PermissionDenied):
        services.complete_lesson(actor=world.partner_admin_a, enrollment=enrollment, lesson=lesson)
    other = make_course("Other course")
    with pytest.raises(ValidationError):
        services.complete_lesson(
            actor=world.member_a, enrollment=enrollment, lesson=other.lessons.first()
        )


def test_resume_goes_to_the_lesson_after_the_last_one_done(world):
    course = make_course(lessons=3)
    l1, l2, l3 = course.lessons.all()
    enrollment = services.enroll(actor=world.member_a, course=course)
    assert selectors.course_outline(course, enrollment).resume_pk == l1.pk
    enrollment = services.complete_lesson(actor=world.member_a, enrollment=enrollment, lesson=l2)
    outline = selectors.course_outline(course, enrollment)
    assert (outline.resume_url_name, outline.resume_pk) == ("training:lesson", l3.pk)
    enrollment = services.complete_lesson(actor=world.member_a, enrollment=enrollment, lesson=l3)
    # After the last lesson: the first one not done yet, then the quiz.
    assert selectors.course_outline(course, enrollment).resume_pk == l1.pk
    enrollment = services.complete_lesson(actor=world.member_a, enrollment=enrollment, lesson=l1)
    outline = selectors.course_outline(course, enrollment)
    assert (outline.resume_url_name, outline.resume_pk) == ("training:quiz", course.quiz.pk)
    assert outline.percent == 75


def test_passing_a_certification_course_issues_one_certificate(world):
    course = make_course(is_certification=True, product_family="Firewalls", validity_days=30)
    enrollment = _done_lessons(world, services.enroll(actor=world.member_a, course=course))
    for _ in range(2):
        services.submit_quiz(
            actor=world.member_a,
            enrollment=enrollment,
            quiz=course.quiz,
            answers=answers(course, ["blue"], ["two", "three"]),
        )
    certificate = Certificate.objects.get()
    assert certificate.number.startswith("OPRM-")
    assert (certificate.account, certificate.product_family) == (world.a, "Firewalls")
    assert (certificate.expires_on - certificate.issued_on).days == 30
