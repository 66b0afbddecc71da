"""Quizzes are graded on the server: a question counts only when the chosen set is exactly the
right set; single-choice questions take one answer; attempts are limited; bad ids save nothing."""

from __future__ import annotations

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from training import services
from training.models import Choice, Course, Lesson, Question, QuestionKind, Quiz, QuizAttempt

pytestmark = pytest.mark.django_db


def make_course(title="Partner basics", *, lessons=2, max_attempts=3, pass_mark=60, **extra):
    """A published course with ``lessons`` lessons and a final quiz of two questions:
    q1 single (right: "Blue"), q2 multiple (right: "Two" and "Three")."""
    course = Course.objects.create(
        title=title, slug=title.lower().replace(" ", "-"), **{"published": True, **extra}
    )
    for i in range(lessons):
        Lesson.objects.create(course=course, title=f"Lesson {i + 1}", position=i + 1, body="Text")
    quiz = Quiz.objects.create(
        course=course, title="Final quiz", pass_mark=pass_mark, max_attempts=max_attempts
    )
    q1 = Question.objects.create(quiz=quiz, text="Sky colour?", position=1)
    blue = Choice.objects.create(question=q1, text="Blue", is_correct=True, position=1)
    red = Choice.objects.create(question=q1, text="Red", position=2)
    q2 = Question.objects.create(
        quiz=quiz, text="Which are primes?", kind=QuestionKind.MULTIPLE, position=2
    )
    four = Choice.objects.create(question=q2, text="Four", position=1)
    two = Choice.objects.create(question=q2, text="Two", is_correct=True, position=2)
    three = Choice.objects.create(question=q2, text="Three", is_correct=True, position=3)
    course.ids = {"q1": q1.pk, "q2": q2.pk, "blue": blue.pk, "red": red.pk}
    course.ids |= {"four": four.pk, "two": two.pk, "three": three.pk}
    course.quiz = quiz
    return course


def answers(course, q1, q2):
    ids = course.ids
    return {ids["q1"]: [ids[c] for c in q1], ids["q2"]: [ids[c] for c in q2]}


@pytest.fixture
def course():
    return make_course()


@pytest.fixture
def enrollment(world, course):
    return services.enroll(actor=world.member_a, course=course)


def submit(world, enrollment, course, q1, q2):
    return services.submit_quiz(
        actor=world.member_a,
        enrollment=enrollment,
        quiz=course.quiz,
        answers=answers(course, q1, q2),
    )


def test_all_correct_scores_100_and_passes(world, course, enrollment):
    attempt = submit(world, enrollment, course, ["blue"], ["two", "three"])
    assert (attempt.score, attempt.passed, attempt.number) == (100, True, 1)


def test_partial_scores_half_and_fails_under_the_pass_mark(world, course, enrollment):
    attempt = submit(world, enrollment, course, ["blue"], ["two"])  # subset of the right set
    assert (attempt.score, attempt.passed) == (50, False)


def test_all_wrong_scores_zero(world, course, enrollment):
    attempt = submit(world, enrollment, course, ["red"], ["four"])
    assert (attempt.score, attempt.passed) == (0, False)


def test_multiple_choice_needs_exactly_the_right_set(world, course, enrollment):
    superset = submit(world, enrollment, course, ["red"], ["two", "three", "four"])
    assert superset.score == 0
    exact = submit(world, enrollment, course, ["red"], ["three", "two"])
    assert exact.score == 50


def test_single_choice_with_two_answers_is_refused_and_nothing_saved(world, course, enrollment):
    with pytest.raises(ValidationError, match="exactly one"):
        submit(world, enrollment, course, ["blue", "red"], ["two", "three"])
    assert not QuizAttempt.objects.exists()


@pytest.mark.parametrize(
    "bad",
    [
        lambda c: {999999: [c.ids["blue"]], c.ids["q2"]: [c.ids["two"]]},  # unknown question
        lambda c: {c.ids["q1"]: [999999], c.ids["q2"]: [c.ids["two"]]},  # unknown choice
        lambda c: {c.ids["q1"]: [c.ids["two"]], c.ids["q2"]: [c.ids["blue"]]},  # swapped
        lambda c: {c.ids["q1"]: [c.ids["blue"]]},  # a question left out
        lambda c: {"x": ["y"]},
    ],
)
def test_unknown_or_missing_answers_are_refused_and_nothing_saved(world, course, enrollment, bad):
    with pytest.raises(ValidationError):
        services.submit_quiz(
            actor=world.member_a, enrollment=enrollment, quiz=course.quiz, answers=bad(course)
        )
    assert not QuizAttempt.objects.exists()


def test_attempts_are_limited(world, enrollment):
    course = enrollment.course
    course.quiz.max_attempts = 2
    course.quiz.save()
    submit(world, enrollment, course, ["red"], ["four"])
    submit(world, enrollment, course, ["red"], ["four"])
    with pytest.raises(ValidationError, match="all 2 attempts"):
        submit(world, enrollment, course, ["blue"], ["two", "three"])
    assert QuizAttempt.objects.count() == 2
    assert services.attempts_left(course.quiz, 2) == 0


def test_zero_attempts_means_unlimited(world, enrollment):
    course = enrollment.course
    course.quiz.max_attempts = 0
    course.quiz.save()
    for _ in range(5):
        submit(world, enrollment, course, ["red"], ["four"])
    assert QuizAttempt.objects.count() == 5
    assert services.attempts_left(course.quiz, 5) is None


def test_only_the_person_enrolled_submits(world, course, enrollment):
    with pytest.raises(PermissionDenied):
        services.submit_quiz(
            actor=world.partner_admin_a,
            enrollment=enrollment,
            quiz=course.quiz,
            answers=answers(course, ["blue"], ["two", "three"]),
        )


def test_a_quiz_of_another_course_is_refused(world, enrollment):
    other = make_course("Other course")
    with pytest.raises(ValidationError):
        services.submit_quiz(
            actor=world.member_a,
            enrollment=enrollment,
            quiz=other.quiz,
            answers=answers(other, ["blue"], ["two", "three"]),
        )
