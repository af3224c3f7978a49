"""registry.access.children_visitable_by: who may record a visit for which child."""

from typing import Any

import pytest

from accounts.models import Role
from registry.access import children_visitable_by
from registry.models import Assignment
from testing.world import World

from .matrix_routes import VISITABLE


@pytest.mark.parametrize("persona", list(World.VISIBLE))
def test_it_opens_the_editable_and_the_assigned_children(persona: str, world: World) -> None:
    keys = {key for key, child in world.children.items() if child.pk in _ids(world, persona)}
    assert keys == VISITABLE.get(persona, set())


def _ids(world: World, persona: str) -> set[Any]:
    return set(children_visitable_by(world.users[persona]).values_list("pk", flat=True))


def test_an_ended_assignment_closes_the_child(world: World) -> None:
    Assignment.objects.filter(user=world.users["visiting_cadre"]).update(active=False)
    assert _ids(world, "visiting_cadre") == set()


def test_an_assignment_opens_nothing_the_user_may_not_see(world: World) -> None:
    """Only roles that read their assigned children (social workers, visiting cadres) are
    opened by an assignment: a teacher assigned by mistake to a child of another school
    still cannot visit it, nor a village director a child of another village."""
    for persona in ("school_staff", "village_worker"):
        Assignment.objects.create(
            child=world.children["b1"], user=world.users[persona], role=Role.SOCIAL_WORKER
        )
    assert world.children["b1"].pk not in _ids(world, "school_staff") | _ids(world, "village_worker")
