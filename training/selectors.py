"""Reads of training: the workers of a scope, their positions, histories and the no-training
list. Every function takes the scope from training/access.py and filters by it.

A worker is an active user (is_active, and valid_until not passed) with an active grant of a
worker role (access.WORKER_ROLES) at an active unit, the grant's region (or its unit's region)
lying in the scope. The 三员, police, reporters and county admins are no workers: they are
neither picked as attendees nor listed as untrained.
"""

import datetime as dt
import itertools
from collections import defaultdict
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from decimal import Decimal
from functools import reduce
from operator import or_
from typing import Any

from django.db.models import Max, Prefetch, Q, QuerySet
from django.utils import timezone

from accounts.models import Role, RoleGrant, User
from geo.models import Region, RegionLevel, Unit
from registry.timeline import Change, Event
from training.access import TOWNSHIP_CODE_LENGTH, WORKER_ROLES
from training.models import Attendance, Audience, TrainingSession

COUNTY_LEVEL = "县直"  # the "township" of a worker whose grant sits at the county
PICKER_LIMIT = 200
ROLE_ORDER = [
    Role.VILLAGE_WORKER,
    Role.TOWNSHIP_SUPERVISOR,
    Role.SCHOOL_STAFF,
    Role.VISITING_CADRE,
    Role.SOCIAL_WORKER,
    Role.PROVIDER_STAFF,
    Role.COUNTY_OFFICER,
]
ROLE_LABELS = {
    Role.VILLAGE_WORKER: "儿童主任",
    Role.TOWNSHIP_SUPERVISOR: "儿童督导员",
    Role.SCHOOL_STAFF: "教师",
    Role.VISITING_CADRE: "驻村干部",
    Role.SOCIAL_WORKER: "社会工作者",
    Role.PROVIDER_STAFF: "服务机构工作人员",
    Role.COUNTY_OFFICER: "县直部门工作人员",
}


def role_choices() -> list[tuple[str, str]]:
    return [(role.value, ROLE_LABELS[role]) for role in ROLE_ORDER]


def _in_regions(codes: Iterable[str], prefix: str = "") -> Q:
    """Grants whose scope region (the region, else the unit's) lies under one of `codes`."""
    parts = [
        Q(**{f"{prefix}region__code__startswith": code})
        | Q(**{f"{prefix}region__isnull": True, f"{prefix}unit__region__code__startswith": code})
        for code in codes
    ]
    return reduce(or_, parts) if parts else Q(pk__in=[])


def worker_grants(codes: Iterable[str] | None, *, on: dt.date | None = None) -> QuerySet[RoleGrant]:
    """The active worker grants of active users under the region codes (None: anywhere)."""
    on = on or timezone.localdate()
    where = Q() if codes is None else _in_regions(codes)
    return RoleGrant.objects.filter(
        where,
        role__in=[role.value for role in WORKER_ROLES],
        active=True,
        unit__active=True,
        user__is_active=True,
    ).filter(Q(user__valid_until__isnull=True) | Q(user__valid_until__gte=on))


def workers_in(codes: Iterable[str], *, on: dt.date | None = None) -> QuerySet[User]:
    """The workers under the region codes (one row each)."""
    return User.objects.filter(pk__in=worker_grants(codes, on=on).values("user_id"))


# --- positions ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Position:
    """Where a worker works, as the lists show it: role, unit and township (县直 above)."""

    role: str
    role_label: str
    unit: str
    township_code: str  # "" for a grant at the county
    township: str


@dataclass
class Worker:
    user: User
    positions: list[Position] = field(default_factory=list)
    last_trained_on: dt.date | None = None

    @property
    def township(self) -> str:
        return "、".join(dict.fromkeys(p.township for p in self.positions))

    @property
    def roles(self) -> str:
        return "、".join(dict.fromkeys(p.role_label for p in self.positions))

    @property
    def units(self) -> str:
        return "、".join(dict.fromkeys(p.unit for p in self.positions))

    def sort_key(self) -> tuple[str, int, str, str]:
        first = self.positions[0]
        order = ROLE_ORDER.index(Role(first.role))
        return (first.township_code or "~", order, self.user.full_name, self.user.username)


def _township_names(codes: Iterable[str]) -> dict[str, str]:
    wanted = {code[:TOWNSHIP_CODE_LENGTH] for code in codes if len(code) >= TOWNSHIP_CODE_LENGTH}
    rows = Region.objects.filter(code__in=wanted, level=RegionLevel.TOWNSHIP, valid_to__isnull=True)
    return dict(rows.values_list("code", "name"))


def _position(grant: RoleGrant, townships: dict[str, str]) -> Position:
    code = grant.scope_region.code
    township_code = code[:TOWNSHIP_CODE_LENGTH] if len(code) >= TOWNSHIP_CODE_LENGTH else ""
    role = Role(grant.role)
    return Position(
        role=role.value,
        role_label=ROLE_LABELS[role],
        unit=grant.unit.name,
        township_code=township_code,
        township=townships.get(township_code, COUNTY_LEVEL) if township_code else COUNTY_LEVEL,
    )


def workers_with_positions(grants: QuerySet[RoleGrant]) -> list[Worker]:
    """One Worker per user of `grants`, with a position per grant, sorted by the first
    position's township (县直 last), role and name."""
    rows = list(grants.select_related("user", "unit__region", "region"))
    townships = _township_names(grant.scope_region.code for grant in rows)
    workers: dict[Any, Worker] = {}
    for grant in rows:
        worker = workers.setdefault(grant.user_id, Worker(user=grant.user))
        position = _position(grant, townships)
        if position not in worker.positions:
            worker.positions.append(position)
    for worker in workers.values():
        worker.positions.sort(key=lambda p: (p.township_code or "~", ROLE_ORDER.index(Role(p.role))))
    return sorted(workers.values(), key=Worker.sort_key)


def township_choices(county_codes: Iterable[str], limited: Iterable[Region] = ()) -> list[tuple[str, str]]:
    """The township filter: the townships given (a supervisor's), else every current township
    of the counties, then 县直 (grants at the county)."""
    limited = list(limited)
    if limited:
        return [(t.code, t.name) for t in sorted(limited, key=lambda t: t.code)]
    townships = Region.objects.filter(
        parent__code__in=list(county_codes), level=RegionLevel.TOWNSHIP, valid_to__isnull=True
    ).order_by("code")
    return [*townships.values_list("code", "name"), ("county", COUNTY_LEVEL)]


def filter_grants(grants: QuerySet[RoleGrant], *, role: str = "", township: str = "") -> QuerySet[RoleGrant]:
    """Narrow worker grants by role and township code ("county": grants at county level)."""
    if role:
        grants = grants.filter(role=role)
    if township == "county":
        grants = grants.exclude(
            Q(region__isnull=False, region__level__in=[RegionLevel.TOWNSHIP, RegionLevel.VILLAGE])
            | Q(region__isnull=True, unit__region__level__in=[RegionLevel.TOWNSHIP, RegionLevel.VILLAGE])
        )
    elif township:
        grants = grants.filter(_in_regions([township]))
    return grants


# --- sessions ----------------------------------------------------------------------------------


def year_bounds(year: int) -> tuple[dt.date, dt.date]:
    return dt.date(year, 1, 1), dt.date(year + 1, 1, 1)


def sessions_of_year(sessions: QuerySet[TrainingSession], year: int) -> QuerySet[TrainingSession]:
    start, end = year_bounds(year)
    return sessions.filter(held_on__gte=start, held_on__lt=end)


def session_years(sessions: QuerySet[TrainingSession], *, around: int) -> list[int]:
    """The years that have sessions, and `around` (this year), newest first."""
    years = {day.year for day in sessions.dates("held_on", "year")}
    years.add(around)
    return sorted(years, reverse=True)


def attendees(session: TrainingSession) -> list[Attendance]:
    """Workers first by name, then guests, in the order they were added."""
    grants = Prefetch("user__grants", queryset=RoleGrant.objects.filter(active=True).select_related("unit"))
    rows = list(session.attendances.select_related("user").prefetch_related(grants))
    return sorted(rows, key=lambda a: (a.user_id is None, a.display_name if a.user_id else "", a.added_at))


def candidates(
    session: TrainingSession, *, role: str = "", township: str = "", q: str = ""
) -> tuple[list[Worker], bool]:
    """The county's workers not yet attending the session, narrowed by role, township and a
    name search; at most PICKER_LIMIT of them, and whether more were left off."""
    grants = filter_grants(worker_grants([session.county.code]), role=role, township=township)
    attending = session.attendances.filter(user__isnull=False).values("user_id")
    grants = grants.exclude(user_id__in=attending)
    q = " ".join(q.split())
    if q:
        grants = grants.filter(Q(user__full_name__icontains=q) | Q(user__username__icontains=q))
    workers = workers_with_positions(grants)
    return workers[:PICKER_LIMIT], len(workers) > PICKER_LIMIT


# --- histories and the no-training list --------------------------------------------------------


@dataclass(frozen=True)
class YearTotal:
    year: int
    sessions: int
    hours: Decimal


def history(worker: User) -> tuple[list[Attendance], list[YearTotal]]:
    """The sessions the worker attended (newest first) and the totals per year."""
    rows = list(
        Attendance.objects.filter(user=worker)
        .select_related("session__organiser", "session__county")
        .order_by("-session__held_on", "-session__created_at")
    )
    totals: dict[int, list[Decimal]] = defaultdict(list)
    for row in rows:
        totals[row.session.held_on.year].append(row.session.hours)
    years = [YearTotal(year, len(hours), sum(hours, Decimal(0))) for year, hours in totals.items()]
    return rows, sorted(years, key=lambda y: y.year, reverse=True)


@dataclass(frozen=True)
class Tally:
    township: str
    role_label: str
    count: int


@dataclass
class Untrained:
    year: int
    workers: list[Worker]
    tallies: list[Tally]

    @property
    def count(self) -> int:
        return len(self.workers)


def untrained(grants: QuerySet[RoleGrant], year: int) -> Untrained:
    """The workers of `grants` who attended no session held in `year`, with the date of their
    last training before, and the count per township and role (a worker with two positions
    counts once in each)."""
    start, end = year_bounds(year)
    trained = Attendance.objects.filter(
        user__isnull=False, session__held_on__gte=start, session__held_on__lt=end
    ).values("user_id")
    workers = workers_with_positions(grants.exclude(user_id__in=trained))
    last = dict(
        Attendance.objects.filter(user_id__in=[w.user.pk for w in workers], session__held_on__lt=start)
        .values("user_id")
        .annotate(last=Max("session__held_on"))
        .values_list("user_id", "last")
    )
    counts: dict[tuple[str, str, str, int], int] = defaultdict(int)
    for worker in workers:
        worker.last_trained_on = last.get(worker.user.pk)
        for position in worker.positions:
            order = ROLE_ORDER.index(Role(position.role))
            counts[(position.township_code or "~", position.township, position.role_label, order)] += 1
    ordered = sorted(counts.items(), key=lambda item: (item[0][0], item[0][3]))
    tallies = [Tally(township, label, count) for (_, township, label, _), count in ordered]
    return Untrained(year=year, workers=workers, tallies=tallies)


def untrained_rows(result: Untrained) -> Iterator[list[object]]:
    """The export's rows: 序号, 乡镇, 角色, 姓名, 单位, 上次参加培训."""
    for number, worker in enumerate(result.workers, start=1):
        yield [
            number,
            worker.township,
            worker.roles,
            worker.user.full_name or worker.user.username,
            worker.units,
            worker.last_trained_on or "从未参加",
        ]


# --- what others changed (a refused stale edit) ------------------------------------------------

_HIDDEN = frozenset({"version", "created_at", "created_by", "county"})


def _shown(session: TrainingSession, name: str, value: Any) -> str:
    if value is None or value == "" or value == []:
        return "—"
    if name == "audience":
        labels = dict(Audience.choices)
        return "、".join(labels.get(code, code) for code in value)
    if name == "organiser":
        unit = Unit.objects.filter(pk=value).first()
        return unit.name if unit else "—"
    if isinstance(value, dt.date):
        return f"{value:%Y-%m-%d}"
    return str(value)


def changes_since(session: TrainingSession, version: int) -> list[Event]:
    """The edits saved after the editor loaded `version`, newest first, field by field."""
    records = list(session.history.select_related("history_user").order_by("history_date", "history_id"))
    events: list[Event] = []
    for previous, record in itertools.pairwise(records):
        if record.version <= version:
            continue
        delta = record.diff_against(previous)
        event = Event(
            at=record.history_date,
            user=str(record.history_user) if record.history_user else "系统",
            section="培训信息",
            kind="修改",
            version=record.version,
        )
        for change in delta.changes:
            if change.field in _HIDDEN:
                continue
            label = str(getattr(TrainingSession._meta.get_field(change.field), "verbose_name", change.field))
            old, new = _shown(session, change.field, change.old), _shown(session, change.field, change.new)
            event.changes.append(Change(field=change.field, label=label, old=old, new=new))
        if event.changes:
            events.append(event)
    return list(reversed(events))
