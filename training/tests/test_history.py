"""Training histories through HTTP: every worker reads their own (/training/me/); county
admins and officers read any worker's of the county, township supervisors those of their
township (404 for others, as for a missing one); other roles get 403."""

import datetime as dt
import uuid
from decimal import Decimal
from typing import Any

import pytest
from django.test import Client

from audit.models import AuditEvent
from testing.world import World
from training.tests.conftest import TODAY, WORKER_PERSONAS, Staff, new_session


@pytest.fixture
def attended(world: World, staff: Staff) -> World:
    worker = world.users["village_worker"]
    new_session(world, held_on=dt.date(2027, 12, 31), attendees=(worker,), topic="去年的培训", hours="2")
    new_session(world, held_on=dt.date(2028, 1, 1), attendees=(worker,), topic="元旦培训", hours="1.5")
    new_session(world, held_on=TODAY, attendees=(worker, staff.a2_worker), topic="春季培训", hours="4")
    new_session(world, held_on=TODAY, attendees=(staff.b1_worker,), topic="别人的培训")
    return world


def test_a_worker_reads_their_own_history(attended: World, login: Any) -> None:
    response = login("village_worker").get("/training/me/")
    assert response.status_code == 200
    assert [row.session.topic for row in response.context["rows"]] == ["春季培训", "元旦培训", "去年的培训"]
    years = [(y.year, y.sessions, y.hours) for y in response.context["years"]]
    assert years == [(2028, 2, Decimal("5.5")), (2027, 1, Decimal("2.0"))]
    page = response.content.decode()
    assert "我的培训记录" in page and "别人的培训" not in page and "甲一村委会" in page


@pytest.mark.parametrize("persona", WORKER_PERSONAS)
def test_every_worker_has_a_history_page(attended: World, client: Client, persona: str) -> None:
    client.force_login(attended.users[persona])
    response = client.get("/training/me/")
    assert response.status_code == 200 and response.context["own"]


@pytest.mark.parametrize(
    "persona", ["county_admin", "police", "reporter", "system_admin", "auditor", "no_role"]
)
def test_others_have_no_own_history(attended: World, client: Client, persona: str) -> None:
    client.force_login(attended.users[persona])
    assert client.get("/training/me/").status_code == 403


@pytest.mark.parametrize("persona", ["county_admin", "county_officer", "township_supervisor"])
def test_readers_read_a_workers_history(attended: World, staff: Staff, client: Client, persona: str) -> None:
    client.force_login(attended.users[persona])
    response = client.get(f"/training/workers/{staff.a2_worker.pk}/")
    assert response.status_code == 200
    assert [row.session.topic for row in response.context["rows"]] == ["春季培训"]
    assert AuditEvent.objects.filter(
        action="view", object_type="training_worker", object_id=str(staff.a2_worker.pk)
    ).exists()


def test_a_supervisor_reads_the_township_only(attended: World, staff: Staff, client: Client) -> None:
    client.force_login(attended.users["township_supervisor"])
    missing = client.get(f"/training/workers/{uuid.uuid4()}/")
    assert missing.status_code == 404
    # 党江镇's worker and the county-level social worker are outside 廉州镇.
    for user in (staff.b1_worker, attended.users["social_worker"], attended.users["county_officer"]):
        out = client.get(f"/training/workers/{user.pk}/")
        assert out.status_code == 404 and abs(len(out.content) - len(missing.content)) <= 16
        assert "别人的培训" not in out.content.decode()


def test_no_worker_no_page(attended: World, staff: Staff, client: Client) -> None:
    """The county admin, the 三员, disabled accounts and other counties' workers have no
    history page, even for the county admin."""
    client.force_login(attended.users["county_admin"])
    for user in (attended.users["auditor"], attended.users["county_admin"], staff.inactive, staff.outsider):
        assert client.get(f"/training/workers/{user.pk}/").status_code == 404


@pytest.mark.parametrize(
    "persona", ["village_worker", "school_staff", "police", "provider_staff", "auditor", "no_role"]
)
def test_other_roles_get_403(attended: World, staff: Staff, client: Client, persona: str) -> None:
    client.force_login(attended.users[persona])
    assert client.get(f"/training/workers/{staff.a2_worker.pk}/").status_code == 403
    assert client.get(f"/training/workers/{attended.users[persona].pk}/").status_code == 403


@pytest.mark.parametrize(
    ("persona", "link"),
    [
        ("county_admin", "/training/"),
        ("township_supervisor", "/training/"),
        ("village_worker", "/training/me/"),
        ("provider_staff", "/training/me/"),
        ("police", None),
        ("auditor", None),
    ],
)
def test_the_menu_links_the_page_each_role_may_open(
    attended: World, client: Client, persona: str, link: str | None
) -> None:
    client.force_login(attended.users[persona])
    page = client.get("/training/me/" if link == "/training/me/" else "/").content.decode()
    assert ('href="/training/"' in page) == (link == "/training/")
    assert ('href="/training/me/"' in page) == (link == "/training/me/")
