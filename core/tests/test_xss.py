"""IN-2: an XSS payload in every free-text field of the child file renders inert everywhere.

A village child director creates a file through the web form with a payload in every free-text
field of the child, parent and guardian forms (the fields are found from the forms, so a new
text field is covered without touching this test), edits it, exits and reactivates it with
payload reasons and reveals a number with a payload reason. Then every page that shows these
values is fetched: the file page (with its timeline), the edit form, the ledger (list and
search), the audit pages, and the API. On HTML pages the raw payload must never appear and its
escaped form must; the API answers JSON (application/json, nosniff) with the value unchanged.
"""

import json
from typing import Any

import pytest
from django import forms
from django.test import Client
from django.utils.html import escape

from registry import choices as c
from registry.forms import ChildForm, GuardianForm, ParentForm
from registry.models import Child
from registry.tests.helpers import edit_post, file_post
from testing.world import World

LONG = "<script>alert(1)</script>\"'><img src=x onerror=alert(1)>"
SHORT = "<img src=x onerror=1>"
UNTOUCHABLE = {"id_number", "phone"}  # validated formats: a payload is refused, not stored


def _text_fields(form_class: type[forms.BaseForm], prefix: str) -> dict[str, int]:
    """Free-text inputs of a form: plain CharFields (no choices, no validated number)."""
    fields = form_class.base_fields
    return {
        f"{prefix}{name}": field.max_length or 200
        for name, field in fields.items()
        if type(field) is forms.CharField and name not in UNTOUCHABLE
    }


TEXT_FIELDS = {
    **_text_fields(ChildForm, ""),
    **_text_fields(ParentForm, "father-"),
    **_text_fields(ParentForm, "mother-"),
    **_text_fields(GuardianForm, "guardian-"),
}


def payload(field: str, turn: int = 1) -> str:
    """A payload naming its field and round, so each rendered value is traceable."""
    tag = f"{turn}{sorted(TEXT_FIELDS).index(field)}"
    long = f"{LONG}{tag}"
    return long if len(long) <= TEXT_FIELDS[field] else f"{SHORT}{tag}"


def _payloads(turn: int) -> dict[str, str]:
    return {field: payload(field, turn) for field in TEXT_FIELDS}


def _hostile_post(world: World, turn: int) -> dict[str, Any]:
    values = _payloads(turn)
    return {
        **values,
        "health": c.Health.ILL,
        "key_manual": "on",
        "father-incapacity_reason": c.IncapacityReason.OTHER,
        "guardian-present": "on",
        "guardian-relation": c.GuardianRelation.GRANDMOTHER,
        "guardian-check_adult_full_capacity": "on",
        "guardian-assessed_on": "2024-05-01",
    }


@pytest.fixture
def hostile_child(world: World, login: Any) -> Child:
    """The file, created and then edited through the forms, so that the timeline holds the
    first round's payloads as old values and the second round's as new values."""
    client = login("village_worker")
    response = client.post("/children/new/", file_post(world.village_a1.id, **_hostile_post(world, 1)))
    assert response.status_code == 302, _form_errors(response)
    child = Child.objects.get(name=payload("name", 1))
    response = client.post(f"/children/{child.id}/edit/", edit_post(child, **_hostile_post(world, 2)))
    assert response.status_code == 302, _form_errors(response)
    child.refresh_from_db()
    assert child.current_address == payload("current_address", 2)  # stored verbatim, not escaped
    response = client.post(
        f"/children/{child.id}/exit/",
        {"version": child.version, "exit_reason": c.ExitReason.MOVED_AWAY, "exit_date": "2024-06-01"}
        | {"exit_note": f"{LONG}exit"},
    )
    assert response.status_code == 302
    child.refresh_from_db()
    response = client.post(
        f"/children/{child.id}/reactivate/", {"version": child.version, "reason": f"{LONG}back"}
    )
    assert response.status_code == 302
    response = client.post(f"/children/{child.id}/reveal/", {"field": "child_id", "reason": f"{LONG}why"})
    assert response.status_code == 200
    assert LONG not in response.content.decode()
    child.refresh_from_db()
    return child


def _form_errors(response: Any) -> str:
    context = getattr(response, "context", None) or {}
    file_forms = context.get("forms") if hasattr(context, "get") else None
    if file_forms is None:
        return f"status {response.status_code}"
    return "; ".join(f"{form.prefix or 'child'}: {form.errors.as_json()}" for form in file_forms.all())


ALL_PAYLOADS = [
    *_payloads(1).values(),
    *_payloads(2).values(),
    f"{LONG}exit",
    f"{LONG}back",
    f"{LONG}why",
]


def assert_inert(body: str, where: str) -> set[str]:
    """No payload appears raw; returns the payloads whose escaped form does appear."""
    for value in ALL_PAYLOADS:
        assert value not in body, f"{where}: raw payload {value!r}"
    for fragment in ("<script>alert(1)", "<img src=x onerror", "onerror=alert(1)>"):
        assert fragment not in body, f"{where}: live markup {fragment!r}"
    return {value for value in ALL_PAYLOADS if escape(value) in body}


def _page(client: Client, url: str, **kwargs: Any) -> str:
    response = client.get(url, **kwargs)
    assert response.status_code == 200, f"GET {url}: {response.status_code}"
    assert response["Content-Type"].startswith("text/html")
    return response.content.decode()


def test_it_escapes_every_text_field_on_the_file_page_and_the_edit_form(
    hostile_child: Child, login: Any
) -> None:
    client = login("village_worker")
    detail = assert_inert(_page(client, f"/children/{hostile_child.id}/"), "file page")
    edit = assert_inert(_page(client, f"/children/{hostile_child.id}/edit/"), "edit form")
    current = set(_payloads(2).values())
    assert current <= detail | edit, f"never rendered: {sorted(current - detail - edit)}"
    assert payload("name", 2) in detail and payload("current_address", 2) in detail
    # The timeline shows what changed: round 1 values as old, round 2 as new, and the reasons.
    assert payload("current_address", 1) in detail
    assert {f"{LONG}exit", f"{LONG}back"} <= detail


def test_it_escapes_names_in_the_ledger_and_its_search(hostile_child: Child, login: Any) -> None:
    client = login("village_worker")
    assert payload("name", 2) in assert_inert(_page(client, "/children/", data={"status": ""}), "ledger")
    response = client.post("/children/", {"q": SHORT, "status": ""})
    assert response.status_code == 200
    assert escape(SHORT) in response.content.decode()  # the search box echoes the term, escaped
    assert_inert(response.content.decode(), "ledger search")
    htmx = client.post("/children/", {"q": "", "status": ""}, HTTP_HX_REQUEST="true")
    assert payload("name", 2) in assert_inert(htmx.content.decode(), "ledger partial")


def test_it_escapes_reasons_on_the_audit_pages(hostile_child: Child, login: Any, world: World) -> None:
    client = login("auditor")
    seen = assert_inert(_page(client, "/audit/access-log/"), "access log")
    seen |= assert_inert(_page(client, f"/audit/children/{hostile_child.id}/"), "child access log")
    assert f"{LONG}why" in seen, "the reveal reason is not shown on the audit pages"


def test_it_answers_the_api_with_json_that_keeps_the_value(hostile_child: Child, login: Any) -> None:
    """JSON is not HTML: the value goes out unchanged (not double-escaped), as
    application/json with nosniff, so no browser renders it as markup."""
    client = login("village_worker")
    for url in (
        f"/api/children/{hostile_child.id}/",
        f"/api/children/{hostile_child.id}/parents/",
        f"/api/children/{hostile_child.id}/guardian/",
        "/api/children/?status=all",
    ):
        response = client.get(url)
        assert response.status_code == 200, url
        assert response["Content-Type"] == "application/json", url
        assert response["X-Content-Type-Options"] == "nosniff", url
    body = client.get(f"/api/children/{hostile_child.id}/").json()
    assert body["name"] == payload("name", 2)
    assert body["current_address"] == payload("current_address", 2)
    assert body["guardian"]["address"] == payload("guardian-address", 2)
    assert body["father"]["incapacity_note"] == payload("father-incapacity_note", 2)
    assert json.dumps(body, ensure_ascii=False).count("&lt;") == 0


def test_it_covers_every_free_text_field() -> None:
    """The field list comes from the forms; this pins that it found them."""
    for name in ("name", "current_address", "hukou_place", "illness", "grade", "household_address"):
        assert name in TEXT_FIELDS
    for name in ("father-name", "father-work_detail", "mother-incapacity_note", "guardian-address"):
        assert name in TEXT_FIELDS
    assert "id_number" not in TEXT_FIELDS and "guardian-phone" not in TEXT_FIELDS
