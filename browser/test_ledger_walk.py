"""Issue 6 in a real browser: a township supervisor uploads a ledger with one bad ID number,
sees the error at its row and column, downloads the error spreadsheet, uploads the corrected
file, commits it (the progress bar and the result), and sees the township's count go up on
统计分析 after the scheduler's refresh tick."""

import datetime as dt
import re
from typing import Any

from playwright.sync_api import Locator, Page, expect
from python_calamine import CalamineWorkbook

from browser.test_village_director import SHOTS, log_in
from core import idnumber
from core.tests import hostile_files as files
from registry.models import Child
from stats.services import stats_refresh_tick
from testing.world import World

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
HEADERS = [
    "乡镇（街道）",
    "村（社区）",
    "姓名",
    "公民身份号码",
    "就学情况",
    "照料类型",
    "监护情况评估",
    "父亲姓名",
    "父亲当前状态",
    "父亲务工地点",
    "母亲姓名",
    "母亲当前状态",
]
NAMES = ("林小一", "林小二", "林小三")
BAD_ROW = 3  # spreadsheet row of the second child (the header is row 1)


def _id(number: int) -> str:
    return idnumber.make("450521", dt.date(2014, 3, number), 100 + number)


def _wrong_checksum(number: str) -> str:
    last = "0" if number[-1] != "0" else "1"
    return number[:-1] + last


def _ledger(*, bad: bool) -> bytes:
    rows = []
    for n, name in enumerate(NAMES, start=1):
        id_number = _wrong_checksum(_id(n)) if bad and n + 1 == BAD_ROW else _id(n)
        village = "甲一村委会" if n % 2 else "甲二村委会"
        rows.append(
            [
                *("廉州镇", village, name, id_number, "小学", "（外）祖父母照料", "较好"),
                *("林父", "外出务工", "广东省 深圳市", "王母", "在家"),
            ]
        )
    return files.xlsx([HEADERS, *rows])


def _children_tile(page: Page) -> Locator:
    return page.locator(".tiles .tile", has_text="在册儿童").locator(".num")


def _upload(page: Page, content: bytes, name: str) -> None:
    page.get_by_role("navigation").get_by_role("link", name="台账导入").click()
    expect(page.get_by_role("heading", name="台账导入")).to_be_visible()
    page.get_by_label("台账文件").set_input_files({"name": name, "mimeType": XLSX, "buffer": content})
    page.get_by_role("button", name="上传并识别表头").click()
    expect(page).to_have_url(re.compile(r"/imports/[0-9a-f-]{36}/$"))
    expect(page.locator("#batch-progress")).to_contain_text("已预览")


def test_a_ledger_uploaded_fixed_and_committed_shows_in_the_counts(
    live_server: Any, live_world: World, desktop: Page
) -> None:
    base, page = live_server.url, desktop
    scope = Child.objects.filter(township=live_world.township_a, status="active").count()
    stats_refresh_tick()
    log_in(page, base, "township_supervisor")
    page.get_by_role("navigation").get_by_role("link", name="统计分析").click()
    expect(_children_tile(page)).to_have_text(str(scope))

    # A file with one bad ID number: the preview names its row and column, and refuses it.
    _upload(page, _ledger(bad=True), "台账.xlsx")
    expect(page.get_by_role("alert")).to_contain_text("有 1 行错误，不能导入")
    expect(page.get_by_role("button", name=re.compile("确认导入"))).to_have_count(0)
    bad = page.locator(
        "table.ledger > tbody > tr", has=page.locator('td[data-label="行号"]', has_text=str(BAD_ROW))
    )
    expect(bad.locator('td[data-label="结果"]')).to_have_text("错误")
    expect(bad.locator('td[data-label="说明"]')).to_contain_text("公民身份号码：")
    expect(bad.locator('td[data-label="说明"]')).to_contain_text("校验")
    page.screenshot(path=str(SHOTS / "shouhu-import-errors.png"), full_page=True)

    # The error spreadsheet: the bad row as the file has it, with 行号 and 错误原因.
    with page.expect_download() as download_info:
        page.get_by_role("link", name="下载错误行（Excel）").click()
    download = download_info.value
    assert download.suggested_filename.endswith(".xlsx")
    sheet = CalamineWorkbook.from_path(str(download.path())).get_sheet_by_index(0).to_python()
    header = sheet[1]  # row 0 is the watermark: who exported it and when
    assert str(sheet[0][0]).startswith("导出人：") and "错误原因" in header and "行号" in header
    assert len(sheet) == 3
    (row,) = sheet[2:]
    assert row[header.index("姓名")] == NAMES[BAD_ROW - 2]
    assert row[header.index("行号")] in (BAD_ROW, float(BAD_ROW), str(BAD_ROW))
    assert "公民身份号码" in str(row[header.index("错误原因")])

    # The corrected file: a clean preview, then the commit.
    _upload(page, _ledger(bad=False), "台账-改正.xlsx")
    expect(page.get_by_role("alert")).to_have_count(0)
    commit = page.get_by_role("button", name="确认导入（3 份新建，0 份更新）")
    expect(commit).to_be_visible()
    commit.click()
    progress = page.locator("#batch-progress")
    expect(progress.locator("progress")).to_have_count(1)
    expect(progress).to_contain_text("已导入")
    expect(progress.locator("progress")).to_have_attribute("value", "3")
    expect(progress.locator("progress")).to_have_attribute("max", "3")
    expect(progress).to_contain_text("新建档案")
    expect(progress.locator("dd").first).to_have_text("3")
    page.screenshot(path=str(SHOTS / "shouhu-import-committed.png"), full_page=True)

    # The scheduler's tick refreshes the counts: the township has three more children.
    stats_refresh_tick()
    page.get_by_role("navigation").get_by_role("link", name="统计分析").click()
    expect(_children_tile(page)).to_have_text(str(scope + 3))
