"""Reads of "我的工作": the sections, their counts, their lists and the township overview.

Every read starts from the access layer (registry.access.children_visible_to): a section is
a filter on the user's own scope, never a scope of its own, so a count and the list it
links to are the same query. The windows come from the county policy (work.policy).
"""

import datetime as dt
import uuid
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from django.db.models import Count, Q, QuerySet

from accounts.models import ASSIGNED_ROLES, Role, RoleGrant, User
from geo.models import Region, RegionLevel
from registry import choices as c
from registry import rules
from registry.access import active_grants, children_visible_to, regions_visible_to
from registry.models import Assignment, Child, Parent
from work.models import LifeEventProposal, ProposalState
from work.policy import WorkPolicy, optional

DUE_DAYS = 7  # "visits due this week": today and the next 7 days
RECENT_DAYS = 30  # "visited in the last 30 days": today and the 29 days before
ASSIGNERS = frozenset({Role.TOWNSHIP_SUPERVISOR, Role.COUNTY_ADMIN})
OVERVIEW_ROLES = frozenset({Role.TOWNSHIP_SUPERVISOR, Role.COUNTY_ADMIN, Role.COUNTY_OFFICER})
COLOURS = [str(colour) for colour in c.RiskColour.values]


@dataclass(frozen=True)
class Section:
    slug: str
    label: str
    tone: str = ""  # tile style: "", "warn" or "danger"
    order: str | None = None  # a date column listed first (keyset on it and file_no)
    tile: bool = True  # one of the tiles of "my work"


SECTIONS: dict[str, Section] = {
    section.slug: section
    for section in (
        Section("overdue", "逾期未走访", "danger", "next_visit_due"),
        Section("due", "本周应走访", "warn", "next_visit_due"),
        Section("expiring", "委托监护协议即将到期", "warn", "agreement_valid_until"),
        Section("missing", "缺少有效委托监护协议", "danger"),
        Section("contact", "亲情联系超期或父母失联", "warn"),
        Section("aging", "即将年满16周岁", "", "birth_date"),
        Section("no_service", "重点儿童超期未获服务", "warn"),
        Section("assigned", "指派给我的儿童"),
        Section("active", "在册儿童", tile=False),
        Section("recent", f"近{RECENT_DAYS}天已走访", tile=False, order="last_visit_on"),
    )
}
TILES = [slug for slug, section in SECTIONS.items() if section.tile]


def _latest_birth_aged_16(on: dt.date) -> dt.date:
    """The latest birth date of a child who is 16 or older on `on`."""
    return rules.birth_range_for_age(rules.LEFT_BEHIND_AGE, rules.LEFT_BEHIND_AGE, on)[1]


def _latest_birth_aged_18(on: dt.date) -> dt.date:
    """The latest birth date of a child who is 18 or older on `on`."""
    return rules.birth_range_for_age(rules.CHILD_AGE, rules.CHILD_AGE, on)[1]


def unreachable_parents() -> QuerySet[Parent, Any]:
    return Parent.objects.filter(unreachable=True).values("child_id")


def section_q(slug: str, *, on: dt.date, policy: WorkPolicy, user: User) -> Q:
    """The filter of one section, applied to the user's active children."""
    if slug == "overdue":
        return Q(next_visit_due__lt=on)
    if slug == "due":
        return Q(next_visit_due__gte=on, next_visit_due__lte=on + dt.timedelta(days=DUE_DAYS))
    if slug == "expiring":
        until = on + dt.timedelta(days=policy.agreement_warning_days)
        return Q(agreement_required=True, agreement_valid_until__gte=on, agreement_valid_until__lte=until)
    if slug == "missing":
        lapsed = Q(agreement_valid_until__isnull=True) | Q(agreement_valid_until__lt=on)
        return Q(agreement_required=True) & lapsed
    if slug == "contact":
        since = on - dt.timedelta(days=policy.contact_limit_days)
        silent = Q(last_parent_contact_on__isnull=True) | Q(last_parent_contact_on__lt=since)
        return (Q(is_left_behind=True) & silent) | Q(id__in=unreachable_parents())
    if slug == "aging":
        horizon = on + dt.timedelta(days=policy.aging_warning_days)
        return Q(birth_date__gt=_latest_birth_aged_16(on), birth_date__lte=_latest_birth_aged_16(horizon))
    if slug == "no_service":
        return _no_service_q(on=on, policy=policy)
    if slug == "assigned":
        return Q(id__in=Assignment.objects.filter(user=user, active=True).values("child_id"))
    if slug == "recent":
        return Q(last_visit_on__gt=on - dt.timedelta(days=RECENT_DAYS), last_visit_on__lte=on)
    if slug == "active":
        return Q()
    raise KeyError(slug)


def _no_service_q(*, on: dt.date, policy: WorkPolicy) -> Q:
    """Key children with no service (an attended activity, an assistance measure) since
    on - service_gap_days (issue 7); empty while the activities app is not installed."""
    served_child_ids = optional("activities.selectors.served_child_ids")
    if served_child_ids is None:
        return Q(pk__in=[])
    since = on - dt.timedelta(days=policy.service_gap_days)
    return Q(is_key=True) & ~Q(id__in=served_child_ids(since, on))


def active_children(user: User) -> QuerySet[Child]:
    return children_visible_to(user).filter(status=c.Status.ACTIVE)


def _counts(slugs: Iterable[str], *, on: dt.date, policy: WorkPolicy, user: User) -> dict[str, Any]:
    return {slug: Count("id", filter=section_q(slug, on=on, policy=policy, user=user)) for slug in slugs}


def proposals_open(user: User) -> QuerySet[LifeEventProposal]:
    return LifeEventProposal.objects.filter(
        state=ProposalState.PROPOSED, child__in=children_visible_to(user).filter(status=c.Status.ACTIVE)
    )


def my_work_counts(user: User, *, on: dt.date, policy: WorkPolicy) -> dict[str, int]:
    """The count of every tile in one pass over the scope, plus the open proposals."""
    counts: dict[str, int] = active_children(user).aggregate(
        **_counts(TILES, on=on, policy=policy, user=user)
    )
    counts["proposals"] = proposals_open(user).count()
    return counts


@dataclass(frozen=True)
class ListFilters:
    village: uuid.UUID | None = None
    colour: str = ""


def section_children(
    user: User, slug: str, *, on: dt.date, policy: WorkPolicy, filters: ListFilters | None = None
) -> QuerySet[Child]:
    children = active_children(user).filter(section_q(slug, on=on, policy=policy, user=user))
    if filters and filters.village:
        children = children.filter(village_id=filters.village)
    if filters and filters.colour:
        children = children.filter(risk_colour=filters.colour)
    return children


# --- keyset pages ------------------------------------------------------------------------------


@dataclass
class SectionPage:
    rows: list[Child]
    next_cursor: str | None
    is_first: bool = True


def _parse_cursor(order: str | None, cursor: str) -> Q | None:
    """The seek condition after `cursor` ("2026-11-30~4505211002010000123" or a file number)."""
    if not cursor:
        return None
    if order is None:
        return Q(file_no__gt=cursor)
    day, _, file_no = cursor.partition("~")
    try:
        value = dt.date.fromisoformat(day)
    except ValueError:
        return None
    return Q(**{f"{order}__gt": value}) | Q(**{order: value, "file_no__gt": file_no})


def section_page(children: QuerySet[Child], slug: str, *, after: str = "", size: int = 50) -> SectionPage:
    """One page by seeking: ordered by the section's date column (if any), then file number.
    The cursor holds a date and a file number, neither personal, so it may sit in a URL."""
    order = SECTIONS[slug].order
    seek = _parse_cursor(order, after)
    if seek is not None:
        children = children.filter(seek)
    ordering = [order, "file_no"] if order else ["file_no"]
    rows = list(children.order_by(*ordering)[: size + 1])
    has_more = len(rows) > size
    rows = rows[:size]
    next_cursor = None
    if has_more and rows:
        last = rows[-1]
        next_cursor = f"{getattr(last, order).isoformat()}~{last.file_no}" if order else last.file_no
    return SectionPage(rows=rows, next_cursor=next_cursor, is_first=seek is None)


# --- the township overview ---------------------------------------------------------------------


@dataclass
class VillageRow:
    village: Region
    counts: dict[str, int] = field(default_factory=dict)

    @property
    def coverage(self) -> float | None:
        """Share of active children visited within their interval (due date today or later)."""
        return _share(self.counts.get("covered", 0), self.counts.get("active", 0))

    @property
    def recent_share(self) -> float | None:
        return _share(self.counts.get("recent", 0), self.counts.get("active", 0))


def _share(part: int, whole: int) -> float | None:
    return part / whole if whole else None


# The overview's columns plus the tiles: the tiles above the table are the column totals, so the
# page runs one grouped query. "assigned" (a supervisor rarely has any) is counted apart.
OVERVIEW_SLUGS = tuple(dict.fromkeys(["active", "recent", *(slug for slug in TILES if slug != "assigned")]))


# The home page's scope counts (registry.selectors.counts_for, besides "active"), folded into the
# same grouped query when the township view is a supervisor's first page: one pass over the
# township instead of two. test_township checks that they equal counts_for.
SCOPE_COUNTS = {
    "left_behind": Q(is_left_behind=True),
    "key": Q(is_key=True),
    "unsupervised": Q(care_type=c.CareType.UNSUPERVISED),
    "living_alone": Q(care_type=c.CareType.LIVING_ALONE),
    "poor_rating": Q(guardianship_rating=c.Rating.POOR),
    "dropout": Q(schooling=c.Schooling.DROPOUT),
}


def _overview_aggregates(*, on: dt.date, policy: WorkPolicy, user: User) -> dict[str, Any]:
    aggregates = _counts(OVERVIEW_SLUGS, on=on, policy=policy, user=user)
    aggregates.update({name: Count("id", filter=q) for name, q in SCOPE_COUNTS.items()})
    aggregates["covered"] = Count("id", filter=Q(next_visit_due__gte=on))
    for colour in COLOURS:
        aggregates[colour] = Count("id", filter=Q(risk_colour=colour))
    aggregates["uncoloured"] = Count("id", filter=Q(risk_colour=""))
    return aggregates


def village_overview(user: User, *, on: dt.date, policy: WorkPolicy) -> list[VillageRow]:
    """Per village of the user's region scope: one grouped query over the scope, plus the
    villages' names. Villages without active children show with zeros."""
    grouped = (
        active_children(user)
        .values("village_id")
        .annotate(**_overview_aggregates(on=on, policy=policy, user=user))
        .order_by()
    )
    by_village: dict[uuid.UUID, dict[str, int]] = {}
    for row in grouped:
        values: dict[str, Any] = dict(row)
        by_village[values.pop("village_id")] = values
    villages = regions_visible_to(user).filter(level=RegionLevel.VILLAGE)
    regions = Region.objects.filter(Q(pk__in=villages.values("pk")) | Q(pk__in=list(by_village)))
    empty = dict.fromkeys([*OVERVIEW_SLUGS, *SCOPE_COUNTS, "covered", *COLOURS, "uncoloured"], 0)
    rows = [
        VillageRow(village=region, counts=by_village.get(region.pk, empty))
        for region in regions.select_related("parent").order_by("code")
    ]
    return rows


def scope_counts(totals: VillageRow) -> dict[str, int]:
    """The home page's scope counts (as registry.selectors.counts_for) from the overview."""
    return {name: totals.counts.get(name, 0) for name in ("active", *SCOPE_COUNTS)}


def assigned_count(user: User, *, on: dt.date, policy: WorkPolicy) -> int:
    return active_children(user).filter(section_q("assigned", on=on, policy=policy, user=user)).count()


def overview_totals(rows: list[VillageRow]) -> VillageRow:
    totals: dict[str, int] = {}
    for row in rows:
        for name, value in row.counts.items():
            totals[name] = totals.get(name, 0) + value
    return VillageRow(village=Region(name="合计"), counts=totals)


# --- assignment --------------------------------------------------------------------------------


def can_assign(user: User) -> bool:
    return any(grant.role in ASSIGNERS for grant in active_grants(user))


def can_see_overview(user: User) -> bool:
    return any(grant.role in OVERVIEW_ROLES for grant in active_grants(user))


def _related(a: str, b: str) -> bool:
    """Two region codes on one line of the tree (one is the other's ancestor, or equal)."""
    return a.startswith(b) or b.startswith(a)


def assignees_for(user: User) -> list[User]:
    """Visiting cadres and social workers the user may assign children to: those whose grant
    lies on the same branch of the region tree as one of the user's assigner grants (a
    township's own cadres, the county's social-work station, a village's cadre)."""
    roots = [grant.scope_region.code for grant in active_grants(user) if grant.role in ASSIGNERS]
    if not roots:
        return []
    grants = RoleGrant.objects.filter(
        role__in=ASSIGNED_ROLES, active=True, unit__active=True, user__is_active=True
    ).select_related("user", "unit__region", "region")
    eligible: dict[uuid.UUID, User] = {}
    for grant in grants:
        if any(_related(grant.scope_region.code, root) for root in roots):
            eligible.setdefault(grant.user_id, grant.user)
    return sorted(eligible.values(), key=lambda person: person.full_name or person.username)


def assignee_role(user: User) -> str:
    """The role an assignment to `user` carries (a person with both takes the social worker's)."""
    roles = sorted(grant.role for grant in active_grants(user) if grant.role in ASSIGNED_ROLES)
    return roles[0] if roles else ""


def assignments_of(children: QuerySet[Child]) -> dict[uuid.UUID, list[Assignment]]:
    """Active assignments of the given (already scoped) children, by child."""
    out: dict[uuid.UUID, list[Assignment]] = {}
    rows = Assignment.objects.filter(active=True, child__in=children).select_related("user")
    for assignment in rows.order_by("assigned_at"):
        out.setdefault(assignment.child_id, []).append(assignment)
    return out
