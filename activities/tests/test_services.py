"""The services a child received (one list on the file) and the work list of key children
with no service in the county's period."""

import datetime as dt
import re

import pytest
from django.test import Client
from django.utils import timezone

from activities.selectors import child_services, served_child_ids
from activities.tests.helpers import child, make_activity, mark
from care.models import CarePolicy
from cases.models import MeasureKind, MeasureStatus
from cases.tests.helpers import make_case, make_measure
from registry.models import Child
from testing.world import World

pytestmark = pytest.mark.django_db

SECTION = "重点儿童超期未获服务"


def _key(world: World, *keys: str) -> None:
    Child.objects.filter(pk__in=[world.children[key].pk for key in keys]).update(is_key=True)


def _measure(world: World, status: str = MeasureStatus.IN_PROGRESS) -> None:
    case = make_case(world, "a1")
    make_measure(world, case, status=status, kind=MeasureKind.COUNSELLING)


def test_it_lists_activities_and_measures_for_a_case_reader(world: World, client: Client) -> None:
    # Three days back: the measure's start (twenty minutes ago) is never on the same day, even
    # just after midnight.
    earlier = timezone.localdate() - dt.timedelta(days=3)
    activity = make_activity(world, children=("a1",), provider=world.provider, held_on=earlier)
    mark(world, activity, "a1")
    _measure(world)
    rows = child_services(world.users["county_admin"], child(world, "a1"))
    assert [(row.source, row.kind, row.provider, row.outcome) for row in rows] == [
        ("measure", MeasureKind.COUNSELLING.label, "合浦县社工站", MeasureStatus.IN_PROGRESS.label),
        ("activity", "课后辅导", "甲一村儿童之家", "已参加"),
    ]
    client.force_login(world.users["county_admin"])
    body = client.get(f"/children/{world.children['a1'].pk}/").content.decode()
    assert "接受服务记录" in body and "甲一村儿童之家" in body and "合浦县社工站" in body


def test_it_hides_measures_from_a_file_reader_who_cannot_read_the_case(world: World, client: Client) -> None:
    activity = make_activity(world, children=("a1",))
    mark(world, activity, "a1")
    _measure(world)
    rows = child_services(world.users["village_worker"], child(world, "a1"))
    assert [row.source for row in rows] == ["activity"]
    client.force_login(world.users["village_worker"])
    body = client.get(f"/children/{world.children['a1'].pk}/").content.decode()
    assert "接受服务记录" in body and "合浦县社工站" not in body and "心理" not in body


def test_it_leaves_out_absences_and_unanswered_referrals(world: World) -> None:
    activity = make_activity(world, children=("a1",))
    mark(world, activity, "a1", attended=False)
    _measure(world, status=MeasureStatus.REFERRED)
    assert child_services(world.users["county_admin"], child(world, "a1")) == []


def test_it_counts_served_children_in_the_window(world: World) -> None:
    today = timezone.localdate()
    old = make_activity(world, children=("a2",), held_on=today - dt.timedelta(days=40))
    mark(world, old, "a2")
    _measure(world, status=MeasureStatus.ACCEPTED)
    served = set(served_child_ids(today - dt.timedelta(days=30), today).values_list("pk", flat=True))
    assert served == {world.children["a1"].pk}
    served = set(served_child_ids(today - dt.timedelta(days=50), today).values_list("pk", flat=True))
    assert served == {world.children["a1"].pk, world.children["a2"].pk}


def _tile(body: str) -> int:
    match = re.search(rf'<span class="num">(\d+)</span><span>{SECTION}</span>', body)
    assert match, "the tile is missing"
    return int(match.group(1))


def _listed(client: Client) -> str:
    body = client.get("/work/no_service/").content.decode()
    return re.search(r"<tbody>(.*?)</tbody>", body, re.S).group(1) if "<tbody>" in body else ""  # type: ignore[union-attr]


def test_it_lists_key_children_without_service(world: World, client: Client) -> None:
    _key(world, "a1", "a2")
    client.force_login(world.users["township_supervisor"])
    assert _tile(client.get("/work/").content.decode()) == 2
    listed = _listed(client)
    assert "张三" in listed and "李四" in listed
    activity = make_activity(world, children=("a1",))
    mark(world, activity, "a1")
    assert _tile(client.get("/work/").content.decode()) == 1
    listed = _listed(client)
    assert "张三" not in listed and "李四" in listed
    overview = client.get("/work/township/").content.decode()
    assert SECTION in overview


def test_it_counts_only_key_children_in_scope(world: World, client: Client) -> None:
    _key(world, "a1", "a2", "b1")
    client.force_login(world.users["village_worker"])
    assert _tile(client.get("/work/").content.decode()) == 1
    listed = _listed(client)
    assert "张三" in listed and "李四" not in listed and "王五" not in listed


def test_it_honours_the_countys_service_gap(world: World, client: Client) -> None:
    _key(world, "a1")
    activity = make_activity(world, children=("a1",), held_on=timezone.localdate() - dt.timedelta(days=40))
    mark(world, activity, "a1")
    client.force_login(world.users["village_worker"])
    assert _tile(client.get("/work/").content.decode()) == 0  # 90 days by default
    CarePolicy.objects.create(county=world.county, service_gap_days=30)
    client.force_login(world.users["village_worker"])
    body = client.get("/work/").content.decode()
    assert _tile(body) == 1 and "重点儿童超过 30 天未接受服务" in body


def test_it_lets_the_county_admin_set_the_service_gap(world: World, client: Client) -> None:
    client.force_login(world.users["county_admin"])
    body = client.get("/care/policy/").content.decode()
    assert "重点儿童未获服务提醒天数" in body
    data = {
        "county": str(world.county.pk),
        "red_days": 7,
        "orange_days": 14,
        "yellow_days": 30,
        "green_days": 90,
        "contact_limit_days": 7,
        "agreement_warning_days": 30,
        "aging_warning_days": 30,
        "service_gap_days": 45,
    }
    data.update({f"condition_{code}": colour for code, colour in CarePolicy().conditions.items()})
    response = client.post("/care/policy/", data)
    assert response.status_code == 302
    assert CarePolicy.objects.get(county=world.county).service_gap_days == 45
    refused = client.post("/care/policy/", {**data, "service_gap_days": 0})
    assert refused.status_code == 400 and "请填写 1 至 365 之间的天数" in refused.content.decode()
