import datetime as dt

import pytest
from django.test import Client

from audit.models import AuditEvent
from registry.models import Child
from testing.world import World, make_child


def names(response) -> set[str]:
    return {child.name for child in response.context["page"].rows}


@pytest.mark.parametrize(
    ("term", "expected"),
    [
        ("zs", {"张三"}),
        ("ZS", {"张三"}),
        ("zhang", {"张三"}),
        ("zhangsan", {"张三"}),
        ("ls", {"李四"}),
        ("张", {"张三"}),
        ("13700000003", {"李四"}),  # a parent's phone
        ("138 0000 0001", {"张三"}),  # spaces typed into a phone number are ignored
        ("xyz", set()),
    ],
)
def test_it_searches_names_pinyin_and_phones(world: World, login, term: str, expected: set[str]) -> None:
    client: Client = login("township_supervisor")
    response = client.post("/children/", {"q": term})
    assert response.status_code == 200
    assert names(response) == expected


def test_it_searches_by_id_tail_and_full_id(world: World, login) -> None:
    client: Client = login("county_admin")
    child = world.children["b1"]
    assert names(client.post("/children/", {"q": child.id_number[-4:]})) >= {"王五"}
    assert names(client.post("/children/", {"q": child.id_number})) == {"王五"}


def test_it_never_finds_children_outside_scope(world: World, login) -> None:
    client: Client = login("village_worker")
    assert names(client.post("/children/", {"q": "ls"})) == set()  # 李四 lives in the sibling village
    assert names(client.post("/children/", {"q": world.children["a2"].id_number})) == set()
    assert names(client.get("/children/")) == {"张三"}


def test_it_keeps_search_terms_out_of_urls_and_logs(world: World, login) -> None:
    client: Client = login("township_supervisor")
    response = client.get("/children/?q=zs")  # a term in a URL is ignored
    assert names(response) == {"张三", "李四"}
    client.post("/children/", {"q": "13700000003"})
    entry = AuditEvent.objects.filter(action="search").get()
    assert entry.detail["kind"] == "phone" and entry.detail["count"] == 1
    assert "13700000003" not in str(entry.detail)
    assert "13700000003" not in response.content.decode()


@pytest.mark.parametrize(
    ("filters", "expected"),
    [
        ({"key": "1"}, {"重点甲"}),
        ({"care_type": "living_alone"}, {"重点甲"}),
        ({"rating": "poor"}, {"重点甲"}),
        ({"schooling": "kindergarten"}, {"幼儿乙"}),
        ({"age_band": "0-5"}, {"幼儿乙"}),
        ({"age_band": "14-15"}, {"大孩丙"}),
        ({"category": "left_behind", "age_band": "6-13"}, {"张三", "李四", "重点甲"}),
        ({"status": "exited"}, set()),
    ],
)
def test_it_filters(world: World, login, filters: dict[str, str], expected: set[str]) -> None:
    admin = world.users["county_admin"]
    today = dt.date.today()
    make_child(world.village_a1, admin, name="重点甲", care_type="living_alone", guardianship_rating="poor")
    make_child(
        world.village_a1,
        admin,
        name="幼儿乙",
        birth_date=today.replace(year=today.year - 4),
        schooling="kindergarten",
    )
    make_child(
        world.village_a2,
        admin,
        name="大孩丙",
        birth_date=today.replace(year=today.year - 15),
        schooling="junior",
    )
    client: Client = login("township_supervisor")
    assert names(client.get("/children/", filters)) == expected


def test_it_filters_by_township_and_village(world: World, login) -> None:
    client: Client = login("county_admin")
    assert names(client.get("/children/", {"township": str(world.township_b.id)})) == {"王五"}
    assert names(client.get("/children/", {"village": str(world.village_a2.id)})) == {"李四"}


def test_it_pages_by_keyset_without_counting(
    world: World, login, settings, django_assert_max_num_queries
) -> None:
    admin = world.users["county_admin"]
    for n in range(7):
        make_child(world.village_a1, admin, name=f"翻页{n}")
    client: Client = login("village_worker")
    from registry import selectors

    seen: list[str] = []
    after = ""
    monkey_size = 3
    original = selectors.keyset_page

    def small_page(children, *, after: str = "", before: str = "", size: int = 50):
        return original(children, after=after, before=before, size=monkey_size)

    selectors.keyset_page = small_page  # type: ignore[assignment]
    try:
        for _ in range(5):
            response = client.post("/children/", {"after": after} if after else {})
            page = response.context["page"]
            seen.extend(c.file_no for c in page.rows)
            if not page.next_cursor:
                break
            after = page.next_cursor
        back = client.post("/children/", {"before": after}).context["page"]
    finally:
        selectors.keyset_page = original  # type: ignore[assignment]
    expected = list(
        Child.objects.filter(village=world.village_a1).order_by("file_no").values_list("file_no", flat=True)
    )
    assert seen == expected  # every file once, in order
    assert [c.file_no for c in back.rows] == expected[2:5]  # the three before the last cursor
    with django_assert_max_num_queries(14):  # + audit chain head (and lock on PostgreSQL)
        client.get("/children/")


def test_it_renders_the_htmx_partial(world: World, login) -> None:
    client: Client = login("village_worker")
    response = client.post("/children/", {"q": "zs"}, HTTP_HX_REQUEST="true")
    body = response.content.decode()
    assert "张三" in body and "<html" not in body


def test_it_logs_views_and_lists(world: World, login) -> None:
    client: Client = login("village_worker")
    client.get("/children/")
    client.get(f"/children/{world.children['a1'].id}/")
    actions = list(AuditEvent.objects.order_by("id").values_list("action", "object_id"))
    assert actions == [("list", ""), ("view", str(world.children["a1"].id))]


def test_it_requires_login(world: World, client: Client) -> None:
    response = client.get("/children/")
    assert response.status_code == 302 and response["Location"].startswith("/accounts/login/")
