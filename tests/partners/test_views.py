"""Partner pages as their users meet them: the company profile, contacts, the manager's view of an
account (who can see it and why, its history), the CSV export, and the portal's workspace tabs."""

from __future__ import annotations

import csv
import io

import pytest
from django.contrib.auth.models import Permission
from django.urls import reverse

from partners.models import (
    AccountStatus,
    AuditEntry,
    Contact,
    Invitation,
    PartnerAccount,
    PartnerAccountUserObjectPermission,
    PortalAccess,
    PortalTab,
    Tier,
    Workspace,
    WorkspaceTab,
)
from partners.services import record
from prm.testing.fixtures import login_as
from prm.testing.world import make_invitation

pytestmark = pytest.mark.django_db


def profile_data(account, **changes):
    data = {
        "name": account.name,
        "website": account.website,
        "phone": account.phone,
        "country": account.country,
        "industry": account.industry,
        "description": account.description,
    }
    return {**data, **changes}


def contact_data(**changes):
    data = {
        "first_name": "Morgan",
        "last_name": "Lee",
        "email": "morgan.lee@northwind.example",
        "phone": "",
        "title": "Solutions engineer",
        "portal_access": PortalAccess.MEMBER,
    }
    return {**data, **changes}


def page(response) -> str:
    return response.content.decode()


# --- the company profile --------------------------------------------------------------------


def test_partner_admin_edits_the_company_profile(client, world):
    login_as(client, world.partner_admin_a)
    url = reverse("partners:partner_edit", args=[world.a.pk])
    response = client.post(
        url,
        profile_data(
            world.a, phone="+49 30 1234", description="Distributor", website="northwind.example"
        ),
    )
    assert response.status_code == 302
    assert response["Location"] == reverse("partners:partner", args=[world.a.pk])
    world.a.refresh_from_db()
    assert (world.a.phone, world.a.description) == ("+49 30 1234", "Distributor")
    assert world.a.domain == "northwind.example"
    entry = AuditEntry.objects.get(account=world.a, actor=world.partner_admin_a)
    assert entry.changes["phone"] == ["", "+49 30 1234"]
    assert "Company profile saved." in page(client.get(response["Location"]))


def test_partner_admins_form_has_no_program_fields_and_a_forged_post_changes_none(client, world):
    login_as(client, world.partner_admin_a)
    url = reverse("partners:partner_edit", args=[world.a.pk])
    form = client.get(url).context["form"]
    assert not {"status", "tier", "manager", "parent", "partner_since", "region"} & set(form.fields)
    silver = Tier.objects.create(name="Platinum", rank=99)
    forged = profile_data(
        world.a,
        phone="555",
        status=AccountStatus.SUSPENDED,
        tier=silver.pk,
        manager=world.partner_admin_a.pk,
        parent=world.b.pk,
        region="apac",
        partner_since="2001-01-01",
    )
    assert client.post(url, forged).status_code == 302
    world.a.refresh_from_db()
    assert world.a.phone == "555"
    assert (world.a.status, world.a.tier, world.a.manager, world.a.parent) == (
        AccountStatus.ACTIVE,
        world.tier,
        world.manager,
        None,
    )
    assert (world.a.region, world.a.partner_since) == ("emea", None)


def test_a_member_may_look_but_not_edit(client, world):
    login_as(client, world.member_a)
    url = reverse("partners:partner_edit", args=[world.a.pk])
    assert client.get(url).status_code == 403
    assert client.post(url, profile_data(world.a, name="Hijacked")).status_code == 403
    world.a.refresh_from_db()
    assert world.a.name == "Northwind Systems"
    detail = page(client.get(reverse("partners:partner", args=[world.a.pk])))
    assert url not in detail


def test_a_partner_admin_reads_the_child_account_but_cannot_edit_it(client, world):
    login_as(client, world.partner_admin_a)
    assert client.get(reverse("partners:partner", args=[world.a_child.pk])).status_code == 200
    assert client.get(reverse("partners:partner_edit", args=[world.a_child.pk])).status_code == 403
    add = reverse("partners:contact_add", args=[world.a_child.pk])
    assert client.get(add).status_code == 403


def test_profile_errors_keep_what_was_typed(client, world):
    login_as(client, world.partner_admin_a)
    url = reverse("partners:partner_edit", args=[world.a.pk])
    response = client.post(url, profile_data(world.a, name="", description="Kept text 42"))
    assert response.status_code == 200
    assert "name" in response.context["form"].errors
    assert "Kept text 42" in page(response)


def test_manager_changes_status_with_a_reason_and_sees_it_in_the_history(client, world):
    login_as(client, world.manager)
    url = reverse("partners:partner_status", args=[world.a.pk])
    response = client.post(url, {"status": AccountStatus.INACTIVE, "reason": ""})
    world.a.refresh_from_db()
    assert world.a.status == AccountStatus.ACTIVE  # a reason is required
    detail = page(client.get(response["Location"]))
    assert "Say why" in detail
    client.post(url, {"status": AccountStatus.INACTIVE, "reason": "Contract ended"})
    world.a.refresh_from_db()
    assert world.a.status == AccountStatus.INACTIVE
    detail = page(client.get(reverse("partners:partner", args=[world.a.pk])))
    assert "Its users can no longer sign in." in detail
    assert "Contract ended" in detail


# --- contacts -------------------------------------------------------------------------------


@pytest.mark.parametrize("email", ["jamie@northwind.example", "JAMIE@Northwind.Example"])
def test_a_duplicate_portal_email_is_an_error_at_the_email_field_and_nothing_is_lost(
    client, world, email
):
    login_as(client, world.partner_admin_a)
    before = Contact.objects.count()
    response = client.post(
        reverse("partners:contact_add", args=[world.a.pk]),
        contact_data(first_name="Morgana", last_name="Typedname", email=email),
    )
    assert response.status_code == 200
    form = response.context["form"]
    assert "already uses this email" in " ".join(form.errors["email"])
    html = page(response)
    assert 'value="Morgana"' in html and 'value="Typedname"' in html
    assert Contact.objects.count() == before


def test_an_email_that_is_already_a_login_is_refused(client, world):
    login_as(client, world.partner_admin_a)
    response = client.post(
        reverse("partners:contact_add", args=[world.a.pk]),
        contact_data(email=world.manager.email),
    )
    assert response.status_code == 200
    assert "another login" in " ".join(response.context["form"].errors["email"])


def test_a_contact_without_portal_access_may_share_an_email(client, world):
    login_as(client, world.partner_admin_a)
    response = client.post(
        reverse("partners:contact_add", args=[world.a.pk]),
        contact_data(email="jamie@northwind.example", portal_access=PortalAccess.NONE),
    )
    assert response.status_code == 302
    assert Contact.objects.filter(email="jamie@northwind.example").count() == 2


def test_partner_admin_edits_a_contact_and_roles(client, world):
    login_as(client, world.partner_admin_a)
    contact = world.contact_plain_a
    response = client.post(
        reverse("partners:contact_edit", args=[contact.pk]),
        {
            **contact_data(
                first_name="Casey",
                last_name="Nguyen-Park",
                email=contact.email,
                portal_access=PortalAccess.NONE,
            ),
            "roles": [r.pk for r in contact.roles.all()],
        },
    )
    assert response.status_code == 302
    contact.refresh_from_db()
    assert contact.last_name == "Nguyen-Park"
    entry = AuditEntry.objects.filter(object_id=contact.pk, object_type="contact").latest("pk")
    assert entry.changes["last name"] == ["Nguyen", "Nguyen-Park"]


def test_the_email_of_someone_who_can_sign_in_is_not_editable(client, world):
    login_as(client, world.partner_admin_a)
    contact = world.contact_member_a
    url = reverse("partners:contact_edit", args=[contact.pk])
    form = client.get(url).context["form"]
    assert form.fields["email"].disabled
    client.post(url, contact_data(email="other@evil.example", first_name="Jamie", last_name="Park"))
    contact.refresh_from_db()
    assert contact.email == "jamie@northwind.example"


def test_htmx_invite_answers_with_the_row_and_the_messages_out_of_band(client, world):
    login_as(client, world.partner_admin_a)
    contact = world.contact_plain_a
    response = client.post(
        reverse("partners:contact_invite", args=[contact.pk]), headers={"HX-Request": "true"}
    )
    assert response.status_code == 200
    html = page(response)
    assert html.lstrip().startswith(f'<tr id="contact-{contact.pk}"')
    assert "Invited" in html
    assert 'id="messages"' in html and 'hx-swap-oob="true"' in html
    assert f"Invitation sent to {contact.email}" in html
    assert Invitation.objects.open().filter(contact=contact).count() == 1


def test_a_plain_post_to_an_action_redirects_back_to_the_account(client, world):
    login_as(client, world.partner_admin_a)
    response = client.post(reverse("partners:contact_invite", args=[world.contact_plain_a.pk]))
    assert response.status_code == 302
    assert response["Location"] == reverse("partners:partner", args=[world.a.pk])


def test_an_action_that_is_refused_says_why(client, world):
    login_as(client, world.partner_admin_a)
    response = client.post(
        reverse("partners:contact_disable", args=[world.contact_admin_a.pk]),
        headers={"HX-Request": "true"},
    )
    assert response.status_code == 200
    assert "You can&#x27;t disable your own access." in page(response)
    world.partner_admin_a.refresh_from_db()
    assert world.partner_admin_a.is_active


def test_disable_and_re_enable_a_colleague(client, world):
    login_as(client, world.partner_admin_a)
    contact = world.contact_member_a
    client.post(reverse("partners:contact_disable", args=[contact.pk]))
    world.member_a.refresh_from_db()
    assert not world.member_a.is_active
    row = page(
        client.post(
            reverse("partners:contact_enable", args=[contact.pk]), headers={"HX-Request": "true"}
        )
    )
    world.member_a.refresh_from_db()
    assert world.member_a.is_active
    assert "Can sign in" in row and "can sign in again" in row
    messages = [e.message for e in AuditEntry.objects.filter(object_id=contact.pk)]
    assert "Portal access disabled" in messages and "Portal access re-enabled" in messages


# --- what internal users see on an account --------------------------------------------------


def access_rows(client, account) -> dict[str, object]:
    rows = client.get(reverse("partners:partner", args=[account.pk])).context["access_rows"]
    return {row.user.email: row for row in rows}


def test_access_explained_names_assignment_role_and_hierarchy(client, world):
    login_as(client, world.manager)
    rows = access_rows(client, world.a)
    assert rows[world.manager.email].how == "Assignment"
    assert rows[world.partner_admin_a.email].how == "Role"
    assert rows[world.member_a.email].how == "Role"
    assert rows[world.admin.email].how == "Admin"
    assert world.partner_admin_b.email not in rows
    assert world.other_manager.email not in rows

    child = access_rows(client, world.a_child)
    assert child[world.partner_admin_a.email].how == "Hierarchy"
    assert child[world.partner_admin_a.email].perms == ["view"]
    assert world.member_a.email not in child


def test_access_explained_flags_a_hand_made_grant(client, world):
    PartnerAccountUserObjectPermission.objects.create(
        user=world.other_manager,
        permission=Permission.objects.get(codename="view_partneraccount"),
        content_object=world.a,
    )
    login_as(client, world.manager)
    rows = access_rows(client, world.a)
    row = rows[world.other_manager.email]
    assert row.how == "Explicit grant"
    assert row.drift == "explicit"
    html = page(client.get(reverse("partners:partner", args=[world.a.pk])))
    assert "Explicit grant that no rule explains" in html


def test_access_explained_lists_holders_of_the_global_view_permission(client, world):
    world.other_manager.user_permissions.add(Permission.objects.get(codename="view_partneraccount"))
    login_as(client, world.manager)
    assert access_rows(client, world.a)[world.other_manager.email].how == "Global permission"


def test_the_history_shows_who_changed_what(client, world):
    login_as(client, world.manager)
    client.post(
        reverse("partners:partner_edit", args=[world.a.pk]),
        {
            **profile_data(world.a, phone="+49 40 999"),
            "tier": world.tier.pk,
            "manager": world.manager.pk,
            "region": "emea",
        },
    )
    html = page(client.get(reverse("partners:partner", args=[world.a.pk])))
    history = html[html.index('id="history-h"') :]
    assert "Maya Manager" in history
    assert "Phone:" in history and "+49 40 999" in history


def test_the_history_shows_old_and_new_values(client, world):
    login_as(client, world.manager)
    world.a.phone = "111"
    world.a.save()
    client.post(
        reverse("partners:partner_edit", args=[world.a.pk]),
        {
            **profile_data(world.a, phone="222"),
            "tier": world.tier.pk,
            "manager": world.manager.pk,
            "region": "emea",
        },
    )
    html = page(client.get(reverse("partners:partner", args=[world.a.pk])))
    assert "<del>111</del> → 222" in html


def test_a_change_without_a_person_shows_as_system(client, world):
    record(actor=None, account=world.a, action="change", obj=world.a, message="Nightly job")
    login_as(client, world.manager)
    html = page(client.get(reverse("partners:partner", args=[world.a.pk])))
    assert "System" in html and "Nightly job" in html


def test_partner_users_see_no_history_and_no_access_table(client, world):
    login_as(client, world.partner_admin_a)
    response = client.get(reverse("partners:partner", args=[world.a.pk]))
    assert "history" not in response.context and "access_rows" not in response.context
    assert 'id="history-h"' not in page(response)


# --- the list and its export ----------------------------------------------------------------


def test_a_manager_lists_only_assigned_partners_and_filters_them(client, world):
    login_as(client, world.manager)
    names = [r.record.name for r in client.get("/partners/").context["table"].paginated_rows]
    assert names == ["Northwind Retail", "Northwind Systems"]
    filtered = client.get("/partners/", {"q": "retail"}).context["table"].paginated_rows
    assert [r.record.name for r in filtered] == ["Northwind Retail"]


def test_a_filter_naming_someone_elses_manager_shows_nothing_more(client, world):
    login_as(client, world.manager)
    response = client.get("/partners/", {"manager": world.other_manager.pk})
    assert [r.record for r in response.context["table"].paginated_rows] == []


def csv_rows(response) -> list[list[str]]:
    return list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode())))


def test_csv_export_neutralises_formulas_and_holds_only_visible_rows(client, world):
    world.a.name = '=HYPERLINK("http://evil.example","click")'
    world.a.save()
    world.a_child.name = "+cmd|' /C calc'!A0"
    world.a_child.save()
    login_as(client, world.manager)
    response = client.get("/partners/export.csv")
    assert response["Content-Type"].startswith("text/csv")
    rows = csv_rows(response)
    names = sorted(row[0] for row in rows[1:])
    assert names == ["'+cmd|' /C calc'!A0", '\'=HYPERLINK("http://evil.example","click")']
    assert not any("Contoso" in cell for row in rows for cell in row)


def test_csv_export_follows_the_filters(client, world):
    login_as(client, world.admin)
    rows = csv_rows(client.get("/partners/export.csv", {"region": "na"}))
    assert [row[0] for row in rows[1:]] == ["Contoso Partners"]


# --- the portal's workspace -----------------------------------------------------------------


def gold_workspace(world, **tabs):
    """A workspace for the world's tier; ``tabs`` maps tab → (position, enabled)."""
    workspace = Workspace.objects.create(
        name="Gold partners",
        tier=world.tier,
        welcome_title="Welcome, Gold partner",
        welcome_message="Quarterly <b>kick-off</b> on Monday.",
    )
    for tab, (position, enabled) in tabs.items():
        WorkspaceTab.objects.create(
            workspace=workspace, tab=tab, position=position, enabled=enabled
        )
    return workspace


def nav_labels(response) -> list[str]:
    return [item["label"] for item in response.context["nav_items"]]


def test_a_workspace_without_the_company_tab_closes_the_company_pages(client, world):
    gold_workspace(world, home=(0, True), company=(1, False))
    login_as(client, world.partner_admin_a)
    home = client.get("/portal/")
    assert home.status_code == 200
    assert "Company" not in nav_labels(home)
    for url in (
        "/portal/company/",
        reverse("partners:partner", args=[world.a.pk]),
        reverse("partners:partner_edit", args=[world.a.pk]),
        reverse("partners:contact_add", args=[world.a.pk]),
        reverse("partners:contact_edit", args=[world.contact_plain_a.pk]),
    ):
        assert client.get(url).status_code == 404, url


def test_a_workspace_does_not_limit_internal_users(client, world):
    gold_workspace(world, home=(0, True), company=(1, False))
    login_as(client, world.manager)
    assert client.get(reverse("partners:partner", args=[world.a.pk])).status_code == 200


def test_tabs_follow_their_positions_and_labels(client, world):
    workspace = gold_workspace(world, company=(0, True), home=(5, True))
    WorkspaceTab.objects.filter(workspace=workspace, tab=PortalTab.COMPANY).update(
        label="Our company"
    )
    login_as(client, world.member_a)
    assert nav_labels(client.get("/portal/")) == ["Our company", "Home"]


def test_home_cannot_be_switched_off(client, world):
    gold_workspace(world, home=(3, False), company=(1, True))
    login_as(client, world.member_a)
    response = client.get("/portal/")
    assert response.status_code == 200
    assert nav_labels(response) == ["Company", "Home"]


def test_the_welcome_message_shows_on_the_portal_home(client, world):
    gold_workspace(world, home=(0, True), company=(1, True))
    login_as(client, world.member_a)
    html = page(client.get("/portal/"))
    assert "Welcome, Gold partner" in html
    assert "Quarterly &lt;b&gt;kick-off&lt;/b&gt; on Monday." in html  # escaped


def test_the_default_workspace_serves_tiers_without_their_own(client, world):
    Workspace.objects.create(name="Everyone", welcome_message="Hello from the default")
    login_as(client, world.member_a)
    assert "Hello from the default" in page(client.get("/portal/"))


def test_portal_home_lists_next_steps_for_a_partner_admin(client, world):
    make_invitation(world.contact_plain_a, invited_by=world.partner_admin_a)
    login_as(client, world.partner_admin_a)
    response = client.get("/portal/")
    titles = [t.title for t in response.context["tasks"]]
    assert "Protect your login" in titles
    assert "Complete your company profile" in titles
    assert "1 invitation(s) not yet accepted" in titles
    assert response.context["colleagues"] == 2
    login_as(client, world.member_a)
    assert [t.title for t in client.get("/portal/").context["tasks"]] == ["Protect your login"]


def test_user_text_is_escaped_on_every_page(client, world):
    world.a.name = "<script>alert(1)</script>"
    world.a.save()
    world.contact_plain_a.first_name = "<img src=x onerror=alert(2)>"
    world.contact_plain_a.save()
    login_as(client, world.manager)
    for url in (
        "/partners/",
        reverse("partners:partner", args=[world.a.pk]),
        reverse("partners:partner_edit", args=[world.a.pk]),
        reverse("partners:contact_edit", args=[world.contact_plain_a.pk]),
    ):
        html = page(client.get(url))
        assert "<script>alert(1)" not in html and "<img src=x" not in html, url


def test_the_company_page_takes_a_partner_to_their_account(client, world):
    login_as(client, world.partner_admin_b)
    response = client.get("/portal/company/")
    assert response["Location"] == reverse("partners:partner", args=[world.b.pk])


def test_a_new_account_created_in_the_admin_is_listed_for_its_manager(client, world):
    PartnerAccount.objects.create(name="Fabrikam", manager=world.manager, status="active")
    from partners.services import sync_account_permissions

    sync_account_permissions(PartnerAccount.objects.values_list("pk", flat=True))
    login_as(client, world.manager)
    rows = client.get("/partners/").context["table"].paginated_rows
    assert "Fabrikam" in [r.record.name for r in rows]


def test_a_distributors_admin_reads_a_resellers_page_but_cannot_change_it(client, world):
    reseller_contact = Contact.objects.create(
        account=world.a_child, first_name="Kim", last_name="Shop", email="kim@retail.example"
    )
    login_as(client, world.partner_admin_a)
    response = client.get(reverse("partners:partner", args=[world.a_child.pk]))
    html = page(response)
    assert response.status_code == 200 and "Kim Shop" in html
    assert reverse("partners:partner_edit", args=[world.a_child.pk]) not in html
    assert reverse("partners:contact_invite", args=[reseller_contact.pk]) not in html
    assert client.get(reverse("partners:partner_edit", args=[world.a_child.pk])).status_code == 403
    invite = client.post(reverse("partners:contact_invite", args=[reseller_contact.pk]))
    assert invite.status_code == 403
    assert not reseller_contact.invitations.exists()
