"""Two partners register the same customer at the same moment, each on its own PostgreSQL
connection: one registration ends clean and the other flagged, and of the two approvals only one
can win. SQLite serialises writers by itself, so this runs on PostgreSQL (``services``)."""

import threading
import time
from datetime import timedelta
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.db import connection
from django.utils import timezone

from deals import services
from deals.models import DealRegistration, Product, RegistrationStatus
from deals.services import registrations as registration_services
from prm.testing.world import build_world

pytestmark = [pytest.mark.services, pytest.mark.django_db(transaction=True)]


def _draft(actor, product, company, domain):
    return services.save_registration(
        actor=actor,
        registration=DealRegistration(
            company=company,
            domain=domain,
            contact_name="Pat Buyer",
            contact_email="pat@example.com",
            amount=Decimal("1000"),
            expected_close_date=timezone.localdate() + timedelta(days=30),
        ),
        lines=[(product, 1)],
    )


def _at_once(*calls):
    """Run each call in its own thread (so on its own database connection), all released at the
    same instant; returns [(result, error)] in the calls' order."""
    barrier = threading.Barrier(len(calls))
    outcomes = [None] * len(calls)

    def run(index, call):
        try:
            barrier.wait(timeout=20)
            outcomes[index] = (call(), None)
        except Exception as exc:  # noqa: BLE001 - reported to the test
            outcomes[index] = (None, exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(index, call)) for index, call in enumerate(calls)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not any(thread.is_alive() for thread in threads), "a thread is stuck"
    return outcomes


@pytest.fixture
def slow_conflict_check(monkeypatch):
    """Hold each submission between its conflict check and its commit, so that without the
    per-customer lock both would check before either had written (the race this guards)."""
    check = registration_services._conflicts_of

    def slow(registration):
        found = check(registration)
        time.sleep(0.5)
        return found

    monkeypatch.setattr(registration_services, "_conflicts_of", slow)


def test_two_partners_registering_one_customer_at_once_end_with_one_approval(
    slow_conflict_check,
):
    assert connection.vendor == "postgresql"
    world = build_world()
    product = Product.objects.create(name="Gateway", sku="GW-1", family="Network", list_price=1)
    ours = _draft(world.member_a, product, "Acme Inc.", "acme.com")
    theirs = _draft(world.partner_admin_b, product, "ACME, Incorporated", "https://www.acme.com")

    outcomes = _at_once(
        lambda: services.submit_registration(actor=world.member_a, registration=ours),
        lambda: services.submit_registration(actor=world.partner_admin_b, registration=theirs),
    )
    assert [error for _, error in outcomes] == [None, None]
    submitted = DealRegistration.objects.filter(pk__in=[ours.pk, theirs.pk])
    assert {r.status for r in submitted} == {RegistrationStatus.SUBMITTED}
    assert sorted(r.conflict for r in submitted) == [False, True]
    flagged = submitted.get(conflict=True)
    assert "same company name once normalised (acme)" in flagged.conflict_reasons
    assert "same domain (acme.com)" in flagged.conflict_reasons

    outcomes = _at_once(
        lambda: services.approve_registration(actor=world.manager, registration=ours),
        lambda: services.approve_registration(actor=world.other_manager, registration=theirs),
    )
    errors = [error for _, error in outcomes if error is not None]
    assert len(errors) == 1 and isinstance(errors[0], ValidationError), errors
    assert "approved registration protects this customer" in errors[0].messages[0]
    assert DealRegistration.objects.filter(status=RegistrationStatus.APPROVED).count() == 1
    assert DealRegistration.objects.filter(status=RegistrationStatus.SUBMITTED).count() == 1


def test_look_alikes_registered_at_once_are_not_flagged(slow_conflict_check):
    """Look-alike customers registered at the same moment: neither is flagged."""
    world = build_world()
    product = Product.objects.create(name="Gateway", sku="GW-1", family="Network", list_price=1)
    ours = _draft(world.member_a, product, "Acme Corp", "acme.com")
    theirs = _draft(world.partner_admin_b, product, "Acme Bricks Ltd", "acmebricks.co.uk")
    outcomes = _at_once(
        lambda: services.submit_registration(actor=world.member_a, registration=ours),
        lambda: services.submit_registration(actor=world.partner_admin_b, registration=theirs),
    )
    assert [error for _, error in outcomes] == [None, None]
    assert not DealRegistration.objects.filter(conflict=True).exists()
