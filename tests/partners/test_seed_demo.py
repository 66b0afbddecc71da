"""seed_demo: idempotent, the demo logins sign in, and the demo companies stay apart."""

from __future__ import annotations

from collections import defaultdict
from io import StringIO

import pytest
from allauth.account.models import EmailAddress
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.test import Client, override_settings
from django.urls import reverse

from partners.demo import DEMO_PASSWORD, plan_accounts
from partners.models import (
    AccountStatus,
    AuditAction,
    AuditEntry,
    Contact,
    Invitation,
    PartnerAccount,
    PartnerAccountUserObjectPermission,
    PortalAccess,
    Tier,
    Workspace,
    WorkspaceTab,
)
from prm.models import PARTNER_MANAGERS_GROUP
from prm.testing.fixtures import FAST_PASSWORD_HASHERS as FAST_HASHERS
from prm.testing.fixtures import rolled_back

pytestmark = pytest.mark.django_db

User = get_user_model()
ALL_PERMS = {"view_partneraccount", "change_partneraccount", "manage_partneraccount"}
DEMO_LOGINS = [
    "admin@openprm.example",
    "maya.manager@openprm.example",
    "leo.manager@openprm.example",
    "alex.admin@northwind.example",
    "jamie.member@northwind.example",
    "sam.admin@contoso-partners.example",
    "dana.admin@atlas-distribution.example",
]


def seed(partners: int) -> str:
    out = StringIO()
    call_command("seed_demo", partners=partners, stdout=out)
    return out.getvalue()


def table_counts() -> dict[str, int]:
    models = [
        Tier,
        Workspace,
        WorkspaceTab,
        PartnerAccount,
        Contact,
        Contact.roles.through,
        Invitation,
        AuditEntry,
        PartnerAccountUserObjectPermission,
        User,
        User.groups.through,
        EmailAddress,
    ]
    return {model._meta.label: model.objects.count() for model in models}


@pytest.fixture(scope="module")
def demo(django_db_setup, django_db_blocker):
    """The demo data with 40 partners, loaded once for the module and rolled back after it."""
    with override_settings(PASSWORD_HASHERS=FAST_HASHERS), rolled_back(django_db_blocker):
        seed(40)
        yield


@pytest.fixture(autouse=True)
def _fast_hashers(settings):
    settings.PASSWORD_HASHERS = FAST_HASHERS


def user(email):
    return User.objects.get(email=email)  # a fresh object: no cached role


def account(name):
    return PartnerAccount.objects.get(name=name)


def perms_by_account(person) -> dict[int, set[str]]:
    held = defaultdict(set)
    for account_id, codename in PartnerAccountUserObjectPermission.objects.filter(
        user=person
    ).values_list("content_object_id", "permission__codename"):
        held[account_id].add(codename)
    return dict(held)


# --- idempotency ----------------------------------------------------------------------------


def test_seed_demo_twice_changes_nothing():
    first_output = seed(15)
    first = table_counts()
    second_output = seed(15)

    assert table_counts() == first
    assert first["partners.PartnerAccount"] == 15
    assert "nothing (already loaded)" in second_output
    for email in DEMO_LOGINS:
        assert email in first_output and email in second_output


def test_a_bigger_run_extends_a_smaller_one_with_the_same_companies():
    seed(8)
    before = set(PartnerAccount.objects.values_list("name", flat=True))
    seed(20)
    after = set(PartnerAccount.objects.values_list("name", flat=True))

    assert before < after
    assert len(after) == 20


def test_the_plan_is_deterministic_and_a_prefix_of_a_bigger_plan():
    small, big = plan_accounts(12), plan_accounts(30)
    assert small == big[:12]
    assert plan_accounts(12) == small


# --- what it creates ------------------------------------------------------------------------


def test_tiers_and_workspaces(demo):
    assert list(Tier.objects.values_list("name", "rank")) == [
        ("Registered", 10),
        ("Silver", 20),
        ("Gold", 30),
        ("Platinum", 40),
    ]
    default = Workspace.objects.get(tier__isnull=True)
    platinum = Workspace.objects.get(tier__name="Platinum")
    registered = Workspace.objects.get(tier__name="Registered")
    enabled = {
        w.pk: set(w.tabs.filter(enabled=True).values_list("tab", flat=True))
        for w in (default, platinum, registered)
    }
    for workspace in (default, platinum, registered):
        assert {"home", "company"} <= enabled[workspace.pk]
    assert "dashboard" not in enabled[registered.pk]
    assert "dashboard" in enabled[default.pk]
    order = [list(w.tabs.values_list("tab", flat=True)) for w in (default, platinum)]
    assert order[0] != order[1]
    assert platinum.welcome_title != default.welcome_title
    assert default.welcome_message


def test_accounts_hierarchy_statuses_and_managers(demo):
    maya, leo = user("maya.manager@openprm.example"), user("leo.manager@openprm.example")
    assert PartnerAccount.objects.count() == 40
    northwind, contoso, atlas = (
        account("Northwind Systems"),
        account("Contoso Partners"),
        account("Atlas Distribution"),
    )
    assert (northwind.status, northwind.tier.name, northwind.parent, northwind.manager) == (
        AccountStatus.ACTIVE,
        "Gold",
        atlas,
        maya,
    )
    assert (contoso.status, contoso.tier.name, contoso.parent, contoso.manager) == (
        AccountStatus.ACTIVE,
        "Silver",
        None,
        leo,
    )
    distributors = PartnerAccount.objects.filter(children__isnull=False).distinct()
    assert 3 <= distributors.count() <= 4
    for distributor in distributors:
        assert distributor.tier.name in ("Gold", "Platinum")
        assert distributor.children.count() >= 2
    assert PartnerAccount.objects.filter(status=AccountStatus.SUSPENDED).count() == 1
    assert PartnerAccount.objects.filter(status=AccountStatus.ACTIVE).count() > 25
    managed = PartnerAccount.objects.filter(manager=maya).count()
    assert managed > PartnerAccount.objects.filter(manager=leo).count() > 0
    assert PartnerAccount.objects.filter(manager__isnull=True).exists()
    regions = set(PartnerAccount.objects.values_list("region", flat=True))
    assert regions == {"na", "latam", "emea", "apac"}
    assert not PartnerAccount.objects.filter(domain="").exists()


def test_every_account_has_contacts_with_exactly_one_primary(demo):
    for partner in PartnerAccount.objects.prefetch_related("contacts__roles"):
        contacts = list(partner.contacts.all())
        assert 2 <= len(contacts) <= 5, partner
        primaries = [c for c in contacts if any(r.code == "primary" for r in c.roles.all())]
        assert len(primaries) == 1, partner
    with_access = Contact.objects.exclude(portal_access=PortalAccess.NONE).count()
    assert with_access < Contact.objects.count() / 4


def test_history_is_recorded(demo):
    northwind = account("Northwind Systems")
    actions = set(AuditEntry.objects.filter(account=northwind).values_list("action", flat=True))
    assert {AuditAction.CREATE, AuditAction.CHANGE, AuditAction.ACCESS} <= actions
    suspended = PartnerAccount.objects.get(status=AccountStatus.SUSPENDED)
    entry = AuditEntry.objects.get(account=suspended, action=AuditAction.STATUS)
    assert entry.changes["status"] == ["Active", "Suspended"]
    assert entry.actor == user("admin@openprm.example")
    # The bulk-created companies carry the entry the service would have written.
    assert not PartnerAccount.objects.exclude(
        pk__in=AuditEntry.objects.filter(
            action=AuditAction.CREATE, object_type="partner account"
        ).values("object_id")
    ).exists()


def test_internal_users(demo):
    assert user("admin@openprm.example").is_superuser
    for email in ("maya.manager@openprm.example", "leo.manager@openprm.example"):
        assert user(email).groups.filter(name=PARTNER_MANAGERS_GROUP).exists()
    assert user("maya.manager@openprm.example").get_full_name() == "Maya Chen"


# --- logins and access ----------------------------------------------------------------------


@pytest.mark.parametrize("email", DEMO_LOGINS)
def test_demo_login_signs_in(demo, email):
    client = Client()
    response = client.post(reverse("account_login"), {"login": email, "password": DEMO_PASSWORD})

    assert response.status_code == 302
    assert client.session["_auth_user_id"] == str(user(email).pk)


def test_partner_admin_of_northwind_changes_northwind_and_sees_nothing_else(demo):
    alex, northwind = user("alex.admin@northwind.example"), account("Northwind Systems")
    children = set(northwind.children.values_list("pk", flat=True))

    held = perms_by_account(alex)

    assert held.pop(northwind.pk) == ALL_PERMS
    for account_id, codenames in held.items():
        assert account_id in children and codenames == {"view_partneraccount"}
    visible = set(PartnerAccount.objects.visible_to(alex).values_list("pk", flat=True))
    assert visible == {northwind.pk, *children}
    assert list(PartnerAccount.objects.changeable_by(alex)) == [northwind]


def test_member_of_northwind_only_views_northwind(demo):
    jamie, northwind = user("jamie.member@northwind.example"), account("Northwind Systems")

    assert perms_by_account(jamie) == {northwind.pk: {"view_partneraccount"}}
    assert not PartnerAccount.objects.changeable_by(jamie).exists()


def test_distributor_admin_sees_the_resellers_below_read_only(demo):
    dana, atlas = user("dana.admin@atlas-distribution.example"), account("Atlas Distribution")
    northwind = account("Northwind Systems")

    visible = PartnerAccount.objects.visible_to(dana)

    assert {atlas, northwind} <= set(visible)
    assert set(visible) == {atlas, *atlas.children.all()}
    assert list(PartnerAccount.objects.changeable_by(dana)) == [atlas]


def test_contoso_admin_cannot_see_northwind(demo):
    sam, northwind = user("sam.admin@contoso-partners.example"), account("Northwind Systems")

    assert not PartnerAccount.objects.visible_to(sam).filter(pk=northwind.pk).exists()
    assert list(PartnerAccount.objects.visible_to(sam)) == [account("Contoso Partners")]
    assert not Contact.objects.visible_to(sam).filter(account=northwind).exists()


def test_managers_see_the_accounts_assigned_to_them(demo):
    maya, leo = user("maya.manager@openprm.example"), user("leo.manager@openprm.example")
    northwind = account("Northwind Systems")

    assert set(PartnerAccount.objects.visible_to(maya)) == set(
        PartnerAccount.objects.filter(manager=maya)
    )
    assert not PartnerAccount.objects.visible_to(leo).filter(pk=northwind.pk).exists()
