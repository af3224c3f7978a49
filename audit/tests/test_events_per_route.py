"""LG-1: every data route writes exactly one audit row of the right type, and so does every
refusal (a 403, or a 404 for a file outside the user's scope); a plain unknown URL does not."""

import datetime as dt
import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest
from django.test import Client
from django.utils import timezone

from audit.models import AuditEvent, EventType, Outcome
from registry import choices as c
from registry.models import Child, EntrustedGuardian
from registry.services import child_file_exit
from registry.tests.helpers import edit_post, file_post
from testing.world import World


@dataclass(frozen=True)
class Case:
    name: str
    persona: str
    method: str
    url: Callable[[World], str]
    action: str
    data: Callable[[World], dict[str, Any]] | None = None
    status: int = 200
    outcome: str = Outcome.SUCCESS
    on_child: bool = True  # the row names the file a1 (else no object id)
    json: bool = False


def _a1(world: World) -> Child:
    return Child.objects.get(pk=world.children["a1"].pk)


def _file(world: World) -> str:
    return f"/children/{world.children['a1'].id}/"


def _api(world: World) -> str:
    return f"/api/children/{world.children['a1'].id}/"


def _exit_data(world: World) -> dict[str, Any]:
    return {
        "version": _a1(world).version,
        "exit_reason": c.ExitReason.MOVED_AWAY,
        "exit_date": timezone.localdate(),
        "exit_note": "",
    }


CASES = [
    Case("ledger", "village_worker", "GET", lambda w: "/children/", EventType.LIST, on_child=False),
    Case(
        "search",
        "village_worker",
        "POST",
        lambda w: "/children/",
        EventType.SEARCH,
        data=lambda w: {"q": "张三"},
        on_child=False,
    ),
    Case("detail", "village_worker", "GET", _file, EventType.VIEW),
    Case("edit form", "village_worker", "GET", lambda w: _file(w) + "edit/", EventType.VIEW),
    Case(
        "create",
        "village_worker",
        "POST",
        lambda w: "/children/new/",
        EventType.CREATE,
        data=lambda w: file_post(w.village_a1.id, name="审计新童"),
        status=302,
        on_child=False,
    ),
    Case(
        "edit",
        "village_worker",
        "POST",
        lambda w: _file(w) + "edit/",
        EventType.UPDATE,
        data=lambda w: edit_post(_a1(w), current_address="审计测试地址 1 号"),
        status=302,
    ),
    Case(
        "exit",
        "village_worker",
        "POST",
        lambda w: _file(w) + "exit/",
        EventType.UPDATE,
        data=_exit_data,
        status=302,
    ),
    Case(
        "reveal",
        "police",
        "POST",
        lambda w: _file(w) + "reveal/",
        EventType.REVEAL,
        data=lambda w: {"field": "father_phone", "reason": "联系家长"},
    ),
    Case("api list", "county_admin", "GET", lambda w: "/api/children/", EventType.LIST, on_child=False),
    Case(
        "api search",
        "county_admin",
        "GET",
        lambda w: "/api/children/?q=zs",
        EventType.SEARCH,
        on_child=False,
    ),
    Case("api detail", "school_staff", "GET", _api, EventType.API_READ),
    Case("api parents", "social_worker", "GET", lambda w: _api(w) + "parents/", EventType.API_READ),
    Case("api guardian", "county_admin", "GET", lambda w: _api(w) + "guardian/", EventType.API_READ),
    Case(
        "api create",
        "village_worker",
        "POST",
        lambda w: "/api/children/",
        EventType.CREATE,
        data=lambda w: {
            "name": "接口新童",
            "sex": c.Sex.MALE,
            "birth_date": "2016-01-01",
            "ethnicity": "汉族",
            "village": str(w.village_a1.id),
            "schooling": c.Schooling.PRIMARY,
            "care_type": c.CareType.GRANDPARENTS,
            "guardianship_rating": c.Rating.GOOD,
        },
        status=201,
        on_child=False,
        json=True,
    ),
    Case(
        "api update",
        "township_supervisor",
        "PATCH",
        _api,
        EventType.UPDATE,
        data=lambda w: {"version": _a1(w).version, "current_address": "接口测试地址"},
        json=True,
    ),
    # Refusals
    Case("out of scope", "village_worker", "GET", lambda w: f"/children/{w.children['b1'].id}/", "denied"),
    Case("write as reader", "county_officer", "GET", lambda w: "/children/new/", "denied", on_child=False),
    Case("api write as reader", "police", "PATCH", _api, "denied", data=lambda w: {"version": 1}, json=True),
    Case(
        "audit as system admin",
        "system_admin",
        "GET",
        lambda w: "/audit/access-log/",
        "denied",
        on_child=False,
    ),
]
DENIED_STATUS = {"out of scope": 404, "write as reader": 403, "api write as reader": 403}


def _send(client: Client, case: Case, world: World) -> Any:
    url = case.url(world)
    data = case.data(world) if case.data else {}
    if case.method == "GET":
        return client.get(url)
    if case.json:
        return client.generic(
            case.method, url, json.dumps(data, default=str), content_type="application/json"
        )
    return client.post(url, data)


@pytest.mark.parametrize("case", CASES, ids=[case.name for case in CASES])
def test_it_writes_exactly_one_row_of_the_right_type(case: Case, world: World, login) -> None:
    EntrustedGuardian.objects.create(
        child=world.children["a1"], name="审计监护人", relation=c.GuardianRelation.GRANDMOTHER
    )
    client: Client = login(case.persona)
    before = AuditEvent.objects.count()
    response = _send(client, case, world)
    denied = case.action == "denied"
    expected = DENIED_STATUS.get(case.name, 403) if denied else case.status
    assert response.status_code == expected, response.content[:300]
    rows = list(AuditEvent.objects.order_by("id"))[before:]
    assert len(rows) == 1, [(r.action, r.object_type) for r in rows]
    row = rows[0]
    assert row.action == (EventType.DENIED if denied else case.action)
    assert row.outcome == (Outcome.DENIED if denied else Outcome.SUCCESS)
    assert row.username == case.persona
    assert row.request_id == response["X-Request-ID"]
    if denied and case.name == "out of scope":
        assert (row.object_type, row.object_id) == ("child", str(world.children["b1"].id))
        assert row.detail["exists"] is True and row.detail["status"] == 404
    elif case.on_child:
        assert (row.object_type, row.object_id) == ("child", str(world.children["a1"].id))
    elif case.action != EventType.CREATE:
        assert row.object_type in ("child", "route") and row.object_id == ""
    if case.action in (EventType.CREATE, EventType.UPDATE):
        assert Child.objects.filter(pk=row.object_id).exists()


def test_it_logs_the_reactivation_reason(world: World, login) -> None:
    admin = world.users["county_admin"]
    child = _a1(world)
    child_file_exit(
        user=admin,
        child=child,
        expected_version=child.version,
        reason=c.ExitReason.MOVED_AWAY,
        on=timezone.localdate() - dt.timedelta(days=1),
    )
    child.refresh_from_db()
    client: Client = login("village_worker")
    response = client.post(
        _file(world) + "reactivate/", {"version": child.version, "reason": "已返回本村居住"}
    )
    assert response.status_code == 302
    row = AuditEvent.objects.get(action=EventType.UPDATE)
    assert row.reason == "已返回本村居住" and row.detail["change"] == "reactivate"
    child.refresh_from_db()
    assert row.detail["version"] == child.version


def test_it_tells_a_missing_file_from_one_out_of_scope(world: World, login) -> None:
    client: Client = login("village_worker")
    assert client.get("/children/6f0d5c1e-9b7a-4c1e-8d2f-000000000404/").status_code == 404
    row = AuditEvent.objects.get()
    assert row.action == EventType.DENIED and row.detail["exists"] is False


def test_it_does_not_log_unknown_urls_or_anonymous_refusals(world: World, client: Client) -> None:
    assert client.get("/no-such-page/").status_code == 404
    assert client.get("/api/children/").status_code in (401, 403)
    client.force_login(world.users["village_worker"])
    assert client.get("/no-such-page/").status_code == 404
    assert client.get("/children/not-a-uuid/").status_code == 404
    assert not AuditEvent.objects.exists()
