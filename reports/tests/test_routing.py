"""Routing, escalation and re-routing (issue 5 items 2 and 8): the escalation clock, one row
per level however often it runs, and the previous unit's access ending at once."""

import datetime as dt
from typing import Any

import pytest
import time_machine
from django.core.exceptions import ValidationError

from audit.models import AuditEvent
from notify.models import Notification
from reports.models import ProtectionPolicy, Report, ReportEscalation, ReportRouting, ReportState
from reports.routing import NO_POLICE, route_for
from reports.services import escalations_run
from reports.tests.helpers import bureau, file, fresh, station
from testing.world import World, make_user


def _later(report: Report, minutes: int) -> dt.datetime:
    return report.routed_at + dt.timedelta(minutes=minutes)


# --- routing ---------------------------------------------------------------------------------


def test_the_station_serving_the_township_comes_before_the_bureau(world: World) -> None:
    unit = bureau(world)
    assert route_for(world.township_a).name == "廉州派出所"
    assert route_for(world.township_b) == unit
    served = station(world)
    assert route_for(world.township_b) == served


def test_without_any_police_unit_routing_refuses(world: World) -> None:
    with pytest.raises(ValidationError) as error:
        route_for(world.township_b)
    assert error.value.messages == [NO_POLICE]


# --- escalation ------------------------------------------------------------------------------


def test_an_unacknowledged_report_escalates_after_30_minutes_and_again_after_120(world: World) -> None:
    bureau(world)
    report = file(world)
    earlier = list(Notification.objects.values_list("pk", flat=True))
    assert escalations_run(now=_later(report, 29)) == []
    assert fresh(report).escalation_level == 0

    first = escalations_run(now=_later(report, 30))
    assert [e.level for e in first] == [1]
    assert first[0].escalated_at == _later(report, 30)
    assert first[0].notified == ["合浦县公安局", "合浦县民政局"]
    assert fresh(report).escalation_level == 1
    sent = Notification.objects.exclude(pk__in=earlier)
    assert sorted(sent.values_list("recipient__username", flat=True)) == ["bureau_police", "county_admin"]
    assert {n.title for n in sent} == {"强制报告超时未受理（第 1 次升级）"}

    assert escalations_run(now=_later(report, 31)) == []  # run again: nothing new
    assert escalations_run(now=_later(report, 119)) == []
    second = escalations_run(now=_later(report, 120))
    assert [e.level for e in second] == [2]
    assert escalations_run(now=_later(report, 500)) == []
    assert list(ReportEscalation.objects.filter(report=report).values_list("level", flat=True)) == [1, 2]
    escalations = AuditEvent.objects.filter(object_id=str(report.pk), detail__change="escalate")
    assert escalations.count() == 2 and fresh(report).history.count() == 3


def test_a_late_first_run_records_both_levels(world: World) -> None:
    report = file(world)
    created = escalations_run(now=_later(report, 125))
    assert [e.level for e in created] == [1, 2] and fresh(report).escalation_level == 2


def test_an_acknowledged_report_does_not_escalate(world: World, login: Any) -> None:
    report = file(world)
    login("police").post(f"/reports/{report.pk}/acknowledge/")
    assert escalations_run(now=_later(report, 200)) == []
    assert not ReportEscalation.objects.exists()


def test_the_countys_own_windows_apply(world: World) -> None:
    ProtectionPolicy.objects.create(county=world.county, escalate_after_minutes=10, escalate_again_minutes=20)
    report = file(world)
    assert escalations_run(now=_later(report, 9)) == []
    assert [e.level for e in escalations_run(now=_later(report, 10))] == [1]
    assert [e.level for e in escalations_run(now=_later(report, 20))] == [2]


def test_an_escalated_report_opens_to_the_county_bureau_in_red(world: World, client: Any) -> None:
    bureau(world)
    report = file(world)
    client.force_login(world.users["bureau_police"])
    assert client.get(f"/reports/{report.pk}/").status_code == 404
    escalations_run(now=_later(report, 30))
    assert client.get(f"/reports/{report.pk}/").status_code == 200
    listing = client.get("/reports/").content.decode()
    assert 'class="overdue"' in listing and "已超时升级" in listing
    # The bureau may act on it as the police.
    assert client.post(f"/reports/{report.pk}/acknowledge/").status_code == 302
    assert fresh(report).acknowledged_by == world.users["bureau_police"]


# --- re-routing ------------------------------------------------------------------------------


def test_rerouting_moves_the_report_and_the_old_unit_gets_404_at_once(world: World, login: Any) -> None:
    other = station(world)
    report = file(world)
    police = login("police")
    assert police.get(f"/reports/{report.pk}/").status_code == 200
    police.post(f"/reports/{report.pk}/acknowledge/")

    admin = login("county_admin")
    data = {"unit": str(other.pk), "reason": "儿童实际住在党江镇"}
    assert admin.post(f"/reports/{report.pk}/reroute/", data).status_code == 302
    report = fresh(report)
    assert report.routed_unit == other and report.state == ReportState.ROUTED
    assert report.acknowledged_at is None and report.acknowledged_by is None
    route = ReportRouting.objects.get(report=report, routed_by__isnull=False)
    assert (route.unit, route.routed_by, route.reason) == (
        other,
        world.users["county_admin"],
        "儿童实际住在党江镇",
    )

    police = login("police")
    for url in (f"/reports/{report.pk}/", f"/reports/{report.pk}/status/"):
        assert police.get(url).status_code == 404
    assert (
        police.post(f"/reports/{report.pk}/attend/", {"attended_at": "2028-02-25T10:00"}).status_code == 404
    )
    assert str(report.pk) not in police.get("/reports/").content.decode()


def test_rerouting_after_attendance_keeps_the_state(world: World, login: Any) -> None:
    other = station(world)
    report = file(world)
    police = login("police")
    police.post(f"/reports/{report.pk}/acknowledge/")
    police.post(f"/reports/{report.pk}/attend/", {"attended_at": "2028-02-25T10:00"})
    admin = login("county_admin")
    admin.post(f"/reports/{report.pk}/reroute/", {"unit": str(other.pk), "reason": "转交属地派出所跟进"})
    report = fresh(report)
    assert report.routed_unit == other and report.state == ReportState.ATTENDED


def test_rerouting_notifies_the_new_unit_and_restarts_its_clock(world: World, login: Any, clock: Any) -> None:
    other = station(world)
    officer = make_user("dangjiang_police", "police", other)
    report = file(world)
    clock.shift(dt.timedelta(minutes=10))
    login("county_admin").post(
        f"/reports/{report.pk}/reroute/", {"unit": str(other.pk), "reason": "辖区调整"}
    )
    assert Notification.objects.filter(recipient=officer, kind="report.rerouted").count() == 1
    report = fresh(report)
    assert escalations_run(now=_later(report, 29)) == []
    assert [e.level for e in escalations_run(now=_later(report, 30))] == [1]


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"reason": ""}, "请填写改派原因。"),
        ({"unit": "CURRENT"}, "请选择本县的公安机关。"),
        ({"unit": ""}, "请选择改派的公安机关。"),
    ],
)
def test_it_refuses_a_rerouting_without_reason_or_target(
    world: World, login: Any, data: dict[str, str], message: str
) -> None:
    other = station(world)
    report = file(world)
    values = {"unit": str(other.pk), "reason": "辖区调整", **data}
    if values["unit"] == "CURRENT":
        values["unit"] = str(report.routed_unit_id)
    response = login("county_admin").post(f"/reports/{report.pk}/reroute/", values)
    assert response.status_code == 400 and message in response.content.decode()
    assert fresh(report).routed_unit_id == report.routed_unit_id
    assert ReportRouting.objects.filter(report=report).count() == 1


@pytest.mark.parametrize("persona", ["police", "township_supervisor", "school_staff"])
def test_only_county_admins_and_the_bureau_reroute(world: World, login: Any, persona: str) -> None:
    other = station(world)
    report = file(world)
    response = login(persona).post(
        f"/reports/{report.pk}/reroute/", {"unit": str(other.pk), "reason": "试图改派"}
    )
    assert response.status_code == 404 and fresh(report).routed_unit_id == report.routed_unit_id


def test_the_bureau_reroutes_a_report_routed_to_it_and_then_loses_it(world: World, client: Any) -> None:
    unit = bureau(world)
    report = file(world, "b1", reporter="county_admin")
    assert report.routed_unit == unit
    served = station(world)
    client.force_login(world.users["bureau_police"])
    response = client.post(
        f"/reports/{report.pk}/reroute/", {"unit": str(served.pk), "reason": "属地派出所受理"}
    )
    assert response.status_code == 302 and response["Location"] == "/reports/"
    assert fresh(report).routed_unit == served
    assert client.get(f"/reports/{report.pk}/").status_code == 404


def test_the_scheduler_escalates_on_its_tick(world: World) -> None:
    """`manage.py run_schedule` (started by make run, every minute) runs the escalation clock."""
    from django.core.management import call_command

    bureau(world)
    report = file(world)
    with time_machine.travel(_later(report, 29), tick=False):
        call_command("run_schedule", "--once", verbosity=0)
    assert fresh(report).escalation_level == 0
    with time_machine.travel(_later(report, 31), tick=False):
        call_command("run_schedule", "--once", verbosity=0)
        call_command("run_schedule", "--once", verbosity=0)  # a second scheduler on another host
    assert list(ReportEscalation.objects.filter(report=report).values_list("level", flat=True)) == [1]


# --- the jurisdiction map --------------------------------------------------------------------


def test_the_county_admin_sets_which_station_receives_a_townships_reports(world: World, login: Any) -> None:
    unit = bureau(world)
    other = station(world, name="党江派出所", serves=world.township_a)  # a second station, unused yet
    other.serves.remove(world.township_a)
    client = login("county_admin")
    page = client.get("/reports/jurisdiction/").content.decode()
    assert "廉州镇" in page and "党江镇" in page and "廉州派出所" in page

    data = {
        "county": str(world.county.pk),
        f"t_{world.township_a.pk}": "",
        f"t_{world.township_b.pk}": str(other.pk),
    }
    response = client.post("/reports/jurisdiction/", data)
    assert response.status_code == 302
    assert route_for(world.township_a) == unit  # no station: the county bureau
    assert route_for(world.township_b) == other
    row = AuditEvent.objects.filter(object_type="jurisdiction").get()
    assert {change["township"] for change in row.detail["changes"]} == {
        world.township_a.code,
        world.township_b.code,
    }

    refused = client.post("/reports/jurisdiction/", {**data, f"t_{world.township_a.pk}": "not-a-station"})
    assert refused.status_code == 400 and "请选择本县的派出所。" in refused.content.decode()


@pytest.mark.parametrize("persona", ["police", "township_supervisor", "system_admin"])
def test_only_the_county_admin_keeps_the_map(world: World, login: Any, persona: str) -> None:
    client = login(persona)
    assert client.get("/reports/jurisdiction/").status_code == 403
    assert client.post("/reports/jurisdiction/", {f"t_{world.township_a.pk}": ""}).status_code == 403
    assert route_for(world.township_a).name == "廉州派出所"
