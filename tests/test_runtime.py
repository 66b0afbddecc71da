"""The runtime contract (ARCHITECTURE.md §4): the modes the settings produce, production checks,
the Compose file staying in step with settings, lint, and a real Celery worker doing real work."""

from __future__ import annotations

import ast
import json
import os
import secrets
import subprocess
import sys
import time
from pathlib import Path

import pytest
from django.contrib.auth import get_user_model
from django.core import mail
from django.urls import reverse

ROOT = Path(__file__).resolve().parent.parent
PYTHON = sys.executable
BIN = Path(sys.executable).parent
APP_SERVICES = ("web", "worker", "beat")
#: Not read by settings but by docker-compose.yml or Django itself: stripped from subprocesses too.
OTHER_INPUTS = {"DJANGO_SETTINGS_MODULE", "POSTGRES_PASSWORD", "WEB_PORT", "MAILPIT_PORT"}


def clean_env(**overrides: str) -> dict[str, str]:
    """This process's environment without anything that configures OpenPRM (the host's
    DATABASE_URL, DEBUG... must not leak into a check), plus ``overrides``."""
    strip = settings_variables() | OTHER_INPUTS
    env = {k: v for k, v in os.environ.items() if k not in strip}
    env.update(overrides)
    return env


def run(args: list[str], env: dict[str, str] | None = None, timeout: int = 120):
    return subprocess.run(
        args, cwd=ROOT, env=env, capture_output=True, text=True, timeout=timeout, check=False
    )


def production_env(**overrides: str) -> dict[str, str]:
    return clean_env(
        PRM_PRODUCTION="true",
        SECRET_KEY=secrets.token_urlsafe(50),
        ALLOWED_HOSTS="prm.example.com",
        **overrides,
    )


# --- production mode ------------------------------------------------------------------------


def test_production_mode_passes_the_deployment_checklist():
    result = run(
        [PYTHON, "manage.py", "check", "--deploy", "--fail-level", "WARNING"], production_env()
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_production_mode_refuses_to_start_without_a_secret_key():
    env = production_env()
    del env["SECRET_KEY"]
    result = run([PYTHON, "manage.py", "check"], env)
    assert result.returncode != 0
    assert "ImproperlyConfigured: Set the SECRET_KEY environment variable" in result.stderr


def test_production_static_files_collect_and_get_hashed_names(tmp_path):
    # What the web container runs on start (docker-compose.yml): every file a stylesheet or
    # script refers to (url(...), sourceMappingURL) must exist, or the manifest step fails.
    result = run(
        [PYTHON, "manage.py", "collectstatic", "--noinput"],
        production_env(STATIC_ROOT=str(tmp_path / "static")),
    )
    assert result.returncode == 0, result.stdout + result.stderr[-3000:]
    manifest = json.loads((tmp_path / "static" / "staticfiles.json").read_text())
    assert manifest["paths"]


def test_migrations_match_the_models():
    result = run([PYTHON, "manage.py", "makemigrations", "--check", "--dry-run"], clean_env())
    assert result.returncode == 0, result.stdout + result.stderr


# --- the two modes the settings produce ------------------------------------------------------

PRINT_MODE = """
import json, django
from django.conf import settings
django.setup()
print(json.dumps({
    "engine": settings.DATABASES["default"]["ENGINE"],
    "broker": settings.CELERY_BROKER_URL,
    "broker_options": settings.CELERY_BROKER_TRANSPORT_OPTIONS,
    "cache": settings.CACHES["default"]["BACKEND"],
    "email": settings.EMAIL_BACKEND,
}))
"""


def settings_in(env: dict[str, str]) -> dict:
    result = run([PYTHON, "-c", PRINT_MODE], {**env, "DJANGO_SETTINGS_MODULE": "prm.settings"})
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout.strip().splitlines()[-1])


def test_without_configuration_the_embedded_default_needs_no_server():
    mode = settings_in(clean_env())
    assert mode["engine"] == "django.db.backends.sqlite3"
    assert mode["broker"].startswith("filesystem://")
    assert mode["broker_options"]["data_folder_in"] == mode["broker_options"]["data_folder_out"]
    assert mode["cache"] == "django.core.cache.backends.locmem.LocMemCache"
    assert mode["email"] == "django.core.mail.backends.console.EmailBackend"


def test_database_and_redis_urls_switch_to_postgresql_and_redis():
    mode = settings_in(
        clean_env(
            DATABASE_URL="postgres://prm:secret@db.invalid:5432/openprm",
            REDIS_URL="redis://redis.invalid:6379/0",
            EMAIL_URL="smtp://mail.invalid:1025",
        )
    )
    assert mode["engine"] == "django.db.backends.postgresql"
    assert mode["broker"] == "redis://redis.invalid:6379/0"
    assert mode["cache"] == "prm.cache.ResilientRedisCache"  # RedisCache; Redis down: a miss
    assert mode["email"] == "django.core.mail.backends.smtp.EmailBackend"


# --- Docker Compose -------------------------------------------------------------------------


def compose_binary() -> Path:
    # The console script ``docker-compose`` exits 0 even on errors; the real binary does not.
    import compose

    return Path(compose.__file__).parent / "docker-compose"


def compose(*args: str, env: dict[str, str]):
    return run(
        [str(compose_binary()), "--project-directory", str(ROOT), "-f", "docker-compose.yml"]
        + list(args),
        env,
    )


def settings_variables() -> set[str]:
    """Every environment variable prm/settings.py reads: the first argument of ``env(...)``,
    ``env.<cast>(...)`` and ``environ.Env().<cast>(...)`` calls."""
    tree = ast.parse((ROOT / "prm" / "settings.py").read_text())

    def reads_env(func: ast.expr) -> bool:
        if isinstance(func, ast.Name):
            return func.id == "env"
        if isinstance(func, ast.Attribute):
            owner = func.value
            if isinstance(owner, ast.Call):  # environ.Env().str(...)
                owner = owner.func
            return isinstance(owner, ast.Name | ast.Attribute) and ast.unparse(owner) in {
                "env",
                "environ.Env",
            }
        return False

    return {
        node.args[0].value
        for node in ast.walk(tree)
        if isinstance(node, ast.Call)
        and reads_env(node.func)
        and node.args
        and isinstance(node.args[0], ast.Constant)
        and isinstance(node.args[0].value, str)
    }


COMPOSE_INPUT = {
    "SECRET_KEY": "x" * 50,
    "ALLOWED_HOSTS": "prm.example.com",
    "PRM_BASE_URL": "https://prm.example.com",
}


def test_compose_file_is_valid():
    result = compose("config", "-q", env=clean_env(**COMPOSE_INPUT))
    assert result.returncode == 0, result.stderr


def test_compose_requires_a_secret_key():
    env = clean_env(**COMPOSE_INPUT)
    del env["SECRET_KEY"]
    result = compose("config", "-q", env=env)
    assert result.returncode != 0
    assert "set SECRET_KEY" in result.stderr


def test_compose_app_environment_only_uses_variables_the_settings_read():
    result = compose("config", "--format", "json", env=clean_env(**COMPOSE_INPUT))
    assert result.returncode == 0, result.stderr
    services = json.loads(result.stdout)["services"]
    known = settings_variables()
    assert {"DATABASE_URL", "REDIS_URL", "SECRET_KEY", "PRM_BASE_URL"} <= known
    for name in APP_SERVICES:
        environment = services[name]["environment"]
        assert environment["PRM_PRODUCTION"] == "true"
        unknown = set(environment) - known
        assert not unknown, f"{name}: settings.py does not read {sorted(unknown)}"
    beat_command = services["beat"]["command"]
    assert beat_command[:4] == ["celery", "-A", "prm", "beat"]
    # The scheduler comes from settings (the leased one), as for `worker -B`: no override here.
    assert not {"-S", "--scheduler"} & set(beat_command), beat_command
    assert services["beat"].get("deploy", {}).get("replicas", 1) == 1


# --- one beat -------------------------------------------------------------------------------


@pytest.mark.django_db
def test_the_embedded_beat_of_dev_py_runs_the_leased_scheduler_and_the_same_schedule():
    # dev.py run starts `celery worker -B`: the worker's embedded beat must be the leased
    # scheduler of the `beat` container (settings, no override), reading the same schedule.
    from unittest import mock

    from celery.worker.components import Beat
    from django.conf import settings

    from prm.beat import LeasedScheduler
    from prm.celery import app

    source = (ROOT / "dev.py").read_text()
    assert '"worker", "-B"' in source
    assert "--scheduler" not in source and '"-S"' not in source
    # The worker's own code for -B, without starting a worker (its init closes the database's
    # file descriptors): its defaults, then its Beat bootstep.
    worker = app.WorkController.__new__(app.WorkController)
    worker.app = app
    worker.setup_defaults(beat=True, pool_cls="solo")
    Beat(worker, beat=True).create(worker)
    assert worker.scheduler == settings.CELERY_BEAT_SCHEDULER == "prm.beat:LeasedScheduler"
    # Built, not started (no process runs); it must not close the test's own connection.
    with mock.patch("django_celery_beat.schedulers.close_old_connections"):
        scheduler = worker.beat.service.get_scheduler()
    assert isinstance(scheduler, LeasedScheduler)
    assert set(settings.CELERY_BEAT_SCHEDULE) <= set(scheduler.schedule)
    for name, entry in settings.CELERY_BEAT_SCHEDULE.items():
        assert scheduler.schedule[name].task == entry["task"]


# --- lint -----------------------------------------------------------------------------------


def test_ruff_check():
    result = run([str(BIN / "ruff"), "check", "."])
    assert result.returncode == 0, result.stdout + result.stderr


def test_ruff_format():
    result = run([str(BIN / "ruff"), "format", "--check", "."])
    assert result.returncode == 0, result.stdout + result.stderr


# --- a real worker --------------------------------------------------------------------------


@pytest.mark.services
@pytest.mark.django_db(transaction=True)
def test_invitation_is_sent_by_a_real_worker(client, live_worker):
    from partners.models import (
        AccountStatus,
        Contact,
        Invitation,
        PartnerAccount,
        PortalAccess,
        Tier,
    )
    from partners.services import sync_account_permissions

    tier = Tier.objects.create(name="Runtime", rank=900)
    account = PartnerAccount.objects.create(
        name="Runtime Check Ltd", tier=tier, status=AccountStatus.ACTIVE
    )
    admin = get_user_model().objects.create_user(
        email="pat.admin@runtime.example", password="runtime-check-Passphrase-1"
    )
    Contact.objects.create(
        account=account,
        first_name="Pat",
        last_name="Admin",
        email=admin.email,
        portal_access=PortalAccess.ADMIN,
        user=admin,
    )
    invitee = Contact.objects.create(
        account=account,
        first_name="Ivy",
        last_name="Invitee",
        email="ivy.invitee@runtime.example",
        portal_access=PortalAccess.NONE,
    )
    sync_account_permissions([account.pk])
    client.force_login(admin)

    response = client.post(reverse("partners:contact_invite", args=[invitee.pk]))

    assert response.status_code == 302, response.content[:2000]
    invitation = Invitation.objects.get(contact=invitee)
    deadline = time.monotonic() + 30
    while invitation.sent_at is None and time.monotonic() < deadline:
        time.sleep(0.25)
        invitation.refresh_from_db()
    log = live_worker.log()
    assert invitation.sent_at is not None, f"the worker did not send the invitation:\n{log}"
    # The worker sent it, not this process: nothing here, the message in the worker's console.
    assert mail.outbox == []
    assert "partners.send_invitation" in log
    assert "To: ivy.invitee@runtime.example" in log
