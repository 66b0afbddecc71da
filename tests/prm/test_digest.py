"""The daily digest (issue 6): one email per person and local day with the entries they chose to
get that way, grouped by topic; idempotent; exactly once per local day across the March and
October/November daylight-saving changes (time frozen hour by hour)."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.core import mail
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from prm.digest import send_digests
from prm.models import EmailMode, Notification, NotificationPreference, SentMessage
from prm.notifications import notify
from prm.testing.world import make_user

pytestmark = pytest.mark.django_db

UTC = ZoneInfo("UTC")


def entry(user, n, *, at, topic="reviews", title=None, url="/reviews/"):
    note = Notification.objects.create(
        user=user,
        key=f"digest-test:{user.pk}:{n}",
        title=title or f"Entry {n}",
        body=f"Body {n}",
        url=url,
        topic=topic,
        in_digest=True,
    )
    Notification.objects.filter(pk=note.pk).update(created_at=at)
    return note


def local(tz: str, *args) -> datetime:
    return datetime(*args, tzinfo=ZoneInfo(tz))


@pytest.fixture
def berlin(settings):
    settings.TIME_ZONE = "Europe/Berlin"
    settings.PRM_DIGEST_HOUR = 8
    timezone.deactivate()
    yield
    timezone.deactivate()


def test_the_digest_lists_the_entries_grouped_by_topic_with_links(world, berlin):
    at = local("Europe/Berlin", 2026, 6, 10, 7)
    entry(world.member_a, 1, at=at - timedelta(hours=3), title="Q2 review ready")
    entry(world.member_a, 2, at=at, topic="surveys", title="Survey <b>time</b>")
    entry(world.partner_admin_a, 3, at=at)
    Notification.objects.create(user=world.member_a, key="instant", title="Not in digest")
    assert send_digests(local("Europe/Berlin", 2026, 6, 10, 8, 5)) == 2
    message = next(m for m in mail.outbox if m.to == [world.member_a.email])
    assert message.subject == "Your OpenPRM digest for Wednesday 10 June: 2 notifications"
    html = message.alternatives[0][0]
    for text in (message.body, html):
        assert "Goals and quarterly reviews: Quarterly reviews".upper() in text.upper()
        assert "Surveys: Feedback surveys".upper() in text.upper()
        assert "Q2 review ready" in text and "Not in digest" not in text
        assert "/notifications/" in text and "/open/" in text
        assert "Change which emails you get:" in text
    assert "Survey &lt;b&gt;time&lt;/b&gt;" in html
    assert message.extra_headers["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert not Notification.objects.filter(in_digest=True, digested_at__isnull=True).exists()


def test_running_twice_sends_one_digest(world, berlin):
    entry(world.member_a, 1, at=local("Europe/Berlin", 2026, 6, 10, 6))
    now = local("Europe/Berlin", 2026, 6, 10, 9)
    assert send_digests(now) == 1
    assert send_digests(now) == 0
    assert send_digests(now + timedelta(hours=1)) == 0
    assert len(mail.outbox) == 1


def test_nothing_before_the_digest_hour_and_late_entries_wait_for_tomorrow(world, berlin):
    entry(world.member_a, 1, at=local("Europe/Berlin", 2026, 6, 10, 6))
    assert send_digests(local("Europe/Berlin", 2026, 6, 10, 7, 59)) == 0
    assert send_digests(local("Europe/Berlin", 2026, 6, 10, 8, 0)) == 1
    late = entry(world.member_a, 2, at=local("Europe/Berlin", 2026, 6, 10, 8, 30))
    assert send_digests(local("Europe/Berlin", 2026, 6, 10, 9)) == 0
    late.refresh_from_db()
    assert late.digested_at is None
    assert send_digests(local("Europe/Berlin", 2026, 6, 11, 8)) == 1
    assert "Entry 2" in mail.outbox[-1].body and "Entry 1" not in mail.outbox[-1].body


def test_a_digest_preference_feeds_the_digest_end_to_end(world, berlin):
    NotificationPreference.objects.create(
        user=world.manager, topic="leads.returned", mode=EmailMode.DIGEST
    )
    notify(
        "lead-returned:9", [world.manager], title="Lead back", url="/leads/", topic="leads.returned"
    )
    assert not mail.outbox
    Notification.objects.update(created_at=local("Europe/Berlin", 2026, 6, 10, 7))
    assert send_digests(local("Europe/Berlin", 2026, 6, 10, 8)) == 1
    assert "Lead back" in mail.outbox[0].body


def test_collecting_costs_the_same_for_few_and_many_entries(world, berlin):
    at = local("Europe/Berlin", 2026, 6, 10, 7)
    people = [make_user(f"d{n}@vendor.example") for n in range(3)]

    def cost(per_person, start):
        for user in people:
            for n in range(per_person):
                entry(user, start + n, at=at)
        with CaptureQueriesContext(connection) as queries:
            send_digests(at.replace(hour=8) + timedelta(days=start))
        return len(queries)

    assert cost(2, 0) == cost(40, 100)


# --- daylight saving: hourly for 72 hours around each change -------------------------------------

CHANGES = [
    ("Europe/Berlin", date(2026, 3, 29)),  # last Sunday of March: 02:00 → 03:00
    ("Europe/Berlin", date(2026, 10, 25)),  # last Sunday of October: 03:00 → 02:00
    ("America/New_York", date(2026, 3, 8)),  # second Sunday of March
    ("America/New_York", date(2026, 11, 1)),  # first Sunday of November
]


def run_hourly(start_utc: datetime, hours: int) -> list[tuple[datetime, int]]:
    """The beat's hourly run, time frozen at each hour (plus a few minutes of drift)."""
    runs = []
    for hour in range(hours):
        now = start_utc + timedelta(hours=hour, minutes=3)
        runs.append((now, send_digests(now)))
    return runs


@pytest.mark.parametrize(("tz", "change"), CHANGES, ids=[f"{t}-{d}" for t, d in CHANGES])
@pytest.mark.parametrize("digest_hour", [8, 2, 1])
def test_one_digest_per_local_day_across_a_daylight_saving_change(
    world, settings, tz, change, digest_hour
):
    """Hour 2 is in the spring gap (and repeated in autumn in Europe, hour 1 in the US)."""
    settings.TIME_ZONE = tz
    settings.PRM_DIGEST_HOUR = digest_hour
    zone = ZoneInfo(tz)
    days = [change - timedelta(days=1), change, change + timedelta(days=1)]
    quiet = days[1] if digest_hour == 1 else None  # one case with a day without entries
    n = 0
    for day in days:
        if day == quiet:
            continue
        # Entries the evening before (unless that day is the quiet one) and in the small hours
        # of the day itself.
        times = [datetime.combine(day, datetime.min.time(), zone) + timedelta(minutes=30)]
        if day - timedelta(days=1) != quiet:
            evening = datetime.combine(day - timedelta(days=1), datetime.min.time(), zone)
            times.append(evening + timedelta(hours=20))
        for at in times:
            for user in (world.member_a, world.manager):
                n += 1
                entry(user, n, at=at.astimezone(UTC))
    start = datetime.combine(days[0], datetime.min.time(), zone).astimezone(UTC)
    runs = run_hourly(start, 72)
    sent_days = {}
    for key in SentMessage.objects.filter(key__startswith="digest:").values_list("key", flat=True):
        _, user_id, day = key.split(":")
        sent_days.setdefault(int(user_id), []).append(date.fromisoformat(day))
    expected = [day for day in days if day != quiet]
    assert sorted(sent_days[world.member_a.pk]) == expected
    assert sorted(sent_days[world.manager.pk]) == expected
    assert len(mail.outbox) == 2 * len(expected)
    # Each went out at the first run at or after the digest hour of its local day.
    for now, count in runs:
        if count:
            here = now.astimezone(zone)
            assert here.date() in expected
            assert here.hour >= digest_hour
            earlier = [
                r for r in runs if r[0] < now and r[0].astimezone(zone).date() == here.date()
            ]
            assert all(r[0].astimezone(zone).hour < digest_hour for r in earlier)
    assert not Notification.objects.filter(in_digest=True, digested_at__isnull=True).exists()


def test_the_digest_hour_in_the_spring_gap_goes_out_at_the_first_hour_after_it(world, settings):
    settings.TIME_ZONE = "Europe/Berlin"
    settings.PRM_DIGEST_HOUR = 2  # 02:00–02:59 does not exist on 29 March 2026
    entry(world.member_a, 1, at=datetime(2026, 3, 28, 20, tzinfo=UTC))
    assert send_digests(datetime(2026, 3, 29, 0, 30, tzinfo=UTC)) == 0  # 01:30 CET
    assert send_digests(datetime(2026, 3, 29, 1, 0, tzinfo=UTC)) == 1  # 03:00 CEST
    assert SentMessage.objects.filter(key=f"digest:{world.member_a.pk}:2026-03-29").exists()


def test_the_repeated_autumn_hour_sends_once(world, settings):
    settings.TIME_ZONE = "Europe/Berlin"
    settings.PRM_DIGEST_HOUR = 2  # 02:00–02:59 happens twice on 25 October 2026
    entry(world.member_a, 1, at=datetime(2026, 10, 24, 20, tzinfo=UTC))
    assert send_digests(datetime(2026, 10, 25, 0, 10, tzinfo=UTC)) == 1  # 02:10 CEST
    entry(world.member_a, 2, at=datetime(2026, 10, 25, 0, 30, tzinfo=UTC))
    assert send_digests(datetime(2026, 10, 25, 1, 10, tzinfo=UTC)) == 0  # 02:10 CET
    assert len(mail.outbox) == 1


def test_the_task_is_scheduled_hourly():
    from django.conf import settings

    from prm.tasks import send_digests as task

    entries = [e for e in settings.CELERY_BEAT_SCHEDULE.values() if e["task"] == task.name]
    assert entries == [{"task": "prm.send_digests", "schedule": 3600.0}]
