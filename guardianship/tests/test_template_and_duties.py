"""The county's agreement template (county admin only, versioned) and the guardian duty list
acknowledgements, through HTTP."""

import datetime as dt
from typing import Any

import pytest

from audit.models import AuditEvent, EventType
from guardianship.models import AgreementTemplate, DutyAcknowledgement, GuardianshipAgreement
from registry.models import Child
from testing.world import World

from .helpers import guardian


def _child(world: World, key: str = "a1") -> Child:
    return Child.objects.get(pk=world.children[key].pk)


def _template_post(version: int, **overrides: str) -> dict[str, Any]:
    return {
        "version": version,
        "title": "合浦县农村留守儿童委托监护确认书",
        "body": "委托人：{父亲姓名}、{母亲姓名}\n受委托监护人：{受委托监护人姓名}\n儿童：{儿童姓名}",
        "duties": "一、照料儿童日常生活。\n二、每周协助儿童与父母联系。",
        **overrides,
    }


def test_the_county_admin_edits_the_template_as_a_new_version(world: World, login: Any) -> None:
    client = login("county_admin")
    page = client.get("/guardianship/template/")
    assert page.status_code == 200
    assert "农村留守儿童委托监护确认书" in page.content.decode()  # the default wording, made on first use
    template = AgreementTemplate.objects.get(county=world.county)
    assert template.version == 1

    response = client.post("/guardianship/template/", _template_post(1))
    assert response.status_code == 302
    template.refresh_from_db()
    assert (template.version, template.title) == (2, "合浦县农村留守儿童委托监护确认书")
    assert template.history.count() == 2
    assert AuditEvent.objects.filter(action=EventType.CONFIG, object_type="agreement_template").exists()


def test_new_agreements_use_the_new_wording_and_old_ones_keep_theirs(world: World, login: Any) -> None:
    child = _child(world)
    guardian(child)
    client = login("county_admin")
    client.post(f"/children/{child.pk}/agreements/new/", {"valid_from": "2028-03-01", "term_months": "12"})
    client.post("/guardianship/template/", _template_post(1))
    client.post(f"/children/{child.pk}/agreements/new/", {"valid_from": "2029-03-01", "term_months": "12"})
    old, new = GuardianshipAgreement.objects.order_by("valid_from")
    assert old.template_version == 1 and old.title == "农村留守儿童委托监护确认书"
    assert "《中华人民共和国未成年人保护法》" in old.text
    assert new.template_version == 2 and new.title == "合浦县农村留守儿童委托监护确认书"
    assert new.text == "委托人：张父、李母\n受委托监护人：王奶奶\n儿童：张三"


@pytest.mark.parametrize(
    ("overrides", "field", "message"),
    [
        ({"body": "儿童：{儿童姓名}，身份证：{身份证号}"}, "body", "未知的占位符：{身份证号}"),
        ({"duties": "{电话}"}, "duties", "未知的占位符：{电话}"),
        ({"title": ""}, "title", "该字段是必填项。"),
    ],
)
def test_it_puts_template_errors_on_the_field(
    overrides: dict[str, str], field: str, message: str, world: World, login: Any
) -> None:
    client = login("county_admin")
    client.get("/guardianship/template/")
    response = client.post("/guardianship/template/", _template_post(1, **overrides))
    assert response.status_code == 200
    assert any(message in error for error in response.context["form"].errors[field])
    assert AgreementTemplate.objects.get(county=world.county).version == 1


def test_it_refuses_an_edit_made_on_an_old_version(world: World, login: Any) -> None:
    client = login("county_admin")
    client.get("/guardianship/template/")
    client.post("/guardianship/template/", _template_post(1))
    response = client.post("/guardianship/template/", _template_post(1, title="过时的编辑"))
    assert response.status_code == 200
    assert "模板已被他人修改" in response.content.decode()
    assert AgreementTemplate.objects.get(county=world.county).title == "合浦县农村留守儿童委托监护确认书"


@pytest.mark.parametrize(
    "persona", ["township_supervisor", "village_worker", "county_officer", "system_admin"]
)
def test_only_the_county_admin_may_edit_the_template(persona: str, world: World, login: Any) -> None:
    client = login(persona)
    assert client.get("/guardianship/template/").status_code == 403
    assert client.post("/guardianship/template/", _template_post(1)).status_code == 403
    assert not AgreementTemplate.objects.filter(version__gt=1).exists()


# --- duty list acknowledgements ----------------------------------------------------------------------


def test_a_guardian_acknowledges_the_duty_list(world: World, login: Any) -> None:
    child = _child(world)
    person = guardian(child)
    client = login("village_worker")
    page = client.get(f"/children/{child.pk}/duties/ack/").content.decode()
    assert "受委托监护人：王奶奶" in page and "父亲：张父" in page and "每周至少协助儿童与父母通话" in page
    response = client.post(
        f"/children/{child.pk}/duties/ack/", {"role": "guardian", "acknowledged_on": "2028-02-20"}
    )
    assert response.status_code == 302 and response["Location"] == f"/children/{child.pk}/"
    ack = DutyAcknowledgement.objects.get(child=child)
    assert (ack.person_name, ack.guardian, ack.acknowledged_on) == ("王奶奶", person, dt.date(2028, 2, 20))
    assert (ack.template_version, ack.recorded_by) == (1, world.users["village_worker"])
    assert ack.history.count() == 1
    detail = client.get(f"/children/{child.pk}/").content.decode()
    assert "王奶奶（受委托监护人）于 2028-02-20 确认" in detail


@pytest.mark.parametrize(
    ("data", "field", "message"),
    [
        ({"role": "guardian", "acknowledged_on": "2028-02-26"}, "acknowledged_on", "确认日期不能晚于今天。"),
        ({"role": "guardian", "acknowledged_on": ""}, "acknowledged_on", "该字段是必填项。"),
        ({"role": "uncle", "acknowledged_on": "2028-02-20"}, "role", "选择一个有效的选项"),
    ],
)
def test_it_puts_acknowledgement_errors_on_the_field(
    data: dict[str, str], field: str, message: str, world: World, login: Any
) -> None:
    child = _child(world)
    guardian(child)
    response = login("village_worker").post(f"/children/{child.pk}/duties/ack/", data)
    assert response.status_code == 200
    assert any(message in error for error in response.context["form"].errors[field])
    assert not DutyAcknowledgement.objects.exists()


def test_a_child_without_a_guardian_offers_the_parents_only(world: World, login: Any) -> None:
    child = _child(world)
    client = login("village_worker")
    response = client.post(
        f"/children/{child.pk}/duties/ack/", {"role": "guardian", "acknowledged_on": "2028-02-20"}
    )
    assert response.status_code == 200
    assert "选择一个有效的选项" in response.content.decode()
    response = client.post(
        f"/children/{child.pk}/duties/ack/", {"role": "mother", "acknowledged_on": "2028-02-20"}
    )
    assert response.status_code == 302
    assert DutyAcknowledgement.objects.get().person_name == "李母"


@pytest.mark.parametrize("persona", ["police", "social_worker", "visiting_cadre", "county_officer"])
def test_read_only_and_out_of_scope_roles_cannot_record_acknowledgements(
    persona: str, world: World, login: Any
) -> None:
    child = _child(world)
    guardian(child)
    client = login(persona)
    assert client.get(f"/children/{child.pk}/duties/ack/").status_code == 404
    data = {"role": "guardian", "acknowledged_on": "2028-02-20"}
    assert client.post(f"/children/{child.pk}/duties/ack/", data).status_code == 404
    assert not DutyAcknowledgement.objects.exists()
