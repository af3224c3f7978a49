"""Issue 7 item 6 in a real browser: the township supervisor reads the reach of key children of
廉州镇 on 关爱服务统计; a children's-home volunteer, on a phone, opens the homework club
(课后辅导), ticks the children who came on the attendance checklist and saves; the supervisor
reloads and the reach has risen by the key children ticked."""

import re
from typing import Any

from django.utils import timezone
from playwright.sync_api import Locator, Page, expect

from activities.models import Activity, Participation
from browser.test_village_director import SHOTS, _assert_fits, log_in
from providers.choices import ServiceKind
from providers.models import Provider
from registry import choices as c
from registry.models import Child, UnitAssignment
from testing.world import PASSWORD, World, make_child

CLUB = "儿童之家课后辅导"


def _homework_club(world: World) -> tuple[list[Child], Child]:
    """The children's home's homework club today in 甲一村, with four expected children the
    home looks after: two key children, a1 and one more who will not come."""
    admin = world.users["county_admin"]
    key = [
        make_child(world.village_a1, admin, name=name, guardianship_rating=c.Rating.POOR)
        for name in ("陈小明", "陈小红")
    ]
    absent = make_child(world.village_a1, admin, name="黄小军")
    for child in [*key, absent]:
        UnitAssignment.objects.create(child=child, unit=world.provider, source=UnitAssignment.Source.ASSIGNED)
    Provider.objects.create(unit=world.provider, services=[ServiceKind.HOMEWORK_CLUB])
    club = Activity.objects.create(
        kind=ServiceKind.HOMEWORK_CLUB,
        title=CLUB,
        organiser=world.provider,
        provider=world.provider,
        county=world.county,
        township=world.township_a,
        village=world.village_a1,
        place="甲一村儿童之家",
        held_on=timezone.localdate(),
    )
    for child in [world.children["a1"], *key, absent]:
        Participation.objects.create(activity=club, child=child)
    return key, absent


def _total_row(page: Page) -> Locator:
    return page.locator("table.care-table tfoot tr")


def _key_reached(page: Page) -> Locator:
    return _total_row(page).locator('td[data-label="服务重点对象"]')


def _reach(page: Page) -> Locator:
    return _total_row(page).locator('td[data-label="重点对象覆盖率"]')


def _volunteer_logs_in(page: Page, base: str) -> None:
    """Provider staff sign in with a password (their role needs no second factor)."""
    page.goto(f"{base}/accounts/login/")
    page.get_by_label("用户名").fill("provider_staff")
    page.get_by_label("密码").fill(PASSWORD)
    page.get_by_role("button", name="登录").click()
    expect(page).not_to_have_url(re.compile(r"/accounts/login/"))


def test_a_volunteer_ticks_the_homework_club_and_the_reach_rises(
    live_server: Any, live_world: World, browser: Any
) -> None:
    base = live_server.url
    key, absent = _homework_club(live_world)
    key_total = Child.objects.filter(
        township=live_world.township_a, is_key=True, status=c.Status.ACTIVE
    ).count()
    assert key_total >= 2

    # The township supervisor reads 廉州镇's reach of key children: nobody reached yet.
    desk = browser.new_context(locale="zh-CN", viewport={"width": 1280, "height": 900})
    desk.set_default_timeout(10_000)
    board = desk.new_page()
    log_in(board, base, "township_supervisor")
    board.get_by_role("navigation").get_by_role("link", name="统计分析").click()
    board.get_by_role("link", name="关爱服务统计").click()
    expect(board.get_by_role("heading", name=re.compile("关爱服务统计"))).to_contain_text("廉州镇")
    expect(_key_reached(board)).to_have_text("0")
    expect(_total_row(board).locator('td[data-label="重点对象总数"]')).to_have_text(str(key_total))
    expect(_reach(board)).to_have_text("0.0%")

    # The volunteer of the children's home, on a phone: the club, the checklist, save.
    phone = browser.new_context(
        locale="zh-CN",
        viewport={"width": 375, "height": 740},
        device_scale_factor=2,
        is_mobile=True,
        has_touch=True,
    )
    phone.set_default_timeout(10_000)
    page = phone.new_page()
    _volunteer_logs_in(page, base)
    page.goto(f"{base}/activities/")
    page.get_by_role("link", name=CLUB).click()
    page.get_by_role("link", name="登记到场").click()
    expect(page.get_by_role("heading", name=re.compile("登记到场"))).to_be_visible()
    _assert_fits(page, "attendance checklist")
    for child in [*key, live_world.children["a1"]]:
        page.get_by_role("checkbox", name=re.compile(child.name)).check()
    expect(page.get_by_role("checkbox", name=re.compile(absent.name))).not_to_be_checked()
    page.screenshot(path=str(SHOTS / "shouhu-care-attendance.png"), full_page=True)
    page.get_by_role("button", name="保存到场情况").click()
    expect(page.get_by_text("已保存到场情况：到场 3 人，缺席 1 人。")).to_be_visible()
    _assert_fits(page, "activity after saving")

    # The supervisor reloads: the reach has risen by the two key children ticked.
    board.reload()
    expect(_key_reached(board)).to_have_text(str(len(key)))
    expect(_reach(board)).to_have_text(f"{len(key) * 100 / key_total:.1f}%")
    board.screenshot(path=str(SHOTS / "shouhu-care-numbers.png"), full_page=True)
    # The number opens the list behind it: the two key children, nobody else.
    _key_reached(board).get_by_role("link").click()
    expect(board.locator("strong.total")).to_have_text(str(len(key)))
    for child in key:
        expect(board.get_by_role("link", name=child.name)).to_be_visible()
    expect(board.get_by_role("link", name=absent.name)).to_have_count(0)
    phone.close()
    desk.close()
