"""Demo mandatory reports (演示数据) for `manage.py seed_demo`, so that the rescue mechanism can
be seen in a demo: one report of the demo school on a pupil of 廉州镇, already acknowledged and
attended by 廉州派出所, with the child placed with a relative and the township notified (the
demo township supervisor can open the case); and one report of the demo hospital on a child not
on file, left waiting for 受理 (it escalates after 30 minutes while `make run` is running).

Filed through the services, as a user would: routing, named supervisors, notifications, history
and audit rows are the real ones. Every text says 演示.
"""

import datetime as dt
import uuid

from django.utils import timezone

from accounts.models import Role, RoleGrant
from registry import choices as rc
from registry.models import Child
from reports import services
from reports.models import PlacementKind, Report, ResponseKind

DEMO = "（演示数据）"


def _grant(username: str, role: str) -> RoleGrant | None:
    return (
        RoleGrant.objects.filter(user__username=username, role=role, active=True)
        .select_related("user", "unit__region", "region")
        .first()
    )


def demo_reports_create(*, seed: int) -> int:
    """File the demo reports; returns how many were made (0 when the demo accounts are missing)."""
    school = _grant(f"demo_{Role.SCHOOL_STAFF}", Role.SCHOOL_STAFF)
    police = _grant(f"demo_{Role.POLICE}", Role.POLICE)
    hospital = _grant(f"demo_{Role.REPORTER}", Role.REPORTER)
    if school is None or police is None or hospital is None:
        return 0
    pupil = (
        Child.objects.filter(
            school=school.unit, status=rc.Status.ACTIVE, township__in=police.unit.serves.all()
        )
        .order_by("file_no")
        .first()
    )
    made = 0
    now = timezone.now().replace(second=0, microsecond=0)
    if pupil is not None:
        report, _ = services.report_file(
            user=school.user,
            data=services.ReportData(
                submission_key=uuid.UUID(int=seed * 7919 + 1, version=4),
                grant=school,
                triggers=["living_alone"],
                found_at=now - dt.timedelta(hours=3),
                found_place=f"学生家中{DEMO}",
                description=f"学生连续三天未到校，家访发现独自在家，祖父母外出务工未归。{DEMO}",
                child=pupil,
            ),
        )
        _respond(report, police)
        made += 1
    township = police.unit.serves.order_by("code").first()
    services.report_file(
        user=hospital.user,
        data=services.ReportData(
            submission_key=uuid.UUID(int=seed * 7919 + 2, version=4),
            grant=hospital,
            triggers=["violence_injury"],
            found_at=now - dt.timedelta(minutes=20),
            found_place=f"县人民医院急诊科{DEMO}",
            description=f"儿童因多处软组织损伤就诊，陪同成人说法前后不一。{DEMO}",
            unknown_name="小明",
            unknown_sex="male",
            unknown_age=9,
            township=township,
        ),
    )
    return made + 1


def _respond(report: Report, police: RoleGrant) -> None:
    user = police.user
    report = services.report_acknowledge(user=user, report=report)
    attended = timezone.now().replace(second=0, microsecond=0)
    report = services.report_attend(user=user, report=report, attended_at=attended)
    services.response_action_record(
        user=user,
        report=report,
        kind=ResponseKind.PARENTS_RETURN,
        done_at=attended,
        note=f"已电话联系父亲，责令其尽快返乡或委托监护人。{DEMO}",
    )
    services.placement_record(
        user=user,
        report=report,
        kind=PlacementKind.RELATIVE,
        place=f"送至同村姑姑家临时照料{DEMO}",
        started_on=timezone.localdate(),
    )
    services.report_township_notify(user=user, report=report)
