"""Permission-matrix rows of the imports app, read by core/tests/test_permission_matrix.py.

Importing is for the writers (county admin, township supervisor, village worker): everyone
else gets 403 on every import page, whatever the batch. A batch belongs to whoever uploaded
it: the sample batch is the village worker's, so the other writers get 404 exactly as for a
missing batch. The sample batch has no file on disk (the matrix writes none): its owner sees
the pages, and the steps that need the file (preview, commit, the error list) answer with
the "file deleted" message instead; the flow tests (imports/tests/test_import_flow.py) run
them on real files.
"""

from collections.abc import Hashable
from types import ModuleType
from typing import Any

from geo.models import Unit
from imports.models import Batch, BatchState
from testing.world import World

MISSING = "missing"
WRITERS = frozenset({"county_admin", "township_supervisor", "village_worker"})
OWNER = "village_worker"
HEADERS = ["姓名", "公民身份号码", "村（社区）"]


def owner_only(persona: str, obj: str | None) -> str | int:
    """The role gate first (403, whatever the batch), then ownership (404 like missing)."""
    if persona not in WRITERS:
        return 403
    return "ok" if persona == OWNER and obj != MISSING else 404


def _batch(world: World, key: str) -> Any:
    return Batch.objects.create(
        created_by=world.users[OWNER],
        unit=Unit.objects.get(name="甲一村委会"),
        file_name="矩阵台账.xlsx",
        kind="xlsx",
        headers=HEADERS,
        mapping={"0": "name", "1": "id_number", "2": "village"},
        state=BatchState.PREVIEWED,
        total_rows=1,
        new_count=1,
    ).pk


def _batch_state(ctx: Any) -> Hashable:
    return tuple(Batch.objects.order_by("pk").values_list("state", "round", "commit_job"))


def _file_name(ctx: Any) -> str:
    return "矩阵台账.xlsx"


def _mapping_data(ctx: Any) -> dict[str, Any]:
    return {"col_0": "name", "col_1": "id_number", "col_2": "village"}


def routes(m: ModuleType) -> dict[str, Any]:
    return {
        "imports:list": m.Route(
            None,
            (m.GET(m.writer_gate), m.Op("POST", 200, m.writer_gate)),
            note="a POST without a file re-renders the form with its error",
        ),
        "imports:template": m.Route(None, (m.GET(m.writer_gate),)),
        "imports:detail": m.Route("batch", (m.GET(owner_only, shows=_file_name),), lookup=_batch),
        "imports:mapping": m.Route(
            "batch",
            (
                m.GET(owner_only, shows=lambda ctx: "公民身份号码"),
                m.Op("POST", 200, owner_only, _mapping_data, shows=lambda ctx: "已删除"),
            ),
            lookup=_batch,
            note="the sample has no file: the owner's POST says so and changes nothing",
        ),
        "imports:commit": m.Route(
            "batch", (m.Op("POST", 302, owner_only, effect=None),), lookup=_batch, note="no file: a message"
        ),
        "imports:cancel": m.Route(
            "batch", (m.Op("POST", 302, owner_only, effect=_batch_state),), lookup=_batch
        ),
        "imports:errors": m.Route(
            "batch", (m.GET(owner_only, ok=302),), lookup=_batch, note="no file: back to the batch page"
        ),
    }
