"""SQL queries per page: bounded, and the same with 5 rows as with 50 (ARCHITECTURE.md §6).

Each page is requested once to warm up (session, content types), measured on the plain world,
then measured again after ``grow_world`` added 45 accounts for the manager and 45 contacts (with
logins, invitations, roles) and audit entries on account A. Per-row queries make the counts differ.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from prm.testing.fixtures import login_as
from prm.testing.world import grow_world, make_invitation

pytestmark = pytest.mark.django_db


@dataclass(frozen=True)
class Page:
    persona: str
    url: Callable
    max_queries: int  # measured + a little headroom: a ceiling, not an exact count to churn
    shows: str = ""  # text the grown page must contain: the extra rows really are listed


LIST = "/partners/"
FILTERED = "/partners/?q=grown&status=active&region=emea&tier={w.tier.pk}&sort=-tier"
PAGES = {
    "portal home": Page("partner_admin_a", lambda w: "/portal/", 11, "Colleagues signed up"),
    "partner list (manager)": Page("manager", lambda w: LIST, 10, "Grown Partner 000"),
    "partner list (admin)": Page("admin", lambda w: LIST, 7, "Grown Partner 000"),
    "partner list filtered (manager)": Page(
        "manager",
        lambda w: FILTERED.format(w=w) + f"&manager={w.manager.pk}",
        12,
        "Grown Partner 044",
    ),
    "partner list filtered (admin)": Page(
        "admin", lambda w: FILTERED.format(w=w) + "&sort=manager", 8, "Grown Partner"
    ),
    "CSV export (manager)": Page("manager", lambda w: LIST + "export.csv?status=active", 8),
    "CSV export (admin)": Page("admin", lambda w: LIST + "export.csv", 5, "Grown Partner 044"),
    "partner detail (manager)": Page(
        "manager", lambda w: f"/partners/{w.a.pk}/", 19, "grown44@northwind.example"
    ),
    "partner detail (admin)": Page(
        "admin", lambda w: f"/partners/{w.a.pk}/", 16, "grown44@northwind.example"
    ),
    "partner detail (partner admin)": Page(
        "partner_admin_a", lambda w: f"/partners/{w.a.pk}/", 11, "grown44@northwind.example"
    ),
    "partner detail (member)": Page(
        "member_a", lambda w: f"/partners/{w.a.pk}/", 12, "grown44@northwind.example"
    ),
    "partner edit (manager)": Page("manager", lambda w: f"/partners/{w.a.pk}/edit/", 12),
    "partner edit (partner admin)": Page(
        "partner_admin_a", lambda w: f"/partners/{w.a.pk}/edit/", 7
    ),
    "contact add (partner admin)": Page(
        "partner_admin_a", lambda w: f"/partners/{w.a.pk}/contacts/add/", 8
    ),
    "contact edit (manager)": Page(
        "manager", lambda w: f"/contacts/{w.contact_plain_a.pk}/edit/", 12
    ),
    "invitation accept": Page(
        "anonymous", lambda w: f"/invitations/{w.invitation_token}/", 3, "Choose a password"
    ),
    # allauth's pages, in our layout (navigation included)
    "sign in": Page("anonymous", lambda w: "/accounts/login/", 3, "Sign in"),
    "password reset": Page("anonymous", lambda w: "/accounts/password/reset/", 3),
    "security (partner admin)": Page("partner_admin_a", lambda w: "/accounts/2fa/", 10),
    "security (manager)": Page("manager", lambda w: "/accounts/2fa/", 10),
    "change password (member)": Page("member_a", lambda w: "/accounts/password/change/", 10),
}


def _request(client, url):
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url)
        body = b"".join(response.streaming_content) if response.streaming else response.content
    assert response.status_code == 200, (url, response.status_code, response.get("Location"))
    return [q["sql"] for q in queries.captured_queries], body.decode()


@pytest.mark.parametrize("page", list(PAGES), ids=list(PAGES))
def test_queries_per_page_do_not_grow_with_rows(client, world, page, django_assert_max_num_queries):
    spec = PAGES[page]
    _, world.invitation_token = make_invitation(
        world.contact_plain_a, invited_by=world.partner_admin_a
    )
    login_as(client, None if spec.persona == "anonymous" else getattr(world, spec.persona))
    url = spec.url(world)
    _request(client, url)  # warm-up: session write, content types, …
    small, _ = _request(client, url)

    grow_world(world)
    with django_assert_max_num_queries(spec.max_queries):
        big, body = _request(client, url)
    assert spec.shows in body
    assert len(big) == len(small), "\n".join(
        ["queries differ with more rows (per-row queries?):", *big]
    )


@pytest.mark.parametrize("persona", ["manager", "admin"])
def test_a_deeper_page_costs_what_the_first_does(client, world, persona):
    grow_world(world)
    login_as(client, getattr(world, persona))
    _request(client, LIST)
    first, _ = _request(client, LIST)
    second, body = _request(client, LIST + "?page=2")
    assert "Grown Partner 030" in body
    assert len(second) == len(first)


@pytest.mark.parametrize("url", [LIST, LIST + "?page=2", LIST + "?q=grown", LIST + "export.csv"])
@pytest.mark.parametrize("persona", ["manager", "admin"])
def test_lists_never_count_every_row(client, world, url, persona):
    """No exact COUNT(*) on a page view: at a million rows it would cost more than the page."""
    grow_world(world)
    login_as(client, getattr(world, persona))
    queries, _ = _request(client, url)
    assert not [q for q in queries if "COUNT(" in q.upper()]


@pytest.mark.parametrize("persona", ["manager", "admin"])
def test_the_partner_list_reads_its_rows_once(client, world, persona):
    # ListView's own pagination would slice (and query) the rows a second time.
    login_as(client, getattr(world, persona))
    with CaptureQueriesContext(connection) as queries:
        client.get("/partners/")
    row_reads = [
        q["sql"]
        for q in queries.captured_queries
        if q["sql"].startswith(
            'SELECT "partners_partneraccount"."id", "partners_partneraccount"."name"'
        )
    ]
    assert len(row_reads) == 1, row_reads


# --- leads: the same count with 10 leads as with 200 ------------------------------------------


def grow_leads(world, count: int, *, start: int = 0) -> None:
    """``count`` more leads (a third each in the pool, waiting for A, accepted by A), two products
    each, and one history step per lead on the world's detail lead (``world.detail_lead``)."""
    from datetime import timedelta

    from django.utils import timezone

    from deals.models import Lead, LeadEvent, LeadStatus

    now = timezone.now()
    statuses = [LeadStatus.NEW, LeadStatus.ASSIGNED, LeadStatus.ACCEPTED]
    leads = Lead.objects.bulk_create(
        Lead(
            company=f"Grown Lead {i:03d}",
            domain=f"grown-lead{i}.example",
            region="emea",
            estimated_value=1000 + i,
            status=statuses[i % 3],
            account=None if i % 3 == 0 else world.a,
            assigned_at=None if i % 3 == 0 else now,
            accept_by=now + timedelta(hours=4 + i) if i % 3 == 1 else None,
            accepted_at=now if i % 3 == 2 else None,
            created_by=world.manager,
        )
        for i in range(start, start + count)
    )
    Lead.products.through.objects.bulk_create(
        Lead.products.through(lead=lead, product=product)
        for lead in leads
        for product in world.lead_products
    )
    LeadEvent.objects.bulk_create(
        LeadEvent(
            lead=world.detail_lead,
            actor=world.manager if i % 2 else world.partner_admin_a,
            from_status=LeadStatus.ASSIGNED,
            to_status=LeadStatus.ASSIGNED,
            account=world.a,
            reason=f"Grown step {i:03d}",
        )
        for i in range(start, start + count)
    )


def lead_world(world):
    """The world plus two products and a lead waiting for A (created through the services)."""
    from deals import services
    from deals.models import Lead, Product

    world.lead_products = [
        Product.objects.create(name=f"Counted {n}", sku=f"COUNT-{n}", family="F", list_price=1)
        for n in (1, 2)
    ]
    lead = services.create_lead(
        actor=world.manager, lead=Lead(company="Detail Lead GmbH"), products=world.lead_products
    )
    world.detail_lead = services.assign_lead(actor=world.manager, lead=lead, account=world.a)
    return world


LEADS = "/leads/"
LEADS_FILTERED = "/leads/?q=grown&status=assigned&region=emea&sort=-accept_by"
LEAD_PAGES = {
    # Partners see the leads waiting for them first, the soonest due on top.
    "lead list (partner admin)": Page("partner_admin_a", lambda w: LEADS, 7, "Grown Lead 013"),
    "lead list (member)": Page("member_a", lambda w: LEADS, 7, "Grown Lead 013"),
    "lead list (manager)": Page("manager", lambda w: LEADS, 10, "Grown Lead 199"),
    "lead list (admin)": Page("admin", lambda w: LEADS, 7, "Grown Lead 199"),
    "lead list filtered (manager)": Page(
        "manager", lambda w: LEADS_FILTERED + f"&account={w.a.pk}", 11, "Grown Lead 199"
    ),
    "lead list filtered (partner admin)": Page(
        "partner_admin_a", lambda w: LEADS_FILTERED, 7, "Grown Lead 199"
    ),
    "lead export (partner admin)": Page(
        "partner_admin_a", lambda w: LEADS + "export.csv", 7, "Grown Lead 001"
    ),
    "lead export (manager)": Page("manager", lambda w: LEADS + "export.csv", 9, "Grown Lead 000"),
    "lead export (admin)": Page("admin", lambda w: LEADS + "export.csv", 6, "Grown Lead 000"),
    "lead detail (partner admin)": Page(
        "partner_admin_a", lambda w: f"/leads/{w.detail_lead.pk}/", 8, "Grown step 199"
    ),
    "lead detail (member)": Page(
        "member_a", lambda w: f"/leads/{w.detail_lead.pk}/", 8, "Grown step 199"
    ),
    "lead detail (manager)": Page(
        "manager", lambda w: f"/leads/{w.detail_lead.pk}/", 10, "Grown step 199"
    ),
    "lead detail (admin)": Page(
        "admin", lambda w: f"/leads/{w.detail_lead.pk}/", 7, "Grown step 199"
    ),
    "lead add (manager)": Page("manager", lambda w: LEADS + "add/", 6, "Counted 2"),
}


@pytest.mark.parametrize("page", list(LEAD_PAGES), ids=list(LEAD_PAGES))
def test_lead_pages_cost_the_same_with_10_and_200_leads(
    client, world, page, django_assert_max_num_queries
):
    spec = LEAD_PAGES[page]
    lead_world(world)
    grow_leads(world, 10)
    login_as(client, getattr(world, spec.persona))
    url = spec.url(world)
    _request(client, url)  # warm-up
    small, _ = _request(client, url)

    grow_leads(world, 190, start=10)
    with django_assert_max_num_queries(spec.max_queries):
        big, body = _request(client, url)
    assert spec.shows in body
    assert len(big) == len(small), "\n".join(
        ["queries differ with more rows (per-row queries?):", *big]
    )
    assert not [q for q in big if "COUNT(" in q.upper()], "no exact COUNT(*) on a page view"
