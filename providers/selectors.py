"""Reads of the providers register. Scoped querysets come from providers/access.py and child
files from registry.access; these functions filter, count and compare.

contract_delivery() is the one place where delivery against a contract's plan is counted:
the contract page and the statistics use it.
"""

import datetime as dt
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from django.db.models import Count, Model, QuerySet
from django.utils import timezone

from accounts.models import SEPARATED_ROLES, Role, User
from activities.models import Activity, Participation
from core.masking import mask_phone
from geo.models import Region, RegionLevel
from providers.choices import ServiceKind
from providers.models import Contract, Provider
from registry import choices as rc
from registry import rules
from registry.access import children_editable_by, children_visible_to
from registry.models import Child, UnitAssignment
from registry.selectors import LedgerFilters, ledger

CANDIDATES_SHOWN = 50
SERVICE_LABELS = dict(ServiceKind.choices)


# --- the register ------------------------------------------------------------------------------


@dataclass(frozen=True)
class RegisterFilters:
    kind: str = ""
    township: str = ""  # a township's code
    service: str = ""
    q: str = ""
    inactive: bool = False


def register(providers: QuerySet[Provider], filters: RegisterFilters) -> QuerySet[Provider]:
    """The register's filters on an already scoped queryset, ordered by place and name."""
    found = providers.select_related("unit__region")
    if not filters.inactive:
        found = found.filter(active=True)
    if filters.kind:
        found = found.filter(unit__kind=filters.kind)
    if filters.township:
        found = found.filter(unit__region__code__startswith=filters.township)
    if filters.q.strip():
        found = found.filter(unit__name__contains=filters.q.strip())
    if filters.service:
        # The services are a JSON list; "contains" on JSON is PostgreSQL-only, and a county's
        # register is a few hundred rows: filter the scoped ids here.
        ids = [pk for pk, services in found.values_list("pk", "services") if filters.service in services]
        found = found.filter(pk__in=ids)
    return found.order_by("unit__region__code", "unit__name")


def register_townships(providers: QuerySet[Provider]) -> list[Region]:
    """The townships the user's register has providers in (the township filter's options)."""
    codes = {code[:9] for code in providers.values_list("unit__region__code", flat=True) if len(code) >= 9}
    return list(Region.objects.filter(code__in=codes, level=RegionLevel.TOWNSHIP, valid_to__isnull=True))


def service_labels(values: Iterable[str]) -> list[str]:
    return [SERVICE_LABELS.get(value, value) for value in values]


# --- children assigned to a provider -----------------------------------------------------------


def active_assignments(provider: Provider) -> QuerySet[UnitAssignment]:
    return UnitAssignment.objects.filter(unit_id=provider.unit_id, active=True)


def assigned_count(provider: Provider) -> int:
    """How many children the provider serves now (everyone who reads its page sees this)."""
    return active_assignments(provider).values("child_id").distinct().count()


def assigned_rows(provider: Provider, user: User) -> list[UnitAssignment]:
    """The provider's active assignments whose child this user may see (the page's list)."""
    visible = children_visible_to(user).values("pk")
    return list(
        active_assignments(provider)
        .filter(child__in=visible)
        .select_related("child__village")
        .order_by("child__file_no", "assigned_at")
    )


def assignable_children(
    user: User, provider: Provider, *, q: str = "", village: str = "", key: str = ""
) -> list[Child]:
    """Active children the user may change and not yet assigned to the provider, searched as
    the ledger searches (name, pinyin, ID tail…), at most CANDIDATES_SHOWN."""
    already = active_assignments(provider).filter(source=UnitAssignment.Source.ASSIGNED)
    found = ledger(children_editable_by(user), LedgerFilters(q=q, village=village, key=key))
    found = found.exclude(pk__in=already.values("child_id"))
    return list(found.select_related("village").order_by("file_no")[:CANDIDATES_SHOWN])


@dataclass(frozen=True)
class ChildRow:
    child: Child
    age: int


def child_rows(children: Iterable[Child], *, on: dt.date | None = None) -> list[ChildRow]:
    on = on or timezone.localdate()
    return [ChildRow(child, rules.age_on(child.birth_date, on)) for child in children]


def served_children(user: User) -> QuerySet[Child]:
    """我的服务对象: the active files this user sees (for a provider's staff: the children
    referred or assigned to the provider)."""
    return children_visible_to(user).filter(status=rc.Status.ACTIVE).select_related("village")


# --- contracts ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class ItemDelivery:
    kind: str
    label: str
    planned_sessions: int
    sessions: int
    planned_children: int
    children: int

    @property
    def sessions_percent(self) -> int | None:
        return _percent(self.sessions, self.planned_sessions)

    @property
    def children_percent(self) -> int | None:
        return _percent(self.children, self.planned_children)


def _percent(done: int, planned: int) -> int | None:
    return round(100 * done / planned) if planned else None


def contract_activities(contract: Contract) -> QuerySet[Activity]:
    """The activities that count towards the contract: held by the provider's unit, in the
    contract's period (both days included), in a township it covers, of a service it buys."""
    return Activity.objects.filter(
        provider_id=contract.provider.unit_id,
        kind__in=contract.items.values("kind"),
        held_on__gte=contract.starts_on,
        held_on__lte=contract.ends_on,
        township__in=contract.townships.values("pk"),
    )


def contract_delivery(contract: Contract) -> list[ItemDelivery]:
    """Delivery against plan, one row per item (in the order of the service vocabulary):
    sessions = activities counted by contract_activities(); children = distinct children
    recorded as attended (Participation.attended=True) at those activities. Three queries."""
    activities = contract_activities(contract).order_by()
    sessions = dict(activities.values_list("kind").annotate(n=Count("id")).values_list("kind", "n"))
    attended = Participation.objects.filter(activity__in=activities.values("pk"), attended=True).order_by()
    children = dict(
        attended.values_list("activity__kind")
        .annotate(n=Count("child_id", distinct=True))
        .values_list("activity__kind", "n")
    )
    order = {kind: position for position, kind in enumerate(ServiceKind.values)}
    items = sorted(contract.items.all(), key=lambda item: order.get(item.kind, len(order)))
    return [
        ItemDelivery(
            kind=item.kind,
            label=item.get_kind_display(),
            planned_sessions=item.planned_sessions,
            sessions=sessions.get(item.kind, 0),
            planned_children=item.planned_children,
            children=children.get(item.kind, 0),
        )
        for item in items
    ]


def contract_is_current(contract: Contract, *, on: dt.date | None = None) -> bool:
    on = on or timezone.localdate()
    return contract.starts_on <= on <= contract.ends_on


# --- what changed since a version (a refused stale edit shows it) ------------------------------


@dataclass(frozen=True)
class Change:
    label: str
    old: str
    new: str


@dataclass(frozen=True)
class Edit:
    at: dt.datetime
    by: str
    note: str


@dataclass(frozen=True)
class Conflict:
    version: int
    changes: list[Change]
    edits: list[Edit]


def _plain(value: Any) -> str:
    if value is True:
        return "是"
    if value is False:
        return "否"
    if value is None or value == "":
        return "—"
    return str(value)


Shown = dict[str, Callable[[Any], str]]
PROVIDER_SHOWN: Shown = {
    "services": lambda value: "、".join(service_labels(value or [])) or "—",
    "contact_name": _plain,
    "contact_phone": lambda value: mask_phone(value) or "—",
    "address": _plain,
    "description": _plain,
    "active": _plain,
}
CONTRACT_SHOWN: Shown = {
    "title": _plain,
    "number": _plain,
    "starts_on": _plain,
    "ends_on": _plain,
    "amount": _plain,
    "note": _plain,
}


def _label(model: type[Model], name: str) -> str:
    return str(getattr(model._meta.get_field(name), "verbose_name", name))


def _townships(record: Any) -> str:
    names = sorted(row.region.name for row in record.townships.select_related("region"))
    return "、".join(names) or "—"


def changes_since(obj: Provider | Contract, version: int) -> Conflict:
    """What others changed after the editor loaded `version`: the fields that differ between
    that version's history row and the newest, and who saved each edit since (with the
    changes the row's reason names: a unit's facts, a contract's items)."""
    model: type[Model] = type(obj)
    shown = PROVIDER_SHOWN if isinstance(obj, Provider) else CONTRACT_SHOWN
    history = obj.history.order_by("history_date", "history_id")  # type: ignore[union-attr]
    loaded = history.filter(version=version).last()
    newest = history.last()
    if loaded is None or newest is None:
        return Conflict(version=obj.version, changes=[], edits=[])
    changes = [
        Change(_label(model, name), show(old), show(new))
        for name, show in shown.items()
        if (old := getattr(loaded, name)) != (new := getattr(newest, name))
    ]
    if isinstance(obj, Contract) and (old_t := _townships(loaded)) != (new_t := _townships(newest)):
        changes.append(Change("覆盖乡镇", old_t, new_t))
    # One edit per version: a contract's save also writes a row for its townships (m2m).
    saved: dict[int, Any] = {}
    for record in history.filter(version__gt=version).select_related("history_user"):
        saved.setdefault(record.version, record)
    edits = [
        Edit(record.history_date, _who(record.history_user), record.history_change_reason or "")
        for record in saved.values()
    ]
    return Conflict(version=obj.version, changes=changes, edits=edits)


def _who(user: User | None) -> str:
    return (user.full_name or user.username) if user is not None else "系统"


def staff_names(provider: Provider) -> list[str]:
    """The names of the provider's staff accounts (active grants at its unit): names only."""
    users = User.objects.filter(
        is_active=True,
        grants__active=True,
        grants__unit_id=provider.unit_id,
        grants__role__in=[role for role in Role.values if role not in SEPARATED_ROLES],
    ).distinct()
    return [user.full_name or user.username for user in users.order_by("full_name", "username")]
