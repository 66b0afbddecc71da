"""The admin: every page loads within a fixed query budget, and its writes go through services."""

from __future__ import annotations

from io import StringIO
from unittest import mock

import pytest
from django.contrib import admin
from django.contrib.auth import get_user_model
from django.contrib.messages import get_messages
from django.core import mail
from django.core.management import call_command
from django.urls import reverse

from partners.models import (
    AccountStatus,
    AuditAction,
    AuditEntry,
    Contact,
    ContactRole,
    Invitation,
    PartnerAccount,
    PartnerAccountGroupObjectPermission,
    PartnerAccountUserObjectPermission,
    PortalAccess,
)
from prm.models import PendingTask, SentMessage

pytestmark = pytest.mark.django_db

User = get_user_model()
#: Every changelist's budget (they take 4-8 today); what matters more is that it does not grow.
MAX_QUERIES = 12
FAST_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
OUR_MODELS = [m for m in admin.site._registry if m._meta.app_label in ("partners", "prm")]


@pytest.fixture
def eager_tasks():
    from prm.celery import app

    saved = app.conf.task_always_eager
    app.conf.task_always_eager = True
    yield
    app.conf.task_always_eager = saved


def seed(partners: int) -> None:
    call_command("seed_demo", partners=partners, stdout=StringIO())


def add_outbox_rows(count: int) -> None:
    start = PendingTask.objects.count()
    for i in range(start, start + count):
        PendingTask.objects.create(task_name="partners.send_invitation", args=[i, "t"], error="x")
        SentMessage.objects.create(key=f"invitation:{i}")


@pytest.fixture
def admin_client(client, settings):
    settings.PASSWORD_HASHERS = FAST_HASHERS
    seed(5)
    client.force_login(User.objects.get(email="admin@openprm.example"))
    return client


def changelist(model) -> str:
    return reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_changelist")


def messages_of(response) -> list[str]:
    return [str(m) for m in get_messages(response.wsgi_request)]


def user(email):
    return User.objects.get(email=email)


# --- every page loads -----------------------------------------------------------------------


def test_every_changelist_loads_with_the_same_queries_for_5_and_50_accounts(
    admin_client, django_assert_max_num_queries
):
    add_outbox_rows(3)
    small = {}
    for model in OUR_MODELS:
        url = changelist(model)
        admin_client.get(url)  # the first request of a session also writes the session
        with django_assert_max_num_queries(MAX_QUERIES) as captured:
            response = admin_client.get(url)
        assert response.status_code == 200, url
        small[url] = len(captured.captured_queries)

    seed(50)
    add_outbox_rows(30)
    assert PartnerAccount.objects.count() == 50
    big = {}
    for model in OUR_MODELS:
        url = changelist(model)
        admin_client.get(url)
        with django_assert_max_num_queries(MAX_QUERIES) as captured:
            response = admin_client.get(url)
        assert response.status_code == 200, url
        big[url] = len(captured.captured_queries)

    assert big == small


def test_every_change_and_add_page_loads(admin_client):
    request = mock.Mock(user=user("admin@openprm.example"))
    for model in OUR_MODELS:
        model_admin = admin.site._registry[model]
        info = model._meta.app_label, model._meta.model_name
        if model_admin.has_add_permission(request):
            response = admin_client.get(reverse("admin:{}_{}_add".format(*info)))
            assert response.status_code == 200, model
        obj = model._default_manager.order_by("pk").first()
        if obj is not None:
            response = admin_client.get(reverse("admin:{}_{}_change".format(*info), args=[obj.pk]))
            assert response.status_code == 200, model


@pytest.mark.parametrize(
    "model",
    [PartnerAccountUserObjectPermission, PartnerAccountGroupObjectPermission, AuditEntry],
)
def test_permission_rows_and_audit_trail_are_view_only(admin_client, model):
    info = model._meta.app_label, model._meta.model_name
    assert admin_client.get(reverse("admin:{}_{}_add".format(*info))).status_code == 403
    row = model._default_manager.first()
    if row is not None:
        url = reverse("admin:{}_{}_change".format(*info), args=[row.pk])
        assert admin_client.get(url).status_code == 200
        assert admin_client.post(url, {}).status_code == 403
        delete = reverse("admin:{}_{}_delete".format(*info), args=[row.pk])
        assert admin_client.post(delete, {"post": "yes"}).status_code == 403
        assert model._default_manager.filter(pk=row.pk).exists()


def test_user_list_shows_each_persons_role(admin_client):
    response = admin_client.get(changelist(User))
    text = response.content.decode()
    assert "Partner admin · Northwind Systems" in text
    assert "Member · Northwind Systems" in text
    assert "Partner manager" in text
    response = admin_client.get(changelist(User), {"role": "manager"})
    emails = {u.email for u in response.context["cl"].result_list}
    assert emails == {"maya.manager@openprm.example", "leo.manager@openprm.example"}


def test_admin_creates_a_login_with_email_and_password(admin_client):
    response = admin_client.post(
        reverse("admin:prm_user_add"),
        {
            "email": "New.Person@OpenPRM.example",
            "first_name": "New",
            "last_name": "Person",
            "usable_password": "true",
            "password1": "a-long-enough-passphrase-42",
            "password2": "a-long-enough-passphrase-42",
        },
    )
    assert response.status_code == 302, response.context["adminform"].form.errors
    created = User.objects.get(email="new.person@openprm.example")
    assert created.check_password("a-long-enough-passphrase-42")


# --- partner accounts -----------------------------------------------------------------------


def test_suspend_action_blocks_the_account_and_revokes_its_partner_users(admin_client):
    northwind = PartnerAccount.objects.get(name="Northwind Systems")
    partner_users = [user("alex.admin@northwind.example"), user("jamie.member@northwind.example")]
    own_rows = PartnerAccountUserObjectPermission.objects.filter(
        user__in=partner_users, content_object=northwind
    )
    assert own_rows.exists()

    response = admin_client.post(
        changelist(PartnerAccount), {"action": "suspend", "_selected_action": [northwind.pk]}
    )

    assert response.status_code == 302
    northwind.refresh_from_db()
    assert northwind.status == AccountStatus.SUSPENDED
    entry = AuditEntry.objects.filter(account=northwind, action=AuditAction.STATUS).latest("pk")
    assert entry.changes["status"] == ["Active", "Suspended"]
    assert entry.actor == user("admin@openprm.example")
    assert not own_rows.exists()
    # Its manager keeps access: the manager is who gets told and follows up.
    maya = user("maya.manager@openprm.example")
    assert PartnerAccount.objects.visible_to(maya).filter(pk=northwind.pk).exists()
    assert "Suspended 1 partner account(s)." in messages_of(response)


def test_account_saved_in_the_admin_goes_through_the_service(admin_client):
    maya = user("maya.manager@openprm.example")
    atlas = PartnerAccount.objects.get(name="Atlas Distribution")
    response = admin_client.post(
        reverse("admin:partners_partneraccount_add"),
        {
            "name": "Fresh Reseller",
            "website": "https://www.fresh-reseller.example/about",
            "status": AccountStatus.ONBOARDING,
            "parent": atlas.pk,
            "manager": maya.pk,
            "contacts-TOTAL_FORMS": "1",
            "contacts-INITIAL_FORMS": "0",
            "contacts-0-first_name": "Kim",
            "contacts-0-last_name": "Lopez",
            "contacts-0-email": "kim@fresh-reseller.example",
            "contacts-0-portal_access": PortalAccess.NONE,
        },
    )

    assert response.status_code == 302, response.context["adminform"].form.errors
    fresh = PartnerAccount.objects.get(name="Fresh Reseller")
    assert fresh.domain == "fresh-reseller.example"
    assert AuditEntry.objects.filter(account=fresh, action=AuditAction.CREATE).count() == 2
    assert PartnerAccount.objects.visible_to(maya).filter(pk=fresh.pk).exists()
    assert fresh.contacts.get().email == "kim@fresh-reseller.example"


def test_a_loop_in_the_hierarchy_is_a_form_error(admin_client):
    atlas = PartnerAccount.objects.get(name="Atlas Distribution")
    northwind = PartnerAccount.objects.get(name="Northwind Systems")
    url = reverse("admin:partners_partneraccount_change", args=[atlas.pk])
    form = admin_client.get(url).context["adminform"].form
    data = {name: value for name, value in form.initial.items() if value is not None}
    data.update(
        {
            "parent": northwind.pk,
            "tier": atlas.tier_id,
            "manager": atlas.manager_id,
            "contacts-TOTAL_FORMS": "0",
            "contacts-INITIAL_FORMS": "0",
        }
    )
    response = admin_client.post(url, data)

    assert response.status_code == 200
    assert "below this one in the hierarchy" in str(response.context["adminform"].form.errors)
    atlas.refresh_from_db()
    assert atlas.parent is None


def test_manager_choices_are_partner_managers_and_admins(admin_client):
    url = reverse("admin:partners_partneraccount_add")
    choices = admin_client.get(url).context["adminform"].form.fields["manager"].queryset
    assert set(choices.values_list("email", flat=True)) == {
        "admin@openprm.example",
        "maya.manager@openprm.example",
        "leo.manager@openprm.example",
    }


# --- contacts -------------------------------------------------------------------------------


def test_enable_as_partner_sends_one_invitation_and_reports_refusals(
    admin_client, eager_tasks, django_capture_on_commit_callbacks
):
    robin = Contact.objects.get(email="robin.lee@contoso-partners.example")
    sam = Contact.objects.get(email="sam.admin@contoso-partners.example")  # already has a login
    mail.outbox.clear()

    with django_capture_on_commit_callbacks(execute=True):
        response = admin_client.post(
            changelist(Contact), {"action": "invite", "_selected_action": [robin.pk, sam.pk]}
        )

    assert response.status_code == 302
    assert [m.to for m in mail.outbox] == [["robin.lee@contoso-partners.example"]]
    robin.refresh_from_db()
    assert robin.portal_access == PortalAccess.MEMBER
    assert Invitation.objects.open().filter(contact=robin).count() == 1
    texts = messages_of(response)
    assert "Sent 1 invitation(s)." in texts
    assert "Sam Patel: This person already has a login." in texts


def test_disable_and_re_enable_portal_access(admin_client):
    jamie = Contact.objects.get(email="jamie.member@northwind.example")

    admin_client.post(
        changelist(Contact), {"action": "disable_access", "_selected_action": [jamie.pk]}
    )
    jamie.refresh_from_db()
    assert not jamie.user.is_active
    assert not PartnerAccountUserObjectPermission.objects.filter(user=jamie.user).exists()

    admin_client.post(
        changelist(Contact), {"action": "enable_access", "_selected_action": [jamie.pk]}
    )
    jamie.refresh_from_db()
    assert jamie.user.is_active
    assert PartnerAccountUserObjectPermission.objects.filter(user=jamie.user).exists()


def test_contact_roles_changed_in_the_admin_are_audited_once(admin_client):
    casey = Contact.objects.get(email="casey.nguyen@northwind.example")
    sales, technical = (
        ContactRole.objects.get(code="sales"),
        ContactRole.objects.get(code="technical"),
    )
    url = reverse("admin:partners_contact_change", args=[casey.pk])
    response = admin_client.post(
        url,
        {
            "first_name": casey.first_name,
            "last_name": casey.last_name,
            "email": casey.email,
            "title": casey.title,
            "phone": "",
            "roles": [sales.pk, technical.pk],
            "portal_access": casey.portal_access,
            "invitations-TOTAL_FORMS": "0",
            "invitations-INITIAL_FORMS": "0",
        },
    )

    assert response.status_code == 302, response.context["adminform"].form.errors
    assert set(casey.roles.values_list("code", flat=True)) == {"sales", "technical"}
    entry = AuditEntry.objects.filter(account=casey.account, object_id=casey.pk).latest("pk")
    assert entry.action == AuditAction.CHANGE
    assert entry.actor == user("admin@openprm.example")
    assert entry.changes["roles"] == ["Technical", "Sales, Technical"]


def test_revoke_invitation(admin_client):
    invitation = Invitation.objects.open().get()

    admin_client.post(
        changelist(Invitation), {"action": "revoke", "_selected_action": [invitation.pk]}
    )

    invitation.refresh_from_db()
    assert invitation.state == "revoked"
    assert AuditEntry.objects.filter(message="Invitation revoked").exists()


# --- the outbox -----------------------------------------------------------------------------


def test_resend_now_calls_the_resender(admin_client):
    add_outbox_rows(2)
    with mock.patch("prm.admin.resend_pending_tasks", return_value=2) as resend:
        response = admin_client.post(
            changelist(PendingTask),
            {
                "action": "resend_now",
                "_selected_action": list(PendingTask.objects.values_list("pk", flat=True)),
            },
        )
    resend.assert_called_once()
    assert "Re-sent 2 task(s) to the workers." in messages_of(response)


def test_account_page_links_to_its_audit_trail(admin_client):
    northwind = PartnerAccount.objects.get(name="Northwind Systems")
    url = reverse("admin:partners_auditentry_changelist") + f"?account__id__exact={northwind.pk}"

    response = admin_client.get(url)

    assert response.status_code == 200
    accounts = {entry.account_id for entry in response.context["cl"].result_list}
    assert accounts == {northwind.pk}
    page = admin_client.get(reverse("admin:partners_partneraccount_change", args=[northwind.pk]))
    assert url.replace("&", "&amp;") in page.content.decode()
