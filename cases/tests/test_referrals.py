"""Referrals (转介): the receiving unit sees the child's name and the measure only, accepts or
declines with a reason; a social worker who accepts is named on the report and reads the case."""

from typing import Any

import pytest

from audit.models import AuditEvent, EventType
from cases.models import MeasureKind, MeasureStatus
from cases.tests.helpers import DESCRIPTION, PLACE, make_case, make_measure
from notify.models import Notification
from reports.models import MemberKind, ReportMember
from testing.world import World


def test_the_unit_lists_its_referrals(world: World, login: Any) -> None:
    case = make_case(world, "a1")
    waiting = make_measure(world, case)
    make_measure(world, case, status=MeasureStatus.DONE, kind=MeasureKind.BEHAVIOUR)
    school = make_measure(world, case, at=world.school, kind=MeasureKind.RETURN_TO_SCHOOL)
    response = login("social_worker").get("/cases/referrals/")
    assert response.status_code == 200
    assert [m.pk for m in response.context["referrals"]] == [waiting.pk]
    body = response.content.decode()
    assert "张三" in body and "心理疏导" in body and "行为矫治" not in body and "复学" not in body
    assert school.pk not in [m.pk for m in login("police").get("/cases/referrals/").context["referrals"]]


def test_the_referral_page_shows_the_measure_and_nothing_of_the_report(world: World, login: Any) -> None:
    case = make_case(world, "a1")
    measure = make_measure(world, case, note="请每周上门一次")
    make_measure(world, case, at=world.school, kind=MeasureKind.RETURN_TO_SCHOOL, note="安排插班复学")
    response = login("social_worker").get(f"/cases/referrals/{measure.pk}/")
    assert response.status_code == 200
    body = response.content.decode()
    for shown in ("张三", "心理疏导", "请每周上门一次", "county_admin", "合浦县民政局", "廉州镇"):
        assert shown in body, shown
    for hidden in (DESCRIPTION, PLACE, "安排插班复学", "复学", "班主任"):
        assert hidden not in body, hidden
    assert AuditEvent.objects.filter(
        action=EventType.VIEW, object_type="case", object_id=str(case.pk)
    ).exists()


def test_a_social_worker_who_accepts_is_named_and_reads_the_case(world: World, login: Any) -> None:
    case = make_case(world, "a1")
    measure = make_measure(world, case)
    client = login("social_worker")
    assert client.get(f"/cases/{case.pk}/").status_code == 404
    response = client.post(f"/cases/referrals/{measure.pk}/", {"form": "answer", "decision": "accept"})
    assert response.status_code == 302
    measure.refresh_from_db()
    assert (measure.status, measure.responded_by) == (MeasureStatus.ACCEPTED, world.users["social_worker"])
    member = ReportMember.objects.get(report=case.report, kind=MemberKind.SOCIAL_WORKER)
    assert (member.user, member.active, member.named_by) == (world.users["social_worker"], True, member.user)
    assert member.history.count() == 1
    assert client.get(f"/cases/{case.pk}/").status_code == 200
    answer = Notification.objects.get(kind="case_referral_answer")
    assert answer.recipient == world.users["county_admin"] and "已承接" in answer.title


def test_a_decline_needs_a_reason(world: World, login: Any) -> None:
    case = make_case(world, "a1")
    measure = make_measure(world, case)
    client = login("social_worker")
    refused = client.post(
        f"/cases/referrals/{measure.pk}/", {"form": "answer", "decision": "decline", "reason": ""}
    )
    assert refused.status_code == 200 and "请填写不能承接的原因。" in refused.content.decode()
    measure.refresh_from_db()
    assert measure.status == MeasureStatus.REFERRED and measure.history.count() == 1

    declined = client.post(
        f"/cases/referrals/{measure.pk}/", {"form": "answer", "decision": "decline", "reason": "本月人手不足"}
    )
    assert declined.status_code == 302
    measure.refresh_from_db()
    assert (measure.status, measure.decline_reason) == (MeasureStatus.DECLINED, "本月人手不足")
    assert not ReportMember.objects.filter(report=case.report, kind=MemberKind.SOCIAL_WORKER).exists()
    again = client.post(f"/cases/referrals/{measure.pk}/", {"form": "answer", "decision": "accept"})
    assert "这项转介已经答复过了" in again.content.decode()


@pytest.mark.parametrize(
    "persona", ["school_staff", "police", "county_admin", "township_supervisor", "system_admin"]
)
def test_a_referral_to_another_unit_is_404(world: World, login: Any, persona: str) -> None:
    case = make_case(world, "a1")
    measure = make_measure(world, case)
    client = login(persona)
    page = client.get(f"/cases/referrals/{measure.pk}/")
    answer = client.post(f"/cases/referrals/{measure.pk}/", {"form": "answer", "decision": "accept"})
    assert page.status_code == answer.status_code == 404
    assert "张三" not in page.content.decode()
    measure.refresh_from_db()
    assert measure.status == MeasureStatus.REFERRED


def test_a_school_that_accepts_does_not_read_the_case_and_reports_progress(world: World, login: Any) -> None:
    case = make_case(world, "a1")
    measure = make_measure(world, case, at=world.school, kind=MeasureKind.RETURN_TO_SCHOOL)
    client = login("school_staff")
    client.post(
        f"/cases/referrals/{measure.pk}/", {"form": "answer", "decision": "accept", "reason": "下周一返校"}
    )
    measure.refresh_from_db()
    assert (measure.status, measure.progress_note) == (MeasureStatus.ACCEPTED, "下周一返校")
    assert not ReportMember.objects.filter(report=case.report, user=world.users["school_staff"]).exists()
    assert client.get(f"/cases/{case.pk}/").status_code == 404
    done = client.post(
        f"/cases/referrals/{measure.pk}/", {"form": "progress", "status": "done", "note": "已复学"}
    )
    assert done.status_code == 302
    measure.refresh_from_db()
    assert (measure.status, measure.completed_by) == (MeasureStatus.DONE, world.users["school_staff"])
    cancel = client.post(f"/cases/referrals/{measure.pk}/", {"form": "progress", "status": "cancelled"})
    assert cancel.status_code == 200 and measure.history.count() == 3


def test_a_closed_case_takes_no_answer(world: World, login: Any) -> None:
    case = make_case(world, "a1", state="closed")
    measure = make_measure(world, case)
    client = login("social_worker")
    page = client.get(f"/cases/referrals/{measure.pk}/")
    assert "不能再答复或更新这项措施" in page.content.decode()
    response = client.post(f"/cases/referrals/{measure.pk}/", {"form": "answer", "decision": "accept"})
    assert response.status_code == 200 and "个案已结案，不能修改。" in response.content.decode()
    measure.refresh_from_db()
    assert measure.status == MeasureStatus.REFERRED


@pytest.mark.parametrize("persona", ["system_admin", "security_admin", "auditor", "no_role"])
def test_the_three_admins_have_no_referral_list(world: World, login: Any, persona: str) -> None:
    client = login(persona)
    assert client.get("/cases/referrals/").status_code == 403
