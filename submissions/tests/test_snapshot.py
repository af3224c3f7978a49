"""The snapshot of a village: the newest history rows of each file and its family, taken with
a fixed number of queries whatever the size of the village."""

import datetime as dt

from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from registry import choices as c
from registry.models import Child, EntrustedGuardian
from submissions.models import Round, SnapshotRow, TownshipSubmission
from submissions.snapshot import facts_from_json, snapshot_take
from testing.world import World, make_child


def _round(world: World) -> Round:
    return Round.objects.create(
        kind="census",
        title="摸底排查",
        reference_date=dt.date(2025, 6, 30),
        county=world.county,
        due_date=timezone.localdate(),
        opened_by=world.users["county_admin"],
    )


def _take(world: World, round: Round) -> int:
    return snapshot_take(
        round=round, village=world.village_a1, township=world.township_a, user=world.users["county_admin"]
    )


def test_it_points_at_the_newest_history_rows(world: World) -> None:
    child = world.children["a1"]
    EntrustedGuardian.objects.create(child=child, name="张奶奶", relation=c.GuardianRelation.GRANDMOTHER)
    guardian = EntrustedGuardian.objects.get(child=child)
    guardian.name = "张祖母"
    guardian.save()
    round = _round(world)
    assert _take(world, round) == 1
    row = SnapshotRow.objects.get(round=round)
    assert row.child_history_id == Child.history.filter(id=child.pk).latest().history_id  # type: ignore[attr-defined]
    assert (row.father_history.name, row.mother_history.name) == ("张父", "李母")  # type: ignore[union-attr]
    assert row.guardian_history.name == "张祖母"  # type: ignore[union-attr]
    assert row.left_behind and facts_from_json(row.facts).birth_date == dt.date(2015, 6, 1)
    assert (row.village, row.township) == (world.village_a1, world.township_a)


def test_a_removed_guardian_is_not_in_the_snapshot(world: World) -> None:
    guardian = EntrustedGuardian.objects.create(
        child=world.children["a1"], name="张奶奶", relation=c.GuardianRelation.GRANDMOTHER
    )
    guardian.delete()
    round = _round(world)
    _take(world, round)
    assert SnapshotRow.objects.get(round=round).guardian_history is None


def test_exited_files_are_left_out_and_a_retake_replaces(world: World) -> None:
    round = _round(world)
    _take(world, round)
    Child.objects.filter(pk=world.children["a1"].pk).update(status=c.Status.EXITED, exit_reason="other")
    assert _take(world, round) == 0 and not SnapshotRow.objects.filter(round=round).exists()


def _queries(world: World, round: Round) -> int:
    with CaptureQueriesContext(connection) as captured:
        _take(world, round)
    return len(captured)


def test_its_queries_do_not_grow_with_the_village(world: World) -> None:
    round = _round(world)
    TownshipSubmission.objects.create(round=round, township=world.township_a)
    one = _queries(world, round)
    for number in range(4):
        make_child(
            world.village_a1,
            world.users["county_admin"],
            name=f"张{number}",
            birth_date=dt.date(2014, 1, 1 + number),
        )
    assert _queries(world, round) == one
    assert SnapshotRow.objects.filter(round=round).count() == 5
