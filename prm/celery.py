"""The one Celery app, configured from Django settings (namespace CELERY).

Every task (``@shared_task`` included: it is created from the app's ``Task``, which derives from
``task_cls``) is a ``PrmTask``: it retries transient failures (database, network, mail server,
broker) with exponential back-off and jitter, and only those. A task that fails for good (a
permanent error, or its retries spent) is recorded in ``prm.models.FailedTask`` for the admins,
who can re-run it from the admin.
"""

from __future__ import annotations

import json
import logging
import os

from celery import Celery, Task
from celery.signals import task_failure, task_postrun, task_prerun
from django.db import InterfaceError as DatabaseInterfaceError
from django.db import OperationalError as DatabaseOperationalError
from kombu.exceptions import OperationalError as BrokerOperationalError
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "prm.settings")

log = logging.getLogger(__name__)

#: Failures that go away by themselves: a database restarting or dropping the connection, the
#: mail server or the network refusing or timing out (``OSError`` covers ``smtplib``'s errors,
#: ``socket`` errors, ``ConnectionError`` and ``TimeoutError``), Redis or the broker unreachable.
TRANSIENT_ERRORS: tuple[type[BaseException], ...] = (
    DatabaseOperationalError,
    DatabaseInterfaceError,
    OSError,
    RedisConnectionError,
    RedisTimeoutError,
    BrokerOperationalError,
)
#: ``OSError``s that are not transient: a missing or unreadable file stays missing.
PERMANENT_OS_ERRORS: tuple[type[BaseException], ...] = (
    FileNotFoundError,
    IsADirectoryError,
    NotADirectoryError,
    PermissionError,
)


class PrmTask(Task):
    """The base of every task: retries transient failures only, backing off exponentially
    (1 s, 2 s, 4 s, ... at most ``retry_backoff_max``, with full jitter) up to ``max_retries``
    times. Anything else fails at once (a bug is not fixed by running it again)."""

    autoretry_for = TRANSIENT_ERRORS
    dont_autoretry_for = PERMANENT_OS_ERRORS
    retry_backoff = True
    retry_backoff_max = 600
    retry_jitter = True
    max_retries = 5


app = Celery("prm", task_cls=PrmTask)
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


@task_prerun.connect
@task_postrun.connect
def _close_stale_connections(task=None, **kwargs):
    # Workers live for days: never reuse a connection the database has already dropped.
    # A task run inline (eager, in tests) shares its caller's connection and transaction.
    if task is not None and task.request.is_eager:
        return
    from django.db import close_old_connections

    close_old_connections()


def _as_json(value):
    """``value`` as stored in a JSONField (tasks are sent as JSON, so this is normally a no-op;
    anything else is kept as its text rather than failing the record)."""
    return json.loads(json.dumps(value, default=str))


@task_failure.connect
def record_failed_task(
    sender=None, task_id=None, exception=None, args=None, kwargs=None, einfo=None, **extra
):
    """Keep a task that failed for good for the admins (once per task id).

    Celery sends ``task_failure`` only for the final failure: a retry is a ``task_retry``.
    Recording must never break the worker: any error here is logged and swallowed.
    """
    name = getattr(sender, "name", None) or "?"
    try:
        from django.db import close_old_connections, transaction

        from prm.models import FailedTask

        request = getattr(sender, "request", None)
        if (
            not getattr(request, "is_eager", False)
            and not transaction.get_connection().in_atomic_block
        ):
            close_old_connections()  # the failure may have been the database going away
        # A worker process hands over an exception that can't be pickled wrapped: name the
        # original class, not the wrapper.
        module = getattr(exception, "exc_module", None) or type(exception).__module__
        exc_name = getattr(exception, "exc_cls_name", None) or type(exception).__qualname__
        if module != "builtins":
            exc_name = f"{module}.{exc_name}"
        with transaction.atomic():
            FailedTask.objects.get_or_create(
                task_id=str(task_id),
                defaults={
                    "task_name": name[:200],
                    "args": _as_json(list(args or ())),
                    "kwargs": _as_json(dict(kwargs or {})),
                    "exception": exc_name[:200],
                    "message": str(exception),
                    "traceback": str(getattr(einfo, "traceback", "") or ""),
                    "retries": int(getattr(request, "retries", 0) or 0),
                },
            )
    except Exception:  # noqa: BLE001 - the worker must go on whatever happens here
        log.exception("Could not record the failure of %s[%s]", name, task_id)
