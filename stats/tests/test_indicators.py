"""R26: the work indicators, from stored file state, dropout cases and mandatory reports, per
village and rolled up to the township and county."""

import datetime as dt
import uuid
from typing import Any

from django.utils import timezone

from geo.models import Unit
from registry import choices as c
from registry.models import Child, Parent
from registry.services import child_file_exit
from reports.models import Report
from reports.selectors import response_time_summary
from schooling.models import CaseKind, CaseState, DropoutCase
from stats.models import Indicator, IndicatorCode
from stats.services import stats_refresh
from testing.world import World, make_child

Code = IndicatorCode


def _indicators(region: object) -> dict[str, tuple[int, int, float | None]]:
    rows = Indicator.objects.filter(region=region).values_list("code", "numerator", "denominator", "value")
    return {code: (num, den, value) for code, num, den, value in rows}


def _files(world: World) -> None:
    """Village a1: the World's 张三 (A) and three more files (B, C, and D which has exited)."""
    admin, today = world.users["county_admin"], timezone.localdate()
    a = world.children["a1"]
    b = make_child(world.village_a1, admin, name="乙", hukou_place="合浦县")
    cc = make_child(world.village_a1, admin, name="丙", hukou_place="合浦县")
    d = make_child(world.village_a1, admin, name="丁", hukou_place="合浦县")
    child_file_exit(user=admin, child=d, expected_version=d.version, reason=c.ExitReason.MOVED_AWAY, on=today)
    Child.objects.filter(pk=a.pk).update(
        is_key=True,
        next_visit_due=today + dt.timedelta(days=3),
        agreement_required=True,
        agreement_valid_until=today + dt.timedelta(days=100),
        last_parent_contact_on=today - dt.timedelta(days=5),
    )
    Child.objects.filter(pk=b.pk).update(
        is_key=True,
        next_visit_due=today - dt.timedelta(days=1),
        agreement_required=True,
        agreement_valid_until=today - dt.timedelta(days=1),
        last_parent_contact_on=today - dt.timedelta(days=40),
    )
    Child.objects.filter(pk=cc.pk).update(
        is_key=False, next_visit_due=None, is_left_behind=False, agreement_required=False
    )
    Parent.objects.filter(child=cc, role=c.ParentRole.FATHER).update(phone="")  # away, no phone
    Child.objects.filter(pk=d.pk).update(is_key=True, next_visit_due=today - dt.timedelta(days=9))


def _dropout(world: World, child: Child, state: str, closed_days_ago: int) -> None:
    now = timezone.now()
    DropoutCase.objects.create(
        child=child,
        school=world.school,
        kind=CaseKind.DROPOUT,
        first_missed_on=timezone.localdate() - dt.timedelta(days=closed_days_ago + 30),
        reported_on=timezone.localdate() - dt.timedelta(days=closed_days_ago + 20),
        reported_by=world.users["school_staff"],
        state=state,
        escalated_at=now - dt.timedelta(days=closed_days_ago + 10),
        returned_on=timezone.localdate() if state == CaseState.RETURNED else None,
        closed_at=now - dt.timedelta(days=closed_days_ago),
    )


def _report(world: World, child: Child | None, reported_days_ago: float, minutes: int | None) -> Report:
    reported = timezone.now() - dt.timedelta(days=reported_days_ago)
    unit = Unit.objects.get(name="廉州派出所")
    extra: dict[str, Any] = {"child": child} if child else {"unknown_name": "未建档儿童"}
    return Report.objects.create(
        county=world.county,
        township=world.township_a,
        found_at=reported - dt.timedelta(minutes=5),
        found_place="某地",
        description="情况",
        reporter=world.users["reporter"],
        reporter_unit=Unit.objects.get(name="合浦县人民医院"),
        reporter_role="医生",
        reported_at=reported,
        routed_unit=unit,
        routed_at=reported,
        acknowledged_at=None if minutes is None else reported + dt.timedelta(minutes=minutes),
        submission_key=uuid.uuid4(),
        **extra,
    )


def test_it_computes_each_indicator_per_village_and_rolls_them_up(world: World) -> None:
    _files(world)
    a1 = Child.objects.get(pk=world.children["a1"].pk)
    _dropout(world, a1, CaseState.RETURNED, 10)
    _dropout(world, world.children["a2"], CaseState.NOT_RETURNED, 20)
    _dropout(world, a1, CaseState.RETURNED, 400)  # closed more than 12 months ago
    for days, minutes in ((2, 30), (3, 90), (1, None), (100, 5)):  # the last one: before the 90 days
        _report(world, a1, days, minutes)
    _report(world, None, 0.1, 10)  # no file: counts for the township only
    stats_refresh(since=None)

    village = _indicators(world.village_a1)
    assert village[Code.VISIT_COVERAGE] == (1, 2, 0.5)
    assert village[Code.OVERDUE_SHARE][:2] == (1, 3)
    assert village[Code.AGREEMENTS_SIGNED] == (1, 2, 0.5)
    assert village[Code.PARENTS_IN_CONTACT] == (1, 2, 0.5)
    assert village[Code.DATA_COMPLETENESS][:2] == (1, 3)  # 张三 has no hukou place; 丙's father no phone
    assert village[Code.DROPOUTS_RETURNED] == (1, 1, 1.0)
    assert village[Code.RESPONSE_MINUTES] == (2, 3, 60.0)
    assert _indicators(world.village_a2)[Code.DROPOUTS_RETURNED] == (0, 1, 0.0)

    township = _indicators(world.township_a)
    assert township[Code.DROPOUTS_RETURNED] == (1, 2, 0.5)
    assert township[Code.VISIT_COVERAGE] == (1, 2, 0.5)  # 李四 in a2 is not a key child
    assert township[Code.OVERDUE_SHARE][:2] == (1, 4)
    in_window = Report.objects.filter(
        township=world.township_a, reported_at__gte=timezone.now() - dt.timedelta(days=90)
    )
    expected = response_time_summary(in_window).medians[1].minutes
    assert township[Code.RESPONSE_MINUTES] == (3, 4, expected) and expected == 30.0
    county = _indicators(world.county)
    assert county[Code.OVERDUE_SHARE][:2] == (1, 5) and county[Code.RESPONSE_MINUTES][2] == 30.0


def test_an_acknowledged_report_refreshes_the_indicators_of_its_village(world: World) -> None:
    report = _report(world, world.children["a2"], 1, None)
    stats_refresh(since=None)
    assert _indicators(world.village_a2)[Code.RESPONSE_MINUTES] == (0, 1, None)
    mark = timezone.now()
    report.acknowledged_at = report.reported_at + dt.timedelta(minutes=42)
    report.save(update_fields=["acknowledged_at"])  # leaves a history row, as reports.services does
    result = stats_refresh(since=mark)
    assert result.villages == 1
    assert _indicators(world.village_a2)[Code.RESPONSE_MINUTES] == (1, 1, 42.0)
