"""Email preferences (issue 6): topics, delivery per person's mode, the preferences page signed
in and at the signed link of every email, and the one-click unsubscribe of RFC 8058."""

from __future__ import annotations

import re
import time
from unittest import mock

import pytest
from django.core import mail
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from prm.forms import field_name
from prm.mail import LINK_MAX_AGE, preferences_token, unsubscribe_token
from prm.models import EmailMode, Notification, NotificationPreference
from prm.notifications import get_topic, notify, topics, topics_for
from prm.testing.fixtures import login_as
from prm.testing.world import make_user

pytestmark = pytest.mark.django_db


def prefer(user, topic, mode):
    NotificationPreference.objects.update_or_create(user=user, topic=topic, defaults={"mode": mode})


def url_in(text: str, name: str) -> str:
    match = re.search(r"http://[^\s\"<>]+/email/" + name + r"/[^\s\"<>]+/", text)
    assert match, f"no {name} link in the email"
    return match.group(0).split("127.0.0.1:8000", 1)[-1]


# --- topics -----------------------------------------------------------------------------------


def test_apps_register_their_topics_and_one_per_alert_condition():
    from analytics.models import AlertCondition

    codes = set(topics())
    assert {
        "leads.assigned",
        "leads.returned",
        "registrations.decisions",
        "registrations.expiry",
        "registrations.extensions",
        "training.certificates",
        "goals",
        "reviews",
        "surveys",
        "partners.account_status",
    } <= codes
    assert {f"alert:{c}" for c in AlertCondition.values} <= codes
    assert get_topic("alert:detractor").default is None  # the rule's channel decides


def test_each_person_sees_the_topics_that_concern_them(world):
    partner = {t.code for t in topics_for(world.member_a)}
    internal = {t.code for t in topics_for(world.manager)}
    assert "leads.assigned" in partner and "leads.assigned" not in internal
    assert "leads.returned" in internal and "leads.returned" not in partner
    assert "registrations.decisions" in partner and "registrations.decisions" in internal
    # Partner members get no alerts; partner admins and staff choose how theirs come.
    admin = {t.code for t in topics_for(world.partner_admin_a)}
    assert "alert:detractor" in internal and "alert:detractor" in admin
    assert not any(code.startswith("alert:") for code in partner)


# --- delivery ----------------------------------------------------------------------------------


def test_each_person_gets_what_they_chose(world):
    prefer(world.member_a, "reviews", EmailMode.DIGEST)
    prefer(world.manager, "reviews", EmailMode.OFF)
    people = [world.partner_admin_a, world.member_a, world.manager]
    assert notify("review:1", people, title="Review ready", url="/", topic="reviews") == 3
    notes = {n.user_id: n for n in Notification.objects.filter(key="review:1")}
    assert {n.topic for n in notes.values()} == {"reviews"}
    assert notes[world.member_a.pk].in_digest
    assert not notes[world.manager.pk].in_digest
    assert not notes[world.partner_admin_a.pk].in_digest
    assert [m.to for m in mail.outbox] == [[world.partner_admin_a.email]]  # the default: instant


def test_an_instant_email_carries_its_persons_links_and_the_one_click_headers(client, world):
    notify("goal-set:1", [world.partner_admin_a], title="New goal", url="/goals/", topic="goals")
    message = mail.outbox[0]
    html = message.alternatives[0][0]
    assert "Change which emails you get:" in message.body
    assert "Change which emails you get:" in html
    preferences = url_in(message.body, "preferences")
    assert preferences in html
    unsubscribe = message.extra_headers["List-Unsubscribe"]
    assert unsubscribe.startswith("<http") and "/email/unsubscribe/" in unsubscribe
    assert message.extra_headers["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    # The mail client's one-click POST turns off exactly that email's topic.
    path = unsubscribe.strip("<>").split("127.0.0.1:8000", 1)[-1]
    response = client.post(path, {"List-Unsubscribe": "One-Click"})
    assert response.status_code == 200
    assert list(
        NotificationPreference.objects.filter(user=world.partner_admin_a).values_list(
            "topic", "mode"
        )
    ) == [("goals", EmailMode.OFF)]
    notify("goal-set:2", [world.partner_admin_a], title="Another", url="/goals/", topic="goals")
    assert len(mail.outbox) == 1  # no email any more, the bell entry still comes
    assert Notification.objects.filter(key="goal-set:2").exists()


def test_following_the_unsubscribe_link_only_asks(client, world):
    token = unsubscribe_token(world.member_a, ["surveys"])
    response = client.get(reverse("notification_unsubscribe", args=[token]))
    assert response.status_code == 200
    assert "Stop these emails?" in response.content.decode()
    assert not NotificationPreference.objects.exists()


def test_alert_topics_follow_the_rule_unless_the_person_chose(world):
    def send(key, people, channel_default, template="prm/email/notification"):
        notify(
            key,
            people,
            title="Alert",
            topic="alert:detractor",
            email_template=template,
            default_mode=channel_default,
        )

    prefer(world.manager, "alert:detractor", EmailMode.INSTANT)
    send("a:1", [world.manager, world.admin], EmailMode.INSTANT, template=None)  # bell-only rule
    assert not mail.outbox
    send("a:2", [world.manager, world.admin], EmailMode.DIGEST)  # digest rule
    assert [m.to for m in mail.outbox] == [[world.manager.email]]  # their choice wins
    assert Notification.objects.get(key="a:2", user=world.admin).in_digest
    prefer(world.admin, "alert:detractor", EmailMode.OFF)
    send("a:3", [world.admin], EmailMode.INSTANT)  # email rule, person says off
    assert len(mail.outbox) == 1


def test_send_alerts_passes_the_conditions_topic_and_the_rules_channel(world):
    from analytics import alerts as alert_service

    calls = []
    fake = mock.Mock(side_effect=lambda *a, **k: calls.append(k) or 0)
    rule = mock.Mock(channel="digest", condition="detractor")
    alert = mock.Mock(pk=5, rule=rule, title="t", url="/", why="w", action="a")
    queryset = mock.MagicMock()
    queryset.select_related.return_value.order_by.return_value = [alert]
    with (
        mock.patch("prm.notifications.notify", fake),
        mock.patch.object(alert_service.Alert.objects, "filter", return_value=queryset),
        mock.patch.object(alert_service, "recipients_of", return_value={5: [world.manager]}),
    ):
        alert_service.send_alerts([5])
    assert calls[0]["topic"] == "alert:detractor"
    assert calls[0]["default_mode"] == EmailMode.DIGEST


def _notify_queries(people) -> int:
    with CaptureQueriesContext(connection) as queries:
        notify(f"bulk:{len(people)}", people, title="Many", topic="reviews")
    return len(queries)


def test_notify_costs_the_same_for_5_and_50_digest_readers(world):
    people = [make_user(f"reader{n}@vendor.example") for n in range(50)]
    NotificationPreference.objects.bulk_create(
        [NotificationPreference(user=u, topic="reviews", mode=EmailMode.DIGEST) for u in people]
    )
    assert _notify_queries(people[:5]) == _notify_queries(people) <= 3
    assert Notification.objects.filter(in_digest=True).count() == 55
    assert not mail.outbox


# --- the signed-in page ----------------------------------------------------------------------


def test_the_page_lists_the_persons_topics_grouped_with_defaults(client, world):
    login_as(client, world.partner_admin_a)
    body = client.get(reverse("notification_preferences")).content.decode()
    assert "<legend" in body and "Deal registrations" in body and "Leads" in body
    assert "A lead is assigned to your company" in body
    assert "A partner turns down a lead" not in body  # an internal topic
    assert "Instant (default)" in body and "As the rule says (default)" in body  # alerts
    assert 'href="/account/email-preferences/"' in body  # the user menu


def _all_defaults(user) -> dict:
    data = {}
    for topic in topics_for(user):
        data[field_name(topic.code)] = topic.default or ""
    return data


def test_saving_stores_only_what_differs_from_the_default(client, world):
    prefer(world.manager, "goals", EmailMode.OFF)
    login_as(client, world.manager)
    data = _all_defaults(world.manager)
    data[field_name("leads.returned")] = EmailMode.DIGEST
    data[field_name("alert:goal_behind")] = EmailMode.OFF
    response = client.post(reverse("notification_preferences"), data, follow=True)
    assert "Your email preferences are saved." in response.content.decode()
    saved = dict(
        NotificationPreference.objects.filter(user=world.manager).values_list("topic", "mode")
    )
    assert saved == {"leads.returned": "digest", "alert:goal_behind": "off"}  # goals: default


def test_a_missing_choice_is_shown_at_its_topic_and_nothing_is_saved(client, world):
    login_as(client, world.member_a)
    data = _all_defaults(world.member_a)
    data[field_name("surveys")] = EmailMode.OFF
    del data[field_name("training.certificates")]
    response = client.post(reverse("notification_preferences"), data)
    body = response.content.decode()
    assert response.status_code == 200
    assert "Choose how you want these emails." in body
    assert not NotificationPreference.objects.exists()
    assert 'value="off" id="id_topic-surveys_2" checked' in body  # the form comes back filled


# --- the signed link ----------------------------------------------------------------------------


def test_the_signed_link_works_signed_out_for_its_person_only(client, world):
    url = reverse("notification_preferences_signed", args=[preferences_token(world.member_a)])
    response = client.get(url)
    assert response.status_code == 200
    assert world.member_a.email in response.content.decode()
    data = _all_defaults(world.member_a)
    data[field_name("surveys")] = EmailMode.DIGEST
    response = client.post(url, data)
    assert response.status_code == 302 and response["Location"] == url
    assert NotificationPreference.objects.get(user=world.member_a).mode == EmailMode.DIGEST
    login_as(client, world.partner_admin_a)
    response = client.get(url)
    assert response.status_code == 403
    assert world.member_a.email not in response.content.decode()


@pytest.mark.parametrize("name", ["notification_preferences_signed", "notification_unsubscribe"])
def test_a_tampered_link_is_refused_clearly(client, world, name):
    token = (
        preferences_token(world.member_a)
        if name == "notification_preferences_signed"
        else unsubscribe_token(world.member_a, ["surveys"])
    )
    response = client.post(reverse(name, args=[token[:-2] + "xy"]), _all_defaults(world.member_a))
    assert response.status_code == 400
    assert "This link is not valid" in response.content.decode()
    assert not NotificationPreference.objects.exists()


def test_an_expired_link_is_refused_clearly(client, world):
    token = preferences_token(world.member_a)
    later = time.time() + LINK_MAX_AGE.total_seconds() + 60
    with mock.patch("time.time", return_value=later):
        response = client.get(reverse("notification_preferences_signed", args=[token]))
    assert response.status_code == 410
    assert "This link has expired" in response.content.decode()


def test_a_link_of_another_purpose_is_refused(client, world):
    """An unsubscribe token is not a preferences token (salts differ)."""
    token = unsubscribe_token(world.member_a, ["surveys"])
    response = client.get(reverse("notification_preferences_signed", args=[token]))
    assert response.status_code == 400


def test_preferences_are_each_persons_own(client, world):
    from django.contrib.auth.models import AnonymousUser

    NotificationPreference.objects.create(user=world.manager, topic="goals", mode=EmailMode.OFF)
    mine = NotificationPreference.objects.create(
        user=world.member_a, topic="reviews", mode=EmailMode.DIGEST
    )
    assert list(NotificationPreference.objects.visible_to(world.member_a)) == [mine]
    assert not NotificationPreference.objects.visible_to(AnonymousUser()).exists()
    # The page shows the person's own choice, never another's.
    login_as(client, world.manager)
    form = client.get(reverse("notification_preferences")).context["form"]
    assert form[field_name("goals")].initial == EmailMode.OFF
    assert form[field_name("reviews")].initial != EmailMode.DIGEST
