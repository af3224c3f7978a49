"""The reading pages (list, mine, detail, status), their audit rows, the members, linking an
unknown child, the escalation settings, and the selectors the lead and the cases app use."""

import datetime as dt
from typing import Any

import pytest

from audit.models import AuditEvent, EventType
from reports.models import MemberKind, ProtectionPolicy, Report, ReportMember, ReportState
from reports.selectors import reports_for_child, response_time_summary, response_times, timeline_events
from reports.services import escalations_run
from reports.tests.helpers import bureau, file, fresh
from testing.world import World


def _views(report: Report) -> list[dict[str, Any]]:
    rows = AuditEvent.objects.filter(action=EventType.VIEW, object_type="report", object_id=str(report.pk))
    return [row.detail for row in rows.order_by("id")]


# --- audit rows on every read ----------------------------------------------------------------


@pytest.mark.parametrize("persona", ["police", "county_admin", "township_supervisor"])
def test_every_read_of_the_detail_writes_a_view_row(world: World, login: Any, persona: str) -> None:
    report = file(world)
    client = login(persona)
    for _ in range(2):
        response = client.get(f"/reports/{report.pk}/")
        assert response.status_code == 200
    body = response.content.decode()
    assert (
        "张三" in body and "孩子独自在家三天" in body and "school_staff（廉州镇中心小学，学校教职工）" in body
    )
    assert [d["page"] for d in _views(report)] == ["detail", "detail"]
    row = AuditEvent.objects.filter(action=EventType.VIEW, object_id=str(report.pk)).last()
    assert row is not None and row.user == world.users[persona]


def test_the_status_page_read_is_logged_and_only_the_reporter_has_it(world: World, login: Any) -> None:
    report = file(world)
    assert login("school_staff").get(f"/reports/{report.pk}/status/").status_code == 200
    assert _views(report) == [{"page": "status"}]
    for persona in ("police", "county_admin", "township_supervisor", "village_worker"):
        assert login(persona).get(f"/reports/{report.pk}/status/").status_code == 404


@pytest.mark.parametrize("persona", ["village_worker", "social_worker", "school_staff", "county_officer"])
def test_the_details_are_404_to_everyone_else(world: World, login: Any, persona: str) -> None:
    report = file(world)
    response = login(persona).get(f"/reports/{report.pk}/")
    assert response.status_code == 404 and "张三" not in response.content.decode()
    assert _views(report) == []
    assert AuditEvent.objects.filter(action=EventType.DENIED, object_id=str(report.pk)).count() == 1


# --- lists -----------------------------------------------------------------------------------


def test_the_police_inbox_puts_escalated_then_unacknowledged_first(
    world: World, login: Any, clock: Any
) -> None:
    done = file(world)
    Report.objects.filter(pk=done.pk).update(state=ReportState.ACKNOWLEDGED)
    clock.shift(dt.timedelta(minutes=1))
    waiting = file(world, reporter="county_admin", description="后报的")
    clock.shift(dt.timedelta(minutes=1))
    old = file(world, "a2", reporter="county_admin")
    Report.objects.filter(pk=old.pk).update(
        escalation_level=1, reported_at=old.reported_at - dt.timedelta(hours=1)
    )
    body = login("police").get("/reports/").content.decode()
    positions = [body.index(f"/reports/{r.pk}/") for r in (old, waiting, done)]
    assert positions == sorted(positions)
    assert AuditEvent.objects.filter(action=EventType.LIST, object_type="report").count() == 1


def test_the_county_admin_filters_by_state_and_sees_response_times(
    world: World, login: Any, clock: Any
) -> None:
    bureau(world)
    first = file(world)
    second = file(world, "b1", reporter="county_admin")
    clock.shift(dt.timedelta(minutes=6))
    login("police").post(f"/reports/{first.pk}/acknowledge/")
    client = login("county_admin")
    body = client.get("/reports/").content.decode()
    assert str(first.pk) in body and str(second.pk) in body
    assert "共 2 份报告" in body and "报告→受理</dt><dd>6 分钟" in body
    filtered = client.get("/reports/", {"state": "routed"}).content.decode()
    assert str(second.pk) in filtered and str(first.pk) not in filtered
    assert "响应时间" not in login("police").get("/reports/").content.decode()


def test_mine_lists_the_reporters_own_reports_with_state_and_feedback_only(world: World, login: Any) -> None:
    report = file(world)
    Report.objects.filter(pk=report.pk).update(feedback="已处置完毕")
    file(world, "a2", reporter="county_admin")
    body = login("school_staff").get("/reports/mine/").content.decode()
    assert f"/reports/{report.pk}/status/" in body and "已处置完毕" in body
    assert body.count("/status/") == 1 and "孩子独自在家三天" not in body


# --- members ---------------------------------------------------------------------------------


def test_the_county_admin_names_a_social_worker_who_then_reads_until_ended(world: World, login: Any) -> None:
    report = file(world)
    worker = world.users["social_worker"]
    assert login("social_worker").get(f"/reports/{report.pk}/").status_code == 404
    admin = login("county_admin")
    data = {"kind": MemberKind.SOCIAL_WORKER, "member": str(worker.pk)}
    assert admin.post(f"/reports/{report.pk}/members/", data).status_code == 302
    again = admin.post(f"/reports/{report.pk}/members/", data)
    assert again.status_code == 400 and "该人员已在知悉名单中。" in again.content.decode()
    member = ReportMember.objects.get(report=report, user=worker)
    assert member.named_by == world.users["county_admin"]
    assert login("social_worker").get(f"/reports/{report.pk}/").status_code == 200

    assert login("county_admin").post(f"/reports/{report.pk}/members/{member.pk}/end/").status_code == 302
    member.refresh_from_db()
    assert not member.active and member.ended_at is not None and member.history.count() == 2
    assert login("social_worker").get(f"/reports/{report.pk}/").status_code == 404


def test_only_fitting_users_of_the_county_can_be_named(world: World, login: Any) -> None:
    report = file(world)
    data = {"kind": MemberKind.SOCIAL_WORKER, "member": str(world.users["school_staff"].pk)}
    response = login("county_admin").post(f"/reports/{report.pk}/members/", data)
    assert response.status_code == 400 and "请从列表中选择本县的相关人员。" in response.content.decode()
    assert login("police").post(f"/reports/{report.pk}/members/", data).status_code == 404


# --- linking an unknown child ----------------------------------------------------------------


def _unknown(world: World, township: Any) -> Report:
    return file(world, None, reporter="village_worker", unknown_name="小明", township=township)


def test_a_named_supervisor_links_an_unknown_child_to_a_file(world: World, login: Any) -> None:
    report = _unknown(world, world.township_a)
    child = world.children["a2"]
    client = login("township_supervisor")
    page = client.post(f"/reports/{report.pk}/link/", {"action": "search", "q": "李四"})
    assert page.status_code == 200 and f'value="{child.pk}"' in page.content.decode()
    response = client.post(
        f"/reports/{report.pk}/link/", {"action": "link", "q": "李四", "child": str(child.pk)}
    )
    assert response.status_code == 302
    report = fresh(report)
    assert report.child == child and report.unknown_name == "小明" and report.history.count() == 2
    assert list(reports_for_child(world.users["township_supervisor"], child)) == [report]
    again = client.post(f"/reports/{report.pk}/link/", {"action": "link", "child": str(child.pk)})
    assert again.status_code == 400 and "该报告已经关联了儿童档案。" in again.content.decode()


def test_linking_refuses_files_outside_the_users_scope_or_county(world: World, login: Any) -> None:
    report = _unknown(world, world.township_a)
    client = login("township_supervisor")
    response = client.post(
        f"/reports/{report.pk}/link/", {"action": "link", "child": str(world.children["b1"].pk)}
    )
    assert response.status_code == 400 and "请从搜索结果中选择儿童。" in response.content.decode()
    response = login("county_admin").post(
        f"/reports/{report.pk}/link/", {"action": "link", "child": str(world.children["other"].pk)}
    )
    assert response.status_code == 400 and fresh(report).child is None


def test_linking_to_a_file_of_another_township_moves_the_report_there(world: World, login: Any) -> None:
    report = _unknown(world, world.township_a)
    client = login("county_admin")
    response = client.post(
        f"/reports/{report.pk}/link/", {"action": "link", "child": str(world.children["b1"].pk)}
    )
    assert response.status_code == 302
    assert fresh(report).township == world.township_b


@pytest.mark.parametrize("persona", ["police", "school_staff", "village_worker"])
def test_only_county_admins_and_named_supervisors_link(world: World, login: Any, persona: str) -> None:
    report = _unknown(world, world.township_a)
    response = login(persona).get(f"/reports/{report.pk}/link/")
    assert response.status_code == 404


# --- the escalation settings -----------------------------------------------------------------


def test_the_county_admin_changes_the_escalation_windows(world: World, login: Any) -> None:
    client = login("county_admin")
    assert "30" in client.get("/reports/policy/").content.decode()
    data = {"county": str(world.county.pk), "escalate_after_minutes": "15", "escalate_again_minutes": "60"}
    assert client.post("/reports/policy/", data).status_code == 302
    policy = ProtectionPolicy.objects.get(county=world.county)
    assert (policy.escalate_after_minutes, policy.escalate_again_minutes) == (15, 60)
    assert policy.updated_by == world.users["county_admin"] and policy.history.count() == 1
    assert AuditEvent.objects.filter(action=EventType.CONFIG, object_type="protection_policy").exists()
    report = file(world)
    assert [e.level for e in escalations_run(now=report.routed_at + dt.timedelta(minutes=15))] == [1]


@pytest.mark.parametrize(
    ("after", "again", "message"),
    [
        ("40", "30", "再次升级的时间必须晚于首次升级的时间。"),
        ("1", "30", "不能少于 5 分钟。"),
        ("", "30", "请填写分钟数。"),
    ],
)
def test_it_refuses_impossible_windows(
    world: World, login: Any, after: str, again: str, message: str
) -> None:
    data = {"escalate_after_minutes": after, "escalate_again_minutes": again}
    response = login("county_admin").post("/reports/policy/", data)
    assert response.status_code == 400 and message in response.content.decode()
    assert not ProtectionPolicy.objects.exists()


def test_other_data_roles_read_the_windows_and_cannot_change_them(world: World, login: Any) -> None:
    client = login("police")
    body = client.get("/reports/policy/").content.decode()
    assert "送达后 30 分钟未受理" in body and 'name="escalate_after_minutes"' not in body
    data = {"escalate_after_minutes": "10", "escalate_again_minutes": "20"}
    assert client.post("/reports/policy/", data).status_code == 403
    assert login("auditor").get("/reports/policy/").status_code == 403
    assert not ProtectionPolicy.objects.exists()


# --- selectors -------------------------------------------------------------------------------


def test_response_times_and_their_median(world: World, clock: Any) -> None:
    reports = [
        file(world, found_at=dt.datetime(2028, 2, 25, 2, 0, tzinfo=dt.UTC) - dt.timedelta(minutes=m))
        for m in (0, 20, 40)
    ]
    first = fresh(reports[0])
    first.acknowledged_at = first.reported_at + dt.timedelta(minutes=5)
    first.attended_at = first.acknowledged_at + dt.timedelta(minutes=25)
    first.save()
    times = {t.code: t for t in response_times(first)}
    assert times["found_reported"].minutes == 0 and times["reported_acknowledged"].minutes == 5
    assert times["acknowledged_attended"].text == "25 分钟"
    assert {t.code: t.minutes for t in response_times(fresh(reports[1]))}["reported_acknowledged"] is None
    summary = response_time_summary(Report.objects.all())
    medians = {t.code: t.minutes for t in summary.medians}
    assert summary.count == 3 and medians == {
        "found_reported": 20,
        "reported_acknowledged": 5,
        "acknowledged_attended": 25,
    }


def test_the_timeline_lists_every_step_in_order(world: World, login: Any, clock: Any) -> None:
    report = file(world)
    client = login("police")
    client.post(f"/reports/{report.pk}/acknowledge/")
    client.post(f"/reports/{report.pk}/attend/", {"attended_at": "2028-02-25T10:00"})
    client.post(f"/reports/{report.pk}/actions/", {"kind": "admonition", "done_at": "2028-02-25T10:00"})
    client.post(
        f"/reports/{report.pk}/placements/",
        {"kind": "relative", "place": "姑姑家", "started_on": "2028-02-25"},
    )
    client.post(f"/reports/{report.pk}/notify-township/")
    events = timeline_events(fresh(report))
    assert [event.at for event in events] == sorted(event.at for event in events)
    timed = [event.label for event in events if event.label != "临时安置开始（近亲属）"]
    assert timed == ["提交强制报告", "送达廉州派出所", "受理", "出警到场", "对父母予以训诫", "通报乡镇"]
    # A date-only fact sits at the start of its day (TimelineEvent's contract).
    start = next(event for event in events if event.label == "临时安置开始（近亲属）")
    assert start.at == dt.datetime(2028, 2, 25, tzinfo=start.at.tzinfo) and start.date_only
    assert start.stage == "response"
