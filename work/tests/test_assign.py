"""Assigning children to visiting cadres and social workers (township supervisor, county
admin): only eligible people, only files in the assigner's scope; the assignee then sees the
child in "my work"; ending an assignment takes the child away again."""

import pytest
from django.test import Client

from accounts.models import Role
from audit.models import AuditEvent, EventType
from geo.models import Unit, UnitKind
from registry.models import Assignment
from testing.world import World, make_user


def _assign(client: Client, world: World, key: str, assignee: str) -> object:
    return client.post(
        "/work/assign/", {"children": str(world.children[key].pk), "assignee": str(world.users[assignee].pk)}
    )


def test_it_assigns_a_child_the_assignee_then_sees(world: World, login, client: Client) -> None:
    cadre = world.users["visiting_cadre"]
    a1 = world.children["a1"]
    client.force_login(cadre)
    assert client.get(f"/children/{a1.pk}/").status_code == 404  # not yet assigned
    supervisor = login("township_supervisor")
    response = _assign(supervisor, world, "a1", "visiting_cadre")
    assert response.status_code == 302
    assignment = Assignment.objects.get(child=a1, user=cadre, active=True)
    assert assignment.role == Role.VISITING_CADRE
    assert assignment.assigned_by == world.users["township_supervisor"]
    assert assignment.history.count() == 1
    assert AuditEvent.objects.filter(
        action=EventType.UPDATE, object_id=str(a1.pk), detail__change="assign"
    ).exists()
    client.force_login(cadre)
    assert client.get(f"/children/{a1.pk}/").status_code == 200
    rows = client.get("/work/assigned/").context["page"].rows
    assert {row.pk for row in rows} == {a1.pk, world.children["a2"].pk}


def test_it_keeps_an_existing_assignment(world: World, login) -> None:
    client = login("county_admin")
    _assign(client, world, "a1", "social_worker")  # the World already assigned a1 to the social worker
    assert (
        Assignment.objects.filter(child=world.children["a1"], user=world.users["social_worker"]).count() == 1
    )


def test_it_refuses_an_assignee_outside_the_township(world: World, login) -> None:
    township_b_gov = Unit.objects.create(
        name="党江镇人民政府", kind=UnitKind.TOWNSHIP_GOVERNMENT, region=world.township_b
    )
    world.users["far_cadre"] = make_user("far_cadre", Role.VISITING_CADRE, township_b_gov)
    response = _assign(login("township_supervisor"), world, "a1", "far_cadre")
    assert response.status_code == 400
    assert "请选择" in response.content.decode() or "有效" in response.content.decode()
    assert not Assignment.objects.filter(user=world.users["far_cadre"]).exists()


def test_it_refuses_a_person_without_a_visiting_role(world: World, login) -> None:
    response = _assign(login("township_supervisor"), world, "a1", "village_worker")
    assert response.status_code == 400
    assert not Assignment.objects.filter(user=world.users["village_worker"]).exists()


def test_it_answers_404_for_a_child_outside_the_scope(world: World, login) -> None:
    response = _assign(login("township_supervisor"), world, "b1", "visiting_cadre")
    assert response.status_code == 404
    assert not Assignment.objects.filter(child=world.children["b1"]).exists()


def test_it_lists_the_scope_with_filters(world: World, login) -> None:
    client = login("township_supervisor")
    response = client.get("/work/assign/")
    names = {row["child"].name for row in response.context["rows"]}
    assert names == {"张三", "李四"}
    response = client.get("/work/assign/", {"village": str(world.village_a2.pk)})
    assert {row["child"].name for row in response.context["rows"]} == {"李四"}
    people = dict(response.context["form"].fields["assignee"].choices)
    assert str(world.users["visiting_cadre"].pk) in people
    assert str(world.users["social_worker"].pk) in people


def test_it_ends_an_assignment(world: World, login, client: Client) -> None:
    assignment = Assignment.objects.get(child=world.children["a2"], user=world.users["visiting_cadre"])
    response = login("township_supervisor").post(f"/work/assignments/{assignment.pk}/end/")
    assert response.status_code == 302
    assignment.refresh_from_db()
    assert assignment.active is False
    assert assignment.history.count() == 2
    client.force_login(world.users["visiting_cadre"])
    assert client.get(f"/children/{world.children['a2'].pk}/").status_code == 404
    assert Assignment.objects.filter(pk=assignment.pk).exists()  # ended, never deleted


def test_it_answers_404_for_an_assignment_outside_the_scope(world: World, login) -> None:
    assignment = Assignment.objects.create(
        child=world.children["b1"], user=world.users["social_worker"], role=Role.SOCIAL_WORKER
    )
    response = login("township_supervisor").post(f"/work/assignments/{assignment.pk}/end/")
    assert response.status_code == 404
    assignment.refresh_from_db()
    assert assignment.active is True


@pytest.mark.parametrize(
    "persona", ["village_worker", "visiting_cadre", "social_worker", "county_officer", "police"]
)
def test_it_refuses_other_roles(world: World, login, persona: str) -> None:
    client = login(persona)
    assert client.get("/work/assign/").status_code == 403
    assert _assign(client, world, "a1", "visiting_cadre").status_code == 403
    assignment = Assignment.objects.get(child=world.children["a1"])
    assert client.post(f"/work/assignments/{assignment.pk}/end/").status_code == 403
    assert Assignment.objects.filter(active=True).count() == 2
