"""Registering and editing providers through HTTP: one service makes the unit and the
register entry; the county admin registers any kind in the county, a township supervisor the
township's homes and volunteer teams; validation at the field in Chinese; history with the
user and audit rows; a stale edit is refused with 409 and what changed; the phone is never
sent back to the browser."""

from typing import Any

import pytest

from audit.models import AuditEvent, EventType
from geo.models import Unit, UnitKind
from providers.models import Provider
from registry.access import active_grants
from testing.world import World

from .helpers import PHONE, edit_post, place_provider, provider_post


def _created() -> Provider:
    return Provider.objects.select_related("unit__region").get(unit__name="甲二村儿童之家")


def test_the_county_admin_registers_a_provider(world: World, login: Any) -> None:
    response = login("county_admin").post("/providers/new/", provider_post(world))
    provider = _created()
    assert response.status_code == 302 and response["Location"] == f"/providers/{provider.id}/"
    assert provider.unit.kind == UnitKind.CHILDRENS_HOME and provider.unit.region == world.village_a2
    assert provider.services == ["holiday_care", "homework_club"]  # vocabulary order
    assert provider.contact_phone == "0779-7201234" and provider.version == 1
    assert provider.created_by == world.users["county_admin"]
    record = provider.history.get()
    assert record.history_type == "+" and record.history_user == world.users["county_admin"]
    event = AuditEvent.objects.get(action=EventType.CREATE, object_type="provider")
    assert event.object_id == str(provider.id) and event.user == world.users["county_admin"]


def test_the_supervisor_registers_a_home_in_the_township(world: World, login: Any) -> None:
    response = login("township_supervisor").post("/providers/new/", provider_post(world))
    assert response.status_code == 302
    assert _created().unit.region == world.village_a2


@pytest.mark.parametrize(
    ("overrides", "field_error"),
    [
        ({"kind": "social_work"}, "请从列表中选择服务机构的类型"),  # not offered to a supervisor
        ({"region": "b1"}, "请从列表中选择所在区划"),  # another township
    ],
)
def test_the_supervisor_registers_nothing_else(
    overrides: dict[str, str], field_error: str, world: World, login: Any
) -> None:
    if overrides.get("region") == "b1":
        overrides = {"region": str(world.village_b1.pk)}
    response = login("township_supervisor").post("/providers/new/", provider_post(world, **overrides))
    assert response.status_code == 200 and field_error in response.content.decode()
    assert not Provider.objects.filter(unit__name="甲二村儿童之家").exists()


def test_the_form_offers_only_the_users_kinds_and_places(world: World, login: Any) -> None:
    body = login("township_supervisor").get("/providers/new/").content.decode()
    assert "妇女之家" in body and "志愿服务队" in body and "社会工作服务机构" not in body
    assert world.village_a2.name in body and world.village_b1.name not in body
    admin = login("county_admin").get("/providers/new/").content.decode()
    assert "社会工作服务机构" in admin and world.village_b1.name in admin and "外县社区" not in admin


@pytest.mark.parametrize(
    ("overrides", "error"),
    [
        ({"name": ""}, "请填写机构名称。"),
        ({"name": "甲一村儿童之家", "region": "a1"}, "该区划已有同名单位"),
        ({"kind": ""}, "请选择服务机构的类型。"),
        ({"region": ""}, "请选择所在区划。"),
        ({"contact_phone": "12345"}, "请填写 11 位手机号码"),
        ({"services": ["flying"]}, "请从列表中选择提供的服务"),
    ],
)
def test_it_refuses_bad_data_at_the_field(
    overrides: dict[str, Any], error: str, world: World, login: Any
) -> None:
    if overrides.get("region") == "a1":
        overrides["region"] = str(world.village_a1.pk)
    response = login("county_admin").post("/providers/new/", provider_post(world, **overrides))
    body = response.content.decode()
    assert response.status_code == 200 and error in body
    assert 'class="field has-error' in body or "choices has-error" in body
    assert not Provider.objects.exists()


@pytest.mark.parametrize(
    "persona", ["county_officer", "village_worker", "provider_staff", "police", "auditor", "no_role"]
)
def test_other_roles_may_not_register(persona: str, world: World, login: Any) -> None:
    client = login(persona)
    assert client.get("/providers/new/").status_code == 403
    assert client.post("/providers/new/", provider_post(world)).status_code == 403
    assert not Provider.objects.exists()


def test_an_edit_saves_with_history_and_keeps_the_phone(world: World, login: Any) -> None:
    provider = place_provider(world, "a1")
    client = login("township_supervisor")
    form = client.get(f"/providers/{provider.id}/edit/").content.decode()
    assert PHONE not in form and "138****5678" in form
    data = edit_post(provider, name="甲一村儿童之家（新址）", services=["holiday_care"], address="新文化楼")
    response = client.post(f"/providers/{provider.id}/edit/", data)
    assert response.status_code == 302
    provider.refresh_from_db()
    provider.unit.refresh_from_db()
    assert provider.unit.name == "甲一村儿童之家（新址）" and provider.address == "新文化楼"
    assert provider.services == ["holiday_care"] and provider.contact_phone == PHONE and provider.version == 2
    latest = provider.history.latest()
    assert latest.history_user == world.users["township_supervisor"]
    assert "名称：甲一村儿童之家 → 甲一村儿童之家（新址）" in latest.history_change_reason
    assert AuditEvent.objects.filter(action=EventType.UPDATE, object_type="provider").count() == 1


def test_an_edit_may_clear_or_replace_the_phone(world: World, login: Any) -> None:
    provider = place_provider(world, "a1")
    client = login("county_admin")
    client.post(f"/providers/{provider.id}/edit/", edit_post(provider, contact_phone="13900001111"))
    provider.refresh_from_db()
    assert provider.contact_phone == "13900001111"
    client.post(f"/providers/{provider.id}/edit/", edit_post(provider, clear_phone="on"))
    provider.refresh_from_db()
    assert provider.contact_phone == ""


def test_a_stale_edit_is_refused_and_shows_what_changed(world: World, login: Any) -> None:
    provider = place_provider(world, "a1")
    stale = edit_post(provider, address="旧表单的地址")
    admin = login("county_admin")
    assert (
        admin.post(f"/providers/{provider.id}/edit/", edit_post(provider, address="县里改的地址")).status_code
        == 302
    )
    response = login("township_supervisor").post(f"/providers/{provider.id}/edit/", stale)
    body = response.content.decode()
    assert response.status_code == 409
    assert "已被他人修改" in body and "地址：村委会二楼 → 县里改的地址" in body and "county_admin" in body
    assert 'name="version" value="2"' in body  # resend on the current version
    provider.refresh_from_db()
    assert provider.address == "县里改的地址" and provider.version == 2


def test_stopping_a_provider_stops_its_staff(world: World, login: Any) -> None:
    provider = place_provider(world, "a1")
    response = login("county_admin").post(f"/providers/{provider.id}/edit/", edit_post(provider, active=None))
    assert response.status_code == 302
    provider.refresh_from_db()
    assert not provider.active and not Unit.objects.get(pk=provider.unit_id).active
    staff = world.users["provider_staff"]
    staff.refresh_from_db()
    assert active_grants(staff) == []


@pytest.mark.parametrize(
    ("persona", "key", "status"),
    [
        ("county_officer", "a1", 403),
        ("village_worker", "a1", 403),
        ("provider_staff", "a1", 403),
        ("township_supervisor", "b1", 404),
        ("county_admin", "other", 404),
        ("police", "a1", 403),
    ],
)
def test_edits_are_refused_outside_the_users_part(
    persona: str, key: str, status: int, world: World, login: Any
) -> None:
    provider = place_provider(world, key)
    client = login(persona)
    assert client.get(f"/providers/{provider.id}/edit/").status_code == status
    response = client.post(f"/providers/{provider.id}/edit/", edit_post(provider, address="越权修改"))
    assert response.status_code == status
    provider.refresh_from_db()
    assert provider.address != "越权修改" and provider.version == 1


def test_the_supervisor_may_not_edit_the_county_station(world: World, login: Any) -> None:
    from .helpers import make_contract, station

    social = station(world)
    make_contract(world, social, [world.township_a])  # so the supervisor reads it
    client = login("township_supervisor")
    assert client.get(f"/providers/{social.id}/").status_code == 200
    assert client.get(f"/providers/{social.id}/edit/").status_code == 403
