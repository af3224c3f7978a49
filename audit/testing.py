"""Test-database helpers for the audit trail."""

from django.db import connection


def allow_test_flush() -> None:
    """On a PostgreSQL *test* database only: let Django's TransactionTestCase empty the audit
    table between tests. Its flush uses TRUNCATE, which the append-only trigger refuses
    (migration 0004); the UPDATE/DELETE trigger stays on, and audit/tests re-enables the
    TRUNCATE trigger where it proves the refusal."""
    if connection.vendor != "postgresql":
        return
    assert connection.settings_dict["NAME"].startswith("test_"), "only ever on a test database"
    with connection.cursor() as cursor:
        cursor.execute("ALTER TABLE audit_auditevent DISABLE TRIGGER audit_auditevent_no_truncate")
