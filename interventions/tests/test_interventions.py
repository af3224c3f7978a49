"""Recording interventions through HTTP: who records which kind, the police unit, the warning
letter's domestic violence, dates, double submits, voiding, and the denied cases."""

from typing import Any

import pytest

from audit.models import AuditEvent, EventType
from interventions.models import Intervention
from interventions.tests.helpers import (
    father_guardian,
    grant_unit,
    intervention_post,
    make_report,
    police_unit,
)
from testing.world import World


def _url(guardian: Any) -> str:
    return f"/interventions/guardians/{guardian.pk}/interventions/new/"


def test_the_police_record_an_admonition_with_history_and_audit(world: World, login: Any) -> None:
    report = make_report(world, "a1")
    guardian = father_guardian(world, report)
    client = login("police")
    data = intervention_post(police_unit(world), kind="admonition", concerns=["begging", "unsupervised"])
    response = client.post(_url(guardian), data)
    assert response.status_code == 302
    assert response["Location"] == f"/interventions/reports/{report.pk}/"

    row = Intervention.objects.get(guardian=guardian)
    assert (row.kind, str(row.on), row.unit, row.by) == (
        "admonition",
        "2028-03-10",
        police_unit(world),
        world.users["police"],
    )
    assert row.report == report and row.concerns == ["begging", "unsupervised"]
    assert row.note == "在集市发现儿童乞讨，当面批评教育"
    assert row.history.get().history_user == world.users["police"]
    event = AuditEvent.objects.get(action=EventType.CREATE, object_type="report", object_id=str(report.pk))
    assert event.detail["change"] == "intervention_record" and event.detail["kind"] == "admonition"

    page = client.get(f"/interventions/reports/{report.pk}/").content.decode()
    assert (
        "2028-03-10 训诫（廉州派出所，police 记录）：组织、胁迫、诱骗儿童乞讨、放任不管、置于无人监管状态"
        in page
    )
    assert "训诫 1 次" in page


def test_a_named_supervisor_records_criticism_only(world: World, login: Any) -> None:
    guardian = father_guardian(world, make_report(world, "a1"))
    client = login("township_supervisor")
    form = client.get(_url(guardian)).content.decode()
    assert 'value="criticism"' in form and 'value="admonition"' not in form

    unit = grant_unit(world, "township_supervisor")
    response = client.post(_url(guardian), intervention_post(unit, kind="admonition"))
    assert response.status_code == 200
    assert "kind" in response.context["form"].errors
    assert not Intervention.objects.exists()

    assert client.post(_url(guardian), intervention_post(unit)).status_code == 302
    assert Intervention.objects.get().unit.name == "廉州镇人民政府"


def test_a_county_admin_records_a_police_measure_with_the_police_unit(world: World, login: Any) -> None:
    guardian = father_guardian(world, make_report(world, "a1"))
    client = login("county_admin")
    response = client.post(
        _url(guardian), intervention_post(grant_unit(world, "county_admin"), kind="penalty")
    )
    assert response.status_code == 200
    assert response.context["form"].errors["unit"] == ["治安管理处罚由公安机关作出，请选择作出的公安机关。"]
    assert not Intervention.objects.exists()

    assert (
        client.post(_url(guardian), intervention_post(police_unit(world), kind="penalty")).status_code == 302
    )
    assert Intervention.objects.get().kind == "penalty"


@pytest.mark.parametrize(
    ("overrides", "field", "message"),
    [
        (
            {"kind": "warning_letter", "concerns": ["begging"]},
            "concerns",
            "告诫书针对家庭暴力（反家庭暴力法第十六条），请选择“家庭暴力、虐待”。",
        ),
        ({"concerns": None}, "concerns", "请至少选择一项涉及情形。"),
        ({"on": "2028-03-16"}, "on", "日期不能晚于今天。"),
        ({"on": "2015-05-31"}, "on", "日期不能早于儿童出生日期。"),
        ({"kind": "arrest"}, "kind", "选择一个有效的选项"),
    ],
)
def test_it_refuses_wrong_interventions_at_the_field(
    world: World, login: Any, overrides: dict[str, Any], field: str, message: str
) -> None:
    guardian = father_guardian(world, make_report(world, "a1"))
    client = login("police")
    response = client.post(_url(guardian), intervention_post(police_unit(world), **overrides))
    assert response.status_code == 200
    assert any(error.startswith(message) for error in response.context["form"].errors[field])
    assert not Intervention.objects.exists()


def test_a_warning_letter_for_domestic_violence_is_recorded(world: World, login: Any) -> None:
    guardian = father_guardian(world, make_report(world, "a1"))
    data = intervention_post(police_unit(world), kind="warning_letter", concerns=["violence"])
    assert login("police").post(_url(guardian), data).status_code == 302
    assert Intervention.objects.get().get_kind_display() == "告诫书（家庭暴力）"


def test_a_unit_outside_the_offered_ones_is_refused(world: World, login: Any) -> None:
    guardian = father_guardian(world, make_report(world, "a1"))
    response = login("police").post(_url(guardian), intervention_post(world.school))
    assert response.status_code == 200 and "unit" in response.context["form"].errors
    assert not Intervention.objects.exists()


def test_a_double_submit_records_once(world: World, login: Any) -> None:
    guardian = father_guardian(world, make_report(world, "a1"))
    client = login("police")
    data = intervention_post(police_unit(world))
    assert client.post(_url(guardian), data).status_code == 302
    assert client.post(_url(guardian), data).status_code == 302
    assert Intervention.objects.count() == 1
    assert AuditEvent.objects.filter(action=EventType.CREATE, object_type="report").count() == 1


@pytest.mark.parametrize("persona", ["social_worker", "village_worker", "school_staff", "county_officer"])
def test_it_answers_404_to_whoever_may_not_record(world: World, login: Any, persona: str) -> None:
    guardian = father_guardian(world, make_report(world, "a1", social_worker=True))
    client = login(persona)
    assert client.get(_url(guardian)).status_code == 404
    response = client.post(_url(guardian), intervention_post(grant_unit(world, persona)))
    assert response.status_code == 404
    assert not Intervention.objects.exists()
    assert AuditEvent.objects.filter(action=EventType.DENIED, object_type="interventions.guardian").exists()


def test_the_police_of_another_unit_get_404(world: World, login: Any) -> None:
    guardian = father_guardian(world, make_report(world, "b1"))  # routed to the county bureau
    client = login("police")
    assert client.post(_url(guardian), intervention_post(police_unit(world))).status_code == 404
    assert not Intervention.objects.exists()


def test_a_void_keeps_the_row_and_stops_the_count(world: World, login: Any) -> None:
    report = make_report(world, "a1")
    guardian = father_guardian(world, report)
    client = login("police")
    client.post(_url(guardian), intervention_post(police_unit(world)))
    row = Intervention.objects.get()
    url = f"/interventions/entries/{row.pk}/void/"

    response = client.post(url, {"reason": ""})
    assert response.status_code == 200 and response.context["form"].errors["reason"] == ["请填写作废原因。"]

    assert client.post(url, {"reason": "记错了人"}).status_code == 302
    row.refresh_from_db()
    assert (
        row.voided_at is not None and row.voided_by == world.users["police"] and row.void_reason == "记错了人"
    )
    assert row.history.count() == 2
    page = client.get(f"/interventions/reports/{report.pk}/").content.decode()
    assert "已作废：记错了人" in page and "批评教育 1 次" not in page

    again = client.post(url, {"reason": "再作废一次"})
    assert again.status_code == 200
    assert again.context["form"].non_field_errors() == ["这条干预记录已经作废。"]
    row.refresh_from_db()
    assert row.void_reason == "记错了人"


def test_a_reader_who_may_not_record_cannot_void(world: World, login: Any) -> None:
    report = make_report(world, "a1", social_worker=True)
    guardian = father_guardian(world, report)
    login("police").post(_url(guardian), intervention_post(police_unit(world)))
    row = Intervention.objects.get()
    response = login("social_worker").post(f"/interventions/entries/{row.pk}/void/", {"reason": "试试"})
    assert response.status_code == 404
    row.refresh_from_db()
    assert row.voided_at is None
