"""Naming the guardian on a report: a parent or the entrusted guardian on the file (copied), or
someone named in free text; the same person once."""

from typing import Any

from audit.models import AuditEvent, EventType
from interventions.models import Guardian
from interventions.tests.helpers import make_report
from registry.models import EntrustedGuardian, Parent
from testing.world import World


def _url(report: Any) -> str:
    return f"/interventions/reports/{report.pk}/guardians/new/"


def test_a_parent_on_the_file_is_named_once(world: World, login: Any) -> None:
    report = make_report(world, "a1")
    father = Parent.objects.get(child=report.child, role="father")
    client = login("police")
    assert f"父亲 {father.name}" in client.get(_url(report)).content.decode()
    assert client.post(_url(report), {"person": f"parent:{father.pk}"}).status_code == 302
    assert client.post(_url(report), {"person": f"parent:{father.pk}"}).status_code == 302
    guardian = Guardian.objects.get()
    assert (guardian.parent, guardian.name, guardian.relation, guardian.added_by) == (
        father,
        "张父",
        "father",
        world.users["police"],
    )
    assert guardian.history.count() == 1
    assert AuditEvent.objects.filter(action=EventType.CREATE, object_type="report").count() == 1


def test_the_entrusted_guardian_is_copied_and_survives_a_change_on_the_file(world: World, login: Any) -> None:
    report = make_report(world, "a1")
    entrusted = EntrustedGuardian.objects.create(child=report.child, name="张奶奶", relation="grandmother")
    client = login("county_admin")
    assert "受委托监护人 张奶奶（祖母）" in client.get(_url(report)).content.decode()
    assert client.post(_url(report), {"person": f"entrusted:{entrusted.pk}"}).status_code == 302
    entrusted.delete()  # the file names another guardian: the registry deletes the old row
    guardian = Guardian.objects.get()
    assert (guardian.entrusted, guardian.name, guardian.relation) == (None, "张奶奶", "grandmother")
    assert "张奶奶" in client.get(f"/interventions/reports/{report.pk}/").content.decode()


def test_someone_not_on_the_file_needs_a_name_and_a_relation(world: World, login: Any) -> None:
    report = make_report(world, "a1")
    client = login("police")
    response = client.post(_url(report), {"person": "named", "name": " ", "relation": ""})
    assert response.status_code == 200
    errors = response.context["form"].errors
    assert errors["name"] == ["请填写监护人姓名。"] and errors["relation"] == ["请选择与儿童的关系。"]
    assert (
        client.post(_url(report), {"person": "named", "name": "张叔", "relation": "uncle_aunt"}).status_code
        == 302
    )
    assert Guardian.objects.get().name == "张叔"


def test_a_person_of_another_childs_file_is_refused(world: World, login: Any) -> None:
    report = make_report(world, "a1")
    other = Parent.objects.get(child=world.children["a2"], role="father")
    response = login("police").post(_url(report), {"person": f"parent:{other.pk}"})
    assert response.status_code == 200 and "person" in response.context["form"].errors
    assert not Guardian.objects.exists()


def test_who_may_not_record_gets_404(world: World, login: Any) -> None:
    report = make_report(world, "a1", social_worker=True)
    for persona in ("social_worker", "village_worker", "school_staff"):
        client = login(persona)
        assert client.get(_url(report)).status_code == 404
        assert (
            client.post(_url(report), {"person": "named", "name": "某", "relation": "other"}).status_code
            == 404
        )
    assert not Guardian.objects.exists()
