"""Helpers of the providers tests (and of providers/tests/matrix_routes.py): providers and
contracts made directly with the ORM, and form data.

One provider per place of the World, named by the child key of that place:
- a1: the World's 甲一村儿童之家 (village a1, 廉州镇); the provider_staff persona works there and
  child a1 is assigned to it;
- a2: 廉州镇志愿服务队, at the township (廉州镇) itself;
- b1: 乙一村妇女之家 (village b1, 党江镇);
- other: 外县儿童之家 in another county.
"""

import datetime as dt
from decimal import Decimal
from typing import Any

from django.utils import timezone

from geo.models import Region, Unit, UnitKind
from providers.models import Contract, ContractItem, Provider
from testing.world import World

PHONE = "13812345678"


def provider_for(unit: Unit, **values: Any) -> Provider:
    defaults: dict[str, Any] = {
        "services": ["homework_club", "counselling"],
        "contact_name": "王老师",
        "contact_phone": PHONE,
        "address": "村委会二楼",
    }
    defaults.update(values)
    provider, _ = Provider.objects.get_or_create(unit=unit, defaults=defaults)
    return provider


def _unit(name: str, kind: str, region: Region) -> Unit:
    unit, _ = Unit.objects.get_or_create(name=name, region=region, defaults={"kind": kind})
    return unit


def place_unit(world: World, key: str) -> Unit:
    if key == "a1":
        return world.provider
    if key == "a2":
        return _unit("廉州镇志愿服务队", UnitKind.VOLUNTEER_TEAM, world.township_a)
    if key == "b1":
        return _unit("乙一村妇女之家", UnitKind.WOMENS_HOME, world.village_b1)
    return _unit("外县儿童之家", UnitKind.CHILDRENS_HOME, world.village_other)


def place_provider(world: World, key: str) -> Provider:
    return provider_for(place_unit(world, key))


def station(world: World) -> Provider:
    """The county's social-work station (合浦县社工站) as a provider."""
    return provider_for(Unit.objects.get(name="合浦县社工站"), services=["counselling", "family_education"])


def township_of(world: World, key: str) -> Region:
    if key in ("a1", "a2"):
        return world.township_a
    if key == "b1":
        return world.township_b
    parent = world.village_other.parent
    assert parent is not None
    return parent


def civil_affairs() -> Unit:
    return Unit.objects.get(name="合浦县民政局")


def make_contract(
    world: World,
    provider: Provider,
    townships: list[Region] | None = None,
    *,
    items: tuple[tuple[str, int, int], ...] = (("homework_club", 20, 30), ("counselling", 10, 15)),
    starts_on: dt.date | None = None,
    ends_on: dt.date | None = None,
    title: str = "关爱服务项目",
) -> Contract:
    today = timezone.localdate()
    county = provider.unit.region
    while county.level != "county" and county.parent is not None:
        county = county.parent
    contract = Contract.objects.create(
        provider=provider,
        purchaser=civil_affairs(),
        county=county,
        title=title,
        number="HP-2026-001",
        starts_on=starts_on or today.replace(month=1, day=1),
        ends_on=ends_on or today.replace(month=12, day=31),
        amount=Decimal("120000.00"),
        created_by=world.users["county_admin"],
    )
    contract.townships.set(townships or [world.township_a])
    for kind, sessions, children in items:
        ContractItem.objects.create(
            contract=contract, kind=kind, planned_sessions=sessions, planned_children=children
        )
    return contract


def provider_post(world: World, **overrides: Any) -> dict[str, Any]:
    data: dict[str, Any] = {
        "name": "甲二村儿童之家",
        "kind": "childrens_home",
        "region": str(world.village_a2.pk),
        "services": ["homework_club", "holiday_care"],
        "contact_name": "李主任",
        "contact_phone": "0779-7201234",
        "address": "甲二村文化室",
        "description": "周末和假期开放",
    }
    data.update(overrides)
    return {key: value for key, value in data.items() if value is not None}


def edit_post(provider: Provider, **overrides: Any) -> dict[str, Any]:
    provider.refresh_from_db()
    data: dict[str, Any] = {
        "version": provider.version,
        "name": provider.unit.name,
        "kind": provider.unit.kind,
        "region": str(provider.unit.region_id),
        "services": provider.services,
        "contact_name": provider.contact_name,
        "contact_phone": "",
        "address": provider.address,
        "description": provider.description,
        "active": "on" if provider.active else None,
    }
    data.update(overrides)
    return {key: value for key, value in data.items() if value is not None}


def contract_post(world: World, **overrides: Any) -> dict[str, Any]:
    year = timezone.localdate().year
    rows = overrides.pop(
        "items", [("homework_club", "24", "40"), ("counselling", "12", "20"), ("family_education", "6", "")]
    )
    data: dict[str, Any] = {
        "title": "留守儿童关爱服务项目",
        "number": f"HPMZ-{year}-07",
        "starts_on": f"{year}-01-01",
        "ends_on": f"{year}-12-31",
        "amount": "180000.00",
        "townships": [str(world.township_a.pk), str(world.township_b.pk)],
        "note": "",
    }
    data.update(overrides)
    data["items-TOTAL_FORMS"] = str(len(rows))
    data["items-INITIAL_FORMS"] = "0"
    for index, (kind, sessions, children) in enumerate(rows):
        data[f"items-{index}-kind"] = kind
        data[f"items-{index}-planned_sessions"] = sessions
        data[f"items-{index}-planned_children"] = children
    return {key: value for key, value in data.items() if value is not None}
