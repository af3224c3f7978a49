"""Closing (结案) needs a reason and the approval of a county admin or named supervisor other
than the requester; rejecting sends it back; reopening is an explicit act with a reason."""

import uuid
from typing import Any

import pytest

from audit.models import AuditEvent, EventType
from cases.models import Case, CaseState, CaseTransition, MeasureStatus, TransitionKind
from cases.tests.helpers import (
    assessment_post,
    fresh,
    make_case,
    make_follow_up,
    make_measure,
    township_government,
)
from notify.models import Notification
from testing.world import World


def _reason(case: Case, reason: str = "监护人已返乡，儿童情况稳定") -> dict[str, Any]:
    return {"version": fresh(case).version, "reason": reason}


def _version(case: Case) -> dict[str, Any]:
    return {"version": fresh(case).version}


def test_a_case_closes_only_on_another_persons_approval(world: World, login: Any) -> None:
    case = make_case(world, "a1")
    make_measure(world, case, at=township_government(world), status=MeasureStatus.DONE)
    supervisor = login("township_supervisor")
    assert supervisor.post(f"/cases/{case.pk}/close/", _reason(case)).status_code == 302
    case = fresh(case)
    assert (case.state, case.close_requested_by, case.close_reason) == (
        CaseState.CLOSING,
        world.users["township_supervisor"],
        "监护人已返乡，儿童情况稳定",
    )
    assert Notification.objects.filter(
        kind="case_close_request", recipient=world.users["county_admin"]
    ).exists()
    assert not Notification.objects.filter(recipient=world.users["township_supervisor"]).exists()

    # Asking is not closing: the requester cannot approve their own request.
    own = supervisor.post(f"/cases/{case.pk}/close/approve/", _version(case))
    assert own.status_code == 200
    assert "不能审批本人提出的结案申请" in own.content.decode()
    assert fresh(case).state == CaseState.CLOSING

    admin = login("county_admin")
    assert admin.post(f"/cases/{case.pk}/close/approve/", _version(case)).status_code == 302
    case = fresh(case)
    assert (case.state, case.closed_by) == (CaseState.CLOSED, world.users["county_admin"])
    kinds = list(CaseTransition.objects.filter(case=case).order_by("at").values_list("kind", "by__username"))
    assert kinds == [("close_request", "township_supervisor"), ("close_approve", "county_admin")]
    assert case.history.count() == 3
    assert (
        AuditEvent.objects.filter(object_type="case", object_id=str(case.pk), action=EventType.UPDATE).count()
        == 2
    )
    assert Notification.objects.get(kind="case_closed").recipient == world.users["township_supervisor"]
    body = admin.get(f"/cases/{case.pk}/").content.decode()
    assert "申请结案" in body and "批准结案" in body and "理由：监护人已返乡" in body


@pytest.mark.parametrize("persona", ["village_worker", "police", "social_worker", "school_staff"])
def test_nobody_else_approves(world: World, login: Any, persona: str) -> None:
    case = make_case(world, "a1", state=CaseState.CLOSING, requested_by="township_supervisor")
    response = login(persona).post(f"/cases/{case.pk}/close/approve/", _version(case))
    assert response.status_code == 404
    assert fresh(case).state == CaseState.CLOSING


def test_a_case_not_waiting_for_approval_is_not_approved(world: World, login: Any) -> None:
    case = make_case(world, "a1", state=CaseState.ASSISTING)
    response = login("county_admin").post(f"/cases/{case.pk}/close/approve/", _version(case))
    assert response.status_code == 200
    assert "个案不在待审批结案状态，不能批准结案。" in response.content.decode()
    assert fresh(case).state == CaseState.ASSISTING and not CaseTransition.objects.exists()


@pytest.mark.parametrize(
    ("state", "message"),
    [
        (CaseState.ASSESSING, "个案尚未评估，不能申请结案。"),
        (CaseState.CLOSING, "已经申请结案，正在等待审批。"),
        (CaseState.CLOSED, "个案已结案。"),
    ],
)
def test_only_a_case_in_assistance_may_ask_to_close(
    world: World, login: Any, state: str, message: str
) -> None:
    case = make_case(world, "a1", state=state)
    response = login("county_admin").post(f"/cases/{case.pk}/close/", _reason(case))
    assert response.status_code == 200 and message in response.content.decode()
    assert fresh(case).state == state


def test_a_close_request_needs_a_reason_and_a_finished_plan(world: World, login: Any) -> None:
    case = make_case(world, "a1")
    client = login("county_admin")
    no_reason = client.post(f"/cases/{case.pk}/close/", _reason(case, reason="  "))
    assert "请填写结案理由。" in no_reason.content.decode()

    measure = make_measure(world, case, status=MeasureStatus.ACCEPTED)
    open_measure = client.post(f"/cases/{case.pk}/close/", _reason(case))
    assert "尚有 1 项帮扶措施未完成" in open_measure.content.decode()
    measure.status = MeasureStatus.DONE
    measure.save()

    make_follow_up(world, case)
    pending = client.post(f"/cases/{case.pk}/close/", _reason(case))
    assert "尚有 1 次回访未记录" in pending.content.decode()
    assert fresh(case).state == CaseState.ASSISTING and not CaseTransition.objects.exists()


def test_the_named_social_worker_may_ask_to_close(world: World, login: Any) -> None:
    case = make_case(world, "a1", social_worker=True)
    assert login("social_worker").post(f"/cases/{case.pk}/close/", _reason(case)).status_code == 302
    assert fresh(case).close_requested_by == world.users["social_worker"]
    # …and the supervisor, who did not ask, approves.
    assert (
        login("township_supervisor").post(f"/cases/{case.pk}/close/approve/", _version(case)).status_code
        == 302
    )
    assert fresh(case).state == CaseState.CLOSED


def test_a_rejection_needs_a_reason_and_returns_to_assistance(world: World, login: Any) -> None:
    case = make_case(world, "a1", state=CaseState.CLOSING, requested_by="township_supervisor")
    client = login("county_admin")
    refused = client.post(f"/cases/{case.pk}/close/reject/", _reason(case, reason=""))
    assert "请填写退回理由。" in refused.content.decode()
    assert fresh(case).state == CaseState.CLOSING

    assert (
        client.post(f"/cases/{case.pk}/close/reject/", _reason(case, "心理疏导尚未完成")).status_code == 302
    )
    case = fresh(case)
    assert (case.state, case.close_requested_by, case.close_reason) == (CaseState.ASSISTING, None, "")
    row = CaseTransition.objects.get(case=case)
    assert (row.kind, row.reason, row.by) == (
        TransitionKind.CLOSE_REJECT,
        "心理疏导尚未完成",
        world.users["county_admin"],
    )
    assert (
        Notification.objects.get(kind="case_close_rejected").recipient == world.users["township_supervisor"]
    )


def test_a_closed_case_is_not_edited_and_reopens_only_with_a_reason(world: World, login: Any) -> None:
    case = make_case(world, "a1", state=CaseState.CLOSED)
    client = login("township_supervisor")
    edit = client.post(f"/cases/{case.pk}/assessments/new/", assessment_post(case))
    assert "个案已结案，不能修改。如需继续帮扶，请先重新启用个案。" in edit.content.decode()

    no_reason = client.post(f"/cases/{case.pk}/reopen/", _reason(case, reason=""))
    assert "请填写重新启用的理由。" in no_reason.content.decode()
    assert fresh(case).state == CaseState.CLOSED

    assert client.post(f"/cases/{case.pk}/reopen/", _reason(case, "儿童再次独自居住")).status_code == 302
    case = fresh(case)
    assert (case.state, case.closed_at, case.close_reason) == (CaseState.ASSISTING, None, "")
    row = CaseTransition.objects.get(case=case)
    assert (row.kind, row.from_state, row.to_state, row.reason) == (
        TransitionKind.REOPEN,
        "closed",
        "assisting",
        "儿童再次独自居住",
    )
    assert client.post(f"/cases/{case.pk}/assessments/new/", assessment_post(case)).status_code == 302


def test_only_a_closed_case_reopens(world: World, login: Any) -> None:
    case = make_case(world, "a1", state=CaseState.CLOSING, requested_by="county_admin")
    response = login("township_supervisor").post(f"/cases/{case.pk}/reopen/", _reason(case, "再看看"))
    assert "只有已结案的个案才能重新启用。" in response.content.decode()
    assert fresh(case).state == CaseState.CLOSING


@pytest.mark.parametrize("persona", ["police", "social_worker", "village_worker"])
def test_reopening_is_for_managers(world: World, login: Any, persona: str) -> None:
    case = make_case(world, "a1", state=CaseState.CLOSED, social_worker=True)
    response = login(persona).post(f"/cases/{case.pk}/reopen/", _reason(case, "再看看"))
    assert response.status_code == 404 and fresh(case).state == CaseState.CLOSED


def test_a_stale_approval_is_refused(world: World, login: Any) -> None:
    case = make_case(world, "a1", state=CaseState.CLOSING, requested_by="township_supervisor")
    stale = _version(case)
    client = login("county_admin")
    client.post(f"/cases/{case.pk}/close/reject/", _reason(case, "再评估一次"))
    client.post(f"/cases/{case.pk}/close/", _reason(case))  # asked again, by the county admin now
    response = login("township_supervisor").post(f"/cases/{case.pk}/close/approve/", stale)
    assert response.status_code == 409 and "个案已被他人修改" in response.content.decode()
    assert fresh(case).state == CaseState.CLOSING


def test_a_case_whose_id_reads_like_a_phone_number_still_closes(world: World, login: Any) -> None:
    """The id "…-9868-975373…" reads as a mobile number once its dashes are dropped; notify knows a
    UUID in a link is none (a regression test: this once failed the request with a 500)."""
    case = make_case(world, "a1", case_id=uuid.UUID("f283ed3d-1612-40f1-9868-975373c8b822"))
    assert login("township_supervisor").post(f"/cases/{case.pk}/close/", _reason(case)).status_code == 302
    notice = Notification.objects.get(kind="case_close_request")
    assert notice.link == f"/cases/{case.pk}/" and fresh(case).state == CaseState.CLOSING
    assert login("county_admin").post(f"/cases/{case.pk}/close/approve/", _version(case)).status_code == 302
    assert Notification.objects.get(kind="case_closed").link == f"/cases/{case.pk}/"
