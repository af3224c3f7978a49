"""Permission-matrix rows of the submissions app, read by core/tests/test_permission_matrix.py.

The routes are tested per child key, like the child file's: the key names the village (a1, a2
of 廉州镇, b1 of 党江镇, "other" in another county) whose round, township submission or
village submission the case works on; each case builds a fresh round of that county straight
in the database (no services: the matrix stays fast), in the state the action needs.

Only four roles take part (403 for every other role, whatever the id). Who sees what: the
county admin and officer everything of their county, the township supervisor (廉州镇) the
round, 廉州镇 and its villages, the village worker (甲一村) the round and that village; the
rest is 404 like a missing id. Among those who see: the county admin cancels rounds and
reviews townships; the supervisor reviews 廉州镇's villages, submits 甲二村 (no village
worker there) and 廉州镇; the village worker submits 甲一村. Everyone else who sees gets 403.
"""

import datetime as dt
import uuid
from collections.abc import Hashable
from types import ModuleType
from typing import Any

from django.utils import timezone

from submissions.models import (
    Round,
    TownshipState,
    TownshipSubmission,
    VillageState,
    VillageSubmission,
)
from testing.world import World

MISSING = "missing"  # core/tests/test_permission_matrix.py MISSING: a uuid that names nothing
TITLE = "矩阵报送轮次"
ROLES = frozenset({"county_admin", "county_officer", "township_supervisor", "village_worker"})
IN_COUNTY = frozenset({"a1", "a2", "b1"})
TOWNSHIP_A = frozenset({"a1", "a2"})
ROUND_SEEN = dict.fromkeys(ROLES, IN_COUNTY)
VILLAGE_SEEN = {
    "county_admin": IN_COUNTY,
    "county_officer": IN_COUNTY,
    "township_supervisor": TOWNSHIP_A,
    "village_worker": frozenset({"a1"}),
}
TOWNSHIP_SEEN = {**VILLAGE_SEEN, "village_worker": frozenset()}


def _gate(seen: dict[str, frozenset[str]], allowed: dict[str, frozenset[str]] | None = None) -> Any:
    """The role gate first (403 for any id), then visibility (404, like missing), then the
    action's own permission (403). allowed=None: whoever sees may."""

    def policy(persona: str, obj: str | None) -> str | int:
        if persona not in ROLES:
            return 403
        if obj == MISSING or obj not in seen[persona]:
            return 404
        if allowed is None:
            return "ok"
        return "ok" if obj in allowed.get(persona, frozenset()) else 403

    return policy


def role_gate(persona: str, obj: str | None) -> str | int:
    return "ok" if persona in ROLES else 403


read_round = _gate(ROUND_SEEN)
cancel_round = _gate(ROUND_SEEN, {"county_admin": IN_COUNTY})
read_township = _gate(TOWNSHIP_SEEN)
submit_township = _gate(TOWNSHIP_SEEN, {"township_supervisor": TOWNSHIP_A})
review_township = _gate(TOWNSHIP_SEEN, {"county_admin": IN_COUNTY})
submit_village = _gate(
    VILLAGE_SEEN, {"village_worker": frozenset({"a1"}), "township_supervisor": frozenset({"a2"})}
)
review_village = _gate(VILLAGE_SEEN, {"township_supervisor": TOWNSHIP_A})


def _build(world: World, key: str, village_state: str, township_state: str) -> dict[str, VillageSubmission]:
    """A round of the key's county with a submission per village (and township)."""
    villages = (
        {"other": world.village_other}
        if key == "other"
        else {"a1": world.village_a1, "a2": world.village_a2, "b1": world.village_b1}
    )
    county = world.village_other.parent.parent if key == "other" else world.county  # type: ignore[union-attr]
    round = Round.objects.create(
        kind="monthly",
        title=TITLE,
        reference_date=timezone.localdate(),
        county=county,
        due_date=timezone.localdate() + dt.timedelta(days=10),
        opened_by=world.users["county_admin"],
    )
    townships: dict[Any, TownshipSubmission] = {}
    found = {}
    for name, village in villages.items():
        if village.parent_id not in townships:
            townships[village.parent_id] = TownshipSubmission.objects.create(
                round=round, township=village.parent, state=township_state
            )
        found[name] = VillageSubmission.objects.create(
            round=round,
            township_submission=townships[village.parent_id],
            village=village,
            state=village_state,
        )
    return found


def _round(world: World, key: str) -> uuid.UUID:
    return _build(world, key, VillageState.PENDING, TownshipState.PENDING)[key].round_id


def _village(village_state: str) -> Any:
    def lookup(world: World, key: str) -> uuid.UUID:
        return _build(world, key, village_state, TownshipState.PENDING)[key].pk

    return lookup


def _township(township_state: str) -> Any:
    def lookup(world: World, key: str) -> uuid.UUID:
        return _build(world, key, VillageState.APPROVED, township_state)[key].township_submission_id

    return lookup


def _states(ctx: Any) -> Hashable:
    return (
        tuple(Round.objects.order_by("pk").values_list("state", flat=True)),
        tuple(TownshipSubmission.objects.order_by("pk").values_list("state", flat=True)),
        tuple(VillageSubmission.objects.order_by("pk").values_list("state", flat=True)),
    )


def _round_count(ctx: Any) -> Hashable:
    return Round.objects.count()


def _new_round(ctx: Any) -> dict[str, Any]:
    return {
        "kind": "monthly",
        "title": "矩阵新报送",
        "reference_date": timezone.localdate().isoformat(),
        "due_date": (timezone.localdate() + dt.timedelta(days=10)).isoformat(),
    }


def _title(ctx: Any) -> str:
    return TITLE


def routes(m: ModuleType) -> dict[str, Any]:
    def review(ctx: Any) -> dict[str, Any]:
        return {"comment": "矩阵测试：请核实"}

    def post(policy: Any, data: Any) -> Any:
        return m.Op("POST", 302, policy, data, effect=_states)

    return {
        "submissions:list": m.Route(None, (m.GET(role_gate),)),
        "submissions:new": m.Route(
            None, (m.GET(m.admin_gate), m.Op("POST", 302, m.admin_gate, _new_round, effect=_round_count))
        ),
        "submissions:detail": m.Route("child", (m.GET(read_round, shows=_title),), lookup=_round),
        "submissions:cancel": m.Route(
            "child", (post(cancel_round, lambda ctx: {"reason": "矩阵测试：重复发起"}),), lookup=_round
        ),
        "submissions:roster": m.Route("child", (m.GET(read_round),), lookup=_round),
        "submissions:table3": m.Route("child", (m.GET(read_round),), lookup=_round),
        "submissions:township": m.Route(
            "child", (m.GET(read_township, shows=_title),), lookup=_township(TownshipState.PENDING)
        ),
        "submissions:township_submit": m.Route(
            "child",
            (post(submit_township, lambda ctx: {"note": ""}),),
            lookup=_township(TownshipState.PENDING),
        ),
        "submissions:township_approve": m.Route(
            "child", (post(review_township, review),), lookup=_township(TownshipState.SUBMITTED)
        ),
        "submissions:township_return": m.Route(
            "child", (post(review_township, review),), lookup=_township(TownshipState.SUBMITTED)
        ),
        "submissions:village_submit": m.Route(
            "child",
            (post(submit_village, lambda ctx: {"note": "", "confirmed": "on"}),),
            lookup=_village(VillageState.PENDING),
        ),
        "submissions:village_approve": m.Route(
            "child", (post(review_village, review),), lookup=_village(VillageState.SUBMITTED)
        ),
        "submissions:village_return": m.Route(
            "child", (post(review_village, review),), lookup=_village(VillageState.SUBMITTED)
        ),
    }
