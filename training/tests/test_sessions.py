"""Sessions through HTTP: the county admin records and edits them (version-checked, errors at
the field); county officers and township supervisors read them; other roles get 403; a
session of another county answers 404 as a missing one."""

import datetime as dt
import uuid
from decimal import Decimal
from typing import Any

import pytest
from django.test import Client

from audit.models import AuditEvent
from testing.world import World
from training.models import TrainingSession
from training.tests.conftest import TODAY, Staff, new_session


def _post(staff: Staff, **overrides: Any) -> dict[str, Any]:
    data: dict[str, Any] = {
        "topic": "儿童主任业务能力提升培训",
        "held_on": (TODAY - dt.timedelta(days=2)).isoformat(),
        "hours": "3.5",
        "organiser": str(staff.civil.pk),
        "audience": ["village_worker", "township_supervisor"],
        "trainer": "王老师（市社工协会）",
        "place": "县民政局三楼会议室",
        "note": "强制报告制度；走访记录规范。",
    }
    data.update(overrides)
    return data


def _edit_data(session: TrainingSession, **overrides: Any) -> dict[str, Any]:
    data: dict[str, Any] = {
        "version": session.version,
        "topic": session.topic,
        "held_on": session.held_on.isoformat(),
        "hours": str(session.hours),
        "organiser": str(session.organiser_id),
        "audience": session.audience,
        "trainer": session.trainer,
        "place": session.place,
        "note": session.note,
    }
    data.update(overrides)
    return data


def test_the_county_admin_records_a_session(world: World, staff: Staff, login: Any) -> None:
    client = login("county_admin")
    assert client.get("/training/new/").status_code == 200
    response = client.post("/training/new/", _post(staff))
    session = TrainingSession.objects.get()
    assert response.status_code == 302 and response["Location"] == f"/training/{session.pk}/attendees/"
    assert (session.county, session.organiser, session.hours) == (world.county, staff.civil, Decimal("3.5"))
    assert session.audience == ["village_worker", "township_supervisor"]  # in the order of Audience
    assert session.created_by == world.users["county_admin"] and session.version == 1
    assert session.history.get().history_user == world.users["county_admin"]
    assert AuditEvent.objects.filter(
        object_type="training", object_id=str(session.pk), detail__change="training_session_create"
    ).exists()
    page = client.get(f"/training/{session.pk}/").content.decode()
    assert "儿童主任业务能力提升培训" in page and "儿童督导员、儿童主任" not in page
    assert "儿童主任、儿童督导员" in page and "王老师（市社工协会）" in page


@pytest.mark.parametrize(
    ("overrides", "field", "message"),
    [
        ({"hours": "0.4"}, "hours", "培训学时在 0.5 到 40 小时之间。"),
        ({"hours": "40.5"}, "hours", "培训学时在 0.5 到 40 小时之间。"),
        ({"hours": "2.25"}, "hours", "培训学时最多保留 1 位小数。"),
        ({"hours": "两小时"}, "hours", "请填写数字，如 2 或 3.5。"),
        ({"held_on": (TODAY + dt.timedelta(days=1)).isoformat()}, "held_on", "培训日期不能晚于今天"),
        ({"audience": []}, "audience", "请至少选择一类培训对象。"),
        ({"audience": ["police"]}, "audience", "培训对象不在可选范围内。"),
        ({"topic": "   "}, "topic", "请填写培训主题。"),
        ({"organiser": ""}, "organiser", "请选择主办单位。"),
    ],
)
def test_it_refuses_bad_data_at_the_field(
    world: World, staff: Staff, login: Any, overrides: dict[str, Any], field: str, message: str
) -> None:
    response = login("county_admin").post("/training/new/", _post(staff, **overrides))
    assert response.status_code == 200
    errors = response.context["form"].errors
    assert any(message in error for error in errors[field]), errors
    assert not TrainingSession.objects.exists()


def test_it_offers_no_organiser_of_another_county(world: World, staff: Staff, login: Any) -> None:
    client = login("county_admin")
    form = client.get("/training/new/").context["form"]
    offered = set(form.fields["organiser"].queryset)
    assert staff.civil in offered and staff.other_civil not in offered
    response = client.post("/training/new/", _post(staff, organiser=str(staff.other_civil.pk)))
    assert response.context["form"].errors["organiser"] == ["主办单位须是本县的有效单位。"]
    assert not TrainingSession.objects.exists()


def test_the_county_admin_edits_a_session(world: World, staff: Staff, login: Any) -> None:
    session = new_session(world, held_on=TODAY - dt.timedelta(days=5))
    client = login("county_admin")
    form = client.get(f"/training/{session.pk}/edit/")
    assert form.status_code == 200 and form.context["form"].initial["version"] == 1
    response = client.post(f"/training/{session.pk}/edit/", _edit_data(session, hours="6", topic="新主题"))
    assert response.status_code == 302 and response["Location"] == f"/training/{session.pk}/"
    session.refresh_from_db()
    assert (session.topic, session.hours, session.version) == ("新主题", Decimal("6.0"), 2)
    assert session.history.count() == 2
    assert AuditEvent.objects.filter(
        object_id=str(session.pk), detail__change="training_session_update"
    ).exists()


def test_a_stale_edit_is_refused_and_shows_what_changed(world: World, staff: Staff, login: Any) -> None:
    session = new_session(world, held_on=TODAY - dt.timedelta(days=5))
    stale = _edit_data(session)
    client = login("county_admin")
    assert (
        client.post(f"/training/{session.pk}/edit/", _edit_data(session, topic="他人修改的主题")).status_code
        == 302
    )
    response = client.post(f"/training/{session.pk}/edit/", {**stale, "hours": "8"})
    assert response.status_code == 409
    page = response.content.decode()
    assert "保存未成功：该培训已被他人修改" in page and "他人修改的主题" in page
    assert response.context["changes"][0].changes[0].label == "培训主题"
    session.refresh_from_db()
    assert (session.topic, session.hours, session.version) == ("他人修改的主题", Decimal("3.0"), 2)


def test_the_list_shows_the_chosen_year(world: World, staff: Staff, login: Any) -> None:
    new_session(world, held_on=dt.date(2027, 12, 31), topic="年末培训")
    new_session(world, held_on=dt.date(2028, 1, 1), topic="元旦培训")
    new_session(world, held_on=dt.date(2027, 6, 1), county=staff.other_county, topic="外县培训")
    client = login("county_officer")
    this_year = client.get("/training/")
    assert [s.topic for s in this_year.context["rows"]] == ["元旦培训"]
    last_year = client.get("/training/", {"year": 2027})
    assert [s.topic for s in last_year.context["rows"]] == ["年末培训"]
    assert last_year.context["years"] == [2028, 2027]
    assert "外县培训" not in last_year.content.decode()


@pytest.mark.parametrize("persona", ["county_officer", "township_supervisor"])
def test_readers_read_but_do_not_record(world: World, staff: Staff, login: Any, persona: str) -> None:
    session = new_session(world, held_on=TODAY, attendees=(world.users["village_worker"],))
    client = login(persona)
    page = client.get(f"/training/{session.pk}/")
    assert page.status_code == 200 and "village_worker" in page.content.decode()
    assert not page.context["can_record"]
    assert client.get("/training/new/").status_code == 403
    assert client.post("/training/new/", _post(staff)).status_code == 403
    assert client.post(f"/training/{session.pk}/edit/", _edit_data(session, topic="改")).status_code == 403
    session.refresh_from_db()
    assert session.topic == "留守儿童关爱保护业务培训" and TrainingSession.objects.count() == 1


@pytest.mark.parametrize(
    "persona",
    ["village_worker", "school_staff", "police", "reporter", "provider_staff", "auditor", "no_role"],
)
def test_other_roles_get_403(world: World, staff: Staff, client: Client, persona: str) -> None:
    session = new_session(world, held_on=TODAY)
    client.force_login(world.users[persona])
    for url in ("/training/", f"/training/{session.pk}/", f"/training/{session.pk}/edit/", "/training/new/"):
        assert client.get(url).status_code == 403, url


def test_a_session_of_another_county_is_not_found(world: World, staff: Staff, client: Client) -> None:
    theirs = new_session(world, held_on=TODAY, county=staff.other_county, organiser=staff.other_civil)
    client.force_login(world.users["county_admin"])
    out = client.get(f"/training/{theirs.pk}/")
    missing = client.get(f"/training/{uuid.uuid4()}/")
    assert out.status_code == missing.status_code == 404
    assert abs(len(out.content) - len(missing.content)) <= 16
    assert client.post(f"/training/{theirs.pk}/edit/", _edit_data(theirs, topic="改")).status_code == 404
    assert AuditEvent.objects.filter(action="denied", object_id=str(theirs.pk)).exists()
    theirs.refresh_from_db()
    assert theirs.version == 1
