"""The county's care policy page: everyone with a data role reads it; the county admin
changes it, with errors at the field, and every child of the county is recomputed by a job
whose progress has its own page."""

import datetime as dt
from typing import Any

from django.test import Client

from audit.models import AuditEvent, EventType
from care.choices import Condition
from care.models import CarePolicy
from jobs.models import Job, JobState
from registry.models import Child
from registry.services import FileData, child_file_update, family_values
from testing.world import World

from .conftest import TODAY


def policy_post(world: World, **overrides: Any) -> dict[str, Any]:
    data: dict[str, Any] = {
        "county": str(world.county.pk),
        "red_days": 7,
        "orange_days": 14,
        "yellow_days": 30,
        "green_days": 90,
        "contact_limit_days": 7,
        "agreement_warning_days": 30,
        "aging_warning_days": 30,
    }
    data.update({f"condition_{code}": colour for code, colour in CarePolicy().conditions.items()})
    data.update(overrides)
    return data


def test_it_shows_the_rules_in_words_to_every_data_role(world: World, login: Any) -> None:
    for persona in ("village_worker", "school_staff", "visiting_cadre", "county_officer"):
        client: Client = login(persona)
        response = client.get("/care/policy/")
        body = response.content.decode()
        assert response.status_code == 200, persona
        assert "单独居住" in body and "每 90 天走访一次" in body and "默认规则" in body
        assert 'name="green_days"' not in body  # read-only for them
        client.logout()


def test_it_refuses_roles_without_children(world: World, client: Client) -> None:
    for persona in ("system_admin", "auditor", "no_role"):
        client.force_login(world.users[persona])
        assert client.get("/care/policy/").status_code == 403


def test_the_county_admin_changes_the_rules_and_every_child_follows(
    world: World, login: Any, django_capture_on_commit_callbacks: Any
) -> None:
    client: Client = login("county_admin")
    assert 'name="green_days"' in client.get("/care/policy/").content.decode()
    child = Child.objects.get(pk=world.children["a2"].pk)
    father, mother = family_values(child)
    child_file_update(
        user=world.users["county_admin"],
        child=child,
        expected_version=child.version,
        data=FileData(child={"guardianship_rating": "fair"}, father=father, mother=mother),
    )

    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            "/care/policy/", policy_post(world, green_days=60, condition_fair_rating="orange")
        )

    job = Job.objects.get(kind="care.recompute_county")
    assert response.status_code == 302 and response["Location"] == f"/care/jobs/{job.pk}/"
    assert job.state == JobState.SUCCEEDED
    assert job.result == {"total": 3, "changed": 3, "red": 0, "orange": 1, "yellow": 0, "green": 2, "none": 0}
    a1 = Child.objects.get(pk=world.children["a1"].pk)
    a2 = Child.objects.get(pk=world.children["a2"].pk)
    other = Child.objects.get(pk=world.children["other"].pk)
    assert a1.next_visit_due == TODAY + dt.timedelta(days=60)
    assert (a2.risk_colour, a2.next_visit_due) == ("orange", TODAY + dt.timedelta(days=14))
    assert other.next_visit_due == TODAY + dt.timedelta(days=90)  # another county
    policy = CarePolicy.objects.get(county=world.county)
    assert policy.history.first().history_user == world.users["county_admin"]  # type: ignore[attr-defined]
    assert policy.colour_for(Condition.FAIR_RATING) == "orange"
    config = AuditEvent.objects.get(action=EventType.CONFIG)
    assert config.detail["green_days"] == 60

    page = client.get(f"/care/jobs/{job.pk}/").content.decode()
    assert "已完成" in page and "等级或日期有变化" in page
    partial = client.get(f"/care/jobs/{job.pk}/", HTTP_HX_REQUEST="true").content.decode()
    assert 'id="job-progress"' in partial and "<html" not in partial
    assert "hx-trigger" not in partial  # done: the page stops polling


def test_others_cannot_change_the_rules(world: World, client: Client) -> None:
    for persona in ("township_supervisor", "village_worker", "county_officer"):
        client.force_login(world.users[persona])
        assert client.post("/care/policy/", policy_post(world, green_days=60)).status_code == 403
    assert not CarePolicy.objects.exists() and not Job.objects.exists()


def test_it_refuses_bad_intervals_at_the_field(world: World, login: Any) -> None:
    client: Client = login("county_admin")
    cases = [
        ({"orange_days": 5}, "orange_days", "橙色的走访间隔不能短于红色（7 天）。"),
        ({"green_days": 20}, "green_days", "绿色的走访间隔不能短于黄色（30 天）。"),
        ({"red_days": 0}, "red_days", "请填写 1 至 365 之间的天数。"),
        ({"green_days": 366}, "green_days", "请填写 1 至 365 之间的天数。"),
        ({"contact_limit_days": ""}, "contact_limit_days", "请填写天数。"),
    ]
    for overrides, field, message in cases:
        response = client.post("/care/policy/", policy_post(world, **overrides))
        assert response.status_code == 400, overrides
        assert response.context["form"].errors[field] == [message]
        assert message in response.content.decode()
    assert not CarePolicy.objects.exists() and not Job.objects.exists()


def test_the_job_page_is_for_county_admins_of_that_county(world: World, client: Client) -> None:
    job = Job.objects.create(
        kind="care.recompute_county", payload={"county": str(world.county.pk)}, idempotency_key="k1"
    )
    elsewhere = Job.objects.create(
        kind="care.recompute_county",
        payload={"county": str(world.village_other.parent.parent_id)},
        idempotency_key="k2",
    )
    client.force_login(world.users["county_admin"])
    running = client.get(f"/care/jobs/{job.pk}/").content.decode()
    assert "排队中" in running and 'hx-trigger="every 2s"' in running
    assert client.get(f"/care/jobs/{elsewhere.pk}/").status_code == 404
    client.force_login(world.users["township_supervisor"])
    assert client.get(f"/care/jobs/{job.pk}/").status_code == 403
