"""Every model partners can reach is scoped: ``objects.visible_to(user)`` exists and keeps each
company to its own rows (ARCHITECTURE.md §3, STYLE.md "Reads")."""

from __future__ import annotations

import pytest
from django.apps import apps
from django.contrib.auth.models import AnonymousUser, Permission
from django.db.models import QuerySet

from partners import services
from partners.models import (
    AccountStatus,
    AuditEntry,
    Contact,
    ContactRole,
    Invitation,
    PartnerAccount,
    Tier,
    Workspace,
)
from prm.testing.world import make_invitation

pytestmark = pytest.mark.django_db

SCOPED_APPS = ("partners", "deals", "training", "analytics")

#: Models without ``visible_to``, and why nobody needs it. A stale entry fails the suite.
EXEMPT = {
    "partners.PartnerAccountUserObjectPermission": (
        "guardian's permission rows: internal, written only by sync_account_permissions and "
        "read only through prm.access.objects_with_perm"
    ),
    "partners.PartnerAccountGroupObjectPermission": (
        "guardian's group rows: never consulted (objects_with_perm passes use_groups=False)"
    ),
    "partners.WorkspaceTab": "admin configuration, read only through its Workspace",
}


def _label(model) -> str:
    return f"{model._meta.app_label}.{model.__name__}"


def scoped_models():
    return [m for app in SCOPED_APPS for m in apps.get_app_config(app).get_models()]


MODELS = {_label(m): m for m in scoped_models()}


def test_exemptions_are_not_stale():
    for label in EXEMPT:
        assert label in MODELS, f"{label} is exempt but no longer exists: remove the exemption"
        manager = MODELS[label]._default_manager
        assert not hasattr(manager, "visible_to"), (
            f"{label} now has visible_to: remove its exemption so it is checked"
        )


@pytest.mark.parametrize("label", sorted(set(MODELS) - set(EXEMPT)))
def test_every_model_partners_can_reach_has_visible_to(world, label):
    model = MODELS[label]
    for user in (world.member_a, world.partner_admin_a, world.manager, world.admin):
        rows = model.objects.visible_to(user)  # the base method raises NotImplementedError
        assert isinstance(rows, QuerySet) and rows.model is model
        list(rows[:5])
    assert not model.objects.visible_to(AnonymousUser()).exists()


# --- who sees which accounts ----------------------------------------------------------------


@pytest.fixture
def history(world):
    """An invitation and audit entries on A, A's child and B, so every scoped model has rows."""
    make_invitation(world.contact_plain_a, invited_by=world.partner_admin_a)
    make_invitation(world.contact_plain_b, invited_by=world.partner_admin_b)
    child_contact = Contact.objects.create(
        account=world.a_child, first_name="Kim", last_name="Child", email="kim@retail.example"
    )
    make_invitation(child_contact, invited_by=world.manager)
    for actor, account in ((world.manager, world.a), (world.manager, world.a_child)):
        services.record(actor=actor, account=account, action="change", obj=account)
    services.record(actor=world.other_manager, account=world.b, action="change", obj=world.b)
    return world


def accounts_of(model, user, world) -> set[str]:
    """Which of the world's accounts ``user`` sees rows of, for this model."""
    path = {
        PartnerAccount: "pk",
        Contact: "account_id",
        Invitation: "contact__account_id",
        AuditEntry: "account_id",
    }[model]
    names = {world.a.pk: "A", world.a_child.pk: "A_child", world.b.pk: "B"}
    seen = model.objects.visible_to(user).values_list(path, flat=True)
    return {names[pk] for pk in seen if pk in names}


TENANT_MODELS = [PartnerAccount, Contact, Invitation]


@pytest.mark.parametrize("model", [*TENANT_MODELS, AuditEntry], ids=lambda m: m.__name__)
def test_another_companys_partner_admin_sees_nothing_of_a(history, model):
    assert not accounts_of(model, history.partner_admin_b, history) & {"A", "A_child"}


@pytest.mark.parametrize("model", TENANT_MODELS, ids=lambda m: m.__name__)
@pytest.mark.parametrize(
    ("persona", "expected"),
    [
        ("member_a", {"A"}),
        ("partner_admin_a", {"A", "A_child"}),
        ("partner_admin_b", {"B"}),
        ("manager", {"A", "A_child"}),
        ("other_manager", {"B"}),
        ("admin", {"A", "A_child", "B"}),
    ],
)
def test_each_persona_sees_the_accounts_the_rules_give_them(history, model, persona, expected):
    assert accounts_of(model, getattr(history, persona), history) == expected


@pytest.mark.parametrize(
    ("persona", "expected"),
    [
        ("member_a", set()),
        ("partner_admin_a", set()),
        ("partner_admin_b", set()),
        ("manager", {"A", "A_child"}),
        ("other_manager", {"B"}),
        ("admin", {"A", "A_child", "B"}),
    ],
)
def test_the_audit_trail_is_internal(history, persona, expected):
    assert accounts_of(AuditEntry, getattr(history, persona), history) == expected


def test_partner_admins_see_their_child_account_read_only(world):
    user = world.partner_admin_a
    assert set(PartnerAccount.objects.changeable_by(user)) == {world.a}
    assert set(PartnerAccount.objects.manageable_by(user)) == {world.a}
    assert world.a_child in PartnerAccount.objects.visible_to(user)


def test_members_change_nothing(world):
    assert not PartnerAccount.objects.changeable_by(world.member_a).exists()
    assert not PartnerAccount.objects.manageable_by(world.member_a).exists()


def test_a_manager_with_the_global_view_permission_sees_every_account(history):
    user = history.other_manager
    user.user_permissions.add(Permission.objects.get(codename="view_partneraccount"))
    fresh = type(user).objects.get(pk=user.pk)  # permission caches live on the instance
    assert accounts_of(PartnerAccount, fresh, history) == {"A", "A_child", "B"}
    assert accounts_of(Contact, fresh, history) == {"A", "A_child", "B"}
    # Seeing is not changing: the permission to change stays with the assignment.
    assert set(PartnerAccount.objects.changeable_by(fresh)) == {history.b}


@pytest.mark.parametrize(("persona", "changeable"), [("member_a", ""), ("partner_admin_b", "b")])
def test_a_model_level_permission_does_not_widen_a_partner_users_view(history, persona, changeable):
    """guardian's defaults would return every row once a global permission exists: not here."""
    user = getattr(history, persona)
    before = {m: accounts_of(m, user, history) for m in (*TENANT_MODELS, AuditEntry)}
    perms = Permission.objects.filter(
        codename__in=[
            "view_partneraccount",
            "change_partneraccount",
            "manage_partneraccount",
            "view_contact",
            "view_invitation",
            "view_auditentry",
        ]
    )
    user.user_permissions.add(*perms)
    from prm.models import partner_managers_group

    group = partner_managers_group()
    group.permissions.add(*perms)
    fresh = type(user).objects.get(pk=user.pk)
    assert fresh.has_perm("partners.view_partneraccount")  # the global permission is there…
    after = {m: accounts_of(m, fresh, history) for m in (*TENANT_MODELS, AuditEntry)}
    assert after == before  # …and changes nothing
    own = {getattr(history, changeable)} if changeable else set()
    assert set(PartnerAccount.objects.changeable_by(fresh)) == own


def test_a_superuser_flag_alone_is_not_what_guardian_is_asked(world):
    """objects_with_perm asks guardian with with_superuser=False: a superuser's all-access comes
    from the role, in one place (sees_everything), not from guardian."""
    from prm.access import objects_with_perm

    rows = objects_with_perm(world.admin, "partners.view_partneraccount", PartnerAccount.objects)
    assert not rows.exists()
    assert PartnerAccount.objects.visible_to(world.admin).count() == 3


def test_a_disabled_user_sees_nothing(world):
    services.disable_portal_access(actor=world.partner_admin_a, contact=world.contact_member_a)
    user = type(world.member_a).objects.get(pk=world.member_a.pk)
    for model in TENANT_MODELS:
        assert not model.objects.visible_to(user).exists()


def test_users_of_a_suspended_account_see_nothing_of_it(world):
    services.change_account_status(
        actor=world.manager, account=world.a, status=AccountStatus.SUSPENDED, reason="x"
    )
    user = type(world.member_a).objects.get(pk=world.member_a.pk)
    assert not PartnerAccount.objects.visible_to(user).exists()
    # The manager still does: the account is theirs to re-activate.
    assert world.a in PartnerAccount.objects.visible_to(world.manager)


def test_partners_see_their_tiers_workspace_or_the_default_only(world):
    silver = Tier.objects.create(name="Silver", rank=20)
    own = Workspace.objects.create(name="Gold partners", tier=world.tier)
    default = Workspace.objects.create(name="Everyone")
    other = Workspace.objects.create(name="Silver partners", tier=silver)
    assert set(Workspace.objects.visible_to(world.member_a)) == {own, default}
    assert set(Workspace.objects.visible_to(world.manager)) == {own, default, other}


def test_reference_data_is_for_signed_in_users(world):
    assert Tier.objects.visible_to(world.member_a).exists()
    assert ContactRole.objects.visible_to(world.partner_admin_b).exists()
    assert not ContactRole.objects.visible_to(AnonymousUser()).exists()
