"""The case page and the case list: read by exactly who reads the report; 404 for everyone
else, like a missing case; every read audited."""

import datetime as dt
from typing import Any

import pytest

from audit.models import AuditEvent, EventType
from cases.models import CaseState, MeasureStatus
from cases.tests.helpers import DESCRIPTION, make_case, make_follow_up, make_measure, township_government
from testing.world import World

MISSING = "6f0d5c1e-9b7a-4c1e-8d2f-000000000404"


@pytest.mark.parametrize("persona", ["county_admin", "township_supervisor", "police", "social_worker"])
def test_it_shows_the_case_to_the_readers_of_its_report(world: World, login: Any, persona: str) -> None:
    case = make_case(world, "a1", social_worker=True)
    make_measure(world, case, status=MeasureStatus.ACCEPTED)
    client = login(persona)
    response = client.get(f"/cases/{case.pk}/")
    assert response.status_code == 200
    body = response.content.decode()
    assert "张三" in body and "心理疏导" in body and "全过程时间线" in body
    assert "提交强制报告" in body and "转介帮扶措施：心理疏导" in body
    view = AuditEvent.objects.filter(action=EventType.VIEW, object_type="case", object_id=str(case.pk))
    assert view.count() == 1


@pytest.mark.parametrize(
    "persona",
    ["village_worker", "school_staff", "county_officer", "visiting_cadre", "social_worker", "auditor"],
)
def test_it_answers_404_to_everyone_else(world: World, login: Any, persona: str) -> None:
    case = make_case(world, "a1")  # the social worker is not named on this report
    client = login(persona)
    response = client.get(f"/cases/{case.pk}/")
    missing = client.get(f"/cases/{MISSING}/")
    assert response.status_code == missing.status_code == 404
    assert len(response.content) == len(missing.content)
    assert "张三" not in response.content.decode()
    denied = AuditEvent.objects.filter(action=EventType.DENIED, object_type="case", object_id=str(case.pk))
    assert denied.count() == 1


def test_a_case_in_another_township_is_not_read_by_the_police_station(world: World, login: Any) -> None:
    case = make_case(world, "b1")
    assert login("police").get(f"/cases/{case.pk}/").status_code == 404


def test_it_marks_overdue_measures_and_follow_ups(world: World, login: Any, clock: Any) -> None:
    case = make_case(world, "a1")
    make_measure(world, case, status=MeasureStatus.ACCEPTED, due_in_days=1)
    make_follow_up(world, case, due_in_days=1)
    client = login("township_supervisor")
    assert "已逾期" not in client.get(f"/cases/{case.pk}/").content.decode()
    clock.shift(dt.timedelta(days=3))
    client = login("township_supervisor")  # a fresh session: the old one timed out
    assert client.get(f"/cases/{case.pk}/").content.decode().count("已逾期") == 2


def test_the_list_shows_open_cases_with_overdue_counts(world: World, login: Any, clock: Any) -> None:
    mine = make_case(world, "a1")
    make_measure(world, mine, status=MeasureStatus.ACCEPTED, due_in_days=1)
    make_measure(world, mine, at=township_government(world), status=MeasureStatus.DONE, due_in_days=1)
    make_follow_up(world, mine, due_in_days=1)
    make_follow_up(world, mine, due_in_days=30)
    other_township = make_case(world, "b1")  # township b: not the supervisor's
    closed = make_case(world, "a2", state=CaseState.CLOSED)
    clock.shift(dt.timedelta(days=2))
    client = login("township_supervisor")
    response = client.get("/cases/")
    assert response.status_code == 200
    rows = list(response.context["page"].object_list)
    assert [row.pk for row in rows] == [mine.pk]
    assert (rows[0].overdue_measures, rows[0].overdue_follow_ups) == (1, 1)
    assert "王五" not in response.content.decode() and "李四" not in response.content.decode()
    closed_list = client.get("/cases/", {"state": "closed"})
    assert [row.pk for row in closed_list.context["page"].object_list] == [closed.pk]

    everything = login("county_admin").get("/cases/")
    assert {row.pk for row in everything.context["page"].object_list} == {mine.pk, other_township.pk}


@pytest.mark.parametrize("persona", ["police", "village_worker", "social_worker", "auditor"])
def test_the_list_is_for_county_admins_and_supervisors(world: World, login: Any, persona: str) -> None:
    make_case(world, "a1")
    response = login(persona).get("/cases/")
    assert response.status_code == 403
    assert "张三" not in response.content.decode()


def test_the_case_page_never_shows_the_report_description(world: World, login: Any) -> None:
    case = make_case(world, "a1")
    body = login("county_admin").get(f"/cases/{case.pk}/").content.decode()
    assert DESCRIPTION not in body
