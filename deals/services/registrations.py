"""Deal registrations: draft, submit with conflict detection, return, approve, reject, withdraw,
expiry and its warning, extensions.

Each function takes the acting user, checks permission (PermissionDenied for someone who may see
the registration but not do this), writes in a transaction, records a ``RegistrationEvent``
(actor, from, to, reason) and enqueues notifications after commit. Field problems are raised as
``ValidationError({field: message})``.

What a partner reads (the registration's status and history) never names another partner: a
conflict shows as "Possible conflict — under review"; why records matched is in
``conflict_reasons``, which only the vendor reads.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime, timedelta
from decimal import Decimal

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, models, transaction
from django.utils import timezone
from django.utils.dateformat import format as format_date

from deals.models import (
    CLAIMING,
    EDITABLE,
    CustomerKey,
    DealRegistration,
    ExtensionRequest,
    ExtensionStatus,
    Opportunity,
    OpportunityStatus,
    Product,
    RegistrationEvent,
    RegistrationLine,
    RegistrationStatus,
)
from prm.access import Role, partner_contact, role_of, sees_everything
from prm.db import customer_lock
from prm.tasks import enqueue

__all__ = [
    "CONFLICT_NOTICE",
    "EXPIRY_WARNING_DAYS",
    "acts_for_partner",
    "approve_registration",
    "can_decide_registration",
    "can_edit_registration",
    "can_request_extension",
    "can_withdraw_registration",
    "decide_extension",
    "expire_registrations",
    "find_customer_matches",
    "reject_registration",
    "request_extension",
    "return_registration",
    "save_registration",
    "submit_registration",
    "warn_expiring_registrations",
    "withdraw_registration",
]

S = RegistrationStatus

#: What the partner (and their history) shows for a flagged registration: nothing about whom.
CONFLICT_NOTICE = "Possible conflict — under review"
#: How far ahead an approved registration's partner is told that the protection ends.
EXPIRY_WARNING_DAYS = 14
#: Events per notification task of the expiry and warning runs (one task tells a batch).
NOTIFY_BATCH_SIZE = 500
#: Protection when the partner has no tier.
DEFAULT_REGISTRATION_DAYS = 90
NOTES_MAX = 4000
WITHDRAWABLE = frozenset({S.DRAFT, S.SUBMITTED, S.RETURNED})
#: The fields a partner edits on a registration (all else is set by the services).
PARTNER_FIELDS = (
    "company",
    "domain",
    "contact_name",
    "contact_email",
    "contact_phone",
    "amount",
    "currency",
    "expected_close_date",
    "stage",
    "competitors",
    "notes",
    "shared_with_account",
    "custom",
)


def _day(value: date) -> str:
    return format_date(value, "j F Y")


# --- policies (pure: no queries beyond role_of / partner_contact / the registration's account) --


def acts_for_partner(user, registration: DealRegistration) -> bool:
    """The creator, or a partner admin, of the registration's own account (not a distributor
    above it, which only reads)."""
    role = role_of(user)
    if not role.is_partner or registration.account_id is None:
        return False
    contact = partner_contact(user)
    if contact is None or contact.account_id != registration.account_id:
        return False
    return role is Role.PARTNER_ADMIN or registration.created_by_id == user.pk


def can_edit_registration(user, registration: DealRegistration) -> bool:
    """May ``user`` change and (re)submit it now: its creator or a partner admin of its account,
    while it is a draft, returned or rejected."""
    return registration.status in EDITABLE and acts_for_partner(user, registration)


def can_request_extension(user, registration: DealRegistration) -> bool:
    return registration.status == S.APPROVED and acts_for_partner(user, registration)


def can_withdraw_registration(user, registration: DealRegistration) -> bool:
    return registration.status in WITHDRAWABLE and acts_for_partner(user, registration)


def can_decide_registration(user, registration: DealRegistration) -> bool:
    """Approve, reject, return, decide extensions: an admin, the account's assigned manager, or
    a manager holding the global view permission on registrations."""
    role = role_of(user)
    if role is Role.ADMIN:
        return True
    if role is not Role.MANAGER:
        return False
    return registration.account.manager_id == user.pk or sees_everything(user, DealRegistration)


# --- the customer-matching lookups ---------------------------------------------------------------


def _match_filter(key: CustomerKey) -> models.Q | None:
    """Indexed equality lookups that find every record ``key.match_reasons`` could accept."""
    q = models.Q()
    if key.domain:
        q |= models.Q(customer_domain=key.domain)
    if key.name:
        q |= models.Q(customer_name_key=key.name) | models.Q(customer_domain_label=key.name)
    if key.label:
        q |= models.Q(customer_name_key=key.label)
    return q or None


def find_customer_matches(key: CustomerKey, queryset: models.QuerySet) -> list[tuple]:
    """[(record, reasons)] of ``queryset`` that name the same customer as ``key``."""
    q = _match_filter(key)
    if q is None:
        return []
    matches = []
    for record in queryset.filter(q):
        reasons = key.match_reasons(record.customer_key)
        if reasons:
            matches.append((record, reasons))
    return matches


def claiming_registrations():
    return DealRegistration.objects.filter(status__in=CLAIMING)


def open_opportunities():
    return Opportunity.objects.filter(status=OpportunityStatus.OPEN)


def _conflicts_of(registration: DealRegistration) -> list[str]:
    """Lines for the manager: each other partner's record naming the same customer, and why."""
    key = registration.customer_key
    lines = []
    others = claiming_registrations().exclude(account_id=registration.account_id)
    for record, reasons in find_customer_matches(
        key, others.exclude(pk=registration.pk).select_related("account")
    ):
        lines.append(
            f"Registration #{record.pk} by {record.account} "
            f"({record.get_status_display().lower()}): {'; '.join(reasons)}"
        )
    opportunities = open_opportunities().exclude(account_id=registration.account_id)
    for record, reasons in find_customer_matches(key, opportunities.select_related("account")):
        lines.append(f"Open opportunity #{record.pk} of {record.account}: {'; '.join(reasons)}")
    return lines


# --- helpers ------------------------------------------------------------------------------------


def _event(registration, *, actor, from_status: str, reason: str = "") -> RegistrationEvent:
    return RegistrationEvent.objects.create(
        registration=registration,
        actor=actor if getattr(actor, "is_authenticated", False) else None,
        from_status=from_status,
        to_status=registration.status,
        reason=(reason or "")[:500],
    )


def _notify(event: RegistrationEvent, kind: str = "") -> None:
    from deals.tasks import notify_registration

    if kind:
        enqueue(notify_registration, event.pk, kind=kind)
    else:
        enqueue(notify_registration, event.pk)


def _notify_batches(events: list[RegistrationEvent], kind: str = "") -> None:
    """One notification task per ``NOTIFY_BATCH_SIZE`` events (each still told once)."""
    from deals.tasks import notify_registrations

    ids = [event.pk for event in events]
    for start in range(0, len(ids), NOTIFY_BATCH_SIZE):
        batch = ids[start : start + NOTIFY_BATCH_SIZE]
        if kind:
            enqueue(notify_registrations, batch, kind=kind)
        else:
            enqueue(notify_registrations, batch)


def _locked(registration: DealRegistration) -> DealRegistration:
    return (
        DealRegistration.objects.select_for_update(of=("self",))
        .select_related("account", "account__tier")
        .get(pk=registration.pk)
    )


def _required_reason(reason: str, message: str) -> str:
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError({"reason": message})
    if len(reason) > 500:
        raise ValidationError({"reason": "Keep the reason under 500 characters."})
    return reason


def _require_decider(actor, registration) -> None:
    if not can_decide_registration(actor, registration):
        raise PermissionDenied("Only the partner's manager or an admin decides registrations.")


def _require_partner(actor, registration) -> None:
    if not acts_for_partner(actor, registration):
        raise PermissionDenied(
            "Only the person who registered the deal or a partner admin of the company can do this."
        )


def _sync(target: DealRegistration, source: DealRegistration) -> DealRegistration:
    """Copy the saved state onto the caller's instance, so that it is current after the call."""
    for field in DealRegistration._meta.concrete_fields:
        setattr(target, field.attname, getattr(source, field.attname))
    return target


# --- draft, edit, submit, withdraw --------------------------------------------------------------


def _validate(registration: DealRegistration, lines) -> tuple[dict, list, str]:
    """Field errors, the checked lines and their product family."""
    errors: dict[str, list[str]] = {}

    def add(field, message):
        errors.setdefault(field, []).append(message)

    registration.set_customer_key()
    exclude = [
        "account",
        "created_by",
        "status",
        "product_family",
        "customer_name_key",
        "customer_domain",
        "customer_domain_label",
        "amount",
        "expected_close_date",
        "notes",
    ]
    try:
        registration.clean_fields(exclude=exclude)
    except ValidationError as exc:
        for field, messages in exc.message_dict.items():
            for message in messages:
                add(field, message)
    if "company" not in errors and not registration.customer_name_key:
        add("company", "Give the customer's company name.")

    amount = registration.amount
    if amount in (None, ""):
        add("amount", "Give the estimated amount.")
    else:
        try:
            amount = Decimal(str(amount))
        except ArithmeticError:
            add("amount", "Give the amount as a number.")
        else:
            if amount < 0:
                add("amount", "The amount can't be negative.")
            elif amount >= Decimal("1e12"):
                add("amount", "The amount is too large.")
            elif amount.as_tuple().exponent < -2:
                add("amount", "Give the amount with at most 2 decimals.")
            else:
                registration.amount = amount

    close = registration.expected_close_date
    if close is None:
        add("expected_close_date", "Give the expected close date.")
    elif not isinstance(close, date):
        add("expected_close_date", "Give a date.")
    elif isinstance(close, datetime):
        registration.expected_close_date = close.date()
        if close.date() < timezone.localdate():
            add("expected_close_date", "The expected close date can't be in the past.")
    elif close < timezone.localdate():
        add("expected_close_date", "The expected close date can't be in the past.")

    notes = registration.notes or ""
    if len(notes) > NOTES_MAX:
        add("notes", f"Keep the notes under {NOTES_MAX} characters (they have {len(notes)}).")

    checked, family = _validate_lines(lines, add)
    return errors, checked, family


def _validate_lines(lines, add) -> tuple[list, str]:
    lines = list(lines or ())
    if not lines:
        add("lines", "Add at least one product.")
        return [], ""
    ids = []
    for line in lines:
        try:
            product, quantity = line
        except (TypeError, ValueError):
            add("lines", "Each line needs a product and a quantity.")
            return [], ""
        if not isinstance(product, Product) or product.pk is None:
            add("lines", "Choose products from the catalogue.")
            return [], ""
        ids.append(product.pk)
        if not isinstance(quantity, int) or isinstance(quantity, bool) or quantity < 1:
            add("lines", f"The quantity of {product.name} must be a whole number of at least 1.")
    if len(set(ids)) != len(ids):
        add("lines", "List each product once.")
    known = Product.objects.in_bulk(ids)
    for product, _ in lines:
        current = known.get(product.pk)
        if current is None:
            add("lines", f"{product.name} is not in the catalogue.")
        elif not current.active:
            add("lines", f"{current.name} can no longer be registered.")
    families = []
    for product, _ in lines:
        current = known.get(product.pk)
        if current is not None and current.family not in families:
            families.append(current.family)
    if len(families) > 1:
        others = ", ".join(families[1:])
        add(
            "lines",
            f"A registration covers one product family: register {others} separately.",
        )
    checked = [(known[product.pk], quantity) for product, quantity in lines if product.pk in known]
    return checked, families[0] if families else ""


@transaction.atomic
def save_registration(
    *, actor, registration: DealRegistration, lines: Iterable[tuple[Product, int]]
) -> DealRegistration:
    """Create a draft (for the actor's own company) or change a draft, returned or rejected one.

    Replaces the product lines; all products must be of one family. Nothing is saved when a field
    is wrong (``ValidationError`` keyed by field, "lines" for the products).
    """
    creating = registration.pk is None
    if creating:
        contact = partner_contact(actor)
        if not role_of(actor).is_partner or contact is None:
            raise PermissionDenied("Only partner users register deals.")
        registration.account_id = contact.account_id
        registration.created_by = actor
        registration.status = S.DRAFT
        registration.conflict, registration.conflict_reasons = False, ""
        registration.submitted_at = registration.decided_at = None
        registration.decided_by, registration.decision_reason = None, ""
        registration.expires_on = None
    else:
        current = _locked(registration)
        _require_partner(actor, current)
        if current.status not in EDITABLE:
            raise ValidationError(
                f"A registration that is {current.get_status_display().lower()} can't be changed."
            )
        # Only what the partner edits comes from the caller; status, account… stay as saved.
        partner_attnames = {DealRegistration._meta.get_field(f).attname for f in PARTNER_FIELDS}
        for field in DealRegistration._meta.concrete_fields:
            if field.attname not in partner_attnames:
                setattr(registration, field.attname, getattr(current, field.attname))
    errors, checked, family = _validate(registration, lines)
    if errors:
        raise ValidationError(errors)
    registration.product_family = family
    if creating:
        registration.save()
        _event(registration, actor=actor, from_status="")
    else:
        registration.save(
            update_fields=[
                *PARTNER_FIELDS,
                "product_family",
                "customer_name_key",
                "customer_domain",
                "customer_domain_label",
                "updated_at",
            ]
        )
        registration.lines.all().delete()
    RegistrationLine.objects.bulk_create(
        RegistrationLine(registration=registration, product=product, quantity=quantity)
        for product, quantity in checked
    )
    return registration


@transaction.atomic
def submit_registration(*, actor, registration: DealRegistration) -> DealRegistration:
    """Send a draft, returned or rejected registration for review, flagging a conflict when
    another partner claims or works the same customer (checked under a per-customer lock)."""
    current = _locked(registration)
    _require_partner(actor, current)
    if current.status not in EDITABLE:
        raise ValidationError(
            f"A registration that is {current.get_status_display().lower()} can't be submitted."
        )
    if not current.lines.exists():
        raise ValidationError({"lines": "Add at least one product before submitting."})
    retired = list(
        current.lines.filter(product__active=False).values_list("product__name", flat=True)
    )
    if retired:
        raise ValidationError(
            {"lines": f"{', '.join(retired)} can no longer be registered: change the products."}
        )
    if current.expected_close_date < timezone.localdate():
        raise ValidationError(
            {"expected_close_date": "The expected close date has passed: change it first."}
        )
    key = current.customer_key
    customer_lock(*(f"customer:{part}" for part in (key.domain, key.name, key.label) if part))
    conflicts = _conflicts_of(current)
    before = current.status
    current.status = S.SUBMITTED
    current.submitted_at = timezone.now()
    current.conflict = bool(conflicts)
    current.conflict_reasons = "\n".join(conflicts)
    current.decided_at = current.decided_by = None
    current.decision_reason = ""
    current.save(
        update_fields=[
            "status",
            "submitted_at",
            "conflict",
            "conflict_reasons",
            "decided_at",
            "decided_by",
            "decision_reason",
            "updated_at",
        ]
    )
    enqueue("training.deal_registered", current.account_id)
    enqueue("analytics.refresh_account_scores", [current.account_id])
    reason = CONFLICT_NOTICE if conflicts else ""
    event = _event(current, actor=actor, from_status=before, reason=reason)
    _notify(event)
    return _sync(registration, current)


@transaction.atomic
def withdraw_registration(
    *, actor, registration: DealRegistration, reason: str
) -> DealRegistration:
    current = _locked(registration)
    _require_partner(actor, current)
    reason = _required_reason(reason, "Say why you withdraw the registration.")
    if current.status not in WITHDRAWABLE:
        raise ValidationError(
            f"A registration that is {current.get_status_display().lower()} can't be withdrawn."
        )
    before = current.status
    current.status = S.WITHDRAWN
    current.save(update_fields=["status", "updated_at"])
    _event(current, actor=actor, from_status=before, reason=reason)
    return _sync(registration, current)


# --- decisions ----------------------------------------------------------------------------------


def _decide(actor, registration, *, to_status: str, reason: str) -> DealRegistration:
    current = _locked(registration)
    _require_decider(actor, current)
    if current.status != S.SUBMITTED:
        raise ValidationError(
            f"Only a registration under review can be decided; this one is "
            f"{current.get_status_display().lower()}"
            + (" (the partner must change and resubmit it first)." if current.is_editable else ".")
        )
    current.status = to_status
    current.decided_at, current.decided_by, current.decision_reason = timezone.now(), actor, reason
    return current


@transaction.atomic
def return_registration(*, actor, registration: DealRegistration, reason: str) -> DealRegistration:
    """Send it back to the partner for more information (they edit and resubmit)."""
    reason = _required_reason(reason, "Say what the partner should add or change.")
    current = _decide(actor, registration, to_status=S.RETURNED, reason=reason)
    current.save()
    _notify(_event(current, actor=actor, from_status=S.SUBMITTED, reason=reason))
    return _sync(registration, current)


@transaction.atomic
def reject_registration(*, actor, registration: DealRegistration, reason: str) -> DealRegistration:
    reason = _required_reason(reason, "Say why the registration is rejected.")
    current = _decide(actor, registration, to_status=S.REJECTED, reason=reason)
    current.save()
    enqueue("analytics.refresh_account_scores", [current.account_id])
    _notify(_event(current, actor=actor, from_status=S.SUBMITTED, reason=reason))
    return _sync(registration, current)


@transaction.atomic
def approve_registration(
    *, actor, registration: DealRegistration, reason: str = ""
) -> DealRegistration:
    """Protect the customer and product family for the partner until the tier's expiry date.

    The database holds "one approved registration per customer and family"; losing that race
    (or approving over another approval) is a ``ValidationError`` naming the date it ends.
    """
    reason = (reason or "").strip()
    if len(reason) > 500:
        raise ValidationError({"reason": "Keep the reason under 500 characters."})
    current = _decide(actor, registration, to_status=S.APPROVED, reason=reason)
    tier = current.account.tier
    days = tier.registration_days if tier is not None else DEFAULT_REGISTRATION_DAYS
    current.expires_on = timezone.localdate() + timedelta(days=days)
    try:
        with transaction.atomic():
            current.save()
    except IntegrityError as exc:
        raise ValidationError(_protected_message(current)) from exc
    enqueue("analytics.refresh_account_scores", [current.account_id])
    _notify(_event(current, actor=actor, from_status=S.SUBMITTED, reason=reason))
    return _sync(registration, current)


def _protected_message(registration: DealRegistration) -> str:
    q = models.Q()
    if registration.customer_domain:
        q |= models.Q(customer_domain=registration.customer_domain)
    if registration.customer_name_key:
        q |= models.Q(customer_name_key=registration.customer_name_key)
    holder = (
        DealRegistration.objects.filter(
            q, status=S.APPROVED, product_family=registration.product_family
        )
        .exclude(pk=registration.pk)
        .values("account_id", "expires_on")
        .first()
    )
    if holder is None:
        return "Another approved registration already protects this customer and product family."
    whose = (
        "An approved registration of this partner"
        if holder["account_id"] == registration.account_id
        else "Another partner's approved registration"
    )
    return (
        f"{whose} protects this customer for {registration.product_family} until "
        f"{_day(holder['expires_on'])}."
    )


# --- extensions ---------------------------------------------------------------------------------


@transaction.atomic
def request_extension(
    *, actor, registration: DealRegistration, requested_until: date, reason: str
) -> ExtensionRequest:
    """The partner asks for the protection of an approved registration to run longer."""
    current = _locked(registration)
    _require_partner(actor, current)
    reason = _required_reason(reason, "Say why the deal needs longer.")
    if current.status != S.APPROVED:
        raise ValidationError("Only an approved registration can be extended.")
    if requested_until is None:
        raise ValidationError({"requested_until": "Give the date to protect the deal until."})
    if requested_until <= current.expires_on:
        raise ValidationError(
            {"requested_until": f"Choose a date after {_day(current.expires_on)}."}
        )
    if requested_until > timezone.localdate() + timedelta(days=365):
        raise ValidationError({"requested_until": "Ask for at most one year from today."})
    if ExtensionRequest.objects.filter(
        registration=current, status=ExtensionStatus.PENDING
    ).exists():
        raise ValidationError("An extension request is already waiting for the manager.")
    extension = ExtensionRequest.objects.create(
        registration=current, requested_by=actor, requested_until=requested_until, reason=reason
    )
    event = _event(
        current,
        actor=actor,
        from_status=S.APPROVED,
        reason=f"Extension to {_day(requested_until)} requested: {reason}",
    )
    _notify(event, kind="extension_requested")
    return extension


@transaction.atomic
def decide_extension(
    *, actor, extension: ExtensionRequest, grant: bool, reason: str
) -> ExtensionRequest:
    """The manager grants (the protection moves to the requested date) or refuses an extension."""
    current = (
        ExtensionRequest.objects.select_for_update()
        .select_related("registration")
        .get(pk=extension.pk)
    )
    registration = _locked(current.registration)
    _require_decider(actor, registration)
    reason = (reason or "").strip()
    if not grant and not reason:
        raise ValidationError({"reason": "Say why the extension is refused."})
    if current.status != ExtensionStatus.PENDING:
        raise ValidationError("This extension request was already decided.")
    if grant and registration.status != S.APPROVED:
        raise ValidationError("Only an approved registration can be extended.")
    current.status = ExtensionStatus.GRANTED if grant else ExtensionStatus.REFUSED
    current.decided_by, current.decided_at = actor, timezone.now()
    current.decision_reason = reason[:500]
    current.save()
    if grant:
        registration.expires_on = current.requested_until
        registration.save(update_fields=["expires_on", "updated_at"])
        text = f"Extension granted: protected until {_day(current.requested_until)}"
    else:
        text = f"Extension to {_day(current.requested_until)} refused"
    if reason:
        text += f": {reason}"
    event = _event(registration, actor=actor, from_status=registration.status, reason=text)
    _notify(event, kind="extension_decided")
    for field in ("status", "decided_by_id", "decided_at", "decision_reason"):
        setattr(extension, field, getattr(current, field))
    return extension


# --- expiry (Celery, in sets; running twice changes nothing) -----------------------------------


def expire_registrations(*, today: date | None = None) -> int:
    """Approved registrations whose protection ended before ``today`` become expired."""
    today = today or timezone.localdate()
    with transaction.atomic():
        due = list(
            DealRegistration.objects.filter(status=S.APPROVED, expires_on__lt=today)
            .select_for_update(skip_locked=True)
            .values_list("pk", "expires_on")
        )
        if not due:
            return 0
        DealRegistration.objects.filter(pk__in=[pk for pk, _ in due]).update(
            status=S.EXPIRED, updated_at=timezone.now()
        )
        events = RegistrationEvent.objects.bulk_create(
            RegistrationEvent(
                registration_id=pk,
                from_status=S.APPROVED,
                to_status=S.EXPIRED,
                reason=f"Protection ended on {_day(expires_on)}",
            )
            for pk, expires_on in due
        )
        _notify_batches(events)
    return len(due)


def expiry_warning(expires_on: date) -> str:
    return f"Protection ends on {_day(expires_on)}: ask for an extension if the deal needs longer"


def warn_expiring_registrations(*, today: date | None = None) -> int:
    """Tell the partner, once per registration and expiry date, that the protection ends within
    ``EXPIRY_WARNING_DAYS`` days (the warning is a step of the history)."""
    today = today or timezone.localdate()
    with transaction.atomic():
        due = list(
            DealRegistration.objects.filter(
                status=S.APPROVED,
                expires_on__gte=today,
                expires_on__lte=today + timedelta(days=EXPIRY_WARNING_DAYS),
            )
            .select_for_update(skip_locked=True)
            .values_list("pk", "expires_on")
        )
        if not due:
            return 0
        warned = set(
            RegistrationEvent.objects.filter(
                registration_id__in=[pk for pk, _ in due],
                from_status=S.APPROVED,
                to_status=S.APPROVED,
                actor__isnull=True,
            ).values_list("registration_id", "reason")
        )
        fresh = [(pk, on) for pk, on in due if (pk, expiry_warning(on)) not in warned]
        events = RegistrationEvent.objects.bulk_create(
            RegistrationEvent(
                registration_id=pk,
                from_status=S.APPROVED,
                to_status=S.APPROVED,
                reason=expiry_warning(expires_on),
            )
            for pk, expires_on in fresh
        )
        _notify_batches(events, kind="expiring")
    return len(fresh)
