"""A worker killed in the middle of a task: the task runs again and its effect happens once.

A worker whose email backend hangs inside the send takes a registration's decision
notification (bell entries, then one email per recipient); it is SIGKILLed there. With
``acks_late`` its message was never acknowledged, so after the (test-short) Redis visibility
timeout it is delivered to the next worker, which sends the email. The claim of the killed send
was rolled back with its connection: each recipient gets exactly one email, one bell entry.
Without ``acks_late`` the message is acknowledged before the task runs and this test fails.
"""

from __future__ import annotations

import email
import email.policy
import os
import signal
import time
from pathlib import Path

import pytest

from deals import services
from prm.models import Notification, SentMessage
from prm.testing.world import build_world, submitted_registration

pytestmark = [pytest.mark.services, pytest.mark.django_db(transaction=True)]

VISIBILITY_TIMEOUT = 3  # seconds; production keeps the default (an hour)


def _emails(folder: Path) -> list[email.message.EmailMessage]:
    """The messages the file backend wrote (one file per connection, messages separated by a
    line of dashes)."""
    found = []
    for path in sorted(folder.glob("*.log")):
        for chunk in path.read_text().split("-" * 79 + "\n"):
            if chunk.strip():
                found.append(email.message_from_string(chunk, policy=email.policy.default))
    return found


def test_a_worker_killed_mid_send_is_replaced_and_the_email_goes_out_once(start_worker, tmp_path):
    world = build_world()
    registration = submitted_registration(world, hours=2)
    outbox = tmp_path / "mail"
    outbox.mkdir()
    marker = tmp_path / "inside-send"
    env = {
        "EMAIL_URL": f"filemail:///{outbox}",
        "PRM_BROKER_VISIBILITY_TIMEOUT": str(VISIBILITY_TIMEOUT),
        "PRM_TEST_HANG_MARKER": str(marker),
    }

    # prefork, as in production: the parent process acknowledges (without acks_late, at once)
    # while the child runs the task.
    hanging = start_worker(env=env, module="tests.faults.hanging_worker", pool="prefork")
    services.approve_registration(actor=world.manager, registration=registration)
    hanging.wait_for("reach the email send", marker.exists)

    # Inside the send: the bell entries are in, the email's claim is not committed.
    os.killpg(hanging.process.pid, signal.SIGKILL)
    hanging.process.wait(timeout=10)
    assert not _emails(outbox)
    assert not SentMessage.objects.filter(key__startswith="email:").exists()

    # The unacknowledged message becomes visible again after the visibility timeout; a worker
    # starting after that restores it to the queue and runs it.
    time.sleep(VISIBILITY_TIMEOUT + 1)
    worker = start_worker(env={**env, "PRM_TEST_HANG_MARKER": ""})
    told = {world.member_a.email, world.partner_admin_a.email}
    worker.wait_for(
        "send the approval email again",
        lambda: told <= {m["To"] for m in _emails(outbox)},
        timeout=60,
    )
    time.sleep(1)  # anything sent twice would be here by now

    recipients = [m["To"] for m in _emails(outbox)]
    assert sorted(recipients) == sorted(set(recipients)), recipients  # once per recipient
    assert told <= set(recipients)
    bells = list(
        Notification.objects.filter(key__startswith="registration-approved:").values_list(
            "user__email", flat=True
        )
    )
    assert sorted(bells) == sorted(told), bells  # one bell entry per recipient
    assert "hanging inside the send" in hanging.log()
