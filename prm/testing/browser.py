"""Browser tests' plumbing: Debian's Chromium driven by Playwright, and signing in."""

from __future__ import annotations

import os
import re
from contextlib import contextmanager

from prm.testing.world import PASSWORD

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"]


@contextmanager
def chromium():
    """A headless Chromium for one test. Build the test's data before entering: ORM calls made
    inside Playwright's sync API run in another context and would open a database connection
    that is never closed."""
    # Playwright's sync API runs an event loop in this thread: Django would refuse the (safe,
    # synchronous) ORM calls of the live server's own code paths without this flag.
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    from playwright.sync_api import sync_playwright

    try:
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
            yield browser
            browser.close()
    finally:
        os.environ.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)


def sign_in(page, base_url: str, email: str) -> None:
    """Sign in through the login form and wait until the portal has taken us away from it."""
    from playwright.sync_api import expect

    page.goto(f"{base_url}/accounts/login/")
    page.get_by_label(re.compile("email", re.I)).first.fill(email)
    page.get_by_label(re.compile("password", re.I)).first.fill(PASSWORD)
    page.get_by_role("button", name=re.compile("sign in", re.I)).click()
    expect(page).not_to_have_url(re.compile(r"/accounts/login/"))
