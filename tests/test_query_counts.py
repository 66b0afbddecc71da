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
from django.utils import timezone

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
    # + the onboarding panel (training, through prm.portal): 2 queries without a checklist;
    # + the "For your attention" panel (analytics): open alerts, shared reports (+ a count at 3+)
    "portal home": Page("partner_admin_a", lambda w: "/portal/", 16, "Colleagues signed up"),
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


def assert_same_cost_with_more_rows(client, world, spec, assert_max_num_queries, *, grow):
    """``spec``'s page costs the same number of queries before and after ``grow()`` adds rows,
    stays within its bound, shows the grown rows and runs no exact COUNT(*)."""
    login_as(client, getattr(world, spec.persona))
    url = spec.url(world)
    _request(client, url)  # warm-up
    small, _ = _request(client, url)
    grow()
    with assert_max_num_queries(spec.max_queries):
        big, body = _request(client, url)
    assert spec.shows in body
    assert len(big) == len(small), "\n".join(
        ["queries differ with more rows (per-row queries?):", *big]
    )
    assert not [q for q in big if "COUNT(*)" in q.upper()], "no exact COUNT(*) on a page view"


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
    assert_same_cost_with_more_rows(
        client,
        world,
        spec,
        django_assert_max_num_queries,
        grow=lambda: grow_leads(world, 190, start=10),
    )


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


# --- email preferences: the same count with 5 and 50 saved choices ----------------------------


def grow_preferences(user, count: int, *, start: int = 0) -> None:
    from prm.models import NotificationPreference

    NotificationPreference.objects.bulk_create(
        NotificationPreference(user=user, topic=f"grown.topic{i}", mode="off")
        for i in range(start, start + count)
    )


@pytest.mark.parametrize("persona", ["partner_admin_a", "manager", "signed link"])
def test_email_preferences_cost_the_same_with_5_and_50_saved_choices(
    client, world, persona, django_assert_max_num_queries
):
    from django.urls import reverse

    from prm.mail import preferences_token

    if persona == "signed link":
        user = world.member_a
        url = reverse("notification_preferences_signed", args=[preferences_token(user)])
    else:
        user = getattr(world, persona)
        login_as(client, user)
        url = reverse("notification_preferences")
    grow_preferences(user, 5)
    _request(client, url)  # warm-up
    small, _ = _request(client, url)
    grow_preferences(user, 45, start=5)
    with django_assert_max_num_queries(6):
        big, body = _request(client, url)
    assert "Email preferences" in body
    assert len(big) == len(small), "\n".join(["queries differ with more rows:", *big])


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
    assert_same_cost_with_more_rows(
        client,
        world,
        spec,
        django_assert_max_num_queries,
        grow=lambda: grow_opportunities(world, 190, start=10),
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
    assert_same_cost_with_more_rows(
        client,
        world,
        spec,
        django_assert_max_num_queries,
        grow=lambda: grow_registrations(world, 190, start=10),
    )


# --- training: certificates and the managers' training status (10 vs 100 people) --------------


def grow_learners(world, count: int, *, start: int = 0) -> None:
    """``count`` more partner users on A, each with a certificate (every third expiring within
    30 days, every fifth revoked) and, for every other one, "Partner basics" completed."""
    from datetime import timedelta

    from django.contrib.auth import get_user_model
    from django.utils import timezone

    from partners.models import Contact, PortalAccess
    from training.models import Certificate, Enrollment, EnrollmentStatus

    today = timezone.localdate()
    users = get_user_model().objects.bulk_create(
        get_user_model()(
            email=f"learner{i}@northwind.example", first_name="Grown", last_name=f"Learner {i:03d}"
        )
        for i in range(start, start + count)
    )
    Contact.objects.bulk_create(
        Contact(
            account=world.a,
            first_name=user.first_name,
            last_name=user.last_name,
            email=user.email,
            portal_access=PortalAccess.MEMBER,
            user=user,
        )
        for user in users
    )
    Certificate.objects.bulk_create(
        Certificate(
            number=f"OPRM-2026-G{i:05d}",
            user=user,
            course=world.certification,
            account=world.a,
            product_family="Network security",
            issued_on=today - timedelta(days=300),
            expires_on=today + timedelta(days=10 if i % 3 == 0 else 200),
            revoked_at=timezone.now() if i % 5 == 4 else None,
        )
        for i, user in enumerate(users, start=start)
    )
    Enrollment.objects.bulk_create(
        Enrollment(user=user, course=world.basics, status=EnrollmentStatus.COMPLETED)
        for i, user in enumerate(users, start=start)
        if i % 2 == 0
    )


def training_world(world):
    """A certification course, "Partner basics" required for the world's tier, and member_a's
    certificate."""
    from datetime import timedelta

    from django.utils import timezone

    from training.models import Certificate, Course

    world.certification = Course.objects.create(
        title="Certified Security Seller",
        slug="css",
        is_certification=True,
        product_family="Network security",
        published=True,
    )
    world.basics = Course.objects.create(title="Partner basics", slug="basics", published=True)
    world.basics.required_for.add(world.tier)
    today = timezone.localdate()
    world.certificate = Certificate.objects.create(
        number="OPRM-2026-000001",
        user=world.member_a,
        course=world.certification,
        account=world.a,
        product_family="Network security",
        issued_on=today,
        expires_on=today + timedelta(days=20),
    )
    return world


TRAINING_STATUS = "/training/status/"
TRAINING_FILTERED = "?status=certified&product_family=Network+security&q=learner&account={w.a.pk}"
TRAINING_PAGES = {
    "training status (manager)": Page("manager", lambda w: TRAINING_STATUS, 14, "Learner 000"),
    "training status (admin)": Page("admin", lambda w: TRAINING_STATUS, 11, "Learner 000"),
    "training status filtered (manager)": Page(
        "manager", lambda w: TRAINING_STATUS + TRAINING_FILTERED.format(w=w), 15, "Learner 000"
    ),
    "training status overdue (manager)": Page(
        "manager", lambda w: TRAINING_STATUS + "?status=overdue&sort=-next_expiry", 14, "Overdue"
    ),
    "training status export (manager)": Page(
        "manager", lambda w: TRAINING_STATUS + "export.csv", 11, "Learner 099"
    ),
    "training status export (admin)": Page(
        "admin", lambda w: TRAINING_STATUS + "export.csv", 7, "Learner 099"
    ),
    "certificate (holder)": Page(
        "member_a", lambda w: f"/training/certificates/{w.certificate.pk}/", 8, "OPRM-2026-000001"
    ),
    "certificate (manager)": Page(
        "manager", lambda w: f"/training/certificates/{w.certificate.pk}/", 8, "OPRM-2026-000001"
    ),
    "certificate verify (manager)": Page(
        "manager",
        lambda w: "/training/certificates/verify/?number=OPRM-2026-000001",
        8,
        "Jamie",
    ),
}


@pytest.mark.parametrize("page", list(TRAINING_PAGES), ids=list(TRAINING_PAGES))
def test_training_pages_cost_the_same_with_10_and_100_people(
    client, world, page, django_assert_max_num_queries
):
    spec = TRAINING_PAGES[page]
    training_world(world)
    grow_learners(world, 10)
    assert_same_cost_with_more_rows(
        client,
        world,
        spec,
        django_assert_max_num_queries,
        grow=lambda: grow_learners(world, 90, start=10),
    )


# --- training: the catalogue, my learning, a course, a lesson, a quiz (10 vs 100 rows) -------


def grow_courses(world, count: int, *, start: int = 0) -> None:
    """``count`` more published courses of two lessons and a quiz; member_a is enrolled in each,
    every other one completed with a certificate."""
    from datetime import date

    from training.models import (
        Certificate,
        Course,
        Enrollment,
        Lesson,
        LessonProgress,
        Quiz,
    )

    courses = Course.objects.bulk_create(
        Course(title=f"Grown course {i:03d}", slug=f"grown-course-{i}", published=True)
        for i in range(start, start + count)
    )
    lessons = Lesson.objects.bulk_create(
        Lesson(course=c, title=f"Lesson {n}", position=n) for c in courses for n in (1, 2)
    )
    Quiz.objects.bulk_create(Quiz(course=c, title="Quiz") for c in courses)
    enrollments = Enrollment.objects.bulk_create(
        Enrollment(
            user=world.member_a,
            course=c,
            status="completed" if i % 2 else "in_progress",
            last_lesson=lessons[2 * i],
        )
        for i, c in enumerate(courses)
    )
    LessonProgress.objects.bulk_create(
        LessonProgress(enrollment=e, lesson=lessons[2 * i]) for i, e in enumerate(enrollments)
    )
    Certificate.objects.bulk_create(
        Certificate(
            number=f"OPRM-GROWN-{i:04d}",
            user=world.member_a,
            course=c,
            account=world.a,
            issued_on=date(2026, 1, 1),
            expires_on=date(2030, 1, 1),
        )
        for i, c in zip(range(start, start + count), courses, strict=True)
        if i % 2
    )


def grow_course_content(course, count: int, *, start: int = 0) -> None:
    """``count`` more lessons, and questions with three choices, in ``course``."""
    from training.models import Choice, Lesson, Question

    Lesson.objects.bulk_create(
        Lesson(course=course, title=f"Grown lesson {i:03d}", position=i + 1)
        for i in range(start, start + count)
    )
    quiz = course.quizzes.get()
    questions = Question.objects.bulk_create(
        Question(quiz=quiz, text=f"Grown question {i:03d}?", kind="multiple", position=i)
        for i in range(start, start + count)
    )
    Choice.objects.bulk_create(
        Choice(question=q, text=f"Choice {n}", is_correct=n == 1, position=n)
        for q in questions
        for n in (1, 2, 3)
    )


COURSE_PAGES = {
    "catalogue (member)": Page("member_a", lambda w: "/training/courses/", 9, "Grown course 0"),
    "catalogue filtered (member)": Page(
        "member_a",
        lambda w: "/training/courses/?status=in_progress&required=&q=grown",
        9,
        "Grown course 0",
    ),
    "catalogue (manager)": Page("manager", lambda w: "/training/courses/", 8, "Grown course 0"),
    "my learning (member)": Page("member_a", lambda w: "/training/learning/", 10, "OPRM-GROWN"),
}


@pytest.mark.parametrize("page", list(COURSE_PAGES), ids=list(COURSE_PAGES))
def test_course_lists_cost_the_same_with_10_and_100_courses(
    client, world, page, django_assert_max_num_queries
):
    spec = COURSE_PAGES[page]
    grow_courses(world, 10)
    assert_same_cost_with_more_rows(
        client,
        world,
        spec,
        django_assert_max_num_queries,
        grow=lambda: grow_courses(world, 90, start=10),
    )


@pytest.mark.parametrize("name", ["course", "lesson", "quiz"])
def test_course_player_pages_cost_the_same_with_10_and_100_lessons(
    client, world, name, django_assert_max_num_queries
):
    from training import services
    from training.models import Course, Quiz

    course = Course.objects.create(title="Big course", slug="big-course", published=True)
    Quiz.objects.create(course=course, title="Big quiz", max_attempts=0)
    grow_course_content(course, 10)
    enrollment = services.enroll(actor=world.member_a, course=course)
    services.complete_lesson(
        actor=world.member_a, enrollment=enrollment, lesson=course.lessons.first()
    )
    urls = {
        "course": "/training/courses/big-course/",
        "lesson": f"/training/courses/big-course/lessons/{course.lessons.first().pk}/",
        "quiz": f"/training/courses/big-course/quizzes/{course.quizzes.get().pk}/",
    }
    login_as(client, world.member_a)
    _request(client, urls[name])
    small, _ = _request(client, urls[name])
    grow_course_content(course, 90, start=10)
    with django_assert_max_num_queries(16):
        big, body = _request(client, urls[name])
    assert "Grown" in body
    assert len(big) == len(small), "\n".join(["queries differ with more lessons:", *big])


# --- training: onboarding checklists (10 vs 60 steps; refresh over 10 vs 100 accounts) --------


def grow_checklist(template, count: int, *, start: int = 0) -> None:
    """Steps of every kind (a course step with its course) on ``template``."""
    from training.models import ChecklistStep, Course, StepCheck

    kinds = list(StepCheck.values)
    course = Course.objects.get_or_create(slug="onb-course", defaults={"title": "Onb course"})[0]
    ChecklistStep.objects.bulk_create(
        ChecklistStep(
            template=template,
            position=i,
            title=f"Grown step {i:03d}",
            ticks_when=kinds[i % len(kinds)],
            course=course if kinds[i % len(kinds)] == StepCheck.COURSE_COMPLETED else None,
        )
        for i in range(start, start + count)
    )


ONBOARDING_PAGES = {
    "onboarding (partner admin)": ("partner_admin_a", lambda w: "/training/onboarding/", 16),
    "onboarding (member)": ("member_a", lambda w: "/training/onboarding/", 16),
    "onboarding of A (manager)": (
        "manager",
        lambda w: f"/training/onboarding/partners/{w.a.pk}/",
        16,
    ),
    "portal home with a checklist": ("partner_admin_a", lambda w: "/portal/", 20),
}


@pytest.mark.parametrize("name", list(ONBOARDING_PAGES), ids=list(ONBOARDING_PAGES))
def test_onboarding_pages_cost_the_same_with_10_and_60_steps(
    client, world, name, django_assert_max_num_queries
):
    from training import services
    from training.models import ChecklistItem, ChecklistTemplate

    persona, url, bound = ONBOARDING_PAGES[name]
    template = ChecklistTemplate.objects.create(name="Gold onboarding", tier=world.tier)
    grow_checklist(template, 10)
    services.ensure_checklist(world.a)
    ChecklistItem.objects.filter(account=world.a, step__ticks_when="manual").update(
        done_at=timezone.now(), done_by=world.partner_admin_a
    )
    login_as(client, getattr(world, persona))
    _request(client, url(world))
    small, _ = _request(client, url(world))
    grow_checklist(template, 50, start=10)
    services.ensure_checklist(world.a)
    ChecklistItem.objects.filter(account=world.a, step__ticks_when="manual").update(
        done_at=timezone.now(), done_by=world.partner_admin_a
    )
    _request(client, url(world))  # the first view after new steps ticks what is already done
    with django_assert_max_num_queries(bound):
        big, body = _request(client, url(world))
    assert "of 60 done" in body
    assert len(big) == len(small), "\n".join(["queries differ with more steps:", *big])


def test_refreshing_checklists_costs_the_same_for_10_and_100_accounts(world):
    from partners.models import AccountStatus, Contact, PartnerAccount, PortalAccess
    from training import services
    from training.models import ChecklistTemplate, Course, Enrollment, EnrollmentStatus

    template = ChecklistTemplate.objects.create(name="Gold onboarding", tier=world.tier)
    grow_checklist(template, 10)
    course = Course.objects.get(slug="onb-course")
    Enrollment.objects.create(user=world.member_a, course=course, status=EnrollmentStatus.COMPLETED)

    def accounts(count, start):
        made = PartnerAccount.objects.bulk_create(
            PartnerAccount(
                name=f"Onboarding {i:03d}",
                tier=world.tier,
                status=AccountStatus.ACTIVE,
                website="https://x.example",
                phone="1",
                country="France",
                industry="software",
                description="" if i % 2 else "Complete",
            )
            for i in range(start, start + count)
        )
        ids = [a.pk for a in PartnerAccount.objects.filter(name__startswith="Onboarding ")]
        ids = ids[start : start + count]
        Contact.objects.bulk_create(
            Contact(
                account_id=pk,
                first_name="P",
                last_name=str(n),
                email=f"p{n}-{pk}@onb.example",
                portal_access=PortalAccess.MEMBER,
            )
            for pk in ids
            for n in range(2)
        )
        assert len(made) == count
        return ids + [world.a.pk]

    def measure(ids):
        services.ensure_checklists(ids)
        with CaptureQueriesContext(connection) as queries:
            ticked = services.refresh_automatic_steps(ids)
        return len(queries), ticked

    small, small_ticked = measure(accounts(10, 0))
    big, big_ticked = measure(accounts(100, 10))
    assert small_ticked and big_ticked > small_ticked  # checks really ran and ticked
    assert small == big <= 5


# --- training: the resource library and the FAQ (10 vs 100 rows) -----------------------------


def grow_library(world, count: int, *, start: int = 0) -> None:
    """``count`` more resources (two tags each, every third one for account A only, every
    fourth one for the world's tier) and as many FAQ articles in four categories."""
    from training.models import Article, Resource, ResourceTag

    tags = [
        ResourceTag.objects.get_or_create(slug=slug, defaults={"name": slug.title()})[0]
        for slug in ("pricing", "brand")
    ]
    resources = Resource.objects.bulk_create(
        Resource(
            title=f"Grown resource {i:03d}",
            description="Grown for the query counts",
            category="sales_deck" if i % 2 else "price_list",
            file=f"resources/grown-{i}.pdf",
            file_size=1000 + i,
            version="1.0",
        )
        for i in range(start, start + count)
    )
    Resource.tags.through.objects.bulk_create(
        Resource.tags.through(resource=r, resourcetag=t) for r in resources for t in tags
    )
    Resource.accounts.through.objects.bulk_create(
        Resource.accounts.through(resource=r, partneraccount=world.a)
        for n, r in enumerate(resources)
        if n % 3 == 0
    )
    Resource.tiers.through.objects.bulk_create(
        Resource.tiers.through(resource=r, tier=world.tier)
        for n, r in enumerate(resources)
        if n % 4 == 0
    )
    Article.objects.bulk_create(
        Article(
            title=f"Grown question {i:03d}?",
            slug=f"grown-question-{i}",
            category=f"Topic {i % 4}",
            body="Grown **answer**.",
        )
        for i in range(start, start + count)
    )


LIBRARY = "/training/resources/"
FAQ = "/training/faq/"
LIBRARY_PAGES = {
    "library (member)": Page("member_a", lambda w: LIBRARY, 8, "Grown resource 000"),
    "library (manager)": Page("manager", lambda w: LIBRARY, 8, "Grown resource 000"),
    "library filtered (member)": Page(
        "member_a",
        lambda w: LIBRARY + "?q=grown&category=price_list&tag=pricing",
        8,
        "Grown resource 000",
    ),
    "library as a table (partner admin)": Page(
        "partner_admin_a", lambda w: LIBRARY + "?view=table", 8, "Grown resource 000"
    ),
    "resource (member)": Page(
        "member_a", lambda w: f"/training/resources/{w.first_resource.pk}/", 8, "Download"
    ),
    "resource (manager)": Page(
        "manager", lambda w: f"/training/resources/{w.first_resource.pk}/", 8, "Download"
    ),
    "FAQ (member)": Page("member_a", lambda w: FAQ, 8, "Grown question 000?"),
    "FAQ search (manager)": Page("manager", lambda w: FAQ + "?q=grown", 8, "Grown question 000?"),
    "FAQ article (member)": Page(
        "member_a", lambda w: FAQ + "grown-question-0/", 8, "Grown question 004?"
    ),
}


@pytest.mark.parametrize("page", list(LIBRARY_PAGES), ids=list(LIBRARY_PAGES))
def test_library_pages_cost_the_same_with_10_and_100_rows(
    client, world, page, django_assert_max_num_queries
):
    from training.models import Resource

    spec = LIBRARY_PAGES[page]
    grow_library(world, 10)
    world.first_resource = Resource.objects.get(title="Grown resource 000")
    assert_same_cost_with_more_rows(
        client,
        world,
        spec,
        django_assert_max_num_queries,
        grow=lambda: grow_library(world, 90, start=10),
    )


# --- training: the course page's "Enroll colleagues" card (10 vs 20 colleagues with a login) ---


@pytest.mark.parametrize(
    ("persona", "shows"),
    [("partner_admin_a", "grown9@northwind.example"), ("manager", "Enroll partner people")],
)
def test_course_page_enroll_card_costs_the_same_with_more_colleagues(
    client, world, persona, shows, django_assert_max_num_queries
):
    from django.contrib.auth import get_user_model

    from prm.testing.world import make_partner_user
    from training import services
    from training.models import Course

    course = Course.objects.create(title="Team course", slug="team-course", published=True)
    for i in range(10):
        user, _ = make_partner_user(world.a, f"team{i}@northwind.example", "member")
        services.enroll(actor=world.partner_admin_a, course=course, user=user)
    spec = Page(persona, lambda w: "/training/courses/team-course/", 14, shows)

    def grow():
        grow_world(world)  # 10 more colleagues with a login (and 35 without)
        for user in get_user_model().objects.filter(email__startswith="grown"):
            services.enroll(actor=world.partner_admin_a, course=course, user=user)

    assert_same_cost_with_more_rows(client, world, spec, django_assert_max_num_queries, grow=grow)


# --- analytics: the partner scorecard (5 vs 50 opportunities) ---------------------------------

SCORECARD_PAGES = {
    # two KPI computations (this period and the last), goals, two charts, top deals, training
    "scorecard (partner admin)": Page(
        "partner_admin_a", lambda w: "/dashboard/", 60, "Grown Deal 048"
    ),
    "scorecard (member)": Page("member_a", lambda w: "/dashboard/", 60, "Grown Deal 048"),
    "account scorecard (manager)": Page(
        "manager", lambda w: f"/partners/{w.a.pk}/scorecard/", 60, "Grown Deal 048"
    ),
    "account scorecard (admin)": Page(
        "admin", lambda w: f"/partners/{w.a.pk}/scorecard/?period=2026", 60, "Grown Deal 048"
    ),
}


@pytest.mark.parametrize("page", list(SCORECARD_PAGES), ids=list(SCORECARD_PAGES))
def test_scorecard_costs_the_same_with_5_and_50_opportunities(
    client, world, page, django_assert_max_num_queries
):
    spec = SCORECARD_PAGES[page]
    opportunity_world(world)
    grow_opportunities(world, 5)
    assert_same_cost_with_more_rows(
        client,
        world,
        spec,
        django_assert_max_num_queries,
        grow=lambda: grow_opportunities(world, 45, start=5),
    )


# --- analytics: the manager dashboard and the ranked table (5 vs 50 partners) -----------------


def grow_book(world) -> None:
    """45 more partners for the manager (``grow_world``), each with a won and an open deal, and
    the quarter's kept scores of every partner refreshed."""
    from django.utils import timezone

    from analytics.services import refresh_months, refresh_scores
    from deals.models import Opportunity, PipelineStage
    from partners.models import PartnerAccount

    grow_world(world)
    stage = PipelineStage.objects.filter(active=True).order_by("position").first()
    grown = PartnerAccount.objects.filter(name__startswith="Grown Partner")
    Opportunity.objects.bulk_create(
        Opportunity(
            account=account,
            name=f"{account.name} deal {status}",
            company="Grown Customer",
            stage=stage,
            amount=1000,
            close_date=timezone.localdate(),
            status=status,
            closed_at=timezone.now() if status == "won" else None,
        )
        for account in grown
        for status in ("won", "open")
    )
    refresh_scores()
    refresh_months()  # the kept monthly figures (the tasks' job after a write)


DASHBOARD_PAGES = {
    # measured 28: the book's ids, totals (two KPI computations, kept ones in one query), the
    # forecast (sharing the totals' quarter), four charts, the top ten, when figures were refreshed
    "manager dashboard (manager)": Page(
        "manager", lambda w: "/manager/dashboard/", 30, "Grown Partner 000"
    ),
    "manager dashboard filtered (admin)": Page(
        "admin",
        lambda w: f"/manager/dashboard/?tier={w.tier.pk}&region=emea&manager={w.manager.pk}",
        30,
        "Grown Partner 000",
    ),
    "ranking (manager)": Page(
        "manager", lambda w: "/manager/dashboard/partners/?sort=-won_revenue", 11, "Grown Partner"
    ),
    "ranking filtered (admin)": Page(
        "admin",
        lambda w: f"/manager/dashboard/partners/?tier={w.tier.pk}&manager={w.manager.pk}",
        11,
        "Grown Partner 010",
    ),
    "ranking export (manager)": Page(
        "manager", lambda w: "/manager/dashboard/partners/export.csv", 8, "Grown Partner 044"
    ),
}


@pytest.mark.parametrize("page", list(DASHBOARD_PAGES), ids=list(DASHBOARD_PAGES))
def test_manager_dashboard_costs_the_same_with_5_and_50_partners(
    client, world, page, django_assert_max_num_queries
):
    from analytics.services import refresh_scores

    refresh_scores()
    assert_same_cost_with_more_rows(
        client,
        world,
        DASHBOARD_PAGES[page],
        django_assert_max_num_queries,
        grow=lambda: grow_book(world),
    )


# --- saved reports: the same count with 5 rows as with 50 --------------------------------------


def grow_report_rows(world, count: int, *, start: int = 0) -> None:
    """``count`` more opportunities of A (and a few of its child account) over every stage."""
    from datetime import date

    from deals.models import Opportunity, PipelineStage

    stages = list(PipelineStage.objects.filter(active=True))
    Opportunity.objects.bulk_create(
        Opportunity(
            account=world.a_child if i % 7 == 3 else world.a,
            owner=world.partner_admin_a,
            name=f"Report Deal {i:03d}",
            company=f"Report Customer {i:03d}",
            stage=stages[i % len(stages)],
            amount=100 + i,
            close_date=date(2026, 1 + i % 12, 1),
            custom={"segment": "SMB" if i % 2 else "Enterprise"},
        )
        for i in range(start, start + count)
    )


def report_world(world):
    """Two reports over every opportunity, shared with partner admins: a plain one sorted by
    name (with a custom field column) and one grouped by partner (with its chart)."""
    from analytics.models import SavedReport
    from prm.models import CustomField

    CustomField.objects.create(
        target="deals.opportunity", label="Segment", key="segment", field_type="text"
    )
    world.report = SavedReport.objects.create(
        name="Every deal",
        owner=world.admin,
        record_type="opportunities",
        columns=[
            "name",
            "partner",
            "tier",
            "manager",
            "stage",
            "amount",
            "close_date",
            "custom:segment",
        ],
        filters=[{"field": "amount", "op": "gte", "value": "0"}],
        sort="name",
        shared=True,
        shared_with_partners=True,
    )
    world.grouped_report = SavedReport.objects.create(
        name="Deals by partner",
        owner=world.admin,
        record_type="opportunities",
        columns=["partner", "amount"],
        group_by="close_date",
        shared=True,
        shared_with_partners=True,
    )
    return world


REPORT_PAGES = {
    "report (manager)": Page(
        "manager", lambda w: f"/reports/{w.report.pk}/", 10, "Report Deal 049"
    ),
    "report (admin)": Page("admin", lambda w: f"/reports/{w.report.pk}/", 7, "Report Deal 049"),
    "report (partner admin)": Page(
        "partner_admin_a", lambda w: f"/reports/{w.report.pk}/", 8, "Report Deal 049"
    ),
    "grouped report with chart (manager)": Page(
        "manager", lambda w: f"/reports/{w.grouped_report.pk}/", 11, "2026-12"
    ),
    "report CSV (manager)": Page(
        "manager", lambda w: f"/reports/{w.report.pk}/export.csv", 9, "Report Deal 049"
    ),
    "report CSV (partner admin)": Page(
        "partner_admin_a", lambda w: f"/reports/{w.report.pk}/export.csv", 6, "Report Deal 049"
    ),
    "report chart CSV (manager)": Page(
        "manager", lambda w: f"/charts/report.csv?report={w.grouped_report.pk}", 9, "2026-12"
    ),
    "report list (manager)": Page("manager", lambda w: "/reports/", 6, "Deals by partner"),
}


@pytest.mark.parametrize("page", list(REPORT_PAGES), ids=list(REPORT_PAGES))
def test_report_pages_cost_the_same_with_5_and_50_rows(
    client, world, page, django_assert_max_num_queries
):
    report_world(world)
    grow_report_rows(world, 5)
    assert_same_cost_with_more_rows(
        client,
        world,
        REPORT_PAGES[page],
        django_assert_max_num_queries,
        grow=lambda: grow_report_rows(world, 45, start=5),
    )


@pytest.mark.parametrize("persona", ["manager", "partner_admin_a"])
def test_the_report_xlsx_costs_the_same_with_5_and_50_rows(client, world, persona):
    import io
    import zipfile

    report_world(world)
    grow_report_rows(world, 5)
    login_as(client, getattr(world, persona))
    url = f"/reports/{world.report.pk}/export.xlsx"

    def measure():
        with CaptureQueriesContext(connection) as queries:
            response = client.get(url)
            data = b"".join(response.streaming_content)
        assert response.status_code == 200
        with zipfile.ZipFile(io.BytesIO(data)) as book:
            sheet = book.read("xl/worksheets/sheet1.xml").decode()  # inline strings
        return len(queries.captured_queries), sheet

    measure()  # warm-up
    small, _ = measure()
    grow_report_rows(world, 45, start=5)
    big, strings = measure()
    assert "Report Deal 049" in strings
    assert big == small <= 9


# --- goals: the same count with 2 goals as with 12 --------------------------------------------

#: KPIs that take goals, in the order the grown goals use them (12 of them).
GOAL_KPIS = (
    "won_revenue",
    "deals_registered",
    "pipeline_value",
    "weighted_pipeline",
    "new_pipeline",
    "approval_rate",
    "decision_hours",
    "win_rate",
    "average_deal",
    "sales_cycle_days",
    "lead_acceptance_rate",
    "certified_people",
)


def grow_goals(world, count: int, *, start: int = 0) -> None:
    """``count`` more goals of A this quarter (each on its own KPI), every other one proposed."""
    from analytics import kpis
    from analytics.models import Goal

    quarter = kpis.Period.current_quarter().start
    Goal.objects.bulk_create(
        Goal(
            account=world.a,
            quarter=quarter,
            kpi=kpi,
            target=10 + i,
            status="proposed" if i % 2 else "accepted",
            proposed_by=world.partner_admin_a if i % 2 else None,
            set_by=None if i % 2 else world.manager,
        )
        for i, kpi in enumerate(GOAL_KPIS[start : start + count], start=start)
    )


GOAL_PAGES = {
    "account goals (manager)": Page(
        "manager", lambda w: f"/partners/{w.a.pk}/goals/", 22, "Time to decision"
    ),
    "account goals (admin)": Page(
        "admin", lambda w: f"/partners/{w.a.pk}/goals/", 19, "Time to decision"
    ),
    "goals (partner admin)": Page("partner_admin_a", lambda w: "/goals/", 19, "Time to decision"),
    "goals (member)": Page("member_a", lambda w: "/goals/", 18, "Time to decision"),
}


@pytest.mark.parametrize("page", list(GOAL_PAGES), ids=list(GOAL_PAGES))
def test_goal_pages_cost_the_same_with_2_and_12_goals(
    client, world, page, django_assert_max_num_queries
):
    grow_goals(world, 2)
    assert_same_cost_with_more_rows(
        client,
        world,
        GOAL_PAGES[page],
        django_assert_max_num_queries,
        grow=lambda: grow_goals(world, 10, start=2),
    )


# --- alerts (issue 6) ---------------------------------------------------------------------------


def grow_alerts(world, how_many: int, *, start: int = 0) -> None:
    """Open alerts on A (and its child) for the manager and for A's partner admins."""
    from analytics.models import Alert, AlertRule

    rules = [
        AlertRule.objects.get_or_create(
            name=f"Query rule {audience}",
            defaults={"condition": "registration_waiting", "audience": audience},
        )[0]
        for audience in ("manager", "partner_admins")
    ]
    Alert.objects.bulk_create(
        [
            Alert(
                rule=rule,
                subject=f"registration:{n}",
                account=world.a if n % 2 else world.a_child,
                title=f"Alert number {n:03d}",
                why="Waiting 50 h for a decision (rule: more than 48 h)",
                action="Approve, return or reject it",
                url="/registrations/1/",
            )
            for n in range(start, start + how_many)
            for rule in rules
        ]
    )


ALERT_PAGES = {
    "alerts (manager)": Page("manager", lambda w: "/alerts/", 8, "Alert number 0"),
    "alerts filtered (admin)": Page(
        "admin", lambda w: "/alerts/?condition=registration_waiting&partner=north", 5, "Alert"
    ),
    "alerts (partner admin)": Page("partner_admin_a", lambda w: "/alerts/", 6, "Alert number"),
}


@pytest.mark.parametrize("page", list(ALERT_PAGES), ids=list(ALERT_PAGES))
def test_alerts_page_costs_the_same_with_5_and_50_alerts(
    client, world, page, django_assert_max_num_queries
):
    grow_alerts(world, 5)
    assert_same_cost_with_more_rows(
        client,
        world,
        ALERT_PAGES[page],
        django_assert_max_num_queries,
        grow=lambda: grow_alerts(world, 45, start=5),
    )


# --- feedback surveys (issue 6) -----------------------------------------------------------------


def grow_survey_answers(world, how_many: int, *, start: int = 0) -> None:
    """``how_many`` more answer sheets to ``world.survey`` (an NPS, a rating, a choice and a
    comment each), from Jamie of A and Sam of B in turn, one occasion each."""
    from datetime import timedelta

    from analytics.models import (
        QuestionKind,
        Survey,
        SurveyAnswer,
        SurveyDistribution,
        SurveyInvitation,
        SurveyQuestion,
        SurveyResponse,
    )

    if not hasattr(world, "survey"):
        world.survey = Survey.objects.create(title="Counted survey")
        for position, kind in enumerate(QuestionKind.values):
            SurveyQuestion.objects.create(
                survey=world.survey,
                position=position,
                kind=kind,
                text=f"Question {kind}",
                options="Leads\nTraining" if kind == QuestionKind.CHOICE else "",
            )
        world.survey_distribution = SurveyDistribution.objects.create(
            survey=world.survey, name="Counted", trigger="quarterly"
        )
    questions = {q.kind: q for q in world.survey.questions.all()}
    base = timezone.now() - timedelta(days=1)
    for n in range(start, start + how_many):
        user, account = (world.member_a, world.a) if n % 2 else (world.partner_admin_b, world.b)
        invitation = SurveyInvitation.objects.create(
            survey=world.survey,
            distribution=world.survey_distribution,
            user=user,
            account=account,
            occasion=f"grown:{n}",
            expires_at=base + timedelta(days=14),
            responded_at=base,
        )
        response = SurveyResponse.objects.create(
            invitation=invitation,
            survey=world.survey,
            account=account,
            user=user,
            nps=n % 11,
            submitted_at=base + timedelta(minutes=n),
        )
        SurveyAnswer.objects.bulk_create(
            [
                SurveyAnswer(response=response, question=questions["nps"], number=n % 11),
                SurveyAnswer(response=response, question=questions["rating"], number=n % 5 + 1),
                SurveyAnswer(response=response, question=questions["choice"], choice="Leads"),
                SurveyAnswer(
                    response=response, question=questions["text"], text=f"Grown comment {n:03d}"
                ),
            ]
        )


SURVEY_PAGES = {
    "survey results (manager)": Page(
        "manager", lambda w: f"/surveys/{w.survey.pk}/results/", 16, "Grown comment"
    ),
    "survey results (admin)": Page(
        "admin", lambda w: f"/surveys/{w.survey.pk}/results/", 13, "Grown comment"
    ),
    "survey list (manager)": Page("manager", lambda w: "/surveys/", 8, "Counted survey"),
    "survey list (member)": Page("member_a", lambda w: "/surveys/", 10, "Grown comment"),
}


@pytest.mark.parametrize("page", list(SURVEY_PAGES), ids=list(SURVEY_PAGES))
def test_survey_pages_cost_the_same_with_5_and_50_responses(
    client, world, page, django_assert_max_num_queries
):
    grow_survey_answers(world, 5)
    assert_same_cost_with_more_rows(
        client,
        world,
        SURVEY_PAGES[page],
        django_assert_max_num_queries,
        grow=lambda: grow_survey_answers(world, 45, start=5),
    )


# --- quarterly goal reviews (issue 6) -------------------------------------------------------------


def grow_reviews(world, how_many: int, *, start: int = 0) -> None:
    """Reviews of ``how_many`` quarters back for A and B (and a goal row per quarter of A's)."""
    from analytics import kpis
    from analytics.models import QuarterlyReview

    quarter = kpis.Period.current_quarter()
    for _ in range(start + 1):
        quarter = quarter.previous()
    rows = []
    for n in range(how_many):
        goals = [
            {
                "kpi": "won_revenue",
                "label": f"Goal {i}",
                "unit": "money",
                "target": "10",
                "actual": "12",
                "percent": 120.0,
                "achieved": True,
                "state": "achieved",
            }
            for i in range(start + n + 1)
        ]
        for account in (world.a, world.b):
            rows.append(
                QuarterlyReview(
                    account=account,
                    quarter=quarter.start,
                    figures={"label": quarter.label, "goals": goals, "kpis": [], "wins": []},
                    proposed_goals=[{"kpi": "won_revenue", "target": "1000"}],
                )
            )
        quarter = quarter.previous()
    QuarterlyReview.objects.bulk_create(rows)
    # A's latest review gets as many goal and KPI rows as there are reviews so far.
    latest = world.a.reviews.order_by("-quarter").first()
    latest.figures["goals"] = [
        {**rows[0].figures["goals"][0], "label": f"Goal {i}"} for i in range(start + how_many)
    ]
    latest.save(update_fields=["figures"])


REVIEW_PAGES = {
    "reviews (manager)": Page("manager", lambda w: "/reviews/", 10, "achieved"),
    "reviews filtered (admin)": Page("admin", lambda w: "/reviews/?acknowledged=no", 8, "Contoso"),
    "reviews (partner admin)": Page("partner_admin_a", lambda w: "/reviews/", 10, "achieved"),
    "review page (member)": Page(
        "member_a",
        lambda w: f"/reviews/{w.a.reviews.order_by('-quarter').first().pk}/",
        12,
        "Goal 49",
    ),
}


@pytest.mark.parametrize("page", list(REVIEW_PAGES), ids=list(REVIEW_PAGES))
def test_review_pages_cost_the_same_with_5_and_50_rows(
    client, world, page, django_assert_max_num_queries
):
    grow_reviews(world, 5)
    assert_same_cost_with_more_rows(
        client,
        world,
        REVIEW_PAGES[page],
        django_assert_max_num_queries,
        grow=lambda: grow_reviews(world, 45, start=5),
    )
