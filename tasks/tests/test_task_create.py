"""Creating supervised tasks: from a template or blank, by the county admin only; the units
named are told in their inbox."""

import datetime as dt
from typing import Any

import pytest

from audit.models import AuditEvent, EventType
from geo.models import Unit, UnitKind
from notify.models import Notification
from tasks.models import Task, TaskState, TaskTemplate
from tasks.tests.conftest import TODAY, OtherCounty, Units
from testing.world import World

OTHERS = sorted(set(World.VISIBLE) - {"county_admin"})


def _post(units: Units, **overrides: Any) -> dict[str, Any]:
    data: dict[str, Any] = {
        "title": "开展农村留守儿童摸底排查",
        "plan_section": "三（二）",
        "description": "各村逐户排查，月底前报乡镇汇总。",
        "lead_unit": str(units.township.pk),
        "participants": [str(units.education.pk), str(units.station.pk)],
        "deadline": (TODAY + dt.timedelta(days=30)).isoformat(),
    }
    data.update(overrides)
    return {key: value for key, value in data.items() if value is not None}


def test_it_offers_the_templates_then_a_prefilled_form(world: World, units: Units, login: Any) -> None:
    client = login("county_admin")
    picker = client.get("/tasks/new/")
    assert picker.status_code == 200 and picker.context["picking"]
    assert "加大教育部门和学校关爱保护力度" in picker.content.decode()

    template = TaskTemplate.objects.get(name="加大教育部门和学校关爱保护力度")
    page = client.get(f"/tasks/new/?template={template.pk}")
    assert page.status_code == 200 and not page.context["picking"]
    initial = page.context["form"].initial
    assert initial["title"] == "加大教育部门和学校关爱保护力度" and initial["plan_section"] == "三（三）"
    assert initial["lead_unit"] == units.education and not initial["each_township"]
    assert initial["participants"] == [units.township]  # 各镇; the county has no 公安局 unit
    assert "[I] 推断" in page.content.decode()  # the caveat is shown with the form

    blank = client.get("/tasks/new/?blank=1")
    assert blank.status_code == 200 and not blank.context["form"].initial


def test_it_creates_a_task_and_tells_the_units(world: World, units: Units, login: Any) -> None:
    template = TaskTemplate.objects.get(name="落实乡镇人民政府和村（居）民委员会职责")
    client = login("county_admin")
    response = client.post("/tasks/new/", {**_post(units), "template": str(template.pk)})
    task = Task.objects.get()
    assert response.status_code == 302 and response["Location"] == f"/tasks/{task.pk}/"
    assert (task.county, task.lead_unit, task.state) == (world.county, units.township, TaskState.OPEN)
    assert set(task.participants.all()) == {units.education, units.station}
    assert task.template == template and task.created_by == world.users["county_admin"]
    assert task.deadline == TODAY + dt.timedelta(days=30)
    assert task.history.count() == 1 and task.history.first().history_user == world.users["county_admin"]
    assert task.participations.first().history.count() == 1
    assert AuditEvent.objects.filter(
        action=EventType.CREATE, object_type="task", object_id=str(task.pk)
    ).exists()

    told = Notification.objects.filter(kind="tasks.assigned")
    assert {n.recipient.username for n in told} == {
        "township_supervisor",
        "visiting_cadre",
        "county_officer",
        "police",
    }
    note = told.first()
    assert note.link == f"/tasks/{task.pk}/" and note.title == "新的督办任务：开展农村留守儿童摸底排查"
    assert "廉州镇人民政府牵头" in note.body and "2028-03-26" in note.body


def test_a_deadline_in_the_past_is_refused_at_the_field(world: World, units: Units, login: Any) -> None:
    client = login("county_admin")
    yesterday = (TODAY - dt.timedelta(days=1)).isoformat()
    response = client.post("/tasks/new/?blank=1", _post(units, deadline=yesterday))
    assert response.status_code == 200
    assert response.context["form"].errors["deadline"] == ["完成时限不能早于今天。"]
    assert "完成时限不能早于今天。" in response.content.decode()
    assert not Task.objects.exists() and not Notification.objects.exists()

    today = client.post("/tasks/new/", _post(units, deadline=TODAY.isoformat()))
    assert today.status_code == 302 and Task.objects.get().deadline == TODAY


@pytest.mark.parametrize(
    ("overrides", "field", "message"),
    [
        ({"title": "联系张父 13800000001"}, "title", "任务名称不能包含手机号码。"),
        ({"lead_unit": None}, "lead_unit", "请选择牵头单位。"),
        ({"deadline": "2028-02-30"}, "deadline", "有效的日期"),
        ({"title": ""}, "title", "必填项"),
    ],
)
def test_it_refuses_bad_task_data(
    overrides: dict[str, Any], field: str, message: str, world: World, units: Units, login: Any
) -> None:
    response = login("county_admin").post("/tasks/new/", _post(units, **overrides))
    assert response.status_code == 200
    assert any(message in error for error in response.context["form"].errors[field])
    assert not Task.objects.exists()


def test_the_lead_is_not_also_a_participant(world: World, units: Units, login: Any) -> None:
    data = _post(units, participants=[str(units.township.pk), str(units.station.pk)])
    response = login("county_admin").post("/tasks/new/", data)
    assert response.context["form"].errors["participants"] == ["牵头单位不必再列为参加单位，请取消勾选。"]
    assert not Task.objects.exists()


def test_units_of_another_county_are_not_offered(
    world: World, units: Units, other_county: OtherCounty, login: Any
) -> None:
    client = login("county_admin")
    page = client.get("/tasks/new/?blank=1").content.decode()
    assert "海城区民政局" not in page and "廉州派出所" in page
    response = client.post("/tasks/new/", _post(units, lead_unit=str(other_county.unit.pk)))
    assert response.context["form"].errors["lead_unit"]
    response = client.post("/tasks/new/", _post(units, participants=[str(other_county.unit.pk)]))
    assert response.context["form"].errors["participants"]
    assert not Task.objects.exists()


def test_each_township_government_gets_its_own_task(world: World, units: Units, login: Any) -> None:
    dangjiang = Unit.objects.create(
        name="党江镇人民政府", kind=UnitKind.TOWNSHIP_GOVERNMENT, region=world.township_b
    )
    template = TaskTemplate.objects.get(name="强化家庭监护主体责任")
    client = login("county_admin")
    initial = client.get(f"/tasks/new/?template={template.pk}").context["form"].initial
    assert initial["each_township"] and initial["lead_unit"] is None

    data = _post(
        units,
        lead_unit=None,
        each_township="on",
        participants=[str(units.civil.pk), str(units.township.pk), str(units.education.pk)],
        template=str(template.pk),
    )
    response = client.post("/tasks/new/", data)
    assert response.status_code == 302 and response["Location"] == "/tasks/"
    tasks = Task.objects.order_by("lead_unit__name")
    assert [t.lead_unit for t in tasks] == [dangjiang, units.township]
    for task in tasks:  # township governments lead their own, and do not join each other's
        assert set(task.participants.all()) == {units.civil, units.education}
        assert task.template == template
    # The county admin sits at civil affairs, a participant: told like everyone else.
    assert (
        Notification.objects.filter(kind="tasks.assigned", recipient=world.users["county_admin"]).count() == 2
    )


@pytest.mark.parametrize("persona", OTHERS)
def test_only_the_county_admin_creates_tasks(persona: str, world: World, units: Units, login: Any) -> None:
    client = login(persona)
    assert client.get("/tasks/new/").status_code == 403
    assert client.post("/tasks/new/", _post(units)).status_code == 403
    assert not Task.objects.exists()


def test_a_county_admin_creates_tasks_in_his_own_county(
    world: World, units: Units, other_county: OtherCounty, client: Any
) -> None:
    client.force_login(other_county.admin)
    data = _post(units, lead_unit=str(other_county.unit.pk), participants=[])
    response = client.post("/tasks/new/", data)
    task = Task.objects.get()
    assert response.status_code == 302 and task.county == other_county.county
