"""The whole round through HTTP for two townships: the county opens it, villages submit,
townships review and submit, the county approves, the round is frozen; then the downloads."""

import io
from collections.abc import Callable
from typing import Any

from django.test import Client
from python_calamine import CalamineWorkbook

from accounts.models import User
from audit.models import AuditEvent
from nationalforms import table3
from notify.models import Notification
from registry.models import Child
from submissions.models import (
    Round,
    RoundState,
    SnapshotRow,
    TownshipState,
    VillageState,
)
from submissions.tests.conftest import REFERENCE, open_round, submit_village, township, village
from testing.world import World

AsUser = Callable[[str | User], Client]


def _approve(client: Client, kind: str, pk: Any, comment: str = "") -> Any:
    return client.post(f"/rounds/{kind}/{pk}/approve/", {"comment": comment})


def _sheet(response: Any) -> list[list[Any]]:
    content = b"".join(response.streaming_content) if response.streaming else response.content
    sheet = CalamineWorkbook.from_filelike(io.BytesIO(content)).get_sheet_by_index(0)
    return [list(row) for row in sheet.to_python()]


def _changes(object_type: str) -> set[str]:
    rows = AuditEvent.objects.filter(object_type=object_type).values_list("detail", flat=True)
    return {detail.get("change", "") for detail in rows}


def test_a_round_goes_from_villages_to_the_county_and_freezes(
    world: World, supervisor_b: User, as_user: AsUser
) -> None:
    admin, sup_a, worker = as_user("county_admin"), as_user("township_supervisor"), as_user("village_worker")
    sup_b = as_user(supervisor_b)
    round = open_round(admin)
    assert round.county == world.county and round.reference_date == REFERENCE
    assert round.townships.count() == 2 and round.villages.count() == 3
    told = set(
        Notification.objects.filter(kind="submissions.opened").values_list("recipient__username", flat=True)
    )
    assert told == {"township_supervisor", "village_worker", "supervisor_b"}

    # 甲一村: its village worker submits; 甲二村 has none, so the township supervisor does.
    assert submit_village(worker, village(round, world, "a1")).status_code == 302
    assert submit_village(sup_a, village(round, world, "a2")).status_code == 302
    assert submit_village(sup_b, village(round, world, "b1")).status_code == 302
    a1 = village(round, world, "a1")
    assert a1.state == VillageState.SUBMITTED and a1.submitted_by == world.users["village_worker"]
    assert a1.files == 1 and a1.note == "已逐户核对" and a1.confirmed
    assert SnapshotRow.objects.filter(round=round).count() == 3

    # The township cannot go up before its villages are approved.
    early = sup_a.post(
        f"/rounds/townships/{township(round, world, 'a').pk}/submit/", {"note": ""}, follow=True
    )
    assert "还有 2 个村（社区）的报送未审核通过" in early.content.decode()

    for key, client in (("a1", sup_a), ("a2", sup_a), ("b1", sup_b)):
        assert _approve(client, "villages", village(round, world, key).pk, "材料齐全").status_code == 302
    assert village(round, world, "a2").state == VillageState.APPROVED

    for key, client in (("a", sup_a), ("b", sup_b)):
        response = client.post(
            f"/rounds/townships/{township(round, world, key).pk}/submit/", {"note": "已审核"}
        )
        assert response.status_code == 302
    town_a = township(round, world, "a")
    assert (
        town_a.state == TownshipState.SUBMITTED and town_a.counts[0] == 2 and not table3.check(town_a.counts)
    )
    assert (
        Notification.objects.filter(
            kind="submissions.township_submitted", recipient=world.users["county_admin"]
        ).count()
        == 2
    )

    assert _approve(admin, "townships", town_a.pk).status_code == 302
    assert Round.objects.get(pk=round.pk).state == RoundState.OPEN  # 党江镇 still waiting
    assert _approve(admin, "townships", township(round, world, "b").pk).status_code == 302
    frozen = Round.objects.get(pk=round.pk)
    assert frozen.state == RoundState.APPROVED and frozen.approved_by == world.users["county_admin"]
    assert frozen.counts[0] == 3 and frozen.counts[18] == 3  # three left-behind boys
    assert frozen.history.count() == 2
    assert _changes("submission_round") >= {"round_open", "round_approved"}
    assert _changes("village_submission") >= {"village_submitted", "village_approved"}
    assert _changes("township_submission") >= {"township_submitted", "township_approved"}

    page = admin.get(f"/rounds/{round.pk}/").content.decode()
    assert "已审定" in page and "数据已冻结" in page and "村已审核 2 / 2" in page

    # The roster of the county: the three files as submitted, masked.
    rows = _sheet(admin.get(f"/rounds/{round.pk}/roster/"))
    assert rows[1][4] == "姓名" and [row[4] for row in rows[2:]] == ["张三", "李四", "王五"]
    a1_child = Child.objects.get(pk=world.children["a1"].pk)
    assert a1_child.id_number not in str(rows) and "*" in str(rows[2][8])

    # 附件3 of the county: a row per township, then the total; every identity holds.
    table = _sheet(admin.get(f"/rounds/{round.pk}/table3/"))
    assert [row[0] for row in table[2:]] == ["廉州镇", "党江镇", "合计"]
    assert table[2][1] == 2 and table[3][1] == 1 and table[4][1] == 3
    assert {row[-1] for row in table[2:]} == {table3.CHECK_PASSED}


def test_a_supervisor_downloads_only_the_township(world: World, supervisor_b: User, as_user: AsUser) -> None:
    round = open_round(as_user("county_admin"))
    submit_village(as_user("village_worker"), village(round, world, "a1"))
    submit_village(as_user(supervisor_b), village(round, world, "b1"))
    rows = _sheet(as_user("township_supervisor").get(f"/rounds/{round.pk}/roster/"))
    assert [row[4] for row in rows[2:]] == ["张三"]
    table = _sheet(as_user("township_supervisor").get(f"/rounds/{round.pk}/table3/"))
    assert [row[0] for row in table[2:]] == ["甲一村委会", "合计"]
    csv = as_user("village_worker").get(f"/rounds/{round.pk}/roster/", {"fmt": "csv"})
    text = b"".join(csv.streaming_content).decode("utf-8-sig")
    assert "张三" in text and "王五" not in text


def test_the_county_officer_reads_but_does_not_review(world: World, as_user: AsUser) -> None:
    round = open_round(as_user("county_admin"))
    officer = as_user("county_officer")
    page = officer.get(f"/rounds/{round.pk}/")
    assert page.status_code == 200
    body = page.content.decode()
    assert "廉州镇" in body and "党江镇" in body and "审定通过" not in body and "撤销本轮报送" not in body
    town = township(round, world, "a")
    assert officer.post(f"/rounds/townships/{town.pk}/return/", {"comment": "不行"}).status_code == 403
    assert officer.get("/rounds/").status_code == 200
