"""Periods of refused duty through HTTP: start, end, void, and every refusal at the field."""

from typing import Any

import pytest

from audit.models import AuditEvent
from interventions.models import DutyRefusal
from interventions.tests.helpers import father_guardian, make_report
from testing.world import World


def _start(client: Any, guardian: Any, day: str) -> Any:
    return client.post(
        f"/interventions/guardians/{guardian.pk}/refusals/new/", {"started_on": day, "note": "不寄生活费"}
    )


def _end(client: Any, refusal: DutyRefusal, day: str) -> Any:
    return client.post(f"/interventions/refusals/{refusal.pk}/end/", {"ended_on": day})


def test_a_refusal_starts_and_ends_with_history_and_audit(world: World, login: Any) -> None:
    report = make_report(world, "a1")
    guardian = father_guardian(world, report)
    client = login("township_supervisor")
    assert _start(client, guardian, "2027-12-01").status_code == 302
    refusal = DutyRefusal.objects.get()
    assert (str(refusal.started_on), refusal.ended_on, refusal.note) == ("2027-12-01", None, "不寄生活费")
    assert refusal.recorded_by == world.users["township_supervisor"] and refusal.report == report

    assert _end(client, refusal, "2028-02-29").status_code == 302
    refusal.refresh_from_db()
    assert str(refusal.ended_on) == "2028-02-29" and refusal.ended_by == world.users["township_supervisor"]
    assert [h.history_user for h in refusal.history.order_by("history_date")] == [
        world.users["township_supervisor"]
    ] * 2
    changes = AuditEvent.objects.filter(
        object_type="report", object_id=str(report.pk), action__in=["create", "update"]
    )
    assert sorted(e.detail["change"] for e in changes) == ["refusal_end", "refusal_start"]
    page = client.get(f"/interventions/reports/{report.pk}/").content.decode()
    assert "2027-12-01 至 2028-02-29" in page and "累计 91 天" in page


def test_a_second_open_refusal_is_refused(world: World, login: Any) -> None:
    guardian = father_guardian(world, make_report(world, "a1"))
    client = login("police")
    _start(client, guardian, "2028-01-01")
    response = _start(client, guardian, "2028-02-01")
    assert response.status_code == 200
    assert response.context["form"].non_field_errors() == [
        "已有自 2028-01-01 起尚未结束的拒不履行记录，请先登记其结束。"
    ]
    assert DutyRefusal.objects.count() == 1


def test_a_start_inside_a_recorded_period_is_refused(world: World, login: Any) -> None:
    guardian = father_guardian(world, make_report(world, "a1"))
    client = login("police")
    _start(client, guardian, "2028-01-01")
    _end(client, DutyRefusal.objects.get(), "2028-01-31")
    response = _start(client, guardian, "2028-01-31")
    assert response.context["form"].errors["started_on"] == [
        "该日期已在 2028-01-01 至 2028-01-31 的记录之内。"
    ]
    assert _start(client, guardian, "2028-02-01").status_code == 302  # the day after is a new period
    assert DutyRefusal.objects.count() == 2


@pytest.mark.parametrize(
    ("day", "message"),
    [("2027-11-30", "结束日期不能早于开始日期（2027-12-01）。"), ("2028-03-16", "结束日期不能晚于今天。")],
)
def test_a_wrong_end_is_refused_at_the_field(world: World, login: Any, day: str, message: str) -> None:
    guardian = father_guardian(world, make_report(world, "a1"))
    client = login("police")
    _start(client, guardian, "2027-12-01")
    refusal = DutyRefusal.objects.get()
    response = _end(client, refusal, day)
    assert response.status_code == 200 and response.context["form"].errors["ended_on"] == [message]
    refusal.refresh_from_db()
    assert refusal.ended_on is None


def test_an_end_overlapping_a_later_period_is_refused(world: World, login: Any) -> None:
    guardian = father_guardian(world, make_report(world, "a1"))
    client = login("police")
    _start(client, guardian, "2028-02-01")
    _end(client, DutyRefusal.objects.get(), "2028-02-10")
    _start(client, guardian, "2027-10-01")  # an older period, recorded later
    older = DutyRefusal.objects.get(started_on="2027-10-01")
    response = _end(client, older, "2028-02-05")
    assert response.context["form"].errors["ended_on"] == ["结束日期与 2028-02-01 起的记录重叠。"]
    assert _end(client, older, "2028-01-31").status_code == 302


def test_an_ended_refusal_cannot_end_again(world: World, login: Any) -> None:
    guardian = father_guardian(world, make_report(world, "a1"))
    client = login("police")
    _start(client, guardian, "2028-01-01")
    refusal = DutyRefusal.objects.get()
    _end(client, refusal, "2028-01-31")
    response = _end(client, refusal, "2028-02-10")
    assert response.context["form"].non_field_errors() == ["这段拒不履行已于 2028-01-31 结束。"]
    refusal.refresh_from_db()
    assert str(refusal.ended_on) == "2028-01-31"


@pytest.mark.parametrize(
    ("day", "message"),
    [("2028-03-16", "开始日期不能晚于今天。"), ("2015-05-01", "开始日期不能早于儿童出生日期。")],
)
def test_a_wrong_start_is_refused_at_the_field(world: World, login: Any, day: str, message: str) -> None:
    guardian = father_guardian(world, make_report(world, "a1"))
    response = _start(login("police"), guardian, day)
    assert response.status_code == 200 and response.context["form"].errors["started_on"] == [message]
    assert not DutyRefusal.objects.exists()


def test_a_voided_refusal_no_longer_counts(world: World, login: Any) -> None:
    report = make_report(world, "a1")
    guardian = father_guardian(world, report)
    client = login("county_admin")
    _start(client, guardian, "2027-08-01")
    refusal = DutyRefusal.objects.get()
    page = client.get(f"/interventions/reports/{report.pk}/").content.decode()
    assert "已符合申请撤销监护人资格的情形" in page
    assert (
        client.post(f"/interventions/refusals/{refusal.pk}/void/", {"reason": "录错了监护人"}).status_code
        == 302
    )
    refusal.refresh_from_db()
    assert refusal.voided_at is not None and refusal.void_reason == "录错了监护人"
    page = client.get(f"/interventions/reports/{report.pk}/").content.decode()
    assert "已符合申请撤销监护人资格的情形" not in page and "已作废：录错了监护人" in page
    assert _start(client, guardian, "2027-09-01").status_code == 302  # no longer blocks a new start


@pytest.mark.parametrize("persona", ["social_worker", "village_worker", "visiting_cadre"])
def test_who_may_not_record_gets_404(world: World, login: Any, persona: str) -> None:
    guardian = father_guardian(world, make_report(world, "a1", social_worker=True))
    refusal = DutyRefusal.objects.create(
        report=guardian.report, guardian=guardian, started_on="2028-01-01", recorded_by=world.users["police"]
    )
    client = login(persona)
    assert _start(client, guardian, "2028-02-01").status_code == 404
    assert _end(client, refusal, "2028-02-01").status_code == 404
    assert client.post(f"/interventions/refusals/{refusal.pk}/void/", {"reason": "x"}).status_code == 404
    refusal.refresh_from_db()
    assert (refusal.ended_on, refusal.voided_at, DutyRefusal.objects.count()) == (None, None, 1)
