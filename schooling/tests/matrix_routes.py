"""Permission-matrix rows of the schooling app, read by core/tests/test_permission_matrix.py.

The policy of schooling/access.py, written out per persona (not imported, so that a change
there shows up here as a failing case). In the World, school_staff teaches at a1's school
(廉州镇中心小学), county_officer is at 合浦县教育局 (kind education) and police at 廉州派出所,
which serves 廉州镇 (a1, a2). A case or task outside what a persona may do answers 404, as
a missing one; the list pages answer 403 to roles that have no part in them.
"""

import datetime as dt
import uuid
from collections.abc import Hashable
from types import ModuleType
from typing import Any

from django.utils import timezone

from geo.models import Unit
from registry.models import Child
from schooling.models import DropoutCase, HukouTask, PersuasionAttempt
from testing.world import World

CASE_READERS = {
    "school_staff": {"a1"},
    "village_worker": {"a1"},
    "township_supervisor": {"a1", "a2"},
    "county_admin": {"a1", "a2", "b1"},
    "county_officer": {"a1", "a2", "b1"},
}
OPENERS = {"school_staff": {"a1"}}
ATTEMPTERS = {
    "school_staff": {"a1"},
    "village_worker": {"a1"},
    "township_supervisor": {"a1", "a2"},
    "county_admin": {"a1", "a2", "b1"},
}
ESCALATORS = {"school_staff": {"a1"}}
CLOSERS = {"school_staff": {"a1"}, "county_officer": {"a1", "a2", "b1"}}
HUKOU_READERS = frozenset({"police", "county_admin", "township_supervisor", "village_worker"})
HUKOU_GENERATORS = frozenset({"county_admin", "township_supervisor"})
REGISTRARS = {"police": {"a1", "a2"}}


def _scoped(table: dict[str, set[str]]) -> Any:
    def policy(persona: str, obj: str | None) -> str | int:
        return "ok" if obj in table.get(persona, set()) else 404

    return policy


def _gate(roles: frozenset[str]) -> Any:
    def policy(persona: str, obj: str | None) -> str | int:
        return "ok" if persona in roles else 403

    return policy


case_reader = _scoped(CASE_READERS)
opener = _scoped(OPENERS)
attempter = _scoped(ATTEMPTERS)
escalator = _scoped(ESCALATORS)
closer = _scoped(CLOSERS)
registrar = _scoped(REGISTRARS)
list_gate = _gate(frozenset(CASE_READERS))
hukou_gate = _gate(HUKOU_READERS)
generator_gate = _gate(HUKOU_GENERATORS)


def _today() -> dt.date:
    return timezone.localdate()


def _case(world: World, key: str) -> uuid.UUID:
    """The child's open case (made on demand; the World's school stands in for a2, b1 and
    other, which name none: access follows the child's file, not the case's school)."""
    child_id = world.children[key].pk
    case = DropoutCase.objects.filter(child_id=child_id, state__in=["open", "escalated"]).first()
    if case is None:
        case = DropoutCase.objects.create(
            child_id=child_id,
            school=world.school,
            kind="dropout",
            first_missed_on=_today() - dt.timedelta(days=20),
            reported_on=_today() - dt.timedelta(days=10),
            reported_by=world.users["school_staff"],
            schooling_before="primary",
        )
    return case.pk


def _case_ready(world: World, key: str) -> uuid.UUID:
    """An open case with two failed attempts: ready for the written report."""
    case_id = _case(world, key)
    for outcome in ("refused", "unreachable"):
        PersuasionAttempt.objects.get_or_create(
            case_id=case_id,
            outcome=outcome,
            defaults={
                "attempted_on": _today() - dt.timedelta(days=5),
                "attempted_by": world.users["school_staff"],
                "participants": "班主任",
                "method": "home_visit",
            },
        )
    return case_id


def _task(world: World, key: str) -> uuid.UUID:
    """The child's open hukou task, at 廉州派出所 (made on demand)."""
    child_id = world.children[key].pk
    task = HukouTask.objects.filter(child_id=child_id, registered_on__isnull=True).first()
    if task is None:
        task = HukouTask.objects.create(
            child_id=child_id,
            police_unit=Unit.objects.get(name="廉州派出所"),
            due_on=_today() + dt.timedelta(days=30),
            created_by=world.users["county_admin"],
        )
    return task.pk


def routes(m: ModuleType) -> dict[str, Any]:
    def child(ctx: Any) -> Child:
        return ctx.child or Child.objects.get(pk=ctx.world.children["a1"].pk)

    def name(ctx: Any) -> str:
        return ctx.child.name if ctx.child else ""

    def version(ctx: Any) -> int:
        return Child.objects.get(pk=child(ctx).pk).version

    def case_count(ctx: Any) -> Hashable:
        return DropoutCase.objects.filter(child=child(ctx)).count()

    def case_states(ctx: Any) -> Hashable:
        return tuple(DropoutCase.objects.filter(child=child(ctx)).values_list("state", flat=True))

    def attempt_count(ctx: Any) -> Hashable:
        return PersuasionAttempt.objects.filter(case__child=child(ctx)).count()

    def open_data(ctx: Any) -> dict[str, Any]:
        return {
            "version": version(ctx),
            "kind": "absence",
            "first_missed_on": (_today() - dt.timedelta(days=7)).isoformat(),
            "reported_on": _today().isoformat(),
            "reason": "矩阵测试：连续一周未到校",
        }

    def attempt_data(ctx: Any) -> dict[str, Any]:
        return {
            "attempted_on": _today().isoformat(),
            "method": "home_visit",
            "participants": "班主任、村儿童主任",
            "outcome": "refused",
        }

    def escalate_data(ctx: Any) -> dict[str, Any]:
        return {"confirm": "on"}

    def outcome_data(ctx: Any) -> dict[str, Any]:
        return {
            "version": version(ctx),
            "outcome": "returned",
            "returned_on": _today().isoformat(),
            "schooling": "primary",
        }

    def unregister_all(ctx: Any) -> None:
        keys = ("a1", "a2", "b1")
        Child.objects.filter(pk__in=[ctx.world.children[key].pk for key in keys]).update(
            hukou_registered=False
        )

    def unregister(ctx: Any) -> None:
        if ctx.child is not None:
            Child.objects.filter(pk=ctx.child.pk).update(hukou_registered=False)

    def task_count(ctx: Any) -> Hashable:
        return HukouTask.objects.count()

    def hukou_data(ctx: Any) -> dict[str, Any]:
        return {"version": version(ctx), "registered_on": _today().isoformat(), "note": "矩阵测试"}

    def registered(ctx: Any) -> Hashable:
        return Child.objects.get(pk=child(ctx).pk).hukou_registered

    return {
        "schooling:list": m.Route(None, (m.GET(list_gate),)),
        "schooling:case_new": m.Route(
            "child",
            (m.GET(opener, shows=name), m.Op("POST", 302, opener, open_data, effect=case_count)),
            note="school staff of the child's school report absence and dropout",
        ),
        "schooling:detail": m.Route("child", (m.GET(case_reader, shows=name),), lookup=_case),
        "schooling:attempt_new": m.Route(
            "child",
            (m.GET(attempter, shows=name), m.Op("POST", 302, attempter, attempt_data, effect=attempt_count)),
            lookup=_case,
        ),
        "schooling:escalate": m.Route(
            "child",
            (m.GET(escalator, shows=name), m.Op("POST", 302, escalator, escalate_data, effect=case_states)),
            lookup=_case_ready,
            note="the school's written report, after two failed attempts",
        ),
        "schooling:outcome": m.Route(
            "child",
            (m.GET(closer, shows=name), m.Op("POST", 302, closer, outcome_data, effect=case_states)),
            lookup=_case,
        ),
        "schooling:hukou": m.Route(None, (m.GET(hukou_gate),)),
        "schooling:hukou_generate": m.Route(
            None,
            (m.Op("POST", 302, generator_gate, setup=unregister_all, effect=task_count),),
            note="a1 and a2 get tasks at 廉州派出所; b1's township has no station",
        ),
        "schooling:hukou_done": m.Route(
            "child",
            (
                m.GET(registrar, shows=name),
                m.Op("POST", 302, registrar, hukou_data, setup=unregister, effect=registered),
            ),
            lookup=_task,
            note="police of the task's unit, for children their station serves",
        ),
    }
