"""One timeline for the whole chain (issue 5 item 9): the report and the police response, the
case and its plan, in time order, with who did what; and the child file's view of it."""

from typing import Any

from cases.models import Case, MeasureStatus
from cases.selectors import case_timeline, cases_for_child, child_cases_context
from cases.tests.helpers import assessment_post, make_case, make_measure, make_report, township_government
from reports.models import ReportState
from testing.world import World


def test_the_timeline_runs_from_the_report_to_the_closed_case(world: World, login: Any) -> None:
    report = make_report(world, "a1")
    admin = login("county_admin")
    admin.post(f"/cases/reports/{report.pk}/open/")
    case = Case.objects.get(report=report)
    admin.post(f"/cases/{case.pk}/assessments/new/", assessment_post(case))
    admin.post(
        f"/cases/{case.pk}/measures/new/",
        {"kind": "hukou", "unit": str(township_government(world).pk), "due_on": "2028-03-20", "note": ""},
    )
    measure = case.measures.get()
    admin.post(f"/cases/measures/{measure.pk}/", {"status": "done", "note": "已登记户口"})
    version = Case.objects.get(pk=case.pk).version
    admin.post(f"/cases/{case.pk}/close/", {"version": version, "reason": "户口已登记，监护落实"})
    version = Case.objects.get(pk=case.pk).version
    login("township_supervisor").post(f"/cases/{case.pk}/close/approve/", {"version": version})

    events = case_timeline(report)
    labels = [event.label for event in events]
    assert labels[0] == "提交强制报告"
    expected = [
        "立案",
        "评估（2028-03-01）：综合风险高",
        "完成首次评估，进入帮扶",
        "安排帮扶措施：户籍登记",
        "完成帮扶措施：户籍登记",
        "申请结案",
        "批准结案",
    ]
    assert [label for label in labels if label in expected] == expected
    assert labels.index("通报乡镇") < labels.index("立案")
    assert [event.at for event in events] == sorted(event.at for event in events)
    stages = {event.stage for event in events}
    assert {"report", "assessment"} <= stages
    by_label = {event.label: event for event in events}
    assert by_label["立案"].who == "county_admin"
    assert by_label["批准结案"].who == "township_supervisor"
    assert by_label["申请结案"].detail == "理由：户口已登记，监护落实"
    assert "责任单位：廉州镇人民政府" in by_label["安排帮扶措施：户籍登记"].detail


def test_declined_and_accepted_referrals_are_on_the_timeline(world: World) -> None:
    case = make_case(world, "a1")
    make_measure(world, case, status=MeasureStatus.DECLINED)
    make_measure(world, case, status=MeasureStatus.ACCEPTED)
    labels = {(event.label, event.who, event.detail) for event in case_timeline(case.report)}
    assert ("未承接转介：心理疏导", "social_worker（合浦县社工站）", "原因：本周人手不足") in labels
    assert ("承接转介：心理疏导", "social_worker（合浦县社工站）", "") in labels


def test_the_timeline_masks_numbers_in_reasons(world: World, login: Any) -> None:
    case = make_case(world, "a1")
    login("county_admin").post(
        f"/cases/{case.pk}/close/", {"version": case.version, "reason": "家长电话13812345678已打通"}
    )
    details = " ".join(event.detail for event in case_timeline(case.report))
    assert "13812345678" not in details and "家长电话" in details


def test_the_child_file_gets_the_cases_its_reader_may_read(world: World) -> None:
    case = make_case(world, "a1")
    make_report(world, "a1", state=ReportState.ATTENDED)  # no case yet
    child = world.children["a1"]
    assert list(cases_for_child(world.users["county_admin"], child)) == [case]
    assert list(cases_for_child(world.users["police"], child)) == [case]
    assert list(cases_for_child(world.users["village_worker"], child)) == []
    assert list(cases_for_child(world.users["social_worker"], child)) == []
    [item] = child_cases_context(world.users["township_supervisor"], child)
    assert item["case"] == case and item["events"][0].label == "提交强制报告"
