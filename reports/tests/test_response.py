"""The police's emergency response through HTTP (R19): 受理, 到场, actions, placements,
通报乡镇, feedback; every transition and its refusal, and what the reporter sees."""

import datetime as dt
from typing import Any

import pytest

from audit.models import AuditEvent, EventType
from notify.models import Notification
from reports.models import Placement, Report, ReportState, ResponseAction
from reports.tests.helpers import bureau, file, fresh
from testing.world import World


def _audit_changes(report: Report) -> list[str]:
    rows = AuditEvent.objects.filter(object_type="report", object_id=str(report.pk)).exclude(
        action__in=[EventType.VIEW, EventType.DENIED]
    )
    return [row.detail.get("change", "") for row in rows.order_by("id")]


def _acknowledged(world: World) -> Report:
    report = file(world)
    report.state, report.acknowledged_at = ReportState.ACKNOWLEDGED, report.reported_at
    report.acknowledged_by = world.users["police"]
    report.save()
    return report


def test_the_routed_unit_acknowledges_and_the_reporter_is_told(world: World, login: Any, clock: Any) -> None:
    report = file(world)
    clock.shift(dt.timedelta(minutes=4))
    client = login("police")
    response = client.post(f"/reports/{report.pk}/acknowledge/")
    assert response.status_code == 302 and response["Location"] == f"/reports/{report.pk}/"
    report = fresh(report)
    assert report.state == ReportState.ACKNOWLEDGED and report.acknowledged_by == world.users["police"]
    assert report.acknowledged_at - report.reported_at == dt.timedelta(minutes=4)
    assert report.version == 2 and report.history.count() == 2
    assert _audit_changes(report) == ["file", "acknowledge"]
    note = Notification.objects.get(recipient=world.users["school_staff"])
    assert note.title == "您提交的强制报告已被受理" and note.link == f"/reports/{report.pk}/status/"


def test_acknowledging_twice_is_refused_with_a_clear_error(world: World, login: Any) -> None:
    report = _acknowledged(world)
    response = login("police").post(f"/reports/{report.pk}/acknowledge/")
    assert response.status_code == 400
    assert "该报告已经受理，无需重复受理。" in response.content.decode()
    assert fresh(report).version == report.version


def test_acknowledging_someone_elses_report_is_404(world: World, login: Any) -> None:
    bureau(world)
    report = file(world, "b1", reporter="county_admin")  # routed to the county bureau
    response = login("police").post(f"/reports/{report.pk}/acknowledge/")
    assert response.status_code == 404
    assert fresh(report).state == ReportState.ROUTED
    denied = AuditEvent.objects.get(action=EventType.DENIED, object_type="report")
    assert denied.object_id == str(report.pk) and denied.detail["exists"] is True


@pytest.mark.parametrize("persona", ["county_admin", "township_supervisor", "school_staff", "village_worker"])
def test_only_the_police_act_as_the_police(world: World, login: Any, persona: str) -> None:
    report = file(world)
    client = login(persona)
    assert client.post(f"/reports/{report.pk}/acknowledge/").status_code == 404
    assert (
        client.post(f"/reports/{report.pk}/attend/", {"attended_at": "2028-02-25T10:00"}).status_code == 404
    )
    assert fresh(report).state == ReportState.ROUTED


def test_attending_before_acknowledging_is_refused(world: World, login: Any) -> None:
    report = file(world)
    response = login("police").post(f"/reports/{report.pk}/attend/", {"attended_at": "2028-02-25T10:00"})
    assert response.status_code == 400
    assert "请先受理该报告，再登记出警到场。" in response.content.decode()
    report = fresh(report)
    assert report.state == ReportState.ROUTED and report.attended_at is None


def test_the_police_attend_after_acknowledging(world: World, login: Any, clock: Any) -> None:
    report = file(world)
    client = login("police")
    client.post(f"/reports/{report.pk}/acknowledge/")
    clock.shift(dt.timedelta(minutes=12))  # less than the session's idle limit
    response = client.post(f"/reports/{report.pk}/attend/", {"attended_at": "2028-02-25T10:11"})
    assert response.status_code == 302
    report = fresh(report)
    assert report.state == ReportState.ATTENDED and report.attended_by == world.users["police"]
    assert report.attended_at - report.acknowledged_at == dt.timedelta(minutes=11)
    page = client.get(f"/reports/{report.pk}/").content.decode()
    assert "受理→到场</dt><dd>11 分钟" in page


@pytest.mark.parametrize(
    ("attended_at", "message"),
    [
        ("2028-02-25T09:59", "到场时间不能早于受理时间（02月25日 10:00）。"),
        ("2028-02-25T11:00", "到场时间不能晚于现在。"),
        ("", "请填写到场时间。"),
    ],
)
def test_it_refuses_an_impossible_attendance_time(
    world: World, login: Any, attended_at: str, message: str
) -> None:
    report = file(world)
    client = login("police")
    client.post(f"/reports/{report.pk}/acknowledge/")
    response = client.post(f"/reports/{report.pk}/attend/", {"attended_at": attended_at})
    assert response.status_code == 400 and message in response.content.decode()
    assert fresh(report).state == ReportState.ACKNOWLEDGED


def test_it_records_several_response_actions(world: World, login: Any) -> None:
    report = _acknowledged(world)
    client = login("police")
    for kind, note in (("parents_return", "已电话责令父亲三日内返回"), ("admonition", "")):
        data = {"kind": kind, "done_at": "2028-02-25T09:55", "note": note}
        assert client.post(f"/reports/{report.pk}/actions/", data).status_code == 302
    actions = list(ResponseAction.objects.filter(report=report))
    assert [a.kind for a in actions] == ["parents_return", "admonition"]
    assert actions[0].note == "已电话责令父亲三日内返回" and actions[0].history.count() == 1
    page = client.get(f"/reports/{report.pk}/").content.decode()
    assert "责令父母立即返回或委托监护人" in page and "对父母予以训诫" in page


def test_actions_need_an_acknowledged_report_and_a_note_for_other(world: World, login: Any) -> None:
    report = file(world)
    client = login("police")
    data = {"kind": "missing_search", "done_at": "2028-02-25T10:00"}
    response = client.post(f"/reports/{report.pk}/actions/", data)
    assert response.status_code == 400 and "请先受理该报告，再记录处置措施。" in response.content.decode()
    client.post(f"/reports/{report.pk}/acknowledge/")
    response = client.post(f"/reports/{report.pk}/actions/", {"kind": "other", "done_at": "2028-02-25T10:00"})
    assert response.status_code == 400 and "选择“其他处置”时，请说明具体措施。" in response.content.decode()
    assert not ResponseAction.objects.exists()


def test_a_placement_starts_and_ends_with_the_return_assessment(world: World, login: Any) -> None:
    report = _acknowledged(world)
    client = login("police")
    data = {"kind": "relative", "place": "姑姑家（同村）", "started_on": "2028-02-25"}
    assert client.post(f"/reports/{report.pk}/placements/", data).status_code == 302
    placement = Placement.objects.get(report=report)
    assert (placement.kind, placement.place, placement.ended_on) == ("relative", "姑姑家（同村）", None)
    url = f"/reports/{report.pk}/placements/{placement.pk}/end/"
    response = client.post(url, {"ended_on": "2028-02-25", "return_assessment": ""})
    assert response.status_code == 400 and "请填写返家评估。" in response.content.decode()
    response = client.post(url, {"ended_on": "2028-02-24", "return_assessment": "父亲已返乡"})
    assert (
        response.status_code == 400
        and "结束日期不能早于开始日期（2028-02-25）。" in response.content.decode()
    )
    assert (
        client.post(url, {"ended_on": "2028-02-25", "return_assessment": "父亲已返乡，可返家"}).status_code
        == 302
    )
    placement.refresh_from_db()
    assert placement.ended_on == dt.date(2028, 2, 25) and placement.return_assessment == "父亲已返乡，可返家"
    assert placement.history.count() == 2
    response = client.post(url, {"ended_on": "2028-02-25", "return_assessment": "再次"})
    assert response.status_code == 400 and "该安置已经结束。" in response.content.decode()


def test_a_placement_of_another_report_is_404(world: World, login: Any) -> None:
    report = _acknowledged(world)
    other = _acknowledged(world)
    placement = Placement.objects.create(
        report=other,
        kind="relative",
        place="外婆家",
        started_on=dt.date(2028, 2, 25),
        recorded_by=world.users["police"],
    )
    url = f"/reports/{report.pk}/placements/{placement.pk}/end/"
    response = login("police").post(url, {"ended_on": "2028-02-25", "return_assessment": "可返家"})
    assert response.status_code == 404


def test_notifying_the_township_before_attendance_is_refused(world: World, login: Any) -> None:
    report = _acknowledged(world)
    response = login("police").post(f"/reports/{report.pk}/notify-township/")
    assert response.status_code == 400
    assert "出警到场并处置后，才能通报乡镇。" in response.content.decode()
    assert fresh(report).state == ReportState.ACKNOWLEDGED


def test_the_township_is_notified_after_attendance(world: World, login: Any) -> None:
    report = file(world)
    client = login("police")
    client.post(f"/reports/{report.pk}/acknowledge/")
    client.post(f"/reports/{report.pk}/attend/", {"attended_at": "2028-02-25T10:00"})
    earlier = list(Notification.objects.values_list("pk", flat=True))
    assert client.post(f"/reports/{report.pk}/notify-township/").status_code == 302
    report = fresh(report)
    assert (
        report.state == ReportState.TOWNSHIP_NOTIFIED and report.township_notified_by == world.users["police"]
    )
    sent = Notification.objects.exclude(pk__in=earlier)
    assert {n.kind for n in sent} == {"report.township_notified"}
    recipients = set(sent.values_list("recipient__username", flat=True))
    assert recipients == {"township_supervisor", "county_admin"}
    assert _audit_changes(report) == ["file", "acknowledge", "attend", "township_notify"]
    response = client.post(f"/reports/{report.pk}/notify-township/")
    assert response.status_code == 400 and "该报告已经通报过乡镇。" in response.content.decode()


def test_feedback_reaches_the_reporters_status_page(world: World, login: Any) -> None:
    report = _acknowledged(world)
    ResponseAction.objects.create(
        report=report,
        kind="admonition",
        done_at=report.reported_at,
        note="警方内部记录：父亲酗酒",
        recorded_by=world.users["police"],
    )
    police = login("police")
    response = police.post(f"/reports/{report.pk}/feedback/", {"feedback": "已出警处置，孩子已由亲属照料。"})
    assert response.status_code == 302
    assert fresh(report).feedback_by == world.users["police"]
    assert Notification.objects.filter(recipient=world.users["school_staff"], kind="report.feedback").exists()

    teacher = login("school_staff")
    status = teacher.get(f"/reports/{report.pk}/status/")
    body = status.content.decode()
    assert status.status_code == 200
    assert "已出警处置，孩子已由亲属照料。" in body and "已受理" in body and "儿童单独居住生活" in body
    for secret in ("父亲酗酒", "对父母予以训诫", "police", "孩子独自在家三天"):
        assert secret not in body
    # The teacher who filed it may not open the police record.
    assert teacher.get(f"/reports/{report.pk}/").status_code == 404


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "请填写给报告人的反馈。"),
        ("请联系 13812345678", "反馈中不能包含身份证号码或手机号码。"),
        ("长" * 201, "给报告人的反馈不能超过 200 个字。"),
    ],
)
def test_it_refuses_empty_long_or_number_carrying_feedback(
    world: World, login: Any, text: str, message: str
) -> None:
    report = file(world)
    response = login("county_admin").post(f"/reports/{report.pk}/feedback/", {"feedback": text})
    assert response.status_code == 400 and message in response.content.decode()
    assert fresh(report).feedback == ""


@pytest.mark.parametrize("persona", ["township_supervisor", "school_staff", "social_worker"])
def test_feedback_is_given_by_the_police_or_county_admins_only(
    world: World, login: Any, persona: str
) -> None:
    report = file(world)
    response = login(persona).post(f"/reports/{report.pk}/feedback/", {"feedback": "已处理"})
    assert response.status_code == 404 and fresh(report).feedback == ""
