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


# --- the bell: the same count with 10 notifications as with 200 ------------------------------


def grow_notifications(user, count: int, *, start: int = 0) -> None:
    """``count`` more notifications for ``user``, every third one already read."""
    from django.utils import timezone

    from prm.models import Notification

    Notification.objects.bulk_create(
        Notification(
            user=user,
            key=f"grown:{i}",
            title=f"Grown note {i:03d}",
            body="Something happened to a deal.",
            url=f"/leads/?note={i}",
            read_at=timezone.now() if i % 3 == 0 else None,
        )
        for i in range(start, start + count)
    )


NOTIFICATION_PAGES = {
    "notification list": Page("partner_admin_a", lambda w: "/notifications/", 6, "Grown note"),
    "notification list, unread": Page(
        "manager", lambda w: "/notifications/?show=unread", 6, "Grown note"
    ),
    "notification list, page 2": Page(
        "member_a", lambda w: "/notifications/?page=2", 6, "Grown note"
    ),
    "bell menu": Page("partner_admin_a", lambda w: "/notifications/menu/", 6, "Grown note"),
    "bell menu (admin)": Page("admin", lambda w: "/notifications/menu/", 5, "Grown note"),
    # the bell's unread count on another page: one bounded query, whatever the history
    "bell on the lead list": Page("partner_admin_a", lambda w: "/leads/", 6, "9+"),
}


@pytest.mark.parametrize("page", list(NOTIFICATION_PAGES), ids=list(NOTIFICATION_PAGES))
def test_notification_pages_cost_the_same_with_10_and_200_notifications(
    client, world, page, django_assert_max_num_queries
):
    spec = NOTIFICATION_PAGES[page]
    user = getattr(world, spec.persona)
    url = spec.url(world)
    first = 30 if "page=2" in url else 10  # 25 a page: page 2 must exist from the start
    grow_notifications(user, first)
    login_as(client, user)
    _request(client, url)  # warm-up
    small, _ = _request(client, url)

    grow_notifications(user, 200 - first, start=first)
    with django_assert_max_num_queries(spec.max_queries):
        big, body = _request(client, url)
    assert spec.shows in body
    assert len(big) == len(small), "\n".join(
        ["queries differ with more rows (per-row queries?):", *big]
    )
    assert not [q for q in big if "COUNT(" in q.upper()], "no exact COUNT(*) on a page view"


# --- opportunities: the same count with 10 opportunities as with 200 ---------------------------


def grow_opportunities(world, count: int, *, start: int = 0) -> None:
    """``count`` more opportunities of A over every stage (a tenth won, owners alternating
    between member_a and A's partner admin, half shared), and one history step each on the
    world's detail opportunity (``world.detail_opportunity``)."""
    from datetime import date, timedelta

    from deals.models import Opportunity, OpportunityEvent, PipelineStage

    stages = list(PipelineStage.objects.filter(active=True))
    Opportunity.objects.bulk_create(
        Opportunity(
            account=world.a,
            owner=world.member_a if i % 2 else world.partner_admin_a,
            shared_with_account=i % 4 < 2,
            name=f"Grown Deal {i:03d}",
            company=f"Grown Customer {i:03d}",
            stage=stages[i % len(stages)],
            amount=1000 + i,
            close_date=date(2031, 1, 1) + timedelta(days=i),
            status="won" if i % 10 == 9 else "open",
        )
        for i in range(start, start + count)
    )
    OpportunityEvent.objects.bulk_create(
        OpportunityEvent(
            opportunity=world.detail_opportunity,
            actor=world.member_a if i % 2 else world.manager,
            from_status="Qualification",
            to_status="Discovery",
            reason=f"Grown step {i:03d}",
        )
        for i in range(start, start + count)
    )


def opportunity_world(world):
    """The world plus an opportunity of A owned by member_a (converted through the services)."""
    from datetime import timedelta

    from django.utils import timezone

    from deals import services
    from deals.models import DealRegistration

    registration = DealRegistration.objects.create(
        account=world.a,
        created_by=world.member_a,
        company="Detail Deal GmbH",
        contact_name="Pat",
        contact_email="pat@detail-deal.example",
        amount=5000,
        expected_close_date=timezone.localdate() + timedelta(days=30),
        product_family="Counted",
        status="approved",
        expires_on=timezone.localdate() + timedelta(days=90),
    )
    world.detail_opportunity = services.convert_registration(
        actor=world.member_a, registration=registration
    )
    return world


OPPORTUNITIES = "/opportunities/"
OPPORTUNITIES_FILTERED = (
    "/opportunities/?q=grown&status=open&close_after=2031-01-01&close_before=2032-12-31&sort=stage"
)
BOARD = "/opportunities/board/"
OPPORTUNITY_PAGES = {
    "opportunity list (member)": Page("member_a", lambda w: OPPORTUNITIES, 8, "Grown Deal 001"),
    "opportunity list (partner admin)": Page(
        "partner_admin_a", lambda w: OPPORTUNITIES, 8, "Grown Deal 000"
    ),
    "opportunity list (manager)": Page("manager", lambda w: OPPORTUNITIES, 11, "Grown Deal 000"),
    "opportunity list (admin)": Page("admin", lambda w: OPPORTUNITIES, 8, "Grown Deal 000"),
    "opportunity list filtered (manager)": Page(
        "manager", lambda w: OPPORTUNITIES_FILTERED + f"&account={w.a.pk}", 12, "Grown Deal"
    ),
    "opportunity list filtered (member)": Page(
        "member_a", lambda w: OPPORTUNITIES_FILTERED, 8, "Grown Deal"
    ),
    "opportunity export (member)": Page(
        "member_a", lambda w: OPPORTUNITIES + "export.csv", 5, "Grown Deal 199"
    ),
    "opportunity export (manager)": Page(
        "manager", lambda w: OPPORTUNITIES + "export.csv", 7, "Grown Deal 199"
    ),
    "opportunity export (admin)": Page(
        "admin", lambda w: OPPORTUNITIES + "export.csv", 4, "Grown Deal 199"
    ),
    "opportunity board (member)": Page("member_a", lambda w: BOARD, 8, "Grown Deal 001"),
    "opportunity board (partner admin)": Page(
        "partner_admin_a", lambda w: BOARD, 8, "Grown Deal 000"
    ),
    "opportunity board (manager)": Page(
        "manager", lambda w: BOARD + f"?q=grown&account={w.a.pk}", 12, "Grown Deal 000"
    ),
    "opportunity board (admin)": Page("admin", lambda w: BOARD, 8, "Grown Deal 000"),
    "opportunity detail (member)": Page(
        "member_a", lambda w: f"/opportunities/{w.detail_opportunity.pk}/", 9, "Grown step 199"
    ),
    "opportunity detail (manager)": Page(
        "manager", lambda w: f"/opportunities/{w.detail_opportunity.pk}/", 11, "Grown step 199"
    ),
}


@pytest.mark.parametrize("page", list(OPPORTUNITY_PAGES), ids=list(OPPORTUNITY_PAGES))
def test_pipeline_pages_cost_the_same_with_10_and_200_opportunities(
    client, world, page, django_assert_max_num_queries
):
    spec = OPPORTUNITY_PAGES[page]
    opportunity_world(world)
    grow_opportunities(world, 10)
    login_as(client, getattr(world, spec.persona))
    url = spec.url(world)
    _request(client, url)  # warm-up
    small, _ = _request(client, url)

    grow_opportunities(world, 190, start=10)
    with django_assert_max_num_queries(spec.max_queries):
        big, body = _request(client, url)
    assert spec.shows in body
    assert len(big) == len(small), "\n".join(
        ["queries differ with more rows (per-row queries?):", *big]
    )


# --- registrations: the same count with 10 registrations as with 200 ---------------------------


def grow_registrations(world, count: int, *, start: int = 0) -> None:
    """``count`` more registrations of A (submitted — every third a possible conflict —,
    approved, draft; created by A's partner admin or member_a, half shared), two product lines
    each, and one history step each on the world's detail registration."""
    from datetime import timedelta

    from django.utils import timezone

    from deals.models import DealRegistration, RegistrationEvent, RegistrationLine

    now, today = timezone.now(), timezone.localdate()
    statuses = ["submitted", "approved", "draft"]
    registrations = DealRegistration.objects.bulk_create(
        DealRegistration(
            account=world.a,
            created_by=world.member_a if i % 2 else world.partner_admin_a,
            shared_with_account=i % 4 < 2,
            company=f"Grown Registration {i:03d}",
            domain=f"grown-reg{i}.example",
            customer_name_key=f"grownregistration{i:03d}",  # bulk_create skips save()
            customer_domain=f"grown-reg{i}.example",
            customer_domain_label=f"grown-reg{i}",
            contact_name=f"Grown Contact {i:03d}",
            contact_email=f"contact{i}@grown-reg.example",
            product_family="Counted",
            amount=1000 + i,
            expected_close_date=today + timedelta(days=30 + i),
            status=statuses[i % 3],
            conflict=i % 9 == 0,
            submitted_at=now - timedelta(minutes=i) if i % 3 != 2 else None,
            expires_on=today + timedelta(days=90) if i % 3 == 1 else None,
        )
        for i in range(start, start + count)
    )
    RegistrationLine.objects.bulk_create(
        RegistrationLine(registration=registration, product=product, quantity=2)
        for registration in registrations
        for product in world.registration_products
    )
    RegistrationEvent.objects.bulk_create(
        RegistrationEvent(
            registration=world.detail_registration,
            actor=world.manager if i % 2 else world.partner_admin_a,
            from_status="submitted",
            to_status="submitted",
            reason=f"Grown step {i:03d}",
        )
        for i in range(start, start + count)
    )


def registration_world(world):
    """The world plus two products of one family and a registration of A under review, flagged
    against one of B's (``world.detail_registration``), made through the services."""
    from datetime import timedelta

    from django.utils import timezone

    from deals import services
    from deals.models import DealRegistration, Product

    world.registration_products = [
        Product.objects.create(
            name=f"Counted reg {n}", sku=f"COUNT-REG-{n}", family="Counted", list_price=1
        )
        for n in (1, 2)
    ]
    lines = [(product, 1) for product in world.registration_products]

    def submitted(user, company):
        registration = services.save_registration(
            actor=user,
            registration=DealRegistration(
                company=company,
                domain="detail-customer.example",
                contact_name="Dee Tail",
                contact_email="dee@detail-customer.example",
                amount=5000,
                expected_close_date=timezone.localdate() + timedelta(days=20),
                shared_with_account=True,
            ),
            lines=lines,
        )
        return services.submit_registration(actor=user, registration=registration)

    submitted(world.partner_admin_b, "Detail Customer Inc.")
    world.detail_registration = submitted(world.partner_admin_a, "Detail Customer GmbH")
    return world


REGISTRATIONS = "/registrations/"
REGISTRATIONS_FILTERED = (
    "/registrations/?q=grown&status=submitted&conflict=false&product_family=Counted&sort=-amount"
)
REVIEW = "/registrations/review/"
REGISTRATION_PAGES = {
    "registration list (partner admin)": Page(
        "partner_admin_a", lambda w: REGISTRATIONS, 8, "Grown Registration 199"
    ),
    "registration list (member)": Page(
        "member_a", lambda w: REGISTRATIONS, 8, "Grown Registration 199"
    ),
    "registration list (manager)": Page(
        "manager", lambda w: REGISTRATIONS, 11, "Grown Registration 199"
    ),
    "registration list (admin)": Page(
        "admin", lambda w: REGISTRATIONS, 8, "Grown Registration 199"
    ),
    "registration list filtered (manager)": Page(
        "manager",
        lambda w: REGISTRATIONS_FILTERED + f"&account={w.a.pk}",
        12,
        "Grown Registration 195",
    ),
    "registration list filtered (member)": Page(
        "member_a", lambda w: REGISTRATIONS_FILTERED, 8, "Grown Registration 1"
    ),
    "registration export (partner admin)": Page(
        "partner_admin_a", lambda w: REGISTRATIONS + "export.csv", 7, "Grown Registration 000"
    ),
    "registration export (manager)": Page(
        "manager", lambda w: REGISTRATIONS + "export.csv", 9, "Grown Registration 000"
    ),
    "registration export (admin)": Page(
        "admin", lambda w: REGISTRATIONS + "export.csv?conflict=true", 6, "Grown Registration 189"
    ),
    "review queue (manager)": Page("manager", lambda w: REVIEW, 11, "Grown Registration"),
    "review queue (admin)": Page("admin", lambda w: REVIEW, 8, "Grown Registration"),
    "review queue filtered (manager)": Page(
        "manager", lambda w: REVIEW + "?conflict=true&q=grown", 11, "Grown Registration 189"
    ),
    "registration detail (partner admin)": Page(
        "partner_admin_a",
        lambda w: f"/registrations/{w.detail_registration.pk}/",
        9,
        "Grown step 199",
    ),
    "registration detail (member)": Page(
        "member_a", lambda w: f"/registrations/{w.detail_registration.pk}/", 9, "Grown step 199"
    ),
    "registration detail (manager)": Page(
        "manager", lambda w: f"/registrations/{w.detail_registration.pk}/", 11, "Grown step 199"
    ),
    "registration conflicts (manager)": Page(
        "manager",
        lambda w: f"/registrations/{w.detail_registration.pk}/conflicts/",
        13,
        "Detail Customer Inc.",
    ),
    "register a deal (partner admin)": Page(
        "partner_admin_a", lambda w: REGISTRATIONS + "add/", 7, "Counted reg 2"
    ),
}


@pytest.mark.parametrize("page", list(REGISTRATION_PAGES), ids=list(REGISTRATION_PAGES))
def test_registration_pages_cost_the_same_with_10_and_200_registrations(
    client, world, page, django_assert_max_num_queries
):
    spec = REGISTRATION_PAGES[page]
    registration_world(world)
    grow_registrations(world, 10)
    login_as(client, getattr(world, spec.persona))
    url = spec.url(world)
    _request(client, url)  # warm-up
    small, _ = _request(client, url)

    grow_registrations(world, 190, start=10)
    with django_assert_max_num_queries(spec.max_queries):
        big, body = _request(client, url)
    assert spec.shows in body
    assert len(big) == len(small), "\n".join(
        ["queries differ with more rows (per-row queries?):", *big]
    )
    assert not [q for q in big if "COUNT(" in q.upper()], "no exact COUNT(*) on a page view"
