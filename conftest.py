"""Shared fixtures: the real NBS regions in the test database, and the persona world."""

from collections.abc import Iterator
from typing import Any

import pytest
from django.core.management import call_command
from django.test import Client

from testing.world import PASSWORD, World, build_world


@pytest.fixture(scope="session")
def django_db_setup(django_db_setup: Any, django_db_blocker: Any) -> Iterator[None]:
    from audit.testing import allow_test_flush

    with django_db_blocker.unblock():
        call_command("load_regions", verbosity=0)
        allow_test_flush()
    yield


@pytest.fixture(autouse=True)
def _test_client_logins(monkeypatch: pytest.MonkeyPatch) -> None:
    """The test client's login() and force_login() count as a complete sign-in: axes gets
    the request it needs, and personas whose roles require a second factor get an
    OTP-verified session (accounts/tests/helpers.py). The sign-in pages themselves are
    tested over HTTP in accounts/tests."""
    from accounts.tests.helpers import patch_test_client_logins

    patch_test_client_logins(monkeypatch)


@pytest.fixture
def world(db: Any) -> World:
    return build_world()


@pytest.fixture
def login(client: Client, world: World) -> Any:
    """login("village_worker") logs the test client in as that persona."""

    def _login(persona: str) -> Client:
        assert client.login(username=world.users[persona].username, password=PASSWORD)
        return client

    return _login


@pytest.fixture
def transactional_world(transactional_db: Any) -> World:
    """The world for tests that need real commits (threads, a live server). Transactional
    tests flush every table afterwards, so the regions are reloaded when missing."""
    from geo.models import Region

    if not Region.objects.exists():
        call_command("load_regions", verbosity=0)
    return build_world()


def _reopen_closed_connections() -> None:
    """A test that breaks the server connection on purpose (fail-closed and durability tests)
    can leave Django holding a closed PostgreSQL connection that it does not notice outside a
    request; forget it so the next query connects again instead of failing every later test."""
    from django.db import connections

    for conn in connections.all(initialized_only=True):
        raw = conn.connection
        if raw is not None and getattr(raw, "closed", False) and not conn.in_atomic_block:
            conn.connection = None


@pytest.fixture(autouse=True, scope="module")
def _fresh_connection_per_module() -> None:
    _reopen_closed_connections()


@pytest.fixture(autouse=True)
def _fresh_connection_per_test() -> None:
    _reopen_closed_connections()
