"""The register's list and provider pages through HTTP: who reads which providers, the
filters, what a page shows (services, masked phone, staff names, contracts, the children
assigned: a count for every reader, the names only for those who may see the children), the
phone reveal, and the denied cases (403 for roles with no part, 404 outside the scope)."""

from typing import Any

import pytest

from audit.models import AuditEvent, EventType
from geo.models import Unit, UnitKind
from providers.models import Provider
from registry.models import UnitAssignment
from testing.world import World

from .helpers import PHONE, make_contract, place_provider, station

ALL = ("a1", "a2", "b1", "other")
NAMES = {
    "a1": "甲一村儿童之家",
    "a2": "廉州镇志愿服务队",
    "b1": "乙一村妇女之家",
    "other": "外县儿童之家",
}


@pytest.fixture
def places(world: World) -> dict[str, Provider]:
    return {key: place_provider(world, key) for key in ALL}


@pytest.mark.parametrize(
    ("persona", "listed"),
    [
        ("county_admin", {"a1", "a2", "b1"}),
        ("county_officer", {"a1", "a2", "b1"}),
        ("township_supervisor", {"a1", "a2"}),
        ("village_worker", {"a1"}),
    ],
)
def test_it_lists_the_register_of_the_users_area(
    persona: str, listed: set[str], places: dict[str, Provider], login: Any
) -> None:
    body = login(persona).get("/providers/").content.decode()
    for key in ALL:
        assert (NAMES[key] in body) == (key in listed), (persona, key)


@pytest.mark.parametrize(
    "persona", ["provider_staff", "school_staff", "police", "social_worker", "reporter", "auditor", "no_role"]
)
def test_it_refuses_the_register_to_other_roles(
    persona: str, places: dict[str, Provider], login: Any
) -> None:
    response = login(persona).get("/providers/")
    assert response.status_code == 403
    assert NAMES["a1"] not in response.content.decode()


def test_the_supervisor_also_reads_providers_contracted_for_the_township(world: World, login: Any) -> None:
    social = station(world)
    client = login("township_supervisor")
    assert "合浦县社工站" not in client.get("/providers/").content.decode()
    assert client.get(f"/providers/{social.id}/").status_code == 404
    make_contract(world, social, [world.township_a])
    assert "合浦县社工站" in client.get("/providers/").content.decode()
    assert client.get(f"/providers/{social.id}/").status_code == 200
    # Not the other township's supervisor: the contract covers 廉州镇 only.
    assert login("county_admin").get(f"/providers/{social.id}/").status_code == 200


def test_it_filters_by_kind_township_service_and_name(
    places: dict[str, Provider], login: Any, world: World
) -> None:
    Provider.objects.filter(pk=places["b1"].pk).update(services=["family_education"])
    client = login("county_admin")

    def shown(**params: str) -> set[str]:
        body = client.get("/providers/", params).content.decode()
        return {key for key in ALL if NAMES[key] in body}

    assert shown() == {"a1", "a2", "b1"}
    assert shown(kind="womens_home") == {"b1"}
    assert shown(township=world.township_a.code) == {"a1", "a2"}
    assert shown(service="family_education") == {"b1"}
    assert shown(service="counselling") == {"a1", "a2"}
    assert shown(q="志愿") == {"a2"}
    # The township filter offers the townships of the user's register only.
    body = client.get("/providers/").content.decode()
    assert world.township_b.name in body and "中街街道" not in body


def test_inactive_providers_are_listed_on_request(places: dict[str, Provider], login: Any) -> None:
    Provider.objects.filter(pk=places["a2"].pk).update(active=False)
    client = login("county_admin")
    assert NAMES["a2"] not in client.get("/providers/").content.decode()
    body = client.get("/providers/", {"inactive": "on"}).content.decode()
    assert NAMES["a2"] in body and "已停止服务" in body


def test_the_page_shows_facts_services_masked_phone_staff_and_count(
    places: dict[str, Provider], login: Any, world: World
) -> None:
    provider = places["a1"]
    response = login("county_officer").get(f"/providers/{provider.id}/")
    body = response.content.decode()
    assert response.status_code == 200
    assert "儿童之家" in body and "课后辅导" in body and "心理辅导" in body
    assert PHONE not in body and "138****5678" in body
    assert "查看完整" not in body  # a county officer may not reveal numbers
    assert "provider_staff" in body  # the staff account's name (full_name = username in the World)
    assert "共 1 名" in body
    assert AuditEvent.objects.filter(
        action=EventType.VIEW, object_type="provider", object_id=str(provider.id)
    ).exists()


def test_the_children_are_listed_only_to_those_who_see_them(
    places: dict[str, Provider], login: Any, world: World
) -> None:
    provider = places["a1"]
    UnitAssignment.objects.create(
        child=world.children["b1"], unit=provider.unit, source=UnitAssignment.Source.ASSIGNED
    )
    admin = login("county_admin").get(f"/providers/{provider.id}/").content.decode()
    assert "共 2 名" in admin and "张三" in admin and "王五" in admin
    login_client = login("township_supervisor")
    supervisor = login_client.get(f"/providers/{provider.id}/").content.decode()
    assert "共 2 名" in supervisor and "张三" in supervisor and "王五" not in supervisor
    assert "其余 1 名不在您的查看范围内" in supervisor
    staff = login("provider_staff").get(f"/providers/{provider.id}/").content.decode()
    assert "张三" in staff and "王五" in staff  # both are assigned to this provider: its staff see both
    listed = AuditEvent.objects.filter(action=EventType.LIST, object_type="child", detail__section="provider")
    assert listed.count() == 3


def test_provider_staff_read_only_their_own_provider(places: dict[str, Provider], login: Any) -> None:
    client = login("provider_staff")
    assert client.get(f"/providers/{places['a1'].id}/").status_code == 200
    for key in ("a2", "b1", "other"):
        response = client.get(f"/providers/{places[key].id}/")
        assert response.status_code == 404
        assert NAMES[key] not in response.content.decode()


@pytest.mark.parametrize(
    ("persona", "key"),
    [
        ("county_admin", "other"),
        ("county_officer", "other"),
        ("township_supervisor", "b1"),
        ("village_worker", "a2"),
        ("village_worker", "b1"),
    ],
)
def test_out_of_scope_answers_like_missing(
    persona: str, key: str, places: dict[str, Provider], login: Any
) -> None:
    client = login(persona)
    out = client.get(f"/providers/{places[key].id}/")
    missing = client.get("/providers/6f0d5c1e-9b7a-4c1e-8d2f-000000000404/")
    assert out.status_code == missing.status_code == 404
    assert len(out.content) == len(missing.content)
    assert AuditEvent.objects.filter(action=EventType.DENIED, object_type="provider").count() == 2


@pytest.mark.parametrize("persona", ["school_staff", "police", "social_worker", "auditor", "system_admin"])
def test_the_page_is_refused_to_roles_with_no_part(
    persona: str, places: dict[str, Provider], login: Any
) -> None:
    assert login(persona).get(f"/providers/{places['a1'].id}/").status_code == 403


def test_a_reveal_shows_the_phone_and_logs_the_reason(places: dict[str, Provider], login: Any) -> None:
    provider = places["a1"]
    client = login("township_supervisor")
    assert "查看完整" in client.get(f"/providers/{provider.id}/").content.decode()
    response = client.post(f"/providers/{provider.id}/reveal/", {"reason": "联系机构安排假期托管"})
    assert response.status_code == 200 and PHONE in response.content.decode()
    event = AuditEvent.objects.get(action=EventType.REVEAL, object_type="provider")
    assert event.object_id == str(provider.id) and event.reason == "联系机构安排假期托管"
    assert PHONE not in str(event.detail)


def test_a_reveal_needs_a_reason(places: dict[str, Provider], login: Any) -> None:
    response = login("county_admin").post(f"/providers/{places['a1'].id}/reveal/", {"reason": ""})
    assert response.status_code == 400 and "请填写查看原因" in response.content.decode()
    assert PHONE not in response.content.decode()
    assert not AuditEvent.objects.filter(action=EventType.REVEAL).exists()


@pytest.mark.parametrize(
    ("persona", "status"), [("county_officer", 403), ("provider_staff", 403), ("no_role", 403)]
)
def test_a_reveal_is_refused_to_roles_that_may_not_reveal(
    persona: str, status: int, places: dict[str, Provider], login: Any
) -> None:
    response = login(persona).post(f"/providers/{places['a1'].id}/reveal/", {"reason": "想看看"})
    assert response.status_code == status and PHONE not in response.content.decode()
    assert not AuditEvent.objects.filter(action=EventType.REVEAL).exists()


def test_a_reveal_out_of_scope_answers_404(places: dict[str, Provider], login: Any) -> None:
    response = login("village_worker").post(f"/providers/{places['b1'].id}/reveal/", {"reason": "核对"})
    assert response.status_code == 404 and PHONE not in response.content.decode()


def test_the_nav_shows_the_register_to_its_readers(places: dict[str, Provider], login: Any) -> None:
    assert 'href="/providers/"' in login("county_officer").get("/providers/").content.decode()
    body = login("provider_staff").get("/providers/mine/").content.decode()
    assert 'href="/providers/mine/"' in body and 'href="/providers/">' not in body


def test_units_that_are_not_in_the_register_are_not_listed(world: World, login: Any) -> None:
    Unit.objects.create(name="廉州镇关工委", kind=UnitKind.NEXT_GENERATION, region=world.township_a)
    assert "廉州镇关工委" not in login("county_admin").get("/providers/").content.decode()
