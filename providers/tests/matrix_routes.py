"""Permission-matrix rows of the providers app, read by core/tests/test_permission_matrix.py.

The policy of providers/access.py, written out per persona (not imported, so that a change
there shows up here as a failing case). Routes on a provider, a contract or an assignment are
tested per place, named by the World's child keys (providers/tests/helpers.py): a1 → 甲一村
儿童之家 (village a1; provider_staff works there), a2 → 廉州镇志愿服务队 (at the township),
b1 → 乙一村妇女之家 (党江镇), other → a children's home of another county. A contract of a place
is its provider's, covering the place's township; an assignment of a place is child a1's at
its provider. Out of scope answers 404 like a missing id; roles with no part in a page 403.
"""

import uuid
from collections.abc import Hashable
from types import ModuleType
from typing import Any

from audit.models import AuditEvent, EventType
from providers.models import Contract, Provider
from registry.models import UnitAssignment
from testing.world import World

from .helpers import (
    PHONE,
    contract_post,
    edit_post,
    make_contract,
    place_provider,
    provider_post,
    township_of,
)

READERS = {
    "county_admin": {"a1", "a2", "b1"},
    "county_officer": {"a1", "a2", "b1"},
    "township_supervisor": {"a1", "a2"},
    "village_worker": {"a1"},
    "provider_staff": {"a1"},
}
LISTERS = frozenset({"county_admin", "county_officer", "township_supervisor", "village_worker"})
REGISTRARS = frozenset({"county_admin", "township_supervisor"})
# The World's places are all of kinds a township supervisor registers (homes, a volunteer team).
EDITORS = {"county_admin": {"a1", "a2", "b1"}, "township_supervisor": {"a1", "a2"}}
REVEALERS = frozenset({"county_admin", "township_supervisor", "village_worker"})
ASSIGNERS = {
    "county_admin": {"a1", "a2", "b1"},
    "township_supervisor": {"a1", "a2"},
    "village_worker": {"a1"},
}
CONTRACT_READERS = {
    "county_admin": {"a1", "a2", "b1"},
    "county_officer": {"a1", "a2", "b1"},
    "township_supervisor": {"a1", "a2"},
    "provider_staff": {"a1"},
}
MANAGERS = frozenset({"county_admin"})
STAFF = frozenset({"provider_staff"})


def _gate(roles: frozenset[str]) -> Any:
    def policy(persona: str, obj: str | None) -> str | int:
        return "ok" if persona in roles else 403

    return policy


def _then(readers: dict[str, set[str]], allowed: frozenset[str] | dict[str, set[str]]) -> Any:
    """The role gate (403), then the scope (404), then the action's own permission (403)."""

    def policy(persona: str, obj: str | None) -> str | int:
        if persona not in readers:
            return 403
        if obj not in readers[persona]:
            return 404
        if isinstance(allowed, dict):
            return "ok" if obj in allowed.get(persona, set()) else 403
        return "ok" if persona in allowed else 403

    return policy


read = _then(READERS, frozenset(READERS))
edit = _then(READERS, EDITORS)
reveal = _then(READERS, REVEALERS)
assign = _then(READERS, ASSIGNERS)
contract_read = _then(CONTRACT_READERS, frozenset(CONTRACT_READERS))
contract_edit = _then(CONTRACT_READERS, MANAGERS)


def contract_new(persona: str, obj: str | None) -> str | int:
    """The role gate first (403 for anyone but the county admin), then the provider (404)."""
    if persona not in MANAGERS:
        return 403
    return "ok" if obj in READERS[persona] else 404


def assignment_end(persona: str, obj: str | None) -> str | int:
    """Assigning roles only (403); the provider within reach and child a1 one the user may
    change, else 404 (a1 is in every assigning persona's area)."""
    if persona not in ASSIGNERS:
        return 403
    return "ok" if obj in ASSIGNERS[persona] else 404


def _provider(world: World, key: str) -> uuid.UUID:
    return place_provider(world, key).pk


def _contract(world: World, key: str) -> uuid.UUID:
    provider = place_provider(world, key)
    found = Contract.objects.filter(provider=provider).first()
    return (found or make_contract(world, provider, [township_of(world, key)], title="矩阵合同")).pk


def _assignment(world: World, key: str) -> uuid.UUID:
    provider = place_provider(world, key)
    found, _ = UnitAssignment.objects.get_or_create(
        child=world.children["a1"], unit=provider.unit, source="assigned", active=True
    )
    return found.pk


def routes(m: ModuleType) -> dict[str, Any]:
    def provider(ctx: Any) -> Provider:
        return place_provider(ctx.world, ctx.obj)

    def name(ctx: Any) -> str:
        return provider(ctx).unit.name

    def served(ctx: Any) -> str:
        return ctx.world.children["a1"].name

    def provider_count(ctx: Any) -> Hashable:
        return Provider.objects.count()

    def provider_state(ctx: Any) -> Hashable:
        found = Provider.objects.get(pk=provider(ctx).pk)
        return (found.version, found.address)

    def edit_data(ctx: Any) -> dict[str, Any]:
        # The matrix sends each value as one string (no lists): one service, one township.
        return edit_post(provider(ctx), address="矩阵测试地址", services="homework_club")

    def create_data(ctx: Any) -> dict[str, Any]:
        return provider_post(ctx.world, name="矩阵新儿童之家", services="homework_club")

    def reveal_data(ctx: Any) -> dict[str, Any]:
        return {"reason": "矩阵测试：联系机构"}

    def reveals(ctx: Any) -> Hashable:
        return AuditEvent.objects.filter(action=EventType.REVEAL).count()

    def phone(ctx: Any) -> str:
        return PHONE

    def unassign_world(ctx: Any) -> None:
        UnitAssignment.objects.filter(unit=ctx.world.provider).update(active=False)

    def assign_data(ctx: Any) -> dict[str, Any]:
        return {"action": "assign", "children": str(ctx.world.children["a1"].pk)}

    def active_assignments(ctx: Any) -> Hashable:
        return UnitAssignment.objects.filter(active=True).count()

    def contract_count(ctx: Any) -> Hashable:
        return Contract.objects.count()

    def contract_title(ctx: Any) -> str:
        return "矩阵合同"

    def new_contract_data(ctx: Any) -> dict[str, Any]:
        return contract_post(ctx.world, townships=str(ctx.world.township_a.pk))

    def contract_edit_data(ctx: Any) -> dict[str, Any]:
        data = contract_post(ctx.world, title="矩阵合同（已修改）", townships=str(ctx.world.township_a.pk))
        found = Contract.objects.filter(provider=provider(ctx)).first()
        data["version"] = found.version if found else 1
        return data

    def contract_state(ctx: Any) -> Hashable:
        return tuple(Contract.objects.order_by("pk").values_list("title", "version"))

    return {
        "providers:list": m.Route(None, (m.GET(_gate(LISTERS)),)),
        "providers:create": m.Route(
            None,
            (
                m.GET(_gate(REGISTRARS)),
                m.Op("POST", 302, _gate(REGISTRARS), create_data, effect=provider_count),
            ),
            note="a 儿童之家 in village a2: both registrars' area",
        ),
        "providers:mine": m.Route(None, (m.GET(_gate(STAFF), shows=served),)),
        "providers:detail": m.Route("child", (m.GET(read, shows=name),), lookup=_provider),
        "providers:edit": m.Route(
            "child",
            (m.GET(edit, shows=name), m.Op("POST", 302, edit, edit_data, effect=provider_state)),
            lookup=_provider,
        ),
        "providers:reveal": m.Route(
            "child",
            (m.Op("POST", 200, reveal, reveal_data, effect=reveals, shows=phone),),
            lookup=_provider,
        ),
        "providers:assign": m.Route(
            "child",
            (
                m.GET(assign, shows=name),
                m.Op("POST", 302, assign, assign_data, setup=unassign_world, effect=active_assignments),
            ),
            lookup=_provider,
            note="child a1 (in every assigning persona's area) to the place's provider",
        ),
        "providers:contract_create": m.Route(
            "child",
            (
                m.GET(contract_new, shows=name),
                m.Op("POST", 302, contract_new, new_contract_data, effect=contract_count),
            ),
            lookup=_provider,
        ),
        "providers:assignment_end": m.Route(
            "child",
            (m.Op("POST", 302, assignment_end, effect=active_assignments),),
            lookup=_assignment,
        ),
        "providers:contracts": m.Route(None, (m.GET(_gate(frozenset(CONTRACT_READERS))),)),
        "providers:contract_detail": m.Route(
            "child", (m.GET(contract_read, shows=contract_title),), lookup=_contract
        ),
        "providers:contract_edit": m.Route(
            "child",
            (
                m.GET(contract_edit, shows=contract_title),
                m.Op("POST", 302, contract_edit, contract_edit_data, effect=contract_state),
            ),
            lookup=_contract,
        ),
    }
