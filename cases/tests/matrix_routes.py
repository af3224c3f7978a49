"""Permission-matrix rows of the cases app, read by core/tests/test_permission_matrix.py.

Each route on a case, a measure or a follow-up makes its report and case on demand (lookup),
per child key, in the state the route needs (cases/tests/helpers.py): a1's and a2's reports are
routed to 廉州派出所 (the police persona) with the township supervisor named; b1's to the county
bureau; `other`'s to another county's bureau. On a1's report the social worker is named too,
as after accepting a referral. The expectations are written out below per persona × child.
"""

import datetime as dt
from collections.abc import Callable, Hashable
from types import ModuleType
from typing import Any

from django.utils import timezone

from cases.models import Assessment, Case, CaseState, FollowUp, Measure, MeasureStatus
from cases.tests.helpers import (
    assessment_post,
    make_case,
    make_follow_up,
    make_measure,
    make_report,
    social_station,
    township_government,
)
from testing.world import World

Table = dict[str, set[str]]

# Who reads a case: who reads its report (reports.access.reports_readable_by).
READERS: Table = {
    "county_admin": {"a1", "a2", "b1"},
    "township_supervisor": {"a1", "a2"},
    "police": {"a1", "a2"},
    "social_worker": {"a1"},
}
# Who manages it: county admins of the county and the named supervisors.
MANAGERS: Table = {"county_admin": {"a1", "a2", "b1"}, "township_supervisor": {"a1", "a2"}}
# Managers and the named social worker (follow-ups, their unit's measures, asking to close).
WORKERS: Table = {**MANAGERS, "social_worker": {"a1"}}
# A follow-up assigned to the village's child director: the workers and that director.
FOLLOW_UP: Table = {**WORKERS, "village_worker": {"a1"}}
# A referral to the county's social-work station (another county's station for `other`).
REFERRAL_UNIT: Table = {"social_worker": {"a1", "a2", "b1"}}
LIST_ROLES = frozenset({"county_admin", "township_supervisor"})
# The 三员 and users without a grant handle no referrals (AC-6).
NO_REFERRALS = frozenset({"system_admin", "security_admin", "auditor", "no_role"})


def _policy(table: Table) -> Callable[[str, str | None], str | int]:
    def policy(persona: str, obj: str | None) -> str | int:
        return "ok" if obj in table.get(persona, set()) else 404

    return policy


def _list_gate(persona: str, obj: str | None) -> str | int:
    return "ok" if persona in LIST_ROLES else 403


def _referral_gate(persona: str, obj: str | None) -> str | int:
    return 403 if persona in NO_REFERRALS else "ok"


# --- lookups: the object of the URL, made per child key --------------------------------------


def _report(world: World, key: str) -> Any:
    return make_report(world, key, social_worker=key == "a1").pk


def _case_in(state: str) -> Callable[[World, str], Any]:
    def lookup(world: World, key: str) -> Any:
        return make_case(world, key, state=state, social_worker=key == "a1").pk

    return lookup


def _measure(world: World, key: str) -> Any:
    case = make_case(world, key, social_worker=key == "a1")
    return make_measure(world, case, at=social_station(world, key), status=MeasureStatus.ACCEPTED).pk


def _referral(world: World, key: str) -> Any:
    case = make_case(world, key)
    return make_measure(world, case, at=social_station(world, key)).pk


def _follow_up(world: World, key: str) -> Any:
    case = make_case(world, key, social_worker=key == "a1")
    return make_follow_up(world, case, to="village_worker").pk


# --- data and effects ------------------------------------------------------------------------


def _case(ctx: Any) -> Case | None:
    return Case.objects.filter(report__child=ctx.child).first() if ctx.child else None


def _version(ctx: Any) -> dict[str, Any]:
    case = _case(ctx)
    return {"version": case.version if case else 1}


def _reason(ctx: Any) -> dict[str, Any]:
    return {**_version(ctx), "reason": "矩阵测试：理由"}


def _assessment(ctx: Any) -> dict[str, Any]:
    case = _case(ctx)
    # One participant: the matrix sends each value as one string (no lists).
    return assessment_post(case, participants="township") if case else {"version": 1}


def _measure_data(ctx: Any) -> dict[str, Any]:
    return {
        "kind": "hukou",
        "unit": str(township_government(ctx.world).pk),
        "due_on": (timezone.localdate() + dt.timedelta(days=10)).isoformat(),
    }


def _follow_up_data(ctx: Any) -> dict[str, Any]:
    user = ctx.world.users.get(ctx.persona)
    return {
        "due_on": (timezone.localdate() + dt.timedelta(days=3)).isoformat(),
        "assigned_to": str(user.pk) if user else "",
    }


def _record_data(ctx: Any) -> dict[str, Any]:
    return {"done_on": timezone.localdate().isoformat(), "note": "矩阵测试：回访情况"}


def _state(ctx: Any) -> Hashable:
    case = _case(ctx)
    return (case.state, case.version) if case else None


def _cases(ctx: Any) -> Hashable:
    return Case.objects.count()


def _assessments(ctx: Any) -> Hashable:
    return Assessment.objects.count()


def _measures(ctx: Any) -> Hashable:
    return tuple(sorted(Measure.objects.values_list("status", flat=True)))


def _follow_ups(ctx: Any) -> Hashable:
    return tuple(FollowUp.objects.values_list("done_on", flat=True))


def _follow_up_count(ctx: Any) -> Hashable:
    return FollowUp.objects.count()


def routes(m: ModuleType) -> dict[str, Any]:
    def name(ctx: Any) -> str:
        return ctx.child.name if ctx.child else ""

    readers, managers, workers = _policy(READERS), _policy(MANAGERS), _policy(WORKERS)
    return {
        "cases:list": m.Route(None, (m.GET(_list_gate, shows=lambda ctx: "评估帮扶个案"),)),
        "cases:open": m.Route(
            "child",
            (m.GET(managers, shows=name), m.Op("POST", 302, managers, effect=_cases)),
            lookup=_report,
            note="a report notified to the township: its county admins and named supervisors open it",
        ),
        "cases:detail": m.Route("child", (m.GET(readers, shows=name),), lookup=_case_in(CaseState.ASSISTING)),
        "cases:assessment_new": m.Route(
            "child",
            (m.GET(managers, shows=name), m.Op("POST", 302, managers, _assessment, effect=_assessments)),
            lookup=_case_in(CaseState.ASSESSING),
        ),
        "cases:measure_new": m.Route(
            "child",
            (m.GET(managers, shows=name), m.Op("POST", 302, managers, _measure_data, effect=_measures)),
            lookup=_case_in(CaseState.ASSISTING),
        ),
        "cases:measure": m.Route(
            "child",
            (
                m.GET(workers, shows=name),
                m.Op("POST", 302, workers, lambda ctx: {"status": "in_progress"}, effect=_measures),
            ),
            lookup=_measure,
            note="a measure at the social-work station: managers, and the named social worker of that unit",
        ),
        "cases:follow_up_new": m.Route(
            "child",
            (
                m.GET(workers, shows=name),
                m.Op("POST", 302, workers, _follow_up_data, effect=_follow_up_count),
            ),
            lookup=_case_in(CaseState.ASSISTING),
        ),
        "cases:follow_up": m.Route(
            "child",
            (
                m.GET(_policy(FOLLOW_UP), shows=name),
                m.Op("POST", 302, _policy(FOLLOW_UP), _record_data, effect=_follow_ups),
            ),
            lookup=_follow_up,
            note="assigned to the child director, who records it without reading the case",
        ),
        "cases:close_request": m.Route(
            "child",
            (m.GET(workers, shows=name), m.Op("POST", 302, workers, _reason, effect=_state)),
            lookup=_case_in(CaseState.ASSISTING),
        ),
        "cases:close_approve": m.Route(
            "child",
            (m.GET(managers, shows=name), m.Op("POST", 302, managers, _version, effect=_state)),
            lookup=_case_in(CaseState.CLOSING),
            note="asked by the social worker, so no manager approves their own request here",
        ),
        "cases:close_reject": m.Route(
            "child",
            (m.GET(managers, shows=name), m.Op("POST", 302, managers, _reason, effect=_state)),
            lookup=_case_in(CaseState.CLOSING),
        ),
        "cases:reopen": m.Route(
            "child",
            (m.GET(managers, shows=name), m.Op("POST", 302, managers, _reason, effect=_state)),
            lookup=_case_in(CaseState.CLOSED),
        ),
        "cases:referrals": m.Route(None, (m.GET(_referral_gate, shows=lambda ctx: "帮扶转介"),)),
        "cases:referral": m.Route(
            "child",
            (
                m.GET(_policy(REFERRAL_UNIT), shows=name),
                m.Op(
                    "POST",
                    302,
                    _policy(REFERRAL_UNIT),
                    lambda ctx: {"form": "answer", "decision": "accept"},
                    effect=_measures,
                ),
            ),
            lookup=_referral,
            note="the users of the measure's unit only; never the case's readers as such",
        ),
    }
