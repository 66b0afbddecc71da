"""Enqueueing that never hangs a request and never loses work, and the outbox's resender."""

from __future__ import annotations

import logging

from celery import shared_task
from django.db import transaction

from prm.models import PendingTask

log = logging.getLogger(__name__)


def enqueue(task, *args, **kwargs) -> None:
    """Send ``task`` (a task, or a task's name: how an app reaches an app it must not import)
    to the workers once the current transaction commits.

    If the broker is unreachable the call is stored in ``PendingTask`` (a fast failure, thanks to
    the short broker timeouts in settings) and ``resend_pending_tasks`` sends it later.
    """
    name = task if isinstance(task, str) else task.name
    transaction.on_commit(lambda: _publish(name, list(args), kwargs))


def _task_named(app, task_name: str):
    """The registered task; a task sent by name from an app that does not import the other
    one's ``tasks`` module is found once every app's tasks are imported (autodiscovery)."""
    if task_name not in app.tasks:
        app.loader.import_default_modules()
    return app.tasks[task_name]


def _publish(task_name: str, args: list, kwargs: dict) -> bool:
    from prm.celery import app

    try:
        _task_named(app, task_name).apply_async(args=args, kwargs=kwargs)
    except Exception as exc:  # noqa: BLE001 - any broker failure must keep the work
        if app.conf.task_always_eager:
            raise
        log.warning("Broker refused %s (%s); kept in the outbox", task_name, exc)
        PendingTask.objects.create(task_name=task_name, args=args, kwargs=kwargs, error=str(exc))
        return False
    return True


@shared_task(name="prm.resend_pending_tasks", ignore_result=True)
def resend_pending_tasks(batch_size: int = 200, ids: list[int] | None = None) -> int:
    """Re-send tasks kept while the broker was down (or just ``ids``); oldest first, in batches."""
    sent = 0
    waiting = PendingTask.objects.order_by("created_at", "pk")
    if ids is not None:
        waiting = waiting.filter(pk__in=ids)
    for pending in waiting[:batch_size]:
        with transaction.atomic():
            locked = PendingTask.objects.select_for_update(skip_locked=True).filter(pk=pending.pk)
            if not locked.exists():
                continue
            from prm.celery import app

            try:
                app.send_task(pending.task_name, args=pending.args, kwargs=pending.kwargs)
            except Exception as exc:  # noqa: BLE001
                locked.update(attempts=pending.attempts + 1, error=str(exc))
                break
            locked.delete()
            sent += 1
    return sent
