"""Demo data of the training app (called by ``manage.py seed_demo``): four courses (a required
basics course, a certification, one for Gold and Platinum partners, an unpublished draft) with
Markdown lessons and quizzes, and the demo partner users at every stage of them, moved through
the services (enroll, lessons done, quizzes submitted, certificates issued; one expiring soon)."""

from __future__ import annotations

from datetime import timedelta

#: (slug, title, summary, minutes, options, lessons [(title, Markdown)], quiz questions
#: [(text, kind, [(choice, correct)], explanation)])
COURSES = [
    (
        "partner-basics",
        "Partner basics",
        "How the partner program works: tiers, deal registration, leads and where to get help.",
        45,
        {"required_for": "all", "position": 1},
        [
            (
                "Welcome to the program",
                "## Why we work with partners\n\nOur customers buy **through you**. This course "
                "explains how the program rewards that.\n\n- Tiers: Registered, Silver, Gold, "
                "Platinum\n- What each tier unlocks\n- Who your partner manager is",
            ),
            (
                "Registering deals",
                "## Register early\n\nA registered deal is **protected** for you for 90 days.\n\n"
                "1. Check the customer isn't registered yet\n2. Fill in the products and the amount"
                "\n3. Your manager approves within two working days\n\n> Tip: a returned "
                "registration just needs more information.",
            ),
            (
                "Leads from us",
                "## Accept or decline in time\n\nLeads wait for your answer for a limited time; "
                "after that they go back to the pool.",
            ),
        ],
        [
            (
                "How long is an approved registration protected?",
                "single",
                [("30 days", False), ("90 days", True), ("One year", False)],
                "Approved registrations are protected for 90 days and can be extended.",
            ),
            (
                "Which of these unlock with a higher tier?",
                "multiple",
                [
                    ("Lead distribution", True),
                    ("Market development funds", True),
                    ("A different login page", False),
                ],
                "Gold and Platinum partners get leads and funds.",
            ),
        ],
    ),
    (
        "certified-security-seller",
        "Certified Security Seller",
        "Position the Secure Gateway and Cloud Firewall range, qualify projects and handle "
        "objections. Passing the exam certifies you for a year.",
        90,
        {"certification": "Network security", "position": 2},
        [
            (
                "The network security range",
                "## Gateways and firewalls\n\n| Product | For |\n|---|---|\n| Secure Gateway 500 "
                "| Mid-sized sites |\n| Cloud Firewall | Branches, per site |\n\nBoth are managed "
                "from one console.",
            ),
            (
                "Qualifying a project",
                "## Ask these first\n\n- How many sites?\n- What's end-of-life and when?\n- Who "
                "signs off: IT or security?\n\nSee the [battle card](https://example.com/cards) "
                "for competitive answers.",
            ),
            (
                "Handling objections",
                '## "We already have a firewall"\n\nAsk when it was last updated. *Most* '
                "replacements start with an end-of-life notice.",
            ),
        ],
        [
            (
                "Which product fits a chain of 40 small branches?",
                "single",
                [
                    ("Secure Gateway 500", False),
                    ("Cloud Firewall, per site", True),
                    ("Insight SIEM Core", False),
                ],
                "Cloud Firewall is licensed per site: right for many small branches.",
            ),
            (
                "Which questions qualify a network security project?",
                "multiple",
                [
                    ("How many sites?", True),
                    ("What reaches end-of-life, and when?", True),
                    ("What colour is their logo?", False),
                ],
                "Sites and end-of-life dates size and time the project.",
            ),
            (
                "Both products are managed from…",
                "single",
                [("One console", True), ("Two separate consoles", False)],
                "",
            ),
        ],
    ),
    (
        "advanced-deal-strategy",
        "Advanced deal strategy",
        "Multi-year deals, joint account planning and co-selling with our field team.",
        60,
        {"tiers": ["Gold", "Platinum"], "position": 3},
        [
            (
                "Joint account plans",
                "## Plan with your manager\n\nPick **five** accounts a quarter and agree who "
                "does what.",
            ),
            ("Co-selling", "## When to bring us in\n\nEarly: before the proposal, not after."),
        ],
        [
            (
                "When should you bring the vendor's field team in?",
                "single",
                [("Before the proposal", True), ("After the customer signed", False)],
                "Early involvement wins more deals.",
            ),
        ],
    ),
    (
        "cloud-firewall-deep-dive",
        "Cloud Firewall deep dive",
        "Draft: the technical course for solution engineers (not published yet).",
        120,
        {"draft": True, "position": 4},
        [("Architecture", "## Draft\n\nTo be written.")],
        [],
    ),
]


def seed(report) -> None:
    from django.db import transaction

    from training.models import Course

    if Course.objects.filter(slug="partner-basics").exists():
        return
    with transaction.atomic():
        courses = seed_courses(report)
        seed_learning(report, courses)


def seed_courses(report) -> dict:
    from partners.models import Tier
    from training.models import Choice, Course, Lesson, Question, Quiz

    tiers = {t.name: t for t in Tier.objects.all()}
    courses = {}
    for slug, title, summary, minutes, options, lessons, questions in COURSES:
        family = options.get("certification", "")
        course = Course.objects.create(
            slug=slug,
            title=title,
            summary=summary,
            duration_minutes=minutes,
            position=options["position"],
            is_certification=bool(family),
            product_family=family,
            validity_days=365,
            published=not options.get("draft"),
        )
        if options.get("required_for") == "all":
            course.required_for.set(tiers.values())
        if options.get("tiers"):
            course.tiers.set([tiers[name] for name in options["tiers"] if name in tiers])
        for position, (lesson_title, body) in enumerate(lessons, start=1):
            Lesson.objects.create(
                course=course, position=position, title=lesson_title, body=body, minutes=10
            )
        if questions:
            quiz = Quiz.objects.create(
                course=course, title=f"{title}: final quiz", pass_mark=80, max_attempts=3
            )
            for position, (text, kind, choices, explanation) in enumerate(questions, start=1):
                question = Question.objects.create(
                    quiz=quiz, position=position, text=text, kind=kind, explanation=explanation
                )
                Choice.objects.bulk_create(
                    Choice(question=question, position=n, text=choice, is_correct=correct)
                    for n, (choice, correct) in enumerate(choices, start=1)
                )
        courses[slug] = course
        report.created["courses"] += 1
    return courses


#: Who of the demo logins is where: (email, course slug, stage). Stages: "enrolled", "lesson"
#: (first lesson done), "failed" (all lessons, one failed attempt), "passed" (completed), and
#: "passed-expiring" (completed; the certificate expires within 30 days).
LEARNING = [
    ("jamie.member@northwind.example", "partner-basics", "passed"),
    ("jamie.member@northwind.example", "certified-security-seller", "passed-expiring"),
    ("jamie.member@northwind.example", "advanced-deal-strategy", "lesson"),
    ("alex.admin@northwind.example", "certified-security-seller", "failed"),
    ("dana.admin@atlas-distribution.example", "partner-basics", "passed"),
    ("dana.admin@atlas-distribution.example", "certified-security-seller", "passed"),
    ("dana.admin@atlas-distribution.example", "advanced-deal-strategy", "enrolled"),
    ("sam.admin@contoso-partners.example", "partner-basics", "lesson"),
]


def _answers(quiz, *, right: bool) -> dict[int, list[int]]:
    answers = {}
    for question in quiz.questions.prefetch_related("choices"):
        choices = list(question.choices.all())
        correct = [c.pk for c in choices if c.is_correct]
        wrong = [c.pk for c in choices if not c.is_correct]
        answers[question.pk] = correct if right or not wrong else wrong[:1]
    return answers


def seed_learning(report, courses) -> None:
    from django.contrib.auth import get_user_model
    from django.utils import timezone

    from training import services
    from training.models import Certificate

    users = {
        u.email: u
        for u in get_user_model().objects.filter(email__in={email for email, _, _ in LEARNING})
    }
    for email, slug, stage in LEARNING:
        user, course = users.get(email), courses[slug]
        if user is None:
            continue
        enrollment = services.enroll(actor=user, course=course)
        report.created["enrollments"] += 1
        lessons = list(course.lessons.all())
        done = lessons[:1] if stage == "lesson" else [] if stage == "enrolled" else lessons
        for lesson in done:
            services.complete_lesson(actor=user, enrollment=enrollment, lesson=lesson)
        if stage in ("failed", "passed", "passed-expiring"):
            for quiz in course.quizzes.all():
                if stage == "failed":
                    services.submit_quiz(
                        actor=user,
                        enrollment=enrollment,
                        quiz=quiz,
                        answers=_answers(quiz, right=False),
                    )
                else:
                    services.submit_quiz(
                        actor=user,
                        enrollment=enrollment,
                        quiz=quiz,
                        answers=_answers(quiz, right=True),
                    )
        if stage.startswith("passed") and course.is_certification:
            report.created["certificates"] += 1
        if stage == "passed-expiring":
            today = timezone.localdate()
            Certificate.objects.filter(user=user, course=course).update(
                issued_on=today - timedelta(days=365 - 21), expires_on=today + timedelta(days=21)
            )
