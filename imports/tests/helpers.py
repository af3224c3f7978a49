"""Files and steps of the import flow, as a user goes through them: build a ledger file in
one of the four formats, upload it over HTTP, run the preview and commit jobs (the test
settings never start a worker: a job runs when the test says so)."""

import datetime as dt
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from core import idnumber
from core.tests import hostile_files as files
from imports.models import Batch
from jobs.services import job_run
from testing.world import World

# Canonical labels (imports.columns.FIELDS): a file with only these needs no mapping screen.
HEADERS = (
    "姓名",
    "公民身份号码",
    "乡镇（街道）",
    "村（社区）",
    "就学情况",
    "照料类型",
    "监护情况评估",
    "父亲姓名",
    "父亲当前状态",
    "父亲务工地点",
    "父亲联系电话",
    "母亲姓名",
    "母亲当前状态",
    "母亲务工地点",
)
COLUMN = {header: index for index, header in enumerate(HEADERS)}


def id_for(number: int) -> str:
    """A valid, distinct ID number per row number (birth dates spread over years)."""
    birth = dt.date(2012, 1, 1) + dt.timedelta(days=number % 1500)
    return idnumber.make("450502", birth, 100 + number // 1500 * 2 + 1)  # the World uses 450521


def ledger_row(
    number: int, *, township: str = "廉州镇", village: str = "甲一村委会", **cells: str
) -> list[str]:
    row = {
        "姓名": f"陈{_digits(number)}",
        "公民身份号码": id_for(number),
        "乡镇（街道）": township,
        "村（社区）": village,
        "就学情况": "小学",
        "照料类型": "（外）祖父母照料",
        "监护情况评估": "较好",
        "父亲姓名": "陈父",
        "父亲当前状态": "外出务工",
        "父亲务工地点": "广东省",
        "父亲联系电话": "13812345678",
        "母亲姓名": "黄母",
        "母亲当前状态": "外出务工",
        "母亲务工地点": "广东省",
    }
    row.update(cells)
    return [row[header] for header in HEADERS]


def _digits(number: int) -> str:
    """Chinese-looking given names that differ per row."""
    chars = "〇一二三四五六七八九"
    return "".join(chars[int(d)] for d in str(number))


def rows(count: int, **cells: str) -> list[list[str]]:
    return [ledger_row(number, **cells) for number in range(1, count + 1)]


BUILDERS: dict[str, Callable[[Sequence[Sequence[object]]], bytes]] = {
    "xlsx": lambda table: files.xlsx(table),
    "xls": lambda table: files.xls(table),
    "ods": lambda table: files.ods(table, tail=""),
    "csv": lambda table: files.csv_bytes(table, encoding="gb18030"),
}


def ledger(
    data: Sequence[Sequence[object]], *, kind: str = "xlsx", headers: Sequence[str] = HEADERS
) -> bytes:
    return BUILDERS[kind]([list(headers), *data])


def upload(client: Client, content: bytes, *, name: str = "台账.xlsx") -> Any:
    return client.post("/imports/", {"file": SimpleUploadedFile(name, content)})


def latest_batch() -> Batch:
    return Batch.objects.latest("created_at")


def run_preview(batch: Batch) -> Batch:
    batch.refresh_from_db()
    assert batch.preview_job_id is not None, "no preview job"
    assert job_run(job_id=batch.preview_job_id) == "succeeded"
    batch.refresh_from_db()
    return batch


def previewed(client: Client, content: bytes, *, name: str = "台账.xlsx") -> Batch:
    """Upload a file whose headers need no mapping screen, and run its preview."""
    response = upload(client, content, name=name)
    assert response.status_code == 302, response.content.decode()[:2000]
    batch = latest_batch()
    assert response["Location"] == f"/imports/{batch.id}/", response["Location"]
    return run_preview(batch)


def commit(client: Client, batch: Batch) -> str:
    """POST the commit and run its job; what job_run says."""
    response = client.post(f"/imports/{batch.id}/commit/")
    assert response.status_code == 302
    batch.refresh_from_db()
    assert batch.commit_job_id is not None, "no commit job"
    outcome = job_run(job_id=batch.commit_job_id)
    batch.refresh_from_db()
    return outcome


def stored_file(batch: Batch, upload_dir: Path) -> Path:
    return upload_dir / batch.stored_name


def world_ids(world: World) -> set[Any]:
    return {child.pk for child in world.children.values()}
