"""LG-2: what an audit row holds (UTC time, user and roles, IP, event type, object, outcome,
request ID, reason) and what it never holds (a full ID or phone number)."""

import datetime as dt
import json
import re

import pytest
from django.test import Client

from audit.models import AuditEvent, EventType, Outcome
from audit.services import audit_event, scrub
from testing.world import World

ID_RE = re.compile(r"(?<![0-9A-Za-z])\d{17}[\dXx](?![0-9A-Za-z])")
PHONE_RE = re.compile(r"(?<![0-9A-Za-z])1\d{10}(?![0-9A-Za-z])")


def _text(row: AuditEvent) -> str:
    return row.canonical().decode()


def test_it_records_who_what_when_where_and_the_request_id(world: World, login) -> None:
    client: Client = login("township_supervisor")
    child = world.children["a2"]
    response = client.get(f"/children/{child.id}/")
    assert response.status_code == 200
    row = AuditEvent.objects.get()
    assert row.at.utcoffset() == dt.timedelta(0)  # stored and returned in UTC
    assert row.user == world.users["township_supervisor"]
    assert row.username == "township_supervisor"
    assert row.roles == "township_supervisor"
    assert row.ip == "127.0.0.1"
    assert (row.action, row.outcome) == (EventType.VIEW, Outcome.SUCCESS)
    assert (row.object_type, row.object_id) == ("child", str(child.id))
    assert re.fullmatch(r"[0-9a-f]{32}", row.request_id)
    assert response["X-Request-ID"] == row.request_id
    assert len(row.hash) == 64 and len(row.prev_hash) == 64


def test_it_gives_every_request_its_own_id(world: World, login) -> None:
    client: Client = login("village_worker")
    first = client.get("/children/")["X-Request-ID"]
    second = client.get("/children/", HTTP_X_REQUEST_ID="forged-by-the-client")["X-Request-ID"]
    assert first != second and "forged" not in second
    assert list(AuditEvent.objects.order_by("id").values_list("request_id", flat=True)) == [first, second]


def test_it_keeps_the_reveal_reason(world: World, login) -> None:
    child = world.children["a1"]
    login("village_worker").post(f"/children/{child.id}/reveal/", {"field": "child_id", "reason": "核对户籍"})
    row = AuditEvent.objects.get(action=EventType.REVEAL)
    assert row.reason == "核对户籍"


def test_it_masks_id_and_phone_numbers_anywhere_in_a_row(world: World) -> None:
    child = world.children["a1"]
    row = audit_event(
        user=world.users["county_admin"],
        action=EventType.REVEAL,
        object_type="child",
        object_id=child.id,
        reason=f"家长报称 {child.id_number} 有误，电话13800000001",
        detail={"note": f"号码{child.id_number}", "nested": [{"phone": "13912345678"}], "count": 3},
    )
    row.refresh_from_db()
    text = _text(row)
    assert child.id_number not in text and "13800000001" not in text and "13912345678" not in text
    assert f"{child.id_number[:6]}********{child.id_number[-4:]}" in row.reason
    assert row.detail["nested"][0]["phone"] == "139****5678"
    assert row.detail["count"] == 3
    assert str(child.id) == row.object_id  # a UUID is not mistaken for a number


@pytest.mark.parametrize(
    ("raw", "masked"),
    [
        ("45052120150601101X", "450521********101X"),
        ("id:450521201506011011;", "id:450521********1011;"),
        ("13800000001", "138****0001"),
        ("电话13800000001。", "电话138****0001。"),
        ("4505212015060110111", "4505212015060110111"),  # 19 digits: not an ID number
        ("1380000000", "1380000000"),  # 10 digits: not a phone number
        ("6f0d5c1e-9b7a-4c1e-8d2f-138000000011", "6f0d5c1e-9b7a-4c1e-8d2f-138000000011"),
    ],
)
def test_it_recognises_what_looks_like_an_id_or_phone(raw: str, masked: str) -> None:
    assert scrub(raw) == masked


def test_no_row_of_a_busy_session_holds_a_full_number(world: World, login) -> None:
    """LG-2's figure: an 18-digit ID regex (and an 11-digit phone regex) over every audit row
    written by searches, reveals, edits and API reads finds nothing."""
    client: Client = login("county_admin")
    child = world.children["a1"]
    for term in (child.id_number, "13800000001", child.id_number[-4:], "张三"):
        client.post("/children/", {"q": term})
        client.get("/api/children/", {"q": term})
    for field in ("child_id", "father_phone"):
        client.post(
            f"/children/{child.id}/reveal/", {"field": field, "reason": f"核对 {child.id_number} 13800000001"}
        )
    client.get(f"/api/children/{child.id}/parents/")
    client.get(f"/children/{child.id}/edit/")
    rows = list(AuditEvent.objects.all())
    assert len(rows) == 12
    for row in rows:
        text = _text(row)
        assert not ID_RE.search(text), text
        assert not PHONE_RE.search(text), text
    assert json.dumps([r.detail for r in rows], ensure_ascii=False).count("********") >= 1
