"""gunicorn configuration: refuse to start on a database that could lose acknowledged commits (RE-5).

    gunicorn shouhu.wsgi:application -c python:shouhu.gunicorn_conf --bind 127.0.0.1:8000 --workers 4

Only hooks live here; bind, workers and every other setting stay on the command line, which
wins over a config module anyway. `on_starting` runs in the master before it binds its socket
or forks a worker: it sets Django up, runs core.durability's check for the default database
and exits non-zero with the Chinese error and hint when PostgreSQL has fsync,
full_page_writes or synchronous_commit off. SQLite has nothing to check.

Without this, gunicorn would start and every worker would refuse its first database
connection (core.durability.refuse_unsafe_connection): a server that is up and answers 500.
That per-connection guard stays, for settings changed while the server runs.

A database that cannot be reached at start-up is logged and does not stop the boot: the
guard still refuses each worker's first connection if the server turns out to be unsafe, and
a web server that waits for its database recovers by itself when the database comes back.
"""

import os
import sys
from typing import Any

REFUSED_EXIT_STATUS = 1


def on_starting(server: Any) -> None:
    refusal = _durability_refusal(server.log)
    if refusal is None:
        return
    server.log.error(refusal)
    if server.pidfile is not None:
        server.pidfile.unlink()
    sys.exit(REFUSED_EXIT_STATUS)


def _durability_refusal(log: Any, alias: str = "default") -> str | None:
    """The refusal message when the database's durability settings are unsafe, else None."""
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "shouhu.settings")
    import django

    django.setup()
    from django.db import DatabaseError, connections

    from core.durability import check_durability

    try:
        messages = check_durability(databases=[alias])
    except DatabaseError as exc:
        log.warning(
            "启动时无法连接数据库 %s，未能检查持久性设置（工作进程首次连接时仍会检查）：%s", alias, exc
        )
        return None
    finally:
        # The master must not hand an open connection down to the workers it forks.
        connections.close_all()
    for message in messages:
        if not message.is_serious():
            log.warning("%s %s", message.msg, message.hint or "")
    errors = [message for message in messages if message.is_serious()]
    if not errors:
        return None
    return "拒绝启动 gunicorn：" + "".join(f"{error.msg} {error.hint or ''}" for error in errors)
