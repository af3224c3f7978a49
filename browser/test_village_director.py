"""A village director (儿童主任) at work, in a real browser: find a child, edit the file,
stay inside the village, and do it all on a phone."""

import re
import tempfile
from pathlib import Path
from typing import Any

from playwright.sync_api import Page, expect

from accounts.models import User
from accounts.tests.helpers import totp_code, totp_device
from registry.models import Child
from testing.world import PASSWORD, World, make_child

SHOTS = Path(tempfile.gettempdir())  # /tmp/shouhu-phone-*.png, to look at by eye
NEW_ADDRESS = "甲一村新屯 18 号"
OLD_ADDRESS = "合浦县某村 1 号"


def log_in(page: Page, base: str, username: str = "village_worker") -> None:
    # 儿童主任 may reveal ID numbers, so the login asks for the authenticator's code (AU-4).
    device = totp_device(User.objects.get(username=username))
    page.goto(f"{base}/accounts/login/")
    page.get_by_label("用户名").fill(username)
    page.get_by_label("密码").fill(PASSWORD)
    page.get_by_role("button", name="登录").click()
    page.get_by_label("动态验证码").fill(totp_code(device))
    page.get_by_role("button", name="验证").click()
    expect(page.get_by_role("heading", name="我的范围")).to_be_visible()


def search_ledger(page: Page, base: str, term: str) -> None:
    """Search from the ledger: htmx posts and swaps #results (without JS the form posts)."""
    page.goto(f"{base}/children/")
    page.locator("#id_q").fill(term)
    with page.expect_response(lambda r: r.url == f"{base}/children/" and r.request.method == "POST"):
        page.get_by_role("button", name="搜索", exact=True).click()
    page.wait_for_load_state()


def neighbour(world: World) -> Child:
    """A second child in the same village, so that the search has something to leave out."""
    return make_child(world.village_a1, world.users["county_admin"], name="黄小红")


def find_and_open(page: Page, base: str, child: Child) -> None:
    search_ledger(page, base, "zs")
    results = page.locator("#results")
    expect(results.get_by_role("link", name="张三")).to_be_visible()
    expect(results).not_to_contain_text("黄小红")  # same village, not a match for "zs"
    expect(results).not_to_contain_text("李四")  # a2 is in the next village
    results.get_by_role("link", name="张三").click()
    expect(page).to_have_url(re.compile(rf"/children/{child.id}/$"))
    expect(page.get_by_role("heading", level=1)).to_contain_text("张三")


def change_address(page: Page, child: Child) -> None:
    page.get_by_role("link", name="编辑档案").click()
    expect(page).to_have_url(re.compile(rf"/children/{child.id}/edit/$"))
    address = page.locator("#id_current_address")
    expect(address).to_have_value(OLD_ADDRESS)
    address.fill(NEW_ADDRESS)
    expect(page.locator("#id_guardian-present")).not_to_be_checked()  # a1 has no guardian
    page.get_by_role("button", name="保存").click()


def assert_saved(page: Page, child: Child) -> None:
    expect(page).to_have_url(re.compile(rf"/children/{child.id}/$"))
    expect(page.locator(".messages")).to_contain_text("档案已保存。")
    change = page.locator(".timeline .changes li", has_text="现居住地")
    expect(change).to_have_count(1)
    expect(change.locator("del")).to_have_text(OLD_ADDRESS)
    expect(change.locator("ins")).to_have_text(NEW_ADDRESS)
    child.refresh_from_db()
    assert child.current_address == NEW_ADDRESS and child.version == 2


def test_it_finds_a_child_by_initials_and_opens_the_file(
    live_server: Any, live_world: World, desktop: Page
) -> None:
    neighbour(live_world)
    log_in(desktop, live_server.url)
    find_and_open(desktop, live_server.url, live_world.children["a1"])


def test_it_finds_edits_and_shows_the_change(live_server: Any, live_world: World, desktop: Page) -> None:
    page, base = desktop, live_server.url
    child = live_world.children["a1"]
    neighbour(live_world)
    log_in(page, base)
    find_and_open(page, base, child)
    change_address(page, child)
    assert_saved(page, child)


def test_it_shows_not_found_for_another_village(live_server: Any, live_world: World, desktop: Page) -> None:
    page, base = desktop, live_server.url
    other = live_world.children["a2"]
    log_in(page, base)
    response = page.goto(f"{base}/children/{other.id}/")
    assert response is not None and response.status == 404
    expect(page.get_by_role("heading", name="未找到")).to_be_visible()
    expect(page.locator("body")).not_to_contain_text(other.name)
    response = page.goto(f"{base}/children/{other.id}/edit/")
    assert response is not None and response.status == 404


def _assert_fits(page: Page, where: str) -> None:
    widths = page.evaluate("[document.documentElement.scrollWidth, window.innerWidth]")
    assert widths[0] <= widths[1] + 1, (
        f"{where}: horizontal scroll, scrollWidth {widths[0]} > innerWidth {widths[1]}"
    )


def _in_view(page: Page, locator: Any, where: str) -> None:
    expect(locator).to_be_visible()
    box = locator.bounding_box()
    width = page.evaluate("window.innerWidth")
    assert box is not None and box["x"] >= 0 and box["x"] + box["width"] <= width + 1, (
        f"{where}: {box} outside {width}px"
    )
    assert box["height"] >= 40, f"{where}: touch target only {box['height']:.0f}px high"


def test_it_works_on_a_phone(live_server: Any, live_world: World, phone: Page) -> None:
    page, base = phone, live_server.url
    child = live_world.children["a1"]

    page.goto(f"{base}/accounts/login/")
    _assert_fits(page, "login")
    _in_view(page, page.get_by_role("button", name="登录"), "login button")
    page.screenshot(path=str(SHOTS / "shouhu-phone-1-login.png"), full_page=True)
    log_in(page, base)
    _assert_fits(page, "home")

    neighbour(live_world)
    search_ledger(page, base, "zs")
    link = page.locator("#results").get_by_role("link", name="张三")
    expect(link).to_be_visible()
    expect(page.locator("#results")).not_to_contain_text("黄小红")
    _assert_fits(page, "ledger")
    _in_view(page, page.get_by_role("button", name="搜索", exact=True), "search button")
    _in_view(page, page.locator("#id_q"), "search box")
    page.screenshot(path=str(SHOTS / "shouhu-phone-2-ledger.png"), full_page=True)

    link.tap()
    expect(page).to_have_url(re.compile(rf"/children/{child.id}/$"))
    _assert_fits(page, "file")
    _in_view(page, page.get_by_role("link", name="编辑档案"), "edit button")
    page.screenshot(path=str(SHOTS / "shouhu-phone-3-file.png"), full_page=True)

    page.get_by_role("link", name="编辑档案").tap()
    expect(page).to_have_url(re.compile(rf"/children/{child.id}/edit/$"))
    page.wait_for_load_state()
    _assert_fits(page, "edit form")
    _in_view(page, page.get_by_role("button", name="保存"), "save button")
    page.screenshot(path=str(SHOTS / "shouhu-phone-4-edit.png"), full_page=False)
    assert Child.objects.filter(pk=child.pk, version=1).exists()  # looked, changed nothing
