"""The demo activities (seed_demo): written through the services, in the demo village."""

import pytest
from django.utils import timezone

from accounts.models import Role
from activities.demo import demo_activities_create
from activities.models import Activity, Participation
from geo.models import Unit
from registry.models import Child
from testing.world import World, make_user

pytestmark = pytest.mark.django_db


def test_it_makes_the_homes_sessions_and_the_village_activities(world: World) -> None:
    make_user("demo_village_worker", Role.VILLAGE_WORKER, Unit.objects.get(name="甲一村委会"))
    make_user("demo_township_supervisor", Role.TOWNSHIP_SUPERVISOR, Unit.objects.get(name="廉州镇人民政府"))
    Child.objects.filter(pk=world.children["a1"].pk).update(is_key=True)
    assert demo_activities_create(on=timezone.localdate()) == 4
    home = Activity.objects.filter(provider=world.provider).order_by("held_on")
    assert [activity.title for activity in home] == ["儿童之家课后作业辅导", "儿童之家课后作业辅导"]
    held, upcoming = home
    assert list(held.participations.values_list("child_id", "attended")) == [(world.children["a1"].pk, True)]
    assert list(upcoming.participations.values_list("attended", flat=True)) == [None]
    assert Activity.objects.filter(village=world.village_a1).count() == 4
    assert Participation.objects.filter(attended__isnull=False).exists()
    assert all(activity.history.exists() for activity in Activity.objects.all())


def test_it_does_nothing_without_the_demo_accounts(world: World) -> None:
    assert demo_activities_create(on=timezone.localdate()) == 0
    assert not Activity.objects.exists()
