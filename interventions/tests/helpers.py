"""Reports made with the ORM for the interventions tests and matrix rows (the reports app's own
filing service is not needed to test who reads what here).

A report on a1 or a2 (廉州镇) is routed to 廉州派出所 (the `police` persona) and names the
township supervisor, as filing does; a report on b1 (党江镇, which no station serves) goes to a
county police bureau made here; a report on the other county's child goes to a station there.
"""

import datetime as dt
import uuid
from typing import Any

from django.utils import timezone

from accounts.models import Role, RoleGrant
from geo.models import Region, Unit, UnitKind
from interventions.models import Guardian
from registry.models import Child, Parent
from reports.models import MemberKind, Report, ReportMember
from testing.world import World


def _unit(name: str, kind: str, region: Region) -> Unit:
    unit, _ = Unit.objects.get_or_create(name=name, region=region, defaults={"kind": kind})
    return unit


def routed_unit(world: World, child: Child) -> Unit:
    if child.township_id == world.township_a.id:
        return RoleGrant.objects.get(user=world.users["police"], role=Role.POLICE).unit
    if child.county_id == world.county.id:
        return _unit("合浦县公安局", UnitKind.POLICE_BUREAU, world.county)
    return _unit("外县派出所", UnitKind.POLICE_STATION, child.township)


def make_report(world: World, key: str, *, social_worker: bool = False, **overrides: Any) -> Report:
    child = Child.objects.get(pk=world.children[key].pk)
    now = timezone.now()
    values: dict[str, Any] = {
        "child": child,
        "county": child.county,
        "township": child.township,
        "triggers": ["living_alone"],
        "found_at": now - dt.timedelta(hours=2),
        "found_place": "村口",
        "description": "测试：儿童独自在家多日",
        "reporter": world.users["school_staff"],
        "reporter_unit": world.school,
        "reporter_role": "班主任",
        "reported_at": now - dt.timedelta(hours=1),
        "routed_unit": routed_unit(world, child),
        "routed_at": now - dt.timedelta(hours=1),
        "submission_key": uuid.uuid4(),
    }
    values.update(overrides)
    report = Report.objects.create(**values)
    if child.township_id == world.township_a.id:
        ReportMember.objects.create(
            report=report, user=world.users["township_supervisor"], kind=MemberKind.SUPERVISOR, named_at=now
        )
    if social_worker:
        ReportMember.objects.create(
            report=report, user=world.users["social_worker"], kind=MemberKind.SOCIAL_WORKER, named_at=now
        )
    return report


def father_guardian(world: World, report: Report) -> Guardian:
    father = Parent.objects.get(child=report.child, role="father")
    return Guardian.objects.create(
        report=report,
        parent=father,
        name=father.name,
        relation="father",
        added_by=world.users["county_admin"],
    )


def police_unit(world: World) -> Unit:
    return RoleGrant.objects.get(user=world.users["police"], role=Role.POLICE).unit


def grant_unit(world: World, persona: str) -> Unit:
    return RoleGrant.objects.filter(user=world.users[persona]).first().unit  # type: ignore[union-attr]


def intervention_post(unit: Unit, **overrides: Any) -> dict[str, Any]:
    data: dict[str, Any] = {
        "submission_key": str(uuid.uuid4()),
        "kind": "criticism",
        "on": "2028-03-10",
        "unit": str(unit.pk),
        "concerns": ["begging"],
        "note": "在集市发现儿童乞讨，当面批评教育",
    }
    data.update(overrides)
    return {k: v for k, v in data.items() if v is not None}
