"""The county plan's standing tasks (R28) as templates: seeded by the data migration, edited
by the county admin only."""

from typing import Any

import pytest

from audit.models import AuditEvent, EventType
from tasks.models import TaskTemplate
from testing.world import World

SEEDED = {
    "强化家庭监护主体责任",
    "落实乡镇人民政府和村（居）民委员会职责",
    "加大教育部门和学校关爱保护力度",
    "发挥群团组织关爱服务优势",
    "推动社会力量积极参与",
    "建立强制报告和应急处置机制",
    "健全评估帮扶机制",
    "强化监护干预机制",
    "落实户口登记",
    "从源头上逐步减少儿童留守现象",
    "强化经费保障和宣传引导",
}
OTHERS = sorted(set(World.VISIBLE) - {"county_admin"})


def test_the_data_migration_seeds_the_plans_standing_tasks(db: Any) -> None:
    templates = {t.name: t for t in TaskTemplate.objects.all()}
    assert set(templates) == SEEDED
    assert all(t.active and t.history.count() == 1 for t in templates.values())
    # The Hepu plan's own assignment where the seed excerpt shows it ([S]) ...
    family = templates["强化家庭监护主体责任"]
    assert (family.lead_kind, family.lead_name) == ("township_government", "各乡镇人民政府")
    assert "县人民法院" in family.participants and "[S]" in family.note
    assert set(family.participant_kinds) == {
        "court",
        "procuratorate",
        "education",
        "police_bureau",
        "civil_affairs",
        "justice",
    }
    # ... and R28's inference, with its caveat, everywhere else.
    school = templates["加大教育部门和学校关爱保护力度"]
    assert (school.lead_kind, school.plan_section) == ("education", "三（三）")
    assert "[I] 推断" in school.note and "R28" in school.note
    inferred = [t for t in templates.values() if "[I] 推断" in t.note]
    assert len(inferred) == 9


def test_the_county_admin_lists_and_edits_a_template(world: World, login: Any) -> None:
    template = TaskTemplate.objects.get(name="推动社会力量积极参与")
    client = login("county_admin")
    page = client.get("/tasks/templates/")
    assert page.status_code == 200 and "推动社会力量积极参与" in page.content.decode()
    form = client.get(f"/tasks/templates/{template.pk}/edit/")
    assert form.status_code == 200 and "[I] 推断" in form.content.decode()

    response = client.post(
        f"/tasks/templates/{template.pk}/edit/",
        {
            "name": "推动社会力量积极参与",
            "plan_section": "三（五）",
            "lead_kind": "civil_affairs",
            "lead_name": "县民政局",
            "participant_kinds": ["social_work"],
            "participants": "县财政局、县社工站",
            "description": "购买社会工作服务。",
            "note": "已与县民政局核对（2028 年 2 月）。",
            "position": 50,
            "active": "on",
        },
    )
    assert response.status_code == 302 and response["Location"] == "/tasks/templates/"
    template.refresh_from_db()
    assert template.participant_kinds == ["social_work"] and template.participants == "县财政局、县社工站"
    assert template.updated_by == world.users["county_admin"]
    assert template.history.count() == 2
    assert template.history.first().history_user == world.users["county_admin"]
    assert AuditEvent.objects.filter(
        action=EventType.CONFIG, object_type="task_template", object_id=str(template.pk)
    ).exists()


def test_a_template_name_is_unique_and_required(world: World, login: Any) -> None:
    client = login("county_admin")
    response = client.post("/tasks/templates/new/", {"name": "落实户口登记", "position": 1})
    assert response.status_code == 200
    assert "已存在" in " ".join(response.context["form"].errors["name"])
    response = client.post("/tasks/templates/new/", {"name": "", "position": 1})
    assert response.context["form"].errors["name"]
    assert TaskTemplate.objects.count() == len(SEEDED)

    response = client.post("/tasks/templates/new/", {"name": "年度联席会议", "position": 120, "active": "on"})
    assert response.status_code == 302
    assert TaskTemplate.objects.get(name="年度联席会议").history.count() == 1


def test_a_retired_template_is_not_offered_for_new_tasks(world: World, login: Any) -> None:
    template = TaskTemplate.objects.get(name="落实户口登记")
    template.active = False
    template.save()
    client = login("county_admin")
    page = client.get("/tasks/new/").content.decode()
    assert "落实户口登记" not in page and "强化监护干预机制" in page
    assert client.get(f"/tasks/new/?template={template.pk}").status_code == 404


@pytest.mark.parametrize("persona", OTHERS)
def test_only_the_county_admin_touches_templates(persona: str, world: World, login: Any) -> None:
    template = TaskTemplate.objects.get(name="落实户口登记")
    client = login(persona)
    assert client.get("/tasks/templates/").status_code == 403
    assert client.get("/tasks/templates/new/").status_code == 403
    assert client.post("/tasks/templates/new/", {"name": "越权模板", "position": 1}).status_code == 403
    edit = client.post(f"/tasks/templates/{template.pk}/edit/", {"name": "越权修改", "position": 1})
    assert edit.status_code == 403
    template.refresh_from_db()
    assert template.name == "落实户口登记" and not TaskTemplate.objects.filter(name="越权模板").exists()
