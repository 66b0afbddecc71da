"""A partner member takes a short certification course in a real browser: enrolls, reads the
lesson, passes the quiz and opens the certificate (Playwright driving Debian's Chromium)."""

import re

import pytest

from prm.testing.browser import chromium, sign_in
from prm.testing.world import build_world
from training.models import Choice, Course, Lesson, Question, QuestionKind, Quiz

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def journey_world(live_server):
    # Built before Playwright starts (see test_invite_journey.py for why).
    world = build_world()
    course = Course.objects.create(
        title="Gateway Seller Essentials",
        slug="gateway-seller-essentials",
        summary="Ten minutes on the Secure Gateway range.",
        is_certification=True,
        product_family="Network security",
        validity_days=365,
        published=True,
    )
    Lesson.objects.create(
        course=course,
        position=1,
        title="Meet the gateways",
        body="## Two sizes\n\nThe **Secure Gateway 500** fits mid-sized sites.",
    )
    quiz = Quiz.objects.create(course=course, title="Gateway quiz", pass_mark=100, max_attempts=2)
    single = Question.objects.create(
        quiz=quiz, position=1, text="Which gateway fits a mid-sized site?"
    )
    Choice.objects.create(question=single, position=1, text="Secure Gateway 500", is_correct=True)
    Choice.objects.create(question=single, position=2, text="A home router")
    several = Question.objects.create(
        quiz=quiz,
        position=2,
        text="Which are network security products?",
        kind=QuestionKind.MULTIPLE,
    )
    Choice.objects.create(question=several, position=1, text="Cloud Firewall", is_correct=True)
    Choice.objects.create(question=several, position=2, text="Secure Gateway 100", is_correct=True)
    Choice.objects.create(question=several, position=3, text="A spreadsheet")
    return world


@pytest.fixture
def browser(journey_world):
    with chromium() as browser:
        yield browser


def test_a_member_takes_a_course_passes_the_quiz_and_sees_the_certificate(
    journey_world, browser, live_server
):
    world = journey_world
    page = browser.new_page()
    sign_in(page, live_server.url, world.member_a.email)
    page.wait_for_url(f"{live_server.url}/portal/")

    page.goto(f"{live_server.url}/training/courses/")
    page.get_by_role("link", name="Gateway Seller Essentials").first.click()
    page.get_by_role("button", name="Enroll").click()
    page.get_by_role("link", name=re.compile("Start the first lesson|Resume")).click()
    page.get_by_role("heading", name="Two sizes").wait_for()
    page.get_by_role("button", name=re.compile("Mark as done")).click()

    # The lesson done, the course moves on to its quiz.
    if "/quizzes/" not in page.url:
        page.get_by_role("link", name=re.compile("Gateway quiz")).first.click()
    page.get_by_label("Secure Gateway 500").check()
    page.get_by_label("Cloud Firewall").check()
    page.get_by_label("Secure Gateway 100").check()
    page.get_by_role("button", name="Submit my answers").click()
    page.get_by_role("heading", name="Passed").wait_for()
    page.screenshot(path="test-results/training-quiz-passed.png", full_page=True)

    page.get_by_role("link", name="See your certificate").click()
    # (No ORM call here: inside Playwright's loop it would open a connection never closed.)
    heading = page.get_by_role("heading", name=re.compile(r"^Certificate OPRM-\d{4}-\d{6}$"))
    heading.wait_for()
    sheet = page.locator(".certificate-sheet")
    for text in ("Jamie Park", "Northwind Systems", "Gateway Seller Essentials", "Valid"):
        assert text in sheet.inner_text()
    page.emulate_media(media="print")
    assert not page.locator(".app-header").is_visible()  # printed without the portal's menus
    page.screenshot(path="test-results/training-certificate-print.png", full_page=True)
