"""Suite-wide test setup, in sections:

1. Environment: which services this run has, and the CI rule (``CI=true``: PostgreSQL and Redis
   are required, a missing one fails the session instead of silently testing less).
2. Markers: ``services`` and ``browser`` tests skip on a bare laptop and fail on CI.
3. Database: transactional tests restore the reference data the migrations create.
4. Celery: tasks run eagerly in-process, unless a test asks for ``live_worker``.
5. Cache: emptied before every test (allauth's login rate limits live there).

Add new shared fixtures to the section they belong to (or a new numbered one); test data
builders go in ``prm.testing``, not here.
"""

from __future__ import annotations

import contextlib
import email
import email.message
import email.policy
import functools
import importlib.util
import os
import re
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest

# Shared fixtures: the two-company world, personas, login helpers, fast password hashing.
pytest_plugins = ["prm.testing.fixtures"]

ROOT = Path(__file__).resolve().parent.parent
ON_CI = os.environ.get("CI", "").strip().lower() in {"1", "true", "yes"}
CHROMIUM = Path("/usr/bin/chromium")


# --- 1. environment -------------------------------------------------------------------------


def database_engine() -> str:
    from django.conf import settings

    return settings.DATABASES["default"]["ENGINE"]


@functools.cache
def redis_problem() -> str | None:
    """Why Redis can't be used (None when REDIS_URL is set and answers a ping within 2 s)."""
    url = os.environ.get("REDIS_URL", "")
    if not url:
        return "REDIS_URL is not set"
    import redis

    try:
        redis.Redis.from_url(url, socket_connect_timeout=2, socket_timeout=2).ping()
    except Exception as exc:  # noqa: BLE001 - any failure means "not usable"
        return f"Redis at {url} does not answer ({exc})"
    return None


@functools.cache
def services_problem() -> str | None:
    """Why ``services`` tests can't run here: they need Redis and a server database."""
    problems = []
    if "sqlite" in database_engine():
        problems.append("DATABASE_URL is not a server database (SQLite in use)")
    if redis_problem():
        problems.append(redis_problem())
    return "; ".join(problems) or None


@functools.cache
def browser_problem() -> str | None:
    problems = []
    if not CHROMIUM.exists():
        problems.append(f"{CHROMIUM} is missing (apt-get install chromium)")
    if importlib.util.find_spec("playwright") is None:
        problems.append("playwright is not installed")
    return "; ".join(problems) or None


def pytest_report_header(config):
    return [
        f"openprm: database {database_engine()}, "
        f"redis {'ok' if not redis_problem() else 'unavailable'}, "
        f"browser {'ok' if not browser_problem() else 'unavailable'}, CI={ON_CI}"
    ]


def postgres_problem() -> str | None:
    """Why pytest-django could not create the test database on this PostgreSQL server."""
    import psycopg
    from django.conf import settings

    db = settings.DATABASES["default"]
    try:
        with psycopg.connect(
            dbname="postgres",
            user=db.get("USER") or None,
            password=db.get("PASSWORD") or None,
            host=db.get("HOST") or None,
            port=db.get("PORT") or None,
            connect_timeout=5,
        ) as conn:
            row = conn.execute(
                "SELECT rolsuper OR rolcreatedb FROM pg_roles WHERE rolname = current_user"
            ).fetchone()
    except psycopg.Error as exc:
        return f"PostgreSQL does not answer ({exc})".strip()
    if not (row and row[0]):
        return f"database user {db.get('USER')!r} may not create the test database"
    return None


def pytest_sessionstart(session):
    """On CI the suite runs against what production runs; anything less is an error."""
    if not ON_CI:
        return
    problems = []
    if "postgresql" not in database_engine():
        problems.append("DATABASE_URL must point at PostgreSQL")
    elif postgres_problem():
        problems.append(postgres_problem())
    if redis_problem():
        problems.append(redis_problem())
    if problems:
        pytest.exit("CI=true but " + "; ".join(problems), returncode=1)


# --- 2. markers -----------------------------------------------------------------------------


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_setup(item):
    """Decide before any fixture (and the test database) is set up."""
    for marker, problem in (("services", services_problem), ("browser", browser_problem)):
        if item.get_closest_marker(marker) is None:
            continue
        reason = problem()
        if reason is None:
            continue
        if ON_CI:
            pytest.fail(f"'{marker}' test cannot run on CI: {reason}", pytrace=False)
        pytest.skip(f"needs {marker}: {reason}")


# --- 3. database ----------------------------------------------------------------------------


def pytest_collection_modifyitems(config, items):
    """Transactional tests end with a flush of every table, which also removes the rows the
    migrations create (contact roles, groups, permissions). Serialized rollback puts them back
    before each transactional test, whatever order the tests run in."""
    for item in items:
        marker = item.get_closest_marker("django_db")
        if marker is None or marker.args or not marker.kwargs.get("transaction"):
            continue
        if "serialized_rollback" in marker.kwargs:
            continue
        item.add_marker(
            pytest.mark.django_db(**marker.kwargs, serialized_rollback=True), append=False
        )


def database_url(settings_dict: dict) -> str:
    """A DATABASE_URL for another process to reach the same (test) database."""
    if "postgresql" not in settings_dict["ENGINE"]:
        raise ValueError(f"not PostgreSQL: {settings_dict['ENGINE']}")
    credentials = quote(settings_dict.get("USER") or "", safe="")
    if settings_dict.get("PASSWORD"):
        credentials += ":" + quote(settings_dict["PASSWORD"], safe="")
    host = settings_dict.get("HOST") or ""
    port = f":{settings_dict['PORT']}" if settings_dict.get("PORT") else ""
    at = "@" if credentials else ""
    return f"postgres://{credentials}{at}{host}{port}/{quote(settings_dict['NAME'], safe='')}"


# --- 4. Celery ------------------------------------------------------------------------------


@pytest.fixture(autouse=True, scope="session")
def celery_eager():
    """Tasks run inline, in this process. ``prm.tasks.enqueue`` still waits for the commit, so a
    test that needs the task to run wraps the call in
    ``django_capture_on_commit_callbacks(execute=True)``."""
    from prm.celery import app

    saved = app.conf.task_always_eager, app.conf.task_eager_propagates
    app.conf.task_always_eager = True
    app.conf.task_eager_propagates = True
    yield app
    app.conf.task_always_eager, app.conf.task_eager_propagates = saved


@pytest.fixture(autouse=True)
def broker_breaker_closed():
    """A test that makes the broker fail opens ``prm.tasks``' circuit breaker (publishing is
    skipped for a few seconds); the next test starts with it closed."""
    from prm.tasks import broker_breaker

    broker_breaker.reset()
    yield
    broker_breaker.reset()


@dataclass
class LiveWorker:
    process: subprocess.Popen
    queue: str
    log_path: Path

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def emails(self) -> list[email.message.EmailMessage]:
        """The emails the worker printed to its log (console backend), oldest first. Celery logs
        what a task prints: a message starts after a log prefix and ends with a line of dashes."""
        printed = re.finditer(
            r"^(?:\[[^\]\n]*\] )?(Content-Type: .*?)\n(?:\[[^\]\n]*\] )?-{79}$",
            self.log(),
            re.MULTILINE | re.DOTALL,
        )
        return [
            email.message_from_string(match[1], policy=email.policy.default) for match in printed
        ]

    def wait_for(self, what: str, condition: Callable[[], Any], timeout: float = 30) -> Any:
        """Poll ``condition`` until it returns something true, and return that; after
        ``timeout`` seconds the test fails with ``what`` and the worker's log."""
        deadline = time.monotonic() + timeout
        while not (result := condition()):
            if time.monotonic() > deadline:
                pytest.fail(f"the worker did not {what} in {timeout:g} s:\n{self.log()}")
            time.sleep(0.25)
        return result


def _stop_process_group(process: subprocess.Popen, timeout: float = 15) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGTERM)
    try:
        process.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)
        process.wait()


def _forget_redis_queue(queue: str) -> None:
    """Remove the queue's messages and bindings kombu left in Redis (keys naming the queue)."""
    import redis

    client = redis.Redis.from_url(os.environ["REDIS_URL"], socket_timeout=5)
    for key in client.scan_iter(match=f"*{queue}*"):
        client.delete(key)
    for key in client.scan_iter(match="_kombu.binding*"):
        kind = client.type(key)
        if kind == b"set":
            stale = [m for m in client.smembers(key) if queue.encode() in m]
            if stale:
                client.srem(key, *stale)
        elif kind == b"zset":
            stale = [m for m in client.zrange(key, 0, -1) if queue.encode() in m]
            if stale:
                client.zrem(key, *stale)


@pytest.fixture
def live_worker(start_worker):
    """A real ``celery worker`` process on the test database and Redis (``services`` tests).

    It consumes a queue of its own, and tasks sent from this process go to that queue, so no
    other worker on the same Redis (``dev.py run``, another test run) can take them and stale
    messages can't reach this one. It is also its own default queue (``CELERY_TASK_DEFAULT_QUEUE``),
    so the follow-up tasks it enqueues (notifications) come back to it and it runs them itself:
    a test waits for their effects. Emails are printed to its log (``.log()``).
    """
    return start_worker()


@pytest.fixture
def start_worker(transactional_db, tmp_path):
    """Start Celery workers on demand (``services`` tests that stop or kill one mid-task).

    ``start_worker(env={...}, module=...)`` starts a worker like ``live_worker``'s on one queue
    of this test (the same queue for every worker it starts, so a message one worker took is
    redelivered to the next), waits until it consumes and returns its ``LiveWorker``. ``module``
    replaces ``celery -A prm`` with ``python -m <module>`` (a test-only entry point that patches
    something and then runs the worker with the same arguments); ``pool="prefork"`` runs tasks
    in a child process, as production does (a solo worker blocked in a task acknowledges
    nothing, whatever ``acks_late`` says). Every worker it started is
    stopped, and the queue removed from Redis, at the end of the test.
    """
    from django.db import connection

    from prm.celery import app

    queue = f"openprm-test-{uuid.uuid4().hex[:12]}"
    started: list[LiveWorker] = []
    saved = app.conf.task_always_eager, app.conf.task_default_queue

    def start(
        *, env: dict | None = None, module: str | None = None, pool: str = "solo"
    ) -> LiveWorker:
        log_path = tmp_path / f"worker-{len(started) + 1}.log"
        arguments = [
            "worker",
            f"--pool={pool}",
            "--concurrency=1",
            "--loglevel=INFO",
            "-Q",
            queue,
            "-n",
            f"{queue}-{len(started) + 1}@localhost",
            "--without-heartbeat",
            "--without-gossip",
            "--without-mingle",
        ]
        command = (
            [sys.executable, "-m", module]
            if module
            else [sys.executable, "-m", "celery", "-A", "prm"]
        )
        full_env = {
            **os.environ,
            "DATABASE_URL": database_url(connection.settings_dict),
            "EMAIL_URL": "consolemail://",
            "CELERY_TASK_DEFAULT_QUEUE": queue,
            "PYTHONUNBUFFERED": "1",
            **(env or {}),
        }
        with log_path.open("wb") as log_file:
            process = subprocess.Popen(
                command + arguments,
                cwd=ROOT,
                env=full_env,
                stdout=log_file,
                stderr=subprocess.STDOUT,
                process_group=0,
            )
        worker = LiveWorker(process=process, queue=queue, log_path=log_path)
        started.append(worker)
        deadline = time.monotonic() + 60
        while " ready." not in worker.log():
            if process.poll() is not None or time.monotonic() > deadline:
                pytest.fail(f"the Celery worker did not start:\n{worker.log()}", pytrace=False)
            time.sleep(0.2)
        app.conf.task_always_eager = False
        app.conf.task_default_queue = queue
        return worker

    try:
        yield start
    finally:
        app.conf.task_always_eager, app.conf.task_default_queue = saved
        for worker in started:
            if worker.process.poll() is None:
                _stop_process_group(worker.process)
        _forget_redis_queue(queue)


# --- 5. cache -------------------------------------------------------------------------------


@pytest.fixture(autouse=True)
def clear_cache():
    """Every test starts with an empty cache: allauth's login rate limits are counted there.

    Django's ``RedisCache.clear()`` is FLUSHDB, which would also delete Celery's queued messages
    on the same Redis database (and those of a ``dev.py run`` sharing it): only the cache's own
    keys are deleted there.
    """
    from django.conf import settings
    from django.core.cache import caches
    from django.core.cache.backends.redis import RedisCache

    for alias in settings.CACHES:
        cache = caches[alias]
        if isinstance(cache, RedisCache):
            if redis_problem():
                continue  # nothing to clear; tests that use the cache report the problem
            client = cache._cache.get_client(write=True)
            keys = list(client.scan_iter(match=f"{cache.key_prefix}:*", count=1000))
            for start in range(0, len(keys), 1000):
                client.delete(*keys[start : start + 1000])
        else:
            cache.clear()
