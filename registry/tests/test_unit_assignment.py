"""A provider's staff (Role.PROVIDER_STAFF) see exactly the children with an active
UnitAssignment to their unit (R16), through the doors users use: the ledger, the file page;
nothing else, and nothing once the assignment ends. A referral (转介) to the provider that its
staff accept opens the file to them; the measure done closes it again."""

import re
from typing import Any

from cases.models import MeasureStatus
from cases.tests.helpers import make_case, make_measure
from registry.models import UnitAssignment
from testing.world import World


def _ledger_names(client: Any) -> list[str]:
    body = client.post("/children/", {"q": "", "status": ""}).content.decode()
    rows = re.search(r"<tbody>(.*?)</tbody>", body, re.S)
    return re.findall(r'<a href="/children/[0-9a-f-]+/">([^<]+)</a>', rows.group(1)) if rows else []


def test_the_staff_see_exactly_the_assigned_files(world: World, login: Any) -> None:
    client = login("provider_staff")
    assert _ledger_names(client) == ["张三"]
    assert client.get(f"/children/{world.children['a1'].id}/").status_code == 200
    for key in ("a2", "b1", "other"):
        assert client.get(f"/children/{world.children[key].id}/").status_code == 404, key


def test_a_second_assignment_opens_a_second_file(world: World, login: Any) -> None:
    UnitAssignment.objects.create(child=world.children["b1"], unit=world.provider, source="assigned")
    client = login("provider_staff")
    assert sorted(_ledger_names(client)) == ["张三", "王五"]
    assert client.get(f"/children/{world.children['b1'].id}/").status_code == 200


def test_an_ended_assignment_closes_the_file(world: World, login: Any) -> None:
    UnitAssignment.objects.filter(unit=world.provider).update(active=False)
    client = login("provider_staff")
    assert _ledger_names(client) == []
    assert client.get(f"/children/{world.children['a1'].id}/").status_code == 404


def test_an_assignment_to_another_unit_opens_nothing(world: World, login: Any) -> None:
    from geo.models import Unit

    UnitAssignment.objects.create(
        child=world.children["a2"], unit=Unit.objects.get(name="合浦县社工站"), source="assigned"
    )
    client = login("provider_staff")
    assert _ledger_names(client) == ["张三"]
    assert client.get(f"/children/{world.children['a2'].id}/").status_code == 404


def test_an_accepted_referral_opens_the_file_until_the_measure_is_done(world: World, login: Any) -> None:
    child = world.children["a2"]
    case = make_case(world, "a2")
    measure = make_measure(world, case, at=world.provider)
    client = login("provider_staff")
    assert client.get(f"/children/{child.id}/").status_code == 404

    answer = client.post(f"/cases/referrals/{measure.id}/", {"form": "answer", "decision": "accept"})
    assert answer.status_code == 302
    assignment = UnitAssignment.objects.get(measure_id=measure.id)
    assert assignment.active and assignment.unit == world.provider and assignment.source == "referral"
    assert client.get(f"/children/{child.id}/").status_code == 200
    assert sorted(_ledger_names(client)) == ["张三", "李四"]

    done = client.post(
        f"/cases/referrals/{measure.id}/",
        {"form": "progress", "status": MeasureStatus.DONE, "note": "已完成"},
    )
    assert done.status_code == 302
    assignment.refresh_from_db()
    assert not assignment.active and assignment.ended_at is not None
    assert client.get(f"/children/{child.id}/").status_code == 404
    assert _ledger_names(client) == ["张三"]


def test_a_declined_referral_opens_nothing(world: World, login: Any) -> None:
    child = world.children["a2"]
    measure = make_measure(world, make_case(world, "a2"), at=world.provider)
    client = login("provider_staff")
    response = client.post(
        f"/cases/referrals/{measure.id}/", {"form": "answer", "decision": "decline", "reason": "人手不足"}
    )
    assert response.status_code == 302
    assert not UnitAssignment.objects.filter(measure_id=measure.id).exists()
    assert client.get(f"/children/{child.id}/").status_code == 404
