"""Whole journeys in a real browser: Playwright driving Debian's Chromium against a live server."""

import re

import pytest
from django.core import mail

from prm.testing.browser import chromium, sign_in
from prm.testing.world import build_world

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def journey_world(live_server):
    # Built before Playwright starts: ORM calls made inside Playwright's sync API run in another
    # context and would open a database connection that is never closed.
    return build_world()


@pytest.fixture
def browser(journey_world):
    with chromium() as browser:
        yield browser


def test_partner_admin_invites_a_colleague_who_accepts_and_lands_on_portal_home(
    journey_world, browser, live_server
):
    world = journey_world
    page = browser.new_page()

    sign_in(page, live_server.url, world.partner_admin_a.email)
    page.wait_for_url(f"{live_server.url}/portal/")

    page.get_by_role("link", name="Company").first.click()
    page.get_by_role("link", name=re.compile("add or invite a colleague", re.I)).click()
    page.get_by_label("First name").fill("Morgan")
    page.get_by_label("Last name").fill("Lee")
    page.get_by_label("Email").fill("morgan.lee@northwind.example")
    page.get_by_label("Portal access").select_option("member")
    page.get_by_label("Send a portal invitation now").check()
    page.get_by_role("button", name="Add contact").click()
    page.get_by_text("Invitation sent to morgan.lee@northwind.example").wait_for()
    page.screenshot(path="test-results/invite-sent.png", full_page=True)

    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert message.to == ["morgan.lee@northwind.example"]
    link = re.search(r"https?://\S+/invitations/\S+/", message.body).group(0)
    path = link.split("/invitations/", 1)[1]

    colleague = browser.new_context().new_page()
    colleague.goto(f"{live_server.url}/invitations/{path}")
    colleague.get_by_label("Choose a password").fill("a-long-secret-Passphrase-42")
    colleague.get_by_label("Repeat the password").fill("a-long-secret-Passphrase-42")
    colleague.get_by_role("button", name=re.compile("set password", re.I)).click()
    colleague.wait_for_url(f"{live_server.url}/portal/")
    colleague.get_by_role("heading", name=re.compile("Morgan")).wait_for()
    colleague.screenshot(path="test-results/colleague-home.png", full_page=True)

    # The link was single-use: a second visit explains instead of letting anyone in again.
    again = browser.new_context().new_page()
    again.goto(f"{live_server.url}/invitations/{path}")
    assert "already been used" in again.content()
