"""Permission-matrix rows of the reports app, read by core/tests/test_permission_matrix.py.

A report is not the child's file (SECURITY.md AC-5): who reads it follows the report, not the
file's scope. For each child key the lookups make a report on that child, routed as filing
would route it: a1 and a2 (廉州镇) to 廉州派出所, whose officer is the `police` persona, with
the township supervisor named on it; b1 (党江镇, served by no station) to the county bureau,
made here, which has no persona; "other" (another county) to that county's bureau. Each report
has a reporter: the teacher (school_staff) filed the one on a1 and gets its status page, but
404 on the police record, like everyone not written below.
"""

import datetime as dt
import uuid
from collections.abc import Callable, Hashable
from types import ModuleType
from typing import Any

from django.utils import timezone

from accounts.models import RoleGrant
from geo.models import Unit, UnitKind
from registry.models import Child
from reports.models import (
    MemberKind,
    Placement,
    ProtectionPolicy,
    Report,
    ReportMember,
    ReportRouting,
    ReportState,
    ResponseAction,
)
from testing.world import World

READ = {"police", "county_admin", "township_supervisor"}
READERS: dict[str, set[str]] = {"a1": READ, "a2": READ, "b1": {"county_admin"}, "other": set()}
POLICE: dict[str, set[str]] = {"a1": {"police"}, "a2": {"police"}}
ADMINS: dict[str, set[str]] = {"a1": {"county_admin"}, "a2": {"county_admin"}, "b1": {"county_admin"}}
LINKERS: dict[str, set[str]] = {
    "a1": {"county_admin", "township_supervisor"},
    "a2": {"county_admin", "township_supervisor"},
    "b1": {"county_admin"},
}
ANSWERERS = {key: POLICE.get(key, set()) | ADMINS.get(key, set()) for key in ("a1", "a2", "b1")}
REPORTERS = {"a1": "school_staff", "a2": "village_worker", "b1": "visiting_cadre", "other": "county_officer"}
# Every data role files reports and reads the escalation settings; the 三员 and no_role do not.
FILERS = frozenset(
    {
        "county_admin",
        "county_officer",
        "township_supervisor",
        "village_worker",
        "school_staff",
        "police",
        "social_worker",
        "visiting_cadre",
        "provider_staff",  # social-work organisations and other providers must report too (R17)
    }
)


def _table(table: dict[str, set[str]]) -> Callable[[str, str | None], str | int]:
    def policy(persona: str, obj: str | None) -> str | int:
        return "ok" if persona in table.get(obj or "", set()) else 404

    return policy


def reporter(persona: str, obj: str | None) -> str | int:
    return "ok" if REPORTERS.get(obj or "") == persona else 404


def filer(persona: str, obj: str | None) -> str | int:
    """The data roles, and the hospital's 强制报告责任人员, whose only work is filing reports."""
    return "ok" if persona in FILERS | {"reporter"} else 403


# --- the reports the lookups make --------------------------------------------------------------


def _police_unit(child: Child) -> Unit:
    station = Unit.objects.filter(kind=UnitKind.POLICE_STATION, active=True, serves=child.township).first()
    if station is not None:
        return station
    unit, _ = Unit.objects.get_or_create(
        name=f"{child.county.name}公安局", region=child.county, defaults={"kind": UnitKind.POLICE_BUREAU}
    )
    return unit


def _make(world: World, key: str, state: str = ReportState.ROUTED, *, unknown: bool = False) -> Report:
    child = Child.objects.select_related("township", "county").get(pk=world.children[key].pk)
    user = world.users[REPORTERS[key]]
    grant = RoleGrant.objects.select_related("unit").get(user=user)
    unit = _police_unit(child)
    now = timezone.now()
    done = {ReportState.ACKNOWLEDGED: 1, ReportState.ATTENDED: 2}.get(state, 0)
    report = Report.objects.create(
        child=None if unknown else child,
        unknown_name="矩阵未建档儿童" if unknown else "",
        county=child.county,
        township=child.township,
        triggers=["living_alone"],
        found_at=now - dt.timedelta(minutes=10),
        found_place="矩阵测试地点",
        description="矩阵测试描述",
        reporter=user,
        reporter_unit=grant.unit,
        reporter_role=grant.get_role_display(),
        reported_at=now - dt.timedelta(minutes=8),
        routed_unit=unit,
        routed_at=now - dt.timedelta(minutes=8),
        state=state,
        acknowledged_at=now - dt.timedelta(minutes=5) if done else None,
        acknowledged_by=world.users["police"] if done else None,
        attended_at=now - dt.timedelta(minutes=2) if done > 1 else None,
        attended_by=world.users["police"] if done > 1 else None,
        submission_key=uuid.uuid4(),
    )
    ReportRouting.objects.create(report=report, unit=unit, routed_at=report.routed_at)
    if child.township_id == world.township_a.pk:
        ReportMember.objects.create(
            report=report, user=world.users["township_supervisor"], kind=MemberKind.SUPERVISOR, named_at=now
        )
    return report


def _routed(world: World, key: str) -> uuid.UUID:
    return _make(world, key).pk


def _acknowledged(world: World, key: str) -> uuid.UUID:
    return _make(world, key, ReportState.ACKNOWLEDGED).pk


def _attended(world: World, key: str) -> uuid.UUID:
    return _make(world, key, ReportState.ATTENDED).pk


def _unknown(world: World, key: str) -> uuid.UUID:
    """A report on an unknown child found in the key's township (to be linked to its file)."""
    return _make(world, key, unknown=True).pk


def _placement(world: World, key: str) -> dict[str, Any]:
    report = _make(world, key, ReportState.ACKNOWLEDGED)
    placement = Placement.objects.create(
        report=report,
        kind="relative",
        place="矩阵测试亲属家",
        started_on=timezone.localdate(),
        recorded_by=world.users["police"],
    )
    return {"report_id": report.pk, "placement_id": placement.pk}


def _member(world: World, key: str) -> dict[str, Any]:
    report = _make(world, key)
    member = ReportMember.objects.create(
        report=report,
        user=world.users["social_worker"],
        kind=MemberKind.SOCIAL_WORKER,
        named_at=timezone.now(),
    )
    return {"report_id": report.pk, "member_id": member.pk}


# --- the rows ----------------------------------------------------------------------------------


def routes(m: ModuleType) -> dict[str, Any]:
    def now() -> str:
        return timezone.localtime().strftime("%Y-%m-%dT%H:%M")

    def today() -> str:
        return timezone.localdate().isoformat()

    def of_child(ctx: Any) -> Any:
        return Report.objects.filter(child=ctx.child) if ctx.child else Report.objects.none()

    def in_state(state: str) -> Callable[[Any], Hashable]:
        return lambda ctx: of_child(ctx).filter(state=state).count()

    def name(ctx: Any) -> str:
        return ctx.child.name if ctx.child else ""

    def new_data(ctx: Any) -> dict[str, Any]:
        user = ctx.world.users.get(ctx.persona)
        grant = RoleGrant.objects.filter(user=user).first() if user else None
        return {
            "action": "file",
            "submission_key": str(uuid.uuid4()),
            "unknown_name": "矩阵新报告儿童",
            "unknown_sex": "unknown",
            "township": str(ctx.world.township_a.pk),
            "triggers": "living_alone",  # the matrix posts one value per key
            "found_at": now(),
            "found_place": "矩阵测试地点",
            "description": "矩阵测试描述",
            "grant": str(grant.pk) if grant else "",
        }

    def policy_data(ctx: Any) -> dict[str, Any]:
        return {
            "county": str(ctx.world.county.pk),
            "escalate_after_minutes": 20,
            "escalate_again_minutes": 90,
        }

    def policy_state(ctx: Any) -> Hashable:
        return (
            ProtectionPolicy.objects.filter(county=ctx.world.county)
            .values_list("escalate_after_minutes", flat=True)
            .first()
        )

    def jurisdiction_data(ctx: Any) -> dict[str, Any]:
        """廉州镇 (a1, a2) without a station: its reports would go to the county bureau."""
        return {"county": str(ctx.world.county.pk), f"t_{ctx.world.township_a.pk}": ""}

    def jurisdiction_state(ctx: Any) -> Hashable:
        return tuple(sorted(Unit.objects.filter(serves=ctx.world.township_a).values_list("name", flat=True)))

    def reroute_data(ctx: Any) -> dict[str, Any]:
        target, _ = Unit.objects.get_or_create(
            name="矩阵改派派出所", region=ctx.world.county, defaults={"kind": UnitKind.POLICE_STATION}
        )
        return {"unit": str(target.pk), "reason": "矩阵测试：改派"}

    def reroutings(ctx: Any) -> Hashable:
        return ReportRouting.objects.filter(report__in=of_child(ctx)).count()

    def action_count(ctx: Any) -> Hashable:
        return ResponseAction.objects.filter(report__in=of_child(ctx)).count()

    def placement_count(ctx: Any) -> Hashable:
        return Placement.objects.filter(report__in=of_child(ctx)).count()

    def ended_placements(ctx: Any) -> Hashable:
        return Placement.objects.filter(report__in=of_child(ctx), ended_on__isnull=False).count()

    def with_feedback(ctx: Any) -> Hashable:
        return of_child(ctx).exclude(feedback="").count()

    def active_workers(ctx: Any) -> Hashable:
        return ReportMember.objects.filter(
            report__in=of_child(ctx), kind=MemberKind.SOCIAL_WORKER, active=True
        ).count()

    def linked(ctx: Any) -> Hashable:
        return of_child(ctx).count()

    def member_data(ctx: Any) -> dict[str, Any]:
        return {"kind": MemberKind.SOCIAL_WORKER, "member": str(ctx.world.users["social_worker"].pk)}

    def link_data(ctx: Any) -> dict[str, Any]:
        return {"action": "link", "child": str(ctx.child.pk) if ctx.child else ""}

    readers, police, admins = _table(READERS), _table(POLICE), _table(ADMINS)
    linkers, answerers = _table(LINKERS), _table(ANSWERERS)
    return {
        "reports:list": m.Route(
            None, (m.GET(shows=lambda ctx: "强制报告"),), note="scoped list; empty for most"
        ),
        "reports:mine": m.Route(None, (m.GET(shows=lambda ctx: "我提交的报告"),)),
        "reports:new": m.Route(
            None,
            (
                m.GET(filer, shows=lambda ctx: "本系统不能代替报警：情况紧急请立即拨打 110"),
                m.Op("POST", 302, filer, new_data, effect=lambda ctx: Report.objects.count()),
            ),
            note="every data role files; the 三员 and no_role get 403",
        ),
        "reports:policy": m.Route(
            None,
            (
                m.GET(filer, shows=lambda ctx: "强制报告升级设置"),
                m.Op("POST", 302, m.admin_gate, policy_data, effect=policy_state),
            ),
            note="data roles read the escalation windows; the county admin changes them",
        ),
        "reports:jurisdiction": m.Route(
            None,
            (
                m.GET(m.admin_gate, shows=lambda ctx: "强制报告受理单位"),
                m.Op("POST", 302, m.admin_gate, jurisdiction_data, effect=jurisdiction_state),
            ),
            note="the county admin keeps the jurisdiction map (township → police station)",
        ),
        "reports:detail": m.Route("child", (m.GET(readers, shows=name),), lookup=_routed),
        "reports:status": m.Route(
            "child",
            (m.GET(reporter, shows=lambda ctx: "报告处理情况"),),
            lookup=_routed,
            note="the reporter only: the teacher who filed a1 gets this, and 404 on the detail",
        ),
        "reports:acknowledge": m.Route(
            "child",
            (m.Op("POST", 302, police, effect=in_state(ReportState.ACKNOWLEDGED)),),
            lookup=_routed,
        ),
        "reports:attend": m.Route(
            "child",
            (
                m.Op(
                    "POST",
                    302,
                    police,
                    lambda ctx: {"attended_at": now()},
                    effect=in_state(ReportState.ATTENDED),
                ),
            ),
            lookup=_acknowledged,
        ),
        "reports:action_new": m.Route(
            "child",
            (
                m.Op(
                    "POST",
                    302,
                    police,
                    lambda ctx: {"kind": "admonition", "done_at": now(), "note": ""},
                    effect=action_count,
                ),
            ),
            lookup=_acknowledged,
        ),
        "reports:placement_new": m.Route(
            "child",
            (
                m.Op(
                    "POST",
                    302,
                    police,
                    lambda ctx: {"kind": "relative", "place": "矩阵亲属家", "started_on": today()},
                    effect=placement_count,
                ),
            ),
            lookup=_acknowledged,
        ),
        "reports:placement_end": m.Route(
            "child",
            (
                m.Op(
                    "POST",
                    302,
                    police,
                    lambda ctx: {"ended_on": today(), "return_assessment": "矩阵测试：可返家"},
                    effect=ended_placements,
                ),
            ),
            lookup=_placement,
        ),
        "reports:township_notify": m.Route(
            "child",
            (m.Op("POST", 302, police, effect=in_state(ReportState.TOWNSHIP_NOTIFIED)),),
            lookup=_attended,
        ),
        "reports:reroute": m.Route(
            "child",
            (m.Op("POST", 302, admins, reroute_data, effect=reroutings),),
            lookup=_routed,
            note="county admins (and the county bureau, which has no persona here)",
        ),
        "reports:feedback": m.Route(
            "child",
            (m.Op("POST", 302, answerers, lambda ctx: {"feedback": "矩阵测试反馈"}, effect=with_feedback),),
            lookup=_routed,
        ),
        "reports:member_name": m.Route(
            "child", (m.Op("POST", 302, admins, member_data, effect=active_workers),), lookup=_routed
        ),
        "reports:member_end": m.Route(
            "child", (m.Op("POST", 302, admins, effect=active_workers),), lookup=_member
        ),
        "reports:link_child": m.Route(
            "child",
            (
                m.GET(linkers, shows=lambda ctx: "关联儿童档案"),
                m.Op("POST", 302, linkers, link_data, effect=linked),
            ),
            lookup=_unknown,
            note="a report on an unknown child of the key's township, linked to the key's file",
        ),
    }
