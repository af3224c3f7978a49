"""Migration 0005 makes the indexes that keep 我的工作 and the township view fast at one million
files (docs/benchmarks.md); the bench no longer makes them itself, so a lost index would only
show as slow pages. These tests read the indexes back from the database's own catalogue."""

import pytest
from django.db import connection

pytestmark = pytest.mark.django_db


def index_definitions() -> dict[str, str]:
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(
                "SELECT indexname, indexdef FROM pg_indexes "
                "WHERE tablename IN ('registry_child', 'registry_parent')"
            )
        else:
            cursor.execute(
                "SELECT name, sql FROM sqlite_master WHERE type = 'index' "
                "AND tbl_name IN ('registry_child', 'registry_parent') AND sql IS NOT NULL"
            )
        return {name: definition for name, definition in cursor.fetchall()}


def test_the_township_care_index_is_partial_on_active_files() -> None:
    definition = index_definitions()["work_child_township_care"]

    assert "(township_id, village_id)" in definition
    assert "'active'" in definition
    if connection.vendor == "postgresql":
        # Covering: the township aggregate is an index-only scan only with these columns.
        for column in ("risk_colour", "next_visit_due", "agreement_valid_until", "birth_date"):
            assert column in definition.split("INCLUDE", 1)[1]


def test_the_unreachable_parent_index_is_partial() -> None:
    definition = index_definitions()["work_parent_unreachable"]

    assert "(child_id)" in definition
    assert "WHERE unreachable" in definition
