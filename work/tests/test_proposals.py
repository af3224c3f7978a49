"""Life events: the nightly step proposes exits once (年满16周岁, 父母返乡); a worker
confirms (the file exits with the right reason, never deleted) or dismisses with a reason."""

import datetime as dt

import pytest
from django.db.models import F

from registry import choices as c
from registry import rules
from registry.models import Child, Parent
from testing.world import World, make_child
from work.models import LifeEventProposal, ProposalKind, ProposalState
from work.services import life_events_propose
from work.tests.helpers import today, turning_16_in


@pytest.fixture
def events(world: World) -> dict[str, Child]:
    admin = world.users["county_admin"]
    aged = make_child(world.village_a1, admin, name="满十六", birth_date=turning_16_in(-1))
    birthday = make_child(world.village_a1, admin, name="今天生日", birth_date=turning_16_in(0))
    tomorrow = make_child(world.village_a1, admin, name="明天生日", birth_date=turning_16_in(1))
    difficulty = make_child(
        world.village_a1, admin, name="困境十六", birth_date=turning_16_in(-1), is_in_difficulty=True
    )
    # 困境儿童 / 事实无人抚养儿童 run to 18 (R4): one who turned 18 yesterday, one who turns 18
    # tomorrow. Files are opened younger and aged here (the form rightly refuses an adult).
    difficulty_18 = make_child(world.village_a1, admin, name="困境十八", is_in_difficulty=True)
    orphan_17 = make_child(world.village_a1, admin, name="无人抚养十七", is_de_facto_orphan=True)
    Child.objects.filter(pk=difficulty_18.pk).update(birth_date=rules.add_years(turning_16_in(-1), -2))
    Child.objects.filter(pk=orphan_17.pk).update(birth_date=rules.add_years(turning_16_in(1), -2))
    returned = make_child(world.village_a1, admin, name="父母返乡")
    Parent.objects.filter(child=returned).update(status=c.ParentStatus.AT_HOME)
    one_home = make_child(world.village_b1, admin, name="母亲返乡")
    Parent.objects.filter(child=one_home, role=c.ParentRole.MOTHER).update(status=c.ParentStatus.AT_HOME)
    # Father away, mother at home but seriously ill: still left behind (R1).
    ill = make_child(world.village_a1, admin, name="母亲重病")
    Parent.objects.filter(child=ill, role=c.ParentRole.MOTHER).update(
        status=c.ParentStatus.AT_HOME, incapacity_reason=c.IncapacityReason.SERIOUS_ILLNESS
    )
    return {
        "aged": aged,
        "birthday": birthday,
        "tomorrow": tomorrow,
        "difficulty": difficulty,
        "difficulty_18": difficulty_18,
        "orphan_17": orphan_17,
        "returned": returned,
        "one_home": one_home,
        "ill": ill,
    }


def _open(kind: str) -> set[str]:
    rows = LifeEventProposal.objects.filter(kind=kind, state=ProposalState.PROPOSED).select_related("child")
    return {proposal.child.name for proposal in rows}


def test_it_proposes_each_exit_once(world: World, events: dict[str, Child]) -> None:
    assert life_events_propose(on=today()) == {"aged_out": 2, "aged_18": 1, "parents_returned": 2}
    assert _open(ProposalKind.AGED_OUT) == {"满十六", "今天生日"}
    assert _open(ProposalKind.AGED_18) == {"困境十八"}
    assert _open(ProposalKind.PARENTS_RETURNED) == {"父母返乡", "母亲返乡"}
    assert life_events_propose(on=today()) == {"aged_out": 0, "aged_18": 0, "parents_returned": 0}
    assert LifeEventProposal.objects.count() == 5
    proposal = LifeEventProposal.objects.get(child=events["returned"])
    assert proposal.facts == ["father_at_home", "mother_at_home"]
    assert proposal.history.count() == 1


def test_it_confirms_an_exit_with_the_right_reason(world: World, login, events: dict[str, Child]) -> None:
    life_events_propose(on=today())
    client = login("village_worker")
    for key, reason in (
        ("aged", c.ExitReason.AGED_OUT),
        ("difficulty_18", c.ExitReason.AGED_18),
        ("returned", c.ExitReason.PARENTS_RETURNED),
    ):
        proposal = LifeEventProposal.objects.get(child=events[key])
        response = client.post(
            f"/work/proposals/{proposal.pk}/confirm/", {"exit_date": today().isoformat(), "note": ""}
        )
        assert response.status_code == 302
        child = Child.objects.get(pk=events[key].pk)  # still there: exiting never deletes
        assert (child.status, child.exit_reason, child.exit_date) == (c.Status.EXITED, reason, today())
        proposal.refresh_from_db()
        assert proposal.state == ProposalState.CONFIRMED
        assert proposal.decided_by == world.users["village_worker"]
    assert _open(ProposalKind.AGED_OUT) == {"今天生日"}


def test_it_refuses_an_exit_date_in_the_future(world: World, login, events: dict[str, Child]) -> None:
    life_events_propose(on=today())
    proposal = LifeEventProposal.objects.get(child=events["aged"])
    client = login("village_worker")
    response = client.post(
        f"/work/proposals/{proposal.pk}/confirm/",
        {"exit_date": (today() + dt.timedelta(days=1)).isoformat()},
        follow=True,
    )
    assert "退出日期不能晚于今天" in response.content.decode()
    assert Child.objects.get(pk=events["aged"].pk).status == c.Status.ACTIVE


def test_it_dismisses_with_a_reason_and_does_not_propose_again(
    world: World, login, events: dict[str, Child]
) -> None:
    life_events_propose(on=today())
    proposal = LifeEventProposal.objects.get(child=events["aged"])
    client = login("village_worker")
    response = client.post(f"/work/proposals/{proposal.pk}/dismiss/", {"note": "  "}, follow=True)
    assert "请填写驳回原因" in response.content.decode()
    proposal.refresh_from_db()
    assert proposal.state == ProposalState.PROPOSED
    response = client.post(
        f"/work/proposals/{proposal.pk}/dismiss/", {"note": "出生日期登记有误，待派出所核实"}
    )
    assert response.status_code == 302
    proposal.refresh_from_db()
    assert (proposal.state, proposal.note) == (ProposalState.DISMISSED, "出生日期登记有误，待派出所核实")
    assert Child.objects.get(pk=events["aged"].pk).status == c.Status.ACTIVE
    assert life_events_propose(on=today())["aged_out"] == 0  # the file has not changed
    Child.objects.filter(pk=events["aged"].pk).update(version=F("version") + 1)  # it was edited
    assert life_events_propose(on=today())["aged_out"] == 1


def test_it_lists_open_proposals_in_scope(world: World, login, events: dict[str, Child]) -> None:
    life_events_propose(on=today())
    body = login("village_worker").get("/work/proposals/").content.decode()
    assert "满十六" in body and "父母返乡" in body
    assert "母亲返乡" not in body  # 乙一村: another township
    body = login("county_admin").get("/work/proposals/").content.decode()
    assert "母亲返乡" in body


@pytest.mark.parametrize("persona", ["police", "school_staff", "visiting_cadre"])
def test_it_answers_404_to_those_who_may_not_change_the_file(
    world: World, login, events: dict[str, Child], persona: str
) -> None:
    life_events_propose(on=today())
    proposal = LifeEventProposal.objects.get(child=events["aged"])
    client = login(persona)
    assert client.post(f"/work/proposals/{proposal.pk}/confirm/", {"exit_date": today()}).status_code == 404
    assert client.post(f"/work/proposals/{proposal.pk}/dismiss/", {"note": "无权"}).status_code == 404
    proposal.refresh_from_db()
    assert proposal.state == ProposalState.PROPOSED
    assert Child.objects.get(pk=events["aged"].pk).status == c.Status.ACTIVE


def test_it_answers_404_outside_the_writable_scope(world: World, login, events: dict[str, Child]) -> None:
    life_events_propose(on=today())
    proposal = LifeEventProposal.objects.get(child=events["one_home"])  # 乙一村
    response = login("township_supervisor").post(
        f"/work/proposals/{proposal.pk}/confirm/", {"exit_date": today()}
    )
    assert response.status_code == 404
    assert Child.objects.get(pk=events["one_home"].pk).status == c.Status.ACTIVE
