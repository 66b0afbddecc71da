"""Invitations end to end: the email and its link, setting a password, and every way a link can
stop working (expired, withdrawn, used, resent, account suspended)."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.contrib.auth import get_user_model
from django.core import mail
from django.urls import reverse
from django.utils import timezone

from partners import services
from partners.models import AccountStatus, Contact, Invitation, PortalAccess
from prm.testing.fixtures import login_as
from prm.testing.world import make_invitation

pytestmark = pytest.mark.django_db

GOOD_PASSWORD = "violet-harbour-lantern-58"


def link_in(message) -> str:
    """The path of the invitation link in an email."""
    match = re.search(r"https?://[^/\s]+(/invitations/[^/\s]+/)", message.body)
    assert match, message.body
    return match.group(1)


def accept(client, path, **changes):
    data = {
        "first_name": "Morgan",
        "last_name": "Lee",
        "password1": GOOD_PASSWORD,
        "password2": GOOD_PASSWORD,
    }
    return client.post(path, {**data, **changes})


def users() -> int:
    return get_user_model().objects.count()


@pytest.fixture
def invited(client, world, django_capture_on_commit_callbacks):
    """A colleague added and invited by A's partner admin through the contact form."""
    login_as(client, world.partner_admin_a)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            reverse("partners:contact_add", args=[world.a.pk]),
            {
                "first_name": "Morgan",
                "last_name": "Lee",
                "email": "morgan.lee@northwind.example",
                "portal_access": PortalAccess.MEMBER,
                "send_invitation": "on",
            },
        )
    assert response.status_code == 302
    client.logout()
    return Contact.objects.get(email="morgan.lee@northwind.example")


def test_adding_a_contact_with_an_invitation_sends_one_email_whose_link_works(
    client, world, invited
):
    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert message.to == ["morgan.lee@northwind.example"]
    assert "Northwind Systems" in message.body
    page = client.get(link_in(message))
    assert page.status_code == 200
    html = page.content.decode()
    assert "Welcome, Morgan" in html and "morgan.lee@northwind.example" in html
    assert Invitation.objects.get(contact=invited).sent_at is not None


def test_accepting_sets_the_password_signs_in_and_lands_on_the_portal(client, world, invited):
    path = link_in(mail.outbox[0])
    response = accept(client, path, first_name="Morgan", last_name="Lee-Smith")
    assert response.status_code == 302
    assert response["Location"] == reverse("partners:portal_home")
    home = client.get("/portal/")
    assert home.status_code == 200
    assert "Welcome to Northwind Systems" in home.content.decode()
    invited.refresh_from_db()
    assert invited.user.email == "morgan.lee@northwind.example"
    assert invited.last_name == "Lee-Smith"
    assert Invitation.objects.get(contact=invited).state == "accepted"

    client.logout()
    response = client.post(
        reverse("account_login"),
        {"login": "morgan.lee@northwind.example", "password": GOOD_PASSWORD},
    )
    assert response.status_code == 302


@pytest.mark.parametrize(
    ("password1", "password2", "field", "says"),
    [
        (GOOD_PASSWORD, GOOD_PASSWORD + "x", "password2", "don't match"),
        ("short1", "short1", "password1", "too short"),
        ("password123", "password123", "password1", "too common"),
        ("morgan.lee.northwind", "morgan.lee.northwind", "password1", "too similar"),
    ],
)
def test_a_password_problem_is_explained_and_the_names_are_kept(
    client, world, invited, password1, password2, field, says
):
    before = users()
    response = accept(
        client,
        link_in(mail.outbox[0]),
        first_name="Morgana",
        last_name="Typed-Name",
        password1=password1,
        password2=password2,
    )
    assert response.status_code == 200
    assert says in " ".join(response.context["form"].errors[field])
    html = response.content.decode()
    assert 'value="Morgana"' in html and 'value="Typed-Name"' in html
    assert users() == before
    assert Invitation.objects.get(contact=invited).state == "open"


def _invalid(response, status, says):
    assert response.status_code == status
    assert says in response.content.decode()
    assert "partners/invitation_invalid.html" in [t.name for t in response.templates]


def test_an_expired_link_says_so_and_creates_nobody(client, world):
    invitation, token = make_invitation(world.contact_plain_a, invited_by=world.partner_admin_a)
    Invitation.objects.filter(pk=invitation.pk).update(expires_at=timezone.now() - timedelta(1))
    before = users()
    path = reverse("partners:invitation_accept", args=[token])
    _invalid(client.get(path), 410, "expired")
    _invalid(accept(client, path), 410, "expired")
    assert users() == before


def test_a_withdrawn_link_says_so_and_creates_nobody(client, world):
    _, token = make_invitation(world.contact_plain_a, invited_by=world.partner_admin_a)
    services.revoke_invitation(actor=world.partner_admin_a, contact=world.contact_plain_a)
    before = users()
    path = reverse("partners:invitation_accept", args=[token])
    _invalid(client.get(path), 404, "withdrawn")
    _invalid(accept(client, path), 404, "withdrawn")
    assert users() == before


def test_a_used_link_cannot_be_used_again(client, world, invited):
    path = link_in(mail.outbox[0])
    accept(client, path)
    client.logout()
    before = users()
    _invalid(client.get(path), 410, "already been used")
    _invalid(accept(client, path, first_name="Mallory"), 410, "already been used")
    assert users() == before


def test_a_made_up_link_is_not_found(client, world):
    _invalid(client.get("/invitations/not-a-real-token/"), 404, "not valid")


def test_resending_revokes_the_previous_link(
    client, world, invited, django_capture_on_commit_callbacks
):
    login_as(client, world.partner_admin_a)
    with django_capture_on_commit_callbacks(execute=True):
        client.post(reverse("partners:contact_invite", args=[invited.pk]))
    client.logout()
    assert len(mail.outbox) == 2
    first, second = (link_in(m) for m in mail.outbox)
    assert first != second
    _invalid(client.get(first), 404, "withdrawn")
    assert client.get(second).status_code == 200
    assert Invitation.objects.filter(contact=invited).open().count() == 1


def test_a_link_to_a_suspended_account_does_not_open(client, world):
    _, token = make_invitation(world.contact_plain_a, invited_by=world.partner_admin_a)
    services.change_account_status(
        actor=world.manager, account=world.a, status=AccountStatus.SUSPENDED, reason="x"
    )
    path = reverse("partners:invitation_accept", args=[token])
    before = users()
    _invalid(accept(client, path), 404, "not active")
    assert users() == before


def test_an_invitation_that_fails_to_send_leaves_no_contact_behind(client, world):
    """A contact added with an invitation on a suspended account: the invitation is refused, and
    the contact that was saved first in the same request is rolled back."""
    services.change_account_status(
        actor=world.manager, account=world.a, status=AccountStatus.SUSPENDED, reason="x"
    )
    login_as(client, world.manager)
    response = client.post(
        reverse("partners:contact_add", args=[world.a.pk]),
        {
            "first_name": "Kept",
            "last_name": "Name",
            "email": "kept@northwind.example",
            "portal_access": PortalAccess.MEMBER,
            "send_invitation": "on",
        },
    )
    assert response.status_code == 200
    assert "not active" in response.content.decode()
    assert 'value="Kept"' in response.content.decode()
    assert not Contact.objects.filter(email="kept@northwind.example").exists()
    assert not Invitation.objects.exists()
    assert not mail.outbox


def test_the_invitation_page_needs_no_login_and_shows_nothing_else(client, world):
    _, token = make_invitation(world.contact_plain_a, invited_by=world.partner_admin_a)
    html = client.get(reverse("partners:invitation_accept", args=[token])).content.decode()
    assert "Casey" in html and "Northwind Systems" in html
    assert "Contoso" not in html and "Jamie" not in html
