"""The import flow end to end over HTTP: upload → preview → commit, for each file format;
all or nothing (RE-3); re-importing changes nothing; the preview's outcomes per row."""

import datetime as dt
import threading
from pathlib import Path
from typing import Any

import pytest

from imports.models import Batch, BatchState, ImportRow, Outcome
from imports.tests import helpers as h
from jobs.services import job_run
from registry import choices as c
from registry.models import Child, EntrustedGuardian, Parent
from testing.world import World

History = Child.history.model  # type: ignore[attr-defined]


def _imported(world: World) -> Any:
    return Child.objects.exclude(pk__in=h.world_ids(world))


@pytest.mark.parametrize("kind", ["xlsx", "xls", "ods", "csv"])
def test_it_imports_each_kind_with_history(
    kind: str, world: World, login: Any, upload_dir: Path, django_capture_on_commit_callbacks: Any
) -> None:
    client = login("township_supervisor")
    batch = h.previewed(client, h.ledger(h.rows(3), kind=kind), name=f"台账.{kind}")
    assert (batch.state, batch.new_count, batch.error_count) == (BatchState.PREVIEWED, 3, 0)
    page = client.get(f"/imports/{batch.id}/").content.decode()
    assert "新建" in page and "确认导入（3 份新建" in page

    with django_capture_on_commit_callbacks(execute=True):
        assert h.commit(client, batch) == "succeeded"
    assert batch.state == BatchState.COMMITTED
    children = list(_imported(world).order_by("file_no"))
    assert [child.name for child in children] == ["陈一", "陈二", "陈三"]
    village = world.village_a1
    assert [child.file_no for child in children] == [f"{village.code}{n:06d}" for n in (2, 3, 4)]
    first = children[0]
    assert (first.township_id, first.county_id, first.is_left_behind) == (
        world.township_a.pk,
        world.county.pk,
        True,
    )
    assert first.risk_colour and first.next_visit_due  # the care state follows at once
    history = History.objects.filter(id=first.pk).get()
    assert (history.history_user_id, history.history_change_reason, history.history_type) == (
        world.users["township_supervisor"].pk,
        "台账导入",
        "+",
    )
    parents = Parent.objects.filter(child=first)
    assert {p.role: p.name for p in parents} == {"father": "陈父", "mother": "黄母"}
    assert all(p.history.count() == 1 for p in parents)
    assert batch.commit_job is not None and batch.commit_job.result == {
        "rows": 3,
        "created": 3,
        "updated": 0,
        "unchanged": 0,
    }
    assert not any(upload_dir.iterdir())  # the file went with the commit (FI-3)


def test_it_writes_nothing_when_row_537_of_1000_is_bad(world: World, login: Any) -> None:
    client = login("county_admin")
    table = h.rows(1000)
    table[535][h.COLUMN["就学情况"]] = "读书中"  # data row 536 is spreadsheet row 537
    batch = h.previewed(client, h.ledger(table))
    assert (batch.error_count, batch.new_count) == (1, 999)
    bad = ImportRow.objects.get(batch=batch, outcome=Outcome.ERROR)
    assert bad.number == 537 and bad.errors[0]["column"] == "就学情况"
    page = client.get(f"/imports/{batch.id}/", {"outcome": "error"}).content.decode()
    assert "537" in page and "不能导入" in page

    response = client.post(f"/imports/{batch.id}/commit/", follow=True)
    assert "只有预览完成且没有错误的批次才能导入" in response.content.decode()
    batch.refresh_from_db()
    assert batch.commit_job is None
    assert not _imported(world).exists()


def test_the_commit_revalidates_the_file_and_writes_nothing(
    world: World, login: Any, upload_dir: Path
) -> None:
    """The commit reads the file again: a row gone bad since the preview (here the file is
    replaced under the batch) fails the whole commit and names the row."""
    client = login("county_admin")
    batch = h.previewed(client, h.ledger(h.rows(1000)))
    table = h.rows(1000)
    table[535][h.COLUMN["监护情况评估"]] = "特别好"
    h.stored_file(batch, upload_dir).write_bytes(h.ledger(table))

    assert h.commit(client, batch) == "failed"
    assert not _imported(world).exists()
    job = batch.commit_job
    assert job is not None and job.error == "导入文件有错误，未写入任何数据"
    assert job.result is not None and [e["row"] for e in job.result["errors"]] == [537]
    assert "导入失败，未写入任何数据" in client.get(f"/imports/{batch.id}/").content.decode()


class _Killed(BaseException):
    """Stands in for SIGKILL: nothing after it runs, nothing is marked."""


def test_a_commit_killed_mid_way_leaves_no_row(
    world: World, login: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    from imports import services

    client = login("county_admin")
    monkeypatch.setattr(services, "CHUNK", 10)  # before the preview: its cache keeps the chunks
    batch = h.previewed(client, h.ledger(h.rows(30)))
    written = []
    original = services._Writer.write

    def write_then_die(self: Any, evaluated: list[Any]) -> None:
        original(self, evaluated)
        if self.background is not None:
            self.background.wait()  # PostgreSQL: the rows are written in the background
        written.append(len(evaluated))
        if len(written) == 2:
            assert _imported(world).count() == 20  # written, then rolled back below
            raise _Killed

    monkeypatch.setattr(services._Writer, "write", write_then_die)
    with pytest.raises(_Killed):
        h.commit(client, batch)
    assert not _imported(world).exists()
    assert not History.objects.filter(history_change_reason="台账导入").exists()
    batch.refresh_from_db()
    assert batch.state == BatchState.COMMITTING  # the reaper retries it later


class _BrokenCopyError(Exception):
    pass


def test_a_failed_background_write_fails_the_commit_and_leaves_no_row(
    world: World, login: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """On PostgreSQL the COPY runs in a background thread (imports.writing.Background) while
    the next chunk is evaluated: its error fails the job, after every other write has ended,
    and the transaction leaves nothing."""
    from django.db import connection

    from imports import services, writing

    if connection.vendor != "postgresql":
        pytest.skip("the background writer is PostgreSQL's")
    client = login("county_admin")
    monkeypatch.setattr(services, "CHUNK", 10)
    batch = h.previewed(client, h.ledger(h.rows(30)))
    calls: list[str] = []
    original = writing._copy_rows

    def broken(raw: Any, sql: str, *args: Any) -> None:
        calls.append(sql)
        if len(calls) == 3:  # the second chunk's files
            raise _BrokenCopyError("COPY failed")
        original(raw, sql, *args)

    monkeypatch.setattr(writing, "_copy_rows", broken)
    assert h.commit(client, batch) == "retry"
    batch.refresh_from_db()
    assert batch.commit_job is not None and batch.commit_job.error == "_BrokenCopyError: COPY failed"
    assert len(calls) == 3  # the writes queued after it (the second chunk's parents…) were skipped
    assert not _imported(world).exists()
    assert not History.objects.filter(history_change_reason="台账导入").exists()
    assert not [t for t in threading.enumerate() if t.name.startswith("import-writer")]


def test_a_failed_background_write_fails_the_preview(
    world: World, login: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The preview's rows are written in the background too (PostgreSQL): a failed write fails
    the job, which may be run again; no thread is left."""
    from django.db import connection

    from imports import writing

    if connection.vendor != "postgresql":
        pytest.skip("the background writer is PostgreSQL's")

    def broken(*_args: Any) -> None:
        raise _BrokenCopyError("COPY failed")

    monkeypatch.setattr(writing, "_copy_rows", broken)
    client = login("county_admin")
    assert h.upload(client, h.ledger(h.rows(3))).status_code == 302
    batch = h.latest_batch()
    assert batch.preview_job_id is not None
    assert job_run(job_id=batch.preview_job_id) == "retry"
    batch.refresh_from_db()
    assert batch.state == BatchState.PREVIEWING and batch.preview_job is not None
    assert batch.preview_job.error == "_BrokenCopyError: COPY failed"
    assert not [t for t in threading.enumerate() if t.name.startswith("import-writer")]


def test_importing_the_same_file_twice_changes_nothing(world: World, login: Any) -> None:
    client = login("county_admin")
    content = h.ledger(h.rows(5))
    assert h.commit(client, h.previewed(client, content)) == "succeeded"
    children = History.objects.count()
    parents = Parent.history.model.objects.count()  # type: ignore[attr-defined]

    again = h.previewed(client, content)
    assert (again.new_count, again.update_count, again.unchanged_count) == (0, 0, 5)
    assert h.commit(client, again) == "succeeded"
    assert _imported(world).count() == 5  # N files, not 2N
    assert History.objects.count() == children
    assert Parent.history.model.objects.count() == parents  # type: ignore[attr-defined]
    assert again.commit_job is not None and again.commit_job.result == {
        "rows": 5,
        "created": 0,
        "updated": 0,
        "unchanged": 5,
    }


@pytest.fixture(params=["held", "matched in the loop"])
def held_matches(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> None:
    """The commit matches a chunk with few matched files before its loop and one with many in
    it (services.HELD_MATCHES): both ways."""
    from imports import services

    monkeypatch.setattr(services, "HELD_MATCHES", 200 if request.param == "held" else 0)


def test_the_preview_shows_the_differences_masked_and_the_commit_writes_them(
    world: World, login: Any, held_matches: None
) -> None:
    client = login("county_admin")
    a1 = world.children["a1"]
    table = [
        h.ledger_row(
            1,
            姓名=a1.name,
            公民身份号码=a1.id_number,
            监护情况评估="差",
            父亲联系电话="13911112222",
        )
    ]
    batch = h.previewed(client, h.ledger(table))
    assert (batch.update_count, batch.error_count) == (1, 0)
    row = ImportRow.objects.get(batch=batch)
    changes = {label: (old, new) for label, old, new in row.changes}
    assert changes["监护情况评估"] == ("较好", "差")
    assert changes["父亲联系电话"] == ("138****0001", "139****2222")
    assert row.summary == f"张* {a1.id_number[:6]}********{a1.id_number[-4:]}"
    page = client.get(f"/imports/{batch.id}/").content.decode()
    assert "139****2222" in page and "13911112222" not in page and a1.id_number not in page

    version = a1.version
    assert h.commit(client, batch) == "succeeded"
    a1.refresh_from_db()
    assert (a1.guardianship_rating, a1.version, a1.is_key) == (c.Rating.POOR, version + 1, True)
    assert a1.parents.get(role="father").phone == "13911112222"
    latest = a1.history.first()
    assert (latest.history_change_reason, latest.history_type) == ("台账导入", "~")


def test_a_file_changed_after_the_preview_refuses_the_commit(
    world: World, login: Any, held_matches: None
) -> None:
    from registry.services import FileData, child_file_update

    client = login("county_admin")
    a1, a2 = world.children["a1"], world.children["a2"]
    table = [
        h.ledger_row(1, 姓名=a1.name, 公民身份号码=a1.id_number, 监护情况评估="一般"),
        h.ledger_row(2, village="甲二村委会", 姓名=a2.name, 公民身份号码=a2.id_number),
        h.ledger_row(3),
    ]
    batch = h.previewed(client, h.ledger(table))
    assert batch.error_count == 0
    child_file_update(
        user=world.users["county_admin"],
        child=a1,
        expected_version=a1.version,
        data=FileData(child={"grade": "三年级"}),
    )
    before = History.objects.count()

    assert h.commit(client, batch) == "failed"
    assert batch.commit_job is not None and batch.commit_job.error == "预览后有 1 份档案被修改，请重新预览"
    assert History.objects.count() == before
    assert not _imported(world).exists()
    a1.refresh_from_db()
    assert a1.guardianship_rating == c.Rating.GOOD
    page = client.get(f"/imports/{batch.id}/").content.decode()
    assert "预览后有 1 份档案被修改" in page and "重新预览" in page


def test_rows_outside_the_write_scope_are_errors(world: World, login: Any) -> None:
    client = login("village_worker")  # 甲一村 only
    b1 = world.children["b1"]
    table = [
        h.ledger_row(1),
        h.ledger_row(2, village="甲二村委会"),
        h.ledger_row(3, township="党江镇", village="乙一村委会"),
        h.ledger_row(4, 姓名=b1.name, 公民身份号码=b1.id_number),  # on file in 党江镇
    ]
    batch = h.previewed(client, h.ledger(table))
    outcomes = dict(ImportRow.objects.filter(batch=batch).values_list("number", "outcome"))
    assert outcomes == {2: "new", 3: "error", 4: "error", 5: "error"}
    reasons = {
        row.number: [e["reason"] for e in row.errors]
        for row in ImportRow.objects.filter(batch=batch, outcome="error")
    }
    assert "该村不在您的管辖范围内" in reasons[3][0] and "该村不在您的管辖范围内" in reasons[4][0]
    assert reasons[5] == ["该身份证号码已有在册档案，不能重复建档。"]


def test_duplicated_id_numbers_in_the_file_are_errors_on_every_such_row(world: World, login: Any) -> None:
    client = login("county_admin")
    table = [h.ledger_row(1), h.ledger_row(2), h.ledger_row(3, 公民身份号码=h.id_for(1))]
    batch = h.previewed(client, h.ledger(table))
    errors = {
        row.number: row.errors[0]["reason"] for row in ImportRow.objects.filter(batch=batch, outcome="error")
    }
    assert errors == {2: "身份证号码与第 4 行重复", 4: "身份证号码与第 2 行重复"}


def test_the_error_spreadsheet_reads_back_with_the_rows_and_reasons(world: World, login: Any) -> None:
    from python_calamine import CalamineWorkbook

    client = login("county_admin")
    table = h.rows(4)
    table[1][h.COLUMN["就学情况"]] = "读书中"
    table[3][h.COLUMN["公民身份号码"]] = "450521201001011234"
    batch = h.previewed(client, h.ledger(table))
    assert batch.error_count == 2
    response = client.get(f"/imports/{batch.id}/errors.xlsx")
    assert response.status_code == 200
    data = b"".join(response.streaming_content)  # type: ignore[attr-defined]
    import io

    sheet = CalamineWorkbook.from_filelike(io.BytesIO(data)).get_sheet_by_index(0).to_python()
    assert sheet[1] == [*h.HEADERS, "行号", "错误原因"]
    body = sheet[2:]
    assert [line[len(h.HEADERS)] for line in body] == [3.0, 5.0]
    assert body[0][h.COLUMN["就学情况"]] == "读书中"
    assert body[0][-1].startswith("就学情况：")
    assert body[1][-1].startswith("公民身份号码：")
    # A writer may reveal (REVEAL_ROLES): the file's own ID comes back to be corrected.
    assert body[1][h.COLUMN["公民身份号码"]] == "450521201001011234"


def test_a_new_file_without_an_id_number_is_matched_by_name_and_birth_date_next_time(
    world: World, login: Any
) -> None:
    client = login("county_admin")
    headers = [*h.HEADERS, "出生日期", "性别"]
    table = [[*h.ledger_row(1, 公民身份号码=""), "2014-05-03", "女"]]
    content = h.ledger(table, headers=headers)
    assert h.commit(client, h.previewed(client, content)) == "succeeded"
    again = h.previewed(client, content)
    assert (again.new_count, again.unchanged_count) == (0, 1)
    # The commit matches it the same way (imports.cache keeps the name, birth date and village
    # of each row for the commit's matching): no stale refusal, no second file.
    assert h.commit(client, again) == "succeeded"
    created = _imported(world).get()
    assert (created.birth_date, created.sex, created.id_number) == (dt.date(2014, 5, 3), "F", "")


def test_a_guardian_in_the_file_is_created_with_history(world: World, login: Any) -> None:
    client = login("county_admin")
    headers = [*h.HEADERS, "受委托监护人姓名", "受委托监护人与被监护人关系", "受委托监护人联系电话"]
    table = [[*h.ledger_row(1), "陈奶奶", "祖母", "13700001111"]]
    assert h.commit(client, h.previewed(client, h.ledger(table, headers=headers))) == "succeeded"
    guardian = EntrustedGuardian.objects.get(child__in=_imported(world))
    assert (guardian.name, guardian.relation, guardian.phone) == ("陈奶奶", "grandmother", "13700001111")
    assert guardian.phone_index and guardian.history.count() == 1


def test_a_second_commit_post_returns_the_same_job(world: World, login: Any) -> None:
    client = login("county_admin")
    batch = h.previewed(client, h.ledger(h.rows(2)))
    client.post(f"/imports/{batch.id}/commit/")
    batch.refresh_from_db()
    first = batch.commit_job_id
    client.post(f"/imports/{batch.id}/commit/")
    batch.refresh_from_db()
    assert batch.commit_job_id == first and first is not None


def test_the_progress_partial_polls_until_done(world: World, login: Any) -> None:
    client = login("county_admin")
    h.upload(client, h.ledger(h.rows(2)))
    batch = h.latest_batch()
    polling = client.get(f"/imports/{batch.id}/", HTTP_HX_REQUEST="true")
    body = polling.content.decode()
    assert 'hx-trigger="every 1s"' in body and "<progress" in body and "HX-Refresh" not in polling.headers
    h.run_preview(batch)
    done = client.get(f"/imports/{batch.id}/", HTTP_HX_REQUEST="true")
    assert done.headers["HX-Refresh"] == "true" and "every 1s" not in done.content.decode()


def test_cancelling_deletes_the_file(
    world: World, login: Any, upload_dir: Path, django_capture_on_commit_callbacks: Any
) -> None:
    client = login("county_admin")
    batch = h.previewed(client, h.ledger(h.rows(2)))
    assert h.stored_file(batch, upload_dir).exists()
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(f"/imports/{batch.id}/cancel/")
    assert response.status_code == 302
    batch.refresh_from_db()
    assert batch.state == BatchState.CANCELLED and not any(upload_dir.iterdir())
    assert client.post(f"/imports/{batch.id}/commit/").status_code == 302
    batch.refresh_from_db()
    assert batch.commit_job is None


def test_the_purge_deletes_files_older_than_a_day(
    world: World, login: Any, upload_dir: Path, django_capture_on_commit_callbacks: Any
) -> None:
    from django.utils import timezone

    from imports.services import imports_purge_stale

    client = login("county_admin")
    old = h.previewed(client, h.ledger(h.rows(1)))
    fresh = h.previewed(client, h.ledger(h.rows(2)))
    Batch.objects.filter(pk=old.pk).update(created_at=timezone.now() - dt.timedelta(hours=25))
    old_name = old.stored_name
    assert {p.name for p in upload_dir.iterdir()} == {
        f"{batch.stored_name}{suffix}" for batch in (old, fresh) for suffix in ("", ".sheet", ".r1.rows")
    }
    with django_capture_on_commit_callbacks(execute=True):
        assert imports_purge_stale() == 1
    old.refresh_from_db()
    assert (old.state, old.stored_name) == (BatchState.EXPIRED, "")
    # The upload and the caches of its rows (imports.cache) go together.
    assert not any(p.name.startswith(old_name) for p in upload_dir.iterdir())
    assert {p.name for p in upload_dir.iterdir()} == {
        f"{fresh.stored_name}{suffix}" for suffix in ("", ".sheet", ".r1.rows")
    }


def test_a_file_that_is_not_a_ledger_is_refused_at_the_upload(
    world: World, login: Any, upload_dir: Path
) -> None:
    client = login("county_admin")
    response = h.upload(client, b"MZ\x90\x00 not a spreadsheet", name="台账.xlsx")
    assert response.status_code == 200 and "可执行程序" in response.content.decode()
    response = h.upload(client, h.ledger([["甲", "乙"]], headers=["备注", "其他"]))
    assert response.status_code == 200 and "未找到表头" in response.content.decode()
    assert not Batch.objects.exists() and not any(upload_dir.iterdir())
