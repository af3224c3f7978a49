"""Parent–child contacts (亲情联系) through HTTP, the last-contact date, and the overdue list
for "my work" (warnings only)."""

import datetime as dt
import uuid
from typing import Any

import pytest
import time_machine

from audit.models import AuditEvent, EventType
from contact.models import ParentContact
from contact.selectors import contact_overdue
from registry.models import Child, Parent
from testing.world import World


def _child(world: World, key: str = "a1") -> Child:
    return Child.objects.get(pk=world.children[key].pk)


def _post(**overrides: Any) -> dict[str, Any]:
    data = {
        "submission_key": str(uuid.uuid4()),
        "contacted_on": "2028-02-24",
        "kind": "video",
        "with_whom": "both",
        "arranged": "on",
        "duration_minutes": "15",
        "note": "孩子说想妈妈了",
    }
    data.update(overrides)
    return {k: v for k, v in data.items() if v is not None}


def test_a_contact_is_logged_and_moves_the_last_contact_date(world: World, login: Any) -> None:
    child = _child(world)
    client = login("village_worker")
    response = client.post(f"/children/{child.pk}/contacts/new/", _post())
    assert response.status_code == 302 and response["Location"] == f"/children/{child.pk}/"
    contact = ParentContact.objects.get(child=child)
    assert (contact.kind, contact.with_whom, contact.duration_minutes) == ("video", "both", 15)
    assert contact.arranged_by == contact.recorded_by == world.users["village_worker"]
    assert contact.note == "孩子说想妈妈了" and contact.history.count() == 1
    assert _child(world).last_parent_contact_on == dt.date(2028, 2, 24)
    assert AuditEvent.objects.filter(action=EventType.UPDATE, object_id=str(child.pk)).exists()

    # An older call logged later does not move the date back; one not arranged has no arranger.
    client.post(f"/children/{child.pk}/contacts/new/", _post(contacted_on="2028-02-01", arranged=None))
    assert _child(world).last_parent_contact_on == dt.date(2028, 2, 24)
    assert ParentContact.objects.get(contacted_on=dt.date(2028, 2, 1)).arranged_by is None

    page = client.get(f"/children/{child.pk}/").content.decode()
    assert "2028-02-24 视频，父母双方，15 分钟" in page
    assert "最近亲情联系" in page and "（1 天前）" in page


def test_a_double_submission_records_one_contact(world: World, login: Any) -> None:
    child = _child(world)
    client = login("village_worker")
    data = _post()
    first = client.post(f"/children/{child.pk}/contacts/new/", data)
    second = client.post(f"/children/{child.pk}/contacts/new/", data, follow=True)
    assert first.status_code == 302 and second.status_code == 200
    assert ParentContact.objects.filter(child=child).count() == 1
    assert "这条亲情联系已经记录过了。" in second.content.decode()


@pytest.mark.parametrize(
    ("overrides", "field", "message"),
    [
        ({"contacted_on": "2028-02-26"}, "contacted_on", "联系日期不能晚于今天。"),
        ({"contacted_on": "2010-01-01"}, "contacted_on", "联系日期不能早于儿童出生日期。"),
        ({"duration_minutes": "0"}, "duration_minutes", "通话时长至少 1 分钟。"),
        ({"duration_minutes": "601"}, "duration_minutes", "通话时长不能超过 600 分钟。"),
        ({"duration_minutes": "十分钟"}, "duration_minutes", "请填写整数分钟数。"),
        ({"kind": "letter"}, "kind", "选择一个有效的选项"),
        ({"with_whom": ""}, "with_whom", "该字段是必填项。"),
    ],
)
def test_it_puts_errors_on_the_field(
    overrides: dict[str, str], field: str, message: str, world: World, login: Any
) -> None:
    child = _child(world)
    response = login("village_worker").post(f"/children/{child.pk}/contacts/new/", _post(**overrides))
    assert response.status_code == 200
    assert any(message in error for error in response.context["form"].errors[field])
    assert not ParentContact.objects.exists()
    assert _child(world).last_parent_contact_on is None


def test_a_contact_with_a_parent_not_on_the_file_is_refused(world: World, login: Any) -> None:
    child = _child(world)
    Parent.objects.filter(child=child, role="mother").delete()
    response = login("village_worker").post(f"/children/{child.pk}/contacts/new/", _post(with_whom="mother"))
    assert response.status_code == 200
    assert "档案中没有登记该家长" in str(response.context["form"].errors["with_whom"])


@pytest.mark.parametrize(
    "persona", ["police", "school_staff", "social_worker", "visiting_cadre", "county_officer"]
)
def test_read_only_and_out_of_scope_roles_get_404(persona: str, world: World, login: Any) -> None:
    child = _child(world)
    client = login(persona)
    assert client.get(f"/children/{child.pk}/contacts/new/").status_code == 404
    assert client.post(f"/children/{child.pk}/contacts/new/", _post()).status_code == 404
    assert not ParentContact.objects.exists()


# --- the overdue list ("my work") ---------------------------------------------------------------------


def _contact(child: Child, on: dt.date) -> None:
    Child.objects.filter(pk=child.pk).update(last_parent_contact_on=on)


def test_overdue_counts_days_since_the_last_contact(world: World) -> None:
    worker, supervisor = world.users["village_worker"], world.users["township_supervisor"]
    a1, a2 = _child(world, "a1"), _child(world, "a2")
    _contact(a1, dt.date(2028, 2, 18))  # 7 days before the pinned day: still within the limit
    _contact(a2, dt.date(2028, 2, 17))  # 8 days: overdue
    on = dt.date(2028, 2, 25)
    assert set(contact_overdue(supervisor, 7, on=on)) == {a2}
    assert set(contact_overdue(supervisor, 6, on=on)) == {a1, a2}
    assert not contact_overdue(worker, 7, on=on).exists()  # a2 is another village
    assert set(contact_overdue(worker, 7, on=dt.date(2028, 2, 26))) == {a1}
    # Across a leap day: 2028-02-29 − 2028-02-21 is 8 days.
    _contact(a1, dt.date(2028, 2, 21))
    assert set(contact_overdue(worker, 7, on=dt.date(2028, 2, 29))) == {a1}
    assert not contact_overdue(worker, 8, on=dt.date(2028, 2, 29)).exists()


def test_a_file_without_contacts_counts_from_the_day_it_was_opened(world: World, clock: Any) -> None:
    worker = world.users["village_worker"]
    a1 = _child(world, "a1")
    assert a1.last_parent_contact_on is None
    assert not contact_overdue(worker, 7).exists()  # opened today
    with time_machine.travel(dt.datetime(2028, 3, 4, 9, 0), tick=False):
        assert set(contact_overdue(worker, 7)) == {a1}  # 8 days after the file was opened


def test_an_unreachable_parent_is_listed_whatever_the_last_contact(world: World) -> None:
    worker = world.users["village_worker"]
    a1 = _child(world, "a1")
    _contact(a1, dt.date(2028, 2, 25))
    assert not contact_overdue(worker, 7, on=dt.date(2028, 2, 25)).exists()
    Parent.objects.filter(child=a1, role="mother").update(
        unreachable=True, unreachable_since=dt.date(2028, 2, 1)
    )
    assert set(contact_overdue(worker, 7, on=dt.date(2028, 2, 25))) == {a1}


def test_children_with_no_parent_away_and_exited_files_are_not_listed(world: World) -> None:
    supervisor = world.users["township_supervisor"]
    a1, a2 = _child(world, "a1"), _child(world, "a2")
    Parent.objects.filter(child=a1).update(status="at_home")
    Child.objects.filter(pk=a2.pk).update(status="exited", exit_reason="moved_away")
    assert not contact_overdue(supervisor, 7, on=dt.date(2028, 6, 1)).exists()


def test_a_wrong_contact_is_voided_with_a_reason_and_the_last_contact_moves_back(
    world: World, login: Any
) -> None:
    child = _child(world)
    client = login("village_worker")
    client.post(f"/children/{child.pk}/contacts/new/", _post(contacted_on="2028-02-10"))
    client.post(f"/children/{child.pk}/contacts/new/", _post(contacted_on="2028-02-24"))
    wrong = ParentContact.objects.get(contacted_on=dt.date(2028, 2, 24))
    assert _child(world).last_parent_contact_on == dt.date(2028, 2, 24)

    refused = client.post(f"/contacts/{wrong.pk}/void/", {"reason": "  "})
    assert refused.status_code == 200 and "请填写作废原因。" in refused.content.decode()
    assert ParentContact.objects.get(pk=wrong.pk).voided_at is None

    response = client.post(f"/contacts/{wrong.pk}/void/", {"reason": "日期录错"})
    assert response.status_code == 302 and response["Location"] == f"/children/{child.pk}/"
    wrong.refresh_from_db()
    assert wrong.voided_by == world.users["village_worker"] and wrong.void_reason == "日期录错"
    assert wrong.history.count() == 2  # kept, never deleted
    assert _child(world).last_parent_contact_on == dt.date(2028, 2, 10)
    assert AuditEvent.objects.filter(detail__change="parent_contact_void", object_id=str(child.pk)).exists()
    page = client.get(f"/children/{child.pk}/").content.decode()
    assert "已作废：日期录错" in page

    again = client.post(f"/contacts/{wrong.pk}/void/", {"reason": "再点一次"})
    assert again.status_code == 200 and "已经作废" in again.content.decode()

    # The only standing contact voided too: the file has no contact again.
    other = ParentContact.objects.get(contacted_on=dt.date(2028, 2, 10))
    client.post(f"/contacts/{other.pk}/void/", {"reason": "录到了别的孩子名下"})
    assert _child(world).last_parent_contact_on is None


def test_voiding_a_contact_is_refused_outside_the_writable_scope(world: World, login: Any) -> None:
    child = _child(world)
    login("village_worker").post(f"/children/{child.pk}/contacts/new/", _post())
    contact = ParentContact.objects.get(child=child)
    for persona in ("social_worker", "school_staff", "police"):
        client = login(persona)
        assert client.get(f"/contacts/{contact.pk}/void/").status_code == 404
        assert client.post(f"/contacts/{contact.pk}/void/", {"reason": "越权"}).status_code == 404
    assert ParentContact.objects.get(pk=contact.pk).voided_at is None
