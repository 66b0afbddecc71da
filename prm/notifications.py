"""Notifications: the in-app bell and email, from Celery tasks, once per key, as each person wants.

Every notification belongs to a *topic* (``TOPICS``: leads assigned, registration decisions,
one per alert condition, …). Apps register their topics in a ``topics`` module of their own
(``deals/topics.py``), found like admin modules are: prm never imports the apps. Each person
chooses per topic how its emails come (``NotificationPreference``: instant, daily digest or
off); no choice means the topic's default.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from django.conf import settings
from django.db.models import TextChoices

from prm.mail import send_once
from prm.models import EmailMode, Notification, NotificationPreference


class TopicAudience(TextChoices):
    INTERNAL = "internal", "Partner managers and admins"
    PARTNER = "partner", "Partner users"
    BOTH = "both", "Everyone"
    NOT_MEMBERS = "not_members", "Everyone but partner members"


@dataclass(frozen=True)
class Topic:
    """A kind of notification a person can choose the emails of.

    ``default`` is the mode without a preference; ``None`` means the sender decides (an alert
    rule's channel).
    """

    code: str
    label: str
    group: str
    description: str = ""
    default: str | None = EmailMode.INSTANT
    audience: str = TopicAudience.BOTH

    def applies_to(self, user) -> bool:
        from prm.access import Role, role_of

        if self.audience == TopicAudience.BOTH:
            return True
        role = role_of(user)
        if self.audience == TopicAudience.NOT_MEMBERS:
            return role is not Role.PARTNER_MEMBER
        if self.audience == TopicAudience.PARTNER:
            return role.is_partner
        return role.is_internal

    @property
    def default_label(self) -> str:
        if self.default is None:
            return "As the alert rule says"
        return EmailMode(self.default).label


_TOPICS: dict[str, Topic] = {}
_discovered = False


def register_topic(
    code: str,
    label: str,
    *,
    group: str,
    description: str = "",
    default: str | None = EmailMode.INSTANT,
    audience: str = TopicAudience.BOTH,
) -> Topic:
    """Add (or replace) a topic; call it from an app's ``topics`` module."""
    topic = Topic(code, label, group, description, default, audience)
    _TOPICS[code] = topic
    return topic


def topics() -> dict[str, Topic]:
    """Every registered topic by code, in registration order (apps' ``topics`` modules)."""
    global _discovered
    if not _discovered:
        from django.utils.module_loading import autodiscover_modules

        autodiscover_modules("topics")
        _discovered = True
    return _TOPICS


def get_topic(code: str) -> Topic | None:
    return topics().get(code) if code else None


def topics_for(user) -> list[Topic]:
    """The topics that concern ``user`` (partner or internal), in registration order."""
    return [topic for topic in topics().values() if topic.applies_to(user)]


def email_modes(users: Iterable, topic: str, *, default: str | None = None) -> dict[int, str]:
    """Each person's mode for ``topic`` (one query for everybody): their preference, else
    ``default`` (the sender's, e.g. an alert rule's channel), else the topic's default."""
    users = list(users)
    known = get_topic(topic)
    fallback = default or (known.default if known else None) or EmailMode.INSTANT
    chosen = {}
    if known is not None and users:
        chosen = dict(
            NotificationPreference.objects.filter(
                user_id__in=[user.pk for user in users], topic=topic
            ).values_list("user_id", "mode")
        )
    return {user.pk: chosen.get(user.pk, fallback) for user in users}


def notify(
    key: str,
    users: Iterable,
    *,
    title: str,
    url: str = "",
    body: str = "",
    email_template: str | None = "prm/email/notification",
    context: dict | None = None,
    topic: str = "",
    default_mode: str | None = None,
) -> int:
    """Tell ``users`` about something: a bell entry each, and an email as each person wants it
    for ``topic`` (instant: their own email now; daily digest: the entry waits for the digest;
    off: the bell only). ``email_template=None`` means the bell only, whatever anyone chose.
    ``default_mode`` overrides the topic's default (an alert rule's channel).

    ``key`` names the event (e.g. ``registration-approved:42``); running the same call twice adds
    no second bell entry and sends no second email. ``url`` is a site path. Returns how many
    bell entries were new. Queries: one for the preferences, one insert, then one claim and send
    per instant email.
    """
    people = {user.pk: user for user in users if user is not None and user.is_active}
    if not people:
        return 0
    if email_template:
        modes = email_modes(people.values(), topic, default=default_mode)
    else:
        modes = dict.fromkeys(people, EmailMode.OFF)
    created = Notification.objects.bulk_create(
        [
            Notification(
                user_id=pk,
                key=key,
                title=title[:200],
                body=body[:500],
                url=url,
                topic=topic,
                in_digest=modes[pk] == EmailMode.DIGEST,
            )
            for pk in people
        ],
        ignore_conflicts=True,
    )
    for pk, user in sorted(people.items()):
        if modes[pk] != EmailMode.INSTANT:
            continue
        send_once(
            f"email:{key}:{pk}",
            user=user,
            topic=topic,
            template_prefix=email_template,
            context={
                "title": title,
                "body": body,
                "url": settings.PRM_BASE_URL + url if url else "",
                **(context or {}),
            },
        )
    # bulk_create with ignore_conflicts does not say which rows were new on every database.
    return len(created)
