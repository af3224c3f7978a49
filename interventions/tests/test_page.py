"""The report's intervention page: per guardian the records, the counts, the days of refused
duty and the prompt, which appears only when a ground is met and changes nothing; who may read
it, with an audit row for every read."""

import datetime as dt
from typing import Any

import pytest

from audit.models import AuditEvent, EventType
from geo.models import Unit
from interventions import models as m
from interventions.tests.helpers import father_guardian, intervention_post, make_report, police_unit
from reports.models import Report
from testing.world import World

PROMPT = "已符合申请撤销监护人资格的情形"


def _page(client: Any, report: Report) -> str:
    response = client.get(f"/interventions/reports/{report.pk}/")
    assert response.status_code == 200
    return str(response.content.decode())


def _criticise(client: Any, world: World, guardian: m.Guardian, on: str, **overrides: Any) -> None:
    url = f"/interventions/guardians/{guardian.pk}/interventions/new/"
    response = client.post(url, intervention_post(police_unit(world), on=on, **overrides))
    assert response.status_code == 302


def _snapshot() -> tuple[int, ...]:
    models = (m.Guardian, m.Intervention, m.DutyRefusal, m.GuardianConcern, m.Petition, m.PetitionStep)
    rows = tuple(model.objects.count() for model in models)
    history = tuple(model.history.count() for model in models[:-1])  # type: ignore[attr-defined]
    return rows + history + (Report.objects.filter(state="routed").count(),)


def test_it_shows_each_guardian_with_counts_and_no_prompt_when_nothing_is_met(
    world: World, login: Any
) -> None:
    report = make_report(world, "a1")
    guardian = father_guardian(world, report)
    client = login("police")
    _criticise(client, world, guardian, "2028-01-05")
    _criticise(client, world, guardian, "2028-02-05", kind="admonition")
    page = _page(client, report)
    assert "张父" in page and "张三" in page
    assert "批评教育 1 次；训诫 1 次" in page
    assert "因乞讨受批评教育、训诫</dt><dd>2 次" in page
    assert PROMPT not in page
    read = AuditEvent.objects.filter(action=EventType.VIEW, object_type="report", object_id=str(report.pk))
    assert read.count() == 1 and read.get().detail["section"] == "interventions"


def test_the_third_begging_admonition_brings_the_prompt_and_the_page_changes_nothing(
    world: World, login: Any
) -> None:
    report = make_report(world, "a1")
    guardian = father_guardian(world, report)
    client = login("police")
    _criticise(client, world, guardian, "2027-11-05")
    _criticise(client, world, guardian, "2028-01-05", kind="admonition")
    _criticise(client, world, guardian, "2028-02-05", concerns=["unsupervised"])  # not for begging
    assert PROMPT not in _page(client, report)

    _criticise(client, world, guardian, "2028-03-01")
    before = _snapshot()
    page = _page(client, report)
    assert (
        "已符合申请撤销监护人资格的情形：胁迫、诱骗、利用儿童乞讨，经三次以上批评教育拒不改正，"
        "严重影响儿童正常生活和学习（JH2014 第35条第（五）项），可考虑提起申请" in page
    )
    assert "系统不会自动作出任何决定" in page
    assert _snapshot() == before  # a prompt, not a decision: no row written, no state changed
    assert not m.Petition.objects.exists()


def test_a_voided_admonition_takes_the_prompt_away(world: World, login: Any) -> None:
    report = make_report(world, "a1")
    guardian = father_guardian(world, report)
    client = login("police")
    for day in ("2028-01-05", "2028-02-05", "2028-03-01"):
        _criticise(client, world, guardian, day)
    assert PROMPT in _page(client, report)
    wrong = m.Intervention.objects.order_by("on").first()
    client.post(f"/interventions/entries/{wrong.pk}/void/", {"reason": "重复录入"})  # type: ignore[union-attr]
    assert PROMPT not in _page(client, report)


@pytest.mark.parametrize(
    ("started_on", "prompt", "line"),
    [
        ("2027-09-15", True, "累计 183 天；最长连续一段 2027-09-15 至 2028-03-15，自 2027-09-15 起仍在持续"),
        ("2027-09-16", False, "自 2027-09-16 起仍在持续，将于 2028-03-16 连续满 6 个月"),
        ("2027-08-31", True, "最长连续一段 2027-08-31 至 2028-03-15"),
    ],
)
def test_six_calendar_months_of_refused_duty_bring_the_prompt(
    world: World, login: Any, started_on: str, prompt: bool, line: str
) -> None:
    report = make_report(world, "a1")
    guardian = father_guardian(world, report)
    client = login("county_admin")
    url = f"/interventions/guardians/{guardian.pk}/refusals/new/"
    assert client.post(url, {"started_on": started_on, "note": "外出后不再联系"}).status_code == 302
    page = _page(client, report)
    assert line in page
    assert (
        "拒不履行监护职责长达六个月以上，导致儿童流离失所或者生活无着（GF13；JH2014 第35条第（三）项）"
        in page
    ) is prompt


def test_counts_follow_the_guardian_across_the_reports_the_user_may_read(world: World, login: Any) -> None:
    first, second = make_report(world, "a1"), make_report(world, "a1")
    bureau_unit = Unit.objects.create(name="合浦县公安局", kind="police_bureau", region=world.county)
    bureau = make_report(world, "a1", routed_unit=bureau_unit)  # the police persona cannot read it
    client = login("county_admin")
    for report, day in ((first, "2028-01-05"), (second, "2028-02-05"), (bureau, "2028-03-01")):
        guardian = father_guardian(world, report)
        url = f"/interventions/guardians/{guardian.pk}/interventions/new/"
        post = intervention_post(report.routed_unit, on=day)
        assert client.post(url, post).status_code == 302

    admin_page = _page(client, first)
    assert PROMPT in admin_page  # three reports the county admin reads
    assert "其他报告中的干预记录" in admin_page and f"/interventions/reports/{bureau.pk}/" in admin_page

    police_page = _page(login("police"), first)
    assert PROMPT not in police_page  # two: the bureau's report is not theirs
    assert "批评教育 2 次" in police_page
    assert f"/interventions/reports/{bureau.pk}/" not in police_page


def test_a_guardian_named_in_free_text_counts_on_its_report_only(world: World, login: Any) -> None:
    client = login("county_admin")
    for day in ("2028-01-05", "2028-02-05", "2028-03-01"):
        report = make_report(world, "a1")
        guardian = m.Guardian.objects.create(
            report=report, name="某叔叔", relation="uncle_aunt", added_by=world.users["county_admin"]
        )
        _criticise(client, world, guardian, day)
    assert PROMPT not in _page(client, report)


@pytest.mark.parametrize("persona", ["county_admin", "police", "township_supervisor"])
def test_the_readers_of_the_report_read_the_page(world: World, login: Any, persona: str) -> None:
    report = make_report(world, "a2")
    father_guardian(world, report)
    assert "李父" in _page(login(persona), report)


@pytest.mark.parametrize(
    "persona", ["village_worker", "school_staff", "social_worker", "visiting_cadre", "auditor"]
)
def test_everyone_else_gets_404_like_a_missing_report(world: World, login: Any, persona: str) -> None:
    report = make_report(world, "a1")
    father_guardian(world, report)
    client = login(persona)
    response = client.get(f"/interventions/reports/{report.pk}/")
    missing = client.get("/interventions/reports/6f0d5c1e-9b7a-4c1e-8d2f-000000000404/")
    assert response.status_code == missing.status_code == 404
    assert len(response.content) == len(missing.content)  # the CSRF token differs, not the size
    assert "张三" not in response.content.decode()
    denied = AuditEvent.objects.filter(action=EventType.DENIED, object_type="interventions.report")
    assert denied.filter(object_id=str(report.pk)).count() == 1
    assert not AuditEvent.objects.filter(action=EventType.VIEW, object_type="report").exists()


def test_it_needs_a_login(world: World, client: Any) -> None:
    report = make_report(world, "a1")
    response = client.get(f"/interventions/reports/{report.pk}/")
    assert response.status_code == 302 and response["Location"].startswith("/accounts/login/")


def test_a_report_without_a_file_offers_a_named_guardian_only(world: World, login: Any) -> None:
    report = make_report(world, "a1", child=None, unknown_name="小明", unknown_sex="male", unknown_age=9)
    client = login("county_admin")
    form = client.get(f"/interventions/reports/{report.pk}/guardians/new/").content.decode()
    assert "小明（未建档）" in form and "张父" not in form and 'value="named"' in form
    response = client.post(
        f"/interventions/reports/{report.pk}/guardians/new/",
        {"person": "named", "name": "王某", "relation": "other_relative"},
    )
    assert response.status_code == 302
    guardian = m.Guardian.objects.get(report=report)
    assert (guardian.name, guardian.relation, guardian.on_file) == ("王某", "other_relative", False)
    assert "王某" in _page(client, report) and "档案中未登记" in _page(client, report)


def test_days_of_refusal_are_counted_to_today(world: World, login: Any, clock: Any) -> None:
    report = make_report(world, "a1")
    guardian = father_guardian(world, report)
    client = login("county_admin")
    client.post(f"/interventions/guardians/{guardian.pk}/refusals/new/", {"started_on": "2028-03-06"})
    assert "累计 10 天" in _page(client, report)
    clock.move_to(dt.datetime(2028, 3, 20, 10, 0, tzinfo=dt.timezone(dt.timedelta(hours=8))))
    assert "累计 15 天" in _page(login("county_admin"), report)  # signed in again after the idle timeout
