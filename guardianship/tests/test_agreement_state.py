"""Child.agreement_required / agreement_valid_until follow the file and the agreements; the
nightly pass expires agreements; the gap and expiry selectors stay in the user's scope."""

import datetime as dt
from typing import Any

from guardianship import selectors, services
from guardianship.models import AgreementStatus, GuardianshipAgreement
from registry.models import Child, EntrustedGuardian
from registry.tests.helpers import edit_post
from testing.world import World, make_child

from .helpers import guardian


def _child(world: World, key: str = "a1") -> Child:
    return Child.objects.get(pk=world.children[key].pk)


def _signed(world: World, key: str, *, start: dt.date, months: int = 12) -> GuardianshipAgreement:
    child = _child(world, key)
    if not EntrustedGuardian.objects.filter(child=child).exists():
        guardian(child)
    admin = world.users["county_admin"]
    from guardianship.rules import period_end

    agreement = services.agreement_generate(
        user=admin, child=child, valid_from=start, valid_until=period_end(start, months)
    )
    return services.agreement_sign(user=admin, agreement=agreement, signed_on=dt.date(2028, 2, 25))


def test_a_child_cared_for_by_grandparents_while_both_parents_are_away_needs_one(world: World) -> None:
    child = _child(world)
    assert child.care_type == "grandparents"
    assert child.agreement_required and child.agreement_valid_until is None


def test_the_requirement_follows_an_edit_of_the_file(world: World, login: Any) -> None:
    client = login("village_worker")
    child = _child(world)
    data = edit_post(child, care_type="one_parent", **{"mother-status": "at_home"})
    data.pop("mother-work_province")
    data.pop("mother-work_city")
    response = client.post(f"/children/{child.pk}/edit/", data)
    assert response.status_code == 302, response.content.decode()[:800]
    assert not _child(world).agreement_required

    child = _child(world)
    response = client.post(
        f"/children/{child.pk}/edit/",
        edit_post(child, care_type="relatives", **{"mother-status": "away"}),
    )
    assert response.status_code == 302
    assert _child(world).agreement_required


def test_signing_closes_the_gap_and_a_new_guardian_reopens_it(world: World) -> None:
    worker = world.users["village_worker"]
    assert list(selectors.agreement_gaps(worker)) == [_child(world)]
    agreement = _signed(world, "a1", start=dt.date(2028, 3, 1))
    assert _child(world).agreement_valid_until == agreement.valid_until == dt.date(2029, 2, 28)
    assert not selectors.agreement_gaps(worker).exists()

    # The guardian on the file changes: the agreement no longer covers the child.
    EntrustedGuardian.objects.filter(child_id=agreement.child_id).delete()
    guardian(_child(world), name="李爷爷", relation="grandfather")
    assert services.agreement_state_recompute(child=_child(world))
    assert _child(world).agreement_valid_until is None
    assert list(selectors.agreement_gaps(worker)) == [_child(world)]
    assert not services.agreement_state_recompute(child=_child(world))  # nothing left to change


def test_gaps_and_expiring_lists_stay_in_scope(world: World) -> None:
    _signed(world, "a2", start=dt.date(2027, 12, 1))  # ends 2028-11-30
    supervisor, worker = world.users["township_supervisor"], world.users["village_worker"]
    assert set(selectors.agreement_gaps(supervisor)) == {_child(world, "a1")}
    assert set(selectors.agreement_gaps(worker)) == {_child(world, "a1")}
    assert set(selectors.agreement_gaps(world.users["county_admin"])) == {
        _child(world, "a1"),
        _child(world, "b1"),
    }
    assert not selectors.agreement_gaps(world.users["no_role"]).exists()

    on = dt.date(2028, 10, 31)
    assert set(selectors.agreements_expiring(supervisor, 30, on=on)) == {_child(world, "a2")}
    assert not selectors.agreements_expiring(supervisor, 29, on=on).exists()  # 30 days to 11-30
    assert not selectors.agreements_expiring(worker, 30, on=on).exists()  # a2 is another village
    assert set(selectors.agreements_expiring(supervisor, 0, on=dt.date(2028, 11, 30))) == {
        _child(world, "a2")
    }
    assert not selectors.agreements_expiring(supervisor, 30, on=dt.date(2028, 12, 1)).exists()
    assert _child(world, "a2") in selectors.agreement_gaps(supervisor, on=dt.date(2028, 12, 1))


def test_the_nightly_pass_expires_agreements_and_is_idempotent(world: World) -> None:
    agreement = _signed(world, "a1", start=dt.date(2027, 3, 1))  # ends 2028-02-29 (leap day)
    extra = make_child(world.village_a1, world.users["county_admin"], name="孙七")
    Child.objects.filter(pk=extra.pk).update(agreement_required=False)  # stale on purpose
    counts = services.agreements_recompute_all(on=dt.date(2028, 2, 29))
    assert counts["expired"] == 0  # the last day is still inside the period
    assert counts["changed"] == 1  # the stale flag
    progress: list[tuple[int, int]] = []
    counts = services.agreements_recompute_all(on=dt.date(2028, 3, 1), progress=lambda *p: progress.append(p))
    agreement.refresh_from_db()
    assert agreement.status == AgreementStatus.EXPIRED
    assert agreement.history.latest().history_change_reason == "委托期限届满"
    total = Child.objects.count()
    assert counts == {"expired": 1, "changed": 0, "required": total, "gaps": total}
    assert progress[-1] == (total, total)
    assert services.agreements_recompute_all(on=dt.date(2028, 3, 1))["expired"] == 0  # re-run: nothing new


def test_batches_cover_every_child(world: World) -> None:
    Child.objects.update(agreement_required=False)
    counts = services.agreements_recompute_all(on=dt.date(2028, 2, 25), batch_size=2)
    assert counts["changed"] == Child.objects.count() == counts["required"]
    assert not Child.objects.filter(agreement_required=False).exists()
