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

    if not Course.objects.filter(slug="partner-basics").exists():
        with transaction.atomic():
            courses = seed_courses(report)
            seed_learning(report, courses)
    seed_lesson_files(report)
    seed_onboarding(report)
    seed_library(report)


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


def seed_lesson_files(report) -> None:
    """A small PDF handed out with the "Registering deals" lesson of Partner basics (once)."""
    from django.core.files.base import ContentFile

    from training.models import Lesson, LessonAttachment

    lesson = Lesson.objects.filter(course__slug="partner-basics", title="Registering deals").first()
    if lesson is None or lesson.attachments.exists():
        return
    content = demo_pdf("Deal registration checklist")
    attachment = LessonAttachment(
        lesson=lesson, title="Deal registration checklist", file_size=len(content)
    )
    attachment.file.save("deal-registration-checklist.pdf", ContentFile(content), save=False)
    attachment.save()
    report.created["lesson files"] += 1


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


# --- onboarding ---------------------------------------------------------------------------------

#: (title, description, ticks_when, course slug) of the default and the Gold checklists.
DEFAULT_STEPS = [
    (
        "Complete your company profile",
        "Website, phone, country, industry and a short description.",
        "profile_complete",
        "",
    ),
    (
        "Invite a colleague",
        "Give a second person of your company access to the portal.",
        "colleague_invited",
        "",
    ),
    (
        "Finish Partner basics",
        "The short course every partner takes first.",
        "course_completed",
        "partner-basics",
    ),
    ("Register a first deal", "Protect an opportunity by registering it.", "deal_registered", ""),
]
GOLD_STEPS = DEFAULT_STEPS[:3] + [
    (
        "Hold the kick-off call",
        "A first call with your partner manager to plan the quarter.",
        "manual",
        "",
    ),
    (
        "Agree on a joint business plan",
        "Targets and marketing activities for the year.",
        "manual",
        "",
    ),
    DEFAULT_STEPS[3],
]


def seed_onboarding(report) -> None:
    """A default checklist and a Gold one, every demo account given its checklist, the steps the
    system sees done ticked (through the hourly sweep), and a manual step ticked at Northwind."""
    from django.contrib.auth import get_user_model
    from django.db import transaction

    from partners.models import Tier
    from training import services
    from training.models import ChecklistItem, ChecklistStep, ChecklistTemplate, Course
    from training.tasks import refresh_checklists

    if ChecklistTemplate.objects.exists():
        return
    courses = {c.slug: c for c in Course.objects.filter(slug="partner-basics")}
    with transaction.atomic():
        templates = [
            (ChecklistTemplate.objects.create(name="Getting started"), DEFAULT_STEPS),
        ]
        gold = Tier.objects.filter(name="Gold").first()
        if gold is not None:
            templates.append(
                (ChecklistTemplate.objects.create(name="Gold onboarding", tier=gold), GOLD_STEPS)
            )
        for template, steps in templates:
            ChecklistStep.objects.bulk_create(
                ChecklistStep(
                    template=template,
                    position=position,
                    title=title,
                    description=description,
                    ticks_when=ticks_when,
                    course=courses.get(slug),
                )
                for position, (title, description, ticks_when, slug) in enumerate(steps, 1)
            )
            report.created["checklist templates"] += 1
        refresh_checklists()
        alex = get_user_model().objects.filter(email="alex.admin@northwind.example").first()
        if alex is not None:
            item = (
                ChecklistItem.objects.filter(
                    account_id=alex.contact.account_id, step__ticks_when="manual"
                )
                .order_by("step__position")
                .first()
            )
            if item is not None:
                services.tick_step(actor=alex, item=item)
    report.created["checklist items"] += ChecklistItem.objects.count()


# --- library ------------------------------------------------------------------------------------

#: (name, slug) of the library's tags.
LIBRARY_TAGS = [
    ("Network security", "network-security"),
    ("Cloud", "cloud"),
    ("Pricing", "pricing"),
    ("Brand", "brand"),
    ("Competitive", "competitive"),
    ("Onboarding", "onboarding"),
]
#: (title, category, file name, version, tags, restriction, description); restriction: "",
#: "gold+" (Gold and Platinum tiers), "northwind" (that account only) or "draft" (unpublished).
LIBRARY = [
    (
        "Secure Edge sales deck",
        "sales_deck",
        "secure-edge-deck.pdf",
        "3.2",
        ["network-security", "cloud"],
        "",
        "The 20-slide pitch for Secure Edge: the problem, the product, three customer stories.",
    ),
    (
        "Partner price list 2026",
        "price_list",
        "price-list-2026.pdf",
        "2026.1",
        ["pricing"],
        "gold+",
        "List prices and partner discounts per tier. Confidential: Gold and Platinum partners.",
    ),
    (
        "Battle card: Secure Edge vs. the incumbents",
        "battle_card",
        "battle-card.pdf",
        "1.4",
        ["competitive", "network-security"],
        "",
        "Objections you will hear and how to answer them, on one page.",
    ),
    (
        "Partner logo pack",
        "logo",
        "partner-logo.png",
        "",
        ["brand"],
        "",
        "The “Certified partner” badge for your website and proposals.",
    ),
    (
        "Cloud Gateway datasheet",
        "datasheet",
        "cloud-gateway-datasheet.pdf",
        "5.0",
        ["cloud"],
        "",
        "Specifications, deployment options and licensing of Cloud Gateway.",
    ),
    (
        "New partner welcome guide",
        "document",
        "welcome-guide.pdf",
        "1.0",
        ["onboarding"],
        "",
        "Who to call, where things are in the portal, and your first 90 days.",
    ),
    (
        "Northwind joint marketing plan",
        "document",
        "northwind-marketing-plan.pdf",
        "0.9",
        ["brand"],
        "northwind",
        "The campaign plan agreed with Northwind Systems for this year.",
    ),
    (
        "Secure Edge 4 launch deck (draft)",
        "sales_deck",
        "secure-edge-4-draft.pdf",
        "0.1",
        ["network-security"],
        "draft",
        "Not published yet: the launch deck for the next major version.",
    ),
]
#: (category, title, slug, Markdown) of the FAQ.
ARTICLES = [
    (
        "Deal registration",
        "How long is a registered deal protected?",
        "how-long-is-a-deal-protected",
        "An approved registration protects the opportunity for **90 days**. Ask your partner "
        "manager for an extension before it expires if the customer needs more time.",
    ),
    (
        "Deal registration",
        "Why was my registration returned?",
        "why-was-my-registration-returned",
        "Usually because another partner registered the same customer first, or details were "
        "missing. The reason is on the registration's history.",
    ),
    (
        "Training",
        "Do certificates expire?",
        "do-certificates-expire",
        "Yes: a certificate is valid for the period its course states (usually a year). You "
        "are reminded **30 days** before it expires.",
    ),
    (
        "Training",
        "Which courses are required for my tier?",
        "required-courses",
        "The catalogue marks them *Required for your tier*. Filter by **Required** to see "
        "only those.",
    ),
    (
        "Portal",
        "How do I invite a colleague?",
        "invite-a-colleague",
        "Partner admins open **My company**, add the contact and send the invitation. The "
        "link is valid for 7 days.",
    ),
    (
        "Portal",
        "Where do I find logos and price lists?",
        "logos-and-price-lists",
        "In the [resource library](/training/resources/). Price lists are open to Gold and "
        "Platinum partners.",
    ),
]


def demo_pdf(title: str) -> bytes:
    """A small valid one-page PDF that shows ``title``."""
    text = title.encode("latin-1", "replace").replace(b"(", b"[").replace(b")", b"]")
    stream = b"BT /F1 20 Tf 72 720 Td (" + text + b") Tj ET"
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R "
        b"/Resources << /Font << /F1 5 0 R >> >> >>",
        b"<< /Length %d >>\nstream\n" % len(stream) + stream + b"\nendstream",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
    ]
    out = bytearray(b"%PDF-1.4\n")
    offsets = []
    for number, body in enumerate(objects, 1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % number + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % offset for offset in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%EOF\n" % (
        len(objects) + 1,
        xref,
    )
    return bytes(out)


def demo_png(size: int = 32, rgb: tuple[int, int, int] = (13, 110, 253)) -> bytes:
    """A small valid PNG: a square of one colour."""
    import struct
    import zlib

    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    row = b"\x00" + bytes(rgb) * size
    header = struct.pack(">IIBBBBB", size, size, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(row * size))
        + chunk(b"IEND", b"")
    )


def seed_library(report) -> None:
    """Tags, eight resources (one for Gold and Platinum only, one for Northwind Systems only,
    one unpublished) with small generated files, some downloads, and six FAQ articles."""
    from django.core.files.base import ContentFile
    from django.db import transaction

    from partners.models import PartnerAccount, Tier
    from training.models import Article, Resource, ResourceDownload, ResourceTag

    with transaction.atomic():
        tags = {}
        for name, slug in LIBRARY_TAGS:
            tags[slug], _ = ResourceTag.objects.get_or_create(slug=slug, defaults={"name": name})
        gold_plus = list(Tier.objects.filter(name__in=["Gold", "Platinum"]))
        northwind = PartnerAccount.objects.filter(name="Northwind Systems").first()
        for title, category, filename, version, tag_slugs, restriction, description in LIBRARY:
            if Resource.objects.filter(title=title).exists():
                continue
            if restriction == "northwind" and northwind is None:
                continue
            content = demo_png() if filename.endswith(".png") else demo_pdf(title)
            resource = Resource(
                title=title,
                description=description,
                category=category,
                version=version,
                published=restriction != "draft",
                file_size=len(content),
            )
            resource.file.save(filename, ContentFile(content), save=False)
            resource.save()
            resource.tags.set([tags[slug] for slug in tag_slugs])
            if restriction == "gold+":
                resource.tiers.set(gold_plus)
            elif restriction == "northwind":
                resource.accounts.set([northwind])
            report.created["resources"] += 1
            if northwind is not None and restriction in ("", "northwind"):
                ResourceDownload.objects.get_or_create(
                    resource=resource, account=northwind, defaults={"count": 3}
                )
        for position, (category, title, slug, body) in enumerate(ARTICLES, 1):
            _, created = Article.objects.get_or_create(
                slug=slug,
                defaults={
                    "title": title,
                    "category": category,
                    "body": body,
                    "position": position,
                },
            )
            report.created["FAQ articles"] += int(created)
