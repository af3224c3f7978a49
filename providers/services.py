"""Writes of the providers register (R16): providers, contracts of purchased services and the
children assigned to a provider. Each runs in one transaction, leaves history rows with the
actor as history user and one audit row per object written, and refuses bad data with a
Chinese ValidationError at the field, writing nothing.

Permission checks are the caller's (providers/access.py), except the kind and place of a
provider, which the service checks again against the user's grants (a form may be forged).
"""

import datetime as dt
import re
from collections.abc import Sequence
from dataclasses import dataclass, replace
from decimal import Decimal
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction

from accounts.models import User
from audit.models import EventType
from audit.services import audit_event
from geo.models import Region, Unit, UnitKind
from providers import access
from providers.choices import PROVIDER_UNIT_KINDS, ServiceKind
from providers.models import Contract, ContractItem, Provider
from registry.models import Child, UnitAssignment
from registry.services import unit_assignment_end, unit_assignment_open

# A mainland mobile (11 digits) or a landline with its area code (0779-1234567, 07791234567).
PHONE = re.compile(r"^(1\d{10}|0\d{2,3}-?\d{7,8})$")
REASON_LENGTH = 100  # simple_history's history_change_reason


class StaleError(Exception):
    """The row changed since the editor loaded it; nothing was written."""

    def __init__(self, current: Provider | Contract, expected_version: int) -> None:
        super().__init__("该记录已被他人修改")
        self.current = current
        self.expected_version = expected_version


@dataclass(frozen=True)
class ProviderData:
    name: str
    kind: str
    region: Region
    services: Sequence[str] = ()
    contact_name: str = ""
    # None keeps the stored number (edit forms never send it back); "" clears it.
    contact_phone: str | None = ""
    address: str = ""
    description: str = ""
    active: bool = True


@dataclass(frozen=True)
class ItemData:
    kind: str
    planned_sessions: int = 0
    planned_children: int = 0


@dataclass(frozen=True)
class ContractData:
    title: str
    starts_on: dt.date
    ends_on: dt.date
    amount: Decimal
    townships: Sequence[Region] = ()
    items: Sequence[ItemData] = ()
    number: str = ""
    note: str = ""


def _clean_text(value: str) -> str:
    return " ".join(value.split())


def normalise_phone(value: str) -> str:
    """Digits and one dash; full-width digits and spaces are accepted from the keyboard."""
    value = value.translate({0xFF10 + i: ord("0") + i for i in range(10)})
    return re.sub(r"[\s()（）]", "", value).replace("—", "-").replace("－", "-")


# --- providers ---------------------------------------------------------------------------------


def _check_provider(user: User, data: ProviderData, *, unit: Unit | None = None) -> None:
    errors: dict[str, str] = {}
    name = _clean_text(data.name)
    if not name:
        errors["name"] = "请填写机构名称。"
    if data.kind not in PROVIDER_UNIT_KINDS:
        errors["kind"] = "请选择服务机构的类型。"
    elif not access.may_register(user, data.kind, data.region):
        errors["region"] = (
            "您不能在该区划登记这类服务机构（儿童督导员登记本乡镇的儿童之家、妇女之家和志愿服务队）。"
        )
    clash = Unit.objects.filter(region=data.region, name=name)
    if unit is not None:
        clash = clash.exclude(pk=unit.pk)
    if name and clash.exists():
        errors["name"] = "该区划已有同名单位，请核对是否重复登记。"
    unknown = set(data.services) - set(ServiceKind.values)
    if unknown:
        errors["services"] = "请从列表中选择提供的服务。"
    if data.contact_phone and not PHONE.match(normalise_phone(data.contact_phone)):
        errors["contact_phone"] = "请填写 11 位手机号码，或带区号的固定电话（如 0779-7201234）。"
    if errors:
        raise ValidationError(errors)


def _audit(user: User | None, object_type: str, obj: Any, action: str, **detail: Any) -> None:
    audit_event(user=user, action=action, object_type=object_type, object_id=obj.id, detail=detail)


def _services(values: Sequence[str]) -> list[str]:
    """Unique, in the vocabulary's order (so that a diff shows real changes only)."""
    chosen = set(values)
    return [value for value in ServiceKind.values if value in chosen]


@transaction.atomic
def provider_register(*, user: User, data: ProviderData, unit: Unit | None = None) -> Provider:
    """Register a provider: its unit (geo.Unit, so that its staff can be given grants) and
    the register entry, in one transaction. With `unit`, an existing unit (one whose staff
    already have accounts) enters the register: its name, kind and place are the unit's."""
    if unit is None:
        _check_provider(user, data)
        unit = Unit(name=_clean_text(data.name), kind=data.kind, region=data.region, active=data.active)
        unit.full_clean()
        unit.save()
    else:
        if Provider.objects.filter(unit=unit).exists():
            raise ValidationError({"name": "该单位已在服务机构名录中。"})
        data = replace(data, name=unit.name, kind=unit.kind, region=unit.region)
        _check_provider(user, data, unit=unit)
    provider = Provider(
        unit=unit,
        services=_services(data.services),
        contact_name=_clean_text(data.contact_name),
        contact_phone=normalise_phone(data.contact_phone or ""),
        address=_clean_text(data.address),
        description=data.description.strip(),
        active=data.active,
        created_by=user,
    )
    provider._history_user = user  # type: ignore[attr-defined]
    provider.full_clean()
    provider.save()
    _audit(user, "provider", provider, EventType.CREATE, change="provider_register", kind=data.kind)
    return provider


_UNIT_LABELS = {"name": "名称", "kind": "类型", "region": "所在区划", "active": "有效"}


def _unit_changes(unit: Unit, data: ProviderData, name: str) -> list[str]:
    """The unit's facts that change, in words: the unit keeps no history of its own, so the
    provider's history row carries them (history_change_reason)."""
    changes = []
    if unit.name != name:
        changes.append(f"名称：{unit.name} → {name}")
    if unit.kind != data.kind:
        changes.append(f"类型：{UnitKind(unit.kind).label} → {UnitKind(data.kind).label}")
    if unit.region_id != data.region.pk:
        changes.append(f"所在区划：{unit.region.name} → {data.region.name}")
    return changes


@transaction.atomic
def provider_update(*, user: User, provider: Provider, expected_version: int, data: ProviderData) -> Provider:
    """Edit a provider and its unit. Refused (StaleError) when the provider changed since the
    editor loaded `expected_version`. A provider marked inactive deactivates its unit too:
    its staff's grants stop working (registry.access.active_grants)."""
    locked = Provider.objects.select_for_update().select_related("unit__region").get(pk=provider.pk)
    if locked.version != expected_version:
        raise StaleError(locked, expected_version)
    unit = locked.unit
    _check_provider(user, data, unit=unit)
    name = _clean_text(data.name)
    changes = _unit_changes(unit, data, name)
    unit.name, unit.kind, unit.region, unit.active = name, data.kind, data.region, data.active
    unit.full_clean()
    unit.save(update_fields=["name", "kind", "region", "active"])
    locked.services = _services(data.services)
    locked.contact_name = _clean_text(data.contact_name)
    if data.contact_phone is not None:
        locked.contact_phone = normalise_phone(data.contact_phone)
    locked.address = _clean_text(data.address)
    locked.description = data.description.strip()
    locked.active = data.active
    locked.version += 1
    locked._history_user = user  # type: ignore[attr-defined]
    locked._change_reason = "；".join(changes)[:REASON_LENGTH]  # type: ignore[attr-defined]
    locked.full_clean(exclude=["created_by"])  # rows made before the register may lack it
    fields = ["services", "contact_name", "contact_phone", "address", "description", "active", "version"]
    locked.save(update_fields=fields)
    _audit(user, "provider", locked, EventType.UPDATE, change="provider_update", unit=changes)
    return locked


# --- contracts ---------------------------------------------------------------------------------


def _check_contract(county: Region, data: ContractData) -> None:
    errors: dict[str, str] = {}
    if not _clean_text(data.title):
        errors["title"] = "请填写项目名称。"
    if data.ends_on < data.starts_on:
        errors["ends_on"] = "服务结束日期不能早于开始日期。"
    if data.amount < 0:
        errors["amount"] = "合同金额不能为负数。"
    allowed = set(access.county_townships(county).values_list("pk", flat=True))
    if not data.townships:
        errors["townships"] = "请至少选择一个覆盖乡镇。"
    elif any(township.pk not in allowed for township in data.townships):
        errors["townships"] = "覆盖乡镇须是本县的乡镇。"
    kinds = [item.kind for item in data.items]
    if not kinds:
        errors["items"] = "请至少填写一项服务项目。"
    elif len(set(kinds)) != len(kinds):
        errors["items"] = "同一服务项目只能填写一行。"
    elif set(kinds) - set(ServiceKind.values):
        errors["items"] = "请从列表中选择服务项目。"
    elif any(item.planned_sessions < 0 or item.planned_children < 0 for item in data.items):
        errors["items"] = "计划场次和计划服务儿童数不能为负数。"
    if errors:
        raise ValidationError(errors)


def _items_set(contract: Contract, items: Sequence[ItemData], user: User) -> list[str]:
    """Make the contract's items `items` (one per kind); returns the changes in words. Each
    row added, changed or removed leaves its own history row."""
    current = {row.kind: row for row in ContractItem.objects.filter(contract=contract)}
    wanted = {item.kind: item for item in items}
    changes: list[str] = []
    for kind, row in current.items():
        if kind not in wanted:
            row._history_user = user  # type: ignore[attr-defined]
            row.delete()
            changes.append(f"删除{ServiceKind(kind).label}")
    for kind, item in wanted.items():
        row = current.get(kind) or ContractItem(contract=contract, kind=kind)
        plan = (item.planned_sessions, item.planned_children)
        if kind in current and (row.planned_sessions, row.planned_children) == plan:
            continue
        changes.append(f"{'修改' if kind in current else '增加'}{ServiceKind(kind).label}")
        row.planned_sessions, row.planned_children = plan
        row._history_user = user  # type: ignore[attr-defined]
        row.full_clean()
        row.save()
    return changes


@transaction.atomic
def contract_create(*, user: User, provider: Provider, purchaser: Unit, data: ContractData) -> Contract:
    """A contract of purchased services (政府购买服务) for a provider of the purchaser's
    county, with its townships and items."""
    county = access.provider_county(provider)
    _check_contract(county, data)
    contract = Contract(
        provider=provider,
        purchaser=purchaser,
        county=county,
        title=_clean_text(data.title),
        number=_clean_text(data.number),
        starts_on=data.starts_on,
        ends_on=data.ends_on,
        amount=data.amount,
        note=data.note.strip(),
        created_by=user,
    )
    contract._history_user = user  # type: ignore[attr-defined]
    contract.full_clean()
    contract.save()
    contract.townships.set(list(data.townships))
    _items_set(contract, data.items, user)
    _audit(user, "contract", contract, EventType.CREATE, change="contract_create", provider=str(provider.id))
    return contract


@transaction.atomic
def contract_update(*, user: User, contract: Contract, expected_version: int, data: ContractData) -> Contract:
    """Edit a contract, its townships and items; refused (StaleError) when it changed since
    the editor loaded `expected_version`."""
    locked = Contract.objects.select_for_update().select_related("county").get(pk=contract.pk)
    if locked.version != expected_version:
        raise StaleError(locked, expected_version)
    _check_contract(locked.county, data)
    locked.title = _clean_text(data.title)
    locked.number = _clean_text(data.number)
    locked.starts_on, locked.ends_on = data.starts_on, data.ends_on
    locked.amount = data.amount
    locked.note = data.note.strip()
    locked.version += 1
    changes = _items_set(locked, data.items, user)
    townships = {township.pk for township in data.townships}
    moved = townships != set(locked.townships.values_list("pk", flat=True))
    if moved:
        changes.insert(0, "修改覆盖乡镇")
    locked._history_user = user  # type: ignore[attr-defined]
    locked._change_reason = "；".join(changes)[:REASON_LENGTH]  # type: ignore[attr-defined]
    locked.full_clean(exclude=["created_by"])
    fields = ["title", "number", "starts_on", "ends_on", "amount", "note", "version"]
    locked.save(update_fields=fields)
    if moved:  # after the save: its m2m history row then follows the save's row
        locked.townships.set(list(data.townships))
    _audit(user, "contract", locked, EventType.UPDATE, change="contract_update", items=changes)
    return locked


# --- children assigned to a provider -----------------------------------------------------------


@transaction.atomic
def provider_children_assign(
    *, user: User, provider: Provider, children: Sequence[Child], note: str = ""
) -> list[UnitAssignment]:
    """Assign children to the provider's service (指派服务对象): its staff see their files
    from then on. A child already assigned keeps the assignment it has (idempotent). The
    caller passes children from registry.access.children_editable_by only."""
    made: list[UnitAssignment] = []
    for child in children:
        before = UnitAssignment.objects.filter(
            child=child, unit=provider.unit, source=UnitAssignment.Source.ASSIGNED, active=True
        ).exists()
        assignment = unit_assignment_open(
            child=child,
            unit=provider.unit,
            source=UnitAssignment.Source.ASSIGNED,
            by=user,
            note=_clean_text(note),
        )
        if not before:
            made.append(assignment)
            _audit(
                user,
                "child",
                child,
                EventType.UPDATE,
                change="unit_assignment_open",
                assignment=str(assignment.id),
                provider=str(provider.id),
            )
    return made


@transaction.atomic
def provider_assignment_end(*, user: User, assignment: UnitAssignment) -> UnitAssignment:
    """End an assignment made on the register (a referral's ends with its measure)."""
    if assignment.source != UnitAssignment.Source.ASSIGNED:
        raise ValidationError("转介产生的服务对象随帮扶措施完成或撤销而结束，不能在此结束。")
    if not assignment.active:
        raise ValidationError("该指派已经结束。")
    locked = UnitAssignment.objects.select_for_update().get(pk=assignment.pk)
    ended = unit_assignment_end(assignment=locked, by=user)
    _audit(
        user,
        "child",
        assignment.child,
        EventType.UPDATE,
        change="unit_assignment_end",
        assignment=str(assignment.id),
    )
    return ended
