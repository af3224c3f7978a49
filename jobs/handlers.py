"""The registry of job handlers: one function per job kind, registered with @job_handler.

Handlers live in <app>/job_handlers.py, which JobsConfig.ready() imports in every process.
The contract (docs/operations.md, "后台任务契约"):

- A transactional handler (the default) does all its writes through the default database
  inside the transaction that job_run opens. Its writes and the job's "succeeded" mark
  commit together, so a crash anywhere before the commit leaves no effect and the job is
  retried, and an effect that committed is never applied again: exactly once.
- A non-transactional handler runs outside any transaction; it is called at least once and
  must be idempotent by its own means (e.g. a key the outside service deduplicates on).
  JobContext.progress() commits the progress and renews its lease (a heartbeat).
- Raising PermanentJobError fails the job at once (no retry), keeping `result` (e.g. a per-row
  report). Any other exception rolls back and retries, up to the job's max_attempts.
- Payload and result hold identifiers and masked values only, never personal data.
"""

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from jobs.models import Job
    from jobs.services import JobContext

HandlerFunc = Callable[["Job", "JobContext"], dict[str, Any] | None]


class UnknownJobKindError(LookupError):
    pass


class PermanentJobError(Exception):
    """A permanent failure: the job is marked failed without retry; `result` is kept."""

    def __init__(self, message: str, *, result: dict[str, Any] | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.result = result


@dataclass(frozen=True)
class JobHandler:
    kind: str
    func: HandlerFunc
    transactional: bool = True
    lease_seconds: int | None = None  # None: settings.SHOUHU_JOB_LEASE_SECONDS


_HANDLERS: dict[str, JobHandler] = {}


def job_handler(
    kind: str, *, transactional: bool = True, lease_seconds: int | None = None
) -> Callable[[HandlerFunc], HandlerFunc]:
    def register(func: HandlerFunc) -> HandlerFunc:
        existing = _HANDLERS.get(kind)
        if existing is not None and existing.func is not func:
            raise ValueError(f"任务类型 {kind!r} 已注册")
        _HANDLERS[kind] = JobHandler(kind, func, transactional, lease_seconds)
        return func

    return register


def handler_for(kind: str) -> JobHandler:
    try:
        return _HANDLERS[kind]
    except KeyError:
        raise UnknownJobKindError(f"未知的任务类型：{kind}") from None


def registered_kinds() -> list[str]:
    return sorted(_HANDLERS)
