"""Services refuse what the forms refuse, whatever door the data comes through."""

import pytest
from django.core.exceptions import ValidationError

from registry.models import Child
from registry.services import child_file_open
from testing.world import World, child_data


def test_it_refuses_a_parent_away_without_a_work_place(world: World) -> None:
    data = child_data(world.village_a1, name="无地点", father={"name": "某父", "status": "away"})
    with pytest.raises(ValidationError) as info:
        child_file_open(user=world.users["village_worker"], data=data)
    assert "father-work_province" in info.value.error_dict
    assert not Child.objects.filter(name="无地点").exists()  # nothing half-written


def test_it_refuses_an_id_number_that_contradicts_the_birth_date(world: World) -> None:
    data = child_data(world.village_a1, name="不一致")
    data.child["birth_date"] = data.child["birth_date"].replace(day=2)
    with pytest.raises(ValidationError) as info:
        child_file_open(user=world.users["village_worker"], data=data)
    assert "birth_date" in info.value.error_dict
