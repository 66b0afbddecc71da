"""pytest fixtures of the two-company world (tests/conftest.py: ``pytest_plugins``).

``world`` builds the world per test; ``module_world`` builds it once for a whole module (inside a
transaction rolled back after the module's last test; each test still runs in its own savepoint).
``login_as(client, user)`` signs a test client in as a persona (``None``: stay anonymous).
Until tests/conftest.py loads this module, a test module takes everything with
``from prm.testing.fixtures import *`` (the autouse fixture must be in its namespace). Celery runs
eagerly and the cache is emptied per test by tests/conftest.py.
"""

from __future__ import annotations

from contextlib import contextmanager
from typing import TYPE_CHECKING

import pytest
from django.db import transaction
from django.test.utils import override_settings

if TYPE_CHECKING:
    from prm.testing.world import World

# Models are imported inside the fixtures: a plugin module is loaded before Django's app registry.

#: Hashing a password the production way costs ~0.3 s; the world creates six logins.
FAST_PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
PORTAL_BACKEND = "partners.auth.PortalAuthenticationBackend"

__all__ = [
    "fast_password_hashing",
    "login_as",
    "module_world",
    "personas",
    "personas_of",
    "world",
]


def login_as(client, user):
    """Sign ``client`` in as ``user`` through the portal's backend; ``None`` signs it out."""
    client.logout()
    if user is not None:
        client.force_login(user, backend=PORTAL_BACKEND)
    return client


def personas_of(world: World) -> dict:
    """Every persona of the access contract by name, the anonymous visitor as ``None``."""
    return {"anonymous": None, **world.personas()}


@pytest.fixture(autouse=True)
def fast_password_hashing(settings):
    settings.PASSWORD_HASHERS = FAST_PASSWORD_HASHERS


@pytest.fixture(autouse=True)
def media_root(settings, tmp_path):
    """Uploaded files (resources, lesson files, demo data) go to a temporary directory, never
    into the checkout's ``var/media``."""
    settings.MEDIA_ROOT = tmp_path / "media"
    return settings.MEDIA_ROOT


@pytest.fixture
def world(db) -> World:
    from prm.testing.world import build_world

    return build_world()


@pytest.fixture
def personas(world) -> dict:
    return personas_of(world)


@contextmanager
def rolled_back(django_db_blocker):
    """Data created inside lives until the block ends, then is rolled back."""
    with django_db_blocker.unblock():
        atomic = transaction.atomic()
        atomic.__enter__()
        try:
            yield
        finally:
            transaction.set_rollback(True)
            atomic.__exit__(None, None, None)


@pytest.fixture(scope="module")
def module_world(django_db_setup, django_db_blocker) -> World:
    """One world for a whole module (tests must still use the ``db`` fixture or mark)."""
    from prm.testing.world import build_world

    with (
        override_settings(PASSWORD_HASHERS=FAST_PASSWORD_HASHERS),
        rolled_back(django_db_blocker),
    ):
        yield build_world()
