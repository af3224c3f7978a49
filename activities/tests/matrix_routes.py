"""Permission-matrix rows of the activities app, read by core/tests/test_permission_matrix.py.

The policy of activities/access.py, written out per persona (not imported, so that a change
there shows up here as a failing case). Each route is tried per child key: the sample is an
activity held in that child's village (made on demand), with the child expected; the one in
甲一村 is delivered by the World's provider (甲一村儿童之家, where provider_staff works).
County admin and officer cover the county (a1, a2, b1), the supervisor 廉州镇 (a1, a2), the
village worker 甲一村 (a1). Roles with no activity at all get 403 on every route, and so does
the county officer on the pages that change something (it only reads).
"""

import uuid
from collections.abc import Hashable
from types import ModuleType
from typing import Any

from django.utils import timezone

from accounts.models import User
from activities.forms import townships_for, villages_for
from activities.models import Activity, AdultParticipant, Participation, VolunteerService
from testing.world import World

TITLE = "矩阵测试：课后辅导"
READERS = {
    "county_admin": {"a1", "a2", "b1"},
    "county_officer": {"a1", "a2", "b1"},
    "township_supervisor": {"a1", "a2"},
    "village_worker": {"a1"},
    "provider_staff": {"a1"},
}
MANAGERS = {key: value for key, value in READERS.items() if key != "county_officer"}


def _scoped(table: dict[str, set[str]], gate: frozenset[str]) -> Any:
    def policy(persona: str, obj: str | None) -> str | int:
        if persona not in gate:
            return 403
        return "ok" if obj in table.get(persona, set()) else 404

    return policy


def _gate(roles: frozenset[str]) -> Any:
    def policy(persona: str, obj: str | None) -> str | int:
        return "ok" if persona in roles else 403

    return policy


reader = _scoped(READERS, frozenset(READERS))
manager = _scoped(MANAGERS, frozenset(MANAGERS))
list_gate = _gate(frozenset(READERS))
create_gate = _gate(frozenset(MANAGERS))


def _activity(world: World, key: str) -> uuid.UUID:
    """The child's sample activity, with the child expected (made on demand)."""
    child = world.children[key]
    activity = Activity.objects.filter(title=TITLE, village_id=child.village_id).first()
    if activity is None:
        activity = Activity.objects.create(
            kind="homework_club",
            title=TITLE,
            organiser=world.school if key != "a1" else world.provider,
            provider=world.provider if key == "a1" else None,
            county_id=child.county_id,
            township_id=child.township_id,
            village_id=child.village_id,
            place="村儿童之家",
            held_on=timezone.localdate(),
        )
        Participation.objects.create(activity=activity, child_id=child.pk)
    return activity.pk


def routes(m: ModuleType) -> dict[str, Any]:
    def title(ctx: Any) -> str:
        return TITLE

    def name(ctx: Any) -> str:
        return ctx.child.name if ctx.child else ""

    def activity(ctx: Any) -> Activity:
        return Activity.objects.get(title=TITLE, village_id=ctx.child.village_id)

    def participation(ctx: Any) -> Participation | None:
        if ctx.child is None:
            return None
        return Participation.objects.filter(activity__title=TITLE, child_id=ctx.child.pk).first()

    def activity_count(ctx: Any) -> Hashable:
        return Activity.objects.count()

    def activity_state(ctx: Any) -> Hashable:
        if ctx.child is None:
            return None
        found = Activity.objects.filter(title=TITLE, village_id=ctx.child.village_id).first()
        return (found.version, found.title, found.place) if found else None

    def new_data(ctx: Any) -> dict[str, Any]:
        user: User | None = ctx.world.users.get(ctx.persona)
        if user is None:
            return {}
        township = (
            townships_for(user).filter(pk=ctx.world.township_a.pk).first() or townships_for(user).first()
        )
        village = villages_for(user).filter(parent=township).first() if township else None
        return {
            "kind": "safety_education",
            "title": "矩阵测试：安全教育",
            "held_on": timezone.localdate().isoformat(),
            "township": township.pk if township else "",
            "village": village.pk if village else "",
            "place": "村委会",
            "target_group": "children",
        }

    def edit_data(ctx: Any) -> dict[str, Any]:
        if ctx.child is None:
            return {}
        found = activity(ctx)
        return {
            "version": found.version,
            "kind": found.kind,
            "title": TITLE,
            "held_on": found.held_on.isoformat(),
            "township": found.township_id,
            "village": found.village_id,
            "place": "改到村小学",
            "target_group": found.target_group,
            "provider": found.provider_id or "",
        }

    def clear_attendance(ctx: Any) -> None:
        if ctx.child is not None:
            Participation.objects.filter(activity__title=TITLE).update(attended=None)

    def participation_count(ctx: Any) -> Hashable:
        if ctx.child is None:
            return None
        return Participation.objects.filter(child_id=ctx.child.pk).count()

    def unlist(ctx: Any) -> None:
        """Take the child off its sample activity, so that adding it is a change."""
        if ctx.child is not None:
            _activity(ctx.world, ctx.obj)
            Participation.objects.filter(activity__title=TITLE, child_id=ctx.child.pk).delete()

    def add_data(ctx: Any) -> dict[str, Any]:
        return {"child": ctx.child.pk if ctx.child else uuid.uuid4()}

    def attendance_data(ctx: Any) -> dict[str, Any]:
        row = participation(ctx)
        pk = row.pk if row else uuid.uuid4()
        return {"shown": pk, "present": pk, f"outcome-{pk}": "矩阵测试：认真完成作业"}

    def attended(ctx: Any) -> Hashable:
        row = participation(ctx)
        return (row.attended, row.outcome) if row else None

    def adult_data(ctx: Any) -> dict[str, Any]:
        return {"name": "矩阵家长", "relation": "guardian"}

    def adult_count(ctx: Any) -> Hashable:
        return AdultParticipant.objects.count()

    def volunteer_data(ctx: Any) -> dict[str, Any]:
        return {"name": "矩阵志愿者", "team": "青年志愿者协会", "hours": "2.5"}

    def volunteer_count(ctx: Any) -> Hashable:
        return VolunteerService.objects.count()

    return {
        "activities:list": m.Route(None, (m.GET(list_gate),)),
        "activities:new": m.Route(
            None,
            (m.GET(create_gate), m.Op("POST", 302, create_gate, new_data, effect=activity_count)),
            note="managers create in their own region (provider staff: their county, as their unit)",
        ),
        "activities:detail": m.Route("child", (m.GET(reader, shows=title),), lookup=_activity),
        "activities:edit": m.Route(
            "child",
            (m.GET(manager, shows=title), m.Op("POST", 302, manager, edit_data, effect=activity_state)),
            lookup=_activity,
        ),
        "activities:delete": m.Route(
            "child",
            (m.Op("POST", 302, manager, setup=clear_attendance, effect=activity_state),),
            lookup=_activity,
            note="only while no attendance is taken",
        ),
        "activities:participants": m.Route(
            "child",
            (
                m.GET(manager, shows=name),
                m.Op("POST", 302, manager, add_data, setup=unlist, effect=participation_count),
            ),
            lookup=_activity,
            note="children are picked among children_visible_to in the activity's township",
        ),
        "activities:attendance": m.Route(
            "child",
            (
                m.GET(manager, shows=name),
                m.Op("POST", 302, manager, attendance_data, setup=clear_attendance, effect=attended),
            ),
            lookup=_activity,
        ),
        "activities:adults": m.Route(
            "child",
            (m.GET(manager, shows=title), m.Op("POST", 302, manager, adult_data, effect=adult_count)),
            lookup=_activity,
        ),
        "activities:volunteers": m.Route(
            "child",
            (m.GET(manager, shows=title), m.Op("POST", 302, manager, volunteer_data, effect=volunteer_count)),
            lookup=_activity,
        ),
    }
