"""Every write to partner data: accounts, contacts, portal access, invitations, permissions.

Each function takes the acting user, checks permission, writes inside a transaction, records the
audit entry and enqueues follow-up work after commit. ``sync_account_permissions`` is the one and
only writer of guardian rows.
"""

from __future__ import annotations

import hashlib
import secrets
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import timedelta

from allauth.account.models import EmailAddress
from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Permission
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone

from partners.models import (
    BLOCKED_STATUSES,
    AuditAction,
    AuditEntry,
    Contact,
    Invitation,
    PartnerAccount,
    PartnerAccountUserObjectPermission,
    PortalAccess,
)
from prm.access import partner_contact, role_of
from prm.tasks import enqueue

VIEW, CHANGE, MANAGE = "view_partneraccount", "change_partneraccount", "manage_partneraccount"
ALL_PERMS = (VIEW, CHANGE, MANAGE)

#: Fields of an account a partner admin may edit about their own company.
PROFILE_FIELDS = ("name", "website", "phone", "country", "industry", "description")
#: Fields only internal users may set (program data).
PROGRAM_FIELDS = ("status", "tier", "parent", "manager", "partner_since", "region")
ACCOUNT_FIELDS = PROFILE_FIELDS + PROGRAM_FIELDS
CONTACT_FIELDS = ("first_name", "last_name", "email", "phone", "title", "portal_access")


# --- permissions: the one writer ------------------------------------------------------------


@dataclass
class Grant:
    perms: set[str] = field(default_factory=set)
    reasons: list[str] = field(default_factory=list)


def _with_descendants(account_ids) -> set[int]:
    """The accounts and every account below them in the hierarchy (one query per level)."""
    found = set(account_ids)
    frontier = set(found)
    while frontier:
        frontier = set(
            PartnerAccount.objects.filter(parent_id__in=frontier)
            .exclude(pk__in=found)
            .values_list("pk", flat=True)
        )
        found |= frontier
    return found


def expected_grants(account_ids) -> dict[tuple[int, int], Grant]:
    """What guardian rows the access rules call for on these accounts, with the reason for each.

    Keys are (user_id, account_id). The rules (ARCHITECTURE.md §3):
    assigned manager → view/change/manage; partner admin of an open account → view/change/manage;
    member of an open account → view; partner admin of an open ancestor → view (read-only).
    """
    account_ids = set(account_ids)
    info: dict[int, tuple] = {}
    frontier = set(account_ids)
    while frontier:  # load the accounts and all their ancestors, a level per query
        rows = PartnerAccount.objects.filter(pk__in=frontier).values_list(
            "pk", "parent_id", "manager_id", "status", "name"
        )
        for pk, parent_id, manager_id, status, name in rows:
            info[pk] = (parent_id, manager_id, status, name)
        frontier = {row[0] for row in info.values() if row[0] and row[0] not in info}

    people: dict[int, list[tuple[int, str]]] = defaultdict(list)
    for account_id, user_id, access in (
        Contact.objects.filter(account_id__in=info, user__isnull=False, user__is_active=True)
        .exclude(portal_access=PortalAccess.NONE)
        .values_list("account_id", "user_id", "portal_access")
    ):
        people[account_id].append((user_id, access))

    grants: dict[tuple[int, int], Grant] = defaultdict(Grant)
    for account_id in account_ids & info.keys():
        parent_id, manager_id, status, _ = info[account_id]
        if manager_id:
            grant = grants[(manager_id, account_id)]
            grant.perms.update(ALL_PERMS)
            grant.reasons.append("Assigned partner manager")
        if status not in BLOCKED_STATUSES:
            for user_id, access in people[account_id]:
                grant = grants[(user_id, account_id)]
                if access == PortalAccess.ADMIN:
                    grant.perms.update(ALL_PERMS)
                    grant.reasons.append("Partner admin of this account")
                else:
                    grant.perms.add(VIEW)
                    grant.reasons.append("Partner member of this account")
        seen = {account_id}
        while parent_id and parent_id not in seen and parent_id in info:
            seen.add(parent_id)
            ancestor_parent, _, ancestor_status, ancestor_name = info[parent_id]
            if ancestor_status not in BLOCKED_STATUSES:
                for user_id, access in people[parent_id]:
                    if access == PortalAccess.ADMIN:
                        grant = grants[(user_id, account_id)]
                        grant.perms.add(VIEW)
                        grant.reasons.append(
                            f"Partner admin of parent account {ancestor_name} (read-only)"
                        )
            parent_id = ancestor_parent
    return dict(grants)


def _permission_ids() -> dict[str, int]:
    ctype = ContentType.objects.get_for_model(PartnerAccount)
    return dict(
        Permission.objects.filter(content_type=ctype, codename__in=ALL_PERMS).values_list(
            "codename", "pk"
        )
    )


def sync_account_permissions(account_ids, *, include_descendants: bool = True) -> tuple[int, int]:
    """Make guardian's rows on these accounts match the access rules; returns (added, removed).

    Called whenever a role, a manager assignment, a status or the hierarchy changes. Works in sets:
    a handful of queries whatever the number of accounts.
    """
    ids = _with_descendants(account_ids) if include_descendants else set(account_ids)
    if not ids:
        return (0, 0)
    perm_ids = _permission_ids()
    wanted = {
        (user_id, perm_ids[codename], account_id)
        for (user_id, account_id), grant in expected_grants(ids).items()
        for codename in grant.perms
    }
    rows = PartnerAccountUserObjectPermission.objects.filter(
        content_object_id__in=ids, permission_id__in=perm_ids.values()
    ).values_list("pk", "user_id", "permission_id", "content_object_id")
    existing = {(user_id, perm_id, account_id): pk for pk, user_id, perm_id, account_id in rows}
    stale = [pk for key, pk in existing.items() if key not in wanted]
    missing = [
        PartnerAccountUserObjectPermission(
            user_id=user_id, permission_id=permission_id, content_object_id=account_id
        )
        for user_id, permission_id, account_id in wanted - existing.keys()
    ]
    if stale:
        PartnerAccountUserObjectPermission.objects.filter(pk__in=stale).delete()
    PartnerAccountUserObjectPermission.objects.bulk_create(
        missing, batch_size=1000, ignore_conflicts=True
    )
    return (len(missing), len(stale))


def can_change_account(user, account) -> bool:
    return PartnerAccount.objects.changeable_by(user).filter(pk=account.pk).exists()


def can_manage_account(user, account) -> bool:
    return PartnerAccount.objects.manageable_by(user).filter(pk=account.pk).exists()


# --- audit ----------------------------------------------------------------------------------


def _display(instance, name: str) -> str:
    field_obj = instance._meta.get_field(name)
    value = getattr(instance, name)
    if value in (None, ""):
        return ""
    if field_obj.choices:
        return str(dict(field_obj.flatchoices).get(value, value))
    return str(value)


def diff(before, after, fields) -> dict[str, list[str]]:
    """{field label: [old, new]} for the fields whose displayed value changed."""
    changes = {}
    for name in fields:
        old = _display(before, name) if before is not None else ""
        new = _display(after, name)
        if old != new:
            changes[str(after._meta.get_field(name).verbose_name)] = [old, new]
    return changes


def record(*, actor, account, action, obj, changes=None, message="") -> AuditEntry:
    return AuditEntry.objects.create(
        account=account,
        actor=actor if getattr(actor, "is_authenticated", False) else None,
        action=action,
        object_type=obj._meta.verbose_name,
        object_id=obj.pk,
        object_repr=str(obj)[:200],
        changes=changes or {},
        message=message[:300],
    )


# --- accounts -------------------------------------------------------------------------------


def check_hierarchy(account: PartnerAccount) -> None:
    if account.parent_id is None:
        return
    if account.pk and account.parent_id == account.pk:
        raise ValidationError({"parent": "An account cannot be its own parent."})
    if account.pk and account.parent_id in _with_descendants([account.pk]):
        raise ValidationError({"parent": "That account is below this one in the hierarchy."})


@transaction.atomic
def save_account(*, actor, account: PartnerAccount, reason: str = "") -> PartnerAccount:
    """Create or change a partner account; status, manager and hierarchy changes re-grant access."""
    role = role_of(actor)
    creating = account.pk is None
    before = None
    if creating:
        if not role.is_internal:
            raise PermissionDenied("Only partner managers and admins create partner accounts.")
    else:
        if not can_change_account(actor, account):
            raise PermissionDenied("You may not change this partner account.")
        before = PartnerAccount.objects.select_related("tier", "parent", "manager").get(
            pk=account.pk
        )
        if not role.is_internal:
            changed = [f for f in PROGRAM_FIELDS if _display(before, f) != _display(account, f)]
            if changed:
                raise PermissionDenied("Only your partner manager can change program details.")
    check_hierarchy(account)
    account.save()
    changes = diff(before, account, ACCOUNT_FIELDS)
    status_changed = before is not None and before.status != account.status
    entry = None
    if creating or changes:
        action = AuditAction.CREATE if creating else AuditAction.CHANGE
        if status_changed:
            action = AuditAction.STATUS
        entry = record(
            actor=actor,
            account=account,
            action=action,
            obj=account,
            changes=changes,
            message=reason,
        )
    if creating or any(
        getattr(before, f) != getattr(account, f) for f in ("status", "manager_id", "parent_id")
    ):
        sync_account_permissions([account.pk])
    if status_changed and before.is_blocked != account.is_blocked:
        from partners.tasks import notify_account_status_change

        enqueue(notify_account_status_change, entry.pk)
        # The "account deactivated" alert rules, right away (by name: partners does not
        # import analytics).
        enqueue("analytics.evaluate_alerts_for", "account_deactivated")
    return account


def change_account_status(*, actor, account: PartnerAccount, status: str, reason: str = ""):
    """Move an account to a new status; leaving or entering inactive/suspended blocks or restores
    its users' logins (their sessions end on the next request) and tells the manager."""
    if not role_of(actor).is_internal:
        raise PermissionDenied("Only partner managers and admins change an account's status.")
    account.status = status
    return save_account(actor=actor, account=account, reason=reason)


# --- contacts -------------------------------------------------------------------------------


def check_portal_email_free(contact: Contact) -> None:
    """A contact's email is unique among contacts with portal access (and among logins)."""
    if contact.portal_access == PortalAccess.NONE:
        return
    clash = Contact.objects.with_portal_access().filter(email__iexact=contact.email)
    if contact.pk:
        clash = clash.exclude(pk=contact.pk)
    if clash.exists():
        raise ValidationError(
            {"email": "Another contact with portal access already uses this email address."}
        )
    login = get_user_model().objects.filter(email__iexact=contact.email)
    if contact.user_id:
        login = login.exclude(pk=contact.user_id)
    if login.exists():
        raise ValidationError({"email": "This email address already belongs to another login."})


@transaction.atomic
def save_contact(*, actor, contact: Contact, roles=None) -> Contact:
    """Create or change a contact (name, roles, portal access level)."""
    if not can_manage_account(actor, contact.account):
        raise PermissionDenied("You may not manage this account's contacts.")
    before = None
    before_roles: list[str] = []
    if contact.pk:
        before = Contact.objects.get(pk=contact.pk)
        before_roles = sorted(str(r) for r in before.roles.all())
        if before.user_id and before.email.lower() != contact.email.lower():
            raise ValidationError({"email": "The email of a contact who can log in can't change."})
        own = partner_contact(actor)
        if (
            own is not None
            and own.pk == contact.pk
            and contact.portal_access != before.portal_access
        ):
            raise ValidationError(
                {"portal_access": "You can't change your own portal access. Ask another admin."}
            )
    if contact.portal_access == PortalAccess.NONE and contact.user_id:
        raise ValidationError(
            {"portal_access": "This person can log in: disable their access instead."}
        )
    check_portal_email_free(contact)
    contact.email = contact.email.strip()
    contact.save()
    if roles is not None:
        contact.roles.set(roles)
    changes = diff(before, contact, CONTACT_FIELDS)
    if roles is not None:
        after_roles = sorted(str(r) for r in roles)
        if after_roles != before_roles:
            changes["roles"] = [", ".join(before_roles), ", ".join(after_roles)]
    if before is None or changes:
        record(
            actor=actor,
            account=contact.account,
            action=AuditAction.CREATE if before is None else AuditAction.CHANGE,
            obj=contact,
            changes=changes,
        )
    if before is not None and before.portal_access != contact.portal_access:
        if contact.portal_access == PortalAccess.NONE:
            _revoke_open_invitations(contact)
        if contact.user_id:
            sync_account_permissions([contact.account_id])
    return contact


# --- invitations and portal access ----------------------------------------------------------


def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _revoke_open_invitations(contact: Contact) -> int:
    return contact.invitations.open().update(revoked_at=timezone.now())


@transaction.atomic
def invite_contact(*, actor, contact: Contact, portal_access: str | None = None) -> Invitation:
    """Enable a contact as a partner user: email them a single-use link that expires.

    Inviting again (resend) revokes the previous link.
    """
    if not can_manage_account(actor, contact.account):
        raise PermissionDenied("You may not invite people to this account.")
    if contact.user_id:
        raise ValidationError("This person already has a login.")
    if contact.account.is_blocked:
        raise ValidationError("The account is not active: nobody can be invited to it.")
    before_access = contact.portal_access
    if portal_access:
        contact.portal_access = portal_access
    if contact.portal_access == PortalAccess.NONE:
        contact.portal_access = PortalAccess.MEMBER
    check_portal_email_free(contact)
    contact.save(update_fields=["portal_access", "updated_at"])
    _revoke_open_invitations(contact)
    token = secrets.token_urlsafe(32)
    invitation = Invitation.objects.create(
        contact=contact,
        email=contact.email,
        token_hash=_token_hash(token),
        invited_by=actor,
        expires_at=timezone.now() + timedelta(days=settings.PRM_INVITATION_DAYS),
    )
    changes = {}
    if before_access != contact.portal_access:
        changes["portal access"] = [
            PortalAccess(before_access).label,
            PortalAccess(contact.portal_access).label,
        ]
    record(
        actor=actor,
        account=contact.account,
        action=AuditAction.ACCESS,
        obj=contact,
        changes=changes,
        message=f"Invited to the portal ({contact.email})",
    )
    from partners.tasks import send_invitation

    enqueue(send_invitation, invitation.pk, token)
    return invitation


@transaction.atomic
def revoke_invitation(*, actor, contact: Contact) -> int:
    if not can_manage_account(actor, contact.account):
        raise PermissionDenied("You may not manage this account's invitations.")
    revoked = _revoke_open_invitations(contact)
    if revoked:
        record(
            actor=actor,
            account=contact.account,
            action=AuditAction.ACCESS,
            obj=contact,
            message="Invitation revoked",
        )
    return revoked


class InvitationInvalid(Exception):
    """The link can't be used; ``reason`` says why in words for the person holding it."""

    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason


def find_invitation(token: str) -> Invitation:
    """The invitation behind a link, or InvitationInvalid with a reason a person understands."""
    invitation = (
        Invitation.objects.select_related("contact__account", "invited_by")
        .filter(token_hash=_token_hash(token or ""))
        .first()
    )
    if invitation is None:
        raise InvitationInvalid(
            "This invitation link is not valid. Check that you copied the "
            "whole link, or ask for a new invitation."
        )
    state = invitation.state
    if state == "accepted":
        raise InvitationInvalid(
            "This invitation has already been used. If it was you, sign in "
            "with your email and password."
        )
    if state == "revoked":
        raise InvitationInvalid(
            "This invitation was withdrawn. Ask your partner admin or partner "
            "manager for a new one."
        )
    if state == "expired":
        raise InvitationInvalid(
            "This invitation has expired. Ask your partner admin or partner "
            "manager to send a new one."
        )
    contact = invitation.contact
    if (
        contact.user_id
        or contact.portal_access == PortalAccess.NONE
        or contact.email.lower() != invitation.email.lower()
    ):
        raise InvitationInvalid("This invitation is no longer valid. Ask for a new one.")
    if contact.account.is_blocked:
        raise InvitationInvalid("Your company's partner account is not active at the moment.")
    return invitation


@transaction.atomic
def accept_invitation(*, token: str, password: str, first_name: str, last_name: str):
    """Create the person's login from an open invitation; returns the new user."""
    invitation = find_invitation(token)
    # Lock the row: two clicks on the same link create one login.
    invitation = Invitation.objects.select_for_update().get(pk=invitation.pk)
    if invitation.accepted_at or invitation.revoked_at:
        raise InvitationInvalid("This invitation has already been used.")
    contact = invitation.contact
    user_model = get_user_model()
    if user_model.objects.filter(email__iexact=contact.email).exists():
        raise InvitationInvalid("A login with this email address already exists. Sign in instead.")
    user = user_model.objects.create_user(
        email=contact.email, password=password, first_name=first_name, last_name=last_name
    )
    EmailAddress.objects.create(user=user, email=user.email, verified=True, primary=True)
    contact.user = user
    contact.first_name, contact.last_name = first_name, last_name
    contact.save(update_fields=["user", "first_name", "last_name", "updated_at"])
    invitation.accepted_at = timezone.now()
    invitation.save(update_fields=["accepted_at"])
    record(
        actor=user,
        account=contact.account,
        action=AuditAction.ACCESS,
        obj=contact,
        message="Accepted the invitation and set a password",
    )
    sync_account_permissions([contact.account_id])
    return user


def _set_login_active(*, actor, contact: Contact, active: bool) -> Contact:
    if not can_manage_account(actor, contact.account):
        raise PermissionDenied("You may not manage this account's portal access.")
    if contact.user_id is None:
        raise ValidationError("This person has no login yet.")
    own = partner_contact(actor)
    if own is not None and own.pk == contact.pk:
        raise ValidationError("You can't disable your own access.")
    user = contact.user
    if user.is_active == active:
        return contact
    user.is_active = active
    user.save(update_fields=["is_active"])
    record(
        actor=actor,
        account=contact.account,
        action=AuditAction.ACCESS,
        obj=contact,
        message="Portal access re-enabled" if active else "Portal access disabled",
    )
    sync_account_permissions([contact.account_id])
    return contact


@transaction.atomic
def disable_portal_access(*, actor, contact: Contact) -> Contact:
    """Stop a person from logging in; their open sessions end on their next request."""
    _revoke_open_invitations(contact)
    return _set_login_active(actor=actor, contact=contact, active=False)


@transaction.atomic
def enable_portal_access(*, actor, contact: Contact) -> Contact:
    return _set_login_active(actor=actor, contact=contact, active=True)
