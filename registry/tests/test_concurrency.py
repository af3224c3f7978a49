"""Races on PostgreSQL: one active file per ID number, and no lost update on stale edits."""

import threading
from collections.abc import Callable
from typing import Any

import pytest
from django.core.exceptions import ValidationError
from django.db import connection, connections

from registry.models import Child
from registry.services import FileData, StaleVersionError, child_file_open, child_file_update
from testing.world import World, child_data

pytestmark = pytest.mark.skipif(
    connection.vendor != "postgresql", reason="concurrency needs PostgreSQL (run by make test)"
)
THREADS = 8


def race(target: Callable[[int], Any]) -> list[Any]:
    """Run target(i) in THREADS threads released together; return results or exceptions."""
    barrier = threading.Barrier(THREADS)
    results: list[Any] = [None] * THREADS

    def run(i: int) -> None:
        try:
            barrier.wait()
            results[i] = target(i)
        except Exception as exc:  # collected and asserted by the caller
            results[i] = exc
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run, args=(i,)) for i in range(THREADS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return results


def test_it_keeps_one_active_file_per_id_under_concurrent_creation(transactional_world: World) -> None:
    world = transactional_world
    user = world.users["village_worker"]
    template = child_data(world.village_a1, name="并发")

    def create(i: int) -> Child:
        data = FileData(
            child=dict(template.child), father=dict(template.father), mother=dict(template.mother)
        )
        return child_file_open(user=user, data=data)

    results = race(create)
    created = [r for r in results if isinstance(r, Child)]
    refused = [r for r in results if isinstance(r, ValidationError)]
    assert len(created) == 1, results
    assert len(refused) == THREADS - 1
    assert all("已有在册档案" in str(r) for r in refused)
    assert Child.objects.filter(name="并发").count() == 1


def test_it_never_loses_an_update_to_a_stale_edit(transactional_world: World) -> None:
    world = transactional_world
    user = world.users["village_worker"]
    child = world.children["a1"]
    base = child_data(
        world.village_a1, name=child.name, id_number=child.id_number, birth_date=child.birth_date
    )

    def edit(i: int) -> Child:
        values = dict(base.child, current_address=f"地址{i}", school=child.school)
        return child_file_update(
            user=user,
            child=child,
            expected_version=1,
            data=FileData(child=values, father=base.father, mother=base.mother),
        )

    results = race(edit)
    saved = [r for r in results if isinstance(r, Child)]
    stale = [r for r in results if isinstance(r, StaleVersionError)]
    assert len(saved) == 1, results
    assert len(stale) == THREADS - 1
    child.refresh_from_db()
    assert child.version == 2
    assert child.current_address == saved[0].current_address
