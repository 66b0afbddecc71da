"""Deal registration in a real browser: two partners claim the same customer, the pre-check
answers inline, the second one is flagged without learning who holds it, and the manager
compares both side by side and decides. Playwright drives Debian's Chromium on a live server."""

import re
from dataclasses import dataclass
from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import dateformat, timezone

from deals.models import Product
from prm.testing.browser import chromium, sign_in
from prm.testing.world import World, build_world

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PHONE = {"width": 390, "height": 844}
CONFLICT = "Possible conflict — under review"


@dataclass
class Journey:
    world: World
    product: str
    protected_until: str  # as the registration page writes it ("j F Y")


@pytest.fixture
def journey(live_server):
    # Built before Playwright starts: ORM calls made inside Playwright's sync API run in another
    # context and would open a database connection that is never closed. The test itself makes
    # no ORM call: everything it needs later (emails, the protection date) is read here.
    world = build_world()
    product = Product.objects.create(
        name="Edge Gateway", sku="EGW-100", family="Network", list_price=1200
    )
    until = timezone.localdate() + timedelta(days=world.tier.registration_days)
    return Journey(world, product.name, dateformat.format(until, "j F Y"))


@pytest.fixture
def browser(journey):
    with chromium() as browser:
        yield browser


def main_nav(page):
    return page.get_by_role("navigation", name="Main")


def fill_registration(page, *, product, amount, close_date, contact, email):
    """The rest of the short form, after the customer's company and domain."""
    page.get_by_label("Customer contact").fill(contact)
    page.get_by_label("Contact email").fill(email)
    page.get_by_label("Product 1", exact=True).select_option(label=product)
    page.get_by_label("Quantity").first.fill("3")
    page.get_by_label("Estimated amount").fill(amount)
    page.get_by_label("Currency").select_option("EUR")
    page.get_by_label("Expected close date").fill(close_date)


def test_two_partners_claim_one_customer_and_the_manager_decides_side_by_side(
    journey, browser, live_server
):
    from playwright.sync_api import expect

    world = journey.world
    base = live_server.url
    close_date = (timezone.localdate() + timedelta(days=60)).isoformat()
    registration_url = re.compile(rf"{re.escape(base)}/registrations/(\d+)/$")

    # 1. Partner admin A, on a phone: registers Acme while nobody holds it.
    phone = browser.new_context(viewport=PHONE, is_mobile=True, has_touch=True)
    a = phone.new_page()
    sign_in(a, base, world.partner_admin_a.email)
    expect(a).to_have_url(f"{base}/portal/")
    a.get_by_role("button", name="Show menu").click()  # the tabs fold away on a phone
    main_nav(a).get_by_role("link", name="Deals", exact=True).click()
    expect(a).to_have_url(base + reverse("deals:registration_list"))
    a.get_by_role("link", name="Register a deal").first.click()
    expect(a).to_have_url(base + reverse("deals:registration_add"))

    a.get_by_label("Customer company").fill("Acme Inc.")
    a.get_by_label("Customer website or domain").fill("acme.com")
    precheck = a.locator("#precheck .precheck-result")
    expect(precheck).to_have_attribute("data-state", "open")
    expect(precheck).to_contain_text("Open: nobody has registered this customer.")

    fill_registration(
        a,
        product=journey.product,
        amount="48000",
        close_date=close_date,
        contact="Alice Anders",
        email="alice@acme.com",
    )
    submit = a.get_by_role("button", name="Submit for approval")
    # Every required field and the submit button fit the phone's width and can be scrolled to.
    required = [
        a.get_by_label("Customer company"),
        a.get_by_label("Customer contact"),
        a.get_by_label("Contact email"),
        a.get_by_label("Product 1", exact=True),
        a.get_by_label("Quantity").first,
        a.get_by_label("Estimated amount"),
        a.get_by_label("Currency"),
        a.get_by_label("Expected close date"),
        submit,
    ]
    for control in required:
        control.scroll_into_view_if_needed()
        expect(control).to_be_in_viewport()
        box = control.bounding_box()
        assert box["x"] >= 0 and box["x"] + box["width"] <= PHONE["width"], control
    assert a.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    submit.click()

    expect(a).to_have_url(registration_url)
    a_pk = registration_url.match(a.url).group(1)
    expect(a.get_by_role("heading", level=1)).to_contain_text("Acme Inc.")
    expect(a.get_by_role("heading", level=1)).to_contain_text("Under review")
    expect(a.get_by_text("Acme Inc. is submitted")).to_be_visible()
    a.screenshot(path="test-results/registration-a-phone.png", full_page=True)

    # 2. Partner admin B, another company: the same customer under another name.
    b = browser.new_context().new_page()
    sign_in(b, base, world.partner_admin_b.email)
    main_nav(b).get_by_role("link", name="Deals", exact=True).click()
    b.get_by_role("link", name="Register a deal").first.click()
    b.get_by_label("Customer company").fill("ACME, Incorporated")
    b.get_by_label("Customer website or domain").fill("www.acme.com")
    precheck = b.locator("#precheck .precheck-result")
    expect(precheck).to_have_attribute("data-state", "under_review")
    expect(precheck).to_contain_text("Under review: a registration for this customer is pending.")
    for secret in ("Northwind", "Acme Inc.", "Alex", "Alice"):
        expect(b.locator("#precheck")).not_to_contain_text(secret)

    fill_registration(
        b,
        product=journey.product,
        amount="52000",
        close_date=close_date,
        contact="Bob Brown",
        email="bob@acme.com",
    )
    b.get_by_role("button", name="Submit for approval").click()
    expect(b).to_have_url(registration_url)
    b_pk = registration_url.match(b.url).group(1)
    expect(b.get_by_role("heading", level=1).get_by_text(CONFLICT, exact=True)).to_be_visible()
    expect(b.get_by_role("link", name=re.compile("compare", re.I))).to_have_count(0)
    html = b.content()
    for secret in ("Northwind", "Acme Inc.", "Alex Rivera", "Alice Anders", "alice@acme.com"):
        assert secret not in html, f"B's page gives away A's registration: {secret!r}"
    b.screenshot(path="test-results/registration-b-conflict.png", full_page=True)

    # 3. The admin (who decides for both partners): the flagged one first, compare, decide.
    m = browser.new_context().new_page()
    sign_in(m, base, world.admin.email)
    main_nav(m).get_by_role("link", name="Registrations", exact=True).click()
    m.get_by_role("navigation", name="Deals sections").get_by_role(
        "link", name="Review queue"
    ).click()
    expect(m).to_have_url(base + reverse("deals:review_queue"))
    rows = m.locator("table tbody tr")
    expect(rows).to_have_count(2)
    expect(rows.first).to_contain_text("ACME, Incorporated")  # submitted last, listed first
    expect(rows.first).to_contain_text("Contoso Partners")
    expect(rows.nth(1)).to_contain_text("Acme Inc.")
    rows.first.get_by_role("link", name="Possible conflict: compare").click()

    expect(m).to_have_url(base + reverse("deals:registration_conflicts", args=[b_pk]))
    expect(m.get_by_role("heading", level=1)).to_contain_text("Compare: ACME, Incorporated")
    theirs = (
        m.get_by_role("list", name="Records side by side")
        .get_by_role("listitem")
        .filter(has_text="Northwind Systems")
    )
    expect(theirs).to_have_count(1)
    expect(theirs).to_contain_text(f"#{a_pk}")
    expect(theirs).to_contain_text("Acme Inc.")
    expect(theirs).to_contain_text("Same domain (acme.com)")
    m.screenshot(path="test-results/registration-compare.png", full_page=True)

    decision = m.get_by_role("region", name=re.compile(r"^Your decision"))
    decision.get_by_role("radio", name="Reject").check()
    decision.get_by_label("Reason").fill("Another partner registered this customer first.")
    decision.get_by_role("button", name="Record decision").click()
    expect(m).to_have_url(base + reverse("deals:registration", args=[b_pk]))
    expect(m.get_by_text("ACME, Incorporated is rejected")).to_be_visible()

    m.get_by_role("link", name="Review queue").first.click()
    expect(rows).to_have_count(1)
    rows.first.get_by_role("link", name="Acme Inc.").click()
    expect(m).to_have_url(base + reverse("deals:registration", args=[a_pk]))
    decision = m.get_by_role("region", name=re.compile(r"^Your decision"))
    decision.get_by_role("radio", name="Approve").check()
    decision.get_by_label("Reason").fill("First to register; the customer confirmed it.")
    decision.get_by_role("button", name="Record decision").click()
    expect(
        m.get_by_text(f"Approved: Acme Inc. is protected until {journey.protected_until}.")
    ).to_be_visible()

    # A sees the protection; B sees the rejection and its reason, still without A's name.
    a.reload()
    expect(a.get_by_text(f"Protected until {journey.protected_until}", exact=True)).to_be_visible()
    expect(a.get_by_role("heading", level=1)).to_contain_text("Approved")
    a.screenshot(path="test-results/registration-a-protected.png", full_page=True)

    b.reload()
    expect(b.get_by_role("heading", level=1)).to_contain_text("Rejected")
    expect(b.get_by_role("region", name="Status")).to_contain_text(
        "Another partner registered this customer first."
    )
    assert "Northwind" not in b.content()
