"""interventions.selectors.timeline_events: every intervention, refusal, judged ground and
petition step of the report, with who and when, oldest first (stage "intervention")."""

import datetime as dt
from typing import Any

from interventions.selectors import timeline_events
from interventions.tests.helpers import father_guardian, intervention_post, make_report, police_unit
from testing.world import World


def test_it_lists_what_was_done_with_who_and_when(world: World, login: Any) -> None:
    report = make_report(world, "a1")
    guardian = father_guardian(world, report)
    other_report = make_report(world, "a1")
    other = father_guardian(world, other_report)
    base = f"/interventions/guardians/{guardian.pk}"
    police = login("police")
    police.post(
        f"{base}/interventions/new/",
        intervention_post(police_unit(world), kind="admonition", on="2028-01-10"),
    )
    police.post(
        f"/interventions/guardians/{other.pk}/interventions/new/", intervention_post(police_unit(world))
    )
    police.post(f"{base}/refusals/new/", {"started_on": "2027-12-01"})
    admin = login("county_admin")
    admin.post(f"{base}/concerns/", {"grounds": ["serious_harm"], "basis": "医院诊断"})
    admin.post(
        f"{base}/petitions/new/",
        {
            "petitioner_kind": "civil_affairs",
            "petitioner_name": "合浦县民政局",
            "grounds": ["serious_harm"],
            "court": "合浦县人民法院",
            "filed_on": "2028-03-02",
        },
    )

    events = timeline_events(report)
    assert [event.stage for event in events] == ["intervention"] * 4
    assert [event.at for event in events] == sorted(event.at for event in events)
    first = events[0]
    assert first.at == dt.datetime(
        2027, 12, 1, tzinfo=first.at.tzinfo
    ) and first.at.utcoffset() == dt.timedelta(hours=8)
    assert (first.label, first.who) == ("开始拒不履行监护职责：张父（父亲）", "police")
    labels = [(event.label, event.who) for event in events[1:]]
    assert labels[0] == ("训诫：张父（父亲）", "police · 廉州派出所")
    assert labels[1] == ("撤销监护人资格申请：已提出申请（张父（父亲））", "county_admin")
    assert labels[2] == ("认定情形：张父（父亲）", "county_admin")  # today, after the 2 March filing
    assert events[2].detail == "申请人：县民政局 合浦县民政局；法院：合浦县人民法院"
    assert len(timeline_events(other_report)) == 1  # each report its own


def test_an_empty_report_has_no_events(world: World) -> None:
    assert timeline_events(make_report(world, "b1")) == []
