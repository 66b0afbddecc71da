"""The one Celery app, configured from Django settings (namespace CELERY)."""

import os

from celery import Celery
from celery.signals import task_postrun, task_prerun

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "prm.settings")

app = Celery("prm")
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
