"""RE-3 through the job mechanism: an import-shaped handler that follows the contract in
docs/operations.md §6.3 is all-or-nothing, reports per row, survives a crash mid-write with
0 rows, and imports a file once however often it is submitted.

The import feature itself does not exist yet; `tests.import` stands in for it, writing one
DrillEffect per valid row.
"""

import hashlib
from typing import Any

import pytest

from jobs.handlers import PermanentJobError, job_handler
from jobs.models import DrillEffect, Job, JobState
from jobs.services import JobContext, job_claim, job_run, job_submit

ROWS = 1000


class _Crash(BaseException):
    """Stands in for SIGKILL: no handler code runs after it, nothing is marked."""


@job_handler("tests.import")
def _import(job: Job, context: JobContext) -> dict[str, Any]:
    rows: list[str] = job.payload["rows"]
    errors = [
        {"row": number, "column": "身份证号", "reason": "校验码错误"}
        for number, value in enumerate(rows, start=1)
        if value == "bad"
    ]
    if errors and not job.payload.get("valid_rows_only"):
        raise PermanentJobError("导入文件有错误，未写入任何数据", result={"errors": errors})
    created = 0
    for number, value in enumerate(rows, start=1):
        if value == "bad":
            continue
        DrillEffect.objects.create(job=job, attempt=job.attempts)
        created += 1
        if value == "crash":
            raise _Crash
        context.progress(number, len(rows))
    return {"created": created, "skipped": len(errors)}


def _rows(bad: int | None = None, crash: int | None = None) -> list[str]:
    return ["bad" if number == bad else "crash" if number == crash else "ok" for number in range(1, ROWS + 1)]


def _key(rows: list[str]) -> str:
    return "import:" + hashlib.sha256("\n".join(rows).encode()).hexdigest()


def test_it_writes_nothing_and_names_the_bad_row(db: Any) -> None:
    rows = _rows(bad=537)
    job = job_submit(kind="tests.import", payload={"rows": rows}, idempotency_key=_key(rows), user=None)
    assert job_run(job_id=job.pk) == "failed"
    job.refresh_from_db()
    assert job.state == JobState.FAILED
    assert job.result == {"errors": [{"row": 537, "column": "身份证号", "reason": "校验码错误"}]}
    assert DrillEffect.objects.count() == 0


def test_it_imports_valid_rows_only_when_asked_and_says_so(db: Any) -> None:
    rows = _rows(bad=537)
    payload = {"rows": rows, "valid_rows_only": True}
    job = job_submit(kind="tests.import", payload=payload, idempotency_key=_key(rows) + ":valid", user=None)
    assert job_run(job_id=job.pk) == "succeeded"
    job.refresh_from_db()
    assert job.result == {"created": ROWS - 1, "skipped": 1}
    assert (job.progress_current, job.progress_total) == (ROWS, ROWS)
    assert DrillEffect.objects.count() == ROWS - 1


def test_it_leaves_no_row_when_the_worker_dies_mid_import(db: Any) -> None:
    rows = _rows(crash=600)
    job = job_submit(kind="tests.import", payload={"rows": rows}, idempotency_key=_key(rows), user=None)
    with pytest.raises(_Crash):
        job_run(job_id=job.pk)
    assert DrillEffect.objects.count() == 0  # 599 rows were written, then rolled back
    job.refresh_from_db()
    assert (job.state, job.attempts) == (JobState.RUNNING, 1)  # the reaper's business now
    assert job_claim(job_id=job.pk) is None  # its lease still holds


def test_it_imports_the_same_file_once(db: Any) -> None:
    rows = _rows()
    first = job_submit(kind="tests.import", payload={"rows": rows}, idempotency_key=_key(rows), user=None)
    assert job_run(job_id=first.pk) == "succeeded"
    again = job_submit(kind="tests.import", payload={"rows": rows}, idempotency_key=_key(rows), user=None)
    assert again.pk == first.pk
    assert job_run(job_id=again.pk) == "skipped"
    assert DrillEffect.objects.count() == ROWS  # N rows, not 2N
