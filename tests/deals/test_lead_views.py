"""Lead pages as their users meet them: a partner answers leads in the row, the manager adds and
assigns them, the Leads tab follows the workspace, and the CSV export is safe and scoped."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone

from deals import services
from deals.models import Lead, LeadEvent, LeadRejection, LeadStatus, Product
from partners.models import PortalTab, Workspace, WorkspaceTab
from prm.testing.fixtures import login_as

pytestmark = pytest.mark.django_db

HTMX = {"HX-Request": "true"}


def page(response) -> str:
    return response.content.decode()


def new_lead(world, company="Brandt Maschinenbau GmbH", **fields) -> Lead:
    return services.create_lead(actor=world.manager, lead=Lead(company=company, **fields))


def lead_for(world, account=None, company="Brandt Maschinenbau GmbH", **fields) -> Lead:
    """A lead waiting for ``account`` (A by default), assigned by that account's manager."""
    account = account or world.a
    manager = world.other_manager if account == world.b else world.manager
    lead = services.create_lead(actor=manager, lead=Lead(company=company, **fields))
    return services.assign_lead(actor=manager, lead=lead, account=account)


# --- the partner's list: accept and reject in the row ---------------------------------------


def test_partner_accepts_a_lead_in_its_row(client, world):
    lead = lead_for(world)
    login_as(client, world.member_a)
    response = client.post(reverse("deals:lead_accept", args=[lead.pk]), headers=HTMX)

    assert response.status_code == 200
    html = page(response)
    assert f'<tr id="lead-{lead.pk}">' in html
    assert "status-accepted" in html and "Accepted" in html
    assert 'id="messages"' in html and 'hx-swap-oob="true"' in html
    assert "You accepted Brandt Maschinenbau GmbH" in html
    assert "<html" not in html  # the row, not the page
    lead.refresh_from_db()
    assert (lead.status, lead.accepted_by) == (LeadStatus.ACCEPTED, world.member_a)


def test_rejecting_without_a_reason_shows_the_error_in_the_row(client, world):
    lead = lead_for(world)
    login_as(client, world.partner_admin_a)
    response = client.post(
        reverse("deals:lead_reject", args=[lead.pk]), {"reason": "  "}, headers=HTMX
    )

    assert response.status_code == 200
    html = page(response)
    assert f'<tr id="lead-{lead.pk}">' in html
    assert "Say why, so that the lead finds a better partner." in html
    assert "is-invalid" in html and '<details class="reject-inline" open>' in html
    lead.refresh_from_db()
    assert lead.status == LeadStatus.ASSIGNED and lead.account == world.a
    assert not LeadRejection.objects.exists()


def test_a_rejected_lead_leaves_the_partners_list(client, world):
    lead = lead_for(world)
    login_as(client, world.partner_admin_a)
    assert "Brandt Maschinenbau GmbH" in page(client.get(reverse("deals:lead_list")))

    response = client.post(
        reverse("deals:lead_reject", args=[lead.pk]), {"reason": "Outside our region"}, headers=HTMX
    )
    html = page(response)
    assert response.status_code == 200
    assert f'id="lead-{lead.pk}"' not in html  # the row is swapped with nothing
    assert "You turned down Brandt Maschinenbau GmbH" in html
    assert "Brandt Maschinenbau GmbH" not in page(client.get(reverse("deals:lead_list")))
    assert LeadRejection.objects.get(lead=lead).reason == "Outside our region"


def test_a_plain_reject_from_the_detail_page_returns_to_the_list(client, world):
    lead = lead_for(world)
    login_as(client, world.partner_admin_a)
    detail = reverse("deals:lead", args=[lead.pk])
    response = client.post(
        reverse("deals:lead_reject", args=[lead.pk]), {"reason": "No capacity", "next": detail}
    )
    assert response.status_code == 302
    assert response["Location"] == reverse("deals:lead_list")  # the lead is no longer theirs
    assert "You turned down" in page(client.get(response["Location"]))


def test_the_deadline_is_shown_and_highlighted_under_a_day(client, world):
    soon = lead_for(world, company="Soon GmbH")
    later = lead_for(world, company="Later GmbH")
    Lead.objects.filter(pk=soon.pk).update(accept_by=timezone.now() + timedelta(hours=3))
    soon.refresh_from_db()
    login_as(client, world.partner_admin_a)
    html = page(client.get(reverse("deals:lead_list")))

    assert html.index("Soon GmbH") < html.index("Later GmbH")  # the soonest due on top
    assert soon.accept_by.strftime("%-d %b %Y, %H:%M") in html
    assert later.accept_by.strftime("%-d %b %Y, %H:%M") in html
    rows = {
        name: html.split(f">{name}<", 1)[1].split("</tr>", 1)[0]
        for name in ("Soon GmbH", "Later GmbH")
    }
    assert "deadline-soon" in rows["Soon GmbH"] and "left" in rows["Soon GmbH"]
    assert "deadline-soon" not in rows["Later GmbH"] and "left" in rows["Later GmbH"]


def test_another_partners_lead_is_not_found(client, world):
    lead = lead_for(world)
    login_as(client, world.partner_admin_b)
    assert client.get(reverse("deals:lead", args=[lead.pk])).status_code == 404
    for name, data in (
        ("lead_accept", {}),
        ("lead_reject", {"reason": "x"}),
        ("lead_lost", {"reason": "x"}),
    ):
        assert client.post(reverse(f"deals:{name}", args=[lead.pk]), data).status_code == 404
    assert "Brandt" not in page(client.get(reverse("deals:lead_list")))
    lead.refresh_from_db()
    assert lead.status == LeadStatus.ASSIGNED


def test_the_manager_sees_the_lead_but_cannot_answer_for_the_partner(client, world):
    lead = lead_for(world)
    login_as(client, world.manager)
    assert client.get(reverse("deals:lead", args=[lead.pk])).status_code == 200
    assert client.post(reverse("deals:lead_accept", args=[lead.pk])).status_code == 403


def test_a_partner_never_sees_why_another_partner_turned_the_lead_down(client, world):
    lead = lead_for(world, account=world.b)
    services.reject_lead(actor=world.partner_admin_b, lead=lead, reason="Contoso secret reason")
    services.assign_lead(actor=world.manager, lead=lead, account=world.a)
    login_as(client, world.partner_admin_a)
    html = page(client.get(reverse("deals:lead", args=[lead.pk])))
    assert "Contoso" not in html and "secret reason" not in html
    assert "Accept this lead" in html


def test_the_detail_page_shows_history_and_escapes_notes(client, world):
    lead = lead_for(world, notes="<script>alert(1)</script>\nCall Jonas first.")
    services.accept_lead(actor=world.partner_admin_a, lead=lead)
    login_as(client, world.partner_admin_a)
    html = page(client.get(reverse("deals:lead", args=[lead.pk])))
    assert "&lt;script&gt;alert(1)&lt;/script&gt;<br>Call Jonas first." in html
    assert "<script>alert(1)" not in html
    assert "Alex Rivera" in html  # who accepted it, in the history
    assert "Mark lost" in html


def test_the_partner_marks_an_accepted_lead_lost(client, world):
    lead = services.accept_lead(actor=world.partner_admin_a, lead=lead_for(world))
    login_as(client, world.partner_admin_a)
    response = client.post(
        reverse("deals:lead_lost", args=[lead.pk]), {"reason": "Chose a competitor"}
    )
    assert response.status_code == 302
    assert response["Location"] == reverse("deals:lead", args=[lead.pk])
    lead.refresh_from_db()
    assert (lead.status, lead.reason) == (LeadStatus.LOST, "Chose a competitor")


# --- the Leads tab follows the workspace ----------------------------------------------------


def test_the_leads_tab_appears_and_closes_with_the_workspace(client, world):
    lead = lead_for(world)
    login_as(client, world.member_a)
    labels = [item["label"] for item in client.get("/portal/").context["nav_items"]]
    assert "Leads" in labels

    workspace = Workspace.objects.create(name="Gold partners", tier=world.tier)
    WorkspaceTab.objects.create(workspace=workspace, tab=PortalTab.HOME, position=0)
    WorkspaceTab.objects.create(workspace=workspace, tab=PortalTab.LEADS, position=1, enabled=False)
    login_as(client, world.member_a)  # a fresh user object: the workspace is cached per user
    labels = [item["label"] for item in client.get("/portal/").context["nav_items"]]
    assert "Leads" not in labels
    assert client.get(reverse("deals:lead_list")).status_code == 404
    assert client.get(reverse("deals:lead", args=[lead.pk])).status_code == 404
    assert client.post(reverse("deals:lead_accept", args=[lead.pk])).status_code == 404


# --- the manager: the pool, assigning, adding -----------------------------------------------


def test_the_assign_form_lists_only_partners_that_can_take_the_lead(client, world):
    lead = lead_for(world)
    services.reject_lead(actor=world.partner_admin_a, lead=lead, reason="Not for us")
    login_as(client, world.manager)
    response = client.get(reverse("deals:lead", args=[lead.pk]))

    offered = set(response.context["assign_form"].fields["account"].queryset)
    assert offered == {world.a_child}  # not A (turned it down), not B (another manager's)
    html = page(response)
    assert f'<option value="{world.a_child.pk}"' in html
    assert f'<option value="{world.a.pk}"' not in html


def test_the_manager_assigns_a_lead_from_the_pool(client, world):
    lead = new_lead(world)
    login_as(client, world.manager)
    response = client.post(
        reverse("deals:lead_assign", args=[lead.pk]), {"account": world.a_child.pk}
    )
    assert response.status_code == 302
    lead.refresh_from_db()
    assert (lead.status, lead.account) == (LeadStatus.ASSIGNED, world.a_child)
    assert lead.accept_by > timezone.now()
    assert "was sent to Northwind Retail" in page(client.get(response["Location"]))


def test_assigning_to_a_partner_that_turned_it_down_is_refused(client, world):
    lead = lead_for(world)
    services.reject_lead(actor=world.partner_admin_a, lead=lead, reason="Not for us")
    login_as(client, world.manager)
    response = client.post(reverse("deals:lead_assign", args=[lead.pk]), {"account": world.a.pk})
    assert response.status_code == 302
    assert "choose one from the list" in page(client.get(response["Location"]))
    lead.refresh_from_db()
    assert lead.status == LeadStatus.REJECTED and lead.account is None


def test_the_manager_list_shows_the_pool_and_filters_it(client, world):
    new_lead(world, company="Pool Customer Ltd")
    lead_for(world, company="Waiting Customer GmbH")
    lead_for(world, account=world.b, company="Contoso Customer Inc")
    login_as(client, world.manager)
    html = page(client.get(reverse("deals:lead_list")))
    assert "Pool Customer Ltd" in html and "Waiting Customer GmbH" in html
    assert "Contoso Customer Inc" not in html
    assert "New lead" in html
    html = page(client.get(reverse("deals:lead_list"), {"account": "null"}))
    assert "Pool Customer Ltd" in html and "Waiting Customer GmbH" not in html
    html = page(client.get(reverse("deals:lead_list"), {"q": "waiting", "status": "assigned"}))
    assert "Waiting Customer GmbH" in html and "Pool Customer Ltd" not in html


def test_an_empty_pool_says_what_to_do(client, world):
    login_as(client, world.manager)
    assert "Add the first lead" in page(client.get(reverse("deals:lead_list")))
    login_as(client, world.partner_admin_a)
    assert "No leads for you yet" in page(client.get(reverse("deals:lead_list")))


def test_the_manager_adds_a_lead(client, world):
    product = Product.objects.create(name="Gateway", sku="GW-1", family="Net", list_price=10)
    login_as(client, world.manager)
    response = client.post(
        reverse("deals:lead_add"),
        {
            "company": "Acme Bricks Ltd",
            "domain": "acmebricks.co.uk",
            "contact_email": "ops@acmebricks.co.uk",
            "products": [product.pk],
            "estimated_value": "12500",
            "source": "event",
            "notes": "Met at the trade fair.",
        },
    )
    lead = Lead.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("deals:lead", args=[lead.pk])
    assert (lead.status, lead.account, lead.created_by) == (LeadStatus.NEW, None, world.manager)
    assert list(lead.products.all()) == [product]
    assert lead.estimated_value == Decimal("12500")
    assert LeadEvent.objects.filter(lead=lead, to_status=LeadStatus.NEW).exists()
    assert "Acme Bricks Ltd is in the lead pool" in page(client.get(response["Location"]))


@pytest.mark.parametrize(
    ("field", "value", "error"),
    [
        ("estimated_value", "-5", "greater than or equal to 0"),
        ("notes", "x" * 4001, "at most 4000 characters"),
        ("products", "999999", "Select a valid choice"),
    ],
)
def test_bad_input_on_a_new_lead_comes_back_with_errors_and_saves_nothing(
    client, world, field, value, error
):
    login_as(client, world.manager)
    data = {"company": "Acme Bricks Ltd", "domain": "acmebricks.co.uk", "source": "web"}
    response = client.post(reverse("deals:lead_add"), {**data, field: value})
    assert response.status_code == 200
    form = response.context["form"]
    assert field in form.errors and error in " ".join(form.errors[field])
    html = page(response)
    assert 'value="Acme Bricks Ltd"' in html and 'value="acmebricks.co.uk"' in html
    assert not Lead.objects.exists()


def test_partners_cannot_add_leads(client, world):
    login_as(client, world.partner_admin_a)
    assert client.get(reverse("deals:lead_add")).status_code == 403
    assert client.post(reverse("deals:lead_add"), {"company": "X"}).status_code == 403
    assert not Lead.objects.exists()


# --- the CSV export -------------------------------------------------------------------------


def test_the_csv_export_neutralises_formulas_and_lists_only_visible_leads(client, world):
    lead_for(world, company='=HYPERLINK("http://evil.example","Click")')
    lead_for(world, account=world.b, company="Contoso Customer Inc")
    login_as(client, world.partner_admin_a)
    response = client.get(reverse("deals:lead_export"))
    body = b"".join(response.streaming_content).decode()
    rows = body.splitlines()
    assert response["Content-Type"].startswith("text/csv")
    assert len(rows) == 2  # the header and A's one lead
    assert rows[1].startswith("\"'=HYPERLINK(")
    assert "Contoso Customer Inc" not in body


def test_an_overdue_lead_offers_no_accept_button(client, world):
    lead = services.create_lead(actor=world.manager, lead=Lead(company="Late Co"))
    services.assign_lead(actor=world.manager, lead=lead, account=world.a)
    Lead.objects.filter(pk=lead.pk).update(accept_by=timezone.now() - timedelta(minutes=1))
    login_as(client, world.partner_admin_a)
    html = client.get(reverse("deals:lead_list")).content.decode()
    assert "Deadline passed" in html
    assert reverse("deals:lead_accept", args=[lead.pk]) not in html
    detail = client.get(reverse("deals:lead", args=[lead.pk])).content.decode()
    assert reverse("deals:lead_accept", args=[lead.pk]) not in detail
