"""Who sees a task: the county admins of its county and the users of its lead and
participating units, not the 三员; everybody else gets 404 as for a missing task."""

import uuid
from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from audit.models import AuditEvent, EventType, Outcome
from tasks.models import Task
from tasks.tests.conftest import OtherCounty, Units, new_task
from testing.world import World

# The fixture task: lead 廉州镇人民政府, participants 合浦县教育局 and 廉州派出所.
SEES = {"county_admin", "township_supervisor", "visiting_cadre", "county_officer", "police"}


@pytest.mark.parametrize("persona", list(World.VISIBLE))
def test_it_shows_a_task_to_its_units_and_the_county_only(
    persona: str, world: World, task: Task, login: Any
) -> None:
    client = login(persona)
    detail = client.get(f"/tasks/{task.pk}/")
    listed = client.get("/tasks/?state=all").content.decode()
    if persona in SEES:
        assert detail.status_code == 200 and "全面排查农村留守儿童" in detail.content.decode()
        assert "全面排查农村留守儿童" in listed
        assert AuditEvent.objects.filter(
            action=EventType.VIEW, object_type="task", object_id=str(task.pk), user=world.users[persona]
        ).exists()
    else:
        missing = client.get(f"/tasks/{uuid.uuid4()}/")
        assert detail.status_code == missing.status_code == 404
        assert abs(len(detail.content) - len(missing.content)) <= 16  # the CSRF token differs
        assert "全面排查农村留守儿童" not in detail.content.decode()
        assert "全面排查农村留守儿童" not in listed
        assert AuditEvent.objects.filter(
            action=EventType.DENIED, outcome=Outcome.DENIED, object_type="task", object_id=str(task.pk)
        ).exists()


def test_the_three_administrators_never_see_tasks(world: World, units: Units, login: Any) -> None:
    """三员分立 (AC-6): their grants sit at civil affairs, a participant here, yet no task."""
    task = new_task(world, units, participants=[units.civil, units.education])
    for persona in ("system_admin", "security_admin", "auditor"):
        client = login(persona)
        assert client.get(f"/tasks/{task.pk}/").status_code == 404
        assert "全面排查农村留守儿童" not in client.get("/tasks/?state=all").content.decode()
    assert login("county_admin").get(f"/tasks/{task.pk}/progress/").status_code == 200


def test_a_county_admin_of_another_county_gets_404(
    world: World, task: Task, other_county: OtherCounty, client: Any
) -> None:
    client.force_login(other_county.admin)
    assert client.get(f"/tasks/{task.pk}/").status_code == 404
    assert client.post(f"/tasks/{task.pk}/cancel/", {"reason": "越权撤销"}).status_code == 404
    page = client.get("/tasks/?state=all")
    assert "全面排查农村留守儿童" not in page.content.decode()
    assert dict((key, count) for key, _label, count in page.context["tabs"])["all"] == 0
    task.refresh_from_db()
    assert task.state == "open"


def test_a_member_sees_only_his_units_tasks(world: World, units: Units, task: Task, login: Any) -> None:
    new_task(world, units, title="学校控辍保学专项", lead_unit=units.education, participants=[units.school])
    police = login("police").get("/tasks/?state=all").content.decode()
    assert "全面排查农村留守儿童" in police and "学校控辍保学专项" not in police
    school = login("school_staff").get("/tasks/?state=all").content.decode()
    assert "学校控辍保学专项" in school and "全面排查农村留守儿童" not in school
    admin = login("county_admin").get("/tasks/?state=all").content.decode()
    assert "学校控辍保学专项" in admin and "全面排查农村留守儿童" in admin


def _queries(client: Any, url: str) -> int:
    with CaptureQueriesContext(connection) as queries:
        assert client.get(url).status_code == 200
    return len(queries)


def test_the_list_queries_do_not_grow_with_the_tasks(world: World, units: Units, login: Any) -> None:
    for number in range(2):
        new_task(world, units, title=f"专项任务第{number}项")
    client = login("county_admin")
    client.get("/tasks/")  # warm the session
    few = _queries(client, "/tasks/?state=all")
    for number in range(2, 12):
        new_task(world, units, title=f"专项任务第{number}项")
    assert _queries(client, "/tasks/?state=all") == few
    assert client.get("/tasks/?state=all").content.decode().count("专项任务第") == 12
