"""Celery tasks of the training app: thin wrappers around services."""

from celery import shared_task

from training import services


@shared_task(name="training.remind_expiring_certificates", ignore_result=True)
def remind_expiring_certificates() -> int:
    """Remind holders of certificates expiring within 30 days (once per certificate)."""
    return services.remind_expiring_certificates()


# --- onboarding -------------------------------------------------------------------------------

#: Accounts per batch of the hourly checklist sweep (one set of queries per batch).
CHECKLIST_BATCH = 500


@shared_task(name="training.refresh_checklists", ignore_result=True)
def refresh_checklists(batch_size: int = CHECKLIST_BATCH) -> int:
    """Give every account its checklist and tick the automatic steps the system sees done, for
    the accounts with open automatic items, in batches of account ids (keyset by pk)."""
    from partners.models import PartnerAccount
    from training.checklists import AUTOMATIC_CHECKS
    from training.models import ChecklistItem

    ticked, last = 0, 0
    while True:
        batch = list(
            PartnerAccount.objects.filter(pk__gt=last)
            .order_by("pk")
            .values_list("pk", flat=True)[:batch_size]
        )
        if not batch:
            return ticked
        last = batch[-1]
        services.ensure_checklists(batch)
        open_accounts = set(
            ChecklistItem.objects.filter(
                account_id__in=batch, done_at__isnull=True, step__ticks_when__in=AUTOMATIC_CHECKS
            ).values_list("account_id", flat=True)
        )
        if open_accounts:
            ticked += services.refresh_automatic_steps(open_accounts)


@shared_task(name="training.deal_registered", ignore_result=True)
def deal_registered(account_id: int) -> int:
    """A registration of the account was submitted (enqueued by the deals app by name)."""
    return services.mark_deal_registered(account_id)


# --- enrolling other people -------------------------------------------------------------------


@shared_task(name="training.notify_enrolled", ignore_result=True)
def notify_enrolled(enrollment_ids: list[int]) -> int:
    """Tell the people a partner admin or manager enrolled (bell and email, once each)."""
    return services.notify_enrolled(enrollment_ids)
