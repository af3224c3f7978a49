"""Regions and units over the API: public facts, read-only, behind login."""

from typing import Any

from django.test import Client

from geo.models import Region, RegionLevel, Unit, UnitKind
from testing.world import World


def test_it_requires_login(world: World, client: Client) -> None:
    for url in ("/api/regions/", f"/api/regions/{world.county.pk}/", "/api/units/"):
        assert client.get(url).status_code in (401, 403), url


def test_it_lists_townships_of_a_county(world: World, login: Any) -> None:
    response = login("no_role").get("/api/regions/", {"parent": "450521", "level": "township"})
    assert response.status_code == 200
    rows = response.json()["results"]
    codes = [row["code"] for row in rows]
    assert {"450521100", "450521101"} <= set(codes)
    assert codes == sorted(codes)
    assert {row["level"] for row in rows} == {RegionLevel.TOWNSHIP}
    assert {row["parent_code"] for row in rows} == {"450521"}


def test_it_hides_ended_versions_unless_asked(world: World, login: Any) -> None:
    old = world.village_a1
    Region.objects.filter(pk=old.pk).update(valid_to="2024-01-01")
    renamed = Region.objects.create(
        code=old.code, name="甲一社区", level=RegionLevel.VILLAGE, parent=old.parent
    )
    client = login("village_worker")
    current = client.get("/api/regions/", {"parent": world.township_a.code}).json()["results"]
    assert str(old.pk) not in {row["id"] for row in current}
    assert str(renamed.pk) in {row["id"] for row in current}
    everything = client.get("/api/regions/", {"parent": world.township_a.code, "current": "false"}).json()
    assert {str(old.pk), str(renamed.pk)} <= {row["id"] for row in everything["results"]}


def test_it_shows_a_region(world: World, login: Any) -> None:
    response = login("police").get(f"/api/regions/{world.village_a1.pk}/")
    assert response.status_code == 200
    body = response.json()
    assert body["code"] == world.village_a1.code
    assert body["parent"] == str(world.township_a.pk)
    assert body["is_current"] is True


def test_it_rejects_a_bad_level(world: World, login: Any) -> None:
    response = login("police").get("/api/regions/", {"level": "planet"})
    assert response.status_code == 400
    assert "level" in response.json()


def test_it_answers_404_for_a_missing_region(world: World, login: Any) -> None:
    assert login("police").get("/api/regions/00000000-0000-0000-0000-000000000000/").status_code == 404


def test_it_lists_units_by_kind(world: World, login: Any) -> None:
    response = login("school_staff").get("/api/units/", {"kind": UnitKind.SCHOOL})
    assert response.status_code == 200
    assert [row["name"] for row in response.json()["results"]] == ["廉州镇中心小学"]


def test_it_shows_a_unit_with_the_regions_it_serves(world: World, login: Any) -> None:
    station = Unit.objects.get(name="廉州派出所")
    response = login("county_officer").get(f"/api/units/{station.pk}/")
    assert response.status_code == 200
    body = response.json()
    assert body["kind"] == UnitKind.POLICE_STATION
    assert body["region"]["code"] == world.township_a.code
    assert [r["code"] for r in body["serves"]] == [world.township_a.code]


def test_it_is_read_only(world: World, login: Any) -> None:
    client = login("county_admin")
    assert client.post("/api/regions/", {"code": "1", "name": "x"}).status_code == 405
    assert client.delete(f"/api/units/{world.school.pk}/").status_code == 405
