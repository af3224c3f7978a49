"""PostgreSQL durability guard (RE-5).

With fsync or full_page_writes off, a crash of the database host can corrupt the cluster;
with synchronous_commit off, PostgreSQL acknowledges commits before they are on disk and a
crash loses the last ones (up to about three times wal_writer_delay). Either would break
the promise that a saved child file or a succeeded job stays saved, so:

- the system check `check_durability` (tag "database": `manage.py check --database default`,
  and `migrate`) reports each unsafe setting as an Error;
- `refuse_unsafe_connection`, connected to `connection_created` in CoreConfig.ready(), raises
  ImproperlyConfigured on a process's first PostgreSQL connection, so gunicorn workers,
  `db_worker` and every command refuse to work. Once a process has seen safe settings it
  stops asking (one query per process).

SHOUHU_ALLOW_UNSAFE_DURABILITY=1 turns both into a warning, for throw-away benchmark
clusters only. The settings are read per session (pg_settings), so a per-role or
per-database `ALTER … SET synchronous_commit = off` is caught too.
"""

import contextvars
import logging
from collections.abc import Sequence
from typing import Any

from django.apps import AppConfig
from django.conf import settings
from django.core import checks
from django.core.exceptions import ImproperlyConfigured
from django.db import connections
from django.db.backends.base.base import BaseDatabaseWrapper

logger = logging.getLogger(__name__)

# Setting → the values that are unsafe.
UNSAFE = {"fsync": {"off"}, "full_page_writes": {"off"}, "synchronous_commit": {"off"}}
OVERRIDE_ENV = "SHOUHU_ALLOW_UNSAFE_DURABILITY"
HINT = (
    "在 postgresql.conf 中设置 fsync = on、full_page_writes = on、synchronous_commit = on（或 local、"
    "remote_write、remote_apply），并检查 ALTER ROLE/DATABASE … SET 的覆盖。仅供基准测试的临时集群可设置 "
    f"{OVERRIDE_ENV}=1。"
)

_verified: set[str] = set()  # aliases whose server was found safe in this process
_probing: contextvars.ContextVar[bool] = contextvars.ContextVar("durability_probing", default=False)


def unsafe_settings(connection: BaseDatabaseWrapper) -> dict[str, str]:
    """The unsafe durability settings of this PostgreSQL session ({} when safe or not PG)."""
    if connection.vendor != "postgresql":
        return {}
    token = _probing.set(True)
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT name, setting FROM pg_settings WHERE name = ANY(%s)", [list(UNSAFE)])
            values = dict(cursor.fetchall())
    finally:
        _probing.reset(token)
    return {name: value for name, value in sorted(values.items()) if value in UNSAFE[name]}


def _describe(unsafe: dict[str, str]) -> str:
    return "、".join(f"{name} = {value}" for name, value in unsafe.items())


def check_durability(
    app_configs: Sequence[AppConfig] | None = None, databases: Sequence[str] | None = None, **kwargs: Any
) -> list[checks.CheckMessage]:
    messages: list[checks.CheckMessage] = []
    for alias in databases or []:
        unsafe = unsafe_settings(connections[alias])
        if not unsafe:
            continue
        text = (
            f"数据库 {alias} 的持久性设置不安全：{_describe(unsafe)}；崩溃后可能丢失已确认的提交或损坏数据。"
        )
        if settings.SHOUHU_ALLOW_UNSAFE_DURABILITY:
            hint = f"已由 {OVERRIDE_ENV}=1 放行：仅限基准测试。"
            messages.append(checks.Warning(text, hint=hint, id="core.W001"))
        else:
            messages.append(checks.Error(text, hint=HINT, id="core.E001"))
    return messages


def refuse_unsafe_connection(sender: Any, connection: BaseDatabaseWrapper, **kwargs: Any) -> None:
    """connection_created receiver: refuse a PostgreSQL server with unsafe durability."""
    if connection.vendor != "postgresql" or connection.alias in _verified or _probing.get():
        return
    unsafe = unsafe_settings(connection)
    if not unsafe:
        _verified.add(connection.alias)
        return
    if settings.SHOUHU_ALLOW_UNSAFE_DURABILITY:
        logger.warning("unsafe PostgreSQL durability allowed by %s=1: %s", OVERRIDE_ENV, _describe(unsafe))
        _verified.add(connection.alias)
        return
    # Close first: a connection left open would serve the next query without asking again.
    connection.close()
    raise ImproperlyConfigured(f"拒绝启动：数据库 {connection.alias} 的 {_describe(unsafe)}。{HINT}")
