"""Reads of partner data that are more than one filter: detail pages, access explained, home."""

from __future__ import annotations

from dataclasses import dataclass, field

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Permission
from django.contrib.contenttypes.models import ContentType
from django.db.models import Prefetch, Q

from partners.models import (
    AuditEntry,
    Contact,
    Invitation,
    PartnerAccount,
    PartnerAccountUserObjectPermission,
    PortalAccess,
)
from partners.services import ALL_PERMS, expected_grants
from prm.access import Role, role_of

PERM_LABELS = {
    "view_partneraccount": "view",
    "change_partneraccount": "edit",
    "manage_partneraccount": "manage people",
}


def account_queryset():
    return PartnerAccount.objects.select_related("tier", "parent", "manager")


def contacts_visible_to(user):
    """Contacts with roles, login and open invitation loaded (no per-row queries)."""
    return (
        Contact.objects.visible_to(user)
        .select_related("user", "account")
        .prefetch_related(
            "roles",
            Prefetch("invitations", queryset=Invitation.objects.open(), to_attr="open_invitations"),
        )
    )


def child_accounts(account: PartnerAccount, user):
    return (
        PartnerAccount.objects.visible_to(user)
        .filter(parent=account)
        .select_related("tier")
        .order_by("name", "pk")
    )


def history(account: PartnerAccount, user, limit: int = 50):
    return list(
        AuditEntry.objects.visible_to(user)
        .filter(account=account)
        .select_related("actor")
        .order_by("-created_at", "-pk")[:limit]
    )


@dataclass
class AccessRow:
    user: object
    how: str
    reasons: list[str] = field(default_factory=list)
    perms: list[str] = field(default_factory=list)
    drift: str = ""


def explain_access(account: PartnerAccount) -> list[AccessRow]:
    """Who can see this account and why: role, assignment, hierarchy, or an explicit grant.

    Compares the permission rows that exist with what the rules call for, so a grant that no rule
    explains (someone assigned it by hand) or a missing one stands out.
    """
    user_model = get_user_model()
    expected = {
        user_id: grant
        for (user_id, account_id), grant in expected_grants([account.pk]).items()
        if account_id == account.pk
    }
    actual: dict[int, set[str]] = {}
    for user_id, codename in PartnerAccountUserObjectPermission.objects.filter(
        content_object=account, permission__codename__in=ALL_PERMS
    ).values_list("user_id", "permission__codename"):
        actual.setdefault(user_id, set()).add(codename)

    ctype = ContentType.objects.get_for_model(PartnerAccount)
    global_view = Permission.objects.get(content_type=ctype, codename="view_partneraccount")
    everyone = (
        Q(is_superuser=True) | Q(user_permissions=global_view) | Q(groups__permissions=global_view)
    )
    users = {
        u.pk: u
        for u in user_model.objects.filter(Q(pk__in=expected.keys() | actual.keys()) | everyone)
        .filter(is_active=True)
        .distinct()
    }
    rows = []
    for user in sorted(users.values(), key=lambda u: (not u.is_superuser, u.email)):
        if user.is_superuser:
            rows.append(
                AccessRow(
                    user=user,
                    how="Admin",
                    reasons=["Admins see every account"],
                    perms=["view", "edit", "manage people"],
                )
            )
            continue
        grant = expected.get(user.pk)
        held = actual.get(user.pk, set())
        reasons = list(grant.reasons) if grant else []
        if user.pk not in expected and user.pk not in actual:
            rows.append(
                AccessRow(
                    user=user,
                    how="Global permission",
                    reasons=["Holds the global “view partner account” permission"],
                    perms=["view"],
                )
            )
            continue
        drift = ""
        extra = held - (grant.perms if grant else set())
        missing = (grant.perms if grant else set()) - held
        if extra:
            reasons.append("Explicit grant that no rule explains")
            drift = "explicit"
        if missing:
            drift = "missing"
        how = "Explicit grant" if not grant else _how(reasons[0])
        rows.append(
            AccessRow(
                user=user,
                how=how,
                reasons=reasons,
                perms=[PERM_LABELS[p] for p in ALL_PERMS if p in held],
                drift=drift,
            )
        )
    return rows


def _how(reason: str) -> str:
    if reason.startswith("Assigned"):
        return "Assignment"
    if "parent account" in reason:
        return "Hierarchy"
    return "Role"


@dataclass
class HomeTask:
    title: str
    text: str
    url: str
    action: str


def portal_home_tasks(
    user,
    account: PartnerAccount,
    *,
    has_totp: bool,
    colleagues: int,
    pending_invitations: int,
    has_primary: bool,
) -> list[HomeTask]:
    """What the partner should do next, as a short to-do list on the portal home."""
    from django.urls import reverse

    tasks = []
    if not has_totp:
        tasks.append(
            HomeTask(
                "Protect your login",
                "Turn on two-factor authentication with an authenticator app.",
                reverse("mfa_activate_totp"),
                "Set up",
            )
        )
    if role_of(user) is Role.PARTNER_ADMIN:
        company = reverse("partners:partner", args=[account.pk])
        missing = [
            label
            for attr, label in (
                ("website", "website"),
                ("phone", "phone"),
                ("description", "description"),
            )
            if not getattr(account, attr)
        ]
        if missing:
            tasks.append(
                HomeTask(
                    "Complete your company profile",
                    "Add your " + ", ".join(missing) + ".",
                    reverse("partners:partner_edit", args=[account.pk]),
                    "Edit profile",
                )
            )
        if not has_primary:
            tasks.append(
                HomeTask(
                    "Name a primary contact",
                    "Tell us who we should talk to first.",
                    company,
                    "Open contacts",
                )
            )
        if colleagues <= 1:
            tasks.append(
                HomeTask(
                    "Invite a colleague",
                    "Give your sales and technical people their own login.",
                    reverse("partners:contact_add", args=[account.pk]),
                    "Invite",
                )
            )
        if pending_invitations:
            tasks.append(
                HomeTask(
                    f"{pending_invitations} invitation(s) not yet accepted",
                    "Remind them, or resend the link from the contacts list.",
                    company,
                    "Review",
                )
            )
    return tasks


def portal_home_data(user) -> dict:
    contact = user.contact
    account = account_queryset().get(pk=contact.account_id)
    from allauth.mfa.models import Authenticator

    contacts = list(
        Contact.objects.visible_to(user)
        .filter(account=account)
        .exclude(portal_access=PortalAccess.NONE)
        .select_related("user")
        .prefetch_related(
            Prefetch("invitations", queryset=Invitation.objects.open(), to_attr="open_invitations")
        )
    )
    has_primary = Contact.objects.filter(account=account, roles__code="primary").exists()
    data = {
        "account": account,
        "contact": contact,
        "colleagues": sum(1 for c in contacts if c.user_id and c.user.is_active),
        "pending_invitations": sum(1 for c in contacts if not c.user_id and c.open_invitations),
        "children": PartnerAccount.objects.visible_to(user).filter(parent=account).count(),
    }
    data["tasks"] = portal_home_tasks(
        user,
        account,
        has_totp=Authenticator.objects.filter(user=user, type=Authenticator.Type.TOTP).exists(),
        colleagues=data["colleagues"],
        pending_invitations=data["pending_invitations"],
        has_primary=has_primary,
    )
    return data
