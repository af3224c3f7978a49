"""Recording a visit through the form: the file follows at once; one visit per submission;
scope through the access layer; changes to the file go through the registry's service."""

import datetime as dt
from typing import Any

from django.test import Client

from audit.models import AuditEvent, EventType
from care.models import Visit
from registry import choices as rc
from registry.models import Child
from registry.services import FileData, child_file_exit, child_file_update, family_values
from testing.world import World

from .conftest import TODAY
from .helpers import visit_post


def _url(child: Child) -> str:
    return f"/children/{child.pk}/visits/new/"


def _fresh(world: World, key: str) -> Child:
    return Child.objects.get(pk=world.children[key].pk)


def test_it_records_a_visit_and_moves_the_due_date(world: World, login: Any) -> None:
    client: Client = login("village_worker")
    child = _fresh(world, "a1")
    page = client.get(_url(child))
    assert page.status_code == 200
    body = page.content.decode()
    assert child.name in body and 'value="2028-02-25"' in body  # today preselected
    assert page.context["form"]["kind"].value() == "home"  # 上门走访 preselected
    assert page.context["form"]["visitor_role"].value() == "village_worker"  # from the user's role

    response = client.post(_url(child), visit_post(child, visited_on="2028-02-20"))

    visit = Visit.objects.get(child=child)
    assert response.status_code == 302 and response["Location"] == f"/visits/{visit.pk}/"
    child.refresh_from_db()
    assert child.last_visit_on == dt.date(2028, 2, 20)
    assert (child.risk_colour, child.next_visit_due) == ("green", dt.date(2028, 5, 20))
    assert visit.visitor == world.users["village_worker"] and visit.present == ["child", "grandparents"]
    assert visit.notes == "祖母在家照料，孩子学习正常。"
    row = AuditEvent.objects.filter(action=EventType.CREATE).get()
    assert (row.object_type, row.object_id, row.detail["visit"]) == ("child", str(child.pk), str(visit.pk))


def test_it_keeps_the_latest_visit_date_when_an_older_one_is_entered(world: World, login: Any) -> None:
    client: Client = login("village_worker")
    child = _fresh(world, "a1")
    client.post(_url(child), visit_post(child, visited_on="2028-02-24"))
    client.post(_url(child), visit_post(child, visited_on="2028-01-10"))  # entered late
    child.refresh_from_db()
    assert Visit.objects.filter(child=child).count() == 2
    assert (child.last_visit_on, child.next_visit_due) == (dt.date(2028, 2, 24), dt.date(2028, 5, 24))


def test_it_turns_the_child_orange_through_the_registry_service(world: World, login: Any) -> None:
    client: Client = login("village_worker")
    child = _fresh(world, "a1")
    version = child.version

    response = client.post(_url(child), visit_post(child, new_rating="poor", visited_on="2028-02-22"))

    assert response.status_code == 302
    child.refresh_from_db()
    assert child.guardianship_rating == rc.Rating.POOR and child.version == version + 1
    assert (child.risk_colour, child.risk_reasons) == ("orange", ["poor_rating"])
    assert child.next_visit_due == dt.date(2028, 3, 7)  # 22 Feb + 14 days, over the leap day
    history = child.history.first()  # type: ignore[attr-defined]
    assert history.guardianship_rating == rc.Rating.POOR
    assert history.history_user == world.users["village_worker"]
    assert Visit.objects.get(child=child).new_rating == rc.Rating.POOR
    actions = list(AuditEvent.objects.order_by("id").values_list("action", flat=True))
    assert actions[-2:] == [EventType.CREATE, EventType.UPDATE]
    timeline = client.get(f"/children/{child.pk}/").content.decode()
    assert "<del>较好</del> → <ins>差</ins>" in timeline


def test_it_records_a_care_arrangement_change_and_ignores_an_unchanged_value(
    world: World, login: Any
) -> None:
    client: Client = login("township_supervisor")
    child = _fresh(world, "a2")
    client.post(_url(child), visit_post(child, new_rating="good", new_care_type="living_alone"))
    child.refresh_from_db()
    visit = Visit.objects.get(child=child)
    assert (visit.new_rating, visit.new_care_type) == ("", "living_alone")  # "good" was already stored
    assert (child.care_type, child.risk_colour, child.next_visit_due) == (
        "living_alone",
        "red",
        dt.date(2028, 3, 3),
    )


def test_it_records_one_visit_on_a_double_submit(world: World, login: Any) -> None:
    client: Client = login("village_worker")
    child = _fresh(world, "a1")
    data = visit_post(child, new_rating="fair")
    first = client.post(_url(child), data)
    second = client.post(_url(child), data)  # a double tap, or a retry after a lost answer
    assert first.status_code == second.status_code == 302
    assert first["Location"] == second["Location"]
    assert Visit.objects.filter(child=child).count() == 1
    child.refresh_from_db()
    assert child.version == world.children["a1"].version + 1  # the file changed once
    assert AuditEvent.objects.filter(action=EventType.CREATE).count() == 1
    assert "重复提交不会重复记录" in client.get(second["Location"]).content.decode()


def test_it_refuses_a_child_of_another_village(world: World, login: Any) -> None:
    client: Client = login("village_worker")
    other = _fresh(world, "b1")
    assert client.get(_url(other)).status_code == 404
    response = client.post(_url(other), visit_post(other))
    assert response.status_code == 404 and other.name not in response.content.decode()
    assert not Visit.objects.exists()
    denial = AuditEvent.objects.filter(action=EventType.DENIED).order_by("id").last()
    assert denial is not None and denial.object_id == str(other.pk)


def test_it_lets_the_assigned_cadre_visit_without_changing_the_file(world: World, login: Any) -> None:
    client: Client = login("visiting_cadre")
    assigned = _fresh(world, "a2")
    page = client.get(_url(assigned))
    assert page.status_code == 200 and "new_rating" not in page.context["form"].fields
    assert page.context["form"]["visitor_role"].value() == "resident_cadre"

    response = client.post(
        _url(assigned), visit_post(assigned, visitor_role="resident_cadre", new_rating="poor")
    )

    assert response.status_code == 302
    assigned.refresh_from_db()
    assert assigned.guardianship_rating == rc.Rating.GOOD  # not the cadre's to change
    assert Visit.objects.get(child=assigned).visitor == world.users["visiting_cadre"]
    assert client.get(_url(_fresh(world, "a1"))).status_code == 404  # not assigned to a1


def test_it_refuses_a_stale_rating_change(world: World, login: Any) -> None:
    client: Client = login("village_worker")
    child = _fresh(world, "a1")
    data = visit_post(child, new_rating="poor")
    father, mother = family_values(child)
    child_file_update(  # someone else edits the file after the form was loaded
        user=world.users["township_supervisor"],
        child=child,
        expected_version=child.version,
        data=FileData(child={"guardianship_rating": "fair"}, father=father, mother=mother),
    )

    response = client.post(_url(child), data)

    assert response.status_code == 409
    assert "档案已被他人修改" in response.content.decode()
    assert not Visit.objects.exists()
    child.refresh_from_db()
    assert child.guardianship_rating == rc.Rating.FAIR
    assert response.context["form"]["version"].value() == str(child.version)  # ready to resend
    assert client.post(_url(child), {**data, "version": child.version}).status_code == 302
    child.refresh_from_db()
    assert child.guardianship_rating == rc.Rating.POOR


def test_it_refuses_bad_dates_at_the_field(world: World, login: Any) -> None:
    client: Client = login("village_worker")
    child = _fresh(world, "a1")
    tomorrow = client.post(_url(child), visit_post(child, visited_on="2028-02-26"))
    assert tomorrow.status_code == 400
    assert tomorrow.context["form"].errors["visited_on"] == ["走访日期不能晚于今天。"]
    unborn = client.post(_url(child), visit_post(child, visited_on="2015-05-31"))
    assert unborn.context["form"].errors["visited_on"] == ["走访日期不能早于儿童的出生日期。"]
    assert not Visit.objects.exists()


def test_it_asks_for_what_a_checked_box_needs(world: World, login: Any) -> None:
    client: Client = login("village_worker")
    child = _fresh(world, "a1")
    response = client.post(
        _url(child),
        visit_post(child, hazards_found="on", follow_up_needed="on", present=["other"], visitor_role=""),
    )
    errors = response.context["form"].errors
    assert response.status_code == 400
    assert errors["hazards_note"] == ["请简要说明发现的安全隐患。"]
    assert errors["follow_up_note"] == ["请填写需要跟进的事项。"]
    assert errors["present_other"] == ["请填写其他在场人员。"]
    assert "visitor_role" in errors
    assert not Visit.objects.exists()


def test_a_hazard_raises_the_colour_until_the_next_visit(world: World, login: Any) -> None:
    client: Client = login("village_worker")
    child = _fresh(world, "a1")
    client.post(
        _url(child), visit_post(child, visited_on="2028-02-20", hazards_found="on", hazards_note="电线裸露")
    )
    child.refresh_from_db()
    assert (child.risk_colour, child.risk_reasons, child.next_visit_due) == (
        "orange",
        ["visit_hazard"],
        dt.date(2028, 3, 5),
    )
    client.post(_url(child), visit_post(child, visited_on="2028-02-25"))  # fixed at the next visit
    child.refresh_from_db()
    assert (child.risk_colour, child.next_visit_due) == ("green", dt.date(2028, 5, 25))


def test_it_records_no_visit_for_an_exited_file(world: World, login: Any) -> None:
    child = _fresh(world, "a1")
    child_file_exit(
        user=world.users["county_admin"],
        child=child,
        expected_version=child.version,
        reason=rc.ExitReason.MOVED_AWAY,
        on=TODAY,
    )
    client: Client = login("village_worker")
    child.refresh_from_db()
    assert client.get(_url(child))["Location"] == f"/children/{child.pk}/"
    client.post(_url(child), visit_post(child))
    assert not Visit.objects.exists()
