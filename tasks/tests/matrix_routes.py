"""Permission-matrix rows of the tasks app, read by core/tests/test_permission_matrix.py.

Each case on a task gets a fresh task of the World's county: lead 廉州镇人民政府 (the township
supervisor and the visiting cadre work there), participants 合浦县民政局 (the county admin,
and the 三员, who must still not see it), 合浦县教育局 (the county officer) and 廉州派出所
(police). Those who see it: the county admin and the lead's and participants' users; everyone
else gets 404 as for a missing task. Among those who see it, only the county admin edits,
confirms, returns and cancels, only the lead proposes it done: the others get 403. Creating
tasks and the templates are for the county admin (403 for everyone else).
"""

import datetime as dt
import uuid
from collections.abc import Hashable
from types import ModuleType
from typing import Any

from django.utils import timezone

from geo.models import Unit
from tasks.models import Task, TaskParticipant, TaskProgress, TaskTemplate
from testing.world import World

MISSING = "missing"  # core/tests/test_permission_matrix.py MISSING: a uuid that names nothing
ADMINS = frozenset({"county_admin"})
LEADS = frozenset({"township_supervisor", "visiting_cadre"})
VIEWERS = ADMINS | LEADS | {"county_officer", "police"}
# The county admin reports too: civil affairs is a participant of the sample task.
REPORTERS = VIEWERS
LEAD_UNIT = "廉州镇人民政府"
PARTICIPANTS = ("合浦县民政局", "合浦县教育局", "廉州派出所")


def _gate(allowed: frozenset[str]) -> Any:
    """Visibility first (404, like missing), then the action's own permission (403)."""

    def policy(persona: str, obj: str | None) -> str | int:
        if obj == MISSING or persona not in VIEWERS:
            return 404
        return "ok" if persona in allowed else 403

    return policy


def visible(persona: str, obj: str | None) -> str | int:
    return "ok" if obj != MISSING and persona in VIEWERS else 404


manage = _gate(ADMINS)
lead = _gate(LEADS)
report = _gate(REPORTERS)


def template_gate(persona: str, obj: str | None) -> str | int:
    """The role gate first (403 for any id, missing or not); the county admin gets 404 for a
    missing template."""
    if persona not in ADMINS:
        return 403
    return 404 if obj == MISSING else "ok"


def _unit(name: str) -> Unit:
    return Unit.objects.get(name=name)


def _task(world: World, key: str, **extra: Any) -> uuid.UUID:
    task = Task.objects.create(
        county=world.county,
        title="矩阵督办任务",
        lead_unit=_unit(LEAD_UNIT),
        deadline=timezone.localdate() + dt.timedelta(days=30),
        created_by=world.users["county_admin"],
        **extra,
    )
    for name in PARTICIPANTS:
        TaskParticipant.objects.create(task=task, unit=_unit(name))
    return task.pk


def _proposed_task(world: World, key: str) -> uuid.UUID:
    return _task(
        world, key, done_proposed_at=timezone.now(), done_proposed_by=world.users["township_supervisor"]
    )


def _template(world: World, key: str) -> uuid.UUID:
    return TaskTemplate.objects.create(name=f"矩阵模板 {uuid.uuid4().hex[:8]}").pk


def _states(ctx: Any) -> Hashable:
    return tuple(Task.objects.order_by("pk").values_list("state", "version", "done_proposed_at"))


def _titles(ctx: Any) -> Hashable:
    return tuple(Task.objects.order_by("pk").values_list("title", "version"))


def _task_count(ctx: Any) -> Hashable:
    return Task.objects.count()


def _progress_count(ctx: Any) -> Hashable:
    return TaskProgress.objects.count()


def _template_rows(ctx: Any) -> Hashable:
    return tuple(TaskTemplate.objects.order_by("pk").values_list("name", "updated_at"))


def _task_data(ctx: Any) -> dict[str, Any]:
    existing = Task.objects.first()
    return {
        "version": existing.version if existing else 1,
        "title": "矩阵督办任务（已修改）",
        "lead_unit": str(_unit(LEAD_UNIT).pk),
        "participants": str(_unit("合浦县教育局").pk),
        "deadline": (timezone.localdate() + dt.timedelta(days=60)).isoformat(),
    }


def _template_data(ctx: Any) -> dict[str, Any]:
    return {"name": f"矩阵新模板 {uuid.uuid4().hex[:8]}", "position": 5, "active": "on"}


def routes(m: ModuleType) -> dict[str, Any]:
    def title(ctx: Any) -> str:
        return "矩阵督办任务"

    def progress_data(ctx: Any) -> dict[str, Any]:
        # The unit field: the first of the persona's units on the task (each has one here).
        mine = {
            "county_admin": "合浦县民政局",
            "county_officer": "合浦县教育局",
            "police": "廉州派出所",
        }.get(ctx.persona, LEAD_UNIT)
        return {
            "submission_key": str(uuid.uuid4()),
            "unit": str(_unit(mine).pk),
            "text": "矩阵测试：已走访",
            "percent": 40,
        }

    return {
        "tasks:list": m.Route(None, (m.GET(),), note="each user's own tasks (none for most roles)"),
        "tasks:new": m.Route(
            None,
            (m.GET(m.admin_gate), m.Op("POST", 302, m.admin_gate, _task_data, effect=_task_count)),
        ),
        "tasks:templates": m.Route(None, (m.GET(m.admin_gate),)),
        "tasks:template_new": m.Route(
            None,
            (m.GET(m.admin_gate), m.Op("POST", 302, m.admin_gate, _template_data, effect=_template_rows)),
        ),
        "tasks:template_edit": m.Route(
            "template",
            (m.GET(template_gate), m.Op("POST", 302, template_gate, _template_data, effect=_template_rows)),
            lookup=_template,
        ),
        "tasks:detail": m.Route("task", (m.GET(visible, shows=title),), lookup=_task),
        "tasks:edit": m.Route(
            "task",
            (m.GET(manage, shows=title), m.Op("POST", 302, manage, _task_data, effect=_titles)),
            lookup=_task,
        ),
        "tasks:progress": m.Route(
            "task",
            (m.GET(report, shows=title), m.Op("POST", 302, report, progress_data, effect=_progress_count)),
            lookup=_task,
        ),
        "tasks:propose_done": m.Route(
            "task",
            (m.Op("POST", 302, lead, lambda ctx: {"note": "矩阵测试：已全部完成"}, effect=_states),),
            lookup=_task,
        ),
        "tasks:done": m.Route(
            "task", (m.Op("POST", 302, manage, lambda ctx: {"note": ""}, effect=_states),), lookup=_task
        ),
        "tasks:return": m.Route(
            "task",
            (m.Op("POST", 302, manage, lambda ctx: {"reason": "矩阵测试：材料不全"}, effect=_states),),
            lookup=_proposed_task,
        ),
        "tasks:cancel": m.Route(
            "task",
            (m.Op("POST", 302, manage, lambda ctx: {"reason": "矩阵测试：并入其他任务"}, effect=_states),),
            lookup=_task,
        ),
    }
