"""Celery tasks of the deals app: thin wrappers around services and notifications."""

from celery import shared_task
from django.conf import settings
from django.urls import reverse

from deals import services
from deals.models import LeadEvent
from partners.models import Contact, PortalAccess
from prm.mail import send_once

RETRY = {"autoretry_for": (OSError,), "retry_backoff": True, "max_retries": 5}


@shared_task(name="deals.return_overdue_leads", ignore_result=True)
def return_overdue_leads() -> int:
    return services.return_overdue_leads()


def _event(event_id):
    return (
        LeadEvent.objects.select_related("lead", "account__manager", "actor")
        .filter(pk=event_id)
        .first()
    )


@shared_task(name="deals.notify_lead_assigned", ignore_result=True, **RETRY)
def notify_lead_assigned(event_id: int) -> bool:
    """Tell the partner admins of the account that a lead is waiting for them."""
    event = _event(event_id)
    if event is None or event.account is None:
        return False
    recipients = list(
        Contact.objects.filter(
            account=event.account, portal_access=PortalAccess.ADMIN, user__is_active=True
        ).values_list("user__email", flat=True)
    )
    return send_once(
        f"lead-assigned:{event.pk}",
        to=recipients,
        template_prefix="deals/email/lead_assigned",
        context={
            "lead": event.lead,
            "account": event.account,
            "lead_url": settings.PRM_BASE_URL + reverse("deals:lead", args=[event.lead_id]),
        },
    )


@shared_task(name="deals.notify_lead_returned", ignore_result=True, **RETRY)
def notify_lead_returned(event_id: int) -> bool:
    """Tell the account's manager that their partner turned a lead down."""
    event = _event(event_id)
    if event is None or event.account is None or event.account.manager is None:
        return False
    return send_once(
        f"lead-returned:{event.pk}",
        to=[event.account.manager.email],
        template_prefix="deals/email/lead_returned",
        context={
            "lead": event.lead,
            "account": event.account,
            "reason": event.reason,
            "lead_url": settings.PRM_BASE_URL + reverse("deals:lead", args=[event.lead_id]),
        },
    )
