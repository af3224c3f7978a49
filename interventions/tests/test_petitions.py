"""Petitions to revoke guardianship through HTTP: filing, each step, the decision, and every
refusal (dates before the filing, a decision without an outcome or a new guardian, a closed
petition, a second open one), and who may record them."""

from typing import Any

import pytest

from interventions.models import Petition, PetitionStep
from interventions.tests.helpers import father_guardian, make_report
from testing.world import World


def _file(client: Any, guardian: Any, **overrides: Any) -> Any:
    data = {
        "petitioner_kind": "civil_affairs",
        "petitioner_name": "合浦县民政局",
        "grounds": ["refused_duty"],
        "court": "合浦县人民法院",
        "filed_on": "2028-03-01",
        "note": "父母外出后不再联系",
    }
    data.update(overrides)
    return client.post(
        f"/interventions/guardians/{guardian.pk}/petitions/new/",
        {k: v for k, v in data.items() if v is not None},
    )


def _step(client: Any, petition: Petition, to: str, on: str) -> Any:
    return client.post(
        f"/interventions/petitions/{petition.pk}/step/", {"to": to, "on": on, "note": "法院通知"}
    )


def _decide(client: Any, petition: Petition, **overrides: Any) -> Any:
    data = {
        "decided_on": "2028-03-14",
        "outcome": "revoked",
        "new_guardian_name": "张奶奶",
        "new_guardian_relation": "grandmother",
    }
    data.update(overrides)
    return client.post(
        f"/interventions/petitions/{petition.pk}/decide/", {k: v for k, v in data.items() if v is not None}
    )


@pytest.fixture
def guardian(world: World) -> Any:
    return father_guardian(world, make_report(world, "a1"))


def test_a_petition_is_tracked_to_its_decision(world: World, login: Any, guardian: Any) -> None:
    client = login("county_admin")
    form = client.get(f"/interventions/guardians/{guardian.pk}/petitions/new/")
    assert form.context["form"].initial["court"] == "合浦县人民法院"
    assert _file(client, guardian).status_code == 302
    petition = Petition.objects.get()
    assert (petition.state, petition.petitioner_kind, petition.grounds, petition.filed_by) == (
        "filed",
        "civil_affairs",
        ["refused_duty"],
        world.users["county_admin"],
    )
    assert _step(client, petition, "accepted", "2028-03-05").status_code == 302
    assert _step(client, petition, "heard", "2028-03-10").status_code == 302
    response = _decide(client, petition, protection_order="on", maintenance_note="父亲每月负担抚养费 800 元")
    assert response.status_code == 302
    petition.refresh_from_db()
    assert (petition.state, petition.outcome, str(petition.decided_on)) == (
        "decided",
        "revoked",
        "2028-03-14",
    )
    assert (str(petition.accepted_on), str(petition.heard_on)) == ("2028-03-05", "2028-03-10")
    assert petition.new_guardian_label == "张奶奶（祖母）" and petition.protection_order
    steps = [
        (s.state, str(s.on), s.by) for s in PetitionStep.objects.filter(petition=petition).order_by("on")
    ]
    admin = world.users["county_admin"]
    assert steps == [
        ("filed", "2028-03-01", admin),
        ("accepted", "2028-03-05", admin),
        ("heard", "2028-03-10", admin),
        ("decided", "2028-03-14", admin),
    ]
    assert petition.history.count() == 4
    page = client.get(f"/interventions/reports/{guardian.report_id}/").content.decode()
    assert "法院已判决</strong>：撤销监护人资格" in page and "另行指定监护人：张奶奶（祖母）" in page
    assert "人身安全保护令：已签发" in page and "父亲每月负担抚养费 800 元" in page
    assert f"/interventions/petitions/{petition.pk}/decide/" not in page  # closed: no more actions


def test_the_form_offers_the_grounds_met(world: World, login: Any, guardian: Any) -> None:
    client = login("county_admin")
    client.post(f"/interventions/guardians/{guardian.pk}/refusals/new/", {"started_on": "2027-08-01"})
    form = client.get(f"/interventions/guardians/{guardian.pk}/petitions/new/").context["form"]
    assert form.initial["grounds"] == ["refused_duty"]
    assert not Petition.objects.exists()  # offered, not filed


def test_a_second_open_petition_is_refused(world: World, login: Any, guardian: Any) -> None:
    client = login("township_supervisor")
    _file(client, guardian)
    response = _file(client, guardian, filed_on="2028-03-02")
    assert response.status_code == 200
    assert response.context["form"].non_field_errors() == [
        "该监护人已有尚未结束的撤销监护人资格申请，请在原申请中更新进展。"
    ]
    assert Petition.objects.count() == 1


@pytest.mark.parametrize(
    ("overrides", "field", "message"),
    [
        ({"grounds": None}, "grounds", "请至少选择一项申请理由。"),
        ({"filed_on": "2028-03-16"}, "filed_on", "申请日期不能晚于今天。"),
        ({"petitioner_name": ""}, "petitioner_name", "该字段是必填项。"),
        ({"grounds": ["whatever"]}, "grounds", "选择一个有效的选项"),
    ],
)
def test_a_wrong_petition_is_refused_at_the_field(
    world: World, login: Any, guardian: Any, overrides: dict[str, Any], field: str, message: str
) -> None:
    response = _file(login("county_admin"), guardian, **overrides)
    assert response.status_code == 200
    assert any(error.startswith(message) for error in response.context["form"].errors[field])
    assert not Petition.objects.exists()


@pytest.mark.parametrize(
    ("overrides", "field", "message"),
    [
        ({"decided_on": "2028-02-28"}, "decided_on", "判决日期不能早于申请日期（2028-03-01）。"),
        ({"decided_on": "2028-03-16"}, "decided_on", "判决日期不能晚于今天。"),
        ({"outcome": None}, "outcome", "该字段是必填项。"),
        ({"outcome": "withdrawn"}, "outcome", "选择一个有效的选项"),
        (
            {"new_guardian_name": None, "new_guardian_relation": None},
            "new_guardian_name",
            "撤销监护人资格的，请填写法院另行指定的监护人或机构。",
        ),
        (
            {"new_guardian_relation": None},
            "new_guardian_relation",
            "请同时填写另行指定监护人的姓名和与儿童的关系。",
        ),
        (
            {"new_guardian_institution": "县儿童福利院"},
            "new_guardian_institution",
            "另行指定的监护人填写个人或机构其中一项。",
        ),
        ({"outcome": "rejected"}, "new_guardian_name", "驳回申请的，不另行指定监护人。"),
    ],
)
def test_a_wrong_decision_is_refused_and_writes_nothing(
    world: World, login: Any, guardian: Any, overrides: dict[str, Any], field: str, message: str
) -> None:
    client = login("county_admin")
    _file(client, guardian)
    petition = Petition.objects.get()
    response = _decide(client, petition, **overrides)
    assert response.status_code == 200
    assert any(error.startswith(message) for error in response.context["form"].errors[field])
    petition.refresh_from_db()
    assert (petition.state, petition.outcome, petition.decided_on) == ("filed", "", None)
    assert PetitionStep.objects.count() == 1


def test_an_institution_may_be_the_new_guardian_and_a_rejection_names_none(
    world: World, login: Any, guardian: Any
) -> None:
    client = login("county_admin")
    _file(client, guardian)
    petition = Petition.objects.get()
    response = _decide(
        client,
        petition,
        new_guardian_name="",
        new_guardian_relation="",
        new_guardian_institution="合浦县儿童福利院",
    )
    assert response.status_code == 302
    petition.refresh_from_db()
    assert petition.new_guardian_label == "合浦县儿童福利院"


@pytest.mark.parametrize(
    ("steps", "to", "on", "field", "message"),
    [
        ((), "accepted", "2028-02-29", "on", "日期不能早于申请日期（2028-03-01）。"),
        ((("accepted", "2028-03-05"),), "heard", "2028-03-04", "on", "日期不能早于受理日期（2028-03-05）。"),
        ((("accepted", "2028-03-05"),), "accepted", "2028-03-06", "to", "选择一个有效的选项"),
        ((("heard", "2028-03-05"),), "accepted", "2028-03-06", "to", "选择一个有效的选项"),
        ((), "decided", "2028-03-06", "to", "选择一个有效的选项"),  # a decision goes through its own form
    ],
)
def test_a_wrong_step_is_refused(
    world: World,
    login: Any,
    guardian: Any,
    steps: tuple[tuple[str, str], ...],
    to: str,
    on: str,
    field: str,
    message: str,
) -> None:
    client = login("county_admin")
    _file(client, guardian)
    petition = Petition.objects.get()
    for state, day in steps:
        assert _step(client, petition, state, day).status_code == 302
    petition.refresh_from_db()
    before = (petition.state, PetitionStep.objects.count())
    response = _step(client, petition, to, on)
    assert response.status_code == 200
    assert any(error.startswith(message) for error in response.context["form"].errors[field])
    petition.refresh_from_db()
    assert (petition.state, PetitionStep.objects.count()) == before


def test_a_withdrawn_petition_is_closed(world: World, login: Any, guardian: Any) -> None:
    client = login("township_supervisor")
    _file(client, guardian)
    petition = Petition.objects.get()
    assert _step(client, petition, "withdrawn", "2028-03-03").status_code == 302
    petition.refresh_from_db()
    assert (petition.state, petition.outcome, str(petition.decided_on)) == (
        "withdrawn",
        "withdrawn",
        "2028-03-03",
    )
    response = _decide(client, petition)
    assert response.status_code == 200
    assert response.context["form"].non_field_errors() == ["该申请已结束（已撤回），不能再更新。"]
    petition.refresh_from_db()
    assert petition.state == "withdrawn"
    assert _file(client, guardian, filed_on="2028-03-10").status_code == 302  # a new one may be filed


def test_a_decided_petition_takes_no_more_steps(world: World, login: Any, guardian: Any) -> None:
    client = login("county_admin")
    _file(client, guardian)
    petition = Petition.objects.get()
    _decide(client, petition, outcome="rejected", new_guardian_name="", new_guardian_relation="")
    response = _step(client, petition, "withdrawn", "2028-03-15")
    assert response.status_code == 200
    assert response.context["form"].errors["to"]  # nothing is offered on a closed petition
    assert _decide(client, petition).context["form"].non_field_errors() == [
        "该申请已结束（法院已判决），不能再更新。"
    ]
    petition.refresh_from_db()
    assert (petition.state, petition.outcome) == ("decided", "rejected")


@pytest.mark.parametrize("persona", ["police", "social_worker", "village_worker"])
def test_who_may_not_petition_gets_404(world: World, login: Any, persona: str) -> None:
    report = make_report(world, "a1", social_worker=True)
    guardian = father_guardian(world, report)
    _file(login("county_admin"), guardian)
    petition = Petition.objects.get()
    client = login(persona)
    assert _file(client, guardian, filed_on="2028-03-02").status_code == 404
    assert _step(client, petition, "accepted", "2028-03-05").status_code == 404
    assert _decide(client, petition).status_code == 404
    petition.refresh_from_db()
    assert (petition.state, Petition.objects.count()) == ("filed", 1)
    if persona != "village_worker":  # readers see the petition, without the actions
        page = client.get(f"/interventions/reports/{report.pk}/").content.decode()
        assert "已提出申请" in page and f"/interventions/petitions/{petition.pk}/step/" not in page
