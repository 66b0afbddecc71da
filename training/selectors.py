"""Training reads: the catalogue with each course's status for the reader, a course's outline
and progress, where to resume, a quiz without its answers, and a person's learning."""

from __future__ import annotations

import random
from dataclasses import dataclass, field

from django.db.models import Count, Exists, IntegerField, OuterRef, Prefetch, Q, QuerySet, Subquery
from django.db.models.functions import Coalesce

from prm.access import partner_contact, role_of
from training.models import (
    Certificate,
    Choice,
    Course,
    Enrollment,
    EnrollmentStatus,
    Lesson,
    LessonProgress,
    Question,
    Quiz,
    QuizAttempt,
)

NOT_STARTED = "not_started"


def _count(queryset: QuerySet, outer: str = "course") -> Coalesce:
    """A correlated COUNT(*) of ``queryset`` per course (no join that multiplies rows)."""
    counted = (
        queryset.filter(**{outer: OuterRef("pk")})
        .order_by()
        .values(outer)
        .annotate(n=Count("pk"))
        .values("n")
    )
    return Coalesce(Subquery(counted, output_field=IntegerField()), 0)


def _tier_id(user) -> int | None:
    contact = partner_contact(user)
    return contact.account.tier_id if contact is not None else None


def catalogue(
    user, *, q: str = "", role=None, required: bool = False, status: str = ""
) -> QuerySet:
    """The courses the user sees, each with ``my_status`` (None: not enrolled), ``is_required``
    (for the user's tier), ``lesson_count`` and ``lessons_done``."""
    tier_id = _tier_id(user)
    mine = Enrollment.objects.filter(user=user, course=OuterRef("pk"))
    required_here = Course.required_for.through.objects.filter(
        course_id=OuterRef("pk"), tier_id=tier_id
    )
    courses = (
        Course.objects.visible_to(user)
        .annotate(
            my_status=Subquery(mine.values("status")[:1]),
            is_required=Exists(required_here),
            lesson_count=_count(Lesson.objects.all()),
            lessons_done=_count(
                LessonProgress.objects.filter(enrollment__user=user), "enrollment__course"
            ),
        )
        .prefetch_related("audience")
        .order_by("position", "title", "pk")
    )
    if q:
        courses = courses.filter(Q(title__icontains=q) | Q(summary__icontains=q))
    if role is not None:
        meant = Course.objects.filter(Q(audience=role) | Q(audience__isnull=True))
        courses = courses.filter(pk__in=meant.values("pk"))
    if required:
        if tier_id is not None:
            courses = courses.filter(is_required=True)
        else:  # internal users: required for some tier
            courses = courses.filter(pk__in=Course.required_for.through.objects.values("course_id"))
    if status == NOT_STARTED:
        courses = courses.filter(my_status__isnull=True)
    elif status in EnrollmentStatus.values:
        courses = courses.filter(my_status=status)
    return courses


def own_enrollment(user, course: Course) -> Enrollment | None:
    return Enrollment.objects.visible_to(user).filter(user=user, course=course).first()


@dataclass
class LessonStep:
    lesson: Lesson
    done: bool


@dataclass
class QuizStep:
    quiz: Quiz
    passed: bool
    attempts: int


@dataclass
class Outline:
    """A course as the reader walks it: lessons in order, quizzes, what is done, where to go."""

    lessons: list[LessonStep]
    quizzes: list[QuizStep]  # every quiz of the course; lesson quizzes carry ``quiz.lesson_id``
    enrollment: Enrollment | None
    steps_done: int = 0
    steps_total: int = 0
    resume_url_name: str = ""
    resume_pk: int | None = None
    lesson_quizzes: dict[int, list[QuizStep]] = field(default_factory=dict)

    @property
    def percent(self) -> int:
        return round(100 * self.steps_done / self.steps_total) if self.steps_total else 0

    @property
    def final_quizzes(self) -> list[QuizStep]:
        return [q for q in self.quizzes if q.quiz.lesson_id is None]

    def neighbours(self, lesson: Lesson) -> tuple[Lesson | None, Lesson | None]:
        ids = [s.lesson.pk for s in self.lessons]
        i = ids.index(lesson.pk)
        before = self.lessons[i - 1].lesson if i > 0 else None
        after = self.lessons[i + 1].lesson if i + 1 < len(ids) else None
        return before, after


def course_outline(course: Course, enrollment: Enrollment | None) -> Outline:
    """Three or four queries whatever the course's size."""
    lessons = list(
        Lesson.objects.filter(course=course).only("pk", "title", "minutes", "position", "course_id")
    )
    quizzes = list(Quiz.objects.filter(course=course))
    done: set[int] = set()
    passed: set[int] = set()
    tries: dict[int, int] = {}
    if enrollment is not None:
        done = set(enrollment.progress.values_list("lesson_id", flat=True))
        for quiz_id, ok in enrollment.attempts.values_list("quiz_id", "passed"):
            tries[quiz_id] = tries.get(quiz_id, 0) + 1
            if ok:
                passed.add(quiz_id)
    outline = Outline(
        lessons=[LessonStep(lesson, lesson.pk in done) for lesson in lessons],
        quizzes=[QuizStep(q, q.pk in passed, tries.get(q.pk, 0)) for q in quizzes],
        enrollment=enrollment,
    )
    for step in outline.quizzes:
        if step.quiz.lesson_id is not None:
            outline.lesson_quizzes.setdefault(step.quiz.lesson_id, []).append(step)
    outline.steps_total = len(lessons) + len(quizzes)
    outline.steps_done = sum(s.done for s in outline.lessons) + sum(
        s.passed for s in outline.quizzes
    )
    outline.resume_url_name, outline.resume_pk = _resume(outline)
    return outline


def _resume(outline: Outline) -> tuple[str, int | None]:
    """Where "Resume" goes: the quiz of the lesson last marked done if not passed, else the
    next lesson after it not done yet; else the first lesson not done; else the first quiz not
    passed; else the first lesson (to review)."""
    enrollment = outline.enrollment
    lessons = outline.lessons
    if enrollment is not None and enrollment.last_lesson_id is not None:
        ids = [s.lesson.pk for s in lessons]
        if enrollment.last_lesson_id in ids:
            i = ids.index(enrollment.last_lesson_id)
            pending_quiz = next(
                (q for q in outline.lesson_quizzes.get(ids[i], []) if not q.passed), None
            )
            if pending_quiz is not None:
                return "training:quiz", pending_quiz.quiz.pk
            after = next((s for s in lessons[i + 1 :] if not s.done), None)
            if after is not None:
                return "training:lesson", after.lesson.pk
    step = next((s for s in lessons if not s.done), None)
    if step is not None:
        return "training:lesson", step.lesson.pk
    quiz = next((q for q in outline.quizzes if not q.passed), None)
    if quiz is not None:
        return "training:quiz", quiz.quiz.pk
    if lessons:
        return "training:lesson", lessons[0].lesson.pk
    return "", None


def quiz_questions(quiz: Quiz, *, shuffle_seed=None) -> list[Question]:
    """The quiz's questions with their choices — text and ids only: ``is_correct`` is not even
    loaded, so no template or endpoint can leak it."""
    choices = Choice.objects.only("pk", "text", "position", "question_id").order_by(
        "position", "pk"
    )
    questions = list(
        Question.objects.filter(quiz=quiz)
        .only("pk", "text", "kind", "position", "quiz_id")
        .prefetch_related(Prefetch("choices", queryset=choices))
    )
    if quiz.shuffle:
        random.Random(shuffle_seed).shuffle(questions)
    return questions


def graded_questions(attempt: QuizAttempt, *, reveal: bool) -> list[dict]:
    """After submitting: each question with what was chosen, whether it was right and the
    explanation; the right choices only with ``reveal`` (passed, or no attempt left), so a
    retry can't be copied from the result page."""
    chosen = {int(k): set(v) for k, v in attempt.answers.items()}
    rows = []
    for question in Question.objects.filter(quiz=attempt.quiz_id).prefetch_related("choices"):
        picked = chosen.get(question.pk, set())
        right = {c.pk for c in question.choices.all() if c.is_correct}
        rows.append(
            {
                "question": question,
                "choices": [
                    {"choice": c, "picked": c.pk in picked, "correct": reveal and c.is_correct}
                    for c in question.choices.all()
                ],
                "right": picked == right,
            }
        )
    return rows


def attempts_used(enrollment: Enrollment | None, quiz: Quiz) -> int:
    if enrollment is None:
        return 0
    return QuizAttempt.objects.filter(enrollment=enrollment, quiz=quiz).count()


def my_enrollments(user) -> QuerySet:
    """The user's own enrollments (never a colleague's, even for a partner admin), newest
    first, with lesson counts for the progress bar."""
    return (
        Enrollment.objects.visible_to(user)
        .filter(user=user)
        .select_related("course", "last_lesson")
        .annotate(
            lesson_count=_lesson_total(),
            lessons_done=Count("progress", distinct=True),
        )
        .order_by("-enrolled_at", "-pk")
    )


def _lesson_total() -> Coalesce:
    counted = (
        Lesson.objects.filter(course=OuterRef("course"))
        .order_by()
        .values("course")
        .annotate(n=Count("pk"))
        .values("n")
    )
    return Coalesce(Subquery(counted, output_field=IntegerField()), 0)


def my_certificates(user) -> QuerySet:
    return (
        Certificate.objects.visible_to(user)
        .filter(user=user)
        .select_related("course")
        .order_by("-issued_on", "-pk")
    )


def is_partner(user) -> bool:
    return role_of(user).is_partner


# --- library ------------------------------------------------------------------------------------


def library(user, *, q: str = "", category: str = "", tag=None) -> QuerySet:
    """The resources the user sees (published, of their tier and account), tags prefetched,
    newest first; searched by title, description and tag name, filtered by category and tag."""
    from training.models import Resource, ResourceTag

    resources = (
        Resource.objects.visible_to(user)
        .prefetch_related(Prefetch("tags", queryset=ResourceTag.objects.order_by("name", "pk")))
        .order_by("-published_on", "title", "pk")
    )
    if q:
        named = Resource.objects.filter(tags__name__icontains=q).values("pk")
        resources = resources.filter(
            Q(title__icontains=q) | Q(description__icontains=q) | Q(pk__in=named)
        )
    if category:
        resources = resources.filter(category=category)
    if tag is not None:
        resources = resources.filter(pk__in=Resource.objects.filter(tags=tag).values("pk"))
    return resources


def download_total(resource) -> int:
    """For internal users: how often partners downloaded a resource, all accounts together."""
    from django.db.models import Sum

    from training.models import ResourceDownload

    rows = ResourceDownload.objects.filter(resource=resource)
    return rows.aggregate(downloads=Coalesce(Sum("count"), 0))["downloads"]


def my_account_downloads(user, resource) -> int:
    """How often the partner user's account downloaded a resource (0 for internal users)."""
    from training.models import ResourceDownload

    contact = partner_contact(user)
    if contact is None:
        return 0
    row = ResourceDownload.objects.filter(resource=resource, account_id=contact.account_id)
    return row.values_list("count", flat=True).first() or 0


def knowledge_base(user, *, q: str = "") -> QuerySet:
    """The FAQ articles the user sees, by category then position; searched in title, category
    and body."""
    from training.models import Article

    articles = Article.objects.visible_to(user).order_by("category", "position", "title", "pk")
    if q:
        articles = articles.filter(
            Q(title__icontains=q) | Q(category__icontains=q) | Q(body__icontains=q)
        )
    return articles
