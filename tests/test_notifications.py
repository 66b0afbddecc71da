"""The bell: notify() makes one entry per person and one email each, once per key; the top bar shows
the unread count; opening one marks it read and goes to its page (never off-site); read-all
touches only the reader's own; nobody reaches another person's notification."""

from __future__ import annotations

import re

import pytest
from django.core import mail
from django.urls import reverse
from django.utils import timezone

from prm.models import Notification
from prm.notifications import notify
from prm.testing.fixtures import login_as
from prm.testing.world import make_user
from prm.views import site_path

pytestmark = pytest.mark.django_db

BELL_LABEL = re.compile(r'aria-label="Notifications, ([0-9+]+) unread"')


def bell_count(response) -> str:
    """The unread count the bell button announces on a page."""
    match = BELL_LABEL.search(response.content.decode())
    assert match, "no bell on the page"
    return match.group(1)


def a_note(user, n=1, *, url="/leads/", read=False, **fields):
    return Notification.objects.create(
        user=user,
        key=f"test:{user.pk}:{n}",
        title=fields.pop("title", f"Note {n}"),
        url=url,
        read_at=timezone.now() if read else None,
        **fields,
    )


# --- notify() --------------------------------------------------------------------------------


def test_notify_gives_each_active_person_one_entry_and_their_own_email(world):
    people = [world.partner_admin_a, world.member_a, world.manager]
    new = notify(
        "registration-approved:1",
        people,
        title="Registration approved: Acme",
        url="/registrations/1/",
        body="Protected until 30 June.",
    )
    assert new == 3
    assert Notification.objects.filter(key="registration-approved:1").count() == 3
    assert len(mail.outbox) == 3
    assert sorted(m.to[0] for m in mail.outbox) == sorted(user.email for user in people)
    assert all(len(m.to) == 1 for m in mail.outbox)
    message = mail.outbox[0]
    assert message.subject == "Registration approved: Acme"
    assert "Protected until 30 June." in message.body
    assert "/registrations/1/" in message.body
    html = message.alternatives[0][0]
    assert "Registration approved: Acme" in html
    assert 'href="http' in html and "/registrations/1/" in html


def test_notify_twice_adds_nothing_and_sends_nothing_more(world):
    people = [world.partner_admin_a, world.member_a]
    notify("lead-assigned:7", people, title="New lead", url="/leads/7/")
    notify("lead-assigned:7", people, title="New lead", url="/leads/7/")
    assert Notification.objects.filter(key="lead-assigned:7").count() == 2
    assert len(mail.outbox) == 2


def test_notify_skips_inactive_people(world):
    gone = make_user("gone@vendor.example", is_active=False)
    notify("lead-returned:3", [gone, world.manager, None], title="Lead returned")
    assert list(Notification.objects.values_list("user", flat=True)) == [world.manager.pk]
    assert mail.outbox[0].to == [world.manager.email]


def test_the_email_escapes_what_users_typed(world):
    notify("x:1", [world.manager], title="Deal <script>alert(1)</script>", url="/leads/")
    html = mail.outbox[0].alternatives[0][0]
    assert "<script>" not in html
    assert "&lt;script&gt;" in html


# --- the bell in the top bar -----------------------------------------------------------------


def test_the_bell_shows_the_unread_count_on_a_page(client, world):
    for n in range(3):
        a_note(world.partner_admin_a, n)
    a_note(world.partner_admin_a, 9, read=True)
    a_note(world.member_a, 1)  # someone else's
    login_as(client, world.partner_admin_a)
    response = client.get(reverse("deals:lead_list"))
    assert bell_count(response) == "3"
    assert '<span class="bell-badge" aria-hidden="true">3</span>' in response.content.decode()
    assert reverse("notifications") in response.content.decode()  # "See all"


def test_the_bell_caps_a_long_unread_list_at_9_plus(client, world):
    for n in range(14):
        a_note(world.manager, n)
    login_as(client, world.manager)
    assert bell_count(client.get(reverse("partners:partner_list"))) == "9+"


def test_no_unread_means_no_badge(client, world):
    a_note(world.manager, read=True)
    login_as(client, world.manager)
    response = client.get(reverse("partners:partner_list"))
    assert bell_count(response) == "0"
    assert "bell-badge" not in response.content.decode()


def test_signed_out_visitors_have_no_bell(client, world):
    response = client.get(reverse("account_login"))
    assert "bell-toggle" not in response.content.decode()


def test_the_menu_lists_the_latest_eight_newest_first(client, world):
    for n in range(10):
        a_note(world.member_a, n, title=f"Menu note {n:02d}")
    login_as(client, world.member_a)
    body = client.get(reverse("notifications_menu"), headers={"HX-Request": "true"}).content
    titles = re.findall(r"Menu note (\d\d)", body.decode())
    assert titles == ["09", "08", "07", "06", "05", "04", "03", "02"]
    assert "Mark all as read" in body.decode()


def test_an_empty_menu_says_so(client, world):
    login_as(client, world.member_a)
    body = client.get(reverse("notifications_menu")).content.decode()
    assert "No notifications yet" in body
    assert "Mark all as read" not in body


# --- the list --------------------------------------------------------------------------------


def test_the_list_highlights_unread_and_paginates(client, world):
    for n in range(30):
        a_note(world.partner_admin_b, n, title=f"Listed {n:02d}", read=n % 2 == 0)
    login_as(client, world.partner_admin_b)
    first = client.get(reverse("notifications")).content.decode()
    assert "Listed 29" in first and "Listed 05" in first and "Listed 04" not in first
    assert first.count('class="notification is-unread"') == 13  # 29, 27, …, 5
    assert 'rel="next"' in first
    second = client.get(reverse("notifications"), {"page": 2}).content.decode()
    assert "Listed 04" in second and "Listed 29" not in second


def test_the_unread_filter_shows_only_unread(client, world):
    a_note(world.member_a, 1, title="Still new")
    a_note(world.member_a, 2, title="Already seen", read=True)
    login_as(client, world.member_a)
    body = client.get(reverse("notifications"), {"show": "unread"}).content.decode()
    assert "Still new" in body and "Already seen" not in body


def test_the_list_has_a_helpful_empty_state(client, world):
    login_as(client, world.member_a)
    assert "No notifications yet" in client.get(reverse("notifications")).content.decode()
    a_note(world.member_a, read=True)
    body = client.get(reverse("notifications"), {"show": "unread"}).content.decode()
    assert "all caught up" in body


def test_a_bad_page_number_shows_the_first_page(client, world):
    a_note(world.member_a, title="Only one")
    login_as(client, world.member_a)
    for page in ("abc", "-1", "99"):
        response = client.get(reverse("notifications"), {"page": page})
        assert response.status_code == 200
        assert "Only one" in response.content.decode()


# --- opening one -----------------------------------------------------------------------------


def test_opening_marks_it_read_and_goes_to_its_page(client, world):
    note = a_note(world.partner_admin_a, url="/leads/?status=assigned")
    login_as(client, world.partner_admin_a)
    response = client.get(reverse("notification_open", args=[note.pk]))
    assert response.status_code == 302
    assert response["Location"] == "/leads/?status=assigned"
    note.refresh_from_db()
    assert note.read_at is not None
    assert bell_count(client.get(reverse("deals:lead_list"))) == "0"


def test_opening_twice_keeps_the_first_read_time(client, world):
    note = a_note(world.partner_admin_a)
    login_as(client, world.partner_admin_a)
    client.get(reverse("notification_open", args=[note.pk]))
    note.refresh_from_db()
    first_read = note.read_at
    client.get(reverse("notification_open", args=[note.pk]))
    note.refresh_from_db()
    assert note.read_at == first_read


@pytest.mark.parametrize(
    "url",
    [
        "https://evil.example/phish",
        "//evil.example/phish",
        "/\\evil.example",
        "\\\\evil.example",
        "/\t/evil.example",
        "javascript:alert(1)",
        "evil.example/leads/",
        " /leads/",
    ],
)
def test_an_off_site_link_is_never_followed(client, world, url):
    note = a_note(world.member_a, url=url)
    login_as(client, world.member_a)
    response = client.get(reverse("notification_open", args=[note.pk]))
    assert response.status_code == 302
    assert response["Location"] == reverse("notifications")
    note.refresh_from_db()
    assert note.read_at is not None


def test_a_notification_without_a_link_opens_the_list(client, world):
    note = a_note(world.member_a, url="")
    login_as(client, world.member_a)
    response = client.get(reverse("notification_open", args=[note.pk]))
    assert response["Location"] == reverse("notifications")


@pytest.mark.parametrize(
    ("url", "safe"),
    [
        ("/registrations/42/", True),
        ("/leads/?q=a%20b#top", True),
        ("", False),
        ("leads/", False),
        ("//host/", False),
        ("/\\host", False),
        ("http://testserver/leads/", False),
        ("/leads/\x00", False),
    ],
)
def test_site_path_accepts_only_paths_of_this_site(url, safe):
    assert (site_path(url) == url) is safe


def test_another_persons_notification_is_a_404_and_stays_unread(client, world):
    note = a_note(world.partner_admin_a)
    for persona in ("member_a", "partner_admin_b", "manager", "admin"):
        login_as(client, getattr(world, persona))
        response = client.get(reverse("notification_open", args=[note.pk]))
        assert response.status_code == 404, persona
    note.refresh_from_db()
    assert note.read_at is None


# --- read all --------------------------------------------------------------------------------


def test_read_all_marks_only_the_readers_own(client, world):
    mine = [a_note(world.member_a, n) for n in range(3)]
    theirs = a_note(world.partner_admin_a, 1)
    login_as(client, world.member_a)
    response = client.post(reverse("notifications_read_all"), {"next": "/leads/"})
    assert response.status_code == 302
    assert response["Location"] == "/leads/"
    assert all(Notification.objects.get(pk=n.pk).read_at for n in mine)
    theirs.refresh_from_db()
    assert theirs.read_at is None


def test_read_all_never_sends_anyone_off_site(client, world):
    a_note(world.member_a)
    login_as(client, world.member_a)
    response = client.post(reverse("notifications_read_all"), {"next": "https://evil.example/"})
    assert response["Location"] == reverse("notifications")


def test_read_all_is_a_post(client, world):
    note = a_note(world.member_a)
    login_as(client, world.member_a)
    assert client.get(reverse("notifications_read_all")).status_code == 405
    note.refresh_from_db()
    assert note.read_at is None


# --- signed out --------------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["notifications", "notifications_menu", "notification_open"])
def test_anonymous_visitors_are_sent_to_sign_in(client, world, name):
    note = a_note(world.member_a)
    args = [note.pk] if name == "notification_open" else []
    response = client.get(reverse(name, args=args))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("account_login"))
    note.refresh_from_db()
    assert note.read_at is None


def test_anonymous_read_all_is_sent_to_sign_in(client, world):
    response = client.post(reverse("notifications_read_all"))
    assert response["Location"].startswith(reverse("account_login"))


def test_an_ended_session_sends_the_whole_page_to_sign_in_from_the_menu(client, world):
    response = client.get(
        reverse("notifications_menu"),
        headers={"HX-Request": "true", "HX-Current-URL": "http://testserver/leads/"},
    )
    assert response.status_code == 200
    assert response["HX-Redirect"].startswith(reverse("account_login"))
    assert "next=/leads/" in response["HX-Redirect"]
