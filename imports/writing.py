"""Fast inserts of new rows (and of their history rows) for the import's commit and preview.

bulk_create spends most of an import's time building and binding its SQL (on PostgreSQL an
UNNEST of one array per column, dumped value by value in Python) and needs a model instance
per row, then simple_history builds a second instance per row for the history. Here a row is
a dict of attribute names → Python values; the values are converted for the database column
by column (a column's encrypted values sealed in one call, JSON dumped, keys as they are), the row is
written with COPY on PostgreSQL and executemany elsewhere, and its history row, when the
model has history, is the same values plus history_date, history_type "+", the change
reason and the user, as simple_history's bulk_create_with_history writes them. With a
Background (the import's commit on PostgreSQL) the rows are written from a background
thread, and the history rows' COPY reuses the main rows' COPY text (_copy_rows), so each row
is formatted once.

Encrypted values are sealed once: a history column shares its model's context
(core.fields.EncryptedCharField.context), so the history row carries the main row's token.

Nothing here checks anything: the caller has validated every value (imports.normalise, the
same max lengths and code lists the model has) and supplies every column without a default.
"""

import datetime as dt
import json
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from operator import itemgetter
from typing import Any

from django.db import connections, models, router
from django.db.backends.base.base import BaseDatabaseWrapper
from django.db.models.fields import AutoFieldMixin
from psycopg.copy import Copy, LibpqWriter, Writer

from core import crypto
from imports.timing import Phases

Row = Mapping[str, Any]
_PLAIN = (models.CharField, models.TextField, models.BooleanField, models.IntegerField)
_HISTORY_ONLY = ("history_date", "history_change_reason", "history_type", "history_user_id")


class _Column:
    """One column: its attribute name, how a value becomes a parameter, and its default
    already converted (defaults are constants here: "", [], False, None…)."""

    def __init__(self, field: models.Field[Any, Any], connection: BaseDatabaseWrapper) -> None:
        self.attname: str = field.attname
        assert field.column is not None
        self.column: str = field.column
        self.convert = _converter(field, connection)
        self.identity = self.convert is _same
        # Encrypted columns are sealed a chunk at a time (crypto.encrypt_many).
        encrypted = getattr(field, "encrypted", False)
        self.context: str | None = getattr(field, "context", None) if encrypted else None
        self.raw_default = field.get_default()
        self.default = self.convert(self.raw_default)
        # A default made anew for each row (uuid4): the caller must give the value.
        self.required = field.has_default() and callable(field.default) and field.default not in (list, dict)


def _tuples(columns: list[_Column], rows: Sequence[Row]) -> list[tuple[Any, ...]]:
    """The rows as parameter tuples, built column by column (the hot loop of an import):
    plain columns are read with dict.get, encrypted ones sealed together, the others converted
    value by value."""
    required = [c.attname for c in columns if c.required]
    if rows and any(name not in rows[0] for name in required):
        raise ValueError(f"rows must give {required}")
    built: list[list[Any]] = []
    for column in columns:
        name, default = column.attname, column.default
        if column.identity:
            built.append([row.get(name, default) for row in rows])
        elif column.context is not None:
            built.append(_sealed([row.get(name, column.raw_default) for row in rows], column.context))
        else:
            convert = column.convert
            built.append([convert(row[name]) if name in row else default for row in rows])
    return list(zip(*built, strict=True))


def _sealed(values: list[Any], context: str) -> list[Any]:
    """EncryptedCharField.get_db_prep_value of a column's values: None and "" as they are,
    the rest sealed in one call."""
    positions = [index for index, value in enumerate(values) if value is not None and value != ""]
    tokens = crypto.encrypt_many([str(values[index]) for index in positions], context=context)
    out = list(values)
    for index, token in zip(positions, tokens, strict=True):
        out[index] = token
    return out


def _converter(field: models.Field[Any, Any], connection: BaseDatabaseWrapper) -> Callable[[Any], Any]:
    """The cheapest correct conversion: none for plain values (and for keys, dates and UUIDs
    on PostgreSQL), the field's own get_db_prep_save otherwise (encryption, JSON, SQLite
    dates and datetimes)."""
    if isinstance(field, models.ForeignKey):
        target = field.target_field
        if isinstance(target, _PLAIN) or (
            connection.vendor == "postgresql" and isinstance(target, models.UUIDField)
        ):
            return _same
    if getattr(field, "encrypted", False):
        context = field.context  # type: ignore[attr-defined]
        return lambda value: _sealed([value], context)[0]  # _tuples seals whole columns
    if isinstance(field, _PLAIN):
        return _same
    if connection.vendor == "postgresql":
        if isinstance(field, models.UUIDField | models.DateTimeField | models.DateField):
            return _same
        if isinstance(field, models.JSONField):
            return lambda value: None if value is None else json.dumps(value)
    prep = field.get_db_prep_save
    return lambda value: prep(value, connection)


def _same(value: Any) -> Any:
    return value


class Inserter:
    """Inserts rows of one model (and, with `history`, their "+" history rows)."""

    def __init__(
        self,
        model: type[models.Model],
        *,
        history: bool,
        phases: Phases | None = None,
        background: "Background | None" = None,
    ) -> None:
        self.phases = phases or Phases()
        self.background = background
        self.connection = connections[router.db_for_write(model)]
        self.table = model._meta.db_table
        self.columns = [
            _Column(field, self.connection)
            for field in model._meta.concrete_fields
            if not isinstance(field, AutoFieldMixin)
        ]
        self.history: _HistoryTable | None = None
        if history:
            self.history = _HistoryTable(model.history.model, self.connection)  # type: ignore[attr-defined]
            # The columns the history table has come first: a history row's COPY text is its
            # main row's, cut after them, with the history columns appended (_copy_rows).
            kept = {c.column for c in self.history.columns}
            self.columns.sort(key=lambda c: c.column not in kept)  # stable

    def insert(
        self, rows: Sequence[Row], *, when: dt.datetime | None = None, user_id: Any = None, reason: str = ""
    ) -> None:
        if not rows:
            return
        values = _tuples(self.columns, rows)
        names = [c.column for c in self.columns]
        if self.background is not None:
            # PostgreSQL, in the background: the rows' COPY, then their history rows' COPY.
            appended: tuple[str, tuple[Any, ...], int] | None = None
            if self.history is not None:
                assert when is not None
                extra = self.history.extra_values(when=when, user_id=user_id, reason=reason)
                columns, dropped = self.history.layout(names)
                appended = (_copy_sql(self.connection, self.history.table, columns), extra, dropped)
            sql = _copy_sql(self.connection, self.table, names)
            self.background.submit(_copy_rows, sql, values, appended)
            return
        with self.phases("copy"):
            _write(self.connection, self.table, names, values)
        if self.history is None:
            return
        assert when is not None
        history = self.history.rows(values, self.columns, when=when, user_id=user_id, reason=reason)
        with self.phases("copy"):
            _write(self.connection, self.history.table, self.history.names, history)


class _HistoryTable:
    def __init__(self, model: type[models.Model], connection: BaseDatabaseWrapper) -> None:
        self.connection = connection
        self.table = model._meta.db_table
        fields = [f for f in model._meta.concrete_fields if not isinstance(f, AutoFieldMixin)]
        self.columns = [_Column(f, connection) for f in fields if f.attname not in _HISTORY_ONLY]
        self.extra = [_Column(f, connection) for f in fields if f.attname in _HISTORY_ONLY]

    @property
    def names(self) -> list[str]:
        return [c.column for c in self.columns] + [c.column for c in self.extra]

    def extra_values(self, *, when: dt.datetime, user_id: Any, reason: str) -> tuple[Any, ...]:
        """The history columns' values (the same for every row of an insert), in `extra`'s order."""
        fixed = {
            "history_date": when,
            "history_change_reason": reason,
            "history_type": "+",
            "history_user_id": user_id,
        }
        return tuple(c.default if c.attname not in fixed else c.convert(fixed[c.attname]) for c in self.extra)

    def layout(self, main: list[str]) -> tuple[list[str], int]:
        """The history COPY's columns for main rows of columns `main` (those this table has
        first, see Inserter), and how many of the main row's last columns it drops."""
        kept = {c.column for c in self.columns}
        count = sum(1 for name in main if name in kept)
        if count != len(kept) or any(name not in kept for name in main[:count]):
            raise ValueError(f"{self.table}: the main row's columns {main} do not start with this table's")
        return [*main[:count], *(c.column for c in self.extra)], len(main) - count

    def rows(
        self,
        values: list[tuple[Any, ...]],
        main: list[_Column],
        *,
        when: dt.datetime,
        user_id: Any,
        reason: str,
    ) -> list[tuple[Any, ...]]:
        """The history rows of the main rows' converted `values` (encrypted ones included, see
        the module's docstring) and the history columns."""
        tail = self.extra_values(when=when, user_id=user_id, reason=reason)
        position = {c.attname: index for index, c in enumerate(main)}
        pick = itemgetter(*[position[c.attname] for c in self.columns])  # several: gives a tuple
        return [pick(converted) + tail for converted in values]


def _write(
    connection: BaseDatabaseWrapper, table: str, columns: list[str], values: list[tuple[Any, ...]]
) -> None:
    quote = connection.ops.quote_name
    names = ", ".join(quote(column) for column in columns)
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            with cursor.copy(f"COPY {quote(table)} ({names}) FROM STDIN") as copy:
                for row in values:
                    copy.write_row(row)
        else:
            placeholders = ", ".join(["%s"] * len(columns))
            # Table and column names come from model metadata; every value is a parameter.
            sql = f"INSERT INTO {quote(table)} ({names}) VALUES ({placeholders})"  # noqa: S608
            cursor.executemany(sql, values)


def _copy_sql(connection: BaseDatabaseWrapper, table: str, columns: list[str]) -> str:
    quote = connection.ops.quote_name
    return f"COPY {quote(table)} ({', '.join(quote(column) for column in columns)}) FROM STDIN"


def _copy_rows(
    raw: Any, sql: str, values: list[tuple[Any, ...]], history: tuple[str, tuple[Any, ...], int] | None
) -> None:
    """In the background thread, on the transaction's own psycopg connection: COPY the rows,
    then their history rows. A history row is the first columns of its main row followed by
    the history columns, the same for every row (_HistoryTable.layout), so its COPY text is
    the main row's line cut after those columns, with the history columns' text appended: the
    rows are formatted once. (In COPY's text format tabs and line feeds inside a value are
    escaped, and no UTF-8 character but these has their bytes, so each tab ends a column and
    each line feed a row.)"""
    with raw.cursor() as cursor:
        sent = _Kept(cursor) if history is not None else None  # the history's COPY reuses the text
        with cursor.copy(sql, writer=sent) as copy:
            for row in values:
                copy.write_row(row)
        if history is None or sent is None:
            return
        data = b"".join(sent.parts)
        statement, extra, dropped = history
        suffix = b"\t" + _copy_text(raw, [extra])  # ends with the line feed
        if dropped:
            lines = data.split(b"\n")[:-1]
            body = b"".join([line.rsplit(b"\t", dropped)[0] + suffix for line in lines])
        else:
            body = data.replace(b"\n", suffix)
        with cursor.copy(statement) as copy:
            copy.write(body)


class _Collected(Writer):
    """A psycopg COPY writer that keeps the formatted data instead of sending it."""

    def __init__(self) -> None:
        self.parts: list[bytes] = []

    def write(self, data: Any) -> None:
        self.parts.append(bytes(data))


class _Kept(LibpqWriter):
    """psycopg's COPY writer (sends the data as it is formatted, so that the server parses a
    chunk while the rest is formatted), keeping a copy of what it sent."""

    def __init__(self, cursor: Any) -> None:
        super().__init__(cursor)
        self.parts: list[bytes] = []

    def write(self, data: Any) -> None:
        self.parts.append(bytes(data))
        super().write(data)


def _copy_text(raw: Any, rows: Sequence[Sequence[Any]]) -> bytes:
    """The rows in COPY's text format, as psycopg formats them for this connection (a cursor
    of its own: psycopg's Copy refuses a cursor whose last statement was not a COPY)."""
    collected = _Collected()
    with raw.cursor() as cursor, Copy(cursor, binary=False, writer=collected) as copy:
        for row in rows:
            copy.write_row(row)
    return b"".join(collected.parts)


class Background:
    """Writes to PostgreSQL in one background thread while the caller prepares the next chunk,
    so that the server's work (parsing, indexes, the history copy) overlaps the Python work
    instead of following it; most of a large import's COPY time is the server's.

    The thread uses the caller's own psycopg connection, inside the caller's transaction (or
    in autocommit, the preview's, where each write commits on its own):
    psycopg serialises every use of a connection with its lock, so a query of the caller
    waits for the write in progress, and the writes run in the order submitted. After a write
    has failed the later ones are skipped (they depend on it: a file's parents on the file).
    `wait()` raises the first error of a write; `close()` waits for every write, and must run before
    the transaction ends (a write after the rollback would run outside it): call it in a
    `finally`, or use the object as a context manager around the work."""

    def __init__(self, connection: BaseDatabaseWrapper, phases: Phases) -> None:
        assert connection.vendor == "postgresql"
        # Inside the caller's transaction, or in autocommit (each write commits on its own).
        assert connection.in_atomic_block or connection.get_autocommit()
        connection.ensure_connection()
        self.raw = connection.connection
        self.phases = phases
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="import-writer")
        self._pending: list[Future[None]] = []
        self._failed = False  # set by the thread when a write fails

    def submit(self, write: Callable[..., None], *args: Any) -> None:
        self._raise_failed()
        self._pending.append(self._executor.submit(self._timed, write, *args))

    def _timed(self, write: Callable[..., None], *args: Any) -> None:
        if self._failed:
            return  # an earlier write failed: its error is the one raised
        try:
            with self.phases("copy"):  # the background's own time, overlapping the caller's
                write(self.raw, *args)
        except BaseException:
            self._failed = True
            raise

    def _raise_failed(self) -> None:
        for future in [f for f in self._pending if f.done()]:
            self._pending.remove(future)
            future.result()  # raises the write's error

    def wait(self) -> None:
        with self.phases("wait"):
            pending, self._pending = self._pending, []
            for future in pending:
                future.result()

    def close(self) -> None:
        """Wait for every write; raise the first one's error (when the caller is already
        raising, because a query of its own failed after a write broke the transaction,
        this error, the cause, is raised instead and chained to the caller's)."""
        failed: BaseException | None = None
        try:
            for future in self._pending:
                error = future.exception()  # waits
                failed = failed or error
        finally:
            self._pending = []
            self._executor.shutdown(wait=True)
        if failed is not None:
            raise failed

    def __enter__(self) -> "Background":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
