"""The managers' training status: one row per partner person of the partners they see, with
their certificates, the next expiry and the required training they haven't completed."""

from __future__ import annotations

import csv
import io

import pytest
from django.urls import reverse

from prm.testing.fixtures import login_as
from tests.training.test_certificates import certification_course, certify, expiring_in
from training import services
from training.models import Course, Lesson

pytestmark = pytest.mark.django_db

STATUS = reverse("training:status")
EXPORT = reverse("training:status_export")


@pytest.fixture
def status_world(world):
    """member_a certified (expiring in 10 days) and done with "Partner basics" (required for
    Gold); partner_admin_a certified until next year, basics not done; B's admin certified."""
    course = certification_course()
    basics = Course.objects.create(title="Partner basics", slug="partner-basics", published=True)
    basics.required_for.add(world.tier)
    Lesson.objects.create(course=basics, title="Welcome", position=1)
    world.member_cert = expiring_in(certify(world.member_a, course), 10)
    world.admin_cert = certify(world.partner_admin_a, course)
    world.b_cert = certify(world.partner_admin_b, course)
    enrollment = services.enroll(actor=world.member_a, course=basics)
    services.complete_lesson(
        actor=world.member_a, enrollment=enrollment, lesson=basics.lessons.get()
    )
    return world


def _rows(client, query=None) -> list[dict]:
    response = client.get(EXPORT, query or {})
    assert response.status_code == 200
    body = b"".join(response.streaming_content).decode()
    return list(csv.DictReader(io.StringIO(body)))


def test_the_manager_sees_who_is_certified_what_expires_and_what_is_overdue(client, status_world):
    w = status_world
    login_as(client, w.manager)
    response = client.get(STATUS)
    assert response.status_code == 200
    html = response.content.decode()
    assert "Jamie Park" in html and "Alex Rivera" in html
    assert "Sam Patel" not in html  # B is not theirs
    assert "Network security" in html
    assert "in 10 days" in html  # member_a's certificate expires soon
    assert "Overdue" in html and "Partner basics" in html
    assert w.member_cert.number in html  # the badge links to the certificate

    rows = {row["Person"]: row for row in _rows(client)}
    assert set(rows) == {"Jamie Park", "Alex Rivera"}
    assert rows["Jamie Park"]["Required training"] == ""
    assert rows["Alex Rivera"]["Required training"] == "Overdue: Partner basics"
    assert w.member_cert.number in rows["Jamie Park"]["Certified in"]
    assert rows["Jamie Park"]["Next expiry"] == w.member_cert.expires_on.isoformat()
    assert rows["Jamie Park"]["Company"] == "Northwind Systems"


@pytest.mark.parametrize(
    ("query", "people"),
    [
        ({"status": "expiring"}, {"Jamie Park"}),
        ({"status": "overdue"}, {"Alex Rivera"}),
        ({"status": "certified"}, {"Jamie Park", "Alex Rivera"}),
        ({"status": "uncertified"}, set()),
        ({"product_family": "Network security"}, {"Jamie Park", "Alex Rivera"}),
        ({"q": "jamie"}, {"Jamie Park"}),
        ({"q": "northwind"}, {"Jamie Park", "Alex Rivera"}),
    ],
)
def test_filters_narrow_the_page_and_its_export(client, status_world, query, people):
    login_as(client, status_world.manager)
    assert {row["Person"] for row in _rows(client, query)} == people
    assert client.get(STATUS, query).status_code == 200


def test_expired_and_revoked_certificates_do_not_count(client, status_world):
    w = status_world
    expiring_in(w.member_cert, -1)
    services.revoke_certificate(actor=w.admin, certificate=w.admin_cert, reason="Left")
    login_as(client, w.manager)
    rows = {row["Person"]: row for row in _rows(client, {"status": "uncertified"})}
    assert set(rows) == {"Jamie Park", "Alex Rivera"}
    assert all(row["Certified in"] == "" for row in rows.values())


def test_the_other_manager_sees_only_their_partners(client, status_world):
    login_as(client, status_world.other_manager)
    assert {row["Person"] for row in _rows(client)} == {"Sam Patel"}
    # A's people are not theirs to filter by either: the choice is refused, nothing leaks.
    rows = _rows(client, {"account": status_world.a.pk})
    assert all(row["Company"] != "Northwind Systems" for row in rows)


def test_an_empty_result_says_so(client, status_world):
    login_as(client, status_world.manager)
    html = client.get(STATUS, {"q": "nobody-by-this-name"}).content.decode()
    assert "Nobody matches these filters" in html


@pytest.mark.parametrize("persona", ["member_a", "partner_admin_a", "partner_admin_b"])
def test_partners_get_403(client, status_world, persona):
    login_as(client, getattr(status_world, persona))
    assert client.get(STATUS).status_code == 403
    assert client.get(EXPORT).status_code == 403


def test_export_cells_cannot_become_spreadsheet_formulas(client, status_world):
    contact = status_world.contact_member_a
    contact.first_name = "=HYPERLINK(1)"
    contact.save(update_fields=["first_name"])
    login_as(client, status_world.manager)
    people = {row["Person"] for row in _rows(client)}
    assert "'=HYPERLINK(1) Park" in people


def test_the_manager_nav_links_to_the_status_page(client, status_world):
    login_as(client, status_world.manager)
    html = client.get(reverse("partners:partner_list")).content.decode()
    assert f'href="{STATUS}"' in html
