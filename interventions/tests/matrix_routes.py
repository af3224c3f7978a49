"""Permission-matrix rows of the interventions app, read by core/tests/test_permission_matrix.py.

Each case makes, in its savepoint, a report on the target child (tests/helpers.py): a1 and a2
are routed to 廉州派出所 (the police persona) with the township supervisor named; the a1 report
also names the social worker; b1's goes to a county police bureau made for it, the other
county's child's to a station there. The policy, written out (interventions/access.py):
- read: the routed police, county admins of the report's county, the people named on it;
- record (interventions, refusals, judged grounds): the routed police, county admins, named
  supervisors (the named social worker reads only);
- petitions: county admins and named supervisors (not the police).
Everyone else gets 404 as for a missing object, on reads and writes alike.
"""

import datetime as dt
import uuid
from collections.abc import Hashable
from types import ModuleType
from typing import Any

from django.utils import timezone

from accounts.models import RoleGrant
from interventions.models import DutyRefusal, Guardian, GuardianConcern, Intervention, Petition, PetitionStep
from interventions.tests.helpers import father_guardian, make_report
from registry.models import Child
from testing.world import World

READERS = {
    "a1": {"county_admin", "police", "township_supervisor", "social_worker"},
    "a2": {"county_admin", "police", "township_supervisor"},
    "b1": {"county_admin"},
    "other": set(),
}
RECORDERS = {
    "a1": {"county_admin", "police", "township_supervisor"},
    "a2": {"county_admin", "police", "township_supervisor"},
    "b1": {"county_admin"},
    "other": set(),
}
PETITIONERS = {
    "a1": {"county_admin", "township_supervisor"},
    "a2": {"county_admin", "township_supervisor"},
    "b1": {"county_admin"},
    "other": set(),
}


def _policy(table: dict[str, set[str]]) -> Any:
    def policy(persona: str, obj: str | None) -> str | int:
        return "ok" if persona in table.get(obj or "", set()) else 404

    return policy


readable, recordable, petitionable = _policy(READERS), _policy(RECORDERS), _policy(PETITIONERS)


def _report(world: World, key: str) -> uuid.UUID:
    return make_report(world, key, social_worker=key == "a1").pk


def _guardian(world: World, key: str) -> uuid.UUID:
    return father_guardian(world, make_report(world, key, social_worker=key == "a1")).pk


def _intervention(world: World, key: str) -> uuid.UUID:
    guardian = Guardian.objects.get(pk=_guardian(world, key))
    intervention = Intervention.objects.create(
        report=guardian.report,
        guardian=guardian,
        kind="criticism",
        on=timezone.localdate(),
        unit=guardian.report.routed_unit,
        by=world.users["county_admin"],
        concerns=["begging"],
        submission_key=uuid.uuid4(),
    )
    return intervention.pk


def _refusal(world: World, key: str) -> uuid.UUID:
    guardian = Guardian.objects.get(pk=_guardian(world, key))
    refusal = DutyRefusal.objects.create(
        report=guardian.report,
        guardian=guardian,
        started_on=timezone.localdate() - dt.timedelta(days=30),
        recorded_by=world.users["county_admin"],
    )
    return refusal.pk


def _petition(world: World, key: str) -> uuid.UUID:
    guardian = Guardian.objects.get(pk=_guardian(world, key))
    filed_on = timezone.localdate() - dt.timedelta(days=5)
    petition = Petition.objects.create(
        report=guardian.report,
        guardian=guardian,
        petitioner_kind="civil_affairs",
        petitioner_name="合浦县民政局",
        grounds=["serious_harm"],
        court="合浦县人民法院",
        filed_on=filed_on,
        filed_by=world.users["county_admin"],
    )
    PetitionStep.objects.create(petition=petition, state="filed", on=filed_on, by=world.users["county_admin"])
    return petition.pk


def routes(m: ModuleType) -> dict[str, Any]:
    def child(ctx: Any) -> Child:
        return ctx.child or Child.objects.get(pk=ctx.world.children["a1"].pk)

    def name(ctx: Any) -> str:
        return ctx.child.name if ctx.child else ""

    def father(ctx: Any) -> str:
        return ctx.child.parents.get(role="father").name if ctx.child else ""

    def today() -> str:
        return timezone.localdate().isoformat()

    def guardian_data(ctx: Any) -> dict[str, Any]:
        return {"person": "named", "name": "矩阵监护人", "relation": "grandmother"}

    def guardians(ctx: Any) -> Hashable:
        return Guardian.objects.filter(report__child=child(ctx)).count()

    def intervention_data(ctx: Any) -> dict[str, Any]:
        user = ctx.world.users.get(ctx.persona)
        grant = RoleGrant.objects.filter(user=user).first() if user else None
        return {
            "submission_key": str(uuid.uuid4()),
            "kind": "criticism",
            "on": today(),
            "unit": str(grant.unit_id if grant else ctx.world.school.pk),
            "concerns": "begging",
            "note": "矩阵测试：当面批评教育",
        }

    def interventions(ctx: Any) -> Hashable:
        return Intervention.objects.filter(report__child=child(ctx)).count()

    def void_data(ctx: Any) -> dict[str, Any]:
        return {"reason": "矩阵测试：录错"}

    def interventions_voided(ctx: Any) -> Hashable:
        return Intervention.objects.filter(report__child=child(ctx), voided_at__isnull=False).count()

    def refusal_data(ctx: Any) -> dict[str, Any]:
        return {"started_on": (timezone.localdate() - dt.timedelta(days=10)).isoformat(), "note": "矩阵测试"}

    def refusals(ctx: Any) -> Hashable:
        return DutyRefusal.objects.filter(report__child=child(ctx)).count()

    def refusals_ended(ctx: Any) -> Hashable:
        return DutyRefusal.objects.filter(report__child=child(ctx), ended_on__isnull=False).count()

    def refusals_voided(ctx: Any) -> Hashable:
        return DutyRefusal.objects.filter(report__child=child(ctx), voided_at__isnull=False).count()

    def concern_data(ctx: Any) -> dict[str, Any]:
        return {"grounds": "serious_harm", "basis": "矩阵测试：医院诊断多处骨折"}

    def concerns(ctx: Any) -> Hashable:
        return GuardianConcern.objects.filter(report__child=child(ctx)).count()

    def petition_data(ctx: Any) -> dict[str, Any]:
        return {
            "petitioner_kind": "civil_affairs",
            "petitioner_name": "合浦县民政局",
            "grounds": "serious_harm",
            "court": "合浦县人民法院",
            "filed_on": today(),
        }

    def petitions(ctx: Any) -> Hashable:
        return Petition.objects.filter(report__child=child(ctx)).count()

    def step_data(ctx: Any) -> dict[str, Any]:
        return {"to": "accepted", "on": today()}

    def accepted(ctx: Any) -> Hashable:
        return Petition.objects.filter(report__child=child(ctx), state="accepted").count()

    def decide_data(ctx: Any) -> dict[str, Any]:
        return {"decided_on": today(), "outcome": "rejected"}

    def decided(ctx: Any) -> Hashable:
        return Petition.objects.filter(report__child=child(ctx), state="decided").count()

    def form(policy: Any, data: Any, effect: Any, shows: Any = name) -> tuple[Any, ...]:
        return (m.GET(policy, shows=shows), m.Op("POST", 302, policy, data, effect=effect))

    return {
        "interventions:report": m.Route(
            "child",
            (m.GET(readable, shows=name),),
            lookup=_report,
            note="a report on the child, made per case",
        ),
        "interventions:guardian_new": m.Route(
            "child", form(recordable, guardian_data, guardians, shows=father), lookup=_report
        ),
        "interventions:intervention_new": m.Route(
            "child",
            form(recordable, intervention_data, interventions),
            lookup=_guardian,
            note="criticism and education, which a named supervisor may record too",
        ),
        "interventions:intervention_void": m.Route(
            "child", form(recordable, void_data, interventions_voided), lookup=_intervention
        ),
        "interventions:refusal_start": m.Route(
            "child", form(recordable, refusal_data, refusals), lookup=_guardian
        ),
        "interventions:refusal_end": m.Route(
            "child", form(recordable, lambda ctx: {"ended_on": today()}, refusals_ended), lookup=_refusal
        ),
        "interventions:refusal_void": m.Route(
            "child", form(recordable, void_data, refusals_voided), lookup=_refusal
        ),
        "interventions:concerns": m.Route(
            "child", form(recordable, concern_data, concerns), lookup=_guardian
        ),
        "interventions:petition_new": m.Route(
            "child", form(petitionable, petition_data, petitions), lookup=_guardian
        ),
        "interventions:petition_step": m.Route(
            "child", form(petitionable, step_data, accepted), lookup=_petition
        ),
        "interventions:petition_decide": m.Route(
            "child", form(petitionable, decide_data, decided), lookup=_petition
        ),
    }
