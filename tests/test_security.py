"""Sign-in and session security: rate limits, the second factor, redirects, enumeration, the end of
sessions when access is taken away, lifetimes, mandatory MFA for staff, no public sign-up."""

from __future__ import annotations

import time
from urllib.parse import urlsplit

import pytest
from allauth.mfa import app_settings as mfa_settings
from allauth.mfa.models import Authenticator
from allauth.mfa.totp.internal.auth import TOTP, format_hotp_value, generate_totp_secret, hotp_value
from django.conf import settings
from django.contrib.auth import get_user_model
from django.core import mail
from django.urls import reverse

from partners import services
from partners.models import AccountStatus
from prm.testing.fixtures import login_as
from prm.testing.world import PASSWORD

pytestmark = pytest.mark.django_db

LOGIN_URL = "/accounts/login/"
TOO_MANY = "Too many failed login attempts"
MISMATCH = "The email address and/or password you specified are not correct."


def sign_in(client, email, password=PASSWORD, **extra):
    return client.post(LOGIN_URL, {"login": email, "password": password, **extra})


def signed_in(client) -> bool:
    return "_auth_user_id" in client.session


def lands_on_login(response) -> bool:
    return response.status_code == 302 and response["Location"].startswith(LOGIN_URL)


def totp_code(secret: str) -> str:
    return format_hotp_value(hotp_value(secret, int(time.time()) // mfa_settings.TOTP_PERIOD))


# --- rate limits ----------------------------------------------------------------------------


def test_five_wrong_passwords_are_wrong_the_sixth_is_refused_even_when_right(client, world):
    email = world.partner_admin_a.email
    for _ in range(5):
        response = sign_in(client, email, "not-the-password")
        assert response.status_code == 200
        assert MISMATCH in response.content.decode()
        assert TOO_MANY not in response.content.decode()

    response = sign_in(client, email, "not-the-password")
    assert TOO_MANY in response.content.decode()
    response = sign_in(client, email, PASSWORD)
    assert response.status_code == 200
    assert TOO_MANY in response.content.decode()
    assert not signed_in(client)


def test_the_limit_counts_per_email_not_per_person_typing(client, world):
    for _ in range(6):
        sign_in(client, world.partner_admin_a.email, "not-the-password")
    response = sign_in(client, world.member_a.email, PASSWORD)
    assert response.status_code == 302
    assert signed_in(client)


def test_admin_login_hands_over_to_allauth_and_counts_failures_the_same(client, world):
    response = client.get("/admin/login/?next=/admin/")
    assert response.status_code == 302
    handed_over = response["Location"]
    assert handed_over.startswith(LOGIN_URL)
    assert "next=%2Fadmin%2F" in handed_over

    email = world.admin.email
    for _ in range(3):
        sign_in(client, email, "not-the-password")
    for _ in range(2):
        response = client.post(handed_over, {"login": email, "password": "nope-nope-nope"})
        assert MISMATCH in response.content.decode()
    response = client.post(handed_over, {"login": email, "password": PASSWORD})
    assert TOO_MANY in response.content.decode()
    assert not signed_in(client)
    assert client.get("/admin/").status_code == 302


def test_admin_signs_in_through_the_handed_over_login_and_lands_on_the_admin(client, world):
    handed_over = client.get("/admin/login/?next=/admin/")["Location"]
    response = client.post(handed_over, {"login": world.admin.email, "password": PASSWORD})
    assert response.status_code == 302
    assert response["Location"] == "/admin/"
    assert client.get("/admin/").status_code == 200


# --- second factor --------------------------------------------------------------------------


@pytest.mark.parametrize("persona", ["admin", "partner_admin_a", "manager"])
def test_password_alone_opens_no_page_for_a_user_with_totp(client, world, persona):
    user = getattr(world, persona)
    secret = generate_totp_secret()
    TOTP.activate(user, secret)

    response = sign_in(client, user.email)
    assert response.status_code == 302
    assert response["Location"] == reverse("mfa_authenticate")
    assert not signed_in(client)
    for path in ("/portal/", "/partners/", f"/partners/{world.a.pk}/"):
        assert lands_on_login(client.get(path)), path
    admin = client.get("/admin/")
    assert admin.status_code == 302 and admin["Location"].startswith("/admin/login/")
    assert lands_on_login(client.get(admin["Location"]))

    response = client.post(reverse("mfa_authenticate"), {"code": "000000"})
    assert response.status_code == 200
    assert not signed_in(client)

    response = client.post(reverse("mfa_authenticate"), {"code": totp_code(secret)})
    assert response.status_code == 302
    assert signed_in(client)
    start = (
        "/admin/" if persona == "admin" else "/portal/" if "partner" in persona else "/partners/"
    )
    assert client.get(start).status_code == 200


# --- redirects after sign-in ----------------------------------------------------------------

OFF_SITE = ["//evil.example", "/\\evil.example", "https:evil.example", "https://evil.example"]


def _stays_here(location: str) -> bool:
    # A browser reads "/\evil.example" as "//evil.example": treat backslashes as slashes.
    parts = urlsplit(location.replace("\\", "/"))
    return parts.netloc in ("", "testserver") and parts.scheme in ("", "http", "https")


@pytest.mark.parametrize("target", OFF_SITE)
def test_sign_in_never_redirects_off_site(client, world, target):
    response = sign_in(client, world.partner_admin_a.email, next=target)
    assert response.status_code == 302
    assert _stays_here(response["Location"]), response["Location"]
    assert signed_in(client)

    # Already signed in: the login page sends the visitor on, but not off-site either.
    response = client.get(LOGIN_URL, {"next": target})
    assert response.status_code == 302
    assert _stays_here(response["Location"]), response["Location"]


# --- no enumeration -------------------------------------------------------------------------


def test_password_reset_answers_the_same_for_unknown_and_known_emails(
    client, world, django_capture_on_commit_callbacks
):
    url = reverse("account_reset_password")
    with django_capture_on_commit_callbacks(execute=True):
        known = client.post(url, {"email": world.partner_admin_a.email})
        unknown = client.post(url, {"email": "nobody@nowhere.example"})
    assert (known.status_code, known["Location"]) == (unknown.status_code, unknown["Location"])
    assert [m.to for m in mail.outbox] == [[world.partner_admin_a.email]]
    assert not any("nobody@nowhere.example" in m.to for m in mail.outbox)
    done = client.get(unknown["Location"])
    assert done.status_code == 200


def test_account_emails_are_sent_by_a_worker_in_html_and_text(
    client, world, django_capture_on_commit_callbacks
):
    """allauth's emails don't hold the request on the mail server: the request enqueues them
    (the outbox row commits with it) and a worker sends them, in the portal's layout."""
    from prm.models import PendingTask

    with django_capture_on_commit_callbacks() as callbacks:
        client.post(reverse("account_reset_password"), {"email": world.member_a.email})
    assert not mail.outbox  # nothing sent in the request itself...
    assert PendingTask.objects.filter(task_name="prm.send_email").count() == 1
    for callback in callbacks:  # ...the commit hands it to the worker
        callback()
    (message,) = mail.outbox
    assert message.to == [world.member_a.email]
    html = {kind: body for body, kind in message.alternatives}["text/html"]
    link = next(word for word in message.body.split() if "/password/reset/key/" in word)
    assert f'href="{link}"' in html  # the same link, clickable in the HTML version
    assert settings.SITE_NAME in message.body and "— " + settings.SITE_NAME in message.body
    assert "Hello from example.com" not in message.body  # allauth's own layout is replaced
    assert not PendingTask.objects.exists()


def test_login_error_is_the_same_for_unknown_email_and_wrong_password(client, world):
    def errors(email):
        response = sign_in(client, email, "not-the-password")
        return response.status_code, response.context["form"].non_field_errors()

    assert errors("nobody@nowhere.example") == errors(world.member_a.email)
    assert errors("nobody@nowhere.example")[1] == [MISMATCH]


# --- access taken away ends sessions --------------------------------------------------------


def test_suspending_an_account_ends_its_users_sessions_and_tells_the_manager(
    client, world, django_capture_on_commit_callbacks
):
    sign_in(client, world.member_a.email)
    assert client.get("/portal/").status_code == 200

    with django_capture_on_commit_callbacks(execute=True):
        services.change_account_status(
            actor=world.manager,
            account=world.a,
            status=AccountStatus.SUSPENDED,
            reason="Unpaid invoices",
        )

    assert lands_on_login(client.get("/portal/"))
    assert [m.to for m in mail.outbox] == [[world.manager.email]]
    assert "Northwind Systems" in mail.outbox[0].subject + mail.outbox[0].body
    # Signing in again is refused while it lasts, for every user of the account.
    for user in (world.member_a, world.partner_admin_a):
        assert sign_in(client, user.email)["Location"] == reverse("account_inactive")
        assert lands_on_login(client.get("/portal/"))
        assert lands_on_login(client.get(f"/partners/{world.a.pk}/"))

    with django_capture_on_commit_callbacks(execute=True):
        services.change_account_status(
            actor=world.manager, account=world.a, status=AccountStatus.ACTIVE
        )
    assert len(mail.outbox) == 2
    response = sign_in(client, world.member_a.email)
    assert response.status_code == 302
    assert client.get("/portal/").status_code == 200


def test_users_of_a_suspended_account_are_refused_at_sign_in(client, world):
    services.change_account_status(
        actor=world.manager, account=world.a, status=AccountStatus.SUSPENDED, reason="x"
    )
    response = sign_in(client, world.member_a.email)
    assert response["Location"] == reverse("account_inactive")
    assert not signed_in(client)


def test_suspending_another_account_leaves_this_session_alone(client, world):
    sign_in(client, world.member_a.email)
    services.change_account_status(
        actor=world.other_manager, account=world.b, status=AccountStatus.SUSPENDED, reason="x"
    )
    assert client.get("/portal/").status_code == 200


def test_disabling_a_contacts_access_ends_their_session(client, world):
    sign_in(client, world.member_a.email)
    assert client.get("/portal/").status_code == 200

    services.disable_portal_access(actor=world.partner_admin_a, contact=world.contact_member_a)
    assert lands_on_login(client.get("/portal/"))
    response = sign_in(client, world.member_a.email)
    assert response["Location"] == reverse("account_inactive")
    assert lands_on_login(client.get("/portal/"))

    services.enable_portal_access(actor=world.partner_admin_a, contact=world.contact_member_a)
    assert sign_in(client, world.member_a.email).status_code == 302


# --- session lifetimes ----------------------------------------------------------------------


def _age_session(client, key: str, seconds: int) -> None:
    session = client.session
    session[key] = session[key] - seconds
    session.save()


def test_a_session_idle_longer_than_the_limit_ends(client, world):
    sign_in(client, world.member_a.email)
    _age_session(client, "prm_seen_at", settings.PRM_SESSION_IDLE_SECONDS - 60)
    assert client.get("/portal/").status_code == 200  # within the limit, and the clock restarts
    _age_session(client, "prm_seen_at", settings.PRM_SESSION_IDLE_SECONDS + 1)
    assert lands_on_login(client.get("/portal/"))
    assert not signed_in(client)
    assert lands_on_login(client.get("/portal/"))


def test_the_idle_limit_comes_from_settings(client, world, settings):
    settings.PRM_SESSION_IDLE_SECONDS = 5
    sign_in(client, world.member_a.email)
    _age_session(client, "prm_seen_at", 6)
    assert lands_on_login(client.get("/portal/"))


def test_a_session_older_than_twelve_hours_ends_even_when_busy(client, world):
    assert settings.PRM_SESSION_MAX_SECONDS == 12 * 3600
    sign_in(client, world.member_a.email)
    _age_session(client, "prm_login_at", 12 * 3600 + 1)
    assert lands_on_login(client.get("/portal/"))
    assert not signed_in(client)


# --- MFA for staff --------------------------------------------------------------------------


@pytest.fixture
def staff_mfa_required(settings):
    settings.PRM_MFA_REQUIRED_FOR_STAFF = True


@pytest.mark.parametrize("persona", ["manager", "admin"])
def test_staff_without_totp_are_sent_to_set_it_up(client, world, staff_mfa_required, persona):
    login_as(client, getattr(world, persona))
    for path in ("/partners/", f"/partners/{world.a.pk}/", "/admin/"):
        response = client.get(path)
        assert response.status_code == 302, path
        assert response["Location"] == reverse("mfa_activate_totp"), path
    # The set-up pages themselves stay open (they ask for the password again first).
    assert client.get(reverse("mfa_activate_totp")).status_code in (200, 302)
    assert not client.get(reverse("mfa_activate_totp"))["Location"].startswith("/partners")


def test_staff_with_totp_get_in(client, world, staff_mfa_required):
    TOTP.activate(world.manager, generate_totp_secret())
    login_as(client, world.manager)
    assert client.get("/partners/").status_code == 200


def test_staff_who_turn_totp_off_are_asked_to_set_it_up_again(client, world, staff_mfa_required):
    secret = generate_totp_secret()
    TOTP.activate(world.manager, secret)
    sign_in(client, world.manager.email)
    client.post(reverse("mfa_authenticate"), {"code": totp_code(secret)})
    assert client.get("/partners/").status_code == 200

    client.post(reverse("account_reauthenticate"), {"password": PASSWORD})
    response = client.post(reverse("mfa_deactivate_totp"))
    assert response.status_code == 302
    assert not Authenticator.objects.filter(user=world.manager, type="totp").exists()
    response = client.get("/partners/")
    assert response.status_code == 302 and response["Location"] == reverse("mfa_activate_totp")


def test_partner_users_are_not_forced_to_set_up_totp(client, world, staff_mfa_required):
    login_as(client, world.partner_admin_a)
    assert client.get("/portal/").status_code == 200
    assert client.get(f"/partners/{world.a.pk}/").status_code == 200


# --- no public sign-up ----------------------------------------------------------------------


def test_there_is_no_public_sign_up(client):
    users = get_user_model().objects.count()
    page = client.get(reverse("account_signup"))
    assert page.status_code == 200
    assert "account/signup_closed.html" in [t.name for t in page.templates]
    response = client.post(
        reverse("account_signup"),
        {"email": "intruder@evil.example", "password1": PASSWORD, "password2": PASSWORD},
    )
    assert response.status_code == 200
    assert "account/signup_closed.html" in [t.name for t in response.templates]
    assert get_user_model().objects.count() == users
    assert not get_user_model().objects.filter(email="intruder@evil.example").exists()
    assert not mail.outbox


def test_behind_a_proxy_the_login_limit_counts_the_real_client_address(client, settings, world):
    """With TRUSTED_PROXY_COUNT=1 the client is the address the proxy appended, so one attacker
    behind the proxy is stopped without locking out everybody else who comes through it."""
    settings.ALLAUTH_TRUSTED_PROXY_COUNT = 1
    attacker = {"HTTP_X_FORWARDED_FOR": "203.0.113.5", "REMOTE_ADDR": "10.0.0.2"}
    colleague = {"HTTP_X_FORWARDED_FOR": "198.51.100.7", "REMOTE_ADDR": "10.0.0.2"}

    def attempt(email, password, headers):
        return client.post(LOGIN_URL, {"login": email, "password": password}, **headers)

    for i in range(10):  # ten different emails: only the per-address limit (10/m/ip) applies
        response = attempt(f"nobody{i}@example.com", "wrong-password", attacker)
        assert TOO_MANY not in response.content.decode()
    refused = attempt("nobody-else@example.com", "wrong-password", attacker)
    assert TOO_MANY in refused.content.decode()

    response = attempt(world.member_a.email, PASSWORD, colleague)
    assert response.status_code == 302 and signed_in(client)
