"""Opening a case (立案) from a report the police have notified to the township."""

from typing import Any

from audit.models import AuditEvent, EventType
from cases.models import Case, CaseState, CaseTransition, TransitionKind
from cases.tests.helpers import make_report
from reports.models import ReportState
from testing.world import World


def test_it_opens_the_case_for_a_named_supervisor(world: World, login: Any) -> None:
    report = make_report(world, "a1")
    client = login("township_supervisor")
    page = client.get(f"/cases/reports/{report.pk}/open/")
    assert page.status_code == 200 and "张三" in page.content.decode()

    response = client.post(f"/cases/reports/{report.pk}/open/")
    case = Case.objects.get(report=report)
    assert response.status_code == 302 and response["Location"] == f"/cases/{case.pk}/"
    assert (case.state, case.child_id, case.township_id) == (
        CaseState.ASSESSING,
        report.child_id,
        report.township_id,
    )
    assert case.opened_by == world.users["township_supervisor"]
    assert case.history.count() == 1
    transition = CaseTransition.objects.get(case=case)
    assert (transition.kind, transition.from_state, transition.to_state) == (
        TransitionKind.OPEN,
        "",
        "assessing",
    )
    assert AuditEvent.objects.filter(
        action=EventType.CREATE, object_type="case", object_id=str(case.pk)
    ).exists()


def test_it_opens_one_case_per_report(world: World, login: Any) -> None:
    report = make_report(world, "b1")
    client = login("county_admin")
    first = client.post(f"/cases/reports/{report.pk}/open/")
    second = client.post(f"/cases/reports/{report.pk}/open/", follow=True)
    case = Case.objects.get(report=report)
    assert first["Location"] == f"/cases/{case.pk}/"
    assert second.redirect_chain[-1][0] == f"/cases/{case.pk}/"
    assert "该报告已经立案。" in second.content.decode()
    assert Case.objects.filter(report=report).count() == 1
    assert CaseTransition.objects.filter(case=case).count() == 1


def test_it_refuses_a_report_not_yet_notified_to_the_township(world: World, login: Any) -> None:
    report = make_report(world, "a1", state=ReportState.ATTENDED)
    client = login("township_supervisor")
    response = client.post(f"/cases/reports/{report.pk}/open/")
    assert response.status_code == 200
    assert "公安机关尚未将该报告通报乡镇，暂不能立案评估。" in response.content.decode()
    assert not Case.objects.exists()


def test_it_hides_the_report_from_those_who_may_not_open_it(world: World, login: Any) -> None:
    """The police read the report but do not open cases; an unnamed supervisor and the
    village's child director do not even read it: 404 for all, nothing written."""
    named = make_report(world, "a1")
    unnamed = make_report(world, "a2", supervisor=False)
    for persona, report in (
        ("police", named),
        ("village_worker", named),
        ("school_staff", named),
        ("county_officer", named),
        ("township_supervisor", unnamed),
    ):
        client = login(persona)
        for method in (client.get, client.post):
            response = method(f"/cases/reports/{report.pk}/open/")
            assert response.status_code == 404, (persona, method)
            assert "张三" not in response.content.decode() and "李四" not in response.content.decode()
        client.logout()
    assert not Case.objects.exists()
    assert AuditEvent.objects.filter(action=EventType.DENIED, object_type__in=["report", "case"]).exists()
