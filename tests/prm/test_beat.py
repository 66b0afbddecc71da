"""Exactly one beat (prm/beat.py): of two schedulers only the lease holder sends; a standby takes
over once the holder's lease runs out; closing releases the lease at once."""

from __future__ import annotations

import logging
from datetime import timedelta
from unittest import mock

import pytest
from django.utils import timezone
from django_celery_beat.models import IntervalSchedule, PeriodicTask

from prm.beat import LEASE_NAME, LeasedScheduler
from prm.celery import app
from prm.models import SchedulerLease

pytestmark = pytest.mark.django_db

TTL = 60
T0 = timezone.now().replace(microsecond=0)


class Clock:
    """The time a scheduler reckons its lease in, moved by the test."""

    def __init__(self, at):
        self.at = at

    def __call__(self):
        return self.at


@pytest.fixture
def sent():
    """Every entry a scheduler hands to the broker, as (scheduler, entry name); nothing is sent."""
    calls = []

    def record(scheduler, entry, producer=None, advance=True, **kwargs):
        calls.append((scheduler, entry.name))

    with mock.patch.object(LeasedScheduler, "apply_async", autospec=True, side_effect=record):
        yield calls


@pytest.fixture(autouse=True)
def keep_the_test_transaction():
    """DatabaseScheduler closes "old" connections on every read and write; inside a test's
    transaction (PostgreSQL) that would close the test's own connection."""
    with mock.patch("django_celery_beat.schedulers.close_old_connections"):
        yield


@pytest.fixture
def make_scheduler(settings):
    settings.PRM_BEAT_LEASE_SECONDS = TTL
    made = []

    def make(at=T0):
        scheduler = LeasedScheduler(app=app)
        scheduler.now = Clock(at)
        scheduler.producer = mock.Mock()  # never connects to the broker
        made.append(scheduler)
        return scheduler

    yield make
    for scheduler in made:
        scheduler._dirty.clear()
        scheduler.close()


def due_entry(name="lease-test", every=3600):
    """A periodic task that last ran long ago: due at the first tick."""
    interval, _ = IntervalSchedule.objects.get_or_create(
        every=every, period=IntervalSchedule.SECONDS
    )
    return PeriodicTask.objects.create(
        name=name,
        task="prm.resend_pending_tasks",
        interval=interval,
        last_run_at=timezone.now() - timedelta(days=1),
    )


def ticks(scheduler, times=3):
    for _ in range(times):
        scheduler.tick()


def test_of_two_schedulers_only_the_lease_holder_sends(make_scheduler, sent, caplog):
    due_entry()
    first, second = make_scheduler(), make_scheduler()
    caplog.set_level(logging.INFO, logger="prm.beat")

    ticks(first)
    ticks(second)

    assert [(s, name) for s, name in sent if name == "lease-test"] == [(first, "lease-test")]
    assert all(s is first for s, _ in sent)
    lease = SchedulerLease.objects.get(name=LEASE_NAME)
    assert lease.holder == first.holder
    assert lease.expires_at == T0 + timedelta(seconds=TTL)
    assert first.holding and not second.holding
    standby = [r for r in caplog.records if "stands by" in r.getMessage()]
    assert len(standby) == 1, "a standby says so once, not on every tick"
    assert first.holder in standby[0].getMessage()


def test_the_first_beat_creates_the_lease_row(make_scheduler):
    assert not SchedulerLease.objects.exists()
    scheduler = make_scheduler()
    assert scheduler.holds_lease()
    assert SchedulerLease.objects.get().holder == scheduler.holder


def test_the_holder_renews_and_a_standby_takes_over_after_the_ttl(make_scheduler, sent):
    first, second = make_scheduler(), make_scheduler()
    assert first.holds_lease()

    # The holder renews while it runs: the standby gets nothing, even past the first TTL.
    for seconds in (10, 30, 50, 70, 90):
        first.now.at = second.now.at = T0 + timedelta(seconds=seconds)
        assert first.holds_lease()
        assert not second.holds_lease()

    # The holder stops (crashed, host gone): no more renewals. Before its lease runs out the
    # standby still waits; after it, the standby takes over.
    last_renewal = SchedulerLease.objects.get().expires_at
    second.now.at = last_renewal - timedelta(seconds=1)
    assert not second.holds_lease()
    second.now.at = last_renewal + timedelta(seconds=1)
    due_entry()
    ticks(second)
    assert second.holding
    assert SchedulerLease.objects.get().holder == second.holder
    assert (second, "lease-test") in sent

    # The old holder comes back: it has lost the lease and sends nothing any more.
    sent.clear()
    first.now.at = second.now.at
    ticks(first)
    assert not first.holding
    assert sent == []


def test_closing_releases_the_lease_for_a_standby_at_once(make_scheduler):
    first, second = make_scheduler(), make_scheduler()
    assert first.holds_lease()
    assert not second.holds_lease()

    first.close()

    assert second.holds_lease()  # same instant: no waiting for the TTL
    assert SchedulerLease.objects.get().holder == second.holder


def test_taking_over_reads_what_the_last_holder_ran(make_scheduler, sent):
    # The standby read the schedule when the entry was due; the holder then ran it. Taking over
    # must not send it a second time.
    due_entry(every=3600)
    first, second = make_scheduler(), make_scheduler()
    second.schedule  # noqa: B018 - the standby has read the schedule too
    ticks(first)
    first.sync()  # what beat does every few minutes and on close: last_run_at saved
    assert [s for s, name in sent if name == "lease-test"] == [first]

    first.close()
    ticks(second)

    assert second.holding
    assert [s for s, name in sent if name == "lease-test"] == [first]


def test_the_tick_interval_is_well_inside_the_lease(make_scheduler, settings):
    settings.PRM_BEAT_LEASE_SECONDS = 9
    scheduler = LeasedScheduler(app=app, lazy=True)
    assert scheduler.max_interval <= 3
    scheduler.producer = mock.Mock()
    scheduler.close()


def test_settings_point_beat_at_the_leased_scheduler(settings):
    assert settings.CELERY_BEAT_SCHEDULER == "prm.beat:LeasedScheduler"
    assert app.conf.beat_scheduler == "prm.beat:LeasedScheduler"


# --- two real beats -------------------------------------------------------------------------


def _sent(client, queue: str, task: str) -> int:
    """How many messages for ``task`` wait in the Redis list of ``queue``."""
    import json

    return sum(
        json.loads(raw).get("headers", {}).get("task") == task
        for raw in client.lrange(queue, 0, -1)
    )


@pytest.mark.services
@pytest.mark.django_db(transaction=True)
def test_two_real_beats_send_a_fast_entry_at_the_rate_of_one(tmp_path):
    import os
    import subprocess
    import sys
    import time
    import uuid

    import redis
    from django.db import connection

    from tests.conftest import ROOT, _forget_redis_queue, _stop_process_group, database_url

    queue = f"openprm-beat-test-{uuid.uuid4().hex[:12]}"
    task = "tests.beat.rate_check"  # sent by name: no worker consumes it, we count it
    every_second, _ = IntervalSchedule.objects.get_or_create(
        every=1, period=IntervalSchedule.SECONDS
    )
    PeriodicTask.objects.create(name="beat rate check", task=task, interval=every_second)
    env = {
        **os.environ,
        "DATABASE_URL": database_url(connection.settings_dict),
        "CELERY_TASK_DEFAULT_QUEUE": queue,
        "PRM_BEAT_LEASE_SECONDS": "6",
        "PYTHONUNBUFFERED": "1",
    }
    client = redis.Redis.from_url(os.environ["REDIS_URL"], socket_timeout=5)
    beats, logs = [], []
    try:
        for number in (1, 2):
            log_path = tmp_path / f"beat{number}.log"
            with log_path.open("wb") as log_file:
                beats.append(
                    subprocess.Popen(
                        [sys.executable, "-m", "celery", "-A", "prm", "beat", "--loglevel=INFO"]
                        + ["-s", str(tmp_path / f"beat{number}-schedule")],
                        cwd=ROOT,
                        env=env,
                        stdout=log_file,
                        stderr=subprocess.STDOUT,
                        process_group=0,
                    )
                )
            logs.append(log_path)

        def text(i):
            return logs[i].read_text(errors="replace")

        deadline = time.monotonic() + 60
        while not (
            any("Beat lease taken" in text(i) for i in (0, 1))
            and any("stands by" in text(i) for i in (0, 1))
        ):
            if time.monotonic() > deadline or any(b.poll() is not None for b in beats):
                pytest.fail(f"the beats did not start:\n{text(0)}\n---\n{text(1)}")
            time.sleep(0.2)
        holder = 0 if "Beat lease taken" in text(0) else 1
        standby = 1 - holder

        # Both run for a while: the entry goes out once a second, not twice.
        start = _sent(client, queue, task)
        time.sleep(8)
        sent = _sent(client, queue, task) - start
        assert 5 <= sent <= 10, f"{sent} sends in 8 s:\n{text(0)}\n---\n{text(1)}"
        assert "Sending due task beat rate check" not in text(standby)

        # The holder dies without releasing: the standby takes over after the lease (6 s).
        os.killpg(beats[holder].pid, 9)
        beats[holder].wait()
        deadline = time.monotonic() + 30
        while "Beat lease taken" not in text(standby):
            assert time.monotonic() < deadline, f"no takeover:\n{text(standby)}"
            time.sleep(0.2)
        start = _sent(client, queue, task)
        time.sleep(4)
        assert 2 <= _sent(client, queue, task) - start <= 6
    finally:
        for beat in beats:
            _stop_process_group(beat)
        _forget_redis_queue(queue)
