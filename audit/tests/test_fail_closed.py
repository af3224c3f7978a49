"""LG-5: when the audit row cannot be written, nothing is served and nothing is changed:
the page answers 503 in Chinese, the API 503 with a Chinese detail, and a write is undone."""

from typing import Any

import pytest
from django.db import DatabaseError
from django.test import Client

from audit.models import AuditEvent, EmergencyAccess
from registry.models import Child
from registry.tests.helpers import edit_post
from testing.world import World


@pytest.fixture
def broken_audit(monkeypatch: pytest.MonkeyPatch) -> None:
    def fail(self: AuditEvent, *args: Any, **kwargs: Any) -> None:
        raise DatabaseError("disk full")

    monkeypatch.setattr(AuditEvent, "save", fail)


def _assert_nothing_of(child: Child, body: str) -> None:
    assert child.name not in body
    assert child.file_no not in body
    assert child.id_number[-4:] not in body


def test_the_file_page_answers_503_without_data(world: World, login, broken_audit: None) -> None:
    child = world.children["a1"]
    response = login("village_worker").get(f"/children/{child.id}/")
    assert response.status_code == 503
    body = response.content.decode()
    assert "审计日志暂时无法写入" in body
    _assert_nothing_of(child, body)
    assert response["X-Request-ID"]
    assert "no-store" in response["Cache-Control"]


def test_the_api_detail_answers_503_without_data(world: World, login, broken_audit: None) -> None:
    child = world.children["a1"]
    response = login("county_admin").get(f"/api/children/{child.id}/")
    assert response.status_code == 503
    assert response.json() == {
        "detail": "审计日志暂时无法写入。为保护个人信息，本次请求没有返回任何数据，请稍后重试。"
    }
    _assert_nothing_of(child, response.content.decode())


# One failing request per test: the failed audit write dooms the surrounding transaction
# (here the test's own), exactly as it dooms a write's transaction in production.


def test_the_ledger_answers_503(world: World, login, broken_audit: None) -> None:
    response = login("village_worker").get("/children/")
    assert response.status_code == 503
    assert world.children["a1"].name not in response.content.decode()


def test_a_reveal_answers_503(world: World, login, broken_audit: None) -> None:
    child = world.children["a1"]
    response = login("village_worker").post(
        f"/children/{child.id}/reveal/", {"field": "child_id", "reason": "核对户籍"}
    )
    assert response.status_code == 503
    assert child.id_number not in response.content.decode()


# Writes: with real commits (transactional_world), so that what was undone can be checked.


def test_a_write_is_undone_when_its_row_cannot_be_written(
    transactional_world: World, client: Client, broken_audit: None
) -> None:
    child = transactional_world.children["a1"]
    client.force_login(transactional_world.users["village_worker"])
    response = client.post(f"/children/{child.id}/edit/", edit_post(child, current_address="不该保存的地址"))
    assert response.status_code == 503
    child.refresh_from_db()
    assert child.current_address != "不该保存的地址" and child.version == 1


def test_an_emergency_grant_is_undone_too(
    transactional_world: World, client: Client, broken_audit: None
) -> None:
    other = transactional_world.children["other"]
    client.force_login(transactional_world.users["township_supervisor"])
    response = client.post(
        "/audit/emergency/", {"file_no": other.file_no, "reason": "外地转来的紧急个案，需要立即核实"}
    )
    assert response.status_code == 503
    assert not EmergencyAccess.objects.exists()


@pytest.mark.parametrize(("persona", "path"), [("county_officer", "new/"), ("village_worker", "b1")])
def test_a_denial_that_cannot_be_recorded_is_still_refused(
    world: World, login, broken_audit: None, persona: str, path: str
) -> None:
    url = "/children/new/" if path == "new/" else f"/children/{world.children['b1'].id}/"
    response = login(persona).get(url)
    assert response.status_code == 503
    assert world.children["b1"].name not in response.content.decode()
