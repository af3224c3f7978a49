"""Writes of the reports app: filing, routing, escalation and the police's emergency response.

Every service runs in one transaction, changes rows only through full_clean() and save() (a
history row each, `_history_user` set) and writes its audit row (object_type "report") in the
same transaction. A refused transition raises ValidationError with a Chinese message, keyed
by form field where there is one, and writes nothing. Transitions lock the report row first,
so two officers pressing 受理 at once give one acknowledgement and one clear refusal.

Notifications (notify.services.notification_send, in-app) name no child: they say a report
was filed in a township, escalated or answered, and link to the report's page, where the
access layer decides again. A notification outlives the access it was sent under (a
re-routing, an ended membership), so it carries nothing the access layer would have to take
back; and mail and SMS copies leave the system. They never carry an ID or phone number
(notification_send refuses them).
"""

import datetime as dt
import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Q, QuerySet
from django.urls import reverse
from django.utils import timezone

from accounts.models import Role, RoleGrant, User
from audit.models import EventType
from audit.services import audit_event
from geo.models import Region, RegionLevel, Unit, UnitKind
from notify.services import notification_send, personal_number_error
from registry.access import children_visible_to
from registry.models import Child
from reports import routing
from reports.access import filing_grants
from reports.models import (
    MemberKind,
    Placement,
    PlacementKind,
    ProtectionPolicy,
    Report,
    ReportEscalation,
    ReportMember,
    ReportRouting,
    ReportState,
    ResponseAction,
    ResponseKind,
    UnknownSex,
)
from reports.triggers import BY_CODE

# A clock a few minutes ahead on a phone is not a reason to refuse a report.
CLOCK_SLACK = dt.timedelta(minutes=5)
MAX_ESCALATION = 2
MEMBER_ROLES: dict[str, frozenset[str]] = {
    MemberKind.SUPERVISOR: frozenset({Role.TOWNSHIP_SUPERVISOR, Role.COUNTY_ADMIN, Role.COUNTY_OFFICER}),
    MemberKind.SOCIAL_WORKER: frozenset({Role.SOCIAL_WORKER}),
}
KIND = "report"


@dataclass(frozen=True)
class ReportData:
    """What the reporter filed. Either `child` (a file the reporter may see) or the unknown
    child's name (with `township`, where the child was found)."""

    submission_key: uuid.UUID
    grant: RoleGrant  # the reporter's unit and role
    triggers: list[str]
    found_at: dt.datetime
    found_place: str
    description: str
    child: Child | None = None
    unknown_name: str = ""
    unknown_sex: str = ""
    unknown_age: int | None = None
    township: Region | None = None


# --- helpers ---------------------------------------------------------------------------------


def _audit(
    user: User | None, report: Report, change: str, action: str = EventType.UPDATE, **detail: object
) -> None:
    audit_event(
        user=user,
        action=action,
        object_type="report",
        object_id=report.pk,
        detail={"change": change, **detail},
    )


def _lock(report: Report) -> Report:
    return (
        Report.objects.select_for_update()
        .select_related("township", "county", "routed_unit")
        .get(pk=report.pk)
    )


def _save(report: Report, user: User | None, fields: list[str]) -> Report:
    report.version += 1
    report._history_user = user  # type: ignore[attr-defined]
    report.full_clean()
    report.save(update_fields=[*fields, "version"])
    return report


def _minute(moment: dt.datetime) -> dt.datetime:
    """Times are typed to the minute: compare what the user could have typed."""
    return moment.replace(second=0, microsecond=0)


def _local(moment: dt.datetime) -> str:
    return f"{timezone.localtime(moment):%m月%d日 %H:%M}"


def _not_future(moment: dt.datetime, field: str, label: str) -> None:
    if moment > timezone.now() + CLOCK_SLACK:
        raise ValidationError({field: f"{label}不能晚于现在。"})


def _not_future_day(day: dt.date, field: str, label: str) -> None:
    if day > timezone.localdate():
        raise ValidationError({field: f"{label}不能晚于今天。"})


def _text(value: str, field: str, label: str) -> str:
    value = value.strip()
    if not value:
        raise ValidationError({field: f"请填写{label}。"})
    return value


def _grant_users(q: Q) -> list[User]:
    grants = (
        RoleGrant.objects.filter(q, active=True, unit__active=True, user__is_active=True)
        .select_related("user")
        .order_by("user__username")
    )
    return list({grant.user_id: grant.user for grant in grants}.values())


def _scoped_to(region: Region) -> Q:
    """Grants whose scope region is `region` (the grant's region, or else its unit's)."""
    return Q(region=region) | Q(region__isnull=True, unit__region=region)


def unit_police(unit: Unit) -> list[User]:
    return _grant_users(Q(role=Role.POLICE, unit=unit))


def county_admins(county: Region) -> list[User]:
    return _grant_users(Q(role=Role.COUNTY_ADMIN) & _scoped_to(county))


def township_supervisors(township: Region) -> list[User]:
    return _grant_users(Q(role=Role.TOWNSHIP_SUPERVISOR) & _scoped_to(township))


def bureau_police(county: Region) -> list[User]:
    return _grant_users(Q(role=Role.POLICE, unit__kind=UnitKind.POLICE_BUREAU, unit__region=county))


def _send(recipients: Iterable[User], *, kind: str, title: str, body: str, link: str) -> int:
    """One in-app notification per recipient (each once); returns how many were sent."""
    if personal_number_error(link):  # defensive: links hold UUIDs, which notify lets through
        link = reverse("reports:list")
    sent: set[uuid.UUID] = set()
    for user in recipients:
        if user.pk in sent or not user.is_active:
            continue
        sent.add(user.pk)
        notification_send(recipient=user, kind=kind, title=title, body=body, link=link)
    return len(sent)


def _detail_link(report: Report) -> str:
    return reverse("reports:detail", kwargs={"report_id": report.pk})


def _status_link(report: Report) -> str:
    return reverse("reports:status", kwargs={"report_id": report.pk})


def _name_supervisors(report: Report, township: Region, *, by: User | None, now: dt.datetime) -> list[User]:
    """Name the township's supervisors on the report (those not named yet)."""
    named = set(
        ReportMember.objects.filter(report=report, kind=MemberKind.SUPERVISOR, active=True).values_list(
            "user_id", flat=True
        )
    )
    added = [user for user in township_supervisors(township) if user.pk not in named]
    for user in added:
        member = ReportMember(report=report, user=user, kind=MemberKind.SUPERVISOR, named_at=now, named_by=by)
        member._history_user = by  # type: ignore[attr-defined]
        member.full_clean()
        member.save()
    return added


# --- filing ----------------------------------------------------------------------------------


def _clean_triggers(codes: list[str]) -> list[str]:
    unique = list(dict.fromkeys(codes))
    if not unique:
        raise ValidationError({"triggers": "请至少选择一项发现的情形。"})
    unknown = [code for code in unique if code not in BY_CODE]
    if unknown:
        raise ValidationError({"triggers": "发现的情形中有无效的选项。"})
    return unique


def _filing_township(user: User, data: ReportData) -> Region:
    if data.child is not None:
        if data.unknown_name.strip():
            raise ValidationError({"unknown_name": "已选择在册儿童时，请不要再填写未建档儿童的姓名。"})
        if not children_visible_to(user).filter(pk=data.child.pk).exists():
            raise ValidationError({"child": "请从搜索结果中选择儿童。"})
        return data.child.township
    if not data.unknown_name.strip():
        raise ValidationError({"child": "请搜索并选择儿童档案；找不到时，请填写未建档儿童的姓名。"})
    if data.township is None:
        raise ValidationError({"township": "请选择发现儿童的乡镇（街道）。"})
    return data.township


def _check_grant(user: User, grant: RoleGrant) -> None:
    if grant.pk not in {g.pk for g in filing_grants(user)}:
        raise ValidationError({"grant": "请选择您所在的单位。"})


@transaction.atomic
def report_file(*, user: User, data: ReportData) -> tuple[Report, bool]:
    """File a mandatory report and route it at once; returns (report, created). The same
    submission key again (a double tap, a retry) returns the first report and writes nothing.

    Routing (reports.routing) picks the police unit; the township's supervisors are named on
    the report; the unit's officers, those supervisors and the county admins are notified."""
    existing = Report.objects.filter(submission_key=data.submission_key).first()
    if existing is not None:
        if existing.reporter_id != user.pk:
            raise ValidationError("提交标识重复，请刷新页面后重新填写。")
        return existing, False
    _check_grant(user, data.grant)
    triggers = _clean_triggers(data.triggers)
    _not_future(data.found_at, "found_at", "发现时间")
    township = _filing_township(user, data)
    county = routing.county_of(township)
    unit = routing.route_for(township)
    now = timezone.now()
    report = Report(
        child=data.child,
        unknown_name="" if data.child else data.unknown_name.strip(),
        unknown_sex="" if data.child else (data.unknown_sex or UnknownSex.UNKNOWN),
        unknown_age=None if data.child else data.unknown_age,
        county=county,
        township=township,
        triggers=triggers,
        found_at=data.found_at,
        found_place=_text(data.found_place, "found_place", "发现地点"),
        description=_text(data.description, "description", "情况描述"),
        reporter=user,
        reporter_unit=data.grant.unit,
        reporter_role=data.grant.get_role_display(),
        reported_at=now,
        routed_unit=unit,
        routed_at=now,
        submission_key=data.submission_key,
    )
    report._history_user = user  # type: ignore[attr-defined]
    report.full_clean()
    try:
        with transaction.atomic():
            report.save(force_insert=True)
    except IntegrityError:
        # The same key committed by a concurrent request in the meantime.
        first = Report.objects.filter(submission_key=data.submission_key, reporter=user).first()
        if first is None:
            raise
        return first, False
    ReportRouting.objects.create(report=report, unit=unit, routed_at=now)
    supervisors = _name_supervisors(report, township, by=None, now=now)
    _audit(
        user,
        report,
        "file",
        EventType.CREATE,
        triggers=triggers,
        routed_unit=str(unit.pk),
        known_child=data.child is not None,
    )
    _notify_filed(report, supervisors)
    return report, True


def _notify_filed(report: Report, supervisors: list[User]) -> None:
    unit, township, link = report.routed_unit, report.township, _detail_link(report)
    when = _local(report.reported_at)
    _send(
        unit_police(unit),
        kind="report.new",
        title="新的强制报告，请立即受理",
        body=f"{township.name}一份强制报告已于{when}送达{unit.name}。请立即受理，并按规定出警处置。",
        link=link,
    )
    _send(
        supervisors,
        kind="report.new",
        title="辖区内有新的强制报告",
        body=f"{township.name}一份强制报告已于{when}送达{unit.name}，您已被列为督导人员。",
        link=link,
    )
    _send(
        county_admins(report.county),
        kind="report.new",
        title="本县有新的强制报告",
        body=f"{township.name}一份强制报告已于{when}送达{unit.name}。",
        link=link,
    )


# --- the police's response -------------------------------------------------------------------


@transaction.atomic
def report_acknowledge(*, user: User, report: Report) -> Report:
    """受理: the police unit confirms receipt; the escalation clock stops."""
    report = _lock(report)
    if report.state != ReportState.ROUTED:
        raise ValidationError("该报告已经受理，无需重复受理。")
    now = timezone.now()
    report.state, report.acknowledged_at, report.acknowledged_by = ReportState.ACKNOWLEDGED, now, user
    _save(report, user, ["state", "acknowledged_at", "acknowledged_by"])
    _audit(user, report, "acknowledge")
    _send(
        [report.reporter],
        kind="report.acknowledged",
        title="您提交的强制报告已被受理",
        body=f"公安机关已于{_local(now)}受理您提交的强制报告。",
        link=_status_link(report),
    )
    return report


@transaction.atomic
def report_attend(*, user: User, report: Report, attended_at: dt.datetime) -> Report:
    """到场: the time the police reached the child. After 受理, once."""
    report = _lock(report)
    if report.state == ReportState.ROUTED:
        raise ValidationError("请先受理该报告，再登记出警到场。")
    if report.state != ReportState.ACKNOWLEDGED:
        raise ValidationError("该报告已经登记过出警到场。")
    _not_future(attended_at, "attended_at", "到场时间")
    assert report.acknowledged_at is not None  # set together with the state
    if attended_at < _minute(report.acknowledged_at):
        ack = _local(report.acknowledged_at)
        raise ValidationError({"attended_at": f"到场时间不能早于受理时间（{ack}）。"})
    report.state, report.attended_at, report.attended_by = ReportState.ATTENDED, attended_at, user
    _save(report, user, ["state", "attended_at", "attended_by"])
    _audit(user, report, "attend")
    return report


def _require_acknowledged(report: Report, what: str) -> None:
    if report.state == ReportState.ROUTED:
        raise ValidationError(f"请先受理该报告，再{what}。")


@transaction.atomic
def response_action_record(
    *, user: User, report: Report, kind: str, done_at: dt.datetime, note: str = ""
) -> ResponseAction:
    """One disposition of the R19 table (several per report), with its time and a note."""
    report = _lock(report)
    _require_acknowledged(report, "记录处置措施")
    if kind not in ResponseKind.values:
        raise ValidationError({"kind": "请选择处置措施。"})
    _not_future(done_at, "done_at", "处置时间")
    if done_at < _minute(report.found_at):
        raise ValidationError({"done_at": "处置时间不能早于发现时间。"})
    if kind == ResponseKind.OTHER and not note.strip():
        raise ValidationError({"note": "选择“其他处置”时，请说明具体措施。"})
    action = ResponseAction(report=report, kind=kind, done_at=done_at, note=note.strip(), recorded_by=user)
    action._history_user = user  # type: ignore[attr-defined]
    action.full_clean()
    action.save()
    _save(report, user, [])
    _audit(user, report, "response_action", response_action=str(action.pk), kind=kind)
    return action


@transaction.atomic
def placement_record(*, user: User, report: Report, kind: str, place: str, started_on: dt.date) -> Placement:
    """Temporary care (临时监护 / 临时照料) begins: type, place, start."""
    report = _lock(report)
    _require_acknowledged(report, "登记临时安置")
    if kind not in PlacementKind.values:
        raise ValidationError({"kind": "请选择安置类型。"})
    _not_future_day(started_on, "started_on", "开始日期")
    if started_on < timezone.localtime(report.found_at).date():
        raise ValidationError({"started_on": "开始日期不能早于发现日期。"})
    placement = Placement(
        report=report,
        kind=kind,
        place=_text(place, "place", "安置地点或照料人"),
        started_on=started_on,
        recorded_by=user,
    )
    placement._history_user = user  # type: ignore[attr-defined]
    placement.full_clean()
    placement.save()
    _save(report, user, [])
    _audit(user, report, "placement", placement=str(placement.pk), kind=kind)
    return placement


@transaction.atomic
def placement_end(
    *, user: User, placement: Placement, ended_on: dt.date, return_assessment: str
) -> Placement:
    """Temporary care ends, with the assessment made before the child returns (返家评估)."""
    report = _lock(placement.report)
    locked = Placement.objects.select_for_update().get(pk=placement.pk, report=report)
    if locked.ended_on is not None:
        raise ValidationError("该安置已经结束。")
    _not_future_day(ended_on, "ended_on", "结束日期")
    if ended_on < locked.started_on:
        raise ValidationError({"ended_on": f"结束日期不能早于开始日期（{locked.started_on:%Y-%m-%d}）。"})
    locked.ended_on = ended_on
    locked.return_assessment = _text(return_assessment, "return_assessment", "返家评估")
    locked._history_user = user  # type: ignore[attr-defined]
    locked.full_clean()
    locked.save(update_fields=["ended_on", "return_assessment"])
    _save(report, user, [])
    _audit(user, report, "placement_end", placement=str(locked.pk))
    return locked


@transaction.atomic
def report_township_notify(*, user: User, report: Report) -> Report:
    """通报乡镇 (R19, all cases): after attendance. The named supervisors and county civil
    affairs are told; the township's assessment (cases app) starts from this state."""
    report = _lock(report)
    if report.state in (ReportState.ROUTED, ReportState.ACKNOWLEDGED):
        raise ValidationError("出警到场并处置后，才能通报乡镇。")
    if report.state == ReportState.TOWNSHIP_NOTIFIED:
        raise ValidationError("该报告已经通报过乡镇。")
    now = timezone.now()
    report.state, report.township_notified_at, report.township_notified_by = (
        ReportState.TOWNSHIP_NOTIFIED,
        now,
        user,
    )
    _save(report, user, ["state", "township_notified_at", "township_notified_by"])
    _audit(user, report, "township_notify")
    supervisors = [
        member.user
        for member in ReportMember.objects.filter(report=report, kind=MemberKind.SUPERVISOR, active=True)
        .select_related("user")
        .order_by("named_at")
    ]
    _send(
        [*supervisors, *county_admins(report.county)],
        kind="report.township_notified",
        title="强制报告已通报乡镇，请开展评估帮扶",
        body=f"{report.routed_unit.name}已于{_local(now)}将{report.township.name}的一份强制报告通报乡镇。",
        link=_detail_link(report),
    )
    return report


# --- routing and escalation ------------------------------------------------------------------


@transaction.atomic
def report_reroute(*, user: User, report: Report, unit: Unit, reason: str) -> Report:
    """改派: send the report to another police unit of its county, with a reason. The
    previous unit loses access at once (access follows routed_unit). A report not yet attended
    goes back to "routed": the new unit acknowledges it itself, and the escalation clock starts
    again from now (levels already reached stay). After attendance the state is kept."""
    report = _lock(report)
    reason = " ".join(reason.split())
    if not reason:
        raise ValidationError({"reason": "请填写改派原因。"})
    if not routing.police_units_of(report.county).filter(pk=unit.pk).exists():
        raise ValidationError({"unit": "请选择本县的公安机关。"})
    if unit.pk == report.routed_unit_id:
        raise ValidationError({"unit": "该报告已经由这个单位受理，请选择其他单位。"})
    now = timezone.now()
    previous = report.routed_unit
    route = ReportRouting(report=report, unit=unit, routed_at=now, routed_by=user, reason=reason)
    route.full_clean()
    route.save()
    fields = ["routed_unit", "routed_at"]
    report.routed_unit, report.routed_at = unit, now
    if report.state in (ReportState.ROUTED, ReportState.ACKNOWLEDGED):
        report.state, report.acknowledged_at, report.acknowledged_by = ReportState.ROUTED, None, None
        fields += ["state", "acknowledged_at", "acknowledged_by"]
    _save(report, user, fields)
    _audit(user, report, "reroute", previous_unit=str(previous.pk), routed_unit=str(unit.pk), reason=reason)
    _send(
        unit_police(unit),
        kind="report.rerouted",
        title="改派来的强制报告，请立即受理",
        body=f"{report.township.name}的一份强制报告已于{_local(now)}改派至{unit.name}。请立即受理。",
        link=_detail_link(report),
    )
    return report


def _due_level(report: Report, policy: ProtectionPolicy, now: dt.datetime) -> int:
    waited = now - report.routed_at
    if waited >= dt.timedelta(minutes=policy.escalate_again_minutes):
        return 2
    if waited >= dt.timedelta(minutes=policy.escalate_after_minutes):
        return 1
    return 0


def escalations_run(*, now: dt.datetime) -> list[ReportEscalation]:
    """Escalate every report still unacknowledged past its county's window (ProtectionPolicy,
    or the defaults: 30 and 120 minutes after routing). Idempotent: one ReportEscalation per
    report and level, however often it runs (the scheduler calls it every minute). Each
    report escalates in its own transaction, so one failure does not hold back the others."""
    policies = {policy.county_id: policy for policy in ProtectionPolicy.objects.all()}
    shortest = min(
        [ProtectionPolicy().escalate_after_minutes, *(p.escalate_after_minutes for p in policies.values())]
    )
    waiting = Report.objects.filter(
        state=ReportState.ROUTED,
        escalation_level__lt=MAX_ESCALATION,
        routed_at__lte=now - dt.timedelta(minutes=shortest),
    ).values_list("pk", "county_id")
    created: list[ReportEscalation] = []
    for report_id, county_id in waiting:
        policy = policies.get(county_id) or ProtectionPolicy()
        created.extend(_escalate(report_id, policy, now))
    return created


@transaction.atomic
def _escalate(report_id: uuid.UUID, policy: ProtectionPolicy, now: dt.datetime) -> list[ReportEscalation]:
    report = (
        Report.objects.select_for_update()
        .select_related("county", "township", "routed_unit")
        .get(pk=report_id)
    )
    due = _due_level(report, policy, now)
    if report.state != ReportState.ROUTED or due <= report.escalation_level:
        return []
    created = []
    for level in range(report.escalation_level + 1, due + 1):
        escalation = _escalation_row(report, level, now)
        if escalation is not None:
            created.append(escalation)
    report.escalation_level = due
    _save(report, None, ["escalation_level"])
    return created


def _escalation_row(report: Report, level: int, now: dt.datetime) -> ReportEscalation | None:
    """The level's row and its notifications, or None when the level was already recorded."""
    if ReportEscalation.objects.filter(report=report, level=level).exists():
        return None
    escalation = ReportEscalation(report=report, level=level, escalated_at=now)
    escalation.full_clean(validate_constraints=False)
    try:
        with transaction.atomic():
            escalation.save(force_insert=True)
    except IntegrityError:
        return None
    police, admins = bureau_police(report.county), county_admins(report.county)
    minutes = int((now - report.routed_at).total_seconds() // 60)
    _send(
        [*police, *admins],
        kind="report.escalated",
        title=f"强制报告超时未受理（第 {level} 次升级）",
        body=(
            f"{report.township.name}的一份强制报告送达{report.routed_unit.name}已 {minutes} 分钟，"
            "仍未受理。请立即督促受理，必要时改派。"
        ),
        link=_detail_link(report),
    )
    escalation.notified = _unit_names(police, report.county, Role.POLICE) + _unit_names(
        admins, report.county, Role.COUNTY_ADMIN
    )
    escalation.save(update_fields=["notified"])
    _audit(None, report, "escalate", level=level, notified=escalation.notified)
    return escalation


def _unit_names(users: list[User], county: Region, role: str) -> list[str]:
    """The units reached (names of units, not of people: ReportEscalation.notified)."""
    if not users:
        return []
    names = (
        RoleGrant.objects.filter(
            user__in=users, role=role, active=True, unit__region__code__startswith=county.code
        )
        .values_list("unit__name", flat=True)
        .distinct()
    )
    return sorted(set(names))


# --- feedback, members, linking --------------------------------------------------------------


@transaction.atomic
def report_feedback(*, user: User, report: Report, text: str) -> Report:
    """What the reporter is told (WBF 11). Short; shown on the reporter's status page; no ID or
    phone numbers. A new feedback replaces the shown one (history keeps every version)."""
    report = _lock(report)
    text = " ".join(text.split())
    if not text:
        raise ValidationError({"feedback": "请填写反馈内容。"})
    if len(text) > 200:
        raise ValidationError({"feedback": "反馈不能超过 200 个字。"})
    if personal_number_error(text):
        raise ValidationError({"feedback": "反馈中不能包含身份证号码或手机号码。"})
    report.feedback, report.feedback_at, report.feedback_by = text, timezone.now(), user
    _save(report, user, ["feedback", "feedback_at", "feedback_by"])
    _audit(user, report, "feedback")
    _send(
        [report.reporter],
        kind="report.feedback",
        title="您提交的强制报告有新的反馈",
        body="请打开报告处理情况查看反馈。",
        link=_status_link(report),
    )
    return report


def member_candidates(report: Report, kind: str) -> list[User]:
    """Who may be named as `kind` on the report: active users whose grant of a fitting role
    lies in the report's county."""
    roles = MEMBER_ROLES.get(kind, frozenset())
    in_county = Q(region__code__startswith=report.county.code) | Q(
        region__isnull=True, unit__region__code__startswith=report.county.code
    )
    return _grant_users(Q(role__in=roles) & in_county)


@transaction.atomic
def report_member_name(*, user: User, report: Report, member: User, kind: str) -> ReportMember:
    """Name a supervisor or the assigned social worker on the report: they read it from now."""
    report = _lock(report)
    if kind not in MemberKind.values:
        raise ValidationError({"kind": "请选择身份。"})
    if member.pk not in {candidate.pk for candidate in member_candidates(report, kind)}:
        raise ValidationError({"member": "请从列表中选择本县的相关人员。"})
    if ReportMember.objects.filter(report=report, user=member, kind=kind, active=True).exists():
        raise ValidationError({"member": "该人员已在知悉名单中。"})
    row = ReportMember(report=report, user=member, kind=kind, named_at=timezone.now(), named_by=user)
    row._history_user = user  # type: ignore[attr-defined]
    row.full_clean()
    row.save()
    _save(report, user, [])
    _audit(user, report, "member_name", member=str(row.pk), kind=kind)
    _send(
        [member],
        kind="report.member",
        title="您已被列为一份强制报告的知悉人员",
        body=f"涉及{report.township.name}的一份强制报告，请按职责跟进。",
        link=_detail_link(report),
    )
    return row


@transaction.atomic
def report_member_end(*, user: User, member: ReportMember) -> ReportMember:
    """End a membership: the person's access ends at once (the row stays, with its history)."""
    report = _lock(member.report)
    locked = ReportMember.objects.select_for_update().get(pk=member.pk, report=report)
    if not locked.active:
        raise ValidationError("该人员已不在知悉名单中。")
    locked.active, locked.ended_at = False, timezone.now()
    locked._history_user = user  # type: ignore[attr-defined]
    locked.full_clean(validate_constraints=False)
    locked.save(update_fields=["active", "ended_at"])
    _save(report, user, [])
    _audit(user, report, "member_end", member=str(locked.pk))
    return locked


@transaction.atomic
def report_link_child(*, user: User, report: Report, child: Child) -> Report:
    """Link a report on an unknown child to the child's file (the name as heard stays on the
    report). The file must be one the user may see, in the report's county; when it lies in
    another township, the report moves there and that township's supervisors are named."""
    report = _lock(report)
    if report.child_id is not None:
        raise ValidationError("该报告已经关联了儿童档案。")
    if not children_visible_to(user).filter(pk=child.pk).exists():
        raise ValidationError({"child": "请从搜索结果中选择儿童。"})
    if child.county_id != report.county_id:
        raise ValidationError({"child": "只能关联本报告所属县的儿童档案。"})
    fields = ["child"]
    report.child = child
    if child.township_id != report.township_id:
        report.township = child.township
        fields.append("township")
        _name_supervisors(report, child.township, by=user, now=timezone.now())
    _save(report, user, fields)
    _audit(user, report, "link_child", child=str(child.pk))
    return report


# --- the county's settings -------------------------------------------------------------------


@transaction.atomic
def protection_policy_update(
    *, user: User, county: Region, escalate_after_minutes: int, escalate_again_minutes: int
) -> ProtectionPolicy:
    """Set the county's escalation windows (minutes after routing without 受理)."""
    policy = ProtectionPolicy.objects.select_for_update().filter(county=county).first() or ProtectionPolicy(
        county=county
    )
    before = (policy.escalate_after_minutes, policy.escalate_again_minutes)
    policy.escalate_after_minutes = escalate_after_minutes
    policy.escalate_again_minutes = escalate_again_minutes
    policy.updated_by = user
    policy._history_user = user  # type: ignore[attr-defined]
    policy.full_clean()
    policy.save()
    audit_event(
        user=user,
        action=EventType.CONFIG,
        object_type="protection_policy",
        object_id=policy.pk,
        detail={
            "county": county.code,
            "before": list(before),
            "after": [escalate_after_minutes, escalate_again_minutes],
        },
    )
    return policy


# --- the jurisdiction map ----------------------------------------------------------------------


def townships_of(county: Region) -> QuerySet[Region]:
    return Region.objects.filter(parent=county, level=RegionLevel.TOWNSHIP, valid_to__isnull=True).order_by(
        "code"
    )


def stations_of(county: Region) -> QuerySet[Unit]:
    return Unit.objects.filter(
        kind=UnitKind.POLICE_STATION, active=True, region__code__startswith=county.code
    ).order_by("name", "id")


@transaction.atomic
def jurisdiction_set(*, user: User, county: Region, chosen: dict[uuid.UUID, Unit | None]) -> int:
    """Set which police station receives the reports of each township of `county` (the
    jurisdiction map routing reads: geo.Unit.serves). None: no station, the county bureau
    receives them. Reports already filed keep their unit (re-route them if needed). Returns
    the number of townships whose station changed; one CONFIG audit row lists the changes."""
    stations = list(stations_of(county).select_for_update().prefetch_related("serves"))
    by_id = {station.pk: station for station in stations}
    changes: list[dict[str, Any]] = []
    for township in townships_of(county):
        if township.pk not in chosen:
            continue
        wanted = chosen[township.pk]
        if wanted is not None and wanted.pk not in by_id:
            raise ValidationError({f"t_{township.pk}": "请选择本县的派出所。"})
        serving = [s for s in stations if township.pk in {r.pk for r in s.serves.all()}]
        if [s.pk for s in serving] == ([wanted.pk] if wanted else []):
            continue
        for station in serving:
            station.serves.remove(township)
        if wanted is not None:
            by_id[wanted.pk].serves.add(township)
        changes.append(
            {
                "township": township.code,
                "before": [s.name for s in serving],
                "after": wanted.name if wanted else "",
            }
        )
    if changes:
        audit_event(
            user=user,
            action=EventType.CONFIG,
            object_type="jurisdiction",
            object_id=county.pk,
            detail={"county": county.code, "changes": changes},
        )
    return len(changes)
