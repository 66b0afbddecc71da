"""The daily digest: one email per person and local day with the bell entries they chose to get
that way (``Notification.in_digest``), grouped by topic.

``send_digests`` runs hourly (beat keeps UTC); it sends once the local hour in ``TIME_ZONE`` has
reached ``PRM_DIGEST_HOUR``. The ``SentMessage`` key ``digest:<user>:<local date>`` makes it once
per person and local day, whatever the daylight-saving changes do to the hours: a repeated hour
finds the key taken, a skipped hour is caught up by the next run of the day. Entries that arrive
after today's digest wait for tomorrow's.
"""

from __future__ import annotations

from datetime import date, datetime
from itertools import groupby

from django.conf import settings
from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from prm.mail import send_once
from prm.models import Notification, SentMessage
from prm.notifications import get_topic

#: At most this many entries are listed in one digest (the rest: "and N more" in the portal).
DIGEST_MAX_ENTRIES = 50


def digest_key(user_id: int, day: date) -> str:
    return f"digest:{user_id}:{day.isoformat()}"


def digest_day(now: datetime) -> date | None:
    """The local date whose digest is due at ``now``, or None before the digest hour."""
    local = timezone.localtime(now)
    return local.date() if local.hour >= settings.PRM_DIGEST_HOUR else None


def _groups(entries: list[Notification]) -> list[dict]:
    """The entries grouped by topic (in topic registration order), each with its link."""
    base = settings.PRM_BASE_URL
    for entry in entries:
        entry.link = base + reverse("notification_open", args=[entry.pk])
    order = {code: n for n, code in enumerate(_topic_codes())}
    entries = sorted(entries, key=lambda e: (order.get(e.topic, len(order)), e.topic))
    groups = []
    for code, items in groupby(entries, key=lambda e: e.topic):
        topic = get_topic(code)
        label = f"{topic.group}: {topic.label}" if topic else "Other notifications"
        groups.append({"topic": code, "label": label, "entries": list(items)})
    return groups


def _topic_codes() -> list[str]:
    from prm.notifications import topics

    return list(topics())


def send_digests(now: datetime | None = None) -> int:
    """Send today's digest to each person with waiting entries; returns how many were sent.

    One query collects every waiting entry (with its person), one finds the digests already sent
    today; then per person one transaction marks their entries and claims and sends the email.
    """
    now = now or timezone.now()
    day = digest_day(now)
    if day is None:
        return 0
    waiting = list(
        Notification.objects.filter(
            in_digest=True,
            digested_at__isnull=True,
            created_at__lt=now,
            user__is_active=True,
        )
        .select_related("user")
        .order_by("user_id", "-created_at", "-pk")
    )
    if not waiting:
        return 0
    by_user = {
        user_id: list(entries) for user_id, entries in groupby(waiting, key=lambda e: e.user_id)
    }
    keys = {user_id: digest_key(user_id, day) for user_id in by_user}
    done = set(SentMessage.objects.filter(key__in=keys.values()).values_list("key", flat=True))
    sent = 0
    for user_id, entries in by_user.items():
        if keys[user_id] in done:
            continue  # today's went out: these wait for tomorrow's
        sent += _send_one(entries[0].user, entries, key=keys[user_id], day=day, now=now)
    return sent


def _send_one(user, entries: list[Notification], *, key: str, day: date, now: datetime) -> int:
    shown = entries[:DIGEST_MAX_ENTRIES]
    groups = _groups(shown)
    with transaction.atomic():
        Notification.objects.filter(
            pk__in=[entry.pk for entry in entries], digested_at__isnull=True
        ).update(digested_at=now)
        sent = send_once(
            key,
            user=user,
            topic=[group["topic"] for group in groups if group["topic"]],
            template_prefix="prm/email/digest",
            context={
                "day": day,
                "groups": groups,
                "count": len(entries),
                "more": len(entries) - len(shown),
                "notifications_url": settings.PRM_BASE_URL + reverse("notifications"),
            },
        )
        if not sent:  # another run sent it first: leave its marks, not ours
            transaction.set_rollback(True)
    return int(sent)
