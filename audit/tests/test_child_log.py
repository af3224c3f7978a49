"""LG-6: who looked at this child, behind its own permission: county admins (for files in
their scope) and the auditor (who reads no child file itself); filters by user and date."""

import datetime as dt

import pytest
import time_machine
from django.test import Client
from django.utils import timezone

from audit.models import AuditEvent
from testing.world import World


def _url(world: World, key: str = "a1") -> str:
    return f"/audit/children/{world.children[key].id}/"


def _looked(client: Client, world: World, key: str = "a1") -> None:
    assert client.get(f"/children/{world.children[key].id}/").status_code == 200


def test_it_shows_who_looked_at_the_file(world: World, login) -> None:
    _looked(login("village_worker"), world)
    _looked(login("police"), world)
    _looked(login("police"), world, "a2")  # another file: not listed
    login("school_staff").get(f"/children/{world.children['b1'].id}/")  # refused: listed as such
    client: Client = login("county_admin")
    response = client.get(_url(world))
    assert response.status_code == 200
    rows = [(r.username, r.action) for r in response.context["rows"]]
    assert rows == [("police", "view"), ("village_worker", "view")]
    body = response.content.decode()
    assert world.children["a1"].file_no in body
    assert world.children["a1"].name not in body  # the log, not the file


def test_it_lists_refusals_too(world: World, login) -> None:
    login("school_staff").get(f"/children/{world.children['b1'].id}/")
    response = login("auditor").get(_url(world, "b1"))
    assert [(r.username, r.action, r.outcome) for r in response.context["rows"]] == [
        ("school_staff", "denied", "denied")
    ]


def test_it_filters_by_user_and_date(world: World, login) -> None:
    child = world.children["a1"]
    user = world.users["village_worker"]
    from audit.services import audit_event

    for days_ago, who in ((10, user), (3, user), (3, world.users["police"])):
        with time_machine.travel(timezone.now() - dt.timedelta(days=days_ago), tick=False):
            audit_event(user=who, action="view", object_type="child", object_id=child.id)
    client: Client = login("auditor")
    today = timezone.localdate()
    by_user = client.get(_url(world), {"username": "village_worker"}).context["rows"]
    assert [r.username for r in by_user] == ["village_worker", "village_worker"]
    recent = client.get(
        _url(world), {"since": str(today - dt.timedelta(days=5)), "until": str(today)}
    ).context["rows"]
    assert sorted(r.username for r in recent) == ["police", "village_worker"]
    both = client.get(
        _url(world), {"username": "village_worker", "since": str(today - dt.timedelta(days=5))}
    ).context["rows"]
    assert len(both) == 1
    bad = client.get(_url(world), {"since": str(today), "until": str(today - dt.timedelta(days=1))})
    assert "截止日期不能早于起始日期" in bad.content.decode()


def test_opening_it_is_audited(world: World, login) -> None:
    login("auditor").get(_url(world))
    row = AuditEvent.objects.get()
    assert (row.username, row.action, row.object_type, row.object_id) == (
        "auditor",
        "view",
        "child_access_log",
        str(world.children["a1"].id),
    )


def test_a_county_admin_sees_only_files_in_scope(world: World, login) -> None:
    client: Client = login("county_admin")
    assert client.get(_url(world, "b1")).status_code == 200
    assert client.get(_url(world, "other")).status_code == 404


def test_the_auditor_reads_no_child_file(world: World, login) -> None:
    client: Client = login("auditor")
    assert client.get(_url(world, "other")).status_code == 200
    assert client.get(f"/children/{world.children['a1'].id}/").status_code == 404
    assert client.get(f"/api/children/{world.children['a1'].id}/").status_code == 404


@pytest.mark.parametrize(
    "persona",
    [
        "county_officer",  # reads every file in the county, not who read them
        "township_supervisor",
        "village_worker",
        "school_staff",
        "police",
        "social_worker",
        "system_admin",
        "security_admin",
        "no_role",
    ],
)
def test_everyone_else_gets_403(world: World, login, persona: str) -> None:
    assert login(persona).get(_url(world)).status_code == 403
