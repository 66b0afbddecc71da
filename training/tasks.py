"""Celery tasks of the training app: thin wrappers around services."""

from celery import shared_task

from training import services


@shared_task(name="training.remind_expiring_certificates", ignore_result=True)
def remind_expiring_certificates() -> int:
    """Remind holders of certificates expiring within 30 days (once per certificate)."""
    return services.remind_expiring_certificates()
