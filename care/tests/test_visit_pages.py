"""The visit page, the visit list and the care section of the file page."""

import datetime as dt
from typing import Any

import time_machine
from django.test import Client

from audit.models import AuditEvent, EventType
from care.models import Visit
from registry.models import Child
from testing.world import World, make_child

from .conftest import NOW
from .helpers import visit_post


def _record(client: Client, child: Child, **overrides: Any) -> Visit:
    response = client.post(f"/children/{child.pk}/visits/new/", visit_post(child, **overrides))
    assert response.status_code == 302, response.content[:300]
    return Visit.objects.filter(child=child).order_by("-created_at").first()  # type: ignore[return-value]


def test_the_visit_page_shows_the_record_and_logs_the_read(world: World, login: Any) -> None:
    client: Client = login("village_worker")
    child = Child.objects.get(pk=world.children["a1"].pk)
    visit = _record(
        client, child, follow_up_needed="on", follow_up_note="下周联系学校班主任", new_rating="fair"
    )
    before = AuditEvent.objects.count()

    body = client.get(f"/visits/{visit.pk}/").content.decode()

    for text in (
        "上门走访",
        "village_worker（儿童主任）",
        "儿童本人、（外）祖父母",
        "下周联系学校班主任",
        "监护情况评估调整为：一般",
    ):
        assert text in body, text
    rows = list(AuditEvent.objects.order_by("id"))[before:]
    assert [(r.action, r.object_id, r.detail.get("visit")) for r in rows] == [
        (EventType.VIEW, str(child.pk), str(visit.pk))
    ]


def test_the_visit_list_pages_newest_first(world: World, login: Any) -> None:
    client: Client = login("village_worker")
    child = Child.objects.get(pk=world.children["a1"].pk)
    for day in range(1, 23):
        _record(client, child, visited_on=dt.date(2028, 1, day).isoformat())
    first = client.get(f"/children/{child.pk}/visits/")
    assert first.status_code == 200
    dates = [visit.visited_on.day for visit in first.context["page"].object_list]
    assert dates == list(range(22, 2, -1))
    second = client.get(f"/children/{child.pk}/visits/", {"page": 2})
    assert [visit.visited_on.day for visit in second.context["page"].object_list] == [2, 1]


def test_the_file_page_shows_colour_due_date_and_the_visit_button(world: World, login: Any) -> None:
    child = make_child(
        world.village_a1,
        world.users["county_admin"],
        name="小芳",
        care_type="living_alone",
        guardianship_rating="fair",
    )
    client: Client = login("village_worker")
    body = client.get(f"/children/{child.pk}/").content.decode()
    assert '<span class="risk risk-red">红色</span>' in body
    assert "单独居住、监护情况一般" in body
    assert "尚未走访" in body and "2028-03-03" in body
    assert f"/children/{child.pk}/visits/new/" in body
    client.logout()

    client.force_login(world.users["school_staff"])  # may read a1, may not visit it
    a1 = client.get(f"/children/{world.children['a1'].pk}/").content.decode()
    assert "绿色" in a1 and "visits/new/" not in a1


def test_the_file_page_highlights_an_overdue_visit(world: World, client: Client) -> None:
    child = make_child(
        world.village_a1, world.users["county_admin"], name="小强", care_type="unsupervised"
    )  # red: due in 7 days
    with time_machine.travel(NOW + dt.timedelta(days=10), tick=False):
        client.force_login(world.users["village_worker"])
        body = client.get(f"/children/{child.pk}/").content.decode()
    assert "已逾期 3 天" in body


def test_it_escapes_what_was_typed_into_a_visit(world: World, login: Any) -> None:
    client: Client = login("village_worker")
    child = Child.objects.get(pk=world.children["a1"].pk)
    hostile = '<script>alert("走访")</script>'
    visit = _record(
        client,
        child,
        notes=hostile,
        hazards_found="on",
        hazards_note=hostile,
        follow_up_needed="on",
        follow_up_note=hostile,
        present=["other"],
        present_other=hostile,
    )
    for url in (f"/visits/{visit.pk}/", f"/children/{child.pk}/", f"/children/{child.pk}/visits/"):
        body = client.get(url).content.decode()
        assert "<script>alert" not in body, url
    assert body.count("&lt;script&gt;") == 0  # the lists show no free text at all
    detail = client.get(f"/visits/{visit.pk}/").content.decode()
    assert detail.count("&lt;script&gt;alert(&quot;走访&quot;)&lt;/script&gt;") == 4
