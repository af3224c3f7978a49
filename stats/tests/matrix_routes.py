"""Permission-matrix rows of the stats app, read by core/tests/test_permission_matrix.py.

The dashboard is for the four region roles (county admin and officer, township supervisor,
village worker); the scorecard and its export for the three above the village. The care
numbers (关爱服务统计), the children behind them and their export are for the dashboard's four
roles. Everyone else gets 403, provider staff too (they see their own activities, not the
region's numbers). The region is a GET parameter, not part of the URL: out-of-scope and missing regions
(404, the same answer) are tested in stats/tests/test_dashboard.py, test_scorecard.py and
test_care_numbers.py.
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

    def care(ctx: Any) -> str:
        return "关爱服务统计"

    def reached(ctx: Any) -> str:
        return "服务儿童名单"

    return {
        "stats:dashboard": m.Route(None, (m.GET(_gate(DASHBOARD), shows=heading),)),
        "stats:scorecard": m.Route(None, (m.GET(_gate(SCORECARD), shows=ranking),)),
        "stats:scorecard_export": m.Route(None, (m.GET(_gate(SCORECARD)),)),
        "stats:care": m.Route(None, (m.GET(_gate(DASHBOARD), shows=care),)),
        "stats:care_children": m.Route(None, (m.GET(_gate(DASHBOARD), shows=reached),)),
        "stats:care_export": m.Route(None, (m.GET(_gate(DASHBOARD)),)),
    }
