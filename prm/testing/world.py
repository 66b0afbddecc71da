"""A two-company world with every persona of the access contract (ARCHITECTURE.md §3).

Account A ("Northwind") has a reseller child A1 and is managed by ``manager``; account B
("Contoso") belongs to another company and is managed by ``other_manager``.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import timedelta

from allauth.account.models import EmailAddress
from django.conf import settings
from django.contrib.auth import get_user_model
from django.utils import timezone

from partners.models import (
    AccountStatus,
    AuditAction,
    AuditEntry,
    Contact,
    ContactRole,
    Invitation,
    PartnerAccount,
    PortalAccess,
    Tier,
)
from partners.services import _token_hash, sync_account_permissions
from prm.models import partner_managers_group

PASSWORD = "correct-horse-battery-9"


@dataclass
class World:
    tier: Tier
    a: PartnerAccount
    a_child: PartnerAccount
    b: PartnerAccount
    admin: object
    manager: object
    other_manager: object
    partner_admin_a: object
    member_a: object
    partner_admin_b: object
    contact_admin_a: Contact
    contact_member_a: Contact
    contact_plain_a: Contact
    contact_admin_b: Contact
    contact_plain_b: Contact
    invitation_a: Invitation | None = None

    def personas(self) -> dict:
        return {
            "admin": self.admin,
            "manager": self.manager,
            "other_manager": self.other_manager,
            "partner_admin_a": self.partner_admin_a,
            "member_a": self.member_a,
            "partner_admin_b": self.partner_admin_b,
        }


def make_user(email, *, first="Test", last="User", password=PASSWORD, **extra):
    user = get_user_model().objects.create_user(
        email=email, password=password, first_name=first, last_name=last, **extra
    )
    EmailAddress.objects.create(user=user, email=email, verified=True, primary=True)
    return user


def make_partner_user(account, email, access, *, first="Pat", last="Partner"):
    user = make_user(email, first=first, last=last)
    contact = Contact.objects.create(
        account=account,
        first_name=first,
        last_name=last,
        email=email,
        portal_access=access,
        user=user,
    )
    return user, contact


def make_invitation(contact, *, invited_by=None, expires_in_days=None, **fields):
    """An open invitation for ``contact`` and its link token (which the database never holds).

    Enables the contact as a member if they have no portal access yet, as inviting would.
    """
    if contact.portal_access == PortalAccess.NONE:
        contact.portal_access = PortalAccess.MEMBER
        contact.save(update_fields=["portal_access"])
    token = secrets.token_urlsafe(32)
    days = settings.PRM_INVITATION_DAYS if expires_in_days is None else expires_in_days
    invitation = Invitation.objects.create(
        contact=contact,
        email=contact.email,
        token_hash=_token_hash(token),
        invited_by=invited_by,
        expires_at=timezone.now() + timedelta(days=days),
        **fields,
    )
    return invitation, token


def build_world(*, extra_contacts: int = 0) -> World:
    tier, _ = Tier.objects.get_or_create(name="Gold", defaults={"rank": 30})
    admin = make_user(
        "admin@vendor.example", first="Ada", last="Admin", is_superuser=True, is_staff=True
    )
    manager = make_user("manager@vendor.example", first="Maya", last="Manager")
    other_manager = make_user("other.manager@vendor.example", first="Otto", last="Other")
    managers = partner_managers_group()
    manager.groups.add(managers)
    other_manager.groups.add(managers)

    a = PartnerAccount.objects.create(
        name="Northwind Systems",
        website="https://www.northwind.example",
        tier=tier,
        status=AccountStatus.ACTIVE,
        manager=manager,
        region="emea",
        country="Germany",
    )
    a_child = PartnerAccount.objects.create(
        name="Northwind Retail", tier=tier, status=AccountStatus.ACTIVE, parent=a, manager=manager
    )
    b = PartnerAccount.objects.create(
        name="Contoso Partners",
        website="https://contoso.example",
        tier=tier,
        status=AccountStatus.ACTIVE,
        manager=other_manager,
        region="na",
        country="United States",
    )
    partner_admin_a, contact_admin_a = make_partner_user(
        a, "alex@northwind.example", PortalAccess.ADMIN, first="Alex", last="Rivera"
    )
    member_a, contact_member_a = make_partner_user(
        a, "jamie@northwind.example", PortalAccess.MEMBER, first="Jamie", last="Park"
    )
    partner_admin_b, contact_admin_b = make_partner_user(
        b, "sam@contoso.example", PortalAccess.ADMIN, first="Sam", last="Patel"
    )
    contact_plain_a = Contact.objects.create(
        account=a, first_name="Casey", last_name="Nguyen", email="casey@northwind.example"
    )
    contact_plain_b = Contact.objects.create(
        account=b, first_name="Robin", last_name="Lee", email="robin@contoso.example"
    )
    sales = ContactRole.objects.get(code="sales")
    contact_plain_a.roles.add(sales)
    for i in range(extra_contacts):
        for account in (a, b):
            c = Contact.objects.create(
                account=account,
                first_name=f"Extra{i}",
                last_name=account.name.split()[0],
                email=f"extra{i}@{account.pk}.example",
            )
            c.roles.add(sales)
    sync_account_permissions([a.pk, b.pk])
    return World(
        tier=tier,
        a=a,
        a_child=a_child,
        b=b,
        admin=admin,
        manager=manager,
        other_manager=other_manager,
        partner_admin_a=partner_admin_a,
        member_a=member_a,
        partner_admin_b=partner_admin_b,
        contact_admin_a=contact_admin_a,
        contact_member_a=contact_member_a,
        contact_plain_a=contact_plain_a,
        contact_admin_b=contact_admin_b,
        contact_plain_b=contact_plain_b,
    )


def grow_world(world: World, *, accounts: int = 45, contacts: int = 45, logins: int = 10) -> None:
    """More of everything a page lists: accounts assigned to ``world.manager`` (a fifth of them
    resellers under A), contacts on A (``logins`` of them partner users, some invited, all with
    roles) and audit entries. For the "same number of queries with 5 and with 50 rows" checks."""
    sales, primary = ContactRole.objects.get(code="sales"), ContactRole.objects.get(code="primary")
    created = PartnerAccount.objects.bulk_create(
        PartnerAccount(
            name=f"Grown Partner {i:03d}",
            website=f"https://grown{i}.example",
            domain=f"grown{i}.example",  # bulk_create skips save(), which normalises it
            tier=world.tier,
            status=AccountStatus.ACTIVE,
            manager=world.manager,
            parent=world.a if i % 5 == 0 else None,
            region="emea",
        )
        for i in range(accounts)
    )
    for i in range(contacts):
        user = None
        access = PortalAccess.NONE
        email = f"grown{i}@northwind.example"
        if i < logins:
            user = make_user(email, first=f"Grown{i}", last="User")
            access = PortalAccess.ADMIN if i % 2 else PortalAccess.MEMBER
        contact = Contact.objects.create(
            account=world.a,
            first_name=f"Grown{i}",
            last_name="Contact",
            email=email,
            title="Sales engineer",
            portal_access=access,
            user=user,
        )
        contact.roles.add(*((sales, primary) if i % 3 == 0 else (sales,)))
        if logins <= i < logins + 5:
            make_invitation(contact, invited_by=world.partner_admin_a)
    AuditEntry.objects.bulk_create(
        AuditEntry(
            account=world.a,
            actor=world.manager,
            action=AuditAction.CHANGE,
            object_type="partner account",
            object_id=world.a.pk,
            object_repr=world.a.name,
            changes={"phone": [str(i), str(i + 1)]},
        )
        for i in range(contacts)
    )
    sync_account_permissions([world.a.pk, world.b.pk, *(a.pk for a in created)])


def submitted_registration(world: World, *, hours: float, company: str = "Globex", account=None):
    """A deal registration of account A (or ``account``), submitted ``hours`` ago, waiting for
    its manager's decision (written directly: tests of what happens to one that waits)."""
    from deals.models import DealRegistration, RegistrationStatus

    return DealRegistration.objects.create(
        account=account or world.a,
        created_by=world.member_a,
        company=company,
        contact_name="Pat Buyer",
        contact_email=f"pat@{company.lower().replace(' ', '')}.example",
        amount=1000,
        expected_close_date=timezone.localdate() + timedelta(days=30),
        status=RegistrationStatus.SUBMITTED,
        submitted_at=timezone.now() - timedelta(hours=hours),
    )
