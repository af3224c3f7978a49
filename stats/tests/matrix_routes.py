"""Permission-matrix rows of the stats app, read by core/tests/test_permission_matrix.py.

The dashboard is for the four region roles (county admin and officer, township supervisor,
village worker); the scorecard and its export for the three above the village. Everyone else
gets 403. The region is a GET parameter, not part of the URL: out-of-scope and missing regions
(404, the same answer) are tested in stats/tests/test_dashboard.py and test_scorecard.py.
"""

from types import ModuleType
from typing import Any

DASHBOARD = frozenset({"county_admin", "county_officer", "township_supervisor", "village_worker"})
SCORECARD = frozenset({"county_admin", "county_officer", "township_supervisor"})


def _gate(allowed: frozenset[str]) -> Any:
    def policy(persona: str, obj: str | None) -> str | int:
        return "ok" if persona in allowed else 403

    return policy


def routes(m: ModuleType) -> dict[str, Any]:
    def heading(ctx: Any) -> str:
        return "统计分析"

    def ranking(ctx: Any) -> str:
        return "工作考核"

    return {
        "stats:dashboard": m.Route(None, (m.GET(_gate(DASHBOARD), shows=heading),)),
        "stats:scorecard": m.Route(None, (m.GET(_gate(SCORECARD), shows=ranking),)),
        "stats:scorecard_export": m.Route(None, (m.GET(_gate(SCORECARD)),)),
    }
