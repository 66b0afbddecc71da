"""Lesson files: listed on the lesson page, downloaded as an attachment by those who see the
course (a 404 for a partner of another tier, or while the course is unpublished), and checked on
upload in the admin like the library's files (type and size)."""

from __future__ import annotations

import pytest
from django.core.files.base import ContentFile
from django.core.files.uploadedfile import SimpleUploadedFile
from django.template.defaultfilters import filesizeformat
from django.urls import reverse

from partners.models import Tier
from prm.testing.fixtures import login_as
from training.demo import demo_pdf
from training.models import Course, Lesson, LessonAttachment

pytestmark = pytest.mark.django_db

PDF = demo_pdf("Checklist")


@pytest.fixture
def lesson(world):
    """A published course for A's tier (Gold) with one lesson."""
    course = Course.objects.create(slug="gold-selling", title="Gold selling", published=True)
    course.tiers.add(world.a.tier)
    return Lesson.objects.create(course=course, title="Pricing", body="Read the **price list**.")


def attach(lesson, title="Pricing checklist", filename="checklist.pdf", content=PDF):
    attachment = LessonAttachment(lesson=lesson, title=title, file_size=len(content))
    attachment.file.save(filename, ContentFile(content), save=False)
    attachment.save()
    return attachment


def file_url(attachment):
    lesson = attachment.lesson
    return reverse(
        "training:lesson_attachment", args=[lesson.course.slug, lesson.pk, attachment.pk]
    )


# --- the lesson page and the download ---------------------------------------------------------


def test_the_lesson_page_lists_its_files_with_size_and_download_link(client, world, lesson):
    attachment = attach(lesson)
    login_as(client, world.member_a)
    html = client.get(reverse("training:lesson", args=[lesson.course.slug, lesson.pk])).text
    assert "Files for this lesson" in html
    assert "Pricing checklist" in html
    assert file_url(attachment) in html
    assert filesizeformat(len(PDF)) in html  # its size, e.g. "583 bytes"


def test_a_lesson_without_files_shows_no_files_section(client, world, lesson):
    login_as(client, world.member_a)
    html = client.get(reverse("training:lesson", args=[lesson.course.slug, lesson.pk])).text
    assert "Files for this lesson" not in html


def test_the_file_downloads_as_an_attachment_with_a_safe_name_and_its_type(client, world, lesson):
    attachment = attach(lesson, title="Pricing checklist <v2>")
    login_as(client, world.member_a)
    response = client.get(file_url(attachment))
    assert response.status_code == 200
    assert b"".join(response.streaming_content) == PDF
    assert response["Content-Type"] == "application/pdf"
    assert response["Content-Disposition"] == 'attachment; filename="pricing-checklist-v2.pdf"'
    assert response["X-Content-Type-Options"] == "nosniff"


def test_a_partner_of_another_tier_gets_a_404_on_the_file(client, world, lesson):
    attachment = attach(lesson)
    silver = Tier.objects.create(name="Test Silver", rank=20)
    world.b.tier = silver
    world.b.save(update_fields=["tier"])
    login_as(client, world.partner_admin_b)
    assert client.get(file_url(attachment)).status_code == 404
    login_as(client, world.partner_admin_a)  # A is Gold: the course is theirs
    assert client.get(file_url(attachment)).status_code == 200


def test_an_unpublished_course_file_is_a_404_for_partners_and_a_preview_for_internal_users(
    client, world, lesson
):
    attachment = attach(lesson)
    Course.objects.filter(pk=lesson.course_id).update(published=False)
    login_as(client, world.member_a)
    assert client.get(file_url(attachment)).status_code == 404
    login_as(client, world.manager)
    assert client.get(file_url(attachment)).status_code == 200


def test_a_file_of_another_lesson_is_a_404_under_this_lesson(client, world, lesson):
    other = Lesson.objects.create(course=lesson.course, title="Other lesson")
    attachment = attach(other)
    login_as(client, world.member_a)
    url = reverse("training:lesson_attachment", args=[lesson.course.slug, lesson.pk, attachment.pk])
    assert client.get(url).status_code == 404


def test_a_missing_file_is_a_404(client, world, lesson):
    attachment = attach(lesson)
    attachment.file.storage.delete(attachment.file.name)
    login_as(client, world.member_a)
    assert client.get(file_url(attachment)).status_code == 404


# --- uploads in the admin ---------------------------------------------------------------------


def _post(client, lesson, upload):
    data = {
        "course": lesson.course_id,
        "position": "1",
        "title": lesson.title,
        "minutes": "5",
        "video_url": "",
        "body": lesson.body,
        "attachments-TOTAL_FORMS": "1",
        "attachments-INITIAL_FORMS": "0",
        "attachments-MIN_NUM_FORMS": "0",
        "attachments-MAX_NUM_FORMS": "1000",
        "attachments-0-position": "1",
        "attachments-0-title": "Uploaded handout",
        "attachments-0-file": upload,
    }
    return client.post(reverse("admin:training_lesson_change", args=[lesson.pk]), data)


def test_an_admin_attaches_a_pdf_to_a_lesson_and_its_size_is_kept(client, world, lesson):
    login_as(client, world.admin)
    response = _post(client, lesson, SimpleUploadedFile("handout.pdf", PDF, "application/pdf"))
    assert response.status_code == 302, response.content.decode()[:2000]
    attachment = lesson.attachments.get()
    assert attachment.title == "Uploaded handout"
    assert attachment.file_size == len(PDF)
    assert attachment.file.name.startswith("lessons/")


@pytest.mark.parametrize(
    ("name", "content", "content_type", "message"),
    [
        ("setup.exe", b"MZ\x90\x00", "application/x-msdownload", "files .exe can"),
        ("page.html", b"<script>alert(1)</script>", "text/html", "files .html can"),
        ("handout.pdf", b"MZ\x90\x00 not a pdf", "application/pdf", "isn&#x27;t a real .pdf"),
    ],
)
def test_a_lesson_file_of_the_wrong_type_is_refused_with_a_clear_message(
    client, world, lesson, name, content, content_type, message
):
    login_as(client, world.admin)
    response = _post(client, lesson, SimpleUploadedFile(name, content, content_type))
    assert response.status_code == 200  # the form again
    html = response.content.decode()
    assert message in html, html[html.find("errorlist") - 200 : html.find("errorlist") + 600]
    assert 'value="Uploaded handout"' in html  # what was typed comes back
    assert not LessonAttachment.objects.exists()


def test_a_lesson_file_over_the_size_limit_is_refused_with_a_clear_message(
    client, world, lesson, settings
):
    settings.PRM_MAX_UPLOAD_MB = 1
    login_as(client, world.admin)
    big = PDF + b"0" * (1024 * 1024 + 200_000)
    response = _post(client, lesson, SimpleUploadedFile("big.pdf", big, "application/pdf"))
    assert response.status_code == 200
    assert "is 1.2 MB; files may be at most 1 MB." in response.content.decode()
    assert not LessonAttachment.objects.exists()
