"""Issue 5 in a real browser, across four personas: a teacher reports a child living alone →
the police station acknowledges and records temporary care with a relative → the township opens
the case, assesses and assigns psychological counselling to a social-work organisation, which
accepts → the case closes with another supervisor's approval. The teacher sees only the status."""

import datetime as dt
import re
from typing import Any

from django.utils import timezone
from playwright.sync_api import Browser, Page, expect

from accounts.models import User
from accounts.selectors import mfa_required
from accounts.tests.helpers import totp_code, totp_device
from cases.models import Case
from geo.models import Unit, UnitKind
from reports.models import Report
from testing.world import PASSWORD, World

POLICE_NOTE = "已联系其父亲，当晚送至姑姑家临时照料"


def _sign_in(browser: Browser, base: str, username: str, *, phone: bool = False) -> Page:
    width, height = (390, 844) if phone else (1280, 900)
    context = browser.new_context(locale="zh-CN", viewport={"width": width, "height": height})
    context.set_default_timeout(10_000)
    page = context.new_page()
    user = User.objects.get(username=username)
    device = totp_device(user) if mfa_required(user) else None  # AU-4: roles that read reports
    page.goto(f"{base}/accounts/login/")
    page.get_by_label("用户名").fill(username)
    page.get_by_label("密码").fill(PASSWORD)
    page.get_by_role("button", name="登录").click()
    if device is not None:
        page.get_by_label("动态验证码").fill(totp_code(device))
        page.get_by_role("button", name="验证").click()
    expect(page.get_by_role("link", name="账号安全")).to_be_visible()
    return page


def _radio(page: Page, legend: str, choice: str) -> None:
    page.locator("fieldset", has=page.locator("legend", has_text=legend)).get_by_label(choice).check()


def test_a_report_runs_from_the_teacher_to_a_closed_case(
    live_server: Any, live_world: World, browser: Browser
) -> None:
    base, child = live_server.url, live_world.children["a1"]

    # 1. The teacher, on a phone, files the report from the child's name.
    teacher = _sign_in(browser, base, "school_staff", phone=True)
    teacher.goto(f"{base}/reports/new/")
    expect(teacher.get_by_text("本系统不能代替报警")).to_be_visible()
    teacher.get_by_label("查找儿童档案").fill(child.name)
    teacher.get_by_role("button", name="搜索").click()
    teacher.locator(f'input[name="child"][value="{child.pk}"]').check()
    teacher.get_by_label(re.compile("儿童单独居住生活")).check()
    teacher.get_by_label("发现地点").fill("甲一村委会旁的老屋")
    teacher.get_by_label("情况描述").fill("孩子连续三天独自在家，未到校")
    teacher.get_by_role("button", name="提交报告").click()
    expect(teacher).to_have_url(re.compile(r"/reports/[0-9a-f-]{36}/status/$"))
    expect(teacher.locator("body")).to_contain_text("廉州派出所")
    report = Report.objects.get(child=child)
    status_url = teacher.url

    # 2. The police station acknowledges, attends, places the child with a relative, tells the township.
    police = _sign_in(browser, base, "police")
    police.goto(f"{base}/reports/")
    police.locator("tbody tr", has_text=child.name).get_by_role("link").first.click()
    police.get_by_role("button", name="受理").click()
    police.get_by_role("button", name="登记出警到场").click()
    police.get_by_text("登记临时安置").click()
    police.get_by_label("安置类型").select_option(label="近亲属")
    police.get_by_label("安置地点或照料人").fill(POLICE_NOTE)
    police.get_by_role("button", name="保存安置").click()
    expect(police.locator("body")).to_contain_text(POLICE_NOTE)
    police.get_by_role("button", name="通报乡镇").click()
    expect(police.locator("body")).to_contain_text("已通报乡镇")

    # 3. The township supervisor opens the case, assesses, and refers counselling to 社工站.
    township = _sign_in(browser, base, "township_supervisor")
    township.goto(f"{base}/reports/{report.pk}/")
    township.get_by_role("link", name="立案评估").click()
    township.get_by_role("button", name="立案，开始评估").click()
    expect(township).to_have_url(re.compile(r"/cases/[0-9a-f-]{36}/$"))
    case_id = Case.objects.get(report=report).pk
    township.get_by_role("link", name="录入评估").click()
    township.get_by_label("乡镇人民政府").check()
    township.get_by_label("公安").check()
    ratings = (("人身安全", "有隐患"), ("监护情况", "严重"), ("身体健康", "良好"), ("心理健康", "有隐患"))
    for legend, choice in ratings:
        _radio(township, legend, choice)
    _radio(township, "综合风险等级", "高")
    for legend in ("低保", "特困供养", "临时救助"):
        _radio(township, legend, "不符合")
    township.get_by_role("button", name="保存评估").click()
    expect(township).to_have_url(re.compile(rf"/cases/{case_id}/$"))
    township.get_by_role("link", name="增加帮扶措施").click()
    township.get_by_label("帮扶措施").select_option(label="心理疏导")
    social = Unit.objects.get(kind=UnitKind.SOCIAL_WORK, name="合浦县社工站")
    township.get_by_label("责任单位").select_option(label=f"{social.name}（{social.get_kind_display()}）")
    township.get_by_label("完成期限").fill((timezone.localdate() + dt.timedelta(days=30)).isoformat())
    township.get_by_label("具体内容和要求").fill("每周一次心理疏导，持续一个月")
    township.get_by_role("button", name="保存").click()
    expect(township).to_have_url(re.compile(rf"/cases/{case_id}/$"))
    expect(township.locator("table", has_text="心理疏导")).to_contain_text("合浦县社工站")

    # 4. The social worker accepts the referral and, later, records it done.
    worker = _sign_in(browser, base, "social_worker")
    worker.goto(f"{base}/cases/referrals/")
    worker.locator("tbody tr", has_text="心理疏导").get_by_role("link", name=child.name).click()
    worker.get_by_label("承接", exact=True).check()
    worker.get_by_role("button", name="提交答复").click()
    worker.get_by_label("已完成").check()
    worker.get_by_role("button", name="保存").click()

    # 5. The supervisor asks to close; the county admin approves.
    case = Case.objects.get(report=report)
    township.goto(f"{base}/cases/{case.pk}/")
    township.get_by_role("link", name="申请结案").click()
    township.locator("form textarea").first.fill("儿童已由姑姑照料，心理疏导完成，风险解除")
    township.get_by_role("button", name="提交结案申请").click()
    admin = _sign_in(browser, base, "county_admin")
    admin.goto(f"{base}/cases/{case.pk}/")
    admin.get_by_role("link", name="批准结案").click()
    admin.get_by_role("button", name="批准结案").click()
    expect(admin.locator("body")).to_contain_text("已结案")
    case.refresh_from_db()
    assert case.state == "closed" and case.closed_by == live_world.users["county_admin"]

    # 6. The teacher sees the status, never the police file; the detail answers 404.
    teacher.goto(status_url)
    body = teacher.locator("body")
    expect(body).to_contain_text("已通报乡镇")
    expect(body).not_to_contain_text(POLICE_NOTE)
    response = teacher.goto(f"{base}/reports/{report.pk}/")
    assert response is not None and response.status == 404
