"""Helpers of the cases tests (and of cases/tests/matrix_routes.py): reports and cases made
directly with the ORM in the state a test needs, and form data.

The reports: a1 and a2 (廉州镇) are routed to 廉州派出所 (the `police` persona) with the
township supervisor named; b1 (党江镇) to the county police bureau; `other` (another county) to
that county's bureau. The social worker is named only when asked (as after accepting a
referral).
"""

import datetime as dt
import uuid
from typing import Any

from django.utils import timezone

from accounts.models import User
from cases.models import Case, CaseState, FollowUp, Measure, MeasureKind, MeasureStatus
from geo.models import Region, Unit, UnitKind
from reports.models import MemberKind, Report, ReportMember, ReportState
from testing.world import World

DESCRIPTION = "孩子独自在家三天，身上有多处淤青"
PLACE = "甲一村村委会旁小卖部"


def unit(name: str) -> Unit:
    return Unit.objects.get(name=name)


def police_unit(world: World, key: str) -> Unit:
    if key in ("a1", "a2"):
        return unit("廉州派出所")
    if key == "b1":
        found, _ = Unit.objects.get_or_create(
            name="合浦县公安局", region=world.county, defaults={"kind": UnitKind.POLICE_BUREAU}
        )
        return found
    county = world.village_other.parent.parent  # type: ignore[union-attr]
    found, _ = Unit.objects.get_or_create(
        name="外县公安局", region=county, defaults={"kind": UnitKind.POLICE_BUREAU}
    )
    return found


def social_station(world: World, key: str) -> Unit:
    """The social-work unit a referral of this child goes to (another county's for `other`)."""
    if key != "other":
        return unit("合浦县社工站")
    county = world.village_other.parent.parent  # type: ignore[union-attr]
    found, _ = Unit.objects.get_or_create(
        name="外县社工站", region=county, defaults={"kind": UnitKind.SOCIAL_WORK}
    )
    return found


def township_government(world: World) -> Unit:
    return unit("廉州镇人民政府")


def name(report: Report, user: User, kind: str) -> ReportMember:
    return ReportMember.objects.create(
        report=report, user=user, kind=kind, active=True, named_at=timezone.now(), named_by=None
    )


def make_report(
    world: World,
    key: str = "a1",
    *,
    state: str = ReportState.TOWNSHIP_NOTIFIED,
    supervisor: bool = True,
    social_worker: bool = False,
) -> Report:
    child = world.children[key]
    now = timezone.now()
    notified = state == ReportState.TOWNSHIP_NOTIFIED
    report = Report.objects.create(
        child=child,
        county=Region.objects.get(pk=child.county_id),
        township=Region.objects.get(pk=child.township_id),
        triggers=["living_alone"],
        found_at=now - dt.timedelta(hours=3),
        found_place=PLACE,
        description=DESCRIPTION,
        reporter=world.users["school_staff"],
        reporter_unit=world.school,
        reporter_role="班主任",
        reported_at=now - dt.timedelta(hours=2),
        routed_unit=police_unit(world, key),
        routed_at=now - dt.timedelta(hours=2),
        state=state,
        acknowledged_at=now - dt.timedelta(hours=2) if state != ReportState.ROUTED else None,
        township_notified_at=now - dt.timedelta(hours=1) if notified else None,
        submission_key=uuid.uuid4(),
    )
    if supervisor and key in ("a1", "a2"):
        name(report, world.users["township_supervisor"], MemberKind.SUPERVISOR)
    if social_worker:
        name(report, world.users["social_worker"], MemberKind.SOCIAL_WORKER)
    return report


def make_case(
    world: World,
    key: str = "a1",
    *,
    state: str = CaseState.ASSISTING,
    social_worker: bool = False,
    requested_by: str = "social_worker",
    report: Report | None = None,
    case_id: uuid.UUID | None = None,
) -> Case:
    """A case in `state`: closing cases were asked to close by `requested_by`."""
    report = report or make_report(world, key, social_worker=social_worker)
    now = timezone.now()
    closing = state in (CaseState.CLOSING, CaseState.CLOSED)
    requester = world.users[requested_by] if closing else None
    return Case.objects.create(
        id=case_id or uuid.uuid4(),
        report=report,
        child=report.child,
        township=report.township,
        state=state,
        risk="" if state == CaseState.ASSESSING else "medium",
        opened_at=now - dt.timedelta(minutes=30),
        opened_by=world.users["county_admin"],
        close_reason="监护人已返乡，儿童情况稳定" if closing else "",
        close_requested_at=now - dt.timedelta(minutes=5) if closing else None,
        close_requested_by=requester,
        closed_at=now - dt.timedelta(minutes=1) if state == CaseState.CLOSED else None,
        closed_by=world.users["county_admin"] if state == CaseState.CLOSED else None,
    )


def make_measure(
    world: World,
    case: Case,
    *,
    at: Unit | None = None,
    status: str = MeasureStatus.REFERRED,
    kind: str = MeasureKind.COUNSELLING,
    due_in_days: int = 14,
    note: str = "每周一次心理疏导，连续一个月",
) -> Measure:
    """A measure at the social-work station by default (a referral)."""
    target = at or social_station(world, "a1")
    referral = target.kind not in (UnitKind.TOWNSHIP_GOVERNMENT, UnitKind.CIVIL_AFFAIRS)
    now = timezone.now()
    answered = status not in (MeasureStatus.REFERRED,) and referral
    return Measure.objects.create(
        case=case,
        kind=kind,
        unit=target,
        due_on=timezone.localdate() + dt.timedelta(days=due_in_days),
        note=note,
        status=status,
        is_referral=referral,
        assigned_at=now - dt.timedelta(minutes=20),
        assigned_by=world.users["county_admin"],
        responded_at=now - dt.timedelta(minutes=10) if answered else None,
        responded_by=world.users["social_worker"] if answered else None,
        decline_reason="本周人手不足" if status == MeasureStatus.DECLINED else "",
        cancel_reason="情况已变化" if status == MeasureStatus.CANCELLED else "",
    )


def make_follow_up(world: World, case: Case, *, to: str = "village_worker", due_in_days: int = 7) -> FollowUp:
    return FollowUp.objects.create(
        case=case,
        due_on=timezone.localdate() + dt.timedelta(days=due_in_days),
        assigned_to=world.users[to],
        scheduled_at=timezone.now() - dt.timedelta(minutes=15),
        scheduled_by=world.users["township_supervisor"],
    )


def fresh(case: Case) -> Case:
    return Case.objects.select_related("report").get(pk=case.pk)


def assessment_post(case: Case, **overrides: Any) -> dict[str, Any]:
    data: dict[str, Any] = {
        "version": fresh(case).version,
        "assessed_on": timezone.localdate().isoformat(),
        "participants": ["township", "civil_affairs", "police"],
        "safety": "concern",
        "guardianship": "serious",
        "physical_health": "good",
        "mental_health": "concern",
        "risk": "high",
        "dibao_status": "eligible",
        "tekun_status": "not_eligible",
        "temporary_relief_status": "applied",
        "notes": "祖母年迈，无力照料；儿童情绪低落",
    }
    data.update(overrides)
    return {k: v for k, v in data.items() if v is not None}
