"""Authoring in the Django admin: courses with their lessons and quizzes, questions whose choices
must make sense, publishing, read-only learning records, and revoking certificates."""

from __future__ import annotations

import pytest
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from django.urls import reverse

from prm.testing.fixtures import login_as
from tests.training.test_certificates import certification_course, certify
from training.models import Certificate, Choice, Course, Question, QuestionKind, Quiz

pytestmark = pytest.mark.django_db


def _question_post(question, kind, correct: list[bool], text="Which ports?"):
    data = {
        "quiz": question.quiz_id,
        "position": 0,
        "text": text,
        "kind": kind,
        "explanation": "",
        "choices-TOTAL_FORMS": str(len(correct)),
        "choices-INITIAL_FORMS": "0",
        "choices-MIN_NUM_FORMS": "2",
        "choices-MAX_NUM_FORMS": "1000",
    }
    for i, right in enumerate(correct):
        data[f"choices-{i}-position"] = str(i)
        data[f"choices-{i}-text"] = f"Choice {i}"
        if right:
            data[f"choices-{i}-is_correct"] = "on"
    return data


@pytest.fixture
def question(world):
    quiz = Quiz.objects.create(
        course=Course.objects.create(title="Basics", slug="basics"), title="Quiz"
    )
    return Question.objects.create(quiz=quiz, text="Which ports?")


@pytest.mark.parametrize(
    ("kind", "correct", "message"),
    [
        (QuestionKind.SINGLE, [True, True, False], "exactly one correct choice"),
        (QuestionKind.SINGLE, [False, False], "exactly one correct choice"),
        (QuestionKind.MULTIPLE, [False, False, False], "at least one correct choice"),
    ],
)
def test_a_question_with_wrong_correct_answers_is_refused_with_a_clear_message(
    client, world, question, kind, correct, message
):
    login_as(client, world.admin)
    url = reverse("admin:training_question_change", args=[question.pk])
    response = client.post(url, _question_post(question, kind, correct, text="Changed?"))
    assert response.status_code == 200  # the form again, filled in
    html = response.content.decode()
    assert message in html
    assert "Changed?" in html
    question.refresh_from_db()
    assert question.text == "Which ports?" and not question.choices.exists()


@pytest.mark.parametrize(
    ("kind", "correct"),
    [(QuestionKind.SINGLE, [False, True, False]), (QuestionKind.MULTIPLE, [True, True, False])],
)
def test_a_sound_question_is_saved_with_its_choices(client, world, question, kind, correct):
    login_as(client, world.admin)
    url = reverse("admin:training_question_change", args=[question.pk])
    response = client.post(url, _question_post(question, kind, correct))
    assert response.status_code == 302, response.content.decode()[:3000]
    assert list(question.choices.values_list("is_correct", flat=True)) == correct


def test_the_course_form_offers_lessons_quizzes_and_tier_pickers(client, world):
    course = certification_course()
    login_as(client, world.admin)
    html = client.get(reverse("admin:training_course_change", args=[course.pk])).content.decode()
    assert 'id="lessons-group"' in html and 'id="quizzes-group"' in html
    assert "selectfilter" in html.lower()  # filter_horizontal for audience, tiers, required for
    assert client.get(reverse("admin:training_course_add")).status_code == 200


def test_publish_and_unpublish_actions(client, world):
    draft = Course.objects.create(title="Draft", slug="draft")
    login_as(client, world.admin)
    url = reverse("admin:training_course_changelist")
    client.post(url, {"action": "publish", ACTION_CHECKBOX_NAME: [draft.pk]})
    draft.refresh_from_db()
    assert draft.published
    client.post(url, {"action": "unpublish", ACTION_CHECKBOX_NAME: [draft.pk]})
    draft.refresh_from_db()
    assert not draft.published


def test_learning_records_are_read_only(client, world):
    certificate = certify(world.member_a, certification_course())
    login_as(client, world.admin)
    for model in ("enrollment", "lessonprogress", "quizattempt", "certificate"):
        assert client.get(reverse(f"admin:training_{model}_add")).status_code == 403
    response = client.get(
        reverse("admin:training_certificate_changelist"), {"q": certificate.number}
    )
    assert certificate.number in response.content.decode()


def test_revoking_asks_for_a_reason_then_revokes_through_the_service(client, world):
    certificate = certify(world.member_a, certification_course())
    login_as(client, world.admin)
    url = reverse("admin:training_certificate_changelist")
    asked = client.post(url, {"action": "revoke", ACTION_CHECKBOX_NAME: [certificate.pk]})
    assert asked.status_code == 200 and "Why is it revoked?" in asked.content.decode()
    empty = {"action": "revoke", ACTION_CHECKBOX_NAME: [certificate.pk], "apply": "1", "reason": ""}
    assert "This field is required" in client.post(url, empty).content.decode()
    certificate.refresh_from_db()
    assert certificate.revoked_at is None

    done = client.post(url, {**empty, "reason": "Answers were shared"}, follow=True)
    assert "1 certificate(s) revoked." in done.content.decode()
    certificate.refresh_from_db()
    assert certificate.revoked_at is not None
    assert Certificate.objects.valid_on(certificate.issued_on).count() == 0
    assert Choice.objects.exists()
