"""The certificate expiry reminder as production runs it: the beat's task on a real Celery worker
on Redis, run twice; each certificate is reminded once, to its holder and their partner admins."""

from __future__ import annotations

import re

import pytest

from prm.models import Notification
from prm.testing.world import build_world
from tests.training.test_certificates import certification_course, certify, expiring_in
from training.tasks import remind_expiring_certificates

pytestmark = [pytest.mark.services, pytest.mark.django_db(transaction=True)]

TASK = "training.remind_expiring_certificates"


def _runs(log: str) -> list[str]:
    return re.findall(rf"{re.escape(TASK)}\[[^\]]+\] succeeded in [\d.]+s: (\d+)", log)


def _wait_for_runs(worker, count: int) -> list[str]:
    def runs():
        found = _runs(worker.log())
        return found if len(found) >= count else None

    return worker.wait_for(f"run {TASK} {count} time(s)", runs)


def test_each_expiring_certificate_is_reminded_once_when_the_task_runs_twice(live_worker):
    world = build_world()
    course = certification_course()
    soon_a = expiring_in(certify(world.member_a, course), 10)
    soon_b = expiring_in(certify(world.partner_admin_b, course), 30)
    later = expiring_in(certify(world.partner_admin_a, course), 45)

    remind_expiring_certificates.delay()
    assert _wait_for_runs(live_worker, 1) == ["2"]
    remind_expiring_certificates.delay()
    assert _wait_for_runs(live_worker, 2) == ["2", "0"]

    notes = Notification.objects.filter(key__startswith="certificate-expiring:")
    assert sorted(notes.values_list("key", "user__email")) == sorted(
        [
            (f"certificate-expiring:{soon_a.pk}:{soon_a.expires_on}", world.member_a.email),
            (f"certificate-expiring:{soon_a.pk}:{soon_a.expires_on}", world.partner_admin_a.email),
            (f"certificate-expiring:{soon_b.pk}:{soon_b.expires_on}", world.partner_admin_b.email),
        ]
    )
    # One reminder per recipient and certificate, none for the one expiring in 45 days.
    assert not notes.filter(key__contains=f":{later.pk}:").exists()
    for email in (world.member_a.email, world.partner_admin_a.email, world.partner_admin_b.email):
        assert notes.filter(user__email=email).count() == 1

    emails = sorted(
        (message["Subject"], message["To"])
        for message in live_worker.emails()
        if message["Subject"].startswith("Certificate expiring")
    )
    assert emails == sorted(
        [
            ("Certificate expiring in 10 days: Certified Security Seller", world.member_a.email),
            (
                "Certificate expiring in 10 days: Certified Security Seller",
                world.partner_admin_a.email,
            ),
            (
                "Certificate expiring in 30 days: Certified Security Seller",
                world.partner_admin_b.email,
            ),
        ]
    )
