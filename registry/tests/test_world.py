import pytest

from registry.access import children_editable_by, children_visible_to
from testing.world import World


@pytest.mark.parametrize("persona", list(World.VISIBLE))
def test_it_scopes_each_persona(world: World, persona: str) -> None:
    visible = set(children_visible_to(world.users[persona]).values_list("id", flat=True))
    expected = {world.children[key].id for key in World.VISIBLE[persona]}
    assert visible == expected


@pytest.mark.parametrize("persona", list(World.VISIBLE))
def test_it_limits_writes(world: World, persona: str) -> None:
    writable = set(children_editable_by(world.users[persona]).values_list("id", flat=True))
    expected = {world.children[key].id for key in World.WRITABLE.get(persona, set())}
    assert writable == expected
