"""The services behind every write: who may do it, what the audit trail keeps, which permission
rows follow, which emails go out, and that a refused write leaves nothing behind."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import Permission
from django.core import mail
from django.core.exceptions import PermissionDenied, ValidationError

from partners import services
from partners.models import (
    AccountStatus,
    AuditAction,
    AuditEntry,
    Contact,
    Invitation,
    PartnerAccount,
    PartnerAccountUserObjectPermission,
    PortalAccess,
)
from prm.testing.world import make_invitation, make_user

pytestmark = pytest.mark.django_db


def grants(account) -> set[tuple[str, str]]:
    return set(
        PartnerAccountUserObjectPermission.objects.filter(content_object=account).values_list(
            "user__email", "permission__codename"
        )
    )


def holders(account, codename="view_partneraccount") -> set[str]:
    return {email for email, perm in grants(account) if perm == codename}


# --- accounts -------------------------------------------------------------------------------


def test_a_partner_admin_cannot_change_program_details(world):
    world.a.tier = None
    with pytest.raises(PermissionDenied, match="partner manager"):
        services.save_account(actor=world.partner_admin_a, account=world.a)
    world.a.refresh_from_db()
    assert world.a.tier == world.tier


def test_partner_users_cannot_create_accounts_or_change_status(world):
    with pytest.raises(PermissionDenied):
        services.save_account(actor=world.partner_admin_a, account=PartnerAccount(name="X"))
    with pytest.raises(PermissionDenied):
        services.change_account_status(
            actor=world.partner_admin_a, account=world.a, status=AccountStatus.SUSPENDED
        )


def test_a_manager_cannot_change_an_account_assigned_to_someone_else(world):
    world.b.phone = "1"
    with pytest.raises(PermissionDenied):
        services.save_account(actor=world.manager, account=world.b)


def test_an_account_cannot_be_put_below_itself(world):
    world.a.parent = world.a_child
    with pytest.raises(ValidationError) as error:
        services.save_account(actor=world.manager, account=world.a)
    assert "parent" in error.value.message_dict
    world.a.parent = world.a
    with pytest.raises(ValidationError):
        services.save_account(actor=world.manager, account=world.a)


def test_changes_are_recorded_with_old_and_new_values(world):
    world.a.phone = "+1 555"
    world.a.region = "apac"
    services.save_account(actor=world.manager, account=world.a, reason="Moved office")
    entry = AuditEntry.objects.get(account=world.a)
    assert entry.actor == world.manager
    assert entry.action == AuditAction.CHANGE
    assert entry.changes == {
        "phone": ["", "+1 555"],
        "region": ["EMEA", "APAC"],
    }
    assert entry.message == "Moved office"


def test_saving_without_changes_records_nothing(world):
    services.save_account(actor=world.manager, account=world.a)
    assert not AuditEntry.objects.exists()


def test_reassigning_an_account_moves_the_managers_access(world):
    assert "manager@vendor.example" in holders(world.a)
    world.a.manager = world.other_manager
    services.save_account(actor=world.admin, account=world.a)
    assert "manager@vendor.example" not in holders(world.a)
    assert "other.manager@vendor.example" in holders(world.a)
    assert world.a.pk in PartnerAccount.objects.visible_to(world.other_manager).values_list(
        "pk", flat=True
    )


def test_moving_an_account_in_the_hierarchy_moves_the_parents_read_access(world):
    assert world.partner_admin_a.email in holders(world.a_child)
    world.a_child.parent = world.b
    services.save_account(actor=world.admin, account=world.a_child)
    assert world.partner_admin_a.email not in holders(world.a_child)
    assert world.partner_admin_b.email in holders(world.a_child)
    assert world.partner_admin_b.email not in holders(world.a_child, "change_partneraccount")


def test_suspending_revokes_partner_grants_and_tells_the_manager_once(
    world, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        services.change_account_status(
            actor=world.admin, account=world.a, status=AccountStatus.SUSPENDED, reason="Fraud"
        )
    assert holders(world.a) == {world.manager.email}
    # The child's users keep their own account; A's admin loses the read access from above.
    assert world.partner_admin_a.email not in holders(world.a_child)
    entry = AuditEntry.objects.get(account=world.a, action=AuditAction.STATUS)
    assert entry.changes["status"] == ["Active", "Suspended"]
    assert [m.to for m in mail.outbox] == [[world.manager.email]]
    assert "suspended" in mail.outbox[0].subject

    with django_capture_on_commit_callbacks(execute=True):
        services.change_account_status(
            actor=world.admin, account=world.a, status=AccountStatus.INACTIVE, reason="Still"
        )
    assert len(mail.outbox) == 1  # blocked → blocked: logins were already closed


def test_an_account_without_a_manager_tells_the_admins(world, django_capture_on_commit_callbacks):
    world.b.manager = None
    services.save_account(actor=world.admin, account=world.b)
    with django_capture_on_commit_callbacks(execute=True):
        services.change_account_status(
            actor=world.admin, account=world.b, status=AccountStatus.INACTIVE, reason="Quiet"
        )
    assert [m.to for m in mail.outbox] == [[world.admin.email]]


def test_reactivating_restores_the_grants(world):
    services.change_account_status(
        actor=world.manager, account=world.a, status=AccountStatus.SUSPENDED, reason="x"
    )
    services.change_account_status(actor=world.manager, account=world.a, status="active")
    assert {world.partner_admin_a.email, world.member_a.email} <= holders(world.a)


# --- the permission rows ----------------------------------------------------------------------


def test_sync_is_idempotent_and_removes_a_hand_made_grant(world):
    assert services.sync_account_permissions([world.a.pk, world.b.pk]) == (0, 0)
    PartnerAccountUserObjectPermission.objects.create(
        user=world.partner_admin_b,
        permission=Permission.objects.get(codename="view_partneraccount"),
        content_object=world.a,
    )
    assert world.a in PartnerAccount.objects.visible_to(world.partner_admin_b)
    assert services.sync_account_permissions([world.a.pk]) == (0, 1)
    assert world.a not in PartnerAccount.objects.visible_to(world.partner_admin_b)


def test_sync_restores_a_deleted_grant(world):
    PartnerAccountUserObjectPermission.objects.filter(
        user=world.member_a, content_object=world.a
    ).delete()
    assert not PartnerAccount.objects.visible_to(world.member_a).exists()
    assert services.sync_account_permissions([world.a.pk]) == (1, 0)
    assert world.a in PartnerAccount.objects.visible_to(world.member_a)


def test_the_rules_grant_exactly_what_the_contract_says(world):
    assert grants(world.a) == {
        (email, perm)
        for email in (world.manager.email, world.partner_admin_a.email)
        for perm in services.ALL_PERMS
    } | {(world.member_a.email, "view_partneraccount")}
    assert grants(world.a_child) == {(world.manager.email, perm) for perm in services.ALL_PERMS} | {
        (world.partner_admin_a.email, "view_partneraccount")
    }


# --- contacts -------------------------------------------------------------------------------


def test_another_companys_admin_cannot_touch_a_contact(world):
    contact = Contact(account=world.a, first_name="X", last_name="Y", email="x@y.example")
    with pytest.raises(PermissionDenied):
        services.save_contact(actor=world.partner_admin_b, contact=contact)
    with pytest.raises(PermissionDenied):
        services.invite_contact(actor=world.partner_admin_b, contact=world.contact_plain_a)
    with pytest.raises(PermissionDenied):
        services.disable_portal_access(actor=world.partner_admin_b, contact=world.contact_member_a)
    with pytest.raises(PermissionDenied):
        services.invite_contact(actor=world.member_a, contact=world.contact_plain_a)
    assert not Invitation.objects.exists()


def test_portal_emails_are_unique_whatever_the_case(world):
    contact = Contact(
        account=world.b,
        first_name="J",
        last_name="P",
        email="Jamie@NORTHWIND.example",
        portal_access=PortalAccess.MEMBER,
    )
    with pytest.raises(ValidationError) as error:
        services.save_contact(actor=world.partner_admin_b, contact=contact)
    assert "email" in error.value.message_dict


def test_nobody_changes_their_own_portal_access(world):
    contact = Contact.objects.get(pk=world.contact_admin_a.pk)
    contact.portal_access = PortalAccess.MEMBER
    with pytest.raises(ValidationError) as error:
        services.save_contact(actor=world.partner_admin_a, contact=contact)
    assert "portal_access" in error.value.message_dict
    with pytest.raises(ValidationError):
        services.disable_portal_access(actor=world.partner_admin_a, contact=world.contact_admin_a)


def test_promoting_a_member_to_partner_admin_grants_change_and_manage(world):
    contact = Contact.objects.get(pk=world.contact_member_a.pk)
    contact.portal_access = PortalAccess.ADMIN
    services.save_contact(actor=world.partner_admin_a, contact=contact, roles=[])
    assert world.member_a.email in holders(world.a, "manage_partneraccount")
    assert world.member_a.email in holders(world.a_child)


def test_removing_access_from_a_login_means_disabling_it(world):
    contact = Contact.objects.get(pk=world.contact_member_a.pk)
    contact.portal_access = PortalAccess.NONE
    with pytest.raises(ValidationError, match="disable their access"):
        services.save_contact(actor=world.partner_admin_a, contact=contact)


def test_removing_access_revokes_open_invitations(world):
    invitation, _ = make_invitation(world.contact_plain_a, invited_by=world.partner_admin_a)
    contact = Contact.objects.get(pk=world.contact_plain_a.pk)
    contact.portal_access = PortalAccess.NONE
    services.save_contact(actor=world.partner_admin_a, contact=contact)
    invitation.refresh_from_db()
    assert invitation.state == "revoked"


def test_disabling_ends_access_and_revokes_the_permission_rows(world):
    services.disable_portal_access(actor=world.manager, contact=world.contact_member_a)
    assert world.member_a.email not in holders(world.a)
    services.enable_portal_access(actor=world.manager, contact=world.contact_member_a)
    assert world.member_a.email in holders(world.a)


# --- invitations ----------------------------------------------------------------------------


def test_nobody_is_invited_to_a_blocked_account(world):
    services.change_account_status(
        actor=world.manager, account=world.a, status=AccountStatus.SUSPENDED, reason="x"
    )
    with pytest.raises(ValidationError, match="not active"):
        services.invite_contact(actor=world.manager, contact=world.contact_plain_a)
    assert not Invitation.objects.exists()


def test_someone_with_a_login_is_not_invited_again(world):
    with pytest.raises(ValidationError, match="already has a login"):
        services.invite_contact(actor=world.partner_admin_a, contact=world.contact_member_a)


def test_inviting_enables_the_contact_as_a_member_and_records_it(world):
    invitation = services.invite_contact(actor=world.partner_admin_a, contact=world.contact_plain_a)
    world.contact_plain_a.refresh_from_db()
    assert world.contact_plain_a.portal_access == PortalAccess.MEMBER
    assert invitation.state == "open" and invitation.email == world.contact_plain_a.email
    entry = AuditEntry.objects.get(action=AuditAction.ACCESS)
    assert entry.changes == {"portal access": ["No portal access", "Member"]}


def test_inviting_again_revokes_the_previous_link(world):
    first = services.invite_contact(actor=world.partner_admin_a, contact=world.contact_plain_a)
    second = services.invite_contact(actor=world.partner_admin_a, contact=world.contact_plain_a)
    first.refresh_from_db()
    assert (first.state, second.state) == ("revoked", "open")


def test_accepting_creates_one_login_and_grants_access(world):
    _, token = make_invitation(world.contact_plain_a, invited_by=world.partner_admin_a)
    user = services.accept_invitation(
        token=token, password="a-long-passphrase-77", first_name="Casey", last_name="N."
    )
    assert user.email == "casey@northwind.example" and user.check_password("a-long-passphrase-77")
    assert user.emailaddress_set.get().verified
    assert user.email in holders(world.a)
    with pytest.raises(services.InvitationInvalid):
        services.accept_invitation(
            token=token, password="a-long-passphrase-77", first_name="A", last_name="B"
        )


def test_an_invitation_whose_email_became_a_login_is_refused(world):
    _, token = make_invitation(world.contact_plain_a, invited_by=world.partner_admin_a)
    make_user("casey@northwind.example")
    with pytest.raises(services.InvitationInvalid, match="already exists"):
        services.accept_invitation(token=token, password="x" * 12, first_name="A", last_name="B")
