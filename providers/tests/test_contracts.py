"""Contracts of purchased services (政府购买服务) through HTTP: the county admin creates and
edits them (purchaser = the admin's unit), validation at the field in Chinese, history and
audit, a stale edit refused with 409; who reads which contracts (county roles the county's, a
township supervisor those covering the township, a provider's staff their provider's), and
the denied cases."""

import datetime as dt
from decimal import Decimal
from typing import Any

import pytest
from django.utils import timezone

from audit.models import AuditEvent, EventType
from providers.models import Contract
from testing.world import World

from .helpers import contract_post, make_contract, place_provider, station, township_of

MISSING = "6f0d5c1e-9b7a-4c1e-8d2f-000000000404"


def test_the_county_admin_creates_a_contract(world: World, login: Any) -> None:
    social = station(world)
    response = login("county_admin").post(f"/providers/{social.id}/contracts/new/", contract_post(world))
    contract = Contract.objects.get()
    assert response.status_code == 302 and response["Location"] == f"/providers/contracts/{contract.id}/"
    assert contract.provider == social and contract.purchaser.name == "合浦县民政局"
    assert contract.county == world.county and contract.amount == Decimal("180000.00")
    assert set(contract.townships.all()) == {world.township_a, world.township_b}
    items = {item.kind: (item.planned_sessions, item.planned_children) for item in contract.items.all()}
    assert items == {"homework_club": (24, 40), "counselling": (12, 20), "family_education": (6, 0)}
    # The row of the save and the row of the townships (m2m history): both by the admin.
    assert {row.history_user for row in contract.history.all()} == {world.users["county_admin"]}
    assert all(
        item.history.get().history_user == world.users["county_admin"] for item in contract.items.all()
    )
    assert AuditEvent.objects.filter(action=EventType.CREATE, object_type="contract").count() == 1


def _errors_for(world: World, login: Any, **overrides: Any) -> str:
    social = station(world)
    response = login("county_admin").post(
        f"/providers/{social.id}/contracts/new/", contract_post(world, **overrides)
    )
    assert response.status_code == 200
    assert not Contract.objects.exists()
    return response.content.decode()


@pytest.mark.parametrize(
    ("overrides", "error"),
    [
        ({"ends_on": "2020-01-01", "starts_on": "2020-02-01"}, "服务结束日期不能早于开始日期。"),
        ({"townships": None}, "请至少选择一个覆盖乡镇。"),
        ({"amount": "-1"}, "合同金额不能为负数。"),
        ({"title": ""}, "请填写项目名称。"),
        ({"items": [("counselling", "4", "5"), ("counselling", "2", "2")]}, "服务项目“心理辅导”重复"),
        ({"items": [("counselling", "-3", "5")]}, "计划场次不能为负数。"),
        ({"items": [("counselling", "3", "-5")]}, "计划服务儿童数不能为负数。"),
        ({"items": [("", "", "")]}, "请至少填写一项服务项目。"),
        ({"items": [("", "3", "")]}, "请选择服务项目。"),
    ],
)
def test_it_refuses_bad_contracts_at_the_field(
    overrides: dict[str, Any], error: str, world: World, login: Any
) -> None:
    assert error in _errors_for(world, login, **overrides)


def test_it_refuses_a_township_of_another_county(world: World, login: Any) -> None:
    other = township_of(world, "other")
    body = _errors_for(world, login, townships=[str(other.pk)])
    assert "覆盖乡镇须是本县的乡镇" in body


def test_the_form_offers_the_countys_townships(world: World, login: Any) -> None:
    body = login("county_admin").get(f"/providers/{station(world).id}/contracts/new/").content.decode()
    assert "廉州镇" in body and "党江镇" in body and "中街街道" not in body


@pytest.mark.parametrize(
    "persona", ["county_officer", "township_supervisor", "village_worker", "provider_staff", "no_role"]
)
def test_only_the_county_admin_creates_contracts(persona: str, world: World, login: Any) -> None:
    provider = place_provider(world, "a1")
    client = login(persona)
    assert client.get(f"/providers/{provider.id}/contracts/new/").status_code == 403
    assert client.post(f"/providers/{provider.id}/contracts/new/", contract_post(world)).status_code == 403
    assert not Contract.objects.exists()


def test_no_contract_for_a_provider_of_another_county(world: World, login: Any) -> None:
    provider = place_provider(world, "other")
    response = login("county_admin").post(f"/providers/{provider.id}/contracts/new/", contract_post(world))
    assert response.status_code == 404 and not Contract.objects.exists()


def _edit_post(world: World, contract: Contract, **overrides: Any) -> dict[str, Any]:
    data = contract_post(world, **overrides)
    data["version"] = Contract.objects.get(pk=contract.pk).version
    return data


def test_an_edit_replaces_items_and_townships_with_history(world: World, login: Any) -> None:
    contract = make_contract(world, station(world), [world.township_a])
    page = login("county_admin").get(f"/providers/contracts/{contract.id}/edit/").content.decode()
    assert 'value="homework_club" selected' in page and 'value="20"' in page
    data = _edit_post(world, contract, items=[("counselling", "15", "25"), ("legal_education", "4", "60")])
    response = login("county_admin").post(f"/providers/contracts/{contract.id}/edit/", data)
    assert response.status_code == 302
    contract.refresh_from_db()
    assert contract.version == 2 and contract.title == "留守儿童关爱服务项目"
    assert set(contract.townships.all()) == {world.township_a, world.township_b}
    items = {item.kind: (item.planned_sessions, item.planned_children) for item in contract.items.all()}
    assert items == {"counselling": (15, 25), "legal_education": (4, 60)}
    latest = contract.history.latest()
    assert latest.history_user == world.users["county_admin"]
    assert "修改覆盖乡镇" in latest.history_change_reason and "删除课后辅导" in latest.history_change_reason
    removed = contract.items.model.history.filter(history_type="-").get()
    assert removed.kind == "homework_club" and removed.history_user == world.users["county_admin"]
    assert AuditEvent.objects.filter(action=EventType.UPDATE, object_type="contract").count() == 1


def test_an_edit_keeps_the_rows_left_as_they_were(world: World, login: Any) -> None:
    contract = make_contract(world, station(world), [world.township_a])
    data = _edit_post(world, contract, items=[("homework_club", "20", "30"), ("counselling", "10", "15")])
    assert login("county_admin").post(f"/providers/contracts/{contract.id}/edit/", data).status_code == 302
    items = {item.kind: (item.planned_sessions, item.planned_children) for item in contract.items.all()}
    assert items == {"homework_club": (20, 30), "counselling": (10, 15)}
    assert contract.items.model.history.filter(history_type="-").count() == 0


def test_a_stale_contract_edit_is_refused_with_what_changed(world: World, login: Any) -> None:
    contract = make_contract(world, station(world), [world.township_a])
    stale = _edit_post(world, contract, title="旧表单的名称")
    client = login("county_admin")
    fresh = _edit_post(world, contract, title="新的项目名称", townships=[str(world.township_a.pk)])
    assert client.post(f"/providers/contracts/{contract.id}/edit/", fresh).status_code == 302
    response = client.post(f"/providers/contracts/{contract.id}/edit/", stale)
    body = response.content.decode()
    assert response.status_code == 409
    assert "项目名称：关爱服务项目 → 新的项目名称" in body and "已被他人修改" in body
    assert 'name="version" value="2"' in body
    contract.refresh_from_db()
    assert contract.title == "新的项目名称" and contract.version == 2


@pytest.mark.parametrize(
    ("persona", "status"),
    [
        ("county_officer", 403),
        ("township_supervisor", 403),
        ("provider_staff", 403),
        ("village_worker", 403),
        ("no_role", 403),
    ],
)
def test_only_the_county_admin_edits_contracts(persona: str, status: int, world: World, login: Any) -> None:
    contract = make_contract(world, place_provider(world, "a1"), [world.township_a])
    client = login(persona)
    assert client.get(f"/providers/contracts/{contract.id}/edit/").status_code == status
    data = _edit_post(world, contract, title="越权修改")
    assert client.post(f"/providers/contracts/{contract.id}/edit/", data).status_code == status
    contract.refresh_from_db()
    assert contract.title == "关爱服务项目"


@pytest.fixture
def contracts(world: World) -> dict[str, Contract]:
    """One contract per place: the provider of the place, covering the place's township."""
    return {
        key: make_contract(world, place_provider(world, key), [township_of(world, key)], title=f"{key}项目")
        for key in ("a1", "a2", "b1", "other")
    }


@pytest.mark.parametrize(
    ("persona", "readable"),
    [
        ("county_admin", {"a1", "a2", "b1"}),
        ("county_officer", {"a1", "a2", "b1"}),
        ("township_supervisor", {"a1", "a2"}),
        ("provider_staff", {"a1"}),
    ],
)
def test_who_reads_which_contract(
    persona: str, readable: set[str], contracts: dict[str, Contract], login: Any
) -> None:
    client = login(persona)
    listed = client.get("/providers/contracts/").content.decode()
    for key, contract in contracts.items():
        response = client.get(f"/providers/contracts/{contract.id}/")
        assert response.status_code == (200 if key in readable else 404), (persona, key)
        assert (f"{key}项目" in listed) == (key in readable), (persona, key)
    missing = client.get(f"/providers/contracts/{MISSING}/")
    out = next((c for k, c in contracts.items() if k not in readable), None)
    assert out is not None
    assert len(client.get(f"/providers/contracts/{out.id}/").content) == len(missing.content)


def test_the_supervisor_reads_a_county_contract_covering_the_township(world: World, login: Any) -> None:
    contract = make_contract(world, station(world), [world.township_b, world.township_a])
    assert login("township_supervisor").get(f"/providers/contracts/{contract.id}/").status_code == 200


@pytest.mark.parametrize("persona", ["village_worker", "school_staff", "police", "auditor", "no_role"])
def test_contracts_are_refused_to_other_roles(
    persona: str, contracts: dict[str, Contract], login: Any
) -> None:
    client = login(persona)
    assert client.get("/providers/contracts/").status_code == 403
    assert client.get(f"/providers/contracts/{contracts['a1'].id}/").status_code == 403


def test_the_contract_page_shows_the_plan_and_the_period(contracts: dict[str, Contract], login: Any) -> None:
    contract = contracts["a1"]
    body = login("county_admin").get(f"/providers/contracts/{contract.id}/").content.decode()
    today = timezone.localdate()
    assert "课后辅导" in body and "0 / 20" in body and "0 / 30" in body and "心理辅导" in body
    assert (
        f"{today.year}-01-01 至 {today.year}-12-31" in body and '<span class="tag ok">执行中</span>' in body
    )
    assert "合浦县民政局" in body and "120000.00" in body
    assert AuditEvent.objects.filter(action=EventType.VIEW, object_type="contract").count() == 1


def test_the_provider_page_lists_the_contracts_the_user_may_read(
    contracts: dict[str, Contract], world: World, login: Any
) -> None:
    provider = contracts["a1"].provider
    assert "a1项目" in login("provider_staff").get(f"/providers/{provider.id}/").content.decode()
    page = login("village_worker").get(f"/providers/{provider.id}/").content.decode()
    assert "a1项目" not in page and "没有您可以查看的合同" in page
    assert "登记合同" in login("county_admin").get(f"/providers/{provider.id}/").content.decode()


def test_an_expired_contract_is_not_marked_current(world: World, login: Any) -> None:
    past = timezone.localdate() - dt.timedelta(days=400)
    contract = make_contract(
        world, station(world), starts_on=past, ends_on=past + dt.timedelta(days=30), title="往年项目"
    )
    body = login("county_admin").get(f"/providers/contracts/{contract.id}/").content.decode()
    assert "往年项目" in body and "执行中" not in body
