"""The attendee picker and removal through HTTP: the county admin picks the county's workers
(filtered by role and township, searched by name by POST), many at once; adds people without
an account; removes attendees. Readers who do not record get 403; rows of another session 404."""

import datetime as dt
import uuid
from typing import Any

from django.test import Client

from audit.models import AuditEvent
from testing.world import World
from training.models import Attendance
from training.tests.conftest import TODAY, WORKER_PERSONAS, Staff, new_session


def _offered(response: Any) -> set[str]:
    return {worker.user.username for worker in response.context["workers"]}


def test_the_picker_offers_the_countys_workers_only(world: World, staff: Staff, login: Any) -> None:
    session = new_session(world, held_on=TODAY, attendees=(world.users["village_worker"],))
    response = login("county_admin").get(f"/training/{session.pk}/attendees/")
    assert response.status_code == 200
    # The village worker already attends; disabled, expired and withdrawn accounts, the other
    # county's worker, the county admin, police, reporters and the 三员 are no candidates.
    expected = (set(WORKER_PERSONAS) - {"village_worker"}) | {"a2_worker", "b1_worker"}
    assert _offered(response) == expected


def test_the_picker_filters_by_role_township_and_name(world: World, staff: Staff, login: Any) -> None:
    session = new_session(world, held_on=TODAY)
    client = login("county_admin")
    url = f"/training/{session.pk}/attendees/"
    by_role = client.get(url, {"role": "village_worker"})
    assert _offered(by_role) == {"village_worker", "a2_worker", "b1_worker"}
    by_township = client.get(url, {"township": world.township_a.code})
    assert _offered(by_township) == {
        "village_worker",
        "a2_worker",
        "township_supervisor",
        "visiting_cadre",
        "school_staff",
        "provider_staff",
    }
    county_level = client.get(url, {"township": "county"})
    assert _offered(county_level) == {"county_officer", "social_worker"}
    # The name search comes by POST (no names in URLs); a q in the URL is ignored.
    searched = client.post(url, {"action": "filter", "q": "b1_w", "role": "", "township": ""})
    assert searched.status_code == 200 and _offered(searched) == {"b1_worker"}
    assert len(_offered(client.get(url, {"q": "b1_w"}))) > 1
    partial = client.post(url, {"action": "filter", "q": "a2"}, HTTP_HX_REQUEST="true")
    assert partial.status_code == 200 and b"<html" not in partial.content and b"a2_worker" in partial.content


def test_the_county_admin_adds_many_at_once(world: World, staff: Staff, login: Any) -> None:
    session = new_session(world, held_on=TODAY)
    client = login("county_admin")
    picked = [staff.a2_worker, staff.b1_worker, world.users["school_staff"]]
    data = {"action": "add", "role": "village_worker", "workers": [str(u.pk) for u in picked]}
    response = client.post(f"/training/{session.pk}/attendees/", data)
    assert response.status_code == 302
    assert response["Location"] == f"/training/{session.pk}/attendees/?role=village_worker"
    rows = Attendance.objects.filter(session=session)
    assert {row.user for row in rows} == set(picked)
    assert all(row.added_by == world.users["county_admin"] and row.history.count() == 1 for row in rows)
    assert (
        AuditEvent.objects.filter(object_id=str(session.pk), detail__change="training_attendees_add").count()
        == 1
    )
    # Ticking someone already there adds nobody twice.
    again = client.post(f"/training/{session.pk}/attendees/", {**data, "workers": [str(staff.a2_worker.pk)]})
    assert again.status_code == 302 and Attendance.objects.filter(session=session).count() == 3


def test_it_refuses_people_who_are_no_workers_of_the_county(world: World, staff: Staff, login: Any) -> None:
    session = new_session(world, held_on=TODAY)
    client = login("county_admin")
    for user in (staff.outsider, staff.inactive, world.users["police"], world.users["auditor"]):
        response = client.post(
            f"/training/{session.pk}/attendees/", {"action": "add", "workers": [str(user.pk)]}
        )
        assert response.status_code == 200
        assert response.context["errors"] == ["只能选择本县在岗的工作人员。"]
    nothing = client.post(f"/training/{session.pk}/attendees/", {"action": "add"})
    assert nothing.context["errors"] == ["请至少勾选一人。"]
    assert not Attendance.objects.exists()


def test_the_county_admin_adds_a_guest(world: World, staff: Staff, login: Any) -> None:
    session = new_session(world, held_on=TODAY)
    client = login("county_admin")
    url = f"/training/{session.pk}/attendees/"
    empty = client.post(url, {"action": "guest", "guest_name": "", "guest_unit": "城关幼儿园"})
    assert empty.status_code == 200 and empty.context["guest_form"].errors["guest_name"] == ["请填写姓名。"]
    assert not Attendance.objects.exists()
    assert (
        client.post(
            url, {"action": "guest", "guest_name": " 陈 老师 ", "guest_unit": "城关幼儿园"}
        ).status_code
        == 302
    )
    guest = Attendance.objects.get()
    assert (guest.user, guest.guest_name, guest.guest_unit) == (None, "陈 老师", "城关幼儿园")
    page = client.get(f"/training/{session.pk}/").content.decode()
    assert "陈 老师" in page and "无账号" in page


def test_the_county_admin_removes_an_attendee(world: World, staff: Staff, login: Any) -> None:
    session = new_session(world, held_on=TODAY, attendees=(staff.a2_worker, staff.b1_worker))
    row = Attendance.objects.get(session=session, user=staff.a2_worker)
    client = login("county_admin")
    assert client.get(f"/training/{session.pk}/attendees/{row.pk}/remove/").status_code == 405
    response = client.post(f"/training/{session.pk}/attendees/{row.pk}/remove/")
    assert response.status_code == 302 and response["Location"] == f"/training/{session.pk}/"
    assert list(Attendance.objects.filter(session=session).values_list("user", flat=True)) == [
        staff.b1_worker.pk
    ]
    removal = Attendance.history.get(id=row.pk, history_type="-")
    assert removal.history_user == world.users["county_admin"]
    assert AuditEvent.objects.filter(action="delete", detail__attendance=str(row.pk)).exists()


def test_a_row_of_another_session_is_not_found(world: World, staff: Staff, login: Any) -> None:
    mine = new_session(world, held_on=TODAY)
    other = new_session(world, held_on=TODAY - dt.timedelta(days=1), attendees=(staff.a2_worker,))
    row = Attendance.objects.get(session=other)
    client = login("county_admin")
    assert client.post(f"/training/{mine.pk}/attendees/{row.pk}/remove/").status_code == 404
    assert client.post(f"/training/{mine.pk}/attendees/{uuid.uuid4()}/remove/").status_code == 404
    assert Attendance.objects.filter(pk=row.pk).exists()


def test_readers_who_do_not_record_get_403(world: World, staff: Staff, client: Client) -> None:
    session = new_session(world, held_on=TODAY, attendees=(staff.a2_worker,))
    row = Attendance.objects.get()
    for persona in ("county_officer", "township_supervisor", "village_worker", "police"):
        client.force_login(world.users[persona])
        url = f"/training/{session.pk}/attendees/"
        assert client.get(url).status_code == 403
        assert client.post(url, {"action": "add", "workers": [str(staff.b1_worker.pk)]}).status_code == 403
        assert client.post(f"{url}{row.pk}/remove/").status_code == 403
    assert list(Attendance.objects.values_list("user", flat=True)) == [staff.a2_worker.pk]
