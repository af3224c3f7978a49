"""Issue 7 items 5 and 6: the care numbers (关爱服务统计). Every number on the page is the size
of the list it links to, read as the same user; children are counted once however many
activities they attended; absent children, other townships' activities and children outside
the user's scope are not counted; the export holds the page's numbers; other roles get 403
and other regions 404."""

import datetime as dt
import html
import io
import re
from dataclasses import dataclass
from decimal import Decimal
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from python_calamine import CalamineWorkbook

from accounts.models import User
from activities.models import Activity, Participation, VolunteerService
from audit.models import AuditEvent
from geo.models import Region, Unit
from providers.choices import ServiceKind
from providers.models import Contract, ContractItem, Provider
from registry import choices as c
from registry.models import Child
from stats.tests.links import ledger_count
from testing.world import World, make_child, village

PAGE = "/stats/care/"
CHILDREN = "/stats/care/children/"
EXPORT = "/stats/care/export/"
NUMBER_LINK = re.compile(r'<a class="(count|hours)" href="([^"]*)">([\d.]+)</a>')


@dataclass
class Care:
    world: World
    today: dt.date
    key_a1: Child  # a key child in 甲一村, reached
    key_a2: Child  # a key child in 甲二村, not reached this year
    plain_a2: Child  # a child of 甲二村 reached at the township's safety class
    club: Activity  # the children's home's homework club in 甲一村
    safety: Activity  # a township-level safety class (no village)
    other_township: Activity  # 党江镇
    last_year: Activity


def _activity(
    world: World, township: Region, village: Region | None, kind: str, held_on: dt.date, **kw: Any
) -> Activity:
    return Activity.objects.create(
        kind=kind,
        title=kw.pop("title", str(ServiceKind(kind).label)),
        organiser=kw.pop("organiser", world.provider),
        county=world.county,
        township=township,
        village=village,
        place="村活动室",
        held_on=held_on,
        **kw,
    )


def _attend(activity: Activity, *children: Child, attended: bool | None = True) -> None:
    for child in children:
        Participation.objects.create(
            activity=activity, child=child, attended=attended, recorded_at=timezone.now()
        )


@pytest.fixture
def care(world: World) -> Care:
    today = timezone.localdate()
    admin = world.users["county_admin"]
    key_a1 = make_child(world.village_a1, admin, name="重点甲", guardianship_rating=c.Rating.POOR)
    key_a2 = make_child(world.village_a2, admin, name="重点乙", guardianship_rating=c.Rating.POOR)
    plain_a2 = make_child(world.village_a2, admin, name="普通丙")
    assert key_a1.is_key and key_a2.is_key and not plain_a2.is_key
    a1, a2, b1, other = (world.children[k] for k in ("a1", "a2", "b1", "other"))
    # The children's home is in the providers register (the activities list filters by it).
    Provider.objects.create(unit=world.provider, services=[ServiceKind.HOMEWORK_CLUB])
    town = Unit.objects.get(name="廉州镇人民政府")
    club = _activity(
        world, world.township_a, world.village_a1, ServiceKind.HOMEWORK_CLUB, today, provider=world.provider
    )
    safety = _activity(world, world.township_a, None, ServiceKind.SAFETY_EDUCATION, today, organiser=town)
    other_township = _activity(world, world.township_b, world.village_b1, ServiceKind.COUNSELLING, today)
    last_year = _activity(
        world, world.township_a, world.village_a2, ServiceKind.HOMEWORK_CLUB, dt.date(today.year - 1, 6, 1)
    )
    _attend(club, a1, key_a1, b1)  # b1 lives in 党江镇 and came to 廉州镇's club
    _attend(club, a2, attended=False)  # expected, absent
    _attend(club, plain_a2, attended=None)  # expected, attendance not taken
    _attend(safety, a1, plain_a2)  # a1 a second time: one child
    _attend(other_township, a2, b1, other)  # a2 of 廉州镇 at 党江镇's activity; other: another county
    _attend(last_year, key_a2)
    VolunteerService.objects.create(activity=club, name="志愿者甲", hours=Decimal("2.5"))
    VolunteerService.objects.create(activity=safety, name="志愿者乙", hours=Decimal("1.5"))
    VolunteerService.objects.create(activity=other_township, name="志愿者丙", hours=Decimal("3.0"))
    VolunteerService.objects.create(activity=last_year, name="志愿者丁", hours=Decimal("9.0"))
    return Care(world, today, key_a1, key_a2, plain_a2, club, safety, other_township, last_year)


def _board(client: Client, user: User, **params: str) -> Any:
    client.force_login(user)
    response = client.get(PAGE, params)
    assert response.status_code == 200
    return response


def _numbers(body: str) -> list[tuple[str, str, str]]:
    return [(kind, html.unescape(url), n) for kind, url, n in NUMBER_LINK.findall(body)]


def _list_count(client: Client, user: User, url: str) -> int:
    """How many entries the list behind a link holds, read through its page as `user` sees it."""
    path = urlsplit(url).path
    if path == "/children/":
        return ledger_count(User.objects.get(pk=user.pk), url)
    response = client.get(url)
    assert response.status_code == 200, url
    if path == CHILDREN:
        page = response.context["page"]
        rows = page.paginator.count
        assert len(response.context["rows"]) == min(rows, page.paginator.per_page)
        assert f'<strong class="total">{rows}</strong>' in response.content.decode()
        return int(rows)
    return _activities_listed(response)


def _activities_listed(response: Any) -> int:
    """The activities list page (the activities app's): the number of activities it lists."""
    for name in ("page", "page_obj"):
        page = response.context.get(name)
        if page is not None and hasattr(page, "paginator"):
            return int(page.paginator.count)
    for name in ("activities", "rows", "object_list"):
        rows = response.context.get(name)
        if rows is not None:
            return len(rows)
    raise AssertionError("the activities list has no list in its context")


def _hours_listed(url: str) -> Decimal:
    """Volunteer hours of the activities the link's filters name (the activities list shows
    activities, not hours: the sum is taken over the same filters)."""
    params = {key: values[0] for key, values in parse_qs(urlsplit(url).query).items()}
    held = Activity.objects.filter(held_on__range=(params["from"], params["to"]))
    for name in ("township", "village", "kind", "provider"):
        if name in params:
            held = held.filter(**{f"{name}_id" if name != "kind" else name: params[name]})
    total = VolunteerService.objects.filter(activity__in=held).values_list("hours", flat=True)
    return sum(total, Decimal("0.0"))


def _check_page(client: Client, user: User, **params: str) -> int:
    """Every number on the page equals the size of its list; returns how many were checked."""
    found = _numbers(_board(client, user, **params).content.decode())
    assert found, "no numbers on the page"
    wrong = []
    for kind, url, shown in found:
        listed: Decimal | int = _hours_listed(url) if kind == "hours" else _list_count(client, user, url)
        if Decimal(shown) != Decimal(listed):
            wrong.append((kind, url, shown, listed))
    assert wrong == [], (user.username, params, wrong)
    return len(found)


def _total(response: Any) -> Any:
    return response.context["board"].total


def test_a_supervisor_sees_the_townships_numbers_each_child_once(care: Care, client: Client) -> None:
    world = care.world
    response = _board(client, world.users["township_supervisor"])
    total = _total(response)
    # The club and the safety class; not 党江镇's activity, not last year's.
    assert total.activities.value == 2
    # a1 (twice: once), 重点甲, 普通丙, and a2 at 党江镇's activity; not b1 (党江镇), not the
    # absent or unrecorded ones.
    assert total.children.value == 4
    assert total.key_reached.value == 1 and total.key_total.value == 2
    assert total.reach_text == "50.0%"
    assert total.hours.value == Decimal("4.0")
    rows = {row.label: row for row in response.context["board"].rows}
    assert (rows["甲一村委会"].activities.value, rows["甲一村委会"].children.value) == (1, 2)
    assert (rows["甲二村委会"].activities.value, rows["甲二村委会"].children.value) == (0, 2)
    assert rows["甲二村委会"].reach_text == "0.0%" and rows["甲一村委会"].reach_text == "100.0%"
    body = response.content.decode()
    assert "关爱服务统计" in body and "党江镇" not in body


@pytest.mark.parametrize(
    ("persona", "region", "since_last_year"),
    [
        ("township_supervisor", "", False),
        ("county_admin", "", False),
        ("county_admin", "", True),
        ("county_admin", "village_a1", False),
        ("village_worker", "", False),
        ("county_officer", "township_a", False),
    ],
)
def test_every_number_equals_the_list_it_links_to(
    care: Care, client: Client, persona: str, region: str, since_last_year: bool
) -> None:
    params = {"region": str(getattr(care.world, region).pk)} if region else {}
    if since_last_year:
        params["from"] = f"{care.today.year - 1}-01-01"
    assert _check_page(client, care.world.users[persona], **params) >= 5


def test_a_county_officer_reads_the_same_numbers_as_the_county_admin(care: Care, client: Client) -> None:
    def numbers(persona: str) -> list[str]:
        body = _board(client, care.world.users[persona]).content.decode()
        return [n for _, _, n in _numbers(body)]

    assert numbers("county_officer") == numbers("county_admin")


def test_the_list_names_each_child_once_with_the_number_of_services(care: Care, client: Client) -> None:
    world = care.world
    client.force_login(world.users["township_supervisor"])
    url = urlsplit(_total(client.get(PAGE)).children.url)
    response = client.get(f"{url.path}?{url.query}")
    listed = {child.name: child.services for child, _ in response.context["rows"]}
    assert listed == {"张三": 2, "重点甲": 1, "普通丙": 1, "李四": 1}
    body = response.content.decode()
    assert "王五" not in body and "赵六" not in body
    assert world.children["a1"].id_number not in body
    key = urlsplit(_total(client.get(PAGE)).key_reached.url)
    assert [child.name for child, _ in client.get(f"{key.path}?{key.query}").context["rows"]] == ["重点甲"]


def test_the_county_counts_per_township(care: Care, client: Client) -> None:
    world = care.world
    response = _board(client, world.users["county_admin"])
    rows = {row.label: row for row in response.context["board"].rows}
    assert (rows["廉州镇"].activities.value, rows["廉州镇"].children.value) == (2, 4)
    assert (rows["党江镇"].activities.value, rows["党江镇"].children.value) == (1, 1)
    assert rows["党江镇"].hours.value == Decimal("3.0")
    total = _total(response)
    assert (total.activities.value, total.children.value, total.hours.value) == (3, 5, Decimal("7.0"))


def test_a_village_worker_counts_the_village_only(care: Care, client: Client) -> None:
    response = _board(client, care.world.users["village_worker"])
    total = _total(response)
    assert (total.activities.value, total.children.value, total.key_reached.value) == (1, 2, 1)
    assert response.context["board"].rows == []
    assert "甲二村委会" not in response.content.decode()


def test_the_period_decides_what_counts(care: Care, client: Client) -> None:
    user = care.world.users["township_supervisor"]
    last = care.today.year - 1
    total = _total(_board(client, user, **{"from": f"{last}-01-01", "to": f"{last}-12-31"}))
    assert (total.activities.value, total.children.value, total.key_reached.value) == (1, 1, 1)
    assert total.hours.value == Decimal("9.0")


def test_a_wrong_period_is_refused_at_the_field(care: Care, client: Client) -> None:
    user = care.world.users["township_supervisor"]
    response = _board(client, user, **{"from": "2026-05-01", "to": "2026-04-01"})
    assert "结束日期不能早于开始日期。" in response.content.decode()
    body = _board(client, user, **{"from": "昨天"}).content.decode()
    assert "请输入正确的日期" in body
    assert _total(_board(client, user)).activities.value == 2  # the default: this year so far


def test_services_by_kind_and_by_provider(care: Care, client: Client) -> None:
    board = _board(client, care.world.users["township_supervisor"]).context["board"]
    kinds = {row.label: (row.activities.value, row.children.value) for row in board.by_kind}
    assert kinds == {"课后辅导": (1, 2), "心理辅导": (0, 1), "安全教育": (1, 2)}
    providers = {row.label: (row.activities.value, row.children.value) for row in board.by_provider}
    assert providers == {"甲一村儿童之家": (1, 2)}


def test_attendance_taken_moves_the_reach_at_once(care: Care, client: Client) -> None:
    user = care.world.users["township_supervisor"]
    assert _total(_board(client, user)).reach_text == "50.0%"
    _attend(care.club, care.key_a2)
    total = _total(_board(client, user))
    assert (total.key_reached.value, total.reach_text) == (2, "100.0%")


def test_contract_delivery_against_plan(care: Care, client: Client) -> None:
    world = care.world
    provider = Provider.objects.get(unit=world.provider)
    purchaser = Unit.objects.get(name="合浦县民政局")
    contract = Contract.objects.create(
        provider=provider,
        purchaser=purchaser,
        county=world.county,
        title="廉州镇课后辅导购买服务",
        starts_on=dt.date(care.today.year, 1, 1),
        ends_on=dt.date(care.today.year, 12, 31),
        amount=Decimal("50000"),
    )
    contract.townships.add(world.township_a)
    ContractItem.objects.create(
        contract=contract, kind=ServiceKind.HOMEWORK_CLUB, planned_sessions=10, planned_children=20
    )
    elsewhere = Contract.objects.create(
        provider=provider,
        purchaser=purchaser,
        county=world.county,
        title="党江镇项目",
        starts_on=dt.date(care.today.year, 1, 1),
        ends_on=dt.date(care.today.year, 12, 31),
        amount=Decimal("1"),
    )
    elsewhere.townships.add(world.township_b)
    board = _board(client, world.users["township_supervisor"]).context["board"]
    assert [d.contract.title for d in board.contracts] == ["廉州镇课后辅导购买服务"]
    (row,) = board.contracts[0].rows
    # The club: one session, three children (b1 of 党江镇 too: the contract counts whole).
    assert (row.planned_sessions, row.delivered_sessions, row.delivered_children) == (10, 1, 3)
    assert (row.sessions_share, row.children_share) == ("10%", "15%")
    county = _board(client, world.users["county_admin"]).context["board"]
    assert len(county.contracts) == 2


def test_the_export_holds_the_pages_numbers(care: Care, client: Client) -> None:
    user = care.world.users["county_admin"]
    board = _board(client, user).context["board"]
    response = client.get(EXPORT)
    assert response.status_code == 200
    data = b"".join(response.streaming_content)
    rows = CalamineWorkbook.from_filelike(io.BytesIO(data)).get_sheet_by_index(0).to_python()
    assert str(rows[0][0]).startswith("导出人：")
    assert rows[1] == [
        "区划",
        "活动场次",
        "服务儿童数",
        "服务重点对象数",
        "重点对象总数",
        "重点对象覆盖率（%）",
        "志愿服务时长（小时）",
    ]
    shown = [
        [r.label, r.activities.value, r.children.value, r.key_reached.value, r.key_total.value]
        for r in [*board.rows, board.total]
    ]
    shown[-1][0] = "合浦县（合计）"
    assert [[row[0], *(int(n) for n in row[1:5])] for row in rows[2:]] == shown
    assert [float(row[6]) for row in rows[2:]] == [float(r.hours.value) for r in [*board.rows, board.total]]
    event = AuditEvent.objects.filter(action="export").get()
    assert event.object_type == "statistics" and event.detail["rows"] == len(rows) - 2


@pytest.mark.parametrize("url", [PAGE, CHILDREN, EXPORT])
@pytest.mark.parametrize(
    "persona",
    [
        "provider_staff",
        "school_staff",
        "police",
        "social_worker",
        "visiting_cadre",
        "reporter",
        "auditor",
        "no_role",
    ],
)
def test_it_refuses_other_roles(care: Care, client: Client, url: str, persona: str) -> None:
    client.force_login(care.world.users[persona])
    assert client.get(url).status_code == 403
    assert not AuditEvent.objects.filter(action="export").exists()


@pytest.mark.parametrize("url", [PAGE, CHILDREN, EXPORT])
@pytest.mark.parametrize(
    ("persona", "region"),
    [
        ("village_worker", "village_a2"),
        ("township_supervisor", "township_b"),
        ("township_supervisor", "village_b1"),
        ("county_admin", "village_other"),
    ],
)
def test_a_region_outside_the_scope_is_like_a_missing_one(
    care: Care, client: Client, url: str, persona: str, region: str
) -> None:
    client.force_login(care.world.users[persona])
    outside = client.get(url, {"region": str(getattr(care.world, region).pk)})
    missing = client.get(url, {"region": "6f0d5c1e-9b7a-4c1e-8d2f-000000000404"})
    assert outside.status_code == missing.status_code == 404
    assert len(outside.content) == len(missing.content)
    assert not AuditEvent.objects.filter(action="export").exists()


@pytest.mark.parametrize("url", [PAGE, CHILDREN, EXPORT])
def test_it_requires_login(care: Care, client: Client, url: str) -> None:
    response = client.get(url)
    assert response.status_code == 302 and response["Location"].startswith("/accounts/login/")


def test_the_list_is_a_logged_read_of_child_data(care: Care, client: Client) -> None:
    client.force_login(care.world.users["township_supervisor"])
    assert client.get(CHILDREN, {"key": "1"}).status_code == 200
    event = AuditEvent.objects.get(action="list")
    assert event.object_type == "child" and event.detail["count"] == 1 and event.detail["key"] == "1"
    assert "重点甲" not in str(event.detail)


def test_a_hand_made_filter_is_not_found(care: Care, client: Client) -> None:
    client.force_login(care.world.users["township_supervisor"])
    assert client.get(CHILDREN, {"kind": "nonsense"}).status_code == 404
    assert client.get(CHILDREN, {"provider": "not-a-uuid"}).status_code == 404


def test_the_list_is_paged(care: Care, client: Client) -> None:
    world = care.world
    admin = world.users["county_admin"]
    many = [make_child(world.village_a2, admin, name=f"辅导{n:02d}") for n in range(55)]
    _attend(care.safety, *many)
    client.force_login(world.users["township_supervisor"])
    first = client.get(CHILDREN, {"region": str(world.township_a.pk)})
    assert first.context["page"].paginator.count == 59 and len(first.context["rows"]) == 50
    second = client.get(CHILDREN, {"region": str(world.township_a.pk), "page": "2"})
    assert len(second.context["rows"]) == 9
    names = {c.name for c, _ in first.context["rows"]} | {c.name for c, _ in second.context["rows"]}
    assert len(names) == 59
    assert "page=2" in first.content.decode()


def test_the_dashboard_links_to_the_care_numbers(care: Care, client: Client) -> None:
    client.force_login(care.world.users["township_supervisor"])
    body = client.get("/stats/").content.decode()
    assert f'href="{PAGE}?region={care.world.township_a.pk}">关爱服务统计</a>' in body


def _queries(client: Client) -> int:
    with CaptureQueriesContext(connection) as queries:
        assert client.get(PAGE).status_code == 200
    return len(queries.captured_queries)


def test_the_page_costs_the_same_queries_for_more_rows(care: Care, client: Client) -> None:
    world = care.world
    client.force_login(world.users["township_supervisor"])
    client.get(PAGE)  # warm the session
    before = _queries(client)
    for n in range(5):
        more = village(world.township_a, f"{210 + n}", f"新村{n}")
        pupil = make_child(more, world.users["county_admin"], name=f"新童{n}")
        _attend(_activity(world, world.township_a, more, ServiceKind.SUMMER_CAMP, care.today), pupil)
    assert len(_board(client, world.users["township_supervisor"]).context["board"].rows) == 7
    assert _queries(client) == before <= 27
