"""care_recompute follows every write to the file at once; care_recompute_all brings every
child up to date in batches and reports counts."""

import datetime as dt
from typing import Any

from care.models import CarePolicy
from care.services import care_recompute, care_recompute_all
from registry import choices as rc
from registry.models import Child, Parent
from registry.services import (
    FileData,
    child_file_exit,
    child_file_reactivate,
    child_file_update,
    family_values,
)
from testing.world import World, make_child

from .conftest import TODAY


def _fresh(child: Child) -> Child:
    return Child.objects.get(pk=child.pk)


def _update(world: World, child: Child, **values: Any) -> Child:
    father, mother = family_values(child)
    return child_file_update(
        user=world.users["county_admin"],
        child=child,
        expected_version=child.version,
        data=FileData(child=values, father=father, mother=mother),
    )


def test_it_computes_the_colour_when_a_file_is_opened(world: World) -> None:
    child = _fresh(world.children["a1"])
    assert (child.risk_colour, child.risk_reasons) == ("green", [])
    assert child.next_visit_due == TODAY + dt.timedelta(days=90)  # never visited: from the opening day
    assert child.care_computed_at is not None

    alone = _fresh(
        make_child(
            world.village_a1, world.users["county_admin"], name="独居童", care_type=rc.CareType.LIVING_ALONE
        )
    )
    assert (alone.risk_colour, alone.risk_reasons, alone.next_visit_due) == (
        "red",
        ["living_alone"],
        dt.date(2028, 3, 3),
    )


def test_it_follows_edits_exit_and_reactivation_at_once(world: World) -> None:
    admin = world.users["county_admin"]
    child = _update(world, _fresh(world.children["a1"]), guardianship_rating=rc.Rating.POOR)
    stored = _fresh(child)
    assert (stored.risk_colour, stored.risk_reasons, stored.next_visit_due) == (
        "orange",
        ["poor_rating"],
        dt.date(2028, 3, 10),
    )
    history = stored.history.first()  # type: ignore[attr-defined]
    assert history.guardianship_rating == rc.Rating.POOR and history.history_user == admin

    exited = child_file_exit(
        user=admin, child=stored, expected_version=stored.version, reason=rc.ExitReason.MOVED_AWAY, on=TODAY
    )
    assert (_fresh(exited).risk_colour, _fresh(exited).next_visit_due) == ("", None)

    back = child_file_reactivate(user=admin, child=exited, expected_version=exited.version, reason="回村居住")
    assert (_fresh(back).risk_colour, _fresh(back).next_visit_due) == ("orange", dt.date(2028, 3, 10))


def test_it_raises_the_colour_for_an_unreachable_parent_and_writes_only_on_change(world: World) -> None:
    child = _fresh(world.children["a1"])
    assert care_recompute(child=child) is False  # nothing changed since the file was opened
    Parent.objects.filter(child=child, role=rc.ParentRole.MOTHER).update(
        unreachable=True, unreachable_since=TODAY
    )
    assert care_recompute(child=child) is True
    assert (child.risk_colour, child.risk_reasons) == ("orange", ["parent_unreachable"])
    stored = _fresh(child)
    assert (stored.risk_colour, stored.next_visit_due) == ("orange", TODAY + dt.timedelta(days=14))
    assert stored.version == world.children["a1"].version  # derived columns do not make a new version
    assert care_recompute(child=child) is False


def test_it_recomputes_every_child_in_batches_with_counts(world: World) -> None:
    Child.objects.update(risk_colour="", risk_reasons=[], next_visit_due=None, care_computed_at=None)
    _update(world, _fresh(world.children["b1"]), care_type=rc.CareType.UNSUPERVISED)
    Child.objects.filter(pk=world.children["b1"].pk).update(risk_colour="green")  # stale, as after an import
    seen: list[tuple[int, int]] = []

    counts = care_recompute_all(
        on=TODAY, batch_size=3, progress=lambda done, total: seen.append((done, total))
    )

    assert counts == {"total": 4, "changed": 4, "red": 1, "orange": 0, "yellow": 0, "green": 3, "none": 0}
    assert seen == [(3, 4), (4, 4)]
    b1 = _fresh(world.children["b1"])
    assert (b1.risk_colour, b1.risk_reasons, b1.next_visit_due) == (
        "red",
        ["unsupervised"],
        dt.date(2028, 3, 3),
    )
    assert all(child.care_computed_at is not None for child in Child.objects.all())
    again = care_recompute_all(on=TODAY, batch_size=3)
    assert again["changed"] == 0 and again["total"] == 4  # a re-run finds nothing to do


def test_it_recomputes_one_county_with_its_own_policy(world: World) -> None:
    CarePolicy.objects.create(county=world.county, green_days=60)
    counts = care_recompute_all(on=TODAY, county=world.county)
    assert counts["total"] == 3 and counts["changed"] == 3  # a1, a2, b1; not the other county's child
    assert _fresh(world.children["a1"]).next_visit_due == TODAY + dt.timedelta(days=60)
    assert _fresh(world.children["other"]).next_visit_due == TODAY + dt.timedelta(days=90)


def test_it_counts_exited_files_without_a_colour(world: World) -> None:
    child = _fresh(world.children["a2"])
    child_file_exit(
        user=world.users["county_admin"],
        child=child,
        expected_version=child.version,
        reason=rc.ExitReason.AGED_OUT,
        on=TODAY,
    )
    counts = care_recompute_all(on=TODAY)
    assert (counts["none"], counts["green"], counts["changed"]) == (1, 3, 0)


def test_a_batch_skips_a_row_that_moved_since_it_was_read(world: World) -> None:
    """The nightly batch takes no lock: a child changed between its read and its write (a
    visit, an edit) was recomputed by that write, and the batch must not undo it."""
    from django.utils import timezone

    from care import services

    child = _fresh(world.children["a1"])
    read = services._with_facts(Child.objects.filter(pk=child.pk)).get()
    stale = services._State("red", ["living_alone"], TODAY)
    _update(world, child, guardianship_rating=rc.Rating.FAIR)  # an edit in between

    assert services._write_states([(read, stale)], timezone.now()) == 0
    assert _fresh(child).risk_colour == "yellow"
    fresh_read = services._with_facts(Child.objects.filter(pk=child.pk)).get()
    assert services._write_states([(fresh_read, stale)], timezone.now()) == 1
    assert _fresh(child).risk_colour == "red"
