"""Shared fixtures: the real NBS regions in the test database, and the persona world."""

import datetime as dt
from collections.abc import Iterator
from contextlib import nullcontext
from typing import Any

import pytest
import time_machine
from django.core.management import call_command
from django.db import transaction
from django.test import Client

from testing.world import PASSWORD, World, WorldKeys, build_world, world_keys, world_load


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Tests marked `once` give the same answer on both databases (settings checked in a
    subprocess with its own SQLite file, a scan of the sources, a permission-matrix case
    decided before any query): `make test` runs them in the SQLite run and skips them on
    PostgreSQL instead of running them twice."""
    from django.db import connection

    if connection.vendor != "postgresql":
        return
    skip = pytest.mark.skip(reason="once: runs in the SQLite run (same answer on both databases)")
    for item in items:
        if item.get_closest_marker("once"):
            item.add_marker(skip)


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


@pytest.fixture(scope="module")
def world_built_at() -> dt.datetime | None:
    """The moment the module's world is built: None for now; apps whose tests run on a
    pinned clock override it with their clock's start."""
    return None


@pytest.fixture(scope="module")
def _module_world(
    django_db_setup: Any, django_db_blocker: Any, world_built_at: dt.datetime | None
) -> Iterator[WorldKeys]:
    """The persona world, built once per test module inside a transaction that is rolled back
    when the module ends; each test's `db` savepoint rolls back what the test changed. Built
    a moment before a pinned clock starts, so that each test's clock runs after it."""
    clock = (
        time_machine.travel(world_built_at - dt.timedelta(seconds=2), tick=True)
        if world_built_at is not None
        else nullcontext()
    )
    with django_db_blocker.unblock(), transaction.atomic():
        with clock:
            keys = world_keys(build_world())
        yield keys
        transaction.set_rollback(True)


@pytest.fixture
def world(_module_world: WorldKeys, db: Any) -> World:
    return world_load(_module_world)


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
