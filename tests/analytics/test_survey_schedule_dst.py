"""The survey schedule with time frozen hour by hour across quarter ends and the EU / US
daylight-saving changes (issue 6): the beat's hourly ``analytics.distribute_surveys`` asks each
person once per occasion (the ONCE distribution once, the QUARTERLY one once per quarter of the
configured time zone, from local midnight of its first day), and the daily
``analytics.remind_survey_non_responders`` reminds each unanswered invitation once.

Time is frozen by replacing ``django.utils.timezone.now`` (what the tasks, ``auto_now_add`` and
``localdate`` read), and the tasks are called as the beat calls them: without a ``now``."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime, timedelta

import pytest
from django.utils import timezone

from analytics import kpis, surveys, tasks
from analytics.models import (
    QuestionKind,
    Survey,
    SurveyDistribution,
    SurveyInvitation,
    SurveyQuestion,
    SurveySettings,
    SurveyTrigger,
)
from partners.models import AccountStatus, Contact, PortalAccess
from prm.testing.world import make_partner_user

pytestmark = pytest.mark.django_db

HOUR = timedelta(hours=1)
DAY = timedelta(days=1)


class Clock:
    """A frozen clock the test moves by hand; it also keeps what the runs enqueue (the email
    tasks: each invitation must be handed to them once)."""

    def __init__(self, monkeypatch, start: datetime):
        self.now = start
        self.enqueued: Counter = Counter()
        monkeypatch.setattr(timezone, "now", lambda: self.now)
        monkeypatch.setattr(surveys, "enqueue", self.enqueue)

    def enqueue(self, name, ids):
        self.enqueued.update((name, pk) for pk in ids)

    def handed(self, name) -> Counter:
        return Counter({pk: n for (task, pk), n in self.enqueued.items() if task == name})


def _hourly(start: datetime, hours: int) -> list[datetime]:
    return [start + h * HOUR for h in range(hours)]


def _setup(*, fatigue_days=0, link_days=14, remind_after_days=0):
    rules = SurveySettings.current()
    rules.fatigue_days, rules.link_days = fatigue_days, link_days
    rules.save()
    survey = Survey.objects.create(title="Partner satisfaction")
    SurveyQuestion.objects.create(
        survey=survey, position=1, kind=QuestionKind.NPS, text="How likely to recommend us?"
    )
    made = {}
    for trigger in (SurveyTrigger.ONCE, SurveyTrigger.QUARTERLY):
        made[trigger] = SurveyDistribution.objects.create(
            survey=survey,
            name=f"{trigger}",
            trigger=trigger,
            remind_after_days=remind_after_days,
        )
    return made[SurveyTrigger.ONCE], made[SurveyTrigger.QUARTERLY]


def _people() -> set[int]:
    """Who the distributions reach: active partner users of active accounts."""
    return set(
        Contact.objects.filter(
            user__isnull=False,
            user__is_active=True,
            account__status=AccountStatus.ACTIVE,
            portal_access__in=[PortalAccess.ADMIN, PortalAccess.MEMBER],
        ).values_list("user_id", flat=True)
    )


def _local_quarter(moment: datetime) -> str:
    return kpis.Period.quarter(timezone.localdate(moment)).key


# --- the hourly distribution ---------------------------------------------------------------------


@pytest.mark.parametrize("zone", ["America/New_York", "Europe/Berlin"])
@pytest.mark.parametrize(
    "around",
    [
        datetime(2026, 3, 8, tzinfo=UTC),  # US DST starts
        datetime(2026, 3, 29, tzinfo=UTC),  # EU DST starts
        datetime(2026, 4, 1, tzinfo=UTC),  # quarter end, summer time
        datetime(2026, 10, 1, tzinfo=UTC),  # quarter end, summer time
        datetime(2026, 10, 25, tzinfo=UTC),  # EU DST ends
        datetime(2026, 11, 1, tzinfo=UTC),  # US DST ends
        datetime(2027, 1, 1, tzinfo=UTC),  # quarter end, winter time
        datetime(2027, 3, 14, tzinfo=UTC),  # US DST starts
        datetime(2027, 3, 28, tzinfo=UTC),  # EU DST starts
    ],
)
def test_hourly_beat_asks_each_person_once_per_occasion(settings, monkeypatch, world, zone, around):
    """The beat's hourly runs for three days around a quarter's end or a DST change (no
    fatigue rule, so nothing but the occasion keeps a person from being asked again)."""
    settings.TIME_ZONE = zone
    start = around - timedelta(days=1, hours=12)
    clock = Clock(monkeypatch, start)
    once, quarterly = _setup()
    people = _people()
    assert len(people) >= 3
    runs = _hourly(start, 72)
    first_run_of: dict[str, datetime] = {}
    for now in runs:
        clock.now = now
        before = SurveyInvitation.objects.count()
        issued = tasks.distribute_surveys()
        assert SurveyInvitation.objects.count() - before == issued
        for occasion in (
            SurveyInvitation.objects.filter(created_at=now)
            .values_list("occasion", flat=True)
            .distinct()
        ):
            first_run_of.setdefault(occasion, now)

    # ONCE: everyone once, at the first run.
    asked_once = Counter(
        SurveyInvitation.objects.filter(distribution=once).values_list("user_id", flat=True)
    )
    assert set(asked_once) == people
    assert set(asked_once.values()) == {1}
    assert first_run_of["once"] == start

    # QUARTERLY: everyone once per local quarter the window touches, and no other occasion.
    quarters = sorted({_local_quarter(now) for now in runs})
    rows = list(
        SurveyInvitation.objects.filter(distribution=quarterly).values_list("occasion", "user_id")
    )
    assert sorted({occasion for occasion, _ in rows}) == quarters
    counted = Counter(rows)
    assert set(counted.values()) == {1}
    assert {user for occasion, user in counted if occasion == quarters[-1]} == people
    assert len(counted) == len(people) * len(quarters)
    # A new quarter is asked at the first hourly run on or after local midnight of its first day.
    for key in quarters[1:]:
        begins = kpis.Period.parse(key).start_at
        asked = first_run_of[key]
        assert asked - HOUR < begins <= asked
        local = timezone.localtime(asked)
        assert (local.day, local.hour, local.month % 3) == (1, 0, 1)
    # Only a quarter end within the window opens a second occasion; a DST change alone does not.
    crosses_quarter = kpis.Period.quarter(around.date()).start == around.date()
    assert len(quarters) == (2 if crosses_quarter else 1)

    # Each invitation is handed to the email task once.
    handed = clock.handed("analytics.send_survey_invitations")
    assert set(handed) == set(SurveyInvitation.objects.values_list("pk", flat=True))
    assert set(handed.values()) == {1}


def test_fatigue_rule_across_a_quarter_end_and_dst_asks_each_quarter_once(
    settings, monkeypatch, world
):
    """With the fatigue rule on (30 days), a quarter that begins while everyone was asked
    recently is asked once, at the first hourly run 30 days (absolute time, across the EU DST
    end) after the last invitation, and never twice."""
    settings.TIME_ZONE = "Europe/Berlin"
    start = datetime(2026, 9, 29, 12, tzinfo=UTC)
    clock = Clock(monkeypatch, start)
    once, quarterly = _setup(fatigue_days=30)
    once.delete()
    people = _people()
    for now in _hourly(start, 72):  # across the end of Q3: Q4 begins, but everyone is tired
        clock.now = now
        tasks.distribute_surveys()
    asked = SurveyInvitation.objects.filter(distribution=quarterly)
    assert Counter(asked.values_list("occasion", "user_id")) == Counter(
        dict.fromkeys((("2026-Q3", user) for user in people), 1)
    )
    rested_at = start + timedelta(days=30)
    for now in _hourly(rested_at - timedelta(hours=36), 72):
        clock.now = now
        tasks.distribute_surveys()
    q4 = asked.filter(occasion="2026-Q4")
    assert Counter(q4.values_list("user_id", flat=True)) == Counter(dict.fromkeys(people, 1))
    assert set(q4.values_list("created_at", flat=True)) == {rested_at}
    assert asked.count() == 2 * len(people)


# --- the daily reminders -------------------------------------------------------------------------


@pytest.mark.parametrize("zone", ["America/New_York", "Europe/Berlin"])
@pytest.mark.parametrize(
    "around",
    [
        datetime(2026, 3, 8, tzinfo=UTC),  # US DST starts
        datetime(2026, 3, 29, tzinfo=UTC),  # EU DST starts
        datetime(2026, 10, 25, tzinfo=UTC),  # EU DST ends
        datetime(2026, 11, 1, tzinfo=UTC),  # US DST ends
    ],
)
def test_daily_reminders_across_dst_remind_each_invitation_once(
    settings, monkeypatch, world, zone, around
):
    """Invitations issued at every hour around a DST change (people join the portal hour by
    hour, the hourly beat asks them); the daily reminder beat (every 24 h, as Celery runs it)
    reminds each unanswered one once, at its first run a day or more after it was issued."""
    settings.TIME_ZONE = zone
    start = around - timedelta(days=1, hours=12)
    clock = Clock(monkeypatch, start)
    once, quarterly = _setup(remind_after_days=1)
    quarterly.delete()
    hours = _hourly(start, 72)
    reminder_runs = [start + timedelta(minutes=30) + n * DAY for n in range(6)]
    joining = iter(range(1000))
    answered = None
    for now in sorted(hours + reminder_runs):
        clock.now = now
        if now in reminder_runs:
            tasks.remind_survey_non_responders()
            continue
        number = next(joining)
        make_partner_user(world.a, f"hour{number}@northwind.example", PortalAccess.MEMBER)
        tasks.distribute_surveys()
        if answered is None:  # one person answers at once: never reminded
            answered = SurveyInvitation.objects.order_by("pk").first()
            SurveyInvitation.objects.filter(pk=answered.pk).update(responded_at=now)

    invitations = list(SurveyInvitation.objects.order_by("pk"))
    assert len(invitations) == len(_people()) == len(hours) + 3
    assert len({i.user_id for i in invitations}) == len(invitations)
    for invitation in invitations:
        if invitation.pk == answered.pk:
            assert invitation.reminded_at is None
            continue
        due = [run for run in reminder_runs if run >= invitation.created_at + DAY]
        assert invitation.reminded_at == due[0], invitation.created_at
    reminded = clock.handed("analytics.send_survey_reminders")
    assert set(reminded) == {i.pk for i in invitations} - {answered.pk}
    assert set(reminded.values()) == {1}
