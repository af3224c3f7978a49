"""Indexes for 我的工作, the township overview and the home page's scope counts (issue 4).

- ``work_child_township_care``: the township pages count and list a township's active files by
  village and by their care columns. On PostgreSQL a covering partial index (INCLUDE) turns
  that into an index-only scan instead of a visit to every heap page of the township (0.5–1.2 s
  → under 150 ms at one million files, bench/work_bench.py). INCLUDE is PostgreSQL-only, so
  SQLite gets the same partial index without the covered columns.
- ``work_parent_unreachable``: the few parents marked 失联, found without reading every parent.

Raw SQL (not Meta.indexes) because Django's Index(include=…) is refused by the system check
on SQLite (models.W040), and `check --deploy --fail-level WARNING` must stay clean there.
"""

from django.db import migrations
from django.db.backends.base.schema import BaseDatabaseSchemaEditor
from django.db.migrations.state import StateApps

CARE_COLUMNS = (
    "id, risk_colour, next_visit_due, last_visit_on, agreement_required, agreement_valid_until, "
    "last_parent_contact_on, is_left_behind, birth_date, is_key, care_type, "
    "guardianship_rating, schooling"
)
ACTIVE = "WHERE status = 'active'"


def statements(vendor: str) -> dict[str, str]:
    """CREATE INDEX statements by index name, for this database vendor."""
    include = f" INCLUDE ({CARE_COLUMNS})" if vendor == "postgresql" else ""
    return {
        "work_child_township_care": (
            "CREATE INDEX IF NOT EXISTS work_child_township_care "
            f"ON registry_child (township_id, village_id){include} {ACTIVE}"
        ),
        "work_parent_unreachable": (
            "CREATE INDEX IF NOT EXISTS work_parent_unreachable "
            "ON registry_parent (child_id) WHERE unreachable"
        ),
    }


def create(apps: StateApps, schema_editor: BaseDatabaseSchemaEditor) -> None:
    for statement in statements(schema_editor.connection.vendor).values():
        schema_editor.execute(statement)


def drop(apps: StateApps, schema_editor: BaseDatabaseSchemaEditor) -> None:
    for name in statements(schema_editor.connection.vendor):
        schema_editor.execute(f"DROP INDEX IF EXISTS {name}")


class Migration(migrations.Migration):
    dependencies = [("registry", "0004_care_state")]
    operations = [migrations.RunPython(create, drop)]
