"""Assessments (评估): the first moves the case to 帮扶中; the latest gives the risk."""

import datetime as dt
from typing import Any

import pytest
from django.db import connection
from django.utils import timezone

from audit.models import AuditEvent, EventType
from cases.models import Assessment, CaseState, CaseTransition, TransitionKind
from cases.tests.helpers import assessment_post, fresh, make_case
from testing.world import World


def test_the_first_assessment_moves_the_case_to_assisting(world: World, login: Any) -> None:
    case = make_case(world, "a1", state=CaseState.ASSESSING)
    client = login("township_supervisor")
    assert "录入评估" in client.get(f"/cases/{case.pk}/assessments/new/").content.decode()
    response = client.post(f"/cases/{case.pk}/assessments/new/", assessment_post(case))
    assert response.status_code == 302 and response["Location"] == f"/cases/{case.pk}/"
    case = fresh(case)
    assert (case.state, case.risk, case.version) == (CaseState.ASSISTING, "high", 2)
    assessment = Assessment.objects.get(case=case)
    assert assessment.participants == ["township", "civil_affairs", "police"]
    assert (assessment.guardianship, assessment.dibao_status) == ("serious", "eligible")
    assert assessment.recorded_by == world.users["township_supervisor"]
    assert assessment.history.count() == 1 and case.history.count() == 2
    transition = CaseTransition.objects.get(case=case, kind=TransitionKind.ASSESS)
    assert (transition.from_state, transition.to_state) == ("assessing", "assisting")
    assert AuditEvent.objects.filter(
        action=EventType.UPDATE, object_type="case", object_id=str(case.pk)
    ).exists()
    with connection.cursor() as cursor:
        cursor.execute("SELECT notes FROM cases_assessment")
        (stored,) = cursor.fetchone()
    assert "祖母" not in stored  # encrypted at rest


def test_the_latest_assessment_by_date_gives_the_risk(world: World, login: Any, clock: Any) -> None:
    case = make_case(world, "a1", state=CaseState.ASSESSING)
    clock.shift(dt.timedelta(days=2))  # room for an assessment dated between the report and today
    client = login("county_admin")
    client.post(f"/cases/{case.pk}/assessments/new/", assessment_post(case, risk="medium"))
    yesterday = (timezone.localdate() - dt.timedelta(days=1)).isoformat()
    client.post(
        f"/cases/{case.pk}/assessments/new/", assessment_post(case, risk="low", assessed_on=yesterday)
    )
    case = fresh(case)
    assert Assessment.objects.filter(case=case).count() == 2
    assert case.risk == "medium"  # the later-dated assessment still decides
    assert CaseTransition.objects.filter(case=case, kind=TransitionKind.ASSESS).count() == 1


def test_a_stale_form_is_refused_with_409(world: World, login: Any) -> None:
    case = make_case(world, "a1", state=CaseState.ASSESSING)
    client = login("township_supervisor")
    data = assessment_post(case)
    assert client.post(f"/cases/{case.pk}/assessments/new/", data).status_code == 302
    again = client.post(f"/cases/{case.pk}/assessments/new/", data)  # loaded before the first save
    assert again.status_code == 409
    assert "个案已被他人修改" in again.content.decode()
    assert Assessment.objects.filter(case=case).count() == 1


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"assessed_on": "2028-03-02"}, "评估日期不能晚于今天。"),
        ({"assessed_on": "2028-02-01"}, "评估日期不能早于报告日期。"),
        ({"participants": None}, "请选择参与评估的单位。"),
        ({"risk": None}, "请选择综合风险等级。"),
        ({"safety": "fine"}, "请选择有效的选项。"),
        ({"notes": "长" * 2001}, "评估意见不能超过 2000 个字。"),
    ],
)
def test_it_refuses_bad_assessments(
    world: World, login: Any, overrides: dict[str, Any], message: str
) -> None:
    case = make_case(world, "a1", state=CaseState.ASSESSING)
    response = login("county_admin").post(
        f"/cases/{case.pk}/assessments/new/", assessment_post(case, **overrides)
    )
    assert response.status_code == 200
    assert message in response.content.decode()
    assert not Assessment.objects.exists() and fresh(case).state == CaseState.ASSESSING


@pytest.mark.parametrize("persona", ["police", "social_worker", "village_worker"])
def test_readers_and_others_may_not_assess(world: World, login: Any, persona: str) -> None:
    case = make_case(world, "a1", state=CaseState.ASSESSING, social_worker=True)
    client = login(persona)
    assert client.get(f"/cases/{case.pk}/assessments/new/").status_code == 404
    assert client.post(f"/cases/{case.pk}/assessments/new/", assessment_post(case)).status_code == 404
    assert not Assessment.objects.exists()


@pytest.mark.parametrize(
    ("state", "message"),
    [
        (CaseState.CLOSING, "个案正在等待结案审批，不能修改。"),
        (CaseState.CLOSED, "个案已结案，不能修改。如需继续帮扶，请先重新启用个案。"),
    ],
)
def test_a_closing_or_closed_case_takes_no_assessment(
    world: World, login: Any, state: str, message: str
) -> None:
    case = make_case(world, "a1", state=state)
    before = fresh(case).version
    response = login("county_admin").post(f"/cases/{case.pk}/assessments/new/", assessment_post(case))
    assert response.status_code == 200 and message in response.content.decode()
    assert not Assessment.objects.exists() and fresh(case).version == before
