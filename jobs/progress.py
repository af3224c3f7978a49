"""Progress of a transactional job, visible while its transaction is still open.

A transactional handler's writes, and so any progress it writes to its Job row, become
visible only at its commit: the progress bar of an import would sit at 0 % and jump to 100 %.
publish() therefore writes the progress beside the transaction:

- PostgreSQL: on a second connection of this thread, in autocommit, into JobProgress (an
  upsert; no foreign key, see the model). Every web process and host reads it.
- SQLite (one machine by definition): into a small JSON file per job under
  SHOUHU_PROGRESS_DIR, replaced atomically. A second SQLite connection could not write while
  the job's transaction holds the database's write lock.

read() gives what was last published; jobs.services.job_progress() combines it with the row.
Nothing here is personal data: a job id and two counts.
"""

import json
import os
import threading
import time
import uuid
from pathlib import Path
from typing import Any

from django.conf import settings
from django.db import connections
from django.utils import timezone

MIN_INTERVAL = 0.5  # seconds between two writes for the same job (the page polls every second)

_local = threading.local()


def publish(job_id: uuid.UUID, current: int, total: int | None, *, force: bool = False) -> None:
    """Record the progress of a running job; throttled to one write per MIN_INTERVAL unless
    `force` (the last step) is set. Never raises: progress is a courtesy, not the work."""
    last: dict[uuid.UUID, float] = _local.__dict__.setdefault("last", {})
    now = time.monotonic()
    if not force and now - last.get(job_id, 0.0) < MIN_INTERVAL:
        return
    last[job_id] = now
    try:
        if _vendor() == "postgresql":
            _publish_postgres(job_id, current, total)
        else:
            _publish_file(job_id, current, total)
    except Exception:  # a failed progress write must not fail the job
        return


def read(job_id: uuid.UUID) -> tuple[int, int | None] | None:
    """The last published (current, total), or None."""
    if _vendor() == "postgresql":
        from jobs.models import JobProgress

        row = JobProgress.objects.filter(job_id=job_id).values_list("current", "total").first()
        return (row[0], row[1]) if row else None
    try:
        data = json.loads(_file(job_id).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return int(data["current"]), data.get("total")


def discard(job_id: uuid.UUID) -> None:
    """Forget a finished job's side-channel progress (its Job row has the final figures)."""
    _local.__dict__.setdefault("last", {}).pop(job_id, None)
    if _vendor() == "postgresql":
        # On the side connection too: a delete on the job's own connection would hold the row's
        # lock until that transaction ends, and a retry's publish would wait on it for ever.
        with _side_connection().cursor() as cursor:
            cursor.execute("DELETE FROM jobs_jobprogress WHERE job_id = %s", [job_id])
    else:
        _file(job_id).unlink(missing_ok=True)


def close() -> None:
    """Close this thread's side connection (workers call it between jobs; harmless otherwise)."""
    side = _local.__dict__.pop("connection", None)
    if side is not None:
        side.close()


def _vendor() -> str:
    return str(connections["default"].vendor)


def _side_connection() -> Any:
    side = _local.__dict__.get("connection")
    if side is None:
        default = connections["default"]
        # The live settings of the default alias (a test run has renamed the database).
        side = type(default)(dict(default.settings_dict), alias="jobs_progress")
        _local.connection = side
    return side


def _publish_postgres(job_id: uuid.UUID, current: int, total: int | None) -> None:
    side = _side_connection()
    with side.cursor() as cursor:
        cursor.execute(
            "INSERT INTO jobs_jobprogress (job_id, current, total, updated_at) VALUES (%s, %s, %s, %s) "
            "ON CONFLICT (job_id) DO UPDATE SET current = EXCLUDED.current, total = EXCLUDED.total, "
            "updated_at = EXCLUDED.updated_at",
            [job_id, current, total, timezone.now()],
        )


def _directory() -> Path:
    directory = Path(settings.SHOUHU_PROGRESS_DIR)
    directory.mkdir(mode=0o700, parents=True, exist_ok=True)
    return directory


def _file(job_id: uuid.UUID) -> Path:
    return _directory() / f"{uuid.UUID(str(job_id)).hex}.json"


def _publish_file(job_id: uuid.UUID, current: int, total: int | None) -> None:
    target = _file(job_id)
    temporary = target.with_suffix(f".{os.getpid()}.{threading.get_ident()}.tmp")
    temporary.write_text(json.dumps({"current": current, "total": total}), encoding="utf-8")
    os.replace(temporary, target)
