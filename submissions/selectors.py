"""Reads of tiered review. Callers pass objects fetched through submissions.access."""

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from django.db.models import Count, Q, QuerySet

from accounts.models import Role, RoleGrant, User
from geo.models import Region
from nationalforms import table3
from nationalforms.roster import roster_row
from submissions import access
from submissions.models import (
    Round,
    RoundState,
    SnapshotRow,
    TownshipState,
    TownshipSubmission,
    VillageState,
    VillageSubmission,
)
from submissions.snapshot import facts_from_json


def round_list(user: User) -> QuerySet[Round]:
    """The user's rounds, newest first, with the county's progress (townships approved)."""
    rows = access.rounds_visible_to(user).select_related("county")
    return rows.annotate(
        townships_total=Count("townships", distinct=True),
        townships_approved=Count(
            "townships", filter=Q(townships__state=TownshipState.APPROVED), distinct=True
        ),
    ).order_by("-opened_at")


def own_states(user: User, rounds: Sequence[Round]) -> dict[Any, list[str]]:
    """round id → the states of the user's own parts (their township, their village), two
    queries for the whole page."""
    states: dict[Any, list[str]] = {round.pk: [] for round in rounds}
    townships = access.supervised_townships(user)
    if townships:
        rows = TownshipSubmission.objects.filter(round__in=rounds, township__in=townships)
        for row in rows.select_related("township").order_by("township__code"):
            states[row.round_id].append(f"{row.township.name}：{row.get_state_display()}")
    villages = access.worked_villages(user)
    if villages:
        found = VillageSubmission.objects.filter(round__in=rounds, village__in=villages)
        for item in found.select_related("village").order_by("village__code"):
            states[item.round_id].append(f"{item.village.name}：{item.get_state_display()}")
    return states


def townships_progress(round: Round) -> QuerySet[TownshipSubmission]:
    """Every township of the round with "villages approved x / y" (one query)."""
    return (
        round.townships.select_related("township", "submitted_by", "reviewed_by")
        .annotate(
            villages_total=Count("villages"),
            villages_approved=Count("villages", filter=Q(villages__state=VillageState.APPROVED)),
        )
        .order_by("township__code")
    )


def villages_of(round: Round, **where: Any) -> QuerySet[VillageSubmission]:
    return (
        VillageSubmission.objects.filter(round=round, **where)
        .select_related("village", "submitted_by", "reviewed_by", "township_submission__township")
        .order_by("village__code")
    )


def villages_with_worker(village_ids: Sequence[Any]) -> set[Any]:
    """Which of these villages have an active 儿童主任 (one query)."""
    if not village_ids:
        return set()
    grants = RoleGrant.objects.filter(
        role=Role.VILLAGE_WORKER, active=True, unit__active=True, user__is_active=True
    ).filter(Q(region_id__in=village_ids) | Q(region__isnull=True, unit__region_id__in=village_ids))
    found = set()
    for region_id, unit_region_id in grants.values_list("region_id", "unit__region_id"):
        found.add(region_id or unit_region_id)
    return found


@dataclass(frozen=True)
class Level:
    """What one user sees of a round: all townships (county), some townships with their
    villages (supervisor), some villages (village worker)."""

    county: bool
    townships: list[TownshipSubmission]
    villages: list[VillageSubmission]
    own_villages: list[VillageSubmission]


def level_of(user: User, round: Round) -> Level:
    county = access.sees_county(user, round.county)
    supervised = access.supervised_townships(user)
    townships = list(townships_progress(round).filter(township__in=supervised)) if supervised else []
    worked = access.worked_villages(user)
    own = list(villages_of(round, village__in=worked)) if worked else []
    villages = list(villages_of(round, township_submission__in=townships)) if townships else []
    return Level(county=county, townships=townships, villages=villages, own_villages=own)


# --- frozen data: roster and 附件3 --------------------------------------------------------------


def snapshot_rows_visible(user: User, round: Round) -> QuerySet[SnapshotRow]:
    """The round's snapshot rows at the user's level (county: all; supervisor: the
    townships; village worker: the village)."""
    rows = SnapshotRow.objects.filter(round=round)
    if access.sees_county(user, round.county):
        return rows
    scope = Q(pk__in=[])
    townships, villages = access.supervised_townships(user), access.worked_villages(user)
    if townships:
        scope |= Q(township__in=townships)
    if villages:
        scope |= Q(village__in=villages)
    return rows.filter(scope)


def roster_rows(rows: QuerySet[SnapshotRow]) -> Iterator[list[object]]:
    """The 花名册 of the snapshot: each file as it was submitted (its history rows), in
    township, village and file-number order, numbered from 1, read in chunks."""
    related = rows.select_related(
        "child_history__county",
        "child_history__township",
        "child_history__village",
        "child_history__school",
        "father_history__work_province",
        "father_history__work_city",
        "mother_history__work_province",
        "mother_history__work_city",
        "guardian_history",
    ).order_by("township__code", "village__code", "child_history__file_no")
    for number, row in enumerate(related.iterator(chunk_size=2000), start=1):
        yield roster_row(
            row.child_history, row.father_history, row.mother_history, row.guardian_history, number=number
        )


def table3_of(user: User, round: Round) -> table3.Table3:
    """The round's 附件3 at the user's level, counted from the snapshot: a row per township
    (county level) or per village (below), each with its identity check, and the total."""
    rows = snapshot_rows_visible(user, round)
    by = "township" if access.sees_county(user, round.county) else "village"
    regions = Region.objects.filter(pk__in=rows.values(by)).order_by("code").values_list("id", "name")
    values = rows.filter(left_behind=True).values_list("village_id", "township_id", "facts")
    triples = ((village, township, facts_from_json(data)) for village, township, data in values.iterator())
    return table3.build_table(triples, on=round.reference_date, by=by, regions=list(regions))


def is_frozen(round: Round) -> bool:
    return round.state == RoundState.APPROVED
