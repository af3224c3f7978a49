"""The no-training list (本年度未参加培训人员) and its export through HTTP: the workers of the
reader's scope minus those who attended a session held in the year, by township and role."""

import datetime as dt
import io
from typing import Any

import pytest
from django.test import Client
from python_calamine import CalamineWorkbook

from audit.models import AuditEvent
from testing.world import World
from training.tests.conftest import TODAY, WORKER_PERSONAS, Staff, new_session

PAGE = "/training/untrained/"
EXPORT = "/training/untrained/export/"


@pytest.fixture
def trained(world: World, staff: Staff) -> World:
    """Last year's last day: the village worker and the a2 worker; this year's first day: the
    school staff; a guest and the other county's worker at another county's session this year."""
    users = world.users
    new_session(world, held_on=dt.date(2027, 12, 31), attendees=(users["village_worker"], staff.a2_worker))
    session = new_session(world, held_on=dt.date(2028, 1, 1), attendees=(users["school_staff"],))
    session.attendances.create(guest_name="陈老师", guest_unit="城关幼儿园")
    new_session(
        world,
        held_on=TODAY,
        attendees=(staff.outsider,),
        county=staff.other_county,
        organiser=staff.other_civil,
    )
    return world


def _names(response: Any) -> set[str]:
    return {worker.user.username for worker in response.context["result"].workers}


ALL_WORKERS = set(WORKER_PERSONAS) | {"a2_worker", "b1_worker"}


def test_the_list_is_the_workers_minus_this_years_attendees(trained: World, login: Any) -> None:
    response = login("county_admin").get(PAGE)
    assert response.status_code == 200 and response.context["year"] == 2028
    # Inactive, expired and withdrawn accounts, the other county's worker and the non-workers
    # (county admin, police, reporter, the 三员) are never listed.
    assert _names(response) == ALL_WORKERS - {"school_staff"}
    assert response.context["result"].count == len(ALL_WORKERS) - 1
    page = response.content.decode()
    assert "2028 年度未参加培训人员" in page and "2027-12-31" in page and "从未参加" in page


def test_the_year_boundary(trained: World, login: Any) -> None:
    client = login("county_admin")
    last_year = client.get(PAGE, {"year": 2027})
    assert _names(last_year) == ALL_WORKERS - {"village_worker", "a2_worker"}
    assert _names(client.get(PAGE, {"year": 2029})) == ALL_WORKERS
    # Last year's attendees are listed this year, with the date of their last training.
    this_year = {w.user.username: w.last_trained_on for w in client.get(PAGE).context["result"].workers}
    assert this_year["village_worker"] == dt.date(2027, 12, 31) and this_year["b1_worker"] is None


def test_it_counts_by_township_and_role(trained: World, login: Any) -> None:
    tallies = login("county_officer").get(PAGE).context["result"].tallies
    counted = {(t.township, t.role_label): t.count for t in tallies}
    assert counted == {
        ("廉州镇", "儿童主任"): 2,
        ("廉州镇", "儿童督导员"): 1,
        ("廉州镇", "驻村干部"): 1,
        ("廉州镇", "服务机构工作人员"): 1,
        ("党江镇", "儿童主任"): 1,
        ("县直", "社会工作者"): 1,
        ("县直", "县直部门工作人员"): 1,
    }
    assert [t.township for t in tallies][-1] == "县直"


def test_it_filters_by_role_and_township(trained: World, login: Any) -> None:
    client = login("county_admin")
    assert _names(client.get(PAGE, {"role": "village_worker"})) == {
        "village_worker",
        "a2_worker",
        "b1_worker",
    }
    assert _names(client.get(PAGE, {"township": trained.township_b.code})) == {"b1_worker"}
    assert _names(client.get(PAGE, {"township": "county"})) == {"county_officer", "social_worker"}


def test_a_supervisor_sees_the_workers_of_the_township(trained: World, login: Any) -> None:
    client = login("township_supervisor")
    response = client.get(PAGE)
    assert _names(response) == {
        "village_worker",
        "a2_worker",
        "township_supervisor",
        "visiting_cadre",
        "provider_staff",
    }
    # Another township asked for by hand is ignored: the list stays the supervisor's township.
    assert _names(client.get(PAGE, {"township": trained.township_b.code})) == _names(response)
    assert "b1_worker" not in response.content.decode()


def test_the_export_is_the_list_as_a_spreadsheet(trained: World, login: Any) -> None:
    client = login("county_admin")
    page = client.get(PAGE, {"role": "village_worker"}).context["result"]
    response = client.get(EXPORT, {"role": "village_worker"})
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/vnd.openxmlformats")
    data = b"".join(response.streaming_content)
    rows = CalamineWorkbook.from_filelike(io.BytesIO(data)).get_sheet_by_index(0).to_python()
    assert str(rows[0][0]).startswith("导出人：")
    assert rows[1] == ["序号", "乡镇", "角色", "姓名", "单位", "上次参加培训"]
    body = [[str(cell) for cell in row] for row in rows[2:]]
    assert [row[3] for row in body] == [w.user.full_name for w in page.workers]
    assert [row[0] for row in rows[2:]] == [1, 2, 3]
    assert body[0][1:] == ["廉州镇", "儿童主任", "a2_worker", "甲二村委会", "2027-12-31"]
    assert body[-1][1:4] == ["党江镇", "儿童主任", "b1_worker"] and body[-1][5] == "从未参加"
    event = AuditEvent.objects.get(action="export")
    assert event.object_type == "training_worker" and event.detail["rows"] == len(body) == 3


@pytest.mark.parametrize("url", [PAGE, EXPORT])
@pytest.mark.parametrize(
    "persona",
    ["village_worker", "school_staff", "police", "social_worker", "provider_staff", "auditor", "no_role"],
)
def test_it_refuses_other_roles(trained: World, client: Client, url: str, persona: str) -> None:
    client.force_login(trained.users[persona])
    assert client.get(url).status_code == 403
    assert not AuditEvent.objects.filter(action="export").exists()
