"""contract_delivery(): sessions held and children reached per item, equal to counting the
rows by hand. Activities and participations are made directly with the activities models: some
count, and each of the others misses exactly one condition (another provider, a service the
contract does not buy, a day outside the period, a township it does not cover, a child who did
not attend)."""

import datetime as dt
import itertools
from dataclasses import dataclass
from typing import Any

import pytest

from activities.models import Activity, Participation
from geo.models import Region, Unit
from providers.models import Contract, Provider
from providers.selectors import contract_delivery
from registry.models import Child
from testing.world import World, make_child

from .helpers import make_contract, place_provider, station

START = dt.date(2027, 3, 1)
END = dt.date(2027, 8, 31)


@dataclass(frozen=True)
class Spec:
    unit: str  # "station" or "home"
    kind: str
    held_on: dt.date
    township: str  # "a", "b" or "other"
    attended: tuple[tuple[str, bool | None], ...]  # (child key, attended)


SPECS = [
    # Counted: the station's homework club and counselling in 廉州镇 and 党江镇, in the period.
    Spec("station", "homework_club", START, "a", (("a1", True), ("a2", True), ("b1", False))),
    Spec("station", "homework_club", END, "b", (("a1", True), ("b1", True), ("x1", None))),
    Spec("station", "homework_club", dt.date(2027, 5, 5), "a", ()),
    Spec("station", "counselling", dt.date(2027, 4, 1), "a", (("a2", True), ("x1", True))),
    # Not counted: each misses one condition.
    Spec("home", "homework_club", dt.date(2027, 4, 2), "a", (("a1", True), ("x2", True))),
    Spec("station", "summer_camp", dt.date(2027, 7, 1), "a", (("x2", True),)),
    Spec("station", "homework_club", START - dt.timedelta(days=1), "a", (("x2", True),)),
    Spec("station", "counselling", END + dt.timedelta(days=1), "b", (("x2", True),)),
    Spec("station", "counselling", dt.date(2027, 6, 1), "other", (("x2", True),)),
]
ITEMS = (("homework_club", 12, 30), ("counselling", 6, 10), ("family_education", 4, 20))


def _counted(spec: Spec) -> bool:
    return (
        spec.unit == "station"
        and spec.kind in {kind for kind, _, _ in ITEMS}
        and START <= spec.held_on <= END
        and spec.township in {"a", "b"}
    )


def _by_hand(kind: str) -> tuple[int, int]:
    chosen = [spec for spec in SPECS if _counted(spec) and spec.kind == kind]
    children = {key for spec in chosen for key, attended in spec.attended if attended is True}
    return len(chosen), len(children)


@pytest.fixture
def contract(world: World) -> Contract:
    social = station(world)
    home = place_provider(world, "a1")
    other_township = world.village_other.parent
    assert other_township is not None
    townships: dict[str, Region] = {"a": world.township_a, "b": world.township_b, "other": other_township}
    children: dict[str, Child] = dict(world.children)
    children["x1"] = make_child(world.village_a1, world.users["county_admin"], name="钱七")
    children["x2"] = make_child(world.village_b1, world.users["county_admin"], name="孙八")
    units: dict[str, Provider] = {"station": social, "home": home}
    organiser = Unit.objects.get(name="合浦县民政局")
    for number, spec in zip(itertools.count(), SPECS, strict=False):
        activity = Activity.objects.create(
            kind=spec.kind,
            title=f"活动{number}",
            organiser=organiser,
            provider=units[spec.unit].unit,
            county=world.county,
            township=townships[spec.township],
            place="村文化室",
            held_on=spec.held_on,
        )
        for key, attended in spec.attended:
            Participation.objects.create(activity=activity, child=children[key], attended=attended)
    return make_contract(
        world, social, [world.township_a, world.township_b], items=ITEMS, starts_on=START, ends_on=END
    )


def test_it_counts_sessions_and_children_as_by_hand(contract: Contract) -> None:
    rows = {row.kind: row for row in contract_delivery(contract)}
    assert list(rows) == ["homework_club", "counselling", "family_education"]
    for kind, planned_sessions, planned_children in ITEMS:
        sessions, children = _by_hand(kind)
        row = rows[kind]
        assert (row.sessions, row.children) == (sessions, children), kind
        assert (row.planned_sessions, row.planned_children) == (planned_sessions, planned_children)
    # The numbers the specs give (so the hand count is not vacuous either).
    assert (rows["homework_club"].sessions, rows["homework_club"].children) == (3, 3)
    assert (rows["counselling"].sessions, rows["counselling"].children) == (1, 2)
    assert (rows["family_education"].sessions, rows["family_education"].children) == (0, 0)
    assert rows["homework_club"].label == "课后辅导" and rows["homework_club"].sessions_percent == 25


def test_it_follows_the_contracts_period_and_townships(contract: Contract, world: World) -> None:
    contract.townships.set([world.township_b])
    rows = {row.kind: row for row in contract_delivery(contract)}
    assert (rows["homework_club"].sessions, rows["homework_club"].children) == (1, 2)
    assert rows["counselling"].sessions == 0
    Contract.objects.filter(pk=contract.pk).update(ends_on=END - dt.timedelta(days=1))
    contract.refresh_from_db()
    assert {row.kind: row for row in contract_delivery(contract)}["homework_club"].sessions == 0


def test_it_takes_a_fixed_number_of_queries(contract: Contract, django_assert_max_num_queries: Any) -> None:
    fresh = Contract.objects.get(pk=contract.pk)
    with django_assert_max_num_queries(4):
        contract_delivery(fresh)


def test_the_contract_page_shows_delivery_against_plan(contract: Contract, login: Any) -> None:
    body = login("county_admin").get(f"/providers/contracts/{contract.id}/").content.decode()
    assert "3 / 12" in body and "3 / 30" in body and "1 / 6" in body and "2 / 10" in body and "0 / 4" in body
