"""附件1: the printable page and the PDF, masked by default, in scope only, audited."""

import io

import pytest
from django.test import Client
from pypdf import PdfReader

from audit.models import AuditEvent, EventType
from core.masking import mask_id, mask_phone
from nationalforms.form1 import SIGNATURES, TITLE
from registry import choices as c
from registry.models import Child, EntrustedGuardian
from testing.world import World

NARROW = ["village_worker", "school_staff", "social_worker", "township_supervisor"]
SHOWN = (TITLE, "儿童情况", "监护情况", "（外）祖父母照料", "张奶奶", "单位负责人", "填表日期")


def _url(child: Child, pdf: bool = False) -> str:
    return f"/forms/child/{child.pk}/" + ("pdf/" if pdf else "")


def _pdf_text(response: object) -> str:
    reader = PdfReader(io.BytesIO(response.content))  # type: ignore[attr-defined]
    return "\n".join(page.extract_text() for page in reader.pages)


@pytest.fixture
def a1(world: World) -> Child:
    child = world.children["a1"]
    EntrustedGuardian.objects.create(
        child=child,
        name="张奶奶",
        phone="13600000009",
        id_number="450521195501010021",
        relation=c.GuardianRelation.GRANDMOTHER,
        address="甲一村 3 号",
    )
    return Child.objects.get(pk=child.pk)


def test_the_page_shows_the_form_masked(a1: Child, login) -> None:
    response = login("village_worker").get(_url(a1))
    assert response.status_code == 200
    body = response.content.decode()
    assert TITLE in body and a1.name in body and a1.file_no in body
    for group in ("儿童情况", "家庭情况", "监护情况", "其他"):
        assert group in body
    for line in SIGNATURES:
        assert line in body
    assert mask_id(a1.id_number) in body and a1.id_number not in body
    assert mask_phone("13800000001") in body and "13800000001" not in body
    assert "张奶奶" in body and "450521195501010021" not in body
    assert "广东省" in body  # the father's work province
    assert 'href="?reveal=1"' in body  # the village worker may reveal
    event = AuditEvent.objects.get(action=EventType.PRINT)
    assert event.object_id == str(a1.pk)
    assert (event.detail["section"], event.detail["revealed"]) == ("form1", False)


def test_reveal_prints_full_numbers_and_is_audited(a1: Child, login) -> None:
    body = login("county_admin").get(_url(a1), {"reveal": "1"}).content.decode()
    assert a1.id_number in body and "13800000001" in body and "450521195501010021" in body
    assert AuditEvent.objects.get(action=EventType.REVEAL).detail == {"section": "form1", "revealed": True}


def test_reveal_is_refused_to_a_role_that_may_not_reveal(a1: Child, login) -> None:
    client = login("school_staff")
    page = client.get(_url(a1))
    assert page.status_code == 200 and "reveal=1" not in page.content.decode()
    assert client.get(_url(a1), {"reveal": "1"}).status_code == 403
    assert client.get(_url(a1, pdf=True), {"reveal": "1"}).status_code == 403
    assert not AuditEvent.objects.filter(action=EventType.REVEAL).exists()


@pytest.mark.parametrize("persona", NARROW)
def test_a_file_out_of_scope_is_not_found(world: World, login, persona: str) -> None:
    client: Client = login(persona)
    for child in (world.children["b1"], world.children["other"]):
        assert client.get(_url(child)).status_code == 404
        assert client.get(_url(child, pdf=True)).status_code == 404
    assert not AuditEvent.objects.filter(action__in=[EventType.PRINT, EventType.EXPORT]).exists()


def test_the_pdf_has_the_chinese_text_masked(a1: Child, login) -> None:
    response = login("township_supervisor").get(_url(a1, pdf=True))
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert response["Content-Disposition"] == f'attachment; filename="form1-{a1.pk}.pdf"'
    text = _pdf_text(response)
    for expected in (a1.name, *SHOWN):
        assert expected in text
    assert mask_id(a1.id_number) in text and a1.id_number not in text
    assert "打印人：township_supervisor" in text
    event = AuditEvent.objects.get(action=EventType.EXPORT)
    assert (event.object_id, event.detail["format"]) == (str(a1.pk), "pdf")


def test_the_revealed_pdf_has_the_full_numbers(a1: Child, login) -> None:
    text = _pdf_text(login("county_admin").get(_url(a1, pdf=True), {"reveal": "1"}))
    assert a1.id_number in text and "13800000001" in text


def test_the_page_names_characters_the_pdf_cannot_draw(world: World, login) -> None:
    child = world.children["a1"]
    Child.objects.filter(pk=child.pk).update(name="张𠮷")  # 𠮷 is outside GB 2312
    body = login("county_admin").get(_url(child)).content.decode()
    assert "以下字符超出 PDF 字体范围" in body and "𠮷" in body
    assert "以下字符超出" not in login("county_admin").get(_url(world.children["a2"])).content.decode()
