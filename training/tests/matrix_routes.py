"""Permission-matrix rows of the training app, read by core/tests/test_permission_matrix.py.

The policy of training/access.py, written out per persona (not imported, so that a change
there shows up here as a failing case). Each case on a session gets a fresh session of the
World's county (合浦县) with the village worker (甲一村, 廉州镇) attending; the worker pages
are tried on the village worker. The county admin, the county officer and the township
supervisor (廉州镇) read sessions, histories and the no-training list; only the county admin
records; every worker reads their own history. Everyone else gets 403 on every page; a
missing session or worker 404. Sessions of another county and workers outside a
supervisor's township (404) are tried in training/tests/test_access.py.
"""

import datetime as dt
import uuid
from collections.abc import Hashable
from decimal import Decimal
from types import ModuleType
from typing import Any

from django.utils import timezone

from geo.models import Unit
from testing.world import World
from training.models import Attendance, TrainingSession

MISSING = "missing"  # core/tests/test_permission_matrix.py MISSING: a uuid that names nothing
TOPIC = "矩阵测试培训"
READERS = frozenset({"county_admin", "county_officer", "township_supervisor"})
RECORDERS = frozenset({"county_admin"})
WORKERS = frozenset(
    {
        "county_officer",
        "township_supervisor",
        "village_worker",
        "school_staff",
        "social_worker",
        "visiting_cadre",
        "provider_staff",
    }
)


def read_gate(persona: str, obj: str | None) -> str | int:
    """The role gate first (403 for any id); a reader gets 404 for a missing one."""
    if persona not in READERS:
        return 403
    return 404 if obj == MISSING else "ok"


def record_gate(persona: str, obj: str | None) -> str | int:
    """Role gate (403), then the session (404 when missing), then the recorder (403)."""
    if persona not in READERS:
        return 403
    if obj == MISSING:
        return 404
    return "ok" if persona in RECORDERS else 403


def readers_only(persona: str, obj: str | None) -> str | int:
    return "ok" if persona in READERS else 403


def recorders_only(persona: str, obj: str | None) -> str | int:
    return "ok" if persona in RECORDERS else 403


def workers_only(persona: str, obj: str | None) -> str | int:
    return "ok" if persona in WORKERS else 403


def _civil_affairs() -> Unit:
    return Unit.objects.get(name="合浦县民政局")


def _session(world: World, key: str) -> uuid.UUID:
    session = TrainingSession.objects.create(
        county=world.county,
        organiser=_civil_affairs(),
        topic=TOPIC,
        held_on=timezone.localdate() - dt.timedelta(days=3),
        hours=Decimal("3"),
        audience=["village_worker"],
        created_by=world.users["county_admin"],
    )
    Attendance.objects.create(session=session, user=world.users["village_worker"])
    return session.pk


def _attendance(world: World, key: str) -> dict[str, uuid.UUID]:
    session_id = _session(world, key)
    attendance = Attendance.objects.get(session_id=session_id)
    return {"session_id": session_id, "attendance_id": attendance.pk}


def _worker(world: World, key: str) -> uuid.UUID:
    return world.users["village_worker"].pk


def _sessions(ctx: Any) -> Hashable:
    return tuple(TrainingSession.objects.order_by("pk").values_list("topic", "version"))


def _session_count(ctx: Any) -> Hashable:
    return TrainingSession.objects.count()


def _attendance_count(ctx: Any) -> Hashable:
    return Attendance.objects.count()


def _session_data(ctx: Any) -> dict[str, Any]:
    existing = TrainingSession.objects.filter(topic=TOPIC).first()
    return {
        "version": existing.version if existing else 1,
        "topic": f"{TOPIC}（已修改）",
        "held_on": (timezone.localdate() - dt.timedelta(days=1)).isoformat(),
        "hours": "2.5",
        "organiser": str(_civil_affairs().pk),
        "audience": "village_worker",
        "trainer": "矩阵授课人",
    }


def _add_data(ctx: Any) -> dict[str, Any]:
    return {"action": "add", "workers": str(ctx.world.users["school_staff"].pk)}


def routes(m: ModuleType) -> dict[str, Any]:
    def topic(ctx: Any) -> str:
        return TOPIC

    def worker_name(ctx: Any) -> str:
        return str(ctx.world.users["village_worker"].full_name)

    def own_history(ctx: Any) -> str:
        return "我的培训记录"

    def untrained_title(ctx: Any) -> str:
        return "年度未参加培训人员"

    return {
        "training:list": m.Route(None, (m.GET(readers_only, shows=lambda ctx: "业务培训"),)),
        "training:new": m.Route(
            None,
            (m.GET(recorders_only), m.Op("POST", 302, recorders_only, _session_data, effect=_session_count)),
        ),
        "training:detail": m.Route("session", (m.GET(read_gate, shows=topic),), lookup=_session),
        "training:edit": m.Route(
            "session",
            (
                m.GET(record_gate, shows=topic),
                m.Op("POST", 302, record_gate, _session_data, effect=_sessions),
            ),
            lookup=_session,
        ),
        "training:attendees": m.Route(
            "session",
            (
                m.GET(record_gate, shows=topic),
                m.Op("POST", 302, record_gate, _add_data, effect=_attendance_count),
            ),
            lookup=_session,
            note="the county admin picks the county's workers (and adds guests)",
        ),
        "training:attendee_remove": m.Route(
            "session",
            (m.Op("POST", 302, record_gate, effect=_attendance_count),),
            lookup=_attendance,
        ),
        "training:worker": m.Route("worker", (m.GET(read_gate, shows=worker_name),), lookup=_worker),
        "training:me": m.Route(None, (m.GET(workers_only, shows=own_history),)),
        "training:untrained": m.Route(None, (m.GET(readers_only, shows=untrained_title),)),
        "training:untrained_export": m.Route(None, (m.GET(readers_only),), note="an .xlsx download"),
    }
