"""我的服务对象: a provider's staff see the children referred or assigned to their provider
(name, village, age, key mark, link to the file) and a link to their provider's page; it is
their first page. Everyone else: 403 here, and their own first page at /."""

from typing import Any

import pytest

from audit.models import AuditEvent, EventType
from providers.models import Provider
from registry.models import Child, UnitAssignment
from testing.world import World

from .helpers import place_provider


def test_the_staff_see_their_served_children(world: World, login: Any) -> None:
    provider = place_provider(world, "a1")
    Child.objects.filter(pk=world.children["a1"].pk).update(is_key=True)
    response = login("provider_staff").get("/providers/mine/")
    body = response.content.decode()
    assert response.status_code == 200
    a1 = world.children["a1"]
    assert f'href="/children/{a1.id}/"' in body and "甲一村委会" in body and "重点" in body
    assert "李四" not in body and "王五" not in body and "赵六" not in body
    assert f'href="/providers/{provider.id}/"' in body and "甲一村儿童之家" in body
    assert AuditEvent.objects.filter(action=EventType.LIST, detail__section="served").exists()


def test_an_ended_assignment_leaves_the_list(world: World, login: Any) -> None:
    UnitAssignment.objects.filter(unit=world.provider).update(active=False)
    body = login("provider_staff").get("/providers/mine/").content.decode()
    assert "张三" not in body and "目前没有转介或指派给本机构的儿童" in body


def test_it_is_the_staffs_first_page(world: World, login: Any) -> None:
    response = login("provider_staff").get("/")
    body = response.content.decode()
    assert response.status_code == 200 and "我的服务对象" in body and "张三" in body
    assert response.context["counts"]["active"] == 1


def test_a_provider_without_a_register_entry_still_lists_the_children(world: World, login: Any) -> None:
    assert not Provider.objects.exists()
    assert "张三" in login("provider_staff").get("/providers/mine/").content.decode()


@pytest.mark.parametrize("persona", ["county_admin", "village_worker", "social_worker", "auditor", "no_role"])
def test_other_roles_are_refused(persona: str, world: World, login: Any) -> None:
    assert login(persona).get("/providers/mine/").status_code == 403


def test_other_roles_keep_their_first_page(world: World, login: Any) -> None:
    body = login("county_officer").get("/").content.decode()
    assert "我的范围" in body and "我的服务对象" not in body
