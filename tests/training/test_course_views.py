"""The course pages as people use them: the catalogue and its filters, enrolling, the lesson
player (sanitised), quizzes whose answers never reach the browser before submitting, the result,
visibility by tier and publication, and my learning (one's own only)."""

from __future__ import annotations

import re

import pytest
from django.urls import reverse

from partners.models import Tier
from prm.testing.fixtures import login_as
from tests.training.test_grading import answers, make_course
from training import services
from training.models import Choice, Lesson, QuizAttempt

pytestmark = pytest.mark.django_db


def urls(course):
    lesson = course.lessons.first()
    return {
        "course": reverse("training:course", args=[course.slug]),
        "enroll": reverse("training:course_enroll", args=[course.slug]),
        "lesson": reverse("training:lesson", args=[course.slug, lesson.pk]),
        "done": reverse("training:lesson_complete", args=[course.slug, lesson.pk]),
        "quiz": reverse("training:quiz", args=[course.slug, course.quiz.pk]),
        "submit": reverse("training:quiz_submit", args=[course.slug, course.quiz.pk]),
    }


def post_answers(course, q1, q2):
    return {f"q-{qid}": ids for qid, ids in answers(course, q1, q2).items()}


def test_catalogue_lists_courses_with_status_and_filters(client, world):
    started = make_course("Selling basics")
    make_course("Advanced routing")
    services.enroll(actor=world.member_a, course=started)
    login_as(client, world.member_a)
    page = client.get(reverse("training:course_list")).content.decode()
    assert "Selling basics" in page and "Advanced routing" in page
    page = client.get(reverse("training:course_list"), {"status": "in_progress"}).content.decode()
    assert "Selling basics" in page and "Advanced routing" not in page
    page = client.get(reverse("training:course_list"), {"status": "not_started"}).content.decode()
    assert "Selling basics" not in page and "Advanced routing" in page


@pytest.mark.parametrize("page", ["99", "0", "x"])
def test_a_page_past_the_end_shows_the_first_one(client, world, page):
    make_course("Selling basics")
    login_as(client, world.member_a)
    for url in (reverse("training:course_list"), reverse("training:my_learning")):
        response = client.get(url, {"page": page})
        assert response.status_code == 200
    assert "Selling basics" in client.get(reverse("training:course_list"), {"page": page}).text


def test_catalogue_filters_required_for_my_tier(client, world):
    required = make_course("Mandatory onboarding")
    required.required_for.add(world.tier)
    make_course("Optional extras")
    login_as(client, world.member_a)
    page = client.get(reverse("training:course_list"), {"required": "yes"}).content.decode()
    assert "Mandatory onboarding" in page and "Optional extras" not in page
    assert "Required for your tier" in page


def test_enroll_then_the_course_page_offers_to_start(client, world):
    course = make_course()
    login_as(client, world.member_a)
    page = client.get(urls(course)["course"]).content.decode()
    assert "Enroll" in page
    response = client.post(urls(course)["enroll"], follow=True)
    assert "You are enrolled" in response.content.decode()
    assert "Start the first lesson" in response.content.decode()


def test_course_page_resume_goes_to_the_next_lesson(client, world):
    course = make_course(lessons=3)
    l1, l2, l3 = course.lessons.all()
    enrollment = services.enroll(actor=world.member_a, course=course)
    services.complete_lesson(actor=world.member_a, enrollment=enrollment, lesson=l1)
    login_as(client, world.member_a)
    page = client.get(urls(course)["course"]).content.decode()
    resume = re.search(r'href="([^"]+)">Resume<', page)
    assert resume and resume.group(1) == reverse("training:lesson", args=[course.slug, l2.pk])


def test_mark_as_done_moves_on_to_the_next_lesson(client, world):
    course = make_course(lessons=2)
    l1, l2 = course.lessons.all()
    services.enroll(actor=world.member_a, course=course)
    login_as(client, world.member_a)
    response = client.post(urls(course)["done"])
    assert response.url == reverse("training:lesson", args=[course.slug, l2.pk])
    page = client.get(urls(course)["lesson"]).content.decode()
    assert "Done ✓" in page and "33%" in page  # 1 of 2 lessons + 1 quiz


def test_lesson_text_is_sanitised_on_the_page(client, world):
    course = make_course(lessons=1)
    Lesson.objects.filter(course=course).update(
        body='Hello <script>alert("x")</script> <img src="a.png" onerror="alert(1)"> '
        '[bad](javascript:alert(2)) <a href="javascript:alert(3)">worse</a> **bold**'
    )
    login_as(client, world.member_a)
    page = client.get(urls(course)["lesson"]).content.decode()
    body = page.split('class="card-body lesson-body">', 1)[1].split("</article>", 1)[0]
    assert "<strong>bold</strong>" in body
    assert 'alert("x")' not in page and "onerror" not in page and "javascript:" not in page


def test_quiz_page_never_reveals_the_answers(client, world):
    course = make_course()
    services.enroll(actor=world.member_a, course=course)
    login_as(client, world.member_a)
    page = client.get(urls(course)["quiz"]).content.decode()
    assert "Sky colour?" in page and "Blue" in page and "Red" in page
    lowered = page.lower()
    for marker in ("correct", "is_correct", "data-correct", "data-answer", "explanation"):
        assert marker not in lowered
    # Right and wrong choices are rendered identically apart from their ids and text.
    right = Choice.objects.get(text="Blue")
    wrong = Choice.objects.get(text="Red")
    tag = re.compile(r'<input[^>]*value="{}"[^>]*>')
    right_tag = tag.pattern.format(right.pk)
    wrong_tag = tag.pattern.format(wrong.pk)
    r = re.sub(r"\d+", "N", re.search(right_tag, page).group(0))
    w = re.sub(r"\d+", "N", re.search(wrong_tag, page).group(0))
    assert r == w


def test_internal_preview_of_the_quiz_has_no_answers_and_no_submit(client, world):
    course = make_course()
    login_as(client, world.manager)
    page = client.get(urls(course)["quiz"]).content.decode()
    assert "Preview" in page and "correct" not in page.lower()
    assert "Submit my answers" not in page
    assert (
        client.post(urls(course)["submit"], post_answers(course, ["blue"], [])).status_code == 403
    )


def test_submitting_shows_score_and_hides_answers_while_attempts_remain(client, world):
    course = make_course()
    services.enroll(actor=world.member_a, course=course)
    login_as(client, world.member_a)
    response = client.post(urls(course)["submit"], post_answers(course, ["red"], ["two", "three"]))
    page = response.content.decode()
    assert response.status_code == 200
    assert "50%" in page and "Not passed yet" in page and "2 attempts left" in page
    assert "(right answer)" not in page  # a retry can't be copied from the result


def test_passing_shows_the_right_answers_and_explanations(client, world):
    course = make_course()
    course.quiz.questions.filter(text="Sky colour?").update(explanation="Rayleigh scattering.")
    services.enroll(actor=world.member_a, course=course)
    login_as(client, world.member_a)
    page = client.post(
        urls(course)["submit"], post_answers(course, ["blue"], ["two", "three"])
    ).content.decode()
    assert "Passed" in page and "100%" in page
    assert "(right answer)" in page and "Rayleigh scattering." in page


def test_no_attempt_left_closes_the_quiz(client, world):
    course = make_course(max_attempts=1)
    services.enroll(actor=world.member_a, course=course)
    login_as(client, world.member_a)
    client.post(urls(course)["submit"], post_answers(course, ["red"], ["four"]))
    page = client.get(urls(course)["quiz"]).content.decode()
    assert "You have used all 1 attempts" in page and "Submit my answers" not in page
    again = client.post(urls(course)["submit"], post_answers(course, ["blue"], ["two", "three"]))
    assert "You have used all 1 attempts" in again.content.decode()
    assert QuizAttempt.objects.count() == 1


@pytest.mark.parametrize(
    "data",
    [
        {"q-999999": ["1"]},
        {"q-abc": ["1"]},
        {"q-1": ["not-a-number"]},
    ],
)
def test_bad_submission_is_a_message_and_nothing_saved(client, world, data):
    course = make_course()
    services.enroll(actor=world.member_a, course=course)
    login_as(client, world.member_a)
    response = client.post(urls(course)["submit"], data)
    page = response.content.decode()
    assert response.status_code == 200
    assert "Nothing was saved" in page and "Submit my answers" in page
    assert not QuizAttempt.objects.exists()


def test_refused_submission_keeps_the_ticked_answers(client, world):
    course = make_course()
    services.enroll(actor=world.member_a, course=course)
    login_as(client, world.member_a)
    data = {f"q-{course.ids['q2']}": [course.ids["two"]]}  # q1 left unanswered
    page = client.post(urls(course)["submit"], data).content.decode()
    assert "Answer every question" in page
    assert re.search(rf'value="{course.ids["two"]}"[^>]*checked', page)


@pytest.mark.parametrize("name", ["course", "lesson", "quiz"])
def test_course_of_another_tier_is_404_for_partners_with_all_its_pages(client, world, name):
    course = make_course()
    course.tiers.add(Tier.objects.create(name="Platinum", rank=40))
    links = urls(course)
    for persona in ("member_a", "partner_admin_a", "partner_admin_b"):
        login_as(client, getattr(world, persona))
        assert client.get(links[name]).status_code == 404
        assert client.post(links["submit"], post_answers(course, ["blue"], [])).status_code == 404
        assert client.post(links["enroll"]).status_code == 404
        assert client.post(links["done"]).status_code == 404
    login_as(client, world.manager)
    assert client.get(links[name]).status_code == 200  # internal preview


def test_unpublished_course_is_404_for_partners_and_absent_from_the_catalogue(client, world):
    course = make_course("Draft course", published=False)
    login_as(client, world.member_a)
    assert client.get(urls(course)["course"]).status_code == 404
    assert client.get(urls(course)["lesson"]).status_code == 404
    assert "Draft course" not in client.get(reverse("training:course_list")).content.decode()
    login_as(client, world.admin)
    assert "partners don't see it yet" in client.get(urls(course)["course"]).content.decode()


def test_my_learning_shows_only_ones_own_enrollments(client, world):
    mine = make_course("Mine to learn")
    colleague = make_course("Colleague course")
    services.enroll(actor=world.member_a, course=mine)
    services.enroll(actor=world.partner_admin_a, course=colleague)
    login_as(client, world.member_a)
    page = client.get(reverse("training:my_learning")).content.decode()
    assert "Mine to learn" in page and "Colleague course" not in page
    # Even a partner admin, who may see their colleagues' learning, sees only their own here.
    login_as(client, world.partner_admin_a)
    page = client.get(reverse("training:my_learning")).content.decode()
    assert "Colleague course" in page and "Mine to learn" not in page


def test_the_whole_course_completes_and_issues_a_certificate(client, world):
    course = make_course(lessons=1, is_certification=True, product_family="Firewalls")
    login_as(client, world.member_a)
    client.post(urls(course)["enroll"])
    client.post(urls(course)["done"])
    page = client.post(
        urls(course)["submit"], post_answers(course, ["blue"], ["two", "three"])
    ).content.decode()
    assert "You completed" in page and "See your certificate" in page
    learning = client.get(reverse("training:my_learning")).content.decode()
    assert "Valid until" in learning and "OPRM-" in learning
