"""Enqueueing that never hangs a request and never loses work: a transactional outbox.

``enqueue()`` writes a ``PendingTask`` row in the caller's transaction, so the work commits (or
rolls back) with the data it is about. After the commit the task is published and its row
deleted. If the broker refuses (or a recent failure opened the circuit breaker, see
``prm.cache.CircuitBreaker``) the row stays, with the error, and ``resend_pending_tasks`` (beat,
every minute) publishes it later; a process killed between the commit and the publish leaves its
row too, which the resender takes after a short grace. Tasks are idempotent, so the rare double
publish (killed after publishing, before deleting the row) is harmless.
"""

from __future__ import annotations

import logging
from datetime import timedelta

from celery import shared_task
from django.db import transaction
from django.utils import timezone

from prm.cache import CircuitBreaker
from prm.models import PendingTask

log = logging.getLogger(__name__)

#: After a broker failure, publishing is skipped (rows go straight to the outbox) this long.
BROKER_BREAKER_SECONDS = 10
#: A row never tried (attempts 0) is left alone this long: its on-commit publisher may be on it.
OUTBOX_GRACE = timedelta(seconds=30)

broker_breaker = CircuitBreaker("Celery broker", BROKER_BREAKER_SECONDS)


def enqueue(task, *args, **kwargs) -> None:
    """Send ``task`` (a task, or a task's name: how an app reaches an app it must not import)
    to the workers once the current transaction commits.

    The call is stored in ``PendingTask`` now (one INSERT in the caller's transaction) and
    published, and the row deleted, on commit; if the broker is unreachable the row is kept and
    ``resend_pending_tasks`` sends it later.
    """
    name = task if isinstance(task, str) else task.name
    pending = PendingTask.objects.create(task_name=name, args=list(args), kwargs=kwargs, attempts=0)
    transaction.on_commit(lambda: _publish(pending))


def _task_named(app, task_name: str):
    """The registered task; a task sent by name from an app that does not import the other
    one's ``tasks`` module is found once every app's tasks are imported (autodiscovery)."""
    if task_name not in app.tasks:
        app.loader.import_default_modules()
    return app.tasks[task_name]


def _publish(pending: PendingTask) -> bool:
    """Publish the committed ``pending`` call and delete its row; on failure keep the row."""
    from prm.celery import app

    rows = PendingTask.objects.filter(pk=pending.pk)
    if app.conf.task_always_eager:
        # Tests: the "publish" runs the task inline, and its failure is the task's, not the
        # broker's; the row goes first so that a failing task leaves no outbox behind.
        rows.delete()
        _task_named(app, pending.task_name).apply_async(args=pending.args, kwargs=pending.kwargs)
        return True
    if broker_breaker.is_open:
        rows.update(attempts=1, error="not sent: the broker failed moments ago")
        return False
    try:
        _task_named(app, pending.task_name).apply_async(args=pending.args, kwargs=pending.kwargs)
    except Exception as exc:  # noqa: BLE001 - any broker failure must keep the work
        broker_breaker.trip(exc)
        log.warning("Broker refused %s (%s); kept in the outbox", pending.task_name, exc)
        rows.update(attempts=1, error=str(exc)[:2000])
        return False
    rows.delete()
    return True


@shared_task(name="prm.resend_pending_tasks", ignore_result=True)
def resend_pending_tasks(batch_size: int = 200, ids: list[int] | None = None) -> int:
    """Re-send the outbox, oldest first, in batches: rows whose publish failed at once, rows
    never tried (their process died after the commit) once ``OUTBOX_GRACE`` has passed, so that
    this does not race the on-commit publisher. ``ids`` (the admin's "re-send now") sends just
    those, without the grace: a rare double publish is harmless."""
    from django.db.models import F, Q

    from prm.celery import app

    waiting = PendingTask.objects.order_by("created_at", "pk")
    if ids is not None:
        waiting = waiting.filter(pk__in=ids)
    else:
        waiting = waiting.filter(
            Q(attempts__gt=0) | Q(created_at__lt=timezone.now() - OUTBOX_GRACE)
        )
    done: list[int] = []
    with transaction.atomic():
        # One query locks the batch (a concurrent resender skips these rows), one deletes what
        # was sent; a broker failure stops the batch and keeps the rest for the next run.
        for pending in waiting.select_for_update(skip_locked=True)[:batch_size]:
            try:
                app.send_task(pending.task_name, args=pending.args, kwargs=pending.kwargs)
            except Exception as exc:  # noqa: BLE001
                PendingTask.objects.filter(pk=pending.pk).update(
                    attempts=F("attempts") + 1, error=str(exc)[:2000]
                )
                break
            done.append(pending.pk)
        PendingTask.objects.filter(pk__in=done).delete()
    if done:
        broker_breaker.reset()
    return len(done)


@shared_task(name="prm.send_digests", ignore_result=True)
def send_digests() -> int:
    """Hourly: today's daily digest emails, once the digest hour has come (``prm.digest``)."""
    from prm.digest import send_digests as send

    return send()


@shared_task(name="prm.send_email", ignore_result=True)
def send_email(
    key: str, to: list[str], subject: str, text: str, html: str, headers: dict | None = None
) -> bool:
    """Send an email rendered in the request (allauth's account emails), once per ``key``: the
    request enqueues it instead of waiting on the mail server."""
    from django.conf import settings
    from django.core.mail import EmailMultiAlternatives

    from prm.mail import deliver_once

    message = EmailMultiAlternatives(
        subject, text, settings.DEFAULT_FROM_EMAIL, to, headers=headers or {}
    )
    message.attach_alternative(html, "text/html")
    return deliver_once(key, message)
