"""Permission-matrix rows of the work app (core/tests/test_permission_matrix.py reads them).

"我的工作" and its lists are open to every signed-in user: what they show is the user's own
scope (children_visible_to), empty for roles without one. The township view is for township
supervisors and county users; assigning for township supervisors and county admins; the
nightly job's page for county admins. Decisions on a proposal and ending an assignment act on
a child's object: 404 outside the user's writable scope, like a missing one.
"""

import uuid
from collections.abc import Hashable
from types import ModuleType
from typing import Any

from django.utils import timezone

from jobs.models import Job
from registry.models import Assignment
from testing.world import World
from work.models import LifeEventProposal, ProposalKind, ProposalState
from work.selectors import SECTIONS

OVERVIEW = frozenset({"county_admin", "county_officer", "township_supervisor"})
ASSIGNERS = frozenset({"county_admin", "township_supervisor"})


def overview_gate(persona: str, obj: str | None) -> str | int:
    return "ok" if persona in OVERVIEW else 403


def assign_gate(persona: str, obj: str | None) -> str | int:
    return "ok" if persona in ASSIGNERS else 403


def assign_scope(persona: str, obj: str | None) -> str | int:
    """The role gate first (403 for any id), then the writable scope (404, like missing)."""
    if persona not in ASSIGNERS:
        return 403
    return "ok" if obj in World.WRITABLE.get(persona, set()) else 404


def _assignment(world: World, key: str) -> uuid.UUID:
    """The child's active assignment (the World has a1 → social worker, a2 → cadre); made
    for the others on demand."""
    child = world.children[key]
    found = Assignment.objects.filter(child=child, active=True).first()
    if found is None:
        found = Assignment.objects.create(
            child=child, user=world.users["social_worker"], role="social_worker"
        )
    return found.pk


def _proposal(world: World, key: str) -> uuid.UUID:
    child = world.children[key]
    found = LifeEventProposal.objects.filter(child=child, state=ProposalState.PROPOSED).first()
    if found is None:
        found = LifeEventProposal.objects.create(
            child=child,
            kind=ProposalKind.AGED_OUT,
            proposed_on=timezone.localdate(),
            child_version=child.version,
        )
    return found.pk


def _assignments_active(ctx: Any) -> Hashable:
    if ctx.child is None:
        return None
    return tuple(
        Assignment.objects.filter(child=ctx.child).order_by("assigned_at").values_list("active", flat=True)
    )


def _proposal_states(ctx: Any) -> Hashable:
    if ctx.child is None:
        return None
    return tuple(LifeEventProposal.objects.filter(child=ctx.child).values_list("state", flat=True))


def _cadre_assignments(ctx: Any) -> Hashable:
    return Assignment.objects.filter(user=ctx.world.users["visiting_cadre"], active=True).count()


def _nightly_jobs(ctx: Any) -> Hashable:
    return Job.objects.filter(kind="work.nightly").count()


def _assign_data(ctx: Any) -> dict[str, Any]:
    return {"children": ctx.world.children["a1"].pk, "assignee": ctx.world.users["visiting_cadre"].pk}


def _confirm_data(ctx: Any) -> dict[str, Any]:
    return {"exit_date": timezone.localdate(), "note": ""}


def _dismiss_data(ctx: Any) -> dict[str, Any]:
    return {"note": "矩阵测试：出生日期有误，待核实"}


def routes(m: ModuleType) -> dict[str, Any]:
    rows: dict[str, Any] = {
        "work:home": m.Route(None, (m.GET(shows=lambda ctx: "我的工作"),)),
        "work:township": m.Route(None, (m.GET(overview_gate),)),
        "work:assign": m.Route(
            None,
            (
                m.GET(assign_gate),
                m.Op("POST", 302, assign_gate, _assign_data, effect=_cadre_assignments),
            ),
        ),
        "work:assignment_end": m.Route(
            "child",
            (m.Op("POST", 302, assign_scope, effect=_assignments_active),),
            lookup=_assignment,
        ),
        "work:proposals": m.Route(None, (m.GET(),)),
        "work:proposal_confirm": m.Route(
            "child",
            (m.Op("POST", 302, m.writable, _confirm_data, effect=_proposal_states),),
            lookup=_proposal,
        ),
        "work:proposal_dismiss": m.Route(
            "child",
            (m.Op("POST", 302, m.writable, _dismiss_data, effect=_proposal_states),),
            lookup=_proposal,
        ),
        "work:nightly": m.Route(
            None,
            (m.GET(m.admin_gate), m.Op("POST", 302, m.admin_gate, effect=_nightly_jobs)),
            note="run now: submits the job (it runs after commit, never inside the matrix's savepoint)",
        ),
    }
    for slug, section in SECTIONS.items():
        rows[f"work:{slug}"] = m.Route(None, (m.GET(shows=lambda ctx, label=section.label: label),))
    return rows
