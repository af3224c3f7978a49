"""LG-3 on PostgreSQL: the database itself refuses UPDATE, DELETE and TRUNCATE of the audit
table (trigger, migration 0004), an application role granted only SELECT and INSERT cannot
change a row, and concurrent writers never fork the chain (advisory lock)."""

import threading
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from django.db import DatabaseError, connection, connections, transaction

from audit.chain import verify_chain
from audit.models import AuditEvent, EventType
from audit.services import append, audit_event
from testing.world import World

pytestmark = pytest.mark.skipif(
    connection.vendor != "postgresql", reason="the trigger and roles need PostgreSQL (run by make test)"
)
TABLE = "audit_auditevent"


def _row(**fields: Any) -> AuditEvent:
    with transaction.atomic():
        return append(AuditEvent(action=EventType.CONFIG, object_type="test", detail=fields))


def _refused(sql: str, params: list[object] | None = None, *, first: str = "") -> str:
    """Run `first` then `sql` in a savepoint; return the database's refusal of `sql` (the
    test fails if there is none). The savepoint's rollback also undoes `first`."""
    with pytest.raises(DatabaseError) as caught, transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")  # pending FK checks would block ALTER TABLE
        if first:
            cursor.execute(first)
        cursor.execute(sql, params)
    return str(caught.value)


def test_it_refuses_update_delete_and_truncate(world: World) -> None:
    row = _row(n=1)
    assert "只能追加" in _refused(f"UPDATE {TABLE} SET username = 'x' WHERE id = %s", [row.pk])
    assert "只能追加" in _refused(f"DELETE FROM {TABLE} WHERE id = %s", [row.pk])
    # The test database lets Django's flush truncate (audit.testing); switch the guard back on.
    message = _refused(
        f"TRUNCATE {TABLE} CASCADE", first=f"ALTER TABLE {TABLE} ENABLE TRIGGER audit_auditevent_no_truncate"
    )
    assert "只能追加" in message
    assert AuditEvent.objects.filter(pk=row.pk, username="").exists()


def test_it_lets_the_purge_flag_delete_old_rows_only(world: World) -> None:
    row = _row(n=1)
    message = _refused(
        f"DELETE FROM {TABLE} WHERE id = %s", [row.pk], first="SET LOCAL shouhu.audit_purge = 'on'"
    )
    assert "只能追加" in message


@pytest.fixture
def app_role(db: Any) -> Iterator[str]:
    """A role with the grants docs/security.md gives the application on the audit table,
    created inside the test's transaction (so rolled back with it)."""
    name = f"shouhu_app_probe_{uuid.uuid4().hex[:8]}"
    with connection.cursor() as cursor:
        cursor.execute(f"CREATE ROLE {name} NOLOGIN")
        cursor.execute(f"GRANT USAGE ON SCHEMA public TO {name}")
        cursor.execute(f"GRANT SELECT, INSERT ON {TABLE} TO {name}")
        cursor.execute(f"GRANT USAGE ON SEQUENCE {_sequence()} TO {name}")
    yield name


def _sequence() -> str:
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_get_serial_sequence(%s, 'id')", [TABLE])
        return str(cursor.fetchone()[0])


def test_it_denies_update_to_an_insert_only_role(world: World, app_role: str) -> None:
    row = _row(n=1)
    with connection.cursor() as cursor:
        cursor.execute(f"SET ROLE {app_role}")
    try:
        written = _row(n=2)  # the application role can append …
        assert written.prev_hash == row.hash
        for sql in (
            f"UPDATE {TABLE} SET username = 'x' WHERE id = %s",
            f"DELETE FROM {TABLE} WHERE id = %s",
        ):
            message = _refused(sql, [row.pk])  # … but not change or remove
            assert "permission denied" in message or "权限不够" in message or "拒绝" in message, message
        message = _refused(f"TRUNCATE {TABLE} CASCADE")
        assert "permission denied" in message or "权限不够" in message, message
    finally:
        with connection.cursor() as cursor:
            cursor.execute("RESET ROLE")
    assert verify_chain().intact


def test_it_never_forks_the_chain_under_concurrent_writers(transactional_world: World) -> None:
    threads, per_thread = 8, 25
    barrier = threading.Barrier(threads)
    errors: list[BaseException] = []
    user = transactional_world.users["village_worker"]

    def write(i: int) -> None:
        try:
            barrier.wait()
            for n in range(per_thread):
                audit_event(user=user, action=EventType.VIEW, object_type="test", detail={"t": i, "n": n})
        except BaseException as exc:  # collected and asserted below
            errors.append(exc)
        finally:
            connections.close_all()

    workers = [threading.Thread(target=write, args=(i,)) for i in range(threads)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    assert not errors, errors
    report = verify_chain()
    assert report.intact, report
    assert report.count == threads * per_thread
    prev = list(AuditEvent.objects.values_list("prev_hash", flat=True))
    assert len(prev) == len(set(prev))  # no two rows hang off the same predecessor
