"""Redis stops under a running web server: pages keep answering fast and no work is lost.

The web server (``manage.py runserver``, a process of its own on the test database) reaches
Redis, its cache and broker, through a TCP proxy that the test stops: connections are reset,
new ones refused. Pages must still answer within a second (the cache is a miss, publishing is
skipped), and a manager's decision must be kept in the outbox (``PendingTask``), to be sent
once Redis is back: the partner then gets the bell entry and the email, once.
"""

from __future__ import annotations

import http.cookiejar
import os
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request

import pytest
from django.contrib.auth.hashers import PBKDF2PasswordHasher

from deals.models import RegistrationStatus
from prm.models import Notification, PendingTask
from prm.tasks import resend_pending_tasks
from prm.testing.world import PASSWORD, build_world, submitted_registration
from tests.faults.proxy import TcpProxy

pytestmark = [pytest.mark.services, pytest.mark.django_db(transaction=True)]

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
FAST = 1.0  # seconds: what a page may take with Redis down


class Browser:
    """urllib with a cookie jar: signs in through allauth's form and posts with the CSRF token."""

    def __init__(self, base: str):
        self.base = base
        self.cookies = http.cookiejar.CookieJar()
        self.opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(self.cookies))

    def request(self, path: str, data: dict | None = None) -> tuple[int, str, float, str]:
        """Status, final URL, seconds taken and body of a GET (or a POST of ``data``)."""
        if data is not None:
            data = urllib.parse.urlencode({"csrfmiddlewaretoken": self.csrf(), **data}).encode()
        started = time.monotonic()
        try:
            with self.opener.open(self.base + path, data=data, timeout=30) as response:
                body = response.read().decode()
                status, url = response.status, response.url
        except urllib.error.HTTPError as exc:
            body, status, url = exc.read().decode(errors="replace"), exc.code, exc.url
        return status, url, time.monotonic() - started, body

    def csrf(self) -> str:
        return next(c.value for c in self.cookies if c.name == "csrftoken")

    def sign_in(self, email: str, password: str) -> None:
        self.request("/accounts/login/")
        status, url, _, body = self.request(
            "/accounts/login/", {"login": email, "password": password}
        )
        assert status == 200 and "/accounts/login/" not in url, body[-2000:]


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture
def redis_proxy():
    target = urllib.parse.urlsplit(os.environ["REDIS_URL"])
    proxy = TcpProxy(target.hostname or "127.0.0.1", target.port or 6379)
    proxy.start()
    yield proxy
    proxy.stop()


@pytest.fixture
def web_server(live_worker, redis_proxy, tmp_path):
    """``runserver`` on the test database, with Redis behind the proxy; tasks it publishes go
    to the live worker's queue."""
    from django.db import connection

    from tests.conftest import _stop_process_group, database_url

    redis_url = urllib.parse.urlsplit(os.environ["REDIS_URL"])
    port = _free_port()
    env = {
        **os.environ,
        "DATABASE_URL": database_url(connection.settings_dict),
        "REDIS_URL": redis_url._replace(netloc=f"127.0.0.1:{redis_proxy.port}").geturl(),
        "CELERY_TASK_DEFAULT_QUEUE": live_worker.queue,
        "EMAIL_URL": "consolemail://",
        "PRM_VAR_DIR": str(tmp_path / "var"),
        "PYTHONUNBUFFERED": "1",
    }
    log_path = tmp_path / "web.log"
    with log_path.open("wb") as log_file:
        process = subprocess.Popen(
            [sys.executable, "manage.py", "runserver", f"127.0.0.1:{port}", "--noreload"],
            cwd=ROOT,
            env=env,
            stdout=log_file,
            stderr=subprocess.STDOUT,
            process_group=0,
        )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                urllib.request.urlopen(base + "/healthz", timeout=2).close()  # noqa: S310
                break
            except OSError:
                if process.poll() is not None or time.monotonic() > deadline:
                    pytest.fail(f"runserver did not start:\n{log_path.read_text()}")
                time.sleep(0.2)
        yield base
    finally:
        _stop_process_group(process)


def test_with_redis_stopped_pages_answer_fast_and_the_work_is_sent_when_it_is_back(
    live_worker, redis_proxy, web_server
):
    world = build_world()
    # The server hashes passwords the production way; the test world's are hashed fast.
    manager, partner_admin = world.manager, world.partner_admin_a
    for user in (manager, partner_admin):
        user.password = PBKDF2PasswordHasher().encode(PASSWORD, "faultsalt")
        user.save(update_fields=["password"])
    registration = submitted_registration(world, hours=2)
    browser = Browser(web_server)
    browser.sign_in(manager.email, PASSWORD)
    pages = ["/", "/registrations/", "/registrations/review/", "/dashboard/"]
    for path in pages:  # warm up: the first request of each page imports and compiles
        assert browser.request(path)[0] == 200, path

    redis_proxy.stop()

    for path in pages:
        status, _, seconds, body = browser.request(path)
        assert status == 200, (path, body[-2000:])
        assert seconds < FAST, f"{path} took {seconds:.2f} s with Redis down"
    # Signing in counts attempts in the cache (allauth's rate limits): it works without it.
    partner = Browser(web_server)
    partner.sign_in(partner_admin.email, PASSWORD)
    for path in ["/portal/", "/registrations/"]:
        status, url, seconds, body = partner.request(path)
        assert (status, url) == (200, web_server + path), body[-2000:]
        assert seconds < FAST, f"{path} took {seconds:.2f} s with Redis down"
    status, _, seconds, body = browser.request(
        f"/registrations/{registration.pk}/decide/", {"decision": "approve", "reason": "Good fit"}
    )
    assert status == 200, body[-2000:]
    assert seconds < FAST, f"the decision took {seconds:.2f} s with Redis down"
    registration.refresh_from_db()
    assert registration.status == RegistrationStatus.APPROVED
    kept = dict(PendingTask.objects.values_list("task_name", "attempts"))
    assert kept.get("deals.notify_registration", 0) >= 1, kept
    assert not Notification.objects.filter(key__startswith="registration-approved:").exists()

    redis_proxy.start()
    assert browser.request("/registrations/")[0] == 200

    # The beat's resender, run by the worker, publishes the kept tasks; the worker runs them.
    resend_pending_tasks.delay()
    told = {world.member_a.email, world.partner_admin_a.email}

    def approval_emails():
        return [m["To"] for m in live_worker.emails() if "approved" in m["Subject"].lower()]

    live_worker.wait_for("send the kept notification", lambda: told <= set(approval_emails()))
    live_worker.wait_for("empty the outbox", lambda: not PendingTask.objects.exists())
    time.sleep(1)  # anything sent twice would be here by now
    emails = approval_emails()
    assert sorted(emails) == sorted(told), emails  # one email per recipient
    bells = Notification.objects.filter(key__startswith="registration-approved:")
    assert sorted(bells.values_list("user__email", flat=True)) == sorted(told)
