"""Issue 4 in a real browser: a village director on a phone opens "我的工作", records a visit
that turns a child orange, sees the due date move, prints an agreement; the township
supervisor sees the village's coverage change."""

import datetime as dt
import re
from typing import Any

from django.utils import timezone
from playwright.sync_api import Locator, Page, expect

from browser.test_village_director import SHOTS, _assert_fits, log_in
from registry import choices as c
from registry.models import EntrustedGuardian
from testing.world import World

VILLAGE = "甲一村委会"


def _guardian(world: World) -> None:
    """An entrusted guardian who passes every item of the eligibility checklist (R6)."""
    EntrustedGuardian.objects.create(
        child=world.children["a1"],
        name="张奶奶",
        relation=c.GuardianRelation.GRANDMOTHER,
        check_adult_full_capacity=True,
        check_able_to_care=True,
        check_no_abuse=True,
        check_no_addiction=True,
        check_no_neglect=True,
        check_no_other_unsuitable=True,
        check_child_view=True,
        assessed_by="李主任",
        assessed_on=timezone.localdate(),
    )


def _recent_coverage(page: Page) -> Locator:
    row = page.locator("tbody tr", has_text=VILLAGE)
    return row.locator('td[data-label^="近"]')


def test_a_visit_turns_the_child_orange_and_the_township_sees_it(
    live_server: Any, live_world: World, phone: Page, browser: Any
) -> None:
    base, page = live_server.url, phone
    child = live_world.children["a1"]
    today = timezone.localdate()
    _guardian(live_world)

    # The township supervisor's overview before the visit: nobody visited in 甲一村.
    supervisor = browser.new_context(locale="zh-CN", viewport={"width": 1280, "height": 900})
    supervisor.set_default_timeout(10_000)
    overview = supervisor.new_page()
    log_in(overview, base, "township_supervisor")
    overview.goto(f"{base}/work/township/")
    expect(_recent_coverage(overview)).to_have_text("0%")

    # The village director's first page is 我的工作.
    log_in(page, base)
    expect(page.get_by_role("heading", name=re.compile("我的工作"))).to_be_visible()
    expect(page.locator(".tiles .tile").first).to_be_visible()
    _assert_fits(page, "我的工作")
    page.screenshot(path=str(SHOTS / "shouhu-phone-work.png"), full_page=True)

    # The file: green, never visited, due 90 days after the file was opened.
    page.goto(f"{base}/children/{child.id}/")
    care = page.locator("#care")
    expect(care.locator(".risk")).to_have_text("绿色")
    expect(care).to_contain_text((today + dt.timedelta(days=90)).isoformat())

    # A visit that finds poor guardianship: the file's rating changes with it.
    care.get_by_role("link", name="记录走访").click()
    expect(page).to_have_url(re.compile(rf"/children/{child.id}/visits/new/$"))
    _assert_fits(page, "visit form")
    page.get_by_label("儿童本人").check()
    page.get_by_label("（外）祖父母").check()
    page.get_by_label("调整监护情况评估为").select_option(label="差")
    page.get_by_role("button", name="保存走访记录").click()
    expect(page).to_have_url(re.compile(r"/visits/[0-9a-f-]{36}/$"))

    page.goto(f"{base}/children/{child.id}/")
    expect(care.locator(".risk")).to_have_text("橙色")
    expect(care).to_contain_text("监护情况差")
    expect(care).to_contain_text((today + dt.timedelta(days=14)).isoformat())  # orange: 14 days
    expect(care).not_to_contain_text((today + dt.timedelta(days=90)).isoformat())
    page.screenshot(path=str(SHOTS / "shouhu-phone-after-visit.png"), full_page=True)

    # An entrusted-guardianship agreement, printed on A4.
    page.get_by_role("link", name="生成委托监护协议").click()
    page.get_by_label("委托期限起").fill(today.isoformat())
    page.get_by_role("button", name="生成协议（待签）").click()
    page.get_by_role("link", name="打印（A4）").click()
    body = page.locator("body")
    expect(body).to_contain_text(child.name)
    expect(body).to_contain_text("张奶奶")
    expect(body).to_contain_text("委托监护")
    page.emulate_media(media="print")
    pdf = page.pdf(format="A4")
    assert pdf.startswith(b"%PDF-") and len(pdf) > 1_000

    # The supervisor's overview now counts the visit.
    overview.reload()
    expect(_recent_coverage(overview)).to_have_text("100%")
    supervisor.close()
