"""Enqueueing after commit, and keeping the work when the broker is down."""

from unittest import mock

import pytest
from kombu.exceptions import OperationalError

from partners.models import Invitation
from partners.services import invite_contact
from prm.celery import app
from prm.models import PendingTask
from prm.tasks import resend_pending_tasks
from prm.testing.world import build_world

pytestmark = pytest.mark.django_db


@pytest.fixture
def broker_mode():
    """Run this test as production does: tasks go to the broker, not inline."""
    app.conf.task_always_eager = False
    yield
    app.conf.task_always_eager = True


def test_nothing_is_sent_before_the_transaction_commits(django_capture_on_commit_callbacks):
    world = build_world()
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        invite_contact(actor=world.partner_admin_a, contact=world.contact_plain_a)
    assert len(callbacks) == 1
    assert Invitation.objects.get(contact=world.contact_plain_a).sent_at is None


def test_invitation_is_kept_when_the_broker_is_down_and_sent_later(
    broker_mode, django_capture_on_commit_callbacks, mailoutbox
):
    world = build_world()
    refuse = mock.patch(
        "celery.app.task.Task.apply_async", side_effect=OperationalError("connection refused")
    )
    with refuse, django_capture_on_commit_callbacks(execute=True):
        invitation = invite_contact(actor=world.partner_admin_a, contact=world.contact_plain_a)

    pending = PendingTask.objects.get()
    assert pending.task_name == "partners.send_invitation"
    assert pending.args[0] == invitation.pk
    assert "connection refused" in pending.error

    with mock.patch.object(app, "send_task") as send_task:
        assert resend_pending_tasks() == 1
    send_task.assert_called_once_with(
        "partners.send_invitation", args=pending.args, kwargs=pending.kwargs
    )
    assert not PendingTask.objects.exists()


def test_outbox_keeps_the_task_while_the_broker_is_still_down(broker_mode):
    PendingTask.objects.create(task_name="partners.send_invitation", args=[1, "x"])
    with mock.patch.object(app, "send_task", side_effect=OperationalError("down")):
        assert resend_pending_tasks() == 0
    pending = PendingTask.objects.get()
    assert pending.attempts == 2


def test_sending_an_invitation_twice_emails_once(django_capture_on_commit_callbacks, mailoutbox):
    from partners.tasks import send_invitation

    world = build_world()
    with django_capture_on_commit_callbacks(execute=True):
        invitation = invite_contact(actor=world.partner_admin_a, contact=world.contact_plain_a)
    assert len(mailoutbox) == 1
    send_invitation(invitation.pk, "token-of-a-retry")
    assert len(mailoutbox) == 1
    invitation.refresh_from_db()
    assert invitation.sent_at is not None
