"""Enqueueing after commit, and keeping the work when the broker is down."""

from datetime import timedelta
from unittest import mock

import pytest
from django.db import transaction
from django.utils import timezone
from kombu.exceptions import OperationalError

from partners.models import Invitation
from partners.services import invite_contact
from prm.celery import app
from prm.models import PendingTask
from prm.tasks import OUTBOX_GRACE, enqueue, resend_pending_tasks
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


# --- the outbox is written in the caller's transaction -----------------------------------------


def test_the_outbox_row_commits_with_the_work_and_goes_when_published(
    broker_mode, django_capture_on_commit_callbacks
):
    world = build_world()
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        invitation = invite_contact(actor=world.partner_admin_a, contact=world.contact_plain_a)
    # Committed, not yet published (a process killed here): the row is there, never tried.
    pending = PendingTask.objects.get()
    assert (pending.task_name, pending.args[0], pending.attempts) == (
        "partners.send_invitation",
        invitation.pk,
        0,
    )
    with mock.patch("celery.app.task.Task.apply_async") as apply_async:
        callbacks[0]()
    apply_async.assert_called_once_with(args=pending.args, kwargs={})
    assert not PendingTask.objects.exists()


def test_work_rolled_back_leaves_no_outbox_row(broker_mode):
    world = build_world()
    with pytest.raises(RuntimeError), transaction.atomic():
        invite_contact(actor=world.partner_admin_a, contact=world.contact_plain_a)
        raise RuntimeError("the request failed after the enqueue")
    assert not PendingTask.objects.exists()
    assert not Invitation.objects.exists()


def test_a_row_its_publisher_never_tried_is_resent_after_the_grace(broker_mode):
    PendingTask.objects.create(task_name="partners.send_invitation", args=[1, "x"], attempts=0)
    with mock.patch.object(app, "send_task") as send_task:
        assert resend_pending_tasks() == 0  # its on-commit publisher may still be on it
        PendingTask.objects.update(created_at=timezone.now() - OUTBOX_GRACE - timedelta(seconds=1))
        assert resend_pending_tasks() == 1
    send_task.assert_called_once_with("partners.send_invitation", args=[1, "x"], kwargs={})
    assert not PendingTask.objects.exists()


def test_after_a_broker_failure_publishing_is_skipped_for_a_while(
    broker_mode, django_capture_on_commit_callbacks
):
    world = build_world()
    refuse = mock.patch(
        "celery.app.task.Task.apply_async", side_effect=OperationalError("connection refused")
    )
    with refuse as apply_async, django_capture_on_commit_callbacks(execute=True):
        invite_contact(actor=world.partner_admin_a, contact=world.contact_plain_a)
        invite_contact(actor=world.partner_admin_b, contact=world.contact_plain_b)
    # The second enqueue did not wait on the broker again: straight to the outbox.
    assert apply_async.call_count == 1
    errors = list(PendingTask.objects.values_list("attempts", "error"))
    assert errors == [(1, "connection refused"), (1, "not sent: the broker failed moments ago")]

    # A resend that gets through closes the breaker: the next enqueue publishes again.
    with mock.patch.object(app, "send_task"):
        assert resend_pending_tasks() == 2
    publish = mock.patch("celery.app.task.Task.apply_async")
    with publish as apply_async, django_capture_on_commit_callbacks(execute=True):
        enqueue("partners.send_invitation", 1, "x")
    apply_async.assert_called_once_with(args=[1, "x"], kwargs={})
    assert not PendingTask.objects.exists()


def test_eager_tasks_leave_no_outbox_row(django_capture_on_commit_callbacks, mailoutbox):
    world = build_world()
    with django_capture_on_commit_callbacks(execute=True):
        invite_contact(actor=world.partner_admin_a, contact=world.contact_plain_a)
    assert len(mailoutbox) == 1
    assert not PendingTask.objects.exists()


@pytest.mark.parametrize("count", [5, 50])
def test_the_resender_costs_the_same_for_5_and_50_rows(
    broker_mode, count, django_assert_num_queries
):
    PendingTask.objects.bulk_create(
        PendingTask(task_name="partners.send_invitation", args=[i, "x"]) for i in range(count)
    )
    # A savepoint and its release, the batch locked in one query, the sent rows deleted in one.
    with mock.patch.object(app, "send_task") as send_task, django_assert_num_queries(4):
        assert resend_pending_tasks() == count
    assert send_task.call_count == count
    assert not PendingTask.objects.exists()


def test_the_resender_keeps_what_the_broker_refused_mid_batch(broker_mode):
    PendingTask.objects.bulk_create(
        PendingTask(task_name="partners.send_invitation", args=[i, "x"]) for i in range(3)
    )
    refusals = [None, OperationalError("down"), None]
    with mock.patch.object(app, "send_task", side_effect=refusals):
        assert resend_pending_tasks() == 1
    left = list(PendingTask.objects.order_by("pk").values_list("args", "attempts"))
    assert left == [([1, "x"], 2), ([2, "x"], 1)]
