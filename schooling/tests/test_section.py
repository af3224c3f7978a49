"""The child file page's schooling section (schooling_tags.schooling_section), rendered as the
child page would render it: what each persona is offered there. (The page includes it once
the lead adds the tag to registry/child_detail.html.)"""

from django.template import Context, Template
from django.test import RequestFactory

from testing.world import World

from .helpers import child, open_case

TAG = "{% load schooling_tags %}{% schooling_section %}"


def _render(world: World, persona: str, key: str = "a1") -> str:
    request = RequestFactory().get("/")
    request.user = world.users[persona]
    return Template(TAG).render(Context({"child": child(world, key), "request": request}))


def test_the_school_is_offered_to_report(world: World) -> None:
    assert f"/schooling/children/{world.children['a1'].pk}/new/" in _render(world, "school_staff")


def test_the_open_case_is_linked_instead(world: World) -> None:
    case = open_case(world)
    body = _render(world, "village_worker")
    assert f"/schooling/{case.pk}/" in body and "劝返中" in body
    assert "/new/" not in _render(world, "school_staff")


def test_roles_without_cases_see_nothing(world: World) -> None:
    open_case(world)
    for persona in ("police", "social_worker"):
        assert "控辍保学" not in _render(world, persona)


def test_the_police_see_a_missing_hukou(world: World) -> None:
    from registry.models import Child

    Child.objects.filter(pk=world.children["a1"].pk).update(hukou_registered=False)
    body = _render(world, "police")
    assert "未登记" in body and "/schooling/hukou/" in body
    assert "登记缺课或辍学" not in body
