"""Parents' notices (告知) through HTTP: the record, the file brought up to date with history,
the version bumped, field errors in Chinese, scope."""

from typing import Any

import pytest

from audit.models import AuditEvent, EventType
from contact.models import ParentNotice
from core.blind_index import phone_index
from geo.models import Region
from registry.models import Child, Parent
from testing.world import World


def _child(world: World, key: str = "a1") -> Child:
    return Child.objects.get(pk=world.children[key].pk)


def _father(child: Child) -> Parent:
    return Parent.objects.get(child=child, role="father")


def _region(code: str) -> Region:
    return Region.objects.get(code=code, valid_to__isnull=True)


def _post(**overrides: Any) -> dict[str, Any]:
    data = {
        "role": "father",
        "notified_on": "2028-02-20",
        "channel": "wechat",
        "told_village": "on",
        "told_school": "on",
        "work_city": str(_region("3205").pk),  # 苏州市
        "work_detail": "某电子厂",
        "new_phone": "138 1234 5670",
        "note": "春节后换厂",
    }
    data.update(overrides)
    return {k: v for k, v in data.items() if v is not None}


def test_a_notice_updates_the_parent_with_history(world: World, login: Any) -> None:
    child = _child(world)
    version = child.version
    client = login("village_worker")
    response = client.post(f"/children/{child.pk}/notices/new/", _post())
    assert response.status_code == 302 and response["Location"] == f"/children/{child.pk}/"

    notice = ParentNotice.objects.get(child=child)
    assert (notice.parent, notice.channel, notice.told_school) == (_father(child), "wechat", True)
    assert notice.work_province == _region("32") and notice.work_city == _region("3205")
    assert notice.new_phone == "13812345670" and notice.new_phone_index == phone_index("13812345670")
    assert notice.history.count() == 1

    father = _father(child)
    assert (father.work_province, father.work_city, father.work_detail) == (
        _region("32"),
        _region("3205"),
        "某电子厂",
    )
    assert father.phone == "13812345670" and father.phone_index == phone_index("13812345670")
    latest = father.history.latest()
    assert latest.history_change_reason == "父母告知（2028-02-20）"
    assert latest.history_user == world.users["village_worker"]
    assert _child(world).version == version + 1  # an edit form opened before now answers 409
    assert AuditEvent.objects.filter(action=EventType.UPDATE, object_id=str(child.pk)).exists()

    page = client.get(f"/children/{child.pk}/").content.decode()
    assert "2028-02-20 父亲（微信）：新务工地点 江苏省 苏州市 某电子厂" in page
    assert "13812345670" not in page  # masked


def test_the_new_phone_finds_the_child_in_the_ledger(world: World, login: Any) -> None:
    child = _child(world)
    client = login("village_worker")
    client.post(f"/children/{child.pk}/notices/new/", _post(work_city=None, work_detail=None))
    body = client.post("/children/", {"q": "13812345670", "status": ""}).content.decode()
    assert child.name in body


def test_an_older_notice_is_kept_but_does_not_overwrite_newer_facts(world: World, login: Any) -> None:
    child = _child(world)
    client = login("village_worker")
    client.post(f"/children/{child.pk}/notices/new/", _post())
    older = _post(notified_on="2028-01-05", new_phone="13900001111", work_city=None, work_detail=None)
    response = client.post(f"/children/{child.pk}/notices/new/", older)
    assert response.status_code == 302
    assert ParentNotice.objects.filter(child=child).count() == 2
    assert _father(child).phone == "13812345670"


def test_a_notice_of_a_province_only_clears_the_old_city(world: World, login: Any) -> None:
    child = _child(world)
    Parent.objects.filter(child=child, role="father").update(work_city=_region("4401"))
    client = login("village_worker")
    response = client.post(
        f"/children/{child.pk}/notices/new/",
        _post(work_city=None, work_province=str(_region("33").pk), work_detail="", new_phone=""),
    )
    assert response.status_code == 302
    father = _father(child)
    assert (father.work_province, father.work_city) == (_region("33"), None)


@pytest.mark.parametrize(
    ("overrides", "field", "message"),
    [
        (
            {"work_city": None, "work_detail": None, "new_phone": ""},
            None,
            "请填写新的务工地点或新的联系电话。",
        ),
        ({"new_phone": "12345"}, "new_phone", "请填写 11 位手机号码或带区号的固定电话。"),
        ({"notified_on": "2028-02-26"}, "notified_on", "告知日期不能晚于今天。"),
        ({"work_province": "__PROVINCE_45__"}, "work_city", "务工城市不在所选省份内。"),
        ({"work_city": None}, "work_province", "填写务工单位时，请同时选择务工省份或城市。"),
        ({"role": "uncle"}, "role", "选择一个有效的选项"),
        ({"channel": ""}, "channel", "该字段是必填项。"),
    ],
)
def test_it_puts_errors_on_the_field(
    overrides: dict[str, Any], field: str | None, message: str, world: World, login: Any
) -> None:
    if overrides.get("work_province") == "__PROVINCE_45__":
        overrides["work_province"] = str(_region("45").pk)
    child = _child(world)
    response = login("village_worker").post(f"/children/{child.pk}/notices/new/", _post(**overrides))
    assert response.status_code == 200
    errors = response.context["form"].errors
    assert any(message in error for error in errors[field or "__all__"]), errors
    assert not ParentNotice.objects.exists()
    assert _father(child).phone == "13800000001"


def test_a_parent_not_on_the_file_is_a_field_error(world: World, login: Any) -> None:
    child = _child(world)
    Parent.objects.filter(child=child, role="mother").delete()
    response = login("village_worker").post(f"/children/{child.pk}/notices/new/", _post(role="mother"))
    assert response.status_code == 200
    assert "档案中没有登记该家长" in str(response.context["form"].errors["role"])


@pytest.mark.parametrize("persona", ["police", "school_staff", "social_worker", "visiting_cadre", "no_role"])
def test_read_only_and_out_of_scope_roles_get_404(persona: str, world: World, login: Any) -> None:
    child = _child(world)
    client = login(persona)
    assert client.get(f"/children/{child.pk}/notices/new/").status_code == 404
    assert client.post(f"/children/{child.pk}/notices/new/", _post()).status_code == 404
    assert not ParentNotice.objects.exists()


def test_the_village_worker_cannot_reach_another_village(world: World, login: Any) -> None:
    child = _child(world, "b1")
    response = login("village_worker").post(f"/children/{child.pk}/notices/new/", _post())
    assert response.status_code == 404
    assert "王五" not in response.content.decode()
    assert _father(child).phone == "13800000001"
    assert child.version == _child(world, "b1").version


def test_the_form_is_a_read_of_the_file(world: World, login: Any) -> None:
    child = _child(world)
    page = login("village_worker").get(f"/children/{child.pk}/notices/new/")
    assert page.status_code == 200
    assert "138****0001" in page.content.decode() and "13800000001" not in page.content.decode()
    event = AuditEvent.objects.filter(action=EventType.VIEW, object_id=str(child.pk)).latest("id")
    assert event.detail == {"section": "parent_notice"}


def test_a_wrong_notice_is_voided_with_a_reason_and_kept(world: World, login: Any) -> None:
    child = _child(world)
    client = login("village_worker")
    client.post(f"/children/{child.pk}/notices/new/", _post())
    notice = ParentNotice.objects.get(child=child)
    form = client.get(f"/notices/{notice.pk}/void/").content.decode()
    assert "请作废后在档案中编辑更正" in form and "13812345670" not in form  # the phone stays masked

    refused = client.post(f"/notices/{notice.pk}/void/", {"reason": ""})
    assert refused.status_code == 200 and "请填写作废原因。" in refused.content.decode()

    response = client.post(f"/notices/{notice.pk}/void/", {"reason": "录到了母亲名下才对"})
    assert response.status_code == 302 and response["Location"] == f"/children/{child.pk}/"
    notice.refresh_from_db()
    assert notice.voided_by == world.users["village_worker"] and notice.void_reason == "录到了母亲名下才对"
    assert notice.history.count() == 2
    assert AuditEvent.objects.filter(detail__change="parent_notice_void", object_id=str(child.pk)).exists()
    page = client.get(f"/children/{child.pk}/").content.decode()
    assert "已作废：录到了母亲名下才对" in page


def test_voiding_a_notice_is_refused_outside_the_writable_scope(world: World, login: Any) -> None:
    child = _child(world)
    login("village_worker").post(f"/children/{child.pk}/notices/new/", _post())
    notice = ParentNotice.objects.get(child=child)
    for persona in ("social_worker", "school_staff", "police"):
        client = login(persona)
        assert client.post(f"/notices/{notice.pk}/void/", {"reason": "越权"}).status_code == 404
    assert ParentNotice.objects.get(pk=notice.pk).voided_at is None
