"""Celery tasks of the deals app: thin wrappers around services and notifications."""

from collections import defaultdict

from celery import shared_task
from django.conf import settings
from django.urls import reverse
from django.utils import timezone
from django.utils.formats import date_format

from deals import services
from deals.models import LeadEvent, LeadStatus
from deals.topics import registration_topic
from partners.models import Contact, PortalAccess
from prm.notifications import notify


@shared_task(name="deals.return_overdue_leads", ignore_result=True)
def return_overdue_leads() -> int:
    return services.return_overdue_leads()


def _lead_events(event_ids) -> list[LeadEvent]:
    return list(
        LeadEvent.objects.select_related("lead__account", "account__manager")
        .filter(pk__in=list(event_ids))
        .order_by("pk")
    )


def _lead_context(event: LeadEvent) -> tuple[str, dict]:
    """The lead's page (a site path for the bell) and what the lead emails show."""
    url = reverse("deals:lead", args=[event.lead_id])
    context = {"lead": event.lead, "account": event.account, "reason": event.reason}
    return url, {**context, "lead_url": settings.PRM_BASE_URL + url}


@shared_task(name="deals.notify_leads_assigned", ignore_result=True)
def notify_leads_assigned(event_ids: list[int]) -> int:
    """Tell each account's partner admins that a lead is waiting for them (bell and email, once
    per assignment). Returns how many bell entries were new."""
    events = [event for event in _lead_events(event_ids) if event.account_id]
    admins = defaultdict(list)
    for contact in Contact.objects.filter(
        account_id__in={event.account_id for event in events},
        portal_access=PortalAccess.ADMIN,
        user__is_active=True,
    ).select_related("user"):
        admins[contact.account_id].append(contact.user)
    created = 0
    for event in events:
        lead, account = event.lead, event.account
        url, context = _lead_context(event)
        body = ""
        if lead.status == LeadStatus.ASSIGNED and lead.account_id == account.pk and lead.accept_by:
            deadline = date_format(timezone.localtime(lead.accept_by), "j M Y, H:i T")
            body = f"Accept or reject it by {deadline}; after that it goes back to the pool."
        created += notify(
            f"lead-assigned:{event.pk}",
            admins[account.pk],
            title=f"New lead for {account.name}: {lead.company}",
            url=url,
            body=body,
            email_template="deals/email/lead_assigned",
            context=context,
            topic="leads.assigned",
        )
    return created


@shared_task(name="deals.notify_leads_returned", ignore_result=True)
def notify_leads_returned(event_ids: list[int]) -> int:
    """Tell each account's partner manager that their partner turned a lead down or let it
    lapse, and where the lead is now (bell and email, once per return)."""
    created = 0
    for event in _lead_events(event_ids):
        account = event.account
        if account is None or account.manager is None:
            continue
        lead = event.lead
        lapsed = event.to_status == LeadStatus.NEW  # the SLA return; a rejection is "rejected"
        rerouted = lead.status == LeadStatus.ASSIGNED and lead.account_id != account.pk
        if lapsed:
            title = f"{account.name} did not accept {lead.company} in time"
        else:
            title = f"{account.name} turned down {lead.company}"
        if rerouted:
            where = "The assignment rules offered it to another partner."
        else:
            where = "It is back in the pool, ready for another partner."
        body = where if lapsed else f"Their reason: {event.reason} {where}"
        url, context = _lead_context(event)
        # Sent on to a partner of another manager, the lead is no longer theirs to open.
        if rerouted and lead.account.manager_id != account.manager_id:
            url, context["lead_url"] = "", ""
        created += notify(
            f"lead-returned:{event.pk}",
            [account.manager],
            title=title,
            url=url,
            body=body,
            email_template="deals/email/lead_returned",
            topic="leads.returned",
            context={**context, "lapsed": lapsed, "rerouted": rerouted},
        )
    return created


# --- registrations ------------------------------------------------------------------------------


@shared_task(name="deals.expire_registrations", ignore_result=True)
def expire_registrations() -> int:
    return services.expire_registrations()


@shared_task(name="deals.warn_expiring_registrations", ignore_result=True)
def warn_expiring_registrations() -> int:
    return services.warn_expiring_registrations()


def _registration_url(registration_id: int) -> str:
    from django.urls import NoReverseMatch

    try:
        return reverse("deals:registration", args=[registration_id])
    except NoReverseMatch:
        return ""


def _registration_message(event, kind: str) -> tuple[str, str]:
    """(title, body) of a registration notification; what partners read names no other partner."""
    from django.utils.dateformat import format as format_date

    registration = event.registration
    company, reason = registration.company, event.reason
    if kind == "submitted":
        body = (
            f"{registration.account} registered {company} ({registration.product_family}, "
            f"{registration.amount} {registration.currency})."
        )
        if registration.conflict:
            body += " Possible conflict: compare the matching records before deciding."
        return f"Registration submitted: {company}", body
    if kind == "approved":
        until = format_date(registration.expires_on, "j F Y")
        body = f"{company} is protected for you until {until}." + (f" {reason}" if reason else "")
        return f"Registration approved: {company}", body
    if kind == "rejected":
        return f"Registration rejected: {company}", f"Reason: {reason}"
    if kind == "returned":
        return (
            f"Registration returned: {company}",
            f"Your manager asks for more information: {reason}. Change it and submit it again.",
        )
    if kind == "expired":
        return f"Registration expired: {company}", f"{reason}. The customer is open again."
    if kind == "expiring":
        return f"Registration expiring soon: {company}", reason
    if kind == "extension_requested":
        return f"Extension requested: {company}", f"{registration.account}: {reason}"
    return f"Extension decided: {company}", reason


#: Registration steps the partner is told about: the submitter and the account's partner admins.
PARTNER_REGISTRATION_KINDS = frozenset(
    {"approved", "rejected", "returned", "expired", "expiring", "extension_decided"}
)
#: Registration steps the vendor is told about: the account's manager (or, with none, the admins).
VENDOR_REGISTRATION_KINDS = frozenset({"submitted", "extension_requested"})


@shared_task(name="deals.notify_registration", ignore_result=True)
def notify_registration(event_id: int, kind: str = "") -> int:
    """Tell the right people about a registration's step: its manager (or, with none, the
    admins) when it is submitted or an extension is asked for; the person who registered it and
    the account's partner admins when it is decided, expiring or expired. Once per event."""
    return _notify_registration_events([event_id], kind)


@shared_task(name="deals.notify_registrations", ignore_result=True)
def notify_registrations(event_ids: list[int], kind: str = "") -> int:
    """``notify_registration`` for a batch of events (the expiry and warning runs): each event
    once, under its own key, so that a re-run tells nobody twice. Returns the new bell entries."""
    return _notify_registration_events(event_ids, kind)


def _notify_registration_events(event_ids, kind: str = "") -> int:
    """Notify each event of ``event_ids`` (``kind``, or each event's new status): three queries
    load what all of them need (the events with their registrations and accounts, the portal
    users of the accounts, the admins when a manager is missing), then one bell and email each."""
    from django.contrib.auth import get_user_model

    from deals.models import RegistrationEvent

    events = list(
        RegistrationEvent.objects.select_related(
            "registration__account__manager", "registration__created_by"
        )
        .filter(pk__in=list(event_ids))
        .order_by("pk")
    )
    kinds = {event.pk: kind or event.to_status for event in events}
    # The partner admins, and the submitter while still a portal user of this account (one who
    # moved to another partner must not read about it); nobody at a blocked account.
    told_accounts = {
        event.registration.account_id
        for event in events
        if kinds[event.pk] in PARTNER_REGISTRATION_KINDS
        and not event.registration.account.is_blocked
    }
    portal_users = defaultdict(list)
    if told_accounts:
        contacts = Contact.objects.filter(
            account_id__in=told_accounts,
            portal_access__in=(PortalAccess.ADMIN, PortalAccess.MEMBER),
            user__is_active=True,
        ).select_related("user")
        for contact in contacts.order_by("pk"):
            portal_users[contact.account_id].append(contact)
    admins = None
    created = 0
    for event in events:
        registration = event.registration
        account = registration.account
        event_kind = kinds[event.pk]
        if event_kind in VENDOR_REGISTRATION_KINDS:
            manager = account.manager
            if manager is not None and manager.is_active:
                recipients = [manager]
            else:
                if admins is None:
                    admins = list(
                        get_user_model().objects.filter(is_active=True, is_superuser=True)
                    )
                recipients = admins
        elif event_kind in PARTNER_REGISTRATION_KINDS:
            if account.is_blocked:
                continue
            recipients = [
                contact.user
                for contact in portal_users[account.pk]
                if contact.portal_access == PortalAccess.ADMIN
                or contact.user_id == registration.created_by_id
            ]
        else:
            continue
        key = f"registration-{event_kind}:{event.pk}"
        if event_kind == "expiring":
            key = f"registration-expiring:{registration.pk}:{registration.expires_on}"
        title, body = _registration_message(event, event_kind)
        created += notify(
            key,
            recipients,
            title=title,
            body=body,
            url=_registration_url(registration.pk),
            topic=registration_topic(event_kind),
        )
    return created
