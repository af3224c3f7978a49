"""Each level sees its own part of a round; opening a round; every denial."""

from collections.abc import Callable

import pytest
from django.test import Client

from accounts.models import Role, User
from audit.models import AuditEvent, EventType
from geo.models import Region, Unit, UnitKind
from submissions.models import Round, SnapshotRow, VillageState, VillageSubmission
from submissions.tests.conftest import open_round, submit_village, township, village
from testing.world import World, make_user

AsUser = Callable[[str | User], Client]
OTHERS = ["school_staff", "police", "social_worker", "visiting_cadre", "reporter", "system_admin", "no_role"]


def test_each_level_sees_its_own_part(world: World, supervisor_b: User, as_user: AsUser) -> None:
    round = open_round(as_user("county_admin"))
    submit_village(as_user("village_worker"), village(round, world, "a1"), note="本村 1 份档案")

    county = as_user("county_admin").get(f"/rounds/{round.pk}/").content.decode()
    assert "各乡镇报送情况" in county and "村已审核 0 / 2" in county and "村已审核 0 / 1" in county
    assert "审定" in county and "撤销本轮报送" in county
    drill = (
        as_user("county_admin").get(f"/rounds/townships/{township(round, world, 'a').pk}/").content.decode()
    )
    assert "甲一村委会" in drill and "本村 1 份档案" in drill and "乙一村委会" not in drill
    assert "审核通过" not in drill  # the county reads the villages; the township reviews them

    sup = as_user("township_supervisor").get(f"/rounds/{round.pk}/").content.decode()
    assert "甲一村委会" in sup and "甲二村委会" in sup and "乙一村委会" not in sup
    assert "各乡镇报送情况" not in sup and "本村 1 份档案" in sup and "village_worker" in sup
    assert "审核通过" in sup and "代为报送（本村无儿童主任）" in sup  # for 甲二村 only
    assert sup.count("代为报送") == 1

    worker = as_user("village_worker").get(f"/rounds/{round.pk}/").content.decode()
    assert "甲一村委会" in worker and "已报送" in worker
    assert "甲二村委会" not in worker and "各乡镇报送情况" not in worker and "审核通过" not in worker

    listing = as_user("village_worker").get("/rounds/").content.decode()
    assert "甲一村委会：已报送" in listing and round.title in listing
    listing = as_user(supervisor_b).get("/rounds/").content.decode()
    assert "党江镇：未报送" in listing


def test_opening_a_round_checks_its_dates_and_title(world: World, as_user: AsUser) -> None:
    admin = as_user("county_admin")
    assert "发起报送" in admin.get("/rounds/new/").content.decode()
    response = admin.post(
        "/rounds/new/",
        {
            "kind": "census",
            "title": "排查 450521201506010011",
            "reference_date": "2025-06-30",
            "due_date": "2020-01-01",
        },
    )
    assert response.status_code == 200 and not Round.objects.exists()
    errors = response.context["form"].errors
    assert errors["title"] == ["报送名称不能包含身份证号码或 18 位以上的连续数字。"]
    assert errors["due_date"] == ["报送截止日期不能早于今天。"]


def test_a_county_admin_of_another_county_sees_nothing(world: World, as_user: AsUser) -> None:
    round = open_round(as_user("county_admin"))
    other = Region.objects.get(code="450502", valid_to__isnull=True)
    unit = Unit.objects.create(name="海城区民政局", kind=UnitKind.CIVIL_AFFAIRS, region=other)
    client = as_user(make_user("other_admin", Role.COUNTY_ADMIN, unit))
    assert round.title not in client.get("/rounds/").content.decode()
    for url in (
        f"/rounds/{round.pk}/",
        f"/rounds/{round.pk}/roster/",
        f"/rounds/townships/{township(round, world, 'a').pk}/",
    ):
        assert client.get(url).status_code == 404
    assert client.post(f"/rounds/townships/{township(round, world, 'a').pk}/approve/", {}).status_code == 404
    assert AuditEvent.objects.filter(action=EventType.DENIED, object_type="submission_round").exists()


@pytest.mark.parametrize("persona", OTHERS)
def test_other_roles_are_refused(persona: str, world: World, as_user: AsUser) -> None:
    round = open_round(as_user("county_admin"))
    client = as_user(persona)
    assert client.get("/rounds/").status_code == 403
    assert client.get(f"/rounds/{round.pk}/").status_code == 403
    assert (
        client.post(
            f"/rounds/villages/{village(round, world, 'a1').pk}/submit/", {"confirmed": "on"}
        ).status_code
        == 403
    )
    assert not SnapshotRow.objects.exists()


def test_who_may_submit_and_review_a_village(world: World, supervisor_b: User, as_user: AsUser) -> None:
    round = open_round(as_user("county_admin"))
    a1, a2, b1 = (village(round, world, key) for key in ("a1", "a2", "b1"))
    worker, sup = as_user("village_worker"), as_user("township_supervisor")
    assert submit_village(worker, a2).status_code == 404  # another village
    assert submit_village(sup, a1).status_code == 403  # 甲一村 has its village worker
    assert submit_village(sup, b1).status_code == 404  # another township
    assert submit_village(as_user("county_admin"), a1).status_code == 403
    assert VillageSubmission.objects.filter(round=round).exclude(state=VillageState.PENDING).count() == 0
    submit_village(worker, a1)
    assert worker.post(f"/rounds/villages/{a1.pk}/approve/", {}).status_code == 403
    assert as_user(supervisor_b).post(f"/rounds/villages/{a1.pk}/approve/", {}).status_code == 404
    assert (
        as_user("county_admin").post(f"/rounds/villages/{a1.pk}/return/", {"comment": "x"}).status_code == 403
    )
    assert worker.post(f"/rounds/townships/{township(round, world, 'a').pk}/submit/", {}).status_code == 404
    assert as_user("county_officer").post(f"/rounds/{round.pk}/cancel/", {"reason": "x"}).status_code == 403
    assert VillageSubmission.objects.get(pk=a1.pk).state == VillageState.SUBMITTED
