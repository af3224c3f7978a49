"""The grounds a worker judges met (GuardianConcern) through HTTP."""

from typing import Any

from interventions.models import GuardianConcern
from interventions.tests.helpers import father_guardian, make_report
from testing.world import World

PROMPT = "已符合申请撤销监护人资格的情形"


def _url(guardian: Any) -> str:
    return f"/interventions/guardians/{guardian.pk}/concerns/"


def test_a_ticked_ground_is_kept_with_its_basis_and_brings_the_prompt(world: World, login: Any) -> None:
    report = make_report(world, "a1")
    guardian = father_guardian(world, report)
    client = login("township_supervisor")
    page = f"/interventions/reports/{report.pk}/"
    assert PROMPT not in client.get(page).content.decode()
    response = client.post(
        _url(guardian), {"grounds": ["serious_harm", "inciting_crime"], "basis": "医院诊断多处骨折"}
    )
    assert response.status_code == 302
    rows = GuardianConcern.objects.filter(guardian=guardian).order_by("ground")
    assert [(r.ground, r.basis, r.set_by) for r in rows] == [
        ("inciting_crime", "医院诊断多处骨折", world.users["township_supervisor"]),
        ("serious_harm", "医院诊断多处骨折", world.users["township_supervisor"]),
    ]
    body = client.get(page).content.decode()
    assert (
        f"{PROMPT}：性侵害、出卖、遗弃、虐待、暴力伤害（含家庭暴力）儿童，严重损害其身心健康"
        "（GF13；JH2014 第35条第（一）项）；" in body
    )
    assert "教唆、利用儿童实施违法犯罪行为，情节恶劣（JH2014 第35条第（六）项），可考虑提起申请" in body


def test_unticking_clears_with_the_reason_and_the_prompt_goes(world: World, login: Any) -> None:
    report = make_report(world, "a1")
    guardian = father_guardian(world, report)
    client = login("county_admin")
    client.post(_url(guardian), {"grounds": ["serious_harm"], "basis": "医院诊断"})
    assert client.post(_url(guardian), {"basis": "复查：伤情系意外"}).status_code == 302
    row = GuardianConcern.objects.get()
    assert row.cleared_at is not None and row.cleared_by == world.users["county_admin"]
    assert row.clear_reason == "复查：伤情系意外" and row.history.count() == 2
    assert PROMPT not in client.get(f"/interventions/reports/{report.pk}/").content.decode()
    # Ticked again: a new row, the old one stays cleared.
    client.post(_url(guardian), {"grounds": ["serious_harm"], "basis": "再次受伤"})
    assert GuardianConcern.objects.filter(cleared_at__isnull=True).count() == 1
    assert GuardianConcern.objects.count() == 2


def test_no_change_and_no_basis_are_refused(world: World, login: Any) -> None:
    guardian = father_guardian(world, make_report(world, "a1"))
    client = login("police")
    response = client.post(_url(guardian), {"basis": "没有勾选"})
    assert response.status_code == 200 and response.context["form"].non_field_errors() == [
        "情形判断没有变化。"
    ]
    response = client.post(_url(guardian), {"grounds": ["serious_harm"], "basis": " "})
    assert response.status_code == 200 and response.context["form"].errors["basis"]
    assert not GuardianConcern.objects.exists()


def test_a_counted_ground_cannot_be_ticked(world: World, login: Any) -> None:
    guardian = father_guardian(world, make_report(world, "a1"))
    response = login("police").post(_url(guardian), {"grounds": ["begging"], "basis": "看起来像"})
    assert response.status_code == 200 and "grounds" in response.context["form"].errors
    assert not GuardianConcern.objects.exists()


def test_the_form_shows_what_is_ticked(world: World, login: Any) -> None:
    guardian = father_guardian(world, make_report(world, "a1"))
    client = login("police")
    client.post(_url(guardian), {"grounds": ["unsupervised_danger"], "basis": "多次独自在家"})
    assert client.get(_url(guardian)).context["form"].initial["grounds"] == ["unsupervised_danger"]


def test_a_reader_who_may_not_record_gets_404(world: World, login: Any) -> None:
    guardian = father_guardian(world, make_report(world, "a1", social_worker=True))
    client = login("social_worker")
    assert client.get(_url(guardian)).status_code == 404
    assert client.post(_url(guardian), {"grounds": ["serious_harm"], "basis": "x"}).status_code == 404
    assert not GuardianConcern.objects.exists()
