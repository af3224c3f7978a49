"""Query helpers that Django's ORM lacks."""

from collections.abc import Collection
from typing import Any

from django.db.backends.base.base import BaseDatabaseWrapper
from django.db.models import Expression, F, Lookup, Q
from django.db.models.sql.compiler import SQLCompiler


class _AnyOf(Lookup):  # type: ignore[type-arg]
    """`column = ANY(%s)` with the values as one array parameter (PostgreSQL)."""

    lookup_name = "any_of"
    prepare_rhs = False

    def get_prep_lookup(self) -> Any:
        return list(self.rhs)

    def as_sql(self, compiler: SQLCompiler, connection: BaseDatabaseWrapper) -> Any:
        lhs, params = self.process_lhs(compiler, connection)
        return f"{lhs} = ANY(%s)", (*params, self.rhs)


def in_values(field: str, values: Collection[Any], *, using: str) -> Q | Expression:
    """A filter: `field` is one of `values`. On PostgreSQL one array parameter (`= ANY(%s)`)
    instead of IN with a placeholder per value: for the thousand values of an import chunk,
    Django prepared and compiled each placeholder and the server parsed each one. `values`
    must already be of the column's type (strings for a CharField, UUIDs for a UUIDField)."""
    from django.db import connections

    if connections[using].vendor != "postgresql":
        return Q(**{f"{field}__in": values})
    return _AnyOf(F(field), list(values))
