"""The commit takes the rows the preview normalised (imports.cache) instead of reading the file
again, and only when that is safe: same file bytes, same day, same round, untampered, every
village still in the importer's write scope. Otherwise it reads the rows again (and
re-validates). The preview takes the rows the upload read (the sheet cache) on the same terms:
same batch, same bytes, untampered; otherwise it reads the file."""

import datetime as dt
from pathlib import Path
from typing import Any

import pytest
import time_machine
from django.utils import timezone

from core import crypto
from imports import services
from imports.cache import cache_path, sheet_path
from imports.models import Batch
from imports.tests import helpers as h
from jobs.services import job_run
from registry.models import Child
from testing.world import World


def _imported(world: World) -> Any:
    return Child.objects.exclude(pk__in=h.world_ids(world))


def _cache(batch: Batch, upload_dir: Path) -> Path:
    return cache_path(h.stored_file(batch, upload_dir), batch.round)


@pytest.fixture
def file_reads(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """How the import gets the file's rows from here on: the file's kind for each read of the
    file (read_sheet), "sheet" for each time the rows the upload read are taken instead."""
    reads: list[str] = []
    read_sheet, sheet_load = services.read_sheet, services.sheet_load

    def counting(path: Path, kind: str) -> Any:
        reads.append(kind)
        return read_sheet(path, kind)

    def counting_load(path: Path, *, batch_id: object) -> Any:
        sheet = sheet_load(path, batch_id=batch_id)
        if sheet is not None:
            reads.append("sheet")
        return sheet

    monkeypatch.setattr(services, "read_sheet", counting)
    monkeypatch.setattr(services, "sheet_load", counting_load)
    return reads


def test_the_commit_reads_the_preview_rows_not_the_file(
    world: World, login: Any, upload_dir: Path, file_reads: list[str], django_capture_on_commit_callbacks: Any
) -> None:
    client = login("county_admin")
    batch = h.previewed(client, h.ledger(h.rows(25)))
    # The upload read the file; the preview took the rows the upload read.
    assert _cache(batch, upload_dir).exists() and file_reads == ["xlsx", "sheet"]
    with django_capture_on_commit_callbacks(execute=True):
        assert h.commit(client, batch) == "succeeded"
    assert file_reads == ["xlsx", "sheet"]  # the commit took the preview's rows
    assert sorted(_imported(world).values_list("name", flat=True)) == sorted(
        f"陈{h._digits(n)}" for n in range(1, 26)
    )
    assert list(upload_dir.iterdir()) == []  # the upload and its cache are gone


def test_a_preview_with_errors_keeps_no_cache(world: World, login: Any, upload_dir: Path) -> None:
    client = login("county_admin")
    table = h.rows(5)
    table[3][h.COLUMN["监护情况评估"]] = "特别好"
    batch = h.previewed(client, h.ledger(table))
    assert batch.error_count == 1
    assert {p.name for p in upload_dir.iterdir()} == {batch.stored_name, f"{batch.stored_name}.sheet"}


def test_a_tampered_cache_is_not_used(
    world: World, login: Any, upload_dir: Path, file_reads: list[str]
) -> None:
    """Altered bytes do not open (AES-GCM): the commit takes the rows again (here from the
    upload's sheet cache) and normalises them, and writes the file's rows."""
    client = login("county_admin")
    batch = h.previewed(client, h.ledger(h.rows(4)))
    path = _cache(batch, upload_dir)
    data = bytearray(path.read_bytes())
    data[-20] ^= 0xFF
    path.write_bytes(bytes(data))
    assert h.commit(client, batch) == "succeeded"
    assert file_reads == ["xlsx", "sheet", "sheet"] and _imported(world).count() == 4


def test_a_cache_of_another_batch_does_not_open(
    world: World, login: Any, upload_dir: Path, file_reads: list[str]
) -> None:
    """Each cache is sealed for its batch and round: put in another batch's place, it does not
    open, and the commit reads that batch's own file."""
    client = login("county_admin")
    first = h.previewed(client, h.ledger(h.rows(3)))
    second = h.previewed(client, h.ledger(h.rows(6)))
    _cache(second, upload_dir).write_bytes(_cache(first, upload_dir).read_bytes())
    assert h.commit(client, second) == "succeeded"
    assert file_reads == ["xlsx", "sheet"] * 2 + ["sheet"]  # upload and preview of each, the commit
    assert _imported(world).count() == 6


def test_a_cache_of_an_earlier_layout_is_not_used(
    world: World, login: Any, upload_dir: Path, file_reads: list[str]
) -> None:
    """A cache written before its chunks carried their match keys (a preview made before an
    upgrade, committed after it) is not read as the new layout: the commit reads the file."""
    import pickle

    from imports import cache

    client = login("county_admin")
    batch = h.previewed(client, h.ledger(h.rows(4)))
    path = _cache(batch, upload_dir)
    data = path.read_bytes()
    size = cache._LENGTH.size
    (length,) = cache._LENGTH.unpack(data[:size])
    context = cache._context(batch.pk, batch.round)
    head = pickle.loads(crypto.open_blob(data[size : size + length], context=context))
    del head["layout"]
    old = crypto.seal_blob(pickle.dumps(head), context=context)
    path.write_bytes(cache._LENGTH.pack(len(old)) + old + data[size + length :])
    assert h.commit(client, batch) == "succeeded"
    assert file_reads == ["xlsx", "sheet", "sheet"] and _imported(world).count() == 4


def test_a_commit_on_another_day_normalises_the_rows_again(
    world: World, login: Any, upload_dir: Path, file_reads: list[str]
) -> None:
    """A new file's derived columns (left-behind by age…) depend on the date."""
    client = login("county_admin")
    batch = h.previewed(client, h.ledger(h.rows(2)))
    assert client.post(f"/imports/{batch.id}/commit/").status_code == 302
    batch.refresh_from_db()
    assert batch.commit_job_id is not None
    with time_machine.travel(timezone.now() + dt.timedelta(days=1)):
        assert job_run(job_id=batch.commit_job_id) == "succeeded"
    assert file_reads == ["xlsx", "sheet", "sheet"] and _imported(world).count() == 2


def test_a_village_that_left_the_importer_s_scope_makes_the_preview_stale(
    world: World, login: Any, upload_dir: Path
) -> None:
    client = login("township_supervisor")
    batch = h.previewed(client, h.ledger(h.rows(3)))
    grant = world.users["township_supervisor"].grants.get()
    grant.region = world.township_b  # moved to another township since the preview
    grant.save()
    assert h.commit(client, batch) == "failed"
    batch.refresh_from_db()
    assert batch.commit_job is not None and batch.commit_job.error == "预览后有 3 份档案被修改，请重新预览"
    assert not _imported(world).exists()


def test_a_new_round_drops_the_old_cache(world: World, login: Any, upload_dir: Path) -> None:
    client = login("county_admin")
    batch = h.previewed(client, h.ledger(h.rows(2)))
    old = _cache(batch, upload_dir)
    services.batch_preview_submit(user=world.users["county_admin"], batch=batch)
    batch = h.run_preview(batch)
    assert batch.round == 2 and not old.exists() and _cache(batch, upload_dir).exists()


def test_a_tampered_sheet_cache_is_not_used(
    world: World, login: Any, upload_dir: Path, file_reads: list[str]
) -> None:
    client = login("county_admin")
    assert h.upload(client, h.ledger(h.rows(4))).status_code == 302  # the preview is queued
    batch = h.latest_batch()
    path = sheet_path(h.stored_file(batch, upload_dir))
    data = bytearray(path.read_bytes())
    data[-20] ^= 0xFF
    path.write_bytes(bytes(data))
    batch = h.run_preview(batch)
    assert file_reads == ["xlsx", "xlsx"] and batch.new_count == 4  # the preview read the file


def test_a_sheet_cache_of_another_batch_does_not_open(
    world: World, login: Any, upload_dir: Path, file_reads: list[str]
) -> None:
    client = login("county_admin")
    h.upload(client, h.ledger(h.rows(3)))
    first = h.latest_batch()
    h.upload(client, h.ledger(h.rows(6)))
    second = h.latest_batch()
    sheet_path(h.stored_file(second, upload_dir)).write_bytes(
        sheet_path(h.stored_file(first, upload_dir)).read_bytes()
    )
    second = h.run_preview(second)
    assert file_reads == ["xlsx", "xlsx", "xlsx"] and second.new_count == 6


def test_the_column_encryptor_and_sealed_blobs() -> None:
    token, again = crypto.encrypt_many(["450521201506010011"] * 2, context="registry.Child.id_number")
    assert crypto.decrypt(token, context="registry.Child.id_number") == "450521201506010011"
    assert token != again  # a fresh nonce each time
    with pytest.raises(crypto.DecryptionError):
        crypto.decrypt(token, context="registry.Parent.id_number")
    blob = crypto.seal_blob(b"rows", context="imports.preview_rows:a:1")
    assert crypto.open_blob(blob, context="imports.preview_rows:a:1") == b"rows"
    with pytest.raises(crypto.DecryptionError):
        crypto.open_blob(blob, context="imports.preview_rows:a:2")
    with pytest.raises(crypto.DecryptionError):
        crypto.open_blob(blob[:-1] + bytes([blob[-1] ^ 1]), context="imports.preview_rows:a:1")
