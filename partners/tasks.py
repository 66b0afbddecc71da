"""Celery tasks of the partners app: thin wrappers that load by id and send one email."""

from celery import shared_task
from django.conf import settings
from django.contrib.auth import get_user_model
from django.urls import reverse
from django.utils import timezone

from partners.models import AuditEntry, Invitation
from prm.mail import send_once
from prm.notifications import notify


@shared_task(name="partners.send_invitation", ignore_result=True)
def send_invitation(invitation_id: int, token: str) -> bool:
    invitation = (
        Invitation.objects.select_related("contact__account", "invited_by")
        .filter(pk=invitation_id)
        .first()
    )
    if invitation is None or invitation.state != "open":
        return False
    sent = send_once(
        f"invitation:{invitation.pk}",
        to=[invitation.email],
        template_prefix="partners/email/invitation",
        context={
            "contact": invitation.contact,
            "invited_by": invitation.invited_by,
            "accept_url": settings.PRM_BASE_URL
            + reverse("partners:invitation_accept", args=[token]),
            "expires_at": invitation.expires_at,
        },
    )
    Invitation.objects.filter(pk=invitation.pk, sent_at__isnull=True).update(sent_at=timezone.now())
    return sent


@shared_task(name="partners.notify_account_status_change", ignore_result=True)
def notify_account_status_change(audit_entry_id: int) -> bool:
    """Tell the account's manager (or, with none assigned, the admins) that its status changed."""
    entry = (
        AuditEntry.objects.select_related("account__manager", "actor")
        .filter(pk=audit_entry_id)
        .first()
    )
    if entry is None:
        return False
    account = entry.account
    if account.manager_id and account.manager.is_active:
        recipients = [account.manager]
    else:
        recipients = list(
            get_user_model().objects.filter(is_superuser=True, is_active=True).order_by("pk")
        )
    old_label, new_label = entry.changes.get("status", ["", account.get_status_display()])
    context = {
        "account": account,
        "old_status_label": old_label,
        "new_status_label": new_label,
        "actor": entry.actor,
        "account_url": settings.PRM_BASE_URL + reverse("partners:partner", args=[account.pk]),
        "blocked": account.is_blocked,
    }
    # Through the bell: each person's own email (or digest entry, or nothing) as they chose.
    return bool(
        notify(
            f"account-status:{entry.pk}",
            recipients,
            title=f"{account.name} is now {new_label.lower()}",
            url=reverse("partners:partner", args=[account.pk]),
            email_template="partners/email/account_status",
            context=context,
            topic="partners.account_status",
        )
    )
