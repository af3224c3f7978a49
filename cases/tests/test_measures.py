"""The plan of measures: own units take a measure at once, other units receive a referral;
managers move measures on; a closing or closed case takes no change."""

import datetime as dt
from typing import Any

import pytest
from django.utils import timezone

from cases.models import CaseState, Measure, MeasureStatus
from cases.tests.helpers import fresh, make_case, make_measure, social_station, township_government
from geo.models import Unit
from notify.models import Notification
from testing.world import World


def _post(unit: Unit, **overrides: Any) -> dict[str, Any]:
    data = {
        "kind": "counselling",
        "unit": str(unit.pk),
        "due_on": (timezone.localdate() + dt.timedelta(days=14)).isoformat(),
        "note": "每周一次心理疏导",
    }
    data.update(overrides)
    return data


def test_a_measure_for_the_township_government_is_taken_at_once(world: World, login: Any) -> None:
    case = make_case(world, "a1")
    client = login("township_supervisor")
    assert "增加帮扶措施" in client.get(f"/cases/{case.pk}/measures/new/").content.decode()
    response = client.post(f"/cases/{case.pk}/measures/new/", _post(township_government(world), kind="hukou"))
    assert response.status_code == 302
    measure = Measure.objects.get(case=case)
    assert (measure.status, measure.is_referral, measure.kind) == (MeasureStatus.ACCEPTED, False, "hukou")
    assert measure.assigned_by == world.users["township_supervisor"] and measure.history.count() == 1
    assert fresh(case).version == 2
    assert not Notification.objects.filter(kind="case_referral").exists()


def test_a_measure_for_another_unit_is_a_referral_and_its_users_are_told(world: World, login: Any) -> None:
    case = make_case(world, "a1")
    station = social_station(world, "a1")
    response = login("county_admin").post(f"/cases/{case.pk}/measures/new/", _post(station))
    assert response.status_code == 302
    measure = Measure.objects.get(case=case)
    assert (measure.status, measure.is_referral) == (MeasureStatus.REFERRED, True)
    notice = Notification.objects.get(kind="case_referral")
    assert notice.recipient == world.users["social_worker"]
    assert notice.link == f"/cases/referrals/{measure.pk}/"
    assert "张三" not in notice.title + notice.body  # the name stays inside the site


@pytest.mark.parametrize(
    ("state", "message"),
    [
        (CaseState.ASSESSING, "请先完成评估，再制定帮扶计划和安排回访。"),
        (CaseState.CLOSING, "个案正在等待结案审批，不能修改。"),
        (CaseState.CLOSED, "个案已结案，不能修改。"),
    ],
)
def test_measures_wait_for_the_assessment_and_stop_at_closing(
    world: World, login: Any, state: str, message: str
) -> None:
    case = make_case(world, "a1", state=state)
    response = login("county_admin").post(
        f"/cases/{case.pk}/measures/new/", _post(township_government(world))
    )
    assert response.status_code == 200 and message in response.content.decode()
    assert not Measure.objects.exists()


def test_it_refuses_a_past_due_date_and_a_unit_of_another_county(world: World, login: Any) -> None:
    case = make_case(world, "a1")
    client = login("county_admin")
    past = client.post(
        f"/cases/{case.pk}/measures/new/", _post(township_government(world), due_on="2028-02-28")
    )
    assert "完成期限不能早于今天。" in past.content.decode()
    outside = social_station(world, "other")
    other = client.post(f"/cases/{case.pk}/measures/new/", _post(outside))
    assert "请选择本县的有效单位。" in other.content.decode()
    assert not Measure.objects.exists()


def test_a_manager_moves_a_measure_on_and_cancels_only_with_a_reason(world: World, login: Any) -> None:
    case = make_case(world, "a1")
    measure = make_measure(world, case, at=township_government(world), status=MeasureStatus.ACCEPTED)
    client = login("township_supervisor")
    url = f"/cases/measures/{measure.pk}/"
    assert client.post(url, {"status": "in_progress", "note": "已联系县医院"}).status_code == 302
    measure.refresh_from_db()
    assert (measure.status, measure.progress_note) == (MeasureStatus.IN_PROGRESS, "已联系县医院")

    refused = client.post(url, {"status": "cancelled", "note": " "})
    assert "请填写撤销原因。" in refused.content.decode()
    measure.refresh_from_db()
    assert measure.status == MeasureStatus.IN_PROGRESS

    assert client.post(url, {"status": "done"}).status_code == 302
    measure.refresh_from_db()
    assert (measure.status, measure.completed_by) == (MeasureStatus.DONE, world.users["township_supervisor"])
    again = client.post(url, {"status": "cancelled", "note": "重复"})
    assert again.status_code == 200 and "不能改为“已撤销”" in again.content.decode()
    assert measure.history.count() == 3


def test_a_finished_measure_cannot_go_back(world: World, login: Any) -> None:
    case = make_case(world, "a1")
    measure = make_measure(world, case, at=township_government(world), status=MeasureStatus.DONE)
    response = login("county_admin").post(f"/cases/measures/{measure.pk}/", {"status": "in_progress"})
    assert response.status_code == 200
    assert "这项措施目前为“已完成”，不能改为“实施中”。" in response.content.decode()


def test_the_named_social_worker_updates_only_their_units_measures(world: World, login: Any) -> None:
    case = make_case(world, "a1", social_worker=True)
    theirs = make_measure(world, case, status=MeasureStatus.ACCEPTED)
    township = make_measure(world, case, at=township_government(world), status=MeasureStatus.ACCEPTED)
    client = login("social_worker")
    assert client.post(f"/cases/measures/{theirs.pk}/", {"status": "done"}).status_code == 302
    assert client.post(f"/cases/measures/{township.pk}/", {"status": "done"}).status_code == 404
    cancel = client.post(f"/cases/measures/{theirs.pk}/", {"status": "cancelled", "note": "不做了"})
    assert cancel.status_code == 200  # the choice is not offered to them
    theirs.refresh_from_db()
    township.refresh_from_db()
    assert (theirs.status, township.status) == (MeasureStatus.DONE, MeasureStatus.ACCEPTED)


@pytest.mark.parametrize("persona", ["police", "village_worker", "school_staff"])
def test_others_may_not_touch_the_plan(world: World, login: Any, persona: str) -> None:
    case = make_case(world, "a1")
    measure = make_measure(world, case, at=township_government(world), status=MeasureStatus.ACCEPTED)
    client = login(persona)
    assert (
        client.post(f"/cases/{case.pk}/measures/new/", _post(township_government(world))).status_code == 404
    )
    assert client.post(f"/cases/measures/{measure.pk}/", {"status": "done"}).status_code == 404
    measure.refresh_from_db()
    assert measure.status == MeasureStatus.ACCEPTED and Measure.objects.count() == 1


def test_units_offered_are_those_of_the_county(world: World, login: Any) -> None:
    case = make_case(world, "a1")
    social_station(world, "other")
    form = login("county_admin").get(f"/cases/{case.pk}/measures/new/").context["form"]
    names = {unit.name for unit in form.fields["unit"].queryset}
    assert {"廉州镇人民政府", "合浦县社工站", "廉州镇中心小学"} <= names
    assert "外县社工站" not in names
