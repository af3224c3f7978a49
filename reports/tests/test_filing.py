"""Filing a mandatory report through HTTP: the form, the child search, routing, the members
named, the notifications, double submission and refusals."""

import datetime as dt
import uuid
from typing import Any

import pytest

from audit.models import AuditEvent, EventType
from geo.models import Unit
from notify.models import Notification
from registry.models import Child
from reports.models import MemberKind, Report, ReportMember, ReportRouting, ReportState
from reports.routing import NO_POLICE
from reports.tests.helpers import DESCRIPTION, bureau, form_data, grant_of
from testing.world import World

NOTICE = "本系统不能代替报警：情况紧急请立即拨打 110"


def test_it_shows_the_110_notice_first_and_every_trigger_with_its_source(world: World, login: Any) -> None:
    body = login("school_staff").get("/reports/new/").content.decode()
    assert NOTICE in body
    assert body.index(NOTICE) < body.index("发现的情形")
    assert "儿童单独居住生活" in body and "国发〔2016〕13号" in body
    assert "被组织乞讨" in body and "强制报告制度第四条第（八）项" in body
    # The reporter's unit and role are filled in; a fresh submission key is hidden in the form.
    assert "廉州镇中心小学（学校教职工）" in body
    assert 'name="submission_key"' in body


@pytest.mark.parametrize("persona", ["system_admin", "security_admin", "auditor", "no_role"])
def test_it_refuses_the_form_to_accounts_without_a_data_role(world: World, login: Any, persona: str) -> None:
    client = login(persona)
    assert client.get("/reports/new/").status_code == 403
    assert client.post("/reports/new/", {"action": "file"}).status_code == 403
    assert not Report.objects.exists()


def test_it_files_a_report_on_a_known_child_and_routes_it_at_once(world: World, login: Any) -> None:
    client = login("school_staff")
    child = world.children["a1"]
    response = client.post("/reports/new/", form_data(world.users["school_staff"], child=str(child.pk)))
    report = Report.objects.get()
    assert response.status_code == 302 and response["Location"] == f"/reports/{report.pk}/status/"
    assert report.child == child and report.township == world.township_a and report.county == world.county
    assert report.state == ReportState.ROUTED and report.routed_unit.name == "廉州派出所"
    assert report.triggers == ["living_alone", "violence_injury"]
    assert report.description == DESCRIPTION and report.found_place
    assert report.reporter == world.users["school_staff"] and report.reporter_unit == world.school
    assert report.reporter_role == "学校教职工"
    assert report.reported_at == report.routed_at and report.history.count() == 1
    assert ReportRouting.objects.get(report=report).unit == report.routed_unit
    # The township's supervisor is named on the report, and reads it from now.
    member = ReportMember.objects.get(report=report)
    assert (member.user, member.kind, member.active) == (
        world.users["township_supervisor"],
        MemberKind.SUPERVISOR,
        True,
    )
    assert AuditEvent.objects.filter(
        action=EventType.CREATE, object_type="report", object_id=str(report.pk)
    ).exists()
    page = client.get(response["Location"]).content.decode()
    assert "强制报告已提交，并已送达廉州派出所。" in page and "已报告，待受理" in page


def test_it_notifies_the_police_the_supervisor_and_the_county_without_naming_the_child(
    world: World, login: Any
) -> None:
    client = login("school_staff")
    client.post("/reports/new/", form_data(world.users["school_staff"], child=str(world.children["a1"].pk)))
    report = Report.objects.get()
    notes = {n.recipient.username: n for n in Notification.objects.select_related("recipient")}
    assert set(notes) == {"police", "township_supervisor", "county_admin"}
    assert notes["police"].title == "新的强制报告，请立即受理"
    assert notes["police"].link == f"/reports/{report.pk}/"
    for note in notes.values():
        assert "张三" not in note.title + note.body and note.child_id is None
        assert "廉州镇" in note.body


def test_a_double_submission_files_one_report(world: World, login: Any) -> None:
    client = login("school_staff")
    data = form_data(world.users["school_staff"], child=str(world.children["a1"].pk))
    first = client.post("/reports/new/", data)
    second = client.post("/reports/new/", data, follow=True)
    assert first.status_code == 302 and second.status_code == 200
    assert Report.objects.count() == 1 and Notification.objects.count() == 3
    assert "这份报告已经提交过了，无需重复提交。" in second.content.decode()


def test_it_files_a_report_on_an_unknown_child_in_the_chosen_township(world: World, login: Any) -> None:
    client = login("village_worker")
    data = form_data(
        world.users["village_worker"],
        unknown_name="小明",
        unknown_sex="male",
        unknown_age="9",
        township=str(world.township_a.pk),
    )
    assert client.post("/reports/new/", data).status_code == 302
    report = Report.objects.get()
    assert report.child is None and report.child_label == "小明（未建档）"
    assert (report.unknown_sex, report.unknown_age, report.township) == ("male", 9, world.township_a)
    assert report.routed_unit.name == "廉州派出所"


def test_the_unknown_childs_township_defaults_to_the_reporters(world: World, login: Any) -> None:
    body = login("village_worker").get("/reports/new/").content.decode()
    assert f'<option value="{world.township_a.pk}" selected>' in body


def test_it_falls_back_to_the_county_bureau_when_no_station_serves_the_township(
    world: World, login: Any
) -> None:
    unit = bureau(world)
    client = login("county_admin")
    data = form_data(world.users["county_admin"], child=str(world.children["b1"].pk))
    assert client.post("/reports/new/", data).status_code == 302
    report = Report.objects.get()
    assert report.routed_unit == unit and report.township == world.township_b
    assert Notification.objects.filter(recipient=world.users["bureau_police"]).count() == 1


def test_it_refuses_to_file_when_the_county_has_no_police_unit(world: World, login: Any) -> None:
    client = login("county_admin")
    data = form_data(world.users["county_admin"], child=str(world.children["b1"].pk))
    response = client.post("/reports/new/", data)
    assert response.status_code == 400
    assert NO_POLICE in response.content.decode()
    assert not Report.objects.exists() and not Notification.objects.exists()
    # An inactive bureau does not count either.
    unit = bureau(world)
    Unit.objects.filter(pk=unit.pk).update(active=False)
    assert client.post("/reports/new/", data).status_code == 400
    assert not Report.objects.exists()


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"triggers": None}, "请至少选择一项发现的情形。"),
        ({"triggers": ["made_up"]}, "发现的情形中有无效的选项。"),
        ({"found_place": ""}, "请填写发现地点。"),
        ({"description": ""}, "请填写情况描述。"),
        ({"found_at": "2028-02-25T11:00"}, "发现时间不能晚于现在。"),
        ({"child": None}, "请搜索并选择儿童档案；找不到时，请填写未建档儿童的姓名。"),
        ({"unknown_name": "小明"}, "已选择在册儿童时，请不要再填写未建档儿童的姓名。"),
        ({"unknown_age": "18"}, "强制报告针对未成年人：年龄不能超过 17 岁。"),
    ],
)
def test_it_refuses_an_incomplete_report_and_writes_nothing(
    world: World, login: Any, overrides: dict[str, Any], message: str
) -> None:
    client = login("school_staff")
    data = form_data(world.users["school_staff"], **{"child": str(world.children["a1"].pk), **overrides})
    response = client.post("/reports/new/", data)
    assert response.status_code == 400
    assert message in response.content.decode()
    assert not Report.objects.exists() and not Notification.objects.exists()


def test_it_refuses_a_child_outside_the_reporters_scope(world: World, login: Any) -> None:
    client = login("school_staff")
    data = form_data(world.users["school_staff"], child=str(world.children["b1"].pk))
    response = client.post("/reports/new/", data)
    assert response.status_code == 400
    body = response.content.decode()
    assert "请从搜索结果中选择儿童。" in body and "王五" not in body
    assert not Report.objects.exists()


def test_it_refuses_another_users_grant(world: World, login: Any) -> None:
    client = login("school_staff")
    data = form_data(
        world.users["school_staff"],
        child=str(world.children["a1"].pk),
        grant=str(grant_of(world.users["police"]).pk),
    )
    response = client.post("/reports/new/", data)
    assert response.status_code == 400 and "请选择您所在的单位。" in response.content.decode()
    assert not Report.objects.exists()


@pytest.mark.parametrize("term", ["张三", "zs", "ID_TAIL"])
def test_the_search_finds_files_in_scope_by_name_pinyin_or_id_tail(
    world: World, login: Any, term: str
) -> None:
    child = Child.objects.get(pk=world.children["a1"].pk)
    term = child.id_number[-4:] if term == "ID_TAIL" else term
    client = login("school_staff")
    data = form_data(world.users["school_staff"], action="search", q=term, found_place="已写的地点")
    response = client.post("/reports/new/", data)
    body = response.content.decode()
    assert response.status_code == 200
    assert f'value="{child.pk}"' in body and "张三" in body
    assert child.id_number not in body  # the ID is masked
    assert "已写的地点" in body and data["submission_key"] in body  # what was typed stays
    assert "请填写" not in body  # a search is not a submission: no errors yet
    assert not Report.objects.exists()
    search = AuditEvent.objects.get(action=EventType.SEARCH)
    assert search.detail["term"] == term[0] + "*" * (len(term) - 1) and search.detail["count"] == 1


def test_the_search_never_shows_a_file_outside_scope(world: World, login: Any) -> None:
    other = Child.objects.get(pk=world.children["b1"].pk)
    client = login("school_staff")
    for term in (other.name, "ww", other.id_number[-4:]):
        body = client.post("/reports/new/", {"action": "search", "q": term}).content.decode()
        # The term itself is echoed in the search box (the user's own input); no result is listed.
        assert str(other.pk) not in body and 'name="child"' not in body
        assert "在您可查看的档案中没有找到这名儿童。" in body


def test_the_found_time_may_be_earlier_and_is_kept(world: World, login: Any) -> None:
    client = login("school_staff")
    data = form_data(
        world.users["school_staff"], child=str(world.children["a1"].pk), found_at="2028-02-25T08:30"
    )
    client.post("/reports/new/", data)
    report = Report.objects.get()
    assert report.found_at.astimezone(dt.UTC) == dt.datetime(2028, 2, 25, 0, 30, tzinfo=dt.UTC)


def test_a_report_whose_id_looks_like_an_id_number_is_still_notified(
    world: World, login: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A UUID whose dashes join 18 digits is not an ID number: the link keeps the report."""
    digits = uuid.UUID("12345678-1234-4234-9234-123456789012")
    monkeypatch.setattr(Report._meta.get_field("id"), "_get_default", lambda: digits)
    client = login("school_staff")
    assert (
        client.post(
            "/reports/new/", form_data(world.users["school_staff"], child=str(world.children["a1"].pk))
        ).status_code
        == 302
    )
    assert Report.objects.get().pk == digits
    links = set(Notification.objects.values_list("link", flat=True))
    assert links == {f"/reports/{digits}/"}
