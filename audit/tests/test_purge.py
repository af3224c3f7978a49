"""LG-4: audit rows are kept at least 185 days. `manage.py purge_audit` removes only older
rows and leaves a checkpoint, so the shortened chain still verifies."""

import datetime as dt
from io import StringIO

import pytest
import time_machine
from django.core.checks import run_checks
from django.core.management import call_command
from django.core.management.base import CommandError, SystemCheckError
from django.utils import timezone

from audit.chain import verify_chain
from audit.models import GENESIS, AuditEvent, EventType
from audit.services import audit_event
from testing.world import World


def _read(world: World, days_ago: int) -> AuditEvent:
    """A file read `days_ago` days ago, as the file page records it."""
    with time_machine.travel(timezone.now() - dt.timedelta(days=days_ago), tick=False):
        return audit_event(
            user=world.users["village_worker"],
            action=EventType.VIEW,
            object_type="child",
            object_id=world.children["a1"].id,
        )


def _purge() -> str:
    out = StringIO()
    call_command("purge_audit", stdout=out)
    return out.getvalue()


def test_it_keeps_rows_184_days_old_and_removes_older_ones(world: World) -> None:
    very_old, old, kept_184, recent = (_read(world, days) for days in (400, 186, 184, 1))
    out = _purge()
    assert "已删除 2 条" in out and "185 天" in out
    remaining = set(AuditEvent.objects.values_list("pk", flat=True))
    assert very_old.pk not in remaining and old.pk not in remaining
    assert {kept_184.pk, recent.pk} <= remaining
    checkpoint = AuditEvent.objects.get(action=EventType.CHECKPOINT)
    assert checkpoint.detail["anchor_hash"] == old.hash and checkpoint.detail["deleted"] == 2
    assert AuditEvent.objects.get(pk=kept_184.pk).prev_hash == old.hash


def test_the_chain_still_verifies_after_a_purge(world: World) -> None:
    for days in (300, 250, 100, 10):
        _read(world, days)
    _purge()
    report = verify_chain()
    assert report.intact, report
    assert report.count == 3  # two kept rows and the checkpoint
    out = StringIO()
    call_command("verify_audit_chain", stdout=out)
    assert "完整：共 3 条记录" in out.getvalue()


def test_it_can_purge_everything_and_still_verify(world: World) -> None:
    _read(world, 300)
    _read(world, 200)
    _purge()
    rows = list(AuditEvent.objects.all())
    assert [row.action for row in rows] == [EventType.CHECKPOINT]
    assert rows[0].prev_hash != GENESIS
    assert verify_chain().intact
    assert "没有早于" in _purge()  # nothing more to do


def test_it_removes_nothing_younger_than_the_retention(world: World, settings) -> None:
    settings.SHOUHU_AUDIT_RETENTION_DAYS = 365
    for days in (300, 200, 1):
        _read(world, days)
    assert "没有早于" in _purge()
    assert AuditEvent.objects.count() == 3


@pytest.mark.parametrize(("days", "errors"), [(185, 0), (400, 0), (184, 1), (180, 1)])
def test_it_refuses_a_retention_below_185_days(settings, days: int, errors: int) -> None:
    settings.SHOUHU_AUDIT_RETENTION_DAYS = days
    found = [m for m in run_checks() if m.id == "audit.E001"]
    assert len(found) == errors
    if errors:
        assert "185" in found[0].msg


def test_the_purge_command_refuses_a_short_retention(world: World, settings) -> None:
    _read(world, 400)
    settings.SHOUHU_AUDIT_RETENTION_DAYS = 90
    with pytest.raises(SystemCheckError):
        call_command("purge_audit", skip_checks=False, stdout=StringIO())
    with pytest.raises(CommandError) as caught:  # even when the checks are skipped
        call_command("purge_audit", stdout=StringIO())
    assert "185" in str(caught.value)
    assert AuditEvent.objects.count() == 1
