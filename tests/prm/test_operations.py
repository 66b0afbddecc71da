"""Operations (issue 6): every task retries transient failures with back-off and nothing else; a
task that fails for good is kept for the admins, who see its error and re-run it."""

from __future__ import annotations

import smtplib
from unittest import mock

import pytest
from celery.app import autoretry
from celery.exceptions import Retry
from django.contrib.auth.models import Permission
from django.contrib.messages import get_messages
from django.db import OperationalError
from django.urls import reverse
from kombu.exceptions import OperationalError as BrokerError
from redis.exceptions import ConnectionError as RedisDown

from prm.celery import PERMANENT_OS_ERRORS, TRANSIENT_ERRORS, PrmTask, app, record_failed_task
from prm.models import FailedTask
from prm.testing.world import make_user

pytestmark = pytest.mark.django_db

#: What the test task raises, attempt after attempt (empty: it succeeds), and what it was given.
FAILURES: list[BaseException] = []
ATTEMPTS: list[tuple] = []


@app.task(name="tests.operations.deliver", ignore_result=True)
def deliver(partner_id, *, channel="email"):
    ATTEMPTS.append((partner_id, channel))
    if FAILURES:
        raise FAILURES.pop(0)
    return "delivered"


@pytest.fixture(autouse=True)
def fresh_task_state():
    FAILURES.clear()
    ATTEMPTS.clear()
    yield
    FAILURES.clear()
    ATTEMPTS.clear()


@pytest.fixture
def quiet_eager():
    """Eager tasks keep their final error in the result instead of raising it (its retries are
    applied eagerly too, each with the app's setting)."""
    saved = app.conf.task_eager_propagates
    app.conf.task_eager_propagates = False
    yield
    app.conf.task_eager_propagates = saved


def run_deliver(*args, **kwargs):
    return deliver.apply(args=args, kwargs=kwargs)


# --- the retry policy -------------------------------------------------------------------------


def test_every_task_of_every_app_gets_the_retry_policy():
    app.loader.import_default_modules()
    ours = {name: task for name, task in app.tasks.items() if not name.startswith("celery.")}
    assert {"partners.send_invitation", "analytics.send_alerts", "deals.expire_registrations"} <= (
        set(ours)
    )
    for name, task in ours.items():
        assert isinstance(task, PrmTask), name
        assert task.autoretry_for == TRANSIENT_ERRORS, f"{name} overrides the retry policy"
        assert task.dont_autoretry_for == PERMANENT_OS_ERRORS, name
        assert task.retry_backoff is True, name
        assert task.retry_backoff_max == 600, name
        assert task.retry_jitter is True, name
        assert task.max_retries == 5, name


def test_the_transient_errors_are_the_database_network_mail_redis_and_broker_ones():
    for error in (
        OperationalError("server closed the connection"),
        smtplib.SMTPServerDisconnected("gone"),
        ConnectionRefusedError(),
        TimeoutError(),
        RedisDown(),
        BrokerError("down"),
    ):
        assert isinstance(error, TRANSIENT_ERRORS), error
    assert not isinstance(ValueError(), TRANSIENT_ERRORS)


def as_in_a_worker(retries, error):
    """Run the task as a worker does (not eager), failing with ``error`` on its attempt number
    ``retries`` + 1; returns the mock standing in for sending the retry to the broker."""
    FAILURES.append(error)
    deliver.push_request(
        id="task-1", retries=retries, is_eager=False, called_directly=False, args=[7]
    )
    try:
        with mock.patch("celery.canvas.Signature.apply_async") as send_again:
            deliver.run(7)
    finally:
        deliver.pop_request()
    return send_again


def test_a_transient_error_is_retried_later_with_exponential_back_off():
    # In a worker the retry is sent to the broker with a countdown and the task raises Retry.
    for retries, error in (
        (0, smtplib.SMTPServerDisconnected("Connection unexpectedly closed")),
        (2, ConnectionRefusedError("mail server refused")),
        (4, RedisDown("redis is restarting")),
    ):
        with pytest.raises(Retry) as retry:
            as_in_a_worker(retries, error)
        assert retry.value.sig.options["countdown"] == retry.value.when
        assert retry.value.sig.options["retries"] == retries + 1
        assert 0 <= retry.value.when <= 2**retries  # full jitter below the doubling step

    # The sixth attempt (five retries spent) fails for good with the error itself.
    with pytest.raises(OperationalError, match="still restarting"):
        as_in_a_worker(5, OperationalError("still restarting"))


def test_the_back_off_doubles_up_to_ten_minutes_with_jitter(quiet_eager):
    FAILURES.extend([OSError("network unreachable"), OperationalError("database restarting")])
    with mock.patch.object(
        autoretry,
        "get_exponential_backoff_interval",
        wraps=autoretry.get_exponential_backoff_interval,
    ) as back_off:
        result = run_deliver(3, channel="sms")

    assert result.successful()
    assert ATTEMPTS == [(3, "sms")] * 3
    assert [c.kwargs for c in back_off.call_args_list] == [
        {"factor": 1, "retries": 0, "maximum": 600, "full_jitter": True},
        {"factor": 1, "retries": 1, "maximum": 600, "full_jitter": True},
    ]
    assert not FailedTask.objects.exists()


@pytest.mark.parametrize(
    "error", [ValueError("bad partner id"), KeyError("x"), FileNotFoundError("logo.png")]
)
def test_a_permanent_error_is_not_retried_and_is_recorded(error, quiet_eager):
    FAILURES.append(error)
    result = run_deliver(5)

    assert result.failed()
    assert len(ATTEMPTS) == 1
    failed = FailedTask.objects.get()
    assert failed.retries == 0
    assert failed.exception == type(error).__name__


def test_a_task_failing_after_its_retries_is_recorded_once_with_its_error_and_arguments(
    quiet_eager,
):
    FAILURES.extend([ConnectionRefusedError(111, "Connection refused")] * 6)
    result = run_deliver(42, channel="email")

    assert result.failed()
    assert len(ATTEMPTS) == 6  # the first attempt and 5 retries
    failed = FailedTask.objects.get()
    assert failed.task_id == result.id
    assert failed.task_name == "tests.operations.deliver"
    assert failed.args == [42]
    assert failed.kwargs == {"channel": "email"}
    assert failed.exception == "ConnectionRefusedError"
    assert "Connection refused" in failed.message
    assert "ConnectionRefusedError" in failed.traceback
    assert "test_operations.py" in failed.traceback
    assert failed.retries == 5
    assert failed.rerun_at is None


def test_recording_is_idempotent_per_task_and_never_breaks_the_worker(caplog):
    error = RuntimeError("boom")
    for _ in range(2):
        record_failed_task(sender=deliver, task_id="same-id", exception=error, args=[1], kwargs={})
    assert FailedTask.objects.filter(task_id="same-id").count() == 1

    with mock.patch.object(FailedTask.objects, "get_or_create", side_effect=RuntimeError("db")):
        record_failed_task(sender=deliver, task_id="other", exception=error, args=[], kwargs={})
    assert "Could not record the failure of tests.operations.deliver[other]" in caplog.text


# --- the admin: seeing and re-running failed tasks ----------------------------------------------


@pytest.fixture
def failed_task(quiet_eager):
    FAILURES.append(ValueError("partner 9 has no email address"))
    run_deliver(9, channel="email")
    ATTEMPTS.clear()
    return FailedTask.objects.get()


@pytest.fixture
def admin_user():
    return make_user("ops-admin@vendor.example", is_superuser=True, is_staff=True)


@pytest.fixture
def admin_client(client, admin_user):
    client.force_login(admin_user)
    return client


def messages_of(response) -> list[str]:
    return [str(m) for m in get_messages(response.wsgi_request)]


def test_admins_see_failed_tasks_with_their_error(admin_client, failed_task):
    changelist = admin_client.get(reverse("admin:prm_failedtask_changelist"))
    assert changelist.status_code == 200
    page = changelist.content.decode()
    assert "tests.operations.deliver" in page
    assert "partner 9 has no email address" in page
    assert "Not re-run yet" in page
    assert "1 failed task(s) not re-run yet" in page
    assert "Re-run selected tasks" in page

    detail = admin_client.get(reverse("admin:prm_failedtask_change", args=[failed_task.pk]))
    page = detail.content.decode()
    assert detail.status_code == 200
    assert "<pre>Traceback (most recent call last):" in page
    assert "&quot;channel&quot;: &quot;email&quot;" in page
    assert reverse("admin:prm_failedtask_rerun", args=[failed_task.pk]) in page
    assert 'name="csrfmiddlewaretoken"' in page

    index = admin_client.get(reverse("admin:index")).content.decode()
    assert "Failed tasks (1 not re-run)" in index


def test_the_rerun_button_sends_the_task_again_with_its_arguments(
    admin_client, admin_user, failed_task, django_capture_on_commit_callbacks
):
    url = reverse("admin:prm_failedtask_rerun", args=[failed_task.pk])
    with django_capture_on_commit_callbacks(execute=True):
        response = admin_client.post(url)

    assert response.status_code == 302
    assert response.headers["Location"] == reverse(
        "admin:prm_failedtask_change", args=[failed_task.pk]
    )
    assert ATTEMPTS == [(9, "email")]  # sent through prm.tasks.enqueue, after the commit
    failed_task.refresh_from_db()
    assert failed_task.rerun_at is not None
    assert failed_task.rerun_by == admin_user
    assert "Re-sent 1 task(s) to the workers." in messages_of(response)

    detail = admin_client.get(reverse("admin:prm_failedtask_change", args=[failed_task.pk]))
    assert "Already re-run on" in detail.content.decode()
    assert url not in detail.content.decode()

    with django_capture_on_commit_callbacks(execute=True):
        again = admin_client.post(url)
    assert ATTEMPTS == [(9, "email")]  # not twice
    assert any("was already re-run" in m for m in messages_of(again))


def test_the_admin_action_reruns_the_selected_tasks(
    admin_client, failed_task, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        response = admin_client.post(
            reverse("admin:prm_failedtask_changelist"),
            {"action": "rerun_selected", "_selected_action": [failed_task.pk]},
        )
    assert response.status_code == 302
    assert ATTEMPTS == [(9, "email")]
    failed_task.refresh_from_db()
    assert failed_task.rerun_at is not None


def test_a_rerun_that_fails_again_is_a_new_failure(
    admin_client, failed_task, django_capture_on_commit_callbacks
):
    FAILURES.append(ValueError("still no email address"))
    with django_capture_on_commit_callbacks(execute=True):
        admin_client.post(reverse("admin:prm_failedtask_rerun", args=[failed_task.pk]))
    assert FailedTask.objects.count() == 2
    latest = FailedTask.objects.exclude(pk=failed_task.pk).get()
    assert latest.message == "still no email address" and latest.rerun_at is None


def test_rerun_is_a_post(admin_client, failed_task):
    response = admin_client.get(reverse("admin:prm_failedtask_rerun", args=[failed_task.pk]))
    assert response.status_code == 405
    assert ATTEMPTS == []


def test_non_admin_staff_cannot_see_or_rerun_failed_tasks(
    client, failed_task, django_capture_on_commit_callbacks
):
    staff = make_user("ops-staff@vendor.example", is_staff=True)
    staff.user_permissions.set(Permission.objects.filter(codename__endswith="_failedtask"))
    client.force_login(staff)

    assert client.get(reverse("admin:prm_failedtask_changelist")).status_code == 403
    change = reverse("admin:prm_failedtask_change", args=[failed_task.pk])
    assert client.get(change).status_code == 403
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("admin:prm_failedtask_rerun", args=[failed_task.pk]))
    assert response.status_code == 403
    assert ATTEMPTS == []
    failed_task.refresh_from_db()
    assert failed_task.rerun_at is None
    assert "Failed tasks" not in client.get(reverse("admin:index")).content.decode()


def test_partner_users_are_sent_to_the_admin_login(client, failed_task):
    client.force_login(make_user("someone@partner.example"))
    response = client.post(reverse("admin:prm_failedtask_rerun", args=[failed_task.pk]))
    assert response.status_code == 302
    assert reverse("admin:login") in response.headers["Location"]
    assert ATTEMPTS == []


def test_an_exception_a_worker_could_not_pickle_is_named_after_its_class():
    from celery.utils.serialization import UnpickleableExceptionWrapper

    wrapped = UnpickleableExceptionWrapper(
        "smtplib", "SMTPDataError", (554, "rejected"), "SMTPDataError(554, 'rejected')"
    )
    record_failed_task(sender=deliver, task_id="wrapped", exception=wrapped, args=[], kwargs={})
    failed = FailedTask.objects.get(task_id="wrapped")
    assert failed.exception == "smtplib.SMTPDataError"
    assert "rejected" in failed.message
