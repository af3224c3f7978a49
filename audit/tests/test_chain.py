"""LG-3: the audit rows are hash-chained; `manage.py verify_audit_chain` names the first
broken link after a row is edited, deleted or the whole chain rewritten."""

import itertools
from io import StringIO

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection
from django.test import Client
from django.utils import timezone

from audit.models import GENESIS, AuditEvent
from testing.world import World


def _busy(world: World, login) -> list[AuditEvent]:
    client: Client = login("county_admin")
    for key in ("a1", "a2", "b1"):
        client.get(f"/children/{world.children[key].id}/")
    client.post("/children/", {"q": "张"})
    client.get(f"/api/children/{world.children['a1'].id}/")
    return list(AuditEvent.objects.order_by("id"))


def _verify(*args: str) -> str:
    out = StringIO()
    call_command("verify_audit_chain", *args, stdout=out)
    return out.getvalue()


def _sql(statement: str, params: list[object]) -> None:
    """Tamper as a superuser would: on PostgreSQL the append-only trigger is switched off
    for the statement (ALTER TABLE … DISABLE TRIGGER) and on again afterwards."""
    table = connection.ops.quote_name(AuditEvent._meta.db_table)
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            # Deferred foreign-key checks of this test's inserts would block ALTER TABLE.
            cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
            cursor.execute(f"ALTER TABLE {table} DISABLE TRIGGER audit_auditevent_no_update_delete")
        cursor.execute(statement.format(table=table), params)
        if connection.vendor == "postgresql":
            cursor.execute(f"ALTER TABLE {table} ENABLE TRIGGER audit_auditevent_no_update_delete")


def test_it_links_each_row_to_the_one_before(world: World, login) -> None:
    rows = _busy(world, login)
    assert len(rows) == 5
    assert rows[0].prev_hash == GENESIS
    for previous, row in itertools.pairwise(rows):
        assert row.prev_hash == previous.hash
        assert row.hash == row.compute_hash()


def test_it_reports_an_intact_chain(world: World, login) -> None:
    rows = _busy(world, login)
    out = _verify()
    assert "完整：共 5 条记录" in out
    assert rows[-1].hash in out


def test_it_names_an_edited_row(world: World, login) -> None:
    rows = _busy(world, login)
    edited = rows[2]
    _sql("UPDATE {table} SET username = %s WHERE id = %s", ["someone_else", edited.pk])
    with pytest.raises(CommandError) as caught:
        _verify()
    assert caught.value.returncode == 1
    message = str(caught.value)
    assert f"id={edited.pk}" in message and "改动" in message
    assert timezone.localtime(edited.at).isoformat()[:19] in message
    assert "此前 2 条记录完好" in message


def test_it_names_the_row_after_a_deleted_one(world: World, login) -> None:
    rows = _busy(world, login)
    _sql("DELETE FROM {table} WHERE id = %s", [rows[1].pk])
    with pytest.raises(CommandError) as caught:
        _verify()
    assert f"id={rows[2].pk}" in str(caught.value)


def test_it_notices_a_deleted_beginning_without_a_checkpoint(world: World, login) -> None:
    rows = _busy(world, login)
    _sql("DELETE FROM {table} WHERE id = %s", [rows[0].pk])
    with pytest.raises(CommandError) as caught:
        _verify()
    assert f"id={rows[1].pk}" in str(caught.value) and "清理检查点" in str(caught.value)


def test_it_notices_a_rehashed_row_through_its_successor(world: World, login) -> None:
    """Whoever edits a row and recomputes its hash still breaks the next row's link."""
    rows = _busy(world, login)
    forged = AuditEvent.objects.get(pk=rows[1].pk)
    forged.username = "someone_else"
    _sql(
        "UPDATE {table} SET username = %s, hash = %s WHERE id = %s",
        [forged.username, forged.compute_hash(), forged.pk],
    )
    with pytest.raises(CommandError) as caught:
        _verify()
    assert f"id={rows[2].pk}" in str(caught.value) and "衔接" in str(caught.value)


def test_it_checks_an_anchor_recorded_elsewhere(world: World, login) -> None:
    rows = _busy(world, login)
    assert "完整" in _verify("--anchor", rows[2].hash)
    with pytest.raises(CommandError) as caught:
        _verify("--anchor", "f" * 64)
    assert "锚定" in str(caught.value)
