"""Entrusted-guardianship agreements through HTTP: generating (and refusing for an ineligible
guardian), reading, printing, the PDF's Chinese text, signing, the signed scan, scope."""

import datetime as dt
import io
import uuid
from typing import Any

import pytest
from django.contrib.messages import get_messages
from django.test import Client
from PIL import Image

from audit.models import AuditEvent, EventType
from guardianship.models import AgreementStatus, GuardianshipAgreement
from registry.models import Child
from testing.world import World

from .helpers import guardian, pdf_text


def _child(world: World, key: str = "a1") -> Child:
    return Child.objects.get(pk=world.children[key].pk)


def _generate(client: Client, child: Child, **data: Any) -> Any:
    payload = {"valid_from": "2028-03-01", "term_months": "12", "valid_until": "", **data}
    return client.post(f"/children/{child.pk}/agreements/new/", payload)


def _agreement(world: World, login: Any, key: str = "a1") -> GuardianshipAgreement:
    child = _child(world, key)
    guardian(child)
    response = _generate(login("county_admin"), child)
    assert response.status_code == 302, response.content.decode()[:500]
    return GuardianshipAgreement.objects.get(child=child)


def _png() -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (60, 80), (250, 250, 250)).save(buffer, "PNG")
    return buffer.getvalue()


# --- generating ----------------------------------------------------------------------------------


def test_it_refuses_to_generate_for_an_ineligible_guardian(world: World, login: Any) -> None:
    child = _child(world)
    guardian(child, eligible=False)
    client = login("village_worker")
    page = client.get(f"/children/{child.pk}/agreements/new/").content.decode()
    assert "资格评估未全部确认（未确认：无吸毒、酗酒、赌博等恶习）" in page
    assert "生成协议（待签）" not in page  # no form to submit

    response = _generate(client, child)
    assert response.status_code == 200
    assert "不能生成协议" in response.content.decode()
    assert not GuardianshipAgreement.objects.filter(child=child).exists()


def test_it_refuses_to_generate_without_a_guardian(world: World, login: Any) -> None:
    child = _child(world)
    response = _generate(login("village_worker"), child)
    assert response.status_code == 200
    assert "该儿童未登记受委托监护人" in response.content.decode()
    assert not GuardianshipAgreement.objects.exists()


def test_it_generates_a_draft_with_the_file_frozen_into_it(world: World, login: Any) -> None:
    child = _child(world)
    person = guardian(child)
    client = login("village_worker")
    response = _generate(client, child)
    agreement = GuardianshipAgreement.objects.get(child=child)
    assert response.status_code == 302 and response["Location"] == f"/agreements/{agreement.pk}/"
    assert agreement.status == AgreementStatus.DRAFT
    assert (agreement.valid_from, agreement.valid_until) == (dt.date(2028, 3, 1), dt.date(2029, 2, 28))
    assert (agreement.guardian, agreement.guardian_name, agreement.guardian_relation) == (
        person,
        "王奶奶",
        "祖母",
    )
    assert (agreement.child_name, agreement.father_name, agreement.mother_name) == ("张三", "张父", "李母")
    for expected in ("委托人（父亲）：张父", "被委托监护儿童：张三", "王奶奶（与儿童关系：祖母）"):
        assert expected in agreement.text
    assert "自2028年3月1日起至2029年2月28日止" in agreement.text
    assert "甲一村委会" in agreement.text and "廉州镇中心小学" in agreement.text
    assert "每周至少协助儿童与父母通话或视频一次" in agreement.duties
    assert agreement.history.count() == 1
    assert AuditEvent.objects.filter(action=EventType.CREATE, object_id=str(child.pk)).exists()

    # Frozen: later changes to the file do not rewrite what was printed.
    person.name = "李爷爷"
    person.save()
    agreement.refresh_from_db()
    assert "王奶奶" in agreement.text and "李爷爷" not in agreement.text


@pytest.mark.parametrize(
    ("data", "field", "message"),
    [
        ({"term_months": "0"}, "valid_until", "请填写委托期限止，或选择委托期限。"),
        ({"term_months": "0", "valid_until": "2028-02-01"}, "valid_until", "委托期限止不能早于委托期限起。"),
        ({"term_months": "0", "valid_until": "2031-03-01"}, "valid_until", "委托期限不能超过 3 年"),
        (
            {"valid_from": "2031-01-01", "term_months": "36"},
            "valid_until",
            "委托期限不能超过儿童年满 18 周岁之日。",
        ),
        ({"valid_from": ""}, "valid_from", "该字段是必填项。"),
    ],
)
def test_it_puts_period_errors_on_the_field(
    data: dict[str, str], field: str, message: str, world: World, login: Any
) -> None:
    child = _child(world)
    guardian(child)
    response = _generate(login("village_worker"), child, **data)
    assert response.status_code == 200
    errors = response.context["form"].errors
    assert any(message in error for error in errors[field]), errors
    assert not GuardianshipAgreement.objects.exists()


def test_a_custom_end_date_is_kept(world: World, login: Any) -> None:
    child = _child(world)
    guardian(child)
    response = _generate(login("village_worker"), child, term_months="0", valid_until="2028-08-31")
    assert response.status_code == 302
    assert GuardianshipAgreement.objects.get(child=child).valid_until == dt.date(2028, 8, 31)


# --- reading ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("persona", ["township_supervisor", "police", "school_staff", "social_worker"])
def test_readers_in_scope_see_the_agreement_and_the_read_is_logged(
    persona: str, world: World, login: Any
) -> None:
    agreement = _agreement(world, login)
    response = login(persona).get(f"/agreements/{agreement.pk}/")
    assert response.status_code == 200
    page = response.content.decode()
    assert "张三" in page and "王奶奶" in page and "自2028年3月1日起" in page
    assert ("确认已签订" in page) == (persona == "township_supervisor")  # the sign form: writers only
    event = AuditEvent.objects.filter(action=EventType.VIEW, object_id=str(agreement.child_id)).latest("id")
    assert event.detail["section"] == "agreement" and event.username == persona


@pytest.mark.parametrize("persona", ["village_worker", "visiting_cadre", "no_role", "auditor"])
def test_an_agreement_out_of_scope_answers_like_a_missing_one(persona: str, world: World, login: Any) -> None:
    agreement = _agreement(world, login, key="b1")
    client = login(persona)
    for suffix in ("", "print/", "pdf/", "scan/"):
        response = client.get(f"/agreements/{agreement.pk}/{suffix}")
        missing = client.get(f"/agreements/{uuid.uuid4()}/{suffix}")
        assert response.status_code == missing.status_code == 404, suffix
        assert "王五" not in response.content.decode()


def test_the_print_view_is_a_clean_a4_page(world: World, login: Any) -> None:
    agreement = _agreement(world, login)
    response = login("village_worker").get(f"/agreements/{agreement.pk}/print/")
    page = response.content.decode()
    assert response.status_code == 200
    assert "guardianship/print.css" in page and 'class="topbar"' not in page  # no site navigation
    for text in (
        "农村留守儿童委托监护确认书",
        "委托人（父亲）签字",
        "受委托监护人签字",
        "村（居）民委员会见证（盖章）",
    ):
        assert text in page
    assert "附：监护人责任清单" in page and "张三" in page
    assert AuditEvent.objects.filter(action=EventType.PRINT, object_id=str(agreement.child_id)).exists()


def test_the_print_stylesheet_sets_a4_and_hides_the_buttons() -> None:
    from pathlib import Path

    from django.contrib.staticfiles import finders

    css = Path(str(finders.find("guardianship/print.css"))).read_text(encoding="utf-8")
    assert "@page { size: A4" in css
    assert "@media print" in css and ".screen-only { display: none; }" in css


def test_the_pdf_carries_the_chinese_text(world: World, login: Any) -> None:
    agreement = _agreement(world, login)
    response = login("village_worker").get(f"/agreements/{agreement.pk}/pdf/")
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert response["Content-Disposition"] == f'attachment; filename="agreement-{agreement.pk}.pdf"'
    assert response["Cache-Control"] == "no-store"
    text = pdf_text(response.content)
    for expected in (
        "农村留守儿童委托监护确认书",
        "被委托监护儿童：张三",
        "委托人（父亲）：张父",
        "王奶奶（与儿童关系：祖母）",
        "自2028年3月1日起至2029年2月28日止",
        "委托人（父亲）签字",
        "村（居）民委员会见证（盖章）",
        "附：监护人责任清单",
        "每周至少协助儿童与父母通话或视频一次",
        "第1页，共",
    ):
        assert expected in text, expected
    event = AuditEvent.objects.filter(action=EventType.EXPORT, object_id=str(agreement.child_id)).get()
    assert event.detail["format"] == "pdf"


def test_the_page_names_characters_the_pdf_cannot_draw(world: World, login: Any) -> None:
    agreement = _agreement(world, login)
    client = login("village_worker")
    assert "PDF 字体不含的生僻字" not in client.get(f"/agreements/{agreement.pk}/").content.decode()

    # A rare name character outside the font's GB 2312 subset (䶮, U+4DAE).
    text = agreement.text.replace("王奶奶", "王䶮奶奶")
    GuardianshipAgreement.objects.filter(pk=agreement.pk).update(text=text)
    page = client.get(f"/agreements/{agreement.pk}/").content.decode()
    assert "协议中的“䶮”是 PDF 字体不含的生僻字" in page and "打印（A4）" in page


# --- signing -----------------------------------------------------------------------------------------


def test_signing_makes_it_the_childs_agreement_in_force(world: World, login: Any) -> None:
    agreement = _agreement(world, login)
    client = login("village_worker")
    file_page = client.get(f"/children/{agreement.child_id}/").content.decode()
    assert "台账缺项：须签订委托监护协议，尚无有效协议。" in file_page and "待签" in file_page
    response = client.post(f"/agreements/{agreement.pk}/sign/", {"signed_on": "2028-02-25"})
    assert response.status_code == 302
    agreement.refresh_from_db()
    assert (agreement.status, agreement.signed_on) == (AgreementStatus.SIGNED, dt.date(2028, 2, 25))
    child = _child(world)
    assert child.agreement_required and child.agreement_valid_until == dt.date(2029, 2, 28)
    assert [h.status for h in agreement.history.order_by("history_date")] == ["draft", "signed"]
    assert AuditEvent.objects.filter(action=EventType.UPDATE, object_id=str(child.pk)).exists()
    file_page = client.get(f"/children/{child.pk}/").content.decode()
    assert "协议有效至 2029-02-28" in file_page and "台账缺项" not in file_page

    again = client.post(f"/agreements/{agreement.pk}/sign/", {"signed_on": "2028-02-25"}, follow=True)
    assert "该协议已签订，不能重复签订。" in [str(m) for m in get_messages(again.wsgi_request)]


def test_a_new_signed_agreement_supersedes_the_old_one(world: World, login: Any) -> None:
    first = _agreement(world, login)
    client = login("county_admin")
    client.post(f"/agreements/{first.pk}/sign/", {"signed_on": "2028-02-25"})
    _generate(client, _child(world), valid_from="2029-03-01")
    second = GuardianshipAgreement.objects.exclude(pk=first.pk).get()
    client.post(f"/agreements/{second.pk}/sign/", {"signed_on": "2028-02-25"})
    first.refresh_from_db()
    second.refresh_from_db()
    assert (first.status, second.status) == (AgreementStatus.SUPERSEDED, AgreementStatus.SIGNED)
    assert first.history.latest().history_change_reason == "被新签订的协议替换"
    assert _child(world).agreement_valid_until == dt.date(2030, 2, 28)


@pytest.mark.parametrize(
    ("signed_on", "message"),
    [
        ("2028-02-26", "签订日期不能晚于今天。"),
        ("2028-02-24", "签订日期不能早于协议生成日期。"),
        ("", "签订日期"),
    ],
)
def test_it_refuses_a_wrong_signing_date(signed_on: str, message: str, world: World, login: Any) -> None:
    agreement = _agreement(world, login)
    response = login("village_worker").post(
        f"/agreements/{agreement.pk}/sign/", {"signed_on": signed_on}, follow=True
    )
    assert any(message in str(m) for m in get_messages(response.wsgi_request))
    agreement.refresh_from_db()
    assert agreement.status == AgreementStatus.DRAFT


@pytest.mark.parametrize("persona", ["police", "school_staff", "social_worker", "county_officer"])
def test_read_only_roles_cannot_sign_or_generate(persona: str, world: World, login: Any) -> None:
    agreement = _agreement(world, login)
    client = login(persona)
    assert client.post(f"/agreements/{agreement.pk}/sign/", {"signed_on": "2028-02-25"}).status_code == 404
    assert _generate(client, _child(world)).status_code == 404
    agreement.refresh_from_db()
    assert agreement.status == AgreementStatus.DRAFT
    assert GuardianshipAgreement.objects.count() == 1


# --- the signed scan ---------------------------------------------------------------------------------


def test_the_scan_is_stored_privately_and_served_to_readers_only(world: World, login: Any) -> None:
    from django.core.files.uploadedfile import SimpleUploadedFile

    agreement = _agreement(world, login)
    client = login("village_worker")
    assert client.get(f"/agreements/{agreement.pk}/scan/").status_code == 404  # none yet
    upload = SimpleUploadedFile("张三签字页.png", _png(), content_type="image/png")
    response = client.post(f"/agreements/{agreement.pk}/scan/", {"scan": upload})
    assert response.status_code == 302
    agreement.refresh_from_db()
    assert agreement.scan_kind == "png"
    assert agreement.scan.name.startswith("agreements/") and "张三" not in agreement.scan.name

    served = login("police").get(f"/agreements/{agreement.pk}/scan/")
    assert served.status_code == 200
    assert b"".join(served.streaming_content) == _png()  # type: ignore[attr-defined]
    assert served["Cache-Control"] == "no-store" and served["X-Content-Type-Options"] == "nosniff"
    assert served["Content-Type"] == "image/png"
    event = AuditEvent.objects.filter(action=EventType.VIEW, object_id=str(agreement.child_id)).latest("id")
    assert event.detail["section"] == "agreement_scan"
    assert login("visiting_cadre").get(f"/agreements/{agreement.pk}/scan/").status_code == 404


def test_a_hostile_scan_is_refused_with_its_reason(world: World, login: Any) -> None:
    from django.core.files.uploadedfile import SimpleUploadedFile

    agreement = _agreement(world, login)
    exe = SimpleUploadedFile("签字页.pdf", b"MZ\x90\x00" + bytes(100))
    response = login("village_worker").post(f"/agreements/{agreement.pk}/scan/", {"scan": exe})
    assert response.status_code == 400
    assert "文件是可执行程序，不能上传。" in response.content.decode()
    agreement.refresh_from_db()
    assert not agreement.scan

    response = login("village_worker").post(f"/agreements/{agreement.pk}/scan/", {})
    assert response.status_code == 400 and "请选择要上传的文件。" in response.content.decode()
