"""Progress reports and the task's transitions through HTTP, each with its denial: the units
report; the lead proposes it done; the county admin edits, confirms, returns and cancels."""

import datetime as dt
import uuid
from typing import Any

import pytest

from audit.models import AuditEvent
from notify.models import Notification
from tasks import services
from tasks.models import Task, TaskParticipant, TaskProgress, TaskState
from tasks.tests.conftest import TODAY, Units
from testing.world import World


def _fresh(task: Task) -> Task:
    return Task.objects.get(pk=task.pk)


def _errors(response: Any, form: str) -> dict[str, list[str]]:
    return dict(response.context[form].errors)


def _audited(task: Task, change: str) -> bool:
    return AuditEvent.objects.filter(
        object_type="task", object_id=str(task.pk), detail__change=change
    ).exists()


# --- progress ----------------------------------------------------------------------------------


def test_a_participant_reports_progress(world: World, units: Units, task: Task, login: Any) -> None:
    client = login("police")
    form = client.get(f"/tasks/{task.pk}/progress/")
    assert form.status_code == 200
    data = {
        "submission_key": str(uuid.uuid4()),
        "unit": str(units.station.pk),
        "text": "已排查 12 个村",
        "percent": "40",
    }
    response = client.post(f"/tasks/{task.pk}/progress/", data)
    assert response.status_code == 302 and response["Location"] == f"/tasks/{task.pk}/"
    report = TaskProgress.objects.get(task=task)
    assert (report.unit, report.percent, report.text) == (units.station, 40, "已排查 12 个村")
    assert report.reported_by == world.users["police"] and report.history.count() == 1
    assert _audited(task, "task_progress")

    # A double tap sends the same key: one report.
    again = client.post(f"/tasks/{task.pk}/progress/", data, follow=True)
    assert "这条进展已经报送过了。" in again.content.decode()
    assert TaskProgress.objects.filter(task=task).count() == 1

    page = login("county_admin").get(f"/tasks/{task.pk}/").content.decode()
    assert "已排查 12 个村" in page and "完成 40%" in page


def test_the_lead_reports_from_the_detail_page(world: World, units: Units, task: Task, login: Any) -> None:
    client = login("township_supervisor")
    page = client.get(f"/tasks/{task.pk}/")
    assert page.context["can_report"] and page.context["can_propose"]
    data = {
        "submission_key": str(uuid.uuid4()),
        "unit": str(units.township.pk),
        "text": "已部署",
        "percent": "",
    }
    assert client.post(f"/tasks/{task.pk}/progress/", data).status_code == 302
    assert TaskProgress.objects.get(task=task).percent is None


@pytest.mark.parametrize(
    ("overrides", "field", "message"),
    [
        ({"percent": "101"}, "percent", "完成进度在 0 到 100 之间。"),
        ({"percent": "-1"}, "percent", "完成进度在 0 到 100 之间。"),
        ({"text": ""}, "text", "请填写工作进展。"),
        ({"unit": "other"}, "unit", "选择一个有效的选项"),
    ],
)
def test_a_bad_report_is_refused_at_the_field(
    overrides: dict[str, str], field: str, message: str, world: World, units: Units, task: Task, login: Any
) -> None:
    data = {"submission_key": str(uuid.uuid4()), "unit": str(units.station.pk), "text": "进展", **overrides}
    if data["unit"] == "other":  # a unit of the task the user does not work for
        data["unit"] = str(units.education.pk)
    response = login("police").post(f"/tasks/{task.pk}/progress/", data)
    assert response.status_code == 200
    assert any(message in error for error in _errors(response, "form")[field])
    assert not TaskProgress.objects.exists()


def test_only_the_tasks_units_report(world: World, units: Units, task: Task, login: Any) -> None:
    data = {"submission_key": str(uuid.uuid4()), "unit": str(units.committee.pk), "text": "越权报送"}
    # Another unit: 404 as for a missing task.
    for persona in ("village_worker", "school_staff", "social_worker", "auditor"):
        client = login(persona)
        assert client.get(f"/tasks/{task.pk}/progress/").status_code == 404
        assert client.post(f"/tasks/{task.pk}/progress/", data).status_code == 404
    # The county admin sees the task but is not one of its units here.
    admin = login("county_admin")
    assert admin.get(f"/tasks/{task.pk}/progress/").status_code == 403
    assert admin.post(f"/tasks/{task.pk}/progress/", {**data, "unit": str(units.civil.pk)}).status_code == 403
    assert not admin.get(f"/tasks/{task.pk}/").context["can_report"]
    assert not TaskProgress.objects.exists()


def test_no_progress_on_a_closed_task(world: World, units: Units, task: Task, login: Any) -> None:
    services.task_cancel(user=world.users["county_admin"], task=task, reason="并入年度排查")
    data = {"submission_key": str(uuid.uuid4()), "unit": str(units.station.pk), "text": "迟到的进展"}
    response = login("police").post(f"/tasks/{task.pk}/progress/", data)
    assert response.status_code == 200
    assert response.context["form"].non_field_errors() == ["任务已撤销，不能再报送进展。"]
    assert not TaskProgress.objects.exists()


# --- 申报完成, confirm, return -----------------------------------------------------------------


def test_the_lead_proposes_and_the_county_confirms(
    world: World, units: Units, task: Task, login: Any
) -> None:
    lead = login("township_supervisor")
    response = lead.post(f"/tasks/{task.pk}/propose-done/", {"note": "全部村已排查，台账已建立"})
    assert response.status_code == 302
    proposed = _fresh(task)
    assert (
        proposed.state == TaskState.OPEN and proposed.done_proposed_by == world.users["township_supervisor"]
    )
    assert proposed.done_proposal_note == "全部村已排查，台账已建立"
    told = Notification.objects.get(kind="tasks.done_proposed")
    assert told.recipient == world.users["county_admin"] and told.link == f"/tasks/{task.pk}/"

    again = lead.post(f"/tasks/{task.pk}/propose-done/", {"note": "再次申报"})
    assert again.status_code == 200
    assert again.context["propose_form"].non_field_errors() == ["已申报完成，正在等待县民政局确认。"]
    assert "已申报完成，正在等待县民政局确认。" in again.content.decode()

    admin = login("county_admin")
    assert "待县民政局确认" in admin.get(f"/tasks/{task.pk}/").content.decode()
    assert admin.post(f"/tasks/{task.pk}/done/", {"note": "核实无误"}).status_code == 302
    done = _fresh(task)
    assert (done.state, done.completed_by, done.completion_note) == (
        TaskState.DONE,
        world.users["county_admin"],
        "核实无误",
    )
    assert done.history.count() == 3 and _audited(task, "task_done")
    assert {n.recipient.username for n in Notification.objects.filter(kind="tasks.done")} == {
        "township_supervisor",
        "visiting_cadre",
        "county_officer",
        "police",
    }
    refused = admin.post(f"/tasks/{task.pk}/done/", {"note": ""})
    assert refused.status_code == 200
    assert refused.context["confirm_form"].non_field_errors() == ["任务已完成，不能确认完成。"]
    assert _fresh(task).version == done.version


def test_a_participant_cannot_propose_or_confirm(world: World, task: Task, login: Any) -> None:
    client = login("police")
    assert client.post(f"/tasks/{task.pk}/propose-done/", {"note": "我们做完了"}).status_code == 403
    assert client.post(f"/tasks/{task.pk}/done/", {"note": ""}).status_code == 403
    assert not login("police").get(f"/tasks/{task.pk}/").context["can_propose"]
    lead = login("township_supervisor")
    assert lead.post(f"/tasks/{task.pk}/done/", {"note": ""}).status_code == 403
    unchanged = _fresh(task)
    assert unchanged.state == TaskState.OPEN and unchanged.done_proposed_at is None
    assert unchanged.history.count() == 1


def test_a_proposal_needs_a_note(world: World, task: Task, login: Any) -> None:
    response = login("visiting_cadre").post(f"/tasks/{task.pk}/propose-done/", {"note": "  "})
    assert response.status_code == 200
    assert response.context["propose_form"].errors["note"] == ["请填写完成情况说明。"]
    assert _fresh(task).done_proposed_at is None


def test_the_county_returns_a_proposal_with_a_reason(world: World, task: Task, login: Any) -> None:
    admin = login("county_admin")
    nothing = admin.post(f"/tasks/{task.pk}/return/", {"reason": "材料不全"})
    assert nothing.status_code == 200
    assert nothing.context["return_form"].non_field_errors() == ["该任务没有待确认的完成申报。"]

    services.task_done_propose(user=world.users["township_supervisor"], task=task, note="已完成")
    no_reason = admin.post(f"/tasks/{task.pk}/return/", {"reason": ""})
    assert no_reason.context["return_form"].errors["reason"] == ["请填写退回原因。"]
    assert _fresh(task).done_proposed_at is not None

    assert login("police").post(f"/tasks/{task.pk}/return/", {"reason": "越权"}).status_code == 403
    response = login("county_admin").post(f"/tasks/{task.pk}/return/", {"reason": "乙村台账未建"})
    assert response.status_code == 302
    returned = _fresh(task)
    assert returned.state == TaskState.OPEN and returned.done_proposed_at is None
    assert returned.return_reason == "乙村台账未建"
    told = Notification.objects.filter(kind="tasks.returned")
    assert {n.recipient.username for n in told} == {"township_supervisor", "visiting_cadre"}
    assert (
        told.first().body == "县民政局退回了完成申报，原因请在任务页面查看。"
    )  # free text stays on the page
    lead_page = login("township_supervisor").get(f"/tasks/{task.pk}/").content.decode()
    assert "上次申报退回" in lead_page and "乙村台账未建" in lead_page


# --- cancel ------------------------------------------------------------------------------------


def test_a_participant_cannot_cancel(world: World, task: Task, login: Any) -> None:
    for persona in ("police", "county_officer", "township_supervisor"):
        assert login(persona).post(f"/tasks/{task.pk}/cancel/", {"reason": "不需要了"}).status_code == 403
    for persona in ("village_worker", "system_admin"):
        assert login(persona).post(f"/tasks/{task.pk}/cancel/", {"reason": "不需要了"}).status_code == 404
    assert _fresh(task).state == TaskState.OPEN


def test_the_county_cancels_with_a_reason(world: World, task: Task, login: Any) -> None:
    admin = login("county_admin")
    refused = admin.post(f"/tasks/{task.pk}/cancel/", {"reason": " "})
    assert refused.status_code == 200
    assert refused.context["cancel_form"].errors["reason"] == ["请填写撤销原因。"]
    assert _fresh(task).state == TaskState.OPEN

    assert admin.post(f"/tasks/{task.pk}/cancel/", {"reason": "并入年度排查任务"}).status_code == 302
    cancelled = _fresh(task)
    assert (cancelled.state, cancelled.cancel_reason) == (TaskState.CANCELLED, "并入年度排查任务")
    assert cancelled.cancelled_by == world.users["county_admin"] and _audited(task, "task_cancelled")
    assert cancelled.history.first().history_user == world.users["county_admin"]
    assert Notification.objects.filter(kind="tasks.cancelled").count() == 4
    again = admin.post(f"/tasks/{task.pk}/cancel/", {"reason": "再撤销"})
    assert again.context["cancel_form"].non_field_errors() == ["任务已撤销，不能撤销。"]


# --- edit --------------------------------------------------------------------------------------


def _edit(task: Task, units: Units, **overrides: Any) -> dict[str, Any]:
    data: dict[str, Any] = {
        "version": task.version,
        "title": task.title,
        "plan_section": task.plan_section,
        "description": task.description,
        "lead_unit": str(units.township.pk),
        "participants": [str(units.education.pk), str(units.civil.pk)],
        "deadline": (TODAY + dt.timedelta(days=20)).isoformat(),
    }
    data.update(overrides)
    return data


def test_the_county_edits_a_task_and_new_units_are_told(
    world: World, units: Units, task: Task, login: Any
) -> None:
    admin = login("county_admin")
    form = admin.get(f"/tasks/{task.pk}/edit/")
    assert form.status_code == 200 and form.context["form"].initial["version"] == 1
    before = Notification.objects.count()
    response = admin.post(f"/tasks/{task.pk}/edit/", _edit(task, units))
    assert response.status_code == 302
    edited = _fresh(task)
    assert edited.deadline == TODAY + dt.timedelta(days=20) and edited.version == 2
    assert set(edited.participants.all()) == {units.education, units.civil}
    # The station left (its row's history says so); civil affairs joined and was told.
    removed = TaskParticipant.history.filter(unit=units.station, history_type="-").get()
    assert removed.history_user == world.users["county_admin"]
    told = Notification.objects.order_by("created_at")[before:]
    assert [(n.kind, n.recipient.username) for n in told] == [("tasks.assigned", "county_admin")]
    assert _audited(task, "task_update")


def test_a_stale_edit_is_refused(world: World, units: Units, task: Task, login: Any) -> None:
    admin = login("county_admin")
    stale = _edit(task, units)
    assert admin.post(f"/tasks/{task.pk}/edit/", _edit(task, units, title="第一次修改")).status_code == 302
    response = admin.post(f"/tasks/{task.pk}/edit/", {**stale, "title": "第二次修改"})
    assert response.status_code == 200
    assert response.context["form"].non_field_errors() == [
        "该任务刚被他人修改过，请刷新页面，核对后重新保存。"
    ]
    assert _fresh(task).title == "第一次修改"


def test_an_overdue_task_keeps_its_deadline_but_gets_no_new_past_one(
    world: World, units: Units, task: Task, login: Any, clock: Any
) -> None:
    clock.move_to(dt.datetime(2028, 3, 10, 10, 0, tzinfo=dt.timezone(dt.timedelta(hours=8))))
    admin = login("county_admin")
    keep = _edit(task, units, deadline=task.deadline.isoformat(), title="逾期任务改名")
    assert admin.post(f"/tasks/{task.pk}/edit/", keep).status_code == 302
    assert _fresh(task).title == "逾期任务改名"
    earlier = _edit(_fresh(task), units, deadline="2028-03-01")
    response = admin.post(f"/tasks/{task.pk}/edit/", earlier)
    assert response.context["form"].errors["deadline"] == ["完成时限不能早于今天。"]
    assert _fresh(task).deadline == task.deadline


def test_only_the_county_admin_edits_an_open_task(world: World, units: Units, task: Task, login: Any) -> None:
    for persona in ("township_supervisor", "police"):
        client = login(persona)
        assert client.get(f"/tasks/{task.pk}/edit/").status_code == 403
        assert client.post(f"/tasks/{task.pk}/edit/", _edit(task, units, title="越权")).status_code == 403
    assert login("village_worker").get(f"/tasks/{task.pk}/edit/").status_code == 404
    services.task_done_confirm(user=world.users["county_admin"], task=task)
    response = login("county_admin").post(
        f"/tasks/{task.pk}/edit/", _edit(_fresh(task), units, title="完成后修改")
    )
    assert response.context["form"].non_field_errors() == ["任务已完成，不能修改。"]
    assert _fresh(task).title == "全面排查农村留守儿童"
