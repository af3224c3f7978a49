"""Marking a parent 失联 and reachable again, through HTTP: the parent's history, the child's
risk colour raised at once, repeated submissions refused, scope."""

import datetime as dt
import uuid
from typing import Any

import pytest

from audit.models import AuditEvent, EventType
from registry.models import Child, Parent
from testing.world import World


def _child(world: World, key: str = "a1") -> Child:
    return Child.objects.get(pk=world.children[key].pk)


def _mother(child: Child) -> Parent:
    return Parent.objects.get(child=child, role="mother")


def _url(child: Child, role: str = "mother") -> str:
    return f"/children/{child.pk}/parents/{role}/unreachable/"


LOST = {"unreachable": "1", "on": "2028-02-20", "reason": "连续一周电话、微信均联系不上"}
FOUND = {"unreachable": "0", "on": "2028-02-25", "reason": "母亲来电，已恢复联系"}


def test_marking_a_parent_unreachable_raises_the_childs_colour(world: World, login: Any) -> None:
    child = _child(world)
    assert child.risk_colour == "green"
    client = login("village_worker")
    page = client.get(_url(child)).content.decode()
    assert "确认失联" in page and 'name="unreachable" value="1"' in page
    response = client.post(_url(child), LOST)
    assert response.status_code == 302 and response["Location"] == f"/children/{child.pk}/"

    mother = _mother(child)
    assert (mother.unreachable, mother.unreachable_since) == (True, dt.date(2028, 2, 20))
    latest = mother.history.latest()
    assert latest.history_change_reason == "失联（2028-02-20）：连续一周电话、微信均联系不上"
    assert latest.history_user == world.users["village_worker"]
    child = _child(world)
    assert child.risk_colour == "orange" and "parent_unreachable" in child.risk_reasons
    assert AuditEvent.objects.filter(action=EventType.UPDATE, object_id=str(child.pk)).exists()
    detail = client.get(f"/children/{child.pk}/").content.decode()
    assert "失联（2028-02-20 起）" in detail and "标记恢复联系" in detail


def test_a_repeated_submission_is_refused_not_flipped_back(world: World, login: Any) -> None:
    child = _child(world)
    client = login("village_worker")
    client.post(_url(child), LOST)
    again = client.post(_url(child), LOST)
    assert again.status_code == 200
    assert "该家长已标记为失联。" in again.content.decode()
    assert _mother(child).unreachable


def test_a_parent_is_marked_reachable_again(world: World, login: Any) -> None:
    child = _child(world)
    client = login("village_worker")
    client.post(_url(child), LOST)
    page = client.get(_url(child)).content.decode()
    assert "确认已恢复联系" in page and 'name="unreachable" value="0"' in page
    assert client.post(_url(child), FOUND).status_code == 302
    mother = _mother(child)
    assert (mother.unreachable, mother.unreachable_since) == (False, None)
    assert mother.history.latest().history_change_reason == "恢复联系（2028-02-25）：母亲来电，已恢复联系"
    assert _child(world).risk_colour == "green"
    assert client.post(_url(child), FOUND).status_code == 200  # not marked: nothing to undo


@pytest.mark.parametrize(
    ("data", "field", "message"),
    [
        ({**LOST, "reason": "   "}, "reason", "该字段是必填项。"),
        ({**LOST, "on": "2028-02-26"}, "on", "日期不能晚于今天。"),
        ({**LOST, "on": ""}, "on", "该字段是必填项。"),
    ],
)
def test_it_puts_errors_on_the_field(
    data: dict[str, str], field: str, message: str, world: World, login: Any
) -> None:
    child = _child(world)
    response = login("village_worker").post(_url(child), data)
    assert response.status_code == 200
    assert any(message in error for error in response.context["form"].errors[field])
    assert not _mother(child).unreachable


def test_an_unknown_role_answers_like_a_missing_file(world: World, login: Any) -> None:
    child = _child(world)
    client = login("village_worker")
    unknown = client.get(_url(child, role="uncle"))
    missing = client.get(f"/children/{uuid.uuid4()}/parents/mother/unreachable/")
    assert unknown.status_code == missing.status_code == 404
    assert len(unknown.content) == len(missing.content)


@pytest.mark.parametrize("persona", ["police", "school_staff", "social_worker", "county_officer", "no_role"])
def test_read_only_roles_cannot_mark_a_parent(persona: str, world: World, login: Any) -> None:
    child = _child(world)
    client = login(persona)
    assert client.get(_url(child)).status_code == 404
    assert client.post(_url(child), LOST).status_code == 404
    assert not _mother(child).unreachable


def test_out_of_scope_looks_missing(world: World, login: Any) -> None:
    child = _child(world, "b1")
    response = login("village_worker").post(_url(child), LOST)
    assert response.status_code == 404 and "王五" not in response.content.decode()
    assert not _mother(child).unreachable
    assert _child(world, "b1").risk_colour == "green"
