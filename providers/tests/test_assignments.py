"""指派服务对象 through HTTP: a county admin, township supervisor or village worker finds
children they may change (search by POST, as the ledger) and assigns them to a provider they
read; the provider's staff see those files from then on, until the assignment ends. Each
write leaves history with the user and an audit row; children outside the user's scope are
never offered and answer 404 when posted."""

import uuid
from typing import Any

import pytest

from audit.models import AuditEvent, EventType
from providers.models import Provider
from registry.models import UnitAssignment
from testing.world import World

from .helpers import make_contract, place_provider, station


@pytest.fixture
def home(world: World) -> Provider:
    """甲一村儿童之家, with child a1's assignment of the World ended: nobody assigned yet."""
    UnitAssignment.objects.filter(unit=world.provider).update(active=False)
    return place_provider(world, "a1")


def _active(provider: Provider) -> set[str]:
    return set(
        UnitAssignment.objects.filter(unit=provider.unit, active=True).values_list("child__name", flat=True)
    )


@pytest.mark.parametrize(
    ("persona", "offered"),
    [
        ("county_admin", {"张三", "李四", "王五"}),
        ("township_supervisor", {"张三", "李四"}),
        ("village_worker", {"张三"}),
    ],
)
def test_it_offers_the_children_the_user_may_change(
    persona: str, offered: set[str], home: Provider, login: Any
) -> None:
    response = login(persona).get(f"/providers/{home.id}/assign/")
    body = response.content.decode()
    assert response.status_code == 200
    for name in ("张三", "李四", "王五", "赵六"):
        assert (name in body) == (name in offered), (persona, name)
    assert AuditEvent.objects.filter(action=EventType.LIST, detail__section="provider_assign").exists()


def test_it_searches_by_pinyin_by_post(home: Provider, login: Any) -> None:
    client = login("county_admin")
    body = client.post(f"/providers/{home.id}/assign/", {"action": "search", "q": "ww"}).content.decode()
    assert "王五" in body and "张三" not in body
    event = AuditEvent.objects.get(action=EventType.SEARCH, detail__section="provider_assign")
    assert event.detail["term"] == "w*" and event.detail["kind"] == "pinyin"


def test_it_filters_by_village_and_key(home: Provider, world: World, login: Any) -> None:
    client = login("county_admin")
    body = client.post(
        f"/providers/{home.id}/assign/", {"action": "search", "village": str(world.village_a2.pk)}
    ).content.decode()
    assert "李四" in body and "张三" not in body
    body = client.post(f"/providers/{home.id}/assign/", {"action": "search", "key": "1"}).content.decode()
    assert "张三" not in body and "没有可以指派的儿童" in body  # no key child in the World


def test_the_supervisor_assigns_and_the_staff_see_the_files(home: Provider, world: World, login: Any) -> None:
    a1, a2 = world.children["a1"], world.children["a2"]
    staff = login("provider_staff")
    assert staff.get(f"/children/{a2.id}/").status_code == 404
    response = login("township_supervisor").post(
        f"/providers/{home.id}/assign/", {"action": "assign", "children": [str(a1.id), str(a2.id)]}
    )
    assert response.status_code == 302 and response["Location"] == f"/providers/{home.id}/"
    assert _active(home) == {"张三", "李四"}
    row = UnitAssignment.objects.get(unit=home.unit, child=a2, active=True)
    assert row.source == "assigned" and row.assigned_by == world.users["township_supervisor"]
    assert row.history.get().history_user == world.users["township_supervisor"]
    events = AuditEvent.objects.filter(action=EventType.UPDATE, detail__change="unit_assignment_open")
    assert set(events.values_list("object_id", flat=True)) == {str(a1.id), str(a2.id)}
    staff = login("provider_staff")
    assert staff.get(f"/children/{a2.id}/").status_code == 200
    assert "李四" in staff.get("/providers/mine/").content.decode()


def test_assigning_again_changes_nothing(home: Provider, world: World, login: Any) -> None:
    client = login("county_admin")
    data = {"action": "assign", "children": [str(world.children["b1"].id)]}
    client.post(f"/providers/{home.id}/assign/", data)
    client.post(f"/providers/{home.id}/assign/", data)
    assert UnitAssignment.objects.filter(unit=home.unit, active=True).count() == 1
    assert AuditEvent.objects.filter(detail__change="unit_assignment_open").count() == 1


def test_assigning_nobody_is_refused_at_the_field(home: Provider, login: Any) -> None:
    response = login("county_admin").post(f"/providers/{home.id}/assign/", {"action": "assign"})
    assert response.status_code == 400 and "请至少选择一名儿童。" in response.content.decode()
    assert not _active(home)


@pytest.mark.parametrize(("persona", "key"), [("village_worker", "a2"), ("township_supervisor", "b1")])
def test_a_child_outside_the_users_scope_answers_404(
    persona: str, key: str, home: Provider, world: World, login: Any
) -> None:
    inside = world.children["a1"]
    outside = world.children[key]
    response = login(persona).post(
        f"/providers/{home.id}/assign/", {"action": "assign", "children": [str(inside.id), str(outside.id)]}
    )
    assert response.status_code == 404 and outside.name not in response.content.decode()
    assert not _active(home)  # nothing written, not even the child in scope


@pytest.mark.parametrize(
    ("persona", "status"),
    [("county_officer", 403), ("provider_staff", 403), ("police", 403), ("no_role", 403), ("auditor", 403)],
)
def test_other_roles_may_not_assign(
    persona: str, status: int, home: Provider, world: World, login: Any
) -> None:
    client = login(persona)
    assert client.get(f"/providers/{home.id}/assign/").status_code == status
    data = {"action": "assign", "children": [str(world.children["a1"].id)]}
    assert client.post(f"/providers/{home.id}/assign/", data).status_code == status
    assert not _active(home)


def test_a_provider_out_of_reach_answers_404(world: World, login: Any) -> None:
    provider = place_provider(world, "b1")
    client = login("township_supervisor")
    assert client.get(f"/providers/{provider.id}/assign/").status_code == 404
    data = {"action": "assign", "children": [str(world.children["a1"].id)]}
    assert client.post(f"/providers/{provider.id}/assign/", data).status_code == 404
    assert not _active(provider)


def test_the_supervisor_assigns_to_the_contracted_station(world: World, login: Any) -> None:
    social = station(world)
    make_contract(world, social, [world.township_a])
    data = {"action": "assign", "children": [str(world.children["a2"].id)]}
    assert login("township_supervisor").post(f"/providers/{social.id}/assign/", data).status_code == 302
    assert _active(social) == {"李四"}


def test_ending_an_assignment_closes_the_file_to_the_staff(world: World, login: Any) -> None:
    provider = place_provider(world, "a1")
    assignment = UnitAssignment.objects.get(unit=provider.unit, child=world.children["a1"], active=True)
    a1 = world.children["a1"]
    assert login("provider_staff").get(f"/children/{a1.id}/").status_code == 200
    page = login("village_worker").get(f"/providers/{provider.id}/").content.decode()
    assert "结束服务" in page
    response = login("village_worker").post(f"/providers/assignments/{assignment.id}/end/")
    assert response.status_code == 302 and response["Location"] == f"/providers/{provider.id}/"
    assignment.refresh_from_db()
    assert not assignment.active and assignment.ended_at is not None
    assert assignment.history.latest().history_user == world.users["village_worker"]
    assert AuditEvent.objects.filter(detail__change="unit_assignment_end", object_id=str(a1.id)).exists()
    assert login("provider_staff").get(f"/children/{a1.id}/").status_code == 404


def test_a_referral_assignment_is_not_ended_here(world: World, login: Any) -> None:
    provider = place_provider(world, "a1")
    referral = UnitAssignment.objects.create(
        child=world.children["a2"], unit=provider.unit, source="referral", measure_id=uuid.uuid4()
    )
    page = login("county_admin").get(f"/providers/{provider.id}/").content.decode()
    assert "随转介结束" in page
    client = login("county_admin")
    response = client.post(f"/providers/assignments/{referral.id}/end/")
    assert response.status_code == 302
    assert "转介产生的服务对象随帮扶措施完成或撤销而结束" in client.get(response["Location"]).content.decode()
    referral.refresh_from_db()
    assert referral.active


@pytest.mark.parametrize(
    ("persona", "status"),
    [
        ("county_officer", 403),
        ("provider_staff", 403),
        ("police", 403),
        ("village_worker", 404),  # b1's child is not one he may change
    ],
)
def test_ending_is_refused_outside_the_users_part(
    persona: str, status: int, world: World, login: Any
) -> None:
    provider = place_provider(world, "a1")
    assignment = UnitAssignment.objects.create(
        child=world.children["b1"], unit=provider.unit, source="assigned"
    )
    assert login(persona).post(f"/providers/assignments/{assignment.id}/end/").status_code == status
    assignment.refresh_from_db()
    assert assignment.active
