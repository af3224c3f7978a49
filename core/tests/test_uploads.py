"""FI-1, FI-2, FI-3: the upload guard, through an upload form as a user sends it.

The import pages do not exist yet, so this module mounts a small upload view of its own (the
way every later upload view will use the guard: guarded_upload() in a with-block) next to the
project's URLconf. Every hostile file is posted as a multipart upload and must be refused with
its Chinese reason within 2 seconds, leaving no file behind: neither the guard's copy nor
Django's own temporary upload file.
"""

import csv
import io
import stat
import time
import tracemalloc
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.core.files.uploadedfile import SimpleUploadedFile
from django.http import HttpRequest, JsonResponse
from django.test import Client
from django.urls import path
from django.views.decorators.http import require_POST

from core import uploads
from core.tests import hostile_files as h
from core.uploads import UploadRejected, guard_upload, guarded_upload
from shouhu.urls import urlpatterns as project_urlpatterns

pytestmark = pytest.mark.urls("core.tests.test_uploads")


@login_required
@require_POST
def upload_view(request: HttpRequest) -> JsonResponse:
    """What an import view does: guard, read the first row, let the with-block delete the file."""
    try:
        with guarded_upload(request.FILES.get("file")) as guarded:
            return JsonResponse(
                {"kind": guarded.kind, "rows": guarded.rows, "first": _first_row(guarded.path, guarded.kind)}
            )
    except UploadRejected as exc:
        return JsonResponse({"error": exc.message}, status=400)


def _first_row(stored: Path, kind: str) -> list[str]:
    if kind == "csv":
        encoding = "utf-8-sig" if stored.read_bytes().startswith(b"\xef\xbb\xbf") else "gb18030"
        with stored.open(encoding=encoding, newline="") as handle:
            return next(csv.reader(handle))
    from python_calamine import CalamineWorkbook

    workbook = CalamineWorkbook.from_path(str(stored))
    try:
        return [str(value) for value in workbook.get_sheet_by_index(0).to_python()[0]]
    finally:
        workbook.close()


urlpatterns = [path("test-upload/", upload_view), *project_urlpatterns]

MB = 1024 * 1024


@pytest.fixture
def upload_dir(settings: Any, tmp_path: Path) -> Path:
    """The guard's directory and Django's temporary upload directory, both watched by the tests."""
    settings.SHOUHU_UPLOAD_DIR = tmp_path / "uploads"
    settings.FILE_UPLOAD_TEMP_DIR = str(tmp_path / "django-tmp")
    (tmp_path / "django-tmp").mkdir()
    return tmp_path


def _leftovers(root: Path) -> list[str]:
    return sorted(str(p.relative_to(root)) for p in root.rglob("*") if p.is_file())


def _post(client: Client, name: str, data: bytes) -> tuple[Any, float]:
    started = time.perf_counter()
    response = client.post("/test-upload/", {"file": SimpleUploadedFile(name, data)})
    return response, time.perf_counter() - started


# --- real files are accepted -------------------------------------------------------------------

GOOD: dict[str, tuple[str, Callable[[], bytes], str]] = {
    "xlsx": ("花名册.xlsx", h.xlsx, "xlsx"),
    "ods (LibreOffice padding)": ("花名册.ods", h.ods, "ods"),
    "xls": ("花名册.xls", h.xls, "xls"),
    "csv utf-8 with BOM": ("花名册.csv", lambda: h.csv_bytes([("姓名", "年龄"), ("张三", 9)]), "csv"),
    "csv gb18030": (
        "花名册.CSV",
        lambda: h.csv_bytes([("姓名", "年龄"), ("张三", 9)], encoding="gb18030"),
        "csv",
    ),
}


@pytest.mark.parametrize("case", list(GOOD))
def test_it_accepts_real_spreadsheets_and_deletes_them_after_use(
    case: str, login: Any, upload_dir: Path
) -> None:
    name, build, kind = GOOD[case]
    client = login("village_worker")
    response, _ = _post(client, name, build())
    assert response.status_code == 200, response.content.decode()
    assert response.json() == {"kind": kind, "rows": 2, "first": ["姓名", "年龄"]}
    assert _leftovers(upload_dir) == []


def test_it_accepts_fifty_thousand_rows_and_a_header(login: Any, upload_dir: Path) -> None:
    rows = [("姓名", "身份证号码", "村")] + [
        (f"儿童{n}", f"4505212015{n:08d}", "甲一村") for n in range(50_000)
    ]
    client = login("village_worker")
    response, _ = _post(client, "五万行.xlsx", h.xlsx(rows))
    assert response.status_code == 200, response.content.decode()
    assert response.json()["rows"] == 50_001
    assert _leftovers(upload_dir) == []


def test_it_stores_the_file_outside_the_web_root_under_a_generated_name(
    login: Any, client: Client, upload_dir: Path
) -> None:
    guarded = guard_upload(SimpleUploadedFile("../../static/张三家庭.xlsx", h.xlsx()))
    try:
        assert guarded.path.parent == Path(settings.SHOUHU_UPLOAD_DIR)
        assert guarded.path.name != "张三家庭.xlsx" and len(guarded.path.stem) == 32
        assert guarded.path.suffix == ".xlsx" and guarded.name == "张三家庭.xlsx"  # Django keeps the basename
        assert stat.S_IMODE(guarded.path.stat().st_mode) == 0o600
        assert stat.S_IMODE(guarded.path.parent.stat().st_mode) == 0o700
        default_dir = Path(settings.VAR_DIR) / "uploads"
        for web_root in [Path(settings.STATIC_ROOT), *map(Path, settings.STATICFILES_DIRS)]:
            assert not default_dir.resolve().is_relative_to(web_root.resolve())
        assert not settings.MEDIA_ROOT  # no media root: nothing uploaded is ever served as a file
        client = login("village_worker")
        for url in (
            f"/static/{guarded.path.name}",
            f"/media/{guarded.path.name}",
            f"/uploads/{guarded.path.name}",
        ):
            assert client.get(url).status_code == 404, url
    finally:
        guarded.delete()
    assert _leftovers(upload_dir) == []


def test_it_deletes_the_file_when_the_block_fails(upload_dir: Path) -> None:
    with pytest.raises(RuntimeError), guarded_upload(SimpleUploadedFile("a.xlsx", h.xlsx())) as guarded:
        assert guarded.path.exists()
        raise RuntimeError("import failed")
    assert _leftovers(upload_dir) == []


def test_it_refuses_kinds_the_caller_does_not_take(upload_dir: Path) -> None:
    with pytest.raises(UploadRejected, match=r"^只能上传以下文件：Excel 工作簿（\.xlsx）。$"):
        guard_upload(SimpleUploadedFile("a.csv", h.csv_bytes([("a",)])), kinds=("xlsx",))
    with pytest.raises(UploadRejected, match=r"^只能上传以下文件：Excel 工作簿（\.xlsx）。$"):
        guard_upload(SimpleUploadedFile("a.xls", h.xls()), kinds=("xlsx",))
    assert _leftovers(upload_dir) == []


def test_it_asks_for_a_file_when_none_is_sent(login: Any, upload_dir: Path) -> None:
    response = login("village_worker").post("/test-upload/", {})
    assert response.status_code == 400
    assert response.json() == {"error": uploads.NO_FILE}


# --- hostile files are refused -----------------------------------------------------------------

BOMB = "压缩内容异常（可能是压缩炸弹）"
HOSTILE: dict[str, tuple[str, Callable[[], bytes], str]] = {
    "zip bomb (150 MB of zeros)": ("名单.xlsx", lambda: h.zip_bomb(megabytes=150), BOMB),
    "zip bomb under the total, ratio ~1000": ("名单.xlsx", lambda: h.zip_bomb(megabytes=20), "压缩比过高"),
    "zip bomb that lies about its size": ("名单.xlsx", h.lying_bomb, uploads.DAMAGED),
    "1,001 entries": ("名单.xlsx", lambda: h.many_entries(1001), "包含的文件超过 1000 个"),
    "renamed .exe": ("名单.xlsx", h.renamed_exe, uploads.EXECUTABLE),
    "renamed ELF": ("名单.csv", h.elf, uploads.EXECUTABLE),
    "xlsm content type and vbaProject.bin, named .xlsx": ("名单.xlsx", h.xlsm, uploads.MACRO),
    "vbaProject.bin under an .xlsx content type": (
        "名单.xlsx",
        lambda: h.xlsm(macro_type=False),
        uploads.MACRO,
    ),
    "macroEnabled content type alone": ("名单.xlsx", lambda: h.xlsm(with_vba=False), uploads.MACRO),
    "a plain workbook named .xlsm": ("名单.xlsm", h.xlsx, uploads.MACRO),
    ".xls with a _VBA_PROJECT_CUR storage": ("名单.xls", h.xls_with_macros, uploads.MACRO),
    ".ods with Basic macros": ("名单.ods", h.ods_with_macros, uploads.MACRO),
    "password-protected .xlsx (OLE2 EncryptedPackage)": ("名单.xlsx", h.encrypted_ooxml, uploads.ENCRYPTED),
    "billion laughs": ("名单.xlsx", lambda: h.entity_xlsx(h.BILLION_LAUGHS, "&lol9;"), uploads.XML_UNSAFE),
    "quadratic blow-up": (
        "名单.xlsx",
        lambda: h.entity_xlsx(h.QUADRATIC, "&a;" * 10_000),
        uploads.XML_UNSAFE,
    ),
    "a DTD after the root element (not where expat looks)": (
        "名单.xlsx",
        lambda: h.entity_xlsx("", h.BILLION_LAUGHS + "&lol9;"),
        uploads.XML_UNSAFE,
    ),
    "external entity (XXE)": (
        "名单.xlsx",
        lambda: h.entity_xlsx(h.EXTERNAL_ENTITY, "&xxe;"),
        uploads.XML_UNSAFE,
    ),
    "1,000,000-row sheet": ("名单.xlsx", h.million_rows, "数据超过 50000 行"),
    "ods row repeated 1,000,000 times": (
        "名单.ods",
        lambda: h.ods_repeated_rows(1_000_000),
        "数据超过 50000 行",
    ),
    "ods cell repeated 1,000,000 times": ("名单.ods", h.ods_cell_bomb, "单行超过 16384 列"),
    "csv with NUL bytes": ("名单.csv", lambda: b"name,age\r\n\x00\x00\x00,9\r\n", uploads.CSV_BINARY),
    "csv over 50,000 rows": (
        "名单.csv",
        lambda: h.csv_bytes([("a", n) for n in range(50_002)]),
        "数据超过 50000 行",
    ),
    "csv in no known encoding": ("名单.csv", lambda: b"name\r\n\xff\xfe\xfa\r\n", uploads.CSV_ENCODING),
    "over 10 MB": ("名单.csv", lambda: b"a,b\r\n" * (10 * MB // 5 + 1), "文件过大（超过 10 MB）"),
    "empty": ("名单.xlsx", lambda: b"", uploads.EMPTY),
    "a PNG named .xlsx": ("名单.xlsx", lambda: b"\x89PNG\r\n\x1a\n" + bytes(100), uploads.NOT_WORKBOOK),
    "a .docx named .xlsx": (
        "名单.xlsx",
        lambda: h.xlsx(
            main="application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml"
        ),
        uploads.NOT_WORKBOOK,
    ),
    "a truncated .xlsx": ("名单.xlsx", lambda: h.xlsx()[:600], uploads.NOT_WORKBOOK),
    "a CSV named .xlsx": ("名单.xlsx", lambda: h.csv_bytes([("a", 1)]), "文件扩展名与内容不符"),
    "an .xls named .xlsx": ("名单.xlsx", h.xls, "文件扩展名与内容不符"),
}


@pytest.mark.parametrize("case", list(HOSTILE))
def test_it_refuses_hostile_files_quickly_and_leaves_nothing(case: str, login: Any, upload_dir: Path) -> None:
    name, build, message = HOSTILE[case]
    data = build()
    client = login("village_worker")
    response, elapsed = _post(client, name, data)
    assert response.status_code == 400, response.content.decode()
    assert message in response.json()["error"]
    assert elapsed < 2.0, f"{case}: refused after {elapsed:.2f} s"
    assert _leftovers(upload_dir) == []


def test_it_refuses_an_archive_over_the_unpacked_limit(settings: Any, login: Any, upload_dir: Path) -> None:
    settings.SHOUHU_UPLOAD_MAX_UNPACKED_BYTES = 1 * MB
    response, _ = _post(login("village_worker"), "名单.xlsx", h.incompressible(megabytes=2))
    assert response.status_code == 400
    assert response.json()["error"] == uploads.BOMB.format(reason="解压后超过 1 MB")
    assert _leftovers(upload_dir) == []


def test_it_reads_the_limits_from_settings(settings: Any, login: Any, upload_dir: Path) -> None:
    settings.SHOUHU_UPLOAD_MAX_ENTRIES = 5
    settings.SHOUHU_IMPORT_MAX_ROWS = 1
    settings.SHOUHU_UPLOAD_MAX_BYTES = 2 * MB
    client = login("village_worker")
    assert "包含的文件超过 5 个" in _post(client, "a.xlsx", h.many_entries(3))[0].json()["error"]
    assert "数据超过 1 行" in _post(client, "a.xlsx", h.xlsx([("表头",), (1,), (2,)]))[0].json()["error"]
    assert _post(client, "a.xlsx", h.xlsx([("表头",), (1,)]))[0].status_code == 200
    big = h.csv_bytes([("a" * 100,)] * 25_000)
    assert "文件过大（超过 2 MB）" in _post(client, "a.csv", big)[0].json()["error"]
    assert _leftovers(upload_dir) == []


MEMORY_CASES = [
    "zip bomb (150 MB of zeros)",
    "zip bomb that lies about its size",
    "billion laughs",
    "1,000,000-row sheet",
    "ods row repeated 1,000,000 times",
]


@pytest.mark.parametrize("case", MEMORY_CASES)
def test_it_refuses_hostile_files_in_bounded_memory(case: str, upload_dir: Path) -> None:
    """The guard's own allocations (Python and zlib, via tracemalloc) stay far below what the
    files would unpack to: nothing is inflated or expanded in memory."""
    name, build, message = HOSTILE[case]
    upload = SimpleUploadedFile(name, build())
    tracemalloc.start()
    try:
        with pytest.raises(UploadRejected) as refused:
            guard_upload(upload)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert message in refused.value.message
    assert peak < 16 * MB, f"{case}: peak {peak / MB:.1f} MB"
    assert _leftovers(upload_dir) == []


def test_it_names_the_reason_without_logging_the_file_name(
    caplog: pytest.LogCaptureFixture, upload_dir: Path
) -> None:
    with pytest.raises(UploadRejected):
        guard_upload(SimpleUploadedFile("张三家庭情况.xlsx", h.renamed_exe()))
    assert "upload refused: executable" in caplog.text
    assert "张三" not in caplog.text


def test_the_corpus_is_what_it_claims() -> None:
    """Guards against a corpus that is refused for the wrong reason: the good files are real
    (python-calamine reads them), and the 1M-row sheet does hold 1,000,000 rows."""
    from python_calamine import CalamineWorkbook

    for build in (h.xlsx, h.ods, h.xls, h.xls_with_macros, h.encrypted_ooxml):
        sheet = CalamineWorkbook.from_filelike(io.BytesIO(build())).get_sheet_by_index(0)
        assert sheet.to_python()[0] == ["姓名", "年龄"]
    assert len(h.million_rows()) < 10 * MB
    sheet = CalamineWorkbook.from_filelike(io.BytesIO(h.million_rows())).get_sheet_by_index(0)
    assert sheet.height == 1_000_000
