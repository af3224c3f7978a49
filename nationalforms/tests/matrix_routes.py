"""Permission-matrix rows of the nationalforms app, read by core/tests/test_permission_matrix.py.

The roster (附件2) and the statistical table (附件3) are for the levels that hand forms upward:
the county admin and officer, the township supervisor and the village worker; everyone else
gets 403, whatever their scope. Revealing full numbers in the roster also needs the reveal
permission (the county officer gets 403). The per-child form (附件1) and its PDF are for
anyone who may read the file (404 outside scope, like a missing file); its ?reveal=1 variant
needs the reveal permission (403 for those who see the file without it) and leaves a reveal row.
"""

from collections.abc import Hashable
from types import ModuleType
from typing import Any

from audit.models import AuditEvent, EventType

FORM_USERS = frozenset({"county_admin", "county_officer", "township_supervisor", "village_worker"})
REVEALERS = frozenset({"county_admin", "township_supervisor", "village_worker", "police"})


def forms_gate(persona: str, obj: str | None) -> str | int:
    return "ok" if persona in FORM_USERS else 403


def roster_reveal_gate(persona: str, obj: str | None) -> str | int:
    if persona not in FORM_USERS:
        return 403
    return "ok" if persona in REVEALERS else 403


def _reveals(ctx: Any) -> Hashable:
    return AuditEvent.objects.filter(action=EventType.REVEAL).count()


def _exports(ctx: Any) -> Hashable:
    return AuditEvent.objects.filter(action=EventType.EXPORT).count()


def _reveal(ctx: Any) -> dict[str, Any]:
    return {"reveal": "1"}


def routes(m: ModuleType) -> dict[str, Any]:
    def title(ctx: Any) -> str:
        return "农村留守儿童统计表"

    def child_reveal(persona: str, obj: str | None) -> str | int:
        result: str | int = m.reveal(persona, obj)
        return result

    return {
        "nationalforms:table3": m.Route(None, (m.GET(forms_gate, shows=title),)),
        "nationalforms:table3_xlsx": m.Route(
            None, (m.Op("GET", 200, forms_gate, effect=_exports),), note="the XLSX is logged when built"
        ),
        "nationalforms:roster_xlsx": m.Route(
            None,
            (
                m.Op("GET", 200, forms_gate, effect=_exports),
                m.Op("GET", 200, roster_reveal_gate, _reveal, effect=_exports),
            ),
        ),
        "nationalforms:roster_csv": m.Route(
            None,
            (m.GET(forms_gate), m.Op("GET", 200, roster_reveal_gate, _reveal)),
            note="the CSV streams; its audit row is written when the stream ends",
        ),
        "nationalforms:child_form": m.Route(
            "child",
            (
                m.GET(m.visible, shows=m._name),
                m.Op("GET", 200, child_reveal, _reveal, effect=_reveals, shows=m._full_id),
            ),
        ),
        "nationalforms:child_pdf": m.Route(
            "child",
            (
                m.Op("GET", 200, m.visible, effect=_exports),
                m.Op("GET", 200, child_reveal, _reveal, effect=_reveals),
            ),
        ),
    }
