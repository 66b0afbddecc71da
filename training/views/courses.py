"""Course pages: the catalogue, a course, the lesson player, quizzes and my learning."""

from __future__ import annotations

from datetime import timedelta

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_GET, require_POST

from partners.models import PortalTab
from partners.navigation import require_tab
from prm.access import get_visible_or_404, require, role_of
from prm.views import page_of
from training import selectors, services
from training.content import render_lesson_body
from training.downloads import download_name, file_download
from training.forms import CatalogueFilterForm, EnrollPeopleForm, quiz_answers
from training.models import Course, EnrollmentStatus, Lesson, LessonAttachment, Quiz

PAGE_SIZE = 24


def _course(request, slug) -> Course:
    require_tab(request, PortalTab.TRAINING)
    return get_visible_or_404(Course.objects, request.user, slug=slug)


# --- the catalogue --------------------------------------------------------------------------


@login_required
def course_list(request):
    require_tab(request, PortalTab.TRAINING)
    form = CatalogueFilterForm(request.GET or None, user=request.user)
    courses = selectors.catalogue(request.user, **form.filters())
    return render(
        request,
        "training/course_list.html",
        {
            "filter": {"form": form},
            "page_obj": page_of(request, courses, PAGE_SIZE),
            "is_partner": role_of(request.user).is_partner,
        },
    )


# --- a course -------------------------------------------------------------------------------


def _course_page(request, course, *, enroll_form=None):
    enrollment = selectors.own_enrollment(request.user, course)
    outline = selectors.course_outline(course, enrollment)
    resume_url = ""
    if outline.resume_pk is not None:
        resume_url = reverse(outline.resume_url_name, args=[course.slug, outline.resume_pk])
    if enroll_form is None and services.may_enroll_people(request.user):
        enroll_form = EnrollPeopleForm(user=request.user, course=course)
    return render(
        request,
        "training/course_detail.html",
        {
            "course": course,
            "enrollment": enrollment,
            "outline": outline,
            "resume_url": resume_url,
            "is_partner": role_of(request.user).is_partner,
            "audience": list(course.audience.all()),
            "enroll_form": enroll_form,
        },
    )


@login_required
def course_detail(request, slug):
    return _course_page(request, _course(request, slug))


@login_required
@require_POST
def course_enroll(request, slug):
    course = _course(request, slug)
    try:
        services.enroll(actor=request.user, course=course)
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    else:
        messages.success(
            request, f"You are enrolled in {course.title}. Start with the first lesson."
        )
    return redirect("training:course", slug=course.slug)


@login_required
@require_POST
def course_enroll_people(request, slug):
    """A partner admin enrolls colleagues, an internal user partner users: all or none."""
    course = _course(request, slug)
    require(
        services.may_enroll_people(request.user),
        "Only partner admins and partner managers enroll other people.",
    )
    form = EnrollPeopleForm(request.POST, user=request.user, course=course)
    if form.is_valid():
        try:
            created, already = services.enroll_people(
                actor=request.user, course=course, users=form.users()
            )
        except ValidationError as error:
            form.add_error(form.field_name, error.messages)
        else:
            text = f"Enrolled {len(created)} {'person' if len(created) == 1 else 'people'}"
            if already:
                names = ", ".join(u.get_full_name() or u.email for u in already)
                text += f"; already enrolled: {names}"
            messages.success(request, f"{text}.")
            return redirect("training:course", slug=course.slug)
    messages.error(request, "Nobody was enrolled: see the problems in the enrollment form.")
    return _course_page(request, course, enroll_form=form)


# --- the lesson player ----------------------------------------------------------------------


def _lesson(request, slug, pk) -> tuple[Course, Lesson]:
    course = _course(request, slug)
    lesson = get_visible_or_404(Lesson.objects.filter(course=course), request.user, pk=pk)
    return course, lesson


@login_required
def lesson_detail(request, slug, pk):
    course, lesson = _lesson(request, slug, pk)
    enrollment = selectors.own_enrollment(request.user, course)
    outline = selectors.course_outline(course, enrollment)
    previous, following = outline.neighbours(lesson)
    done = any(s.done for s in outline.lessons if s.lesson.pk == lesson.pk)
    return render(
        request,
        "training/lesson.html",
        {
            "course": course,
            "lesson": lesson,
            "body": render_lesson_body(lesson.body),
            "enrollment": enrollment,
            "outline": outline,
            "previous": previous,
            "next": following,
            "done": done,
            "lesson_quizzes": outline.lesson_quizzes.get(lesson.pk, []),
            "attachments": list(
                LessonAttachment.objects.visible_to(request.user).filter(lesson=lesson)
            ),
            "is_partner": role_of(request.user).is_partner,
        },
    )


@login_required
@require_POST
def lesson_complete(request, slug, pk):
    course, lesson = _lesson(request, slug, pk)
    require(role_of(request.user).is_partner, "Partner users take courses; this is a preview.")
    enrollment = selectors.own_enrollment(request.user, course)
    if enrollment is None:
        messages.error(request, "Enroll in the course first to keep track of your progress.")
        return redirect("training:course", slug=course.slug)
    enrollment = services.complete_lesson(actor=request.user, enrollment=enrollment, lesson=lesson)
    outline = selectors.course_outline(course, enrollment)
    if enrollment.status == EnrollmentStatus.COMPLETED:
        messages.success(request, f"You completed {course.title}.")
        return redirect("training:course", slug=course.slug)
    if outline.resume_pk is None:
        return redirect("training:course", slug=course.slug)
    return redirect(outline.resume_url_name, course.slug, outline.resume_pk)


@login_required
@require_GET
def lesson_attachment(request, slug, pk, file_pk):
    """A lesson's file, as an attachment: 404 unless the user sees the course and the lesson."""
    course, lesson = _lesson(request, slug, pk)
    attachment = get_visible_or_404(
        LessonAttachment.objects.filter(lesson=lesson), request.user, pk=file_pk
    )
    return file_download(
        attachment.file,
        download_name(attachment.title, attachment.file.name, fallback=f"lesson-file-{file_pk}"),
        missing="This lesson's file is missing; tell your partner manager.",
    )


# --- quizzes --------------------------------------------------------------------------------


def _quiz(request, slug, pk) -> tuple[Course, Quiz]:
    course = _course(request, slug)
    quiz = get_visible_or_404(
        Quiz.objects.filter(course=course).select_related("lesson"), request.user, pk=pk
    )
    return course, quiz


def _quiz_page(request, course, quiz, *, chosen=None, status=200):
    enrollment = selectors.own_enrollment(request.user, course)
    used = selectors.attempts_used(enrollment, quiz)
    left = services.attempts_left(quiz, used)
    questions = selectors.quiz_questions(quiz)
    for question in questions:  # what was ticked before a refused submission
        question.chosen = (chosen or {}).get(question.pk, set())
    return render(
        request,
        "training/quiz.html",
        {
            "course": course,
            "quiz": quiz,
            "questions": questions,
            "enrollment": enrollment,
            "used": used,
            "left": left,
            "is_partner": role_of(request.user).is_partner,
        },
        status=status,
    )


@login_required
def quiz_detail(request, slug, pk):
    course, quiz = _quiz(request, slug, pk)
    return _quiz_page(request, course, quiz)


@login_required
@require_POST
def quiz_submit(request, slug, pk):
    course, quiz = _quiz(request, slug, pk)
    if not role_of(request.user).is_partner:
        raise PermissionDenied("Partner users take quizzes; this is a preview.")
    enrollment = selectors.own_enrollment(request.user, course)
    if enrollment is None:
        messages.error(request, "Enroll in the course first to take its quiz.")
        return redirect("training:course", slug=course.slug)
    try:
        answers = quiz_answers(request.POST)
    except ValueError:
        messages.error(request, "These answers don't belong to this quiz. Nothing was saved.")
        return _quiz_page(request, course, quiz)
    try:
        attempt = services.submit_quiz(
            actor=request.user, enrollment=enrollment, quiz=quiz, answers=answers
        )
    except ValidationError as error:
        messages.error(request, " ".join(error.messages) + " Nothing was saved.")
        chosen = {qid: set(ids) for qid, ids in answers.items()}
        return _quiz_page(request, course, quiz, chosen=chosen)
    enrollment.refresh_from_db()
    left = services.attempts_left(quiz, attempt.number)
    # The right answers once they no longer help a retry: passed, or no attempt left.
    reveal = attempt.passed or left == 0
    outline = selectors.course_outline(course, enrollment)
    certificate = None
    if enrollment.status == EnrollmentStatus.COMPLETED and course.is_certification:
        certificate = selectors.my_certificates(request.user).filter(course=course).first()
    return render(
        request,
        "training/quiz_result.html",
        {
            "course": course,
            "quiz": quiz,
            "attempt": attempt,
            "left": left,
            "reveal": reveal,
            "rows": selectors.graded_questions(attempt, reveal=reveal),
            "enrollment": enrollment,
            "outline": outline,
            "certificate": certificate,
        },
    )


# --- my learning ----------------------------------------------------------------------------


@login_required
def my_learning(request):
    require_tab(request, PortalTab.TRAINING)
    enrollments = selectors.my_enrollments(request.user)
    return render(
        request,
        "training/my_learning.html",
        {
            "in_progress": page_of(
                request, enrollments.filter(status=EnrollmentStatus.IN_PROGRESS), 20
            ),
            "completed": page_of(
                request, enrollments.filter(status=EnrollmentStatus.COMPLETED), 20, "done_page"
            ),
            "certificates": page_of(
                request, selectors.my_certificates(request.user), 20, "cert_page"
            ),
            "is_partner": role_of(request.user).is_partner,
            "today": timezone.localdate(),
            "soon": timezone.localdate() + timedelta(days=30),
        },
    )
