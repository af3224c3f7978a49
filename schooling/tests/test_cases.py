"""Dropout cases through HTTP (R14): the school opens one, persuasion attempts are logged,
the written report needs two failed attempts and notifies the education bureau and the
township, the outcome closes the case; the child file's schooling follows with history."""

import uuid
from typing import Any

import pytest

from audit.models import AuditEvent, EventType
from notify.models import Notification
from schooling.models import DropoutCase, PersuasionAttempt
from testing.world import World

from .helpers import ATTEMPT, OPEN, child, escalated_case, fail_attempts, open_case, other_school_staff


def _new_url(world: World, key: str = "a1") -> str:
    return f"/schooling/children/{world.children[key].pk}/new/"


def _audited(child_id: object, action: str, change: str) -> int:
    return AuditEvent.objects.filter(action=action, object_id=str(child_id), detail__change=change).count()


# --- opening -------------------------------------------------------------------------------------


def test_the_school_opens_a_dropout_case_and_the_file_says_dropout(world: World, login: Any) -> None:
    pupil = child(world)
    client = login("school_staff")
    page = client.get(_new_url(world))
    assert page.status_code == 200 and "张三" in page.content.decode()
    response = client.post(_new_url(world), {**OPEN, "version": pupil.version})

    case = DropoutCase.objects.get(child=pupil)
    assert response.status_code == 302 and response["Location"] == f"/schooling/{case.pk}/"
    assert (case.state, case.kind, case.school_id) == ("open", "dropout", world.school.pk)
    assert case.reported_by == world.users["school_staff"] and case.schooling_before == "primary"
    assert case.reason == "家长外出务工，孩子在家照顾弟妹"
    assert case.history.count() == 1
    pupil = child(world)
    assert pupil.schooling == "dropout" and "dropout" in pupil.key_reasons
    latest = pupil.history.latest()
    assert (latest.schooling, latest.history_user) == ("dropout", world.users["school_staff"])
    assert _audited(pupil.pk, EventType.CREATE, "dropout_case_open") == 1


def test_an_absence_case_leaves_the_file_alone(world: World, login: Any) -> None:
    pupil = child(world)
    response = login("school_staff").post(
        _new_url(world), {**OPEN, "kind": "absence", "version": pupil.version}
    )
    assert response.status_code == 302
    after = child(world)
    assert (after.schooling, after.version) == ("primary", pupil.version)


def test_a_second_open_case_is_refused(world: World, login: Any) -> None:
    case = open_case(world)
    client = login("school_staff")
    assert client.get(_new_url(world))["Location"] == f"/schooling/{case.pk}/"
    response = client.post(_new_url(world), {**OPEN, "version": child(world).version})
    assert response.status_code == 302 and DropoutCase.objects.count() == 1


@pytest.mark.parametrize(
    ("data", "field", "message"),
    [
        ({"kind": ""}, "kind", "请选择无故缺课或辍学。"),
        ({"first_missed_on": "2028-02-26"}, "first_missed_on", "开始缺课日期不能晚于今天。"),
        ({"reported_on": "2028-01-31"}, "reported_on", "报告日期不能早于开始缺课日期。"),
    ],
)
def test_opening_puts_errors_on_the_field(
    data: dict[str, str], field: str, message: str, world: World, login: Any
) -> None:
    pupil = child(world)
    response = login("school_staff").post(_new_url(world), {**OPEN, "version": pupil.version, **data})
    assert response.status_code == 200
    assert message in response.context["form"].errors[field]
    assert not DropoutCase.objects.exists() and child(world).schooling == "primary"


def test_a_stale_file_version_is_refused_and_offered_again(world: World, login: Any) -> None:
    pupil = child(world)
    response = login("school_staff").post(_new_url(world), {**OPEN, "version": pupil.version + 5})
    assert response.status_code == 409
    assert "档案已被他人修改" in response.content.decode()
    assert response.context["form"].data["version"] == str(pupil.version)
    assert not DropoutCase.objects.exists() and child(world).schooling == "primary"


@pytest.mark.parametrize("persona", ["village_worker", "county_admin", "county_officer", "police", "no_role"])
def test_only_the_school_opens_a_case(persona: str, world: World, login: Any) -> None:
    client = login(persona)
    assert client.get(_new_url(world)).status_code == 404
    assert client.post(_new_url(world), {**OPEN, "version": 1}).status_code == 404
    assert not DropoutCase.objects.exists()


def test_another_schools_pupil_looks_missing(world: World, login: Any) -> None:
    other_school_staff(world)
    client = login("other_school_staff")
    denied = client.post(_new_url(world), {**OPEN, "version": child(world).version})
    missing = client.get(f"/schooling/children/{uuid.uuid4()}/new/")
    assert denied.status_code == missing.status_code == 404
    assert "张三" not in denied.content.decode()
    assert not DropoutCase.objects.exists()
    assert AuditEvent.objects.filter(action=EventType.DENIED, object_id=str(world.children["a1"].pk)).exists()


def test_another_schools_staff_cannot_see_the_case(world: World, login: Any) -> None:
    case = open_case(world)
    other_school_staff(world)
    client = login("other_school_staff")
    assert client.get(f"/schooling/{case.pk}/").status_code == 404
    assert "张三" not in client.get("/schooling/").content.decode()


# --- persuasion attempts -------------------------------------------------------------------------


@pytest.mark.parametrize("persona", ["school_staff", "village_worker", "township_supervisor", "county_admin"])
def test_attempts_are_logged_by_the_school_and_the_village(persona: str, world: World, login: Any) -> None:
    case = open_case(world)
    response = login(persona).post(f"/schooling/{case.pk}/attempts/new/", ATTEMPT)
    assert response.status_code == 302 and response["Location"] == f"/schooling/{case.pk}/"
    attempt = PersuasionAttempt.objects.get(case=case)
    assert (attempt.attempted_by, attempt.outcome, attempt.method) == (
        world.users[persona],
        "refused",
        "home_visit",
    )
    assert attempt.participants == "班主任、村儿童主任" and attempt.note == "祖母说孩子不愿意上学"
    assert attempt.history.count() == 1
    assert _audited(case.child_id, EventType.CREATE, "persuasion_attempt") == 1


@pytest.mark.parametrize(
    "persona", ["county_officer", "police", "social_worker", "visiting_cadre", "no_role"]
)
def test_other_roles_cannot_log_attempts(persona: str, world: World, login: Any) -> None:
    case = open_case(world)
    client = login(persona)
    assert client.get(f"/schooling/{case.pk}/attempts/new/").status_code == 404
    assert client.post(f"/schooling/{case.pk}/attempts/new/", ATTEMPT).status_code == 404
    assert not PersuasionAttempt.objects.exists()


@pytest.mark.parametrize(
    ("data", "field", "message"),
    [
        ({"attempted_on": "2028-02-26"}, "attempted_on", "劝返日期不能晚于今天。"),
        ({"attempted_on": "2028-01-31"}, "attempted_on", "劝返日期不能早于开始缺课日期。"),
        ({"participants": "  "}, "participants", "请填写参与劝返的人员。"),
        ({"outcome": ""}, "outcome", "请选择劝返结果。"),
    ],
)
def test_attempt_errors_go_on_the_field(
    data: dict[str, str], field: str, message: str, world: World, login: Any
) -> None:
    case = open_case(world)
    response = login("school_staff").post(f"/schooling/{case.pk}/attempts/new/", {**ATTEMPT, **data})
    assert response.status_code == 200
    assert message in response.context["form"].errors[field]
    assert not PersuasionAttempt.objects.exists()


def test_no_attempts_on_a_closed_case(world: World, login: Any) -> None:
    case = escalated_case(world)
    client = login("school_staff")
    client.post(
        f"/schooling/{case.pk}/outcome/", {"outcome": "not_returned", "reason": "随父母外出", "version": 1}
    )
    before = PersuasionAttempt.objects.count()
    response = client.post(f"/schooling/{case.pk}/attempts/new/", ATTEMPT)
    assert response.status_code == 302
    assert PersuasionAttempt.objects.count() == before


# --- the written report ----------------------------------------------------------------------


def test_the_report_is_refused_before_two_failed_attempts(world: World, login: Any) -> None:
    case = open_case(world)
    fail_attempts(world, case, count=1)
    client = login("school_staff")
    page = client.get(f"/schooling/{case.pk}/escalate/").content.decode()
    assert "劝返未果（拒绝或未见到）满 2 次后" in page and "目前记录了 1 次" in page
    response = client.post(f"/schooling/{case.pk}/escalate/", {"confirm": "on"})
    assert response.status_code == 200
    assert "目前记录了 1 次" in response.content.decode()
    case.refresh_from_db()
    assert (case.state, case.escalated_at) == ("open", None)
    assert not Notification.objects.exists()
    assert _audited(case.child_id, EventType.UPDATE, "dropout_case_escalate") == 0


def test_an_agreed_attempt_does_not_count_as_failed(world: World, login: Any) -> None:
    case = open_case(world)
    fail_attempts(world, case, count=1)
    client = login("school_staff")
    client.post(f"/schooling/{case.pk}/attempts/new/", {**ATTEMPT, "outcome": "agreed"})
    client.post(f"/schooling/{case.pk}/escalate/", {"confirm": "on"})
    case.refresh_from_db()
    assert case.state == "open"


def test_the_report_needs_the_confirmation(world: World, login: Any) -> None:
    case = open_case(world)
    fail_attempts(world, case)
    response = login("school_staff").post(f"/schooling/{case.pk}/escalate/", {})
    assert response.status_code == 200
    assert "请确认书面报告已经报送。" in response.context["form"].errors["confirm"]
    case.refresh_from_db()
    assert case.state == "open"


def test_the_report_notifies_the_education_bureau_and_the_township(world: World, login: Any) -> None:
    case = open_case(world)
    fail_attempts(world, case)
    client = login("school_staff")
    page = client.get(f"/schooling/{case.pk}/escalate/").content.decode()
    assert "county_officer" in page and "township_supervisor" in page
    response = client.post(f"/schooling/{case.pk}/escalate/", {"confirm": "on"})
    assert response.status_code == 302

    case.refresh_from_db()
    assert case.state == "escalated" and case.escalated_by == world.users["school_staff"]
    assert case.escalated_at is not None
    assert [row.state for row in case.history.order_by("history_date")] == ["open", "escalated"]
    sent = Notification.objects.filter(kind="schooling.escalated")
    assert {n.recipient.username for n in sent} == {"county_officer", "township_supervisor"}
    note = sent.first()
    assert note is not None and note.child_id == case.child_id and note.link == f"/schooling/{case.pk}/"
    assert "张三" in note.title and "经 2 次劝返未果" in note.body
    assert _audited(case.child_id, EventType.UPDATE, "dropout_case_escalate") == 1
    again = client.post(f"/schooling/{case.pk}/escalate/", {"confirm": "on"})
    assert again.status_code == 200 and "该个案已书面报告。" in again.content.decode()
    assert sent.count() == 2


def test_a_b1_report_does_not_notify_the_other_townships_supervisor(world: World) -> None:
    from schooling.services import escalation_recipients

    recipients = {user.username for user in escalation_recipients(child(world, "b1"))}
    assert recipients == {"county_officer"}  # 党江镇 has no supervisor in the World


@pytest.mark.parametrize(
    "persona", ["village_worker", "township_supervisor", "county_admin", "county_officer", "police"]
)
def test_only_the_school_makes_the_report(persona: str, world: World, login: Any) -> None:
    case = open_case(world)
    fail_attempts(world, case)
    client = login(persona)
    assert client.get(f"/schooling/{case.pk}/escalate/").status_code == 404
    assert client.post(f"/schooling/{case.pk}/escalate/", {"confirm": "on"}).status_code == 404
    case.refresh_from_db()
    assert case.state == "open" and not Notification.objects.exists()


# --- the outcome ----------------------------------------------------------------------------------


def test_returned_puts_the_pupil_back_in_school_on_the_file(world: World, login: Any) -> None:
    case = escalated_case(world)
    pupil = child(world)
    assert pupil.schooling == "dropout"
    client = login("county_officer")
    page = client.get(f"/schooling/{case.pk}/outcome/")
    assert page.context["form"].initial["schooling"] == "primary"  # what the file said before
    data = {
        "outcome": "returned",
        "returned_on": "2028-02-24",
        "schooling": "junior",
        "version": pupil.version,
    }
    response = client.post(f"/schooling/{case.pk}/outcome/", data)
    assert response.status_code == 302

    case.refresh_from_db()
    assert (case.state, str(case.returned_on), case.closed_by) == (
        "returned",
        "2028-02-24",
        world.users["county_officer"],
    )
    pupil = child(world)
    assert pupil.schooling == "junior" and "dropout" not in pupil.key_reasons
    latest = pupil.history.latest()
    assert (latest.schooling, latest.history_user) == ("junior", world.users["county_officer"])
    assert _audited(case.child_id, EventType.UPDATE, "dropout_case_returned") == 1


def test_returned_straight_after_persuasion(world: World, login: Any) -> None:
    case = open_case(world)
    data = {
        "outcome": "returned",
        "returned_on": "2028-02-25",
        "schooling": "primary",
        "version": child(world).version,
    }
    assert login("school_staff").post(f"/schooling/{case.pk}/outcome/", data).status_code == 302
    case.refresh_from_db()
    assert case.state == "returned" and child(world).schooling == "primary"


def test_not_returned_needs_a_reason(world: World, login: Any) -> None:
    case = escalated_case(world)
    client = login("school_staff")
    data = {"outcome": "not_returned", "reason": "   ", "version": child(world).version}
    response = client.post(f"/schooling/{case.pk}/outcome/", data)
    assert response.status_code == 200
    assert "请填写未复学的原因。" in response.context["form"].errors["reason"]
    case.refresh_from_db()
    assert case.state == "escalated" and case.closed_at is None

    response = client.post(f"/schooling/{case.pk}/outcome/", {**data, "reason": "已随父母到广东就读"})
    assert response.status_code == 302
    case.refresh_from_db()
    assert (case.state, case.outcome_reason) == ("not_returned", "已随父母到广东就读")
    assert child(world).schooling == "dropout"  # the file is left for the user to correct
    assert _audited(case.child_id, EventType.UPDATE, "dropout_case_not_returned") == 1


def test_not_returned_needs_the_written_report_first(world: World, login: Any) -> None:
    case = open_case(world)
    data = {"outcome": "not_returned", "reason": "拒绝返校", "version": child(world).version}
    response = login("school_staff").post(f"/schooling/{case.pk}/outcome/", data)
    assert response.status_code == 200
    assert "须先书面报告县教育局和乡镇" in response.content.decode()
    case.refresh_from_db()
    assert case.state == "open"


@pytest.mark.parametrize(
    ("data", "field", "message"),
    [
        ({"returned_on": ""}, "returned_on", "请填写复学日期。"),
        ({"returned_on": "2028-02-26"}, "returned_on", "复学日期不能晚于今天。"),
        ({"returned_on": "2028-01-20"}, "returned_on", "复学日期不能早于开始缺课日期。"),
        ({"schooling": ""}, "schooling", "请选择复学后的就学情况。"),
        ({"schooling": "dropout"}, "schooling", "选择一个有效的选项。"),
    ],
)
def test_returned_errors_go_on_the_field(
    data: dict[str, str], field: str, message: str, world: World, login: Any
) -> None:
    case = open_case(world)
    base = {
        "outcome": "returned",
        "returned_on": "2028-02-24",
        "schooling": "primary",
        "version": child(world).version,
    }
    response = login("school_staff").post(f"/schooling/{case.pk}/outcome/", {**base, **data})
    assert response.status_code == 200
    assert any(message in error for error in response.context["form"].errors[field])
    case.refresh_from_db()
    assert case.state == "open" and child(world).schooling == "dropout"


@pytest.mark.parametrize("persona", ["village_worker", "township_supervisor", "county_admin", "police"])
def test_other_roles_cannot_record_the_outcome(persona: str, world: World, login: Any) -> None:
    case = open_case(world)
    data = {"outcome": "returned", "returned_on": "2028-02-24", "schooling": "primary", "version": 2}
    client = login(persona)
    assert client.get(f"/schooling/{case.pk}/outcome/").status_code == 404
    assert client.post(f"/schooling/{case.pk}/outcome/", data).status_code == 404
    case.refresh_from_db()
    assert case.state == "open"


# --- pages ----------------------------------------------------------------------------------


def test_the_case_page_shows_attempts_and_the_actions_allowed(world: World, login: Any) -> None:
    case = open_case(world)
    fail_attempts(world, case, count=1)
    school = login("school_staff").get(f"/schooling/{case.pk}/").content.decode()
    actions = [f"/schooling/{case.pk}/{path}/" for path in ("attempts/new", "escalate", "outcome")]
    assert "未见到" in school and all(url in school for url in actions)
    assert AuditEvent.objects.filter(action=EventType.VIEW, object_id=str(case.child_id)).exists()
    worker = login("village_worker").get(f"/schooling/{case.pk}/").content.decode()
    assert actions[0] in worker and actions[1] not in worker and actions[2] not in worker


def test_the_list_shows_open_cases_in_scope(world: World, login: Any) -> None:
    case = open_case(world)
    fail_attempts(world, case)
    body = login("township_supervisor").get("/schooling/").content.decode()
    assert "张三" in body and f"/schooling/{case.pk}/" in body and "2 / 2" in body
    assert "张三" not in login("township_supervisor").get("/schooling/?closed=1").content.decode()
    assert AuditEvent.objects.filter(action=EventType.LIST, object_type="dropout_case").exists()


@pytest.mark.parametrize("persona", ["police", "social_worker", "visiting_cadre", "auditor", "no_role"])
def test_the_list_is_refused_to_roles_without_cases(persona: str, world: World, login: Any) -> None:
    open_case(world)
    response = login(persona).get("/schooling/")
    assert response.status_code == 403 and "张三" not in response.content.decode()


@pytest.mark.parametrize("persona", ["police", "social_worker", "visiting_cadre", "no_role"])
def test_a_case_outside_the_role_looks_missing(persona: str, world: World, login: Any) -> None:
    case = open_case(world)
    client = login(persona)
    denied = client.get(f"/schooling/{case.pk}/")
    missing = client.get(f"/schooling/{uuid.uuid4()}/")
    assert denied.status_code == missing.status_code == 404
    assert len(denied.content) == len(missing.content)
