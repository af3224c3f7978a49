"""The child file page's 救助保护 section and the report page's way to the case (the lead's
wiring of reports, cases and interventions): confidential reports show only to their readers."""

from typing import Any

import pytest
from django.utils import timezone

from audit.models import AuditEvent, EventType
from cases.models import Case
from reports.tests.helpers import file, fresh
from testing.world import World


@pytest.mark.parametrize("persona", ["police", "county_admin", "township_supervisor"])
def test_the_readers_of_a_report_see_it_on_the_file(world: World, login: Any, persona: str) -> None:
    report = file(world)
    page = login(persona).get(f"/children/{world.children['a1'].pk}/").content.decode()
    assert f"/reports/{report.pk}/" in page and f"/interventions/reports/{report.pk}/" in page
    row = AuditEvent.objects.filter(
        action=EventType.VIEW, object_type="report", object_id=str(report.pk)
    ).last()
    assert row is not None and row.detail == {"page": "child_file", "child": str(world.children["a1"].pk)}
    assert "全过程时间线" in page and "强制报告" in page


@pytest.mark.parametrize("persona", ["village_worker", "school_staff", "social_worker"])
def test_those_who_may_not_read_it_do_not_learn_it_exists(world: World, login: Any, persona: str) -> None:
    """The village worker edits the file, the teacher filed the report, the social worker is
    assigned to the child: none is named on the report, so the file page says nothing of it."""
    report = file(world)
    page = login(persona).get(f"/children/{world.children['a1'].pk}/").content.decode()
    assert str(report.pk) not in page and "没有您可以查看的强制报告" in page
    assert "提交强制报告" in page  # every data role may file one


def test_the_file_page_offers_a_report_about_this_child(world: World, login: Any) -> None:
    child = world.children["a1"]
    client = login("school_staff")
    assert f"/reports/new/?child={child.pk}" in client.get(f"/children/{child.pk}/").content.decode()
    form = client.get(f"/reports/new/?child={child.pk}").content.decode()
    assert f'value="{child.pk}"' in form and "张三" in form


def test_a_named_supervisor_opens_the_case_from_the_report_page(world: World, login: Any) -> None:
    report = file(world)
    police = login("police")
    police.post(f"/reports/{report.pk}/acknowledge/")
    police.post(
        f"/reports/{report.pk}/attend/",
        {"attended_at": timezone.localtime(fresh(report).acknowledged_at).strftime("%Y-%m-%dT%H:%M")},
    )
    police.post(f"/reports/{report.pk}/notify-township/")
    assert fresh(report).state == "township_notified"

    supervisor = login("township_supervisor")
    page = supervisor.get(f"/reports/{report.pk}/").content.decode()
    assert f"/cases/reports/{report.pk}/open/" in page and "立案评估" in page
    assert supervisor.post(f"/cases/reports/{report.pk}/open/").status_code == 302
    case = Case.objects.get(report=report)
    assert f"/cases/{case.pk}/" in supervisor.get(f"/reports/{report.pk}/").content.decode()

    # The file page shows the whole chain as one timeline: the report, the response, the case.
    page = supervisor.get(f"/children/{world.children['a1'].pk}/").content.decode()
    chain = page.split("全过程时间线", 1)[1]
    for stage in ("强制报告", "应急处置", "评估帮扶"):
        assert stage in chain, stage
    assert "立案" in chain

    # The police read the report but do not manage the case: no button for them.
    assert "立案评估" not in login("police").get(f"/reports/{report.pk}/").content.decode()
