"""Enrolling other people from a course page: a partner admin ticks colleagues, a partner
manager types partner users' emails. All or nothing; people of companies one doesn't work with
are "unknown" (never told apart from addresses that don't exist); each person is notified."""

from __future__ import annotations

import pytest
from django.urls import reverse

from partners.models import PortalAccess, Tier
from prm.models import Notification
from prm.testing.fixtures import login_as
from prm.testing.world import make_partner_user
from tests.training.test_grading import make_course
from training import services
from training.forms import UNKNOWN_PERSON
from training.models import Enrollment

pytestmark = pytest.mark.django_db


def enroll_url(course):
    return reverse("training:course_enroll_people", args=[course.slug])


def course_url(course):
    return reverse("training:course", args=[course.slug])


@pytest.fixture
def colleague(world):
    """A second member of account A with a login."""
    user, contact = make_partner_user(
        world.a, "riley@northwind.example", PortalAccess.MEMBER, first="Riley", last="Stone"
    )
    return contact


def test_partner_admin_enrolls_colleagues_and_they_are_notified(
    client, world, colleague, django_capture_on_commit_callbacks, mailoutbox
):
    course = make_course()
    login_as(client, world.partner_admin_a)
    page = client.get(course_url(course)).text
    assert "Enroll colleagues" in page
    assert "Jamie Park · jamie@northwind.example" in page and "Riley Stone" in page
    assert "sam@contoso.example" not in page  # another company's people are never offered
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            enroll_url(course),
            {"people": [world.contact_member_a.pk, colleague.pk]},
            follow=True,
        )
    assert response.redirect_chain[-1][0] == course_url(course)
    assert "Enrolled 2 people." in response.text
    enrollments = Enrollment.objects.filter(course=course).order_by("user__email")
    assert [(e.user.email, e.enrolled_by) for e in enrollments] == [
        ("jamie@northwind.example", world.partner_admin_a),
        ("riley@northwind.example", world.partner_admin_a),
    ]
    for enrollment in enrollments:
        bell = Notification.objects.get(user=enrollment.user, key=f"enrolled:{enrollment.pk}")
        assert bell.title == "You are enrolled in Partner basics"
        assert bell.url == course_url(course)
        assert "Alex Rivera enrolled you" in bell.body
    assert sorted(m.to[0] for m in mailoutbox) == [
        "jamie@northwind.example",
        "riley@northwind.example",
    ]
    # Shown as enrolled on the admin's card; the member sees their own progress.
    assert "jamie@northwind.example (already enrolled)" in client.get(course_url(course)).text
    login_as(client, world.member_a)
    assert "Start the first lesson" in client.get(course_url(course)).text


def test_enrolling_someone_already_enrolled_says_so_and_notifies_nobody_again(
    client, world, django_capture_on_commit_callbacks
):
    course = make_course()
    services.enroll(actor=world.member_a, course=course)
    login_as(client, world.partner_admin_a)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            enroll_url(course), {"people": [world.contact_member_a.pk]}, follow=True
        )
    assert "Enrolled 0 people; already enrolled: Jamie Park." in response.text
    assert not Notification.objects.filter(key__startswith="enrolled:").exists()


def test_member_sees_no_card_and_gets_403(client, world):
    course = make_course()
    login_as(client, world.member_a)
    assert "Enroll colleagues" not in client.get(course_url(course)).text
    response = client.post(enroll_url(course), {"people": [world.contact_member_a.pk]})
    assert response.status_code == 403
    assert not Enrollment.objects.exists()


def test_partner_admin_cannot_pick_another_companys_person(client, world):
    course = make_course()
    login_as(client, world.partner_admin_b)
    response = client.post(enroll_url(course), {"people": [world.contact_member_a.pk]})
    assert response.status_code == 200
    assert "Nobody was enrolled" in response.text
    assert "is not one of the available choices" in response.text
    assert not Enrollment.objects.exists()


def test_manager_enrolls_partner_users_by_email(
    client, world, colleague, django_capture_on_commit_callbacks
):
    course = make_course()
    login_as(client, world.manager)
    page = client.get(course_url(course)).text
    assert "Enroll partner people" in page and "<select" not in page
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            enroll_url(course),
            {"emails": "Jamie@Northwind.example,\n riley@northwind.example"},
            follow=True,
        )
    assert "Enrolled 2 people." in response.text
    jamie = Enrollment.objects.get(course=course, user=world.member_a)
    assert jamie.enrolled_by == world.manager
    assert Notification.objects.filter(
        user=world.member_a, key=f"enrolled:{jamie.pk}", body__startswith="Maya Manager"
    ).exists()


@pytest.mark.parametrize(
    ("persona", "email"),
    [
        ("other_manager", "jamie@northwind.example"),  # exists, at a company they don't see
        ("manager", "sam@contoso.example"),  # exists, at another manager's company
        ("manager", "nobody@nowhere.example"),  # doesn't exist
    ],
)
def test_a_person_one_does_not_work_with_reads_like_an_unknown_email(client, world, persona, email):
    course = make_course()
    login_as(client, getattr(world, persona))
    typed = f"riley@northwind.example, {email}" if persona == "manager" else email
    response = client.post(enroll_url(course), {"emails": typed})
    assert response.status_code == 200
    page = response.text
    assert "Nobody was enrolled" in page
    expected = UNKNOWN_PERSON.format(email=email).replace("'", "&#x27;")
    assert expected in page
    assert 'id="id_emails_error"' in page
    assert f"{typed}</textarea>" in page  # what was typed comes back
    assert not Enrollment.objects.exists()


def test_a_course_not_open_to_the_persons_tier_is_refused_and_nothing_is_saved(
    client, world, colleague
):
    course = make_course()
    course.tiers.add(Tier.objects.create(name="Platinum", rank=90))
    login_as(client, world.manager)
    response = client.post(
        enroll_url(course), {"emails": "riley@northwind.example jamie@northwind.example"}
    )
    assert response.status_code == 200
    page = response.text
    assert "Riley Stone (riley@northwind.example): the course isn" in page
    assert "open to Northwind Systems" in page and "tier (Gold)" in page
    assert "Jamie Park (jamie@northwind.example)" in page
    assert not Enrollment.objects.exists()
    assert not Notification.objects.exists()


def test_an_unpublished_course_is_refused_with_the_reason(client, world):
    course = make_course(published=False)
    login_as(client, world.manager)
    response = client.post(enroll_url(course), {"emails": "jamie@northwind.example"})
    assert "the course isn" in response.text and "published yet" in response.text
    assert not Enrollment.objects.exists()


def test_an_empty_submission_is_a_field_error(client, world):
    course = make_course()
    login_as(client, world.partner_admin_a)
    response = client.post(enroll_url(course), {})
    assert response.status_code == 200
    assert 'id="id_people_error"' in response.text
    login_as(client, world.manager)
    response = client.post(enroll_url(course), {"emails": " , "})
    assert "Type the email address of at least one partner user." in response.text


def test_another_tiers_course_is_404_for_partner_admins(client, world):
    course = make_course()
    course.tiers.add(Tier.objects.create(name="Platinum", rank=90))
    login_as(client, world.partner_admin_a)
    response = client.post(enroll_url(course), {"people": [world.contact_member_a.pk]})
    assert response.status_code == 404


def test_the_service_refuses_a_member_and_rolls_back_on_any_refusal(world, colleague):
    from django.core.exceptions import PermissionDenied, ValidationError

    course = make_course()
    with pytest.raises(PermissionDenied):
        services.enroll_people(actor=world.member_a, course=course, users=[colleague.user])
    with pytest.raises(ValidationError) as error:
        services.enroll_people(
            actor=world.partner_admin_a,
            course=course,
            users=[colleague.user, world.partner_admin_b],
        )
    assert error.value.messages == [
        "Sam Patel (sam@contoso.example): you can't enroll this person."
    ]
    assert not Enrollment.objects.exists()
