"""Returns, resubmissions, the 附件3 identity gate, freezing, and cancelling a round."""

from collections.abc import Callable

from django.test import Client

from accounts.models import User
from nationalforms import table3
from notify.models import Notification
from registry.models import Child
from registry.tests.helpers import edit_post
from submissions.models import (
    Round,
    RoundState,
    SnapshotRow,
    TownshipState,
    TownshipSubmission,
    VillageState,
    VillageSubmission,
)
from submissions.selectors import snapshot_rows_visible
from submissions.snapshot import snapshot_tally
from submissions.tests.conftest import messages_of, open_round, submit_village, township, village
from testing.world import World

AsUser = Callable[[str | User], Client]


def _fresh(submission: VillageSubmission) -> VillageSubmission:
    return VillageSubmission.objects.get(pk=submission.pk)


def _edit(client: Client, child: Child, **overrides: object) -> None:
    child = Child.objects.get(pk=child.pk)
    response = client.post(f"/children/{child.pk}/edit/", edit_post(child, **overrides))
    assert response.status_code == 302, response.content.decode()[:800]


def _approved_township_a(world: World, as_user: AsUser) -> tuple[Round, Client]:
    round = open_round(as_user("county_admin"))
    sup = as_user("township_supervisor")
    submit_village(as_user("village_worker"), village(round, world, "a1"))
    submit_village(sup, village(round, world, "a2"))
    for key in ("a1", "a2"):
        sup.post(f"/rounds/villages/{village(round, world, key).pk}/approve/", {"comment": ""})
    return round, sup


def test_a_return_needs_a_comment_and_a_resubmission_replaces_the_snapshot(
    world: World, as_user: AsUser
) -> None:
    round = open_round(as_user("county_admin"))
    worker, sup = as_user("village_worker"), as_user("township_supervisor")
    a1 = village(round, world, "a1")
    submit_village(worker, a1)
    first = SnapshotRow.objects.get(round=round, village=world.village_a1)

    refused = sup.post(f"/rounds/villages/{a1.pk}/return/", {"comment": "  "}, follow=True)
    assert "请填写退回意见。" in messages_of(refused)
    assert _fresh(a1).state == VillageState.SUBMITTED

    response = sup.post(f"/rounds/villages/{a1.pk}/return/", {"comment": "张三的就学情况有误，请核实"})
    assert response.status_code == 302
    returned = _fresh(a1)
    assert returned.state == VillageState.RETURNED and returned.review_comment == "张三的就学情况有误，请核实"
    told = Notification.objects.get(kind="submissions.village_returned")
    assert told.recipient == world.users["village_worker"] and "请核实" in told.body
    page = worker.get(f"/rounds/{round.pk}/").content.decode()
    assert "已退回" in page and "张三的就学情况有误，请核实" in page and "重新报送" in page

    _edit(worker, world.children["a1"], schooling="junior")
    assert submit_village(worker, a1).status_code == 302
    second = SnapshotRow.objects.get(round=round, village=world.village_a1)
    assert second.pk != first.pk and not SnapshotRow.objects.filter(pk=first.pk).exists()
    assert second.child_history_id > first.child_history_id
    assert second.facts["schooling"] == "junior" and first.facts["schooling"] == "primary"
    assert _fresh(a1).state == VillageState.SUBMITTED and _fresh(a1).history.count() == 4


def test_a_submission_without_the_confirmation_is_refused(world: World, as_user: AsUser) -> None:
    round = open_round(as_user("county_admin"))
    a1 = village(round, world, "a1")
    response = as_user("village_worker").post(f"/rounds/villages/{a1.pk}/submit/", {"note": "x"}, follow=True)
    assert "请确认已逐一核对本村每份档案。" in messages_of(response)
    assert _fresh(a1).state == VillageState.PENDING and not SnapshotRow.objects.exists()


def test_a_broken_identity_refuses_the_township(world: World, as_user: AsUser) -> None:
    round, sup = _approved_township_a(world, as_user)
    row = SnapshotRow.objects.get(round=round, village=world.village_a2)
    row.facts = {**row.facts, "schooling": "unknown"}  # counted in column 1, in none of 11–18
    row.save(update_fields=["facts"])
    town = township(round, world, "a")
    response = sup.post(f"/rounds/townships/{town.pk}/submit/", {"note": ""}, follow=True)
    shown = messages_of(response)
    assert any(message.startswith("附件3统计表未通过勾稽关系校验") for message in shown)
    assert any("第1列（留守儿童合计）应等于第11至18列之和：2 ≠ 1" in message for message in shown)
    assert TownshipSubmission.objects.get(pk=town.pk).state == TownshipState.PENDING
    assert not Notification.objects.filter(kind="submissions.township_submitted").exists()


def test_a_county_return_reopens_the_township_for_its_supervisor(world: World, as_user: AsUser) -> None:
    round, sup = _approved_township_a(world, as_user)
    town = township(round, world, "a")
    sup.post(f"/rounds/townships/{town.pk}/submit/", {"note": ""})
    admin = as_user("county_admin")
    refused = admin.post(f"/rounds/townships/{town.pk}/return/", {"comment": ""}, follow=True)
    assert "请填写退回意见。" in messages_of(refused)
    admin.post(f"/rounds/townships/{town.pk}/return/", {"comment": "甲二村人数与上季度差异大"})
    assert TownshipSubmission.objects.get(pk=town.pk).state == TownshipState.RETURNED
    told = Notification.objects.get(kind="submissions.township_returned")
    assert told.recipient == world.users["township_supervisor"]
    # The supervisor may now return a village that was approved, and it submits again.
    a2 = village(round, world, "a2")
    assert sup.post(f"/rounds/villages/{a2.pk}/return/", {"comment": "请复核"}).status_code == 302
    assert _fresh(a2).state == VillageState.RETURNED


def test_an_approved_round_is_frozen_against_later_edits(
    world: World, supervisor_b: User, as_user: AsUser
) -> None:
    admin = as_user("county_admin")
    round, sup = _approved_township_a(world, as_user)
    sup_b = as_user(supervisor_b)
    submit_village(sup_b, village(round, world, "b1"))
    sup_b.post(f"/rounds/villages/{village(round, world, 'b1').pk}/approve/", {"comment": ""})
    for key, client in (("a", sup), ("b", sup_b)):
        client.post(f"/rounds/townships/{township(round, world, key).pk}/submit/", {"note": ""})
        admin.post(f"/rounds/townships/{township(round, world, key).pk}/approve/", {"comment": ""})
    frozen = Round.objects.get(pk=round.pk)
    assert frozen.state == RoundState.APPROVED and frozen.counts[0] == 3
    roster_before = b"".join(admin.get(f"/rounds/{round.pk}/roster/", {"fmt": "csv"}).streaming_content)

    # The mother comes home (张三 is no longer left behind) and the child is renamed.
    _edit(admin, world.children["a1"], name="张小三", **{"mother-status": "at_home"})
    assert not Child.objects.get(pk=world.children["a1"].pk).is_left_behind
    live = table3.tally(
        (facts for _, _, facts in table3.facts_from_children(Child.objects.filter(county=world.county))),
        on=frozen.reference_date,
    )
    assert live[0] == 2  # the live ledger moved…

    after = Round.objects.get(pk=round.pk)  # …the round did not
    assert after.counts == frozen.counts and after.state == RoundState.APPROVED
    rows = snapshot_rows_visible(world.users["county_admin"], after)
    assert snapshot_tally(rows, on=after.reference_date) == frozen.counts
    roster_after = b"".join(admin.get(f"/rounds/{round.pk}/roster/", {"fmt": "csv"}).streaming_content)
    text_before, text_after = roster_before.decode("utf-8-sig"), roster_after.decode("utf-8-sig")
    assert text_after.splitlines()[1:] == text_before.splitlines()[1:]  # the first line is the watermark
    assert "张三" in text_after and "张小三" not in text_after

    # Nothing moves any more: a village cannot submit again, the county cannot return.
    a1 = village(round, world, "a1")
    refused = submit_village(as_user("village_worker"), a1)
    assert refused.status_code == 302 and _fresh(a1).state == VillageState.APPROVED
    admin.post(f"/rounds/townships/{township(round, world, 'a').pk}/return/", {"comment": "再改"})
    assert TownshipSubmission.objects.get(pk=township(round, world, "a").pk).state == TownshipState.APPROVED


def test_the_county_admin_cancels_a_round(world: World, as_user: AsUser) -> None:
    round = open_round(as_user("county_admin"))
    admin = as_user("county_admin")
    refused = admin.post(f"/rounds/{round.pk}/cancel/", {"reason": ""}, follow=True)
    assert Round.objects.get(pk=round.pk).state == RoundState.OPEN and refused.status_code == 200
    admin.post(f"/rounds/{round.pk}/cancel/", {"reason": "重复发起"})
    cancelled = Round.objects.get(pk=round.pk)
    assert cancelled.state == RoundState.CANCELLED and cancelled.cancel_reason == "重复发起"
    response = submit_village(as_user("village_worker"), village(round, world, "a1"), note="")
    assert response.status_code == 302 and _fresh(village(round, world, "a1")).state == VillageState.PENDING
