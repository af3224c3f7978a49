"""The document guard (guard_document: JPEG, PNG, PDF) and the private storage, through an
upload form as a user sends it.

Like test_uploads, this module mounts a small upload view of its own that does what a
document view does (guard, store privately, answer). Every hostile file is refused with its
Chinese reason within 2 seconds and leaves no file behind; every good one is stored under a
generated name in SHOUHU_PRIVATE_DIR and nowhere else.
"""

import io
import re
import stat
import struct
import time
import zlib
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from django.contrib.auth.decorators import login_required
from django.core.files.uploadedfile import SimpleUploadedFile
from django.http import HttpRequest, JsonResponse
from django.test import Client
from django.urls import path
from django.views.decorators.http import require_POST
from PIL import Image

from core import uploads
from core.storage import private_file_response, private_storage, store_guarded
from core.uploads import UploadRejected, guard_document
from shouhu.urls import urlpatterns as project_urlpatterns

pytestmark = pytest.mark.urls("core.tests.test_document_guard")
MB = 1024 * 1024


@login_required
@require_POST
def document_view(request: HttpRequest) -> JsonResponse:
    kinds = tuple(request.POST.get("kinds", "jpeg,png,pdf").split(","))
    try:
        guarded = guard_document(request.FILES.get("file"), kinds=kinds)
    except UploadRejected as exc:
        return JsonResponse({"error": exc.message}, status=400)
    stored = store_guarded(guarded, folder="test")
    return JsonResponse(
        {"kind": guarded.kind, "width": guarded.width, "height": guarded.height, "stored": stored}
    )


urlpatterns = [path("test-document/", document_view), *project_urlpatterns]


@pytest.fixture
def dirs(settings: Any, tmp_path: Path) -> Path:
    settings.SHOUHU_UPLOAD_DIR = tmp_path / "uploads"
    settings.SHOUHU_PRIVATE_DIR = tmp_path / "private"
    settings.FILE_UPLOAD_TEMP_DIR = str(tmp_path / "django-tmp")
    (tmp_path / "django-tmp").mkdir()
    return tmp_path


def _files(root: Path) -> list[str]:
    return sorted(str(p.relative_to(root)) for p in root.rglob("*") if p.is_file())


def _post(client: Client, name: str, data: bytes, kinds: str = "jpeg,png,pdf") -> tuple[Any, float]:
    started = time.perf_counter()
    response = client.post("/test-document/", {"file": SimpleUploadedFile(name, data), "kinds": kinds})
    return response, time.perf_counter() - started


# --- the corpus ----------------------------------------------------------------------------------


def jpeg(size: tuple[int, int] = (40, 30)) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", size, (200, 30, 30)).save(buffer, "JPEG")
    return buffer.getvalue()


def png(size: tuple[int, int] = (40, 30)) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", size, (30, 200, 30)).save(buffer, "PNG")
    return buffer.getvalue()


def _chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def png_declaring(width: int, height: int) -> bytes:
    """A tiny PNG whose header claims width × height (a decompression bomb's calling card)."""
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    pixels = zlib.compress(b"\x00" * 1024)
    return uploads.PNG_MAGIC + _chunk(b"IHDR", header) + _chunk(b"IDAT", pixels) + _chunk(b"IEND", b"")


def jpeg_declaring(width: int, height: int) -> bytes:
    """A real JPEG with its frame header (SOF0) rewritten to claim width × height."""
    data = bytearray(jpeg())
    sof = data.find(b"\xff\xc0")
    data[sof + 5 : sof + 9] = struct.pack(">HH", height, width)
    return bytes(data)


def png_with_bad_crc() -> bytes:
    """A real PNG with one byte of its pixel data flipped: the chunk's CRC no longer matches."""
    data = bytearray(png())
    data[data.find(b"IDAT") + 6] ^= 0xFF
    return bytes(data)


CATALOG = b"<< /Type /Catalog /Pages 2 0 R%s >>"
PAGES = b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>"
PAGE = b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] >>"


def pdf(*extra: bytes, catalog: bytes = b"", trailer: bytes = b"") -> bytes:
    """A minimal, well-formed PDF: catalog, pages, one page, then `extra` objects 4, 5…"""
    objects = [CATALOG % catalog, PAGES, PAGE, *extra]
    out = bytearray(b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % number + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % offset for offset in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R %s>>\nstartxref\n%d\n%%%%EOF\n" % (
        len(objects) + 1,
        trailer,
        xref,
    )
    return bytes(out)


def stream(dictionary: bytes, data: bytes) -> bytes:
    return b"<< %s /Length %d >>\nstream\n" % (dictionary, len(data)) + data + b"\nendstream"


def object_stream(objects: bytes, filters: bytes = b"/Filter /FlateDecode") -> bytes:
    data = zlib.compress(b"5 0 " + objects) if b"Flate" in filters else (b"5 0 " + objects).hex().encode()
    return stream(b"/Type /ObjStm /N 1 /First 4 " + filters, data)


def scanned_pdf() -> bytes:
    """What a phone's scanner app makes: a page with a JPEG on it (fpdf2 writes it)."""
    from fpdf import FPDF

    document = FPDF()
    document.add_page()
    document.image(io.BytesIO(jpeg((600, 800))), x=10, y=10, w=150)
    document.set_font("helvetica", size=12)
    document.cell(0, 10, "signed")
    return bytes(document.output())


# --- accepted files ------------------------------------------------------------------------------

GOOD: dict[str, tuple[str, Callable[[], bytes], str, int | None, int | None]] = {
    "a phone photo (JPEG)": ("签字页.jpg", jpeg, "jpeg", 40, 30),
    "a JPEG named .JPEG": ("IMG_0001.JPEG", jpeg, "jpeg", 40, 30),
    "a screenshot (PNG)": ("签字页.png", png, "png", 40, 30),
    "a scanned PDF": ("委托监护确认书.pdf", scanned_pdf, "pdf", None, None),
    "a hand-made PDF": ("a.pdf", pdf, "pdf", None, None),
    "a PNG at the side limit": ("big.png", lambda: png_declaring(12_000, 10), "png", 12_000, 10),
    "a name without extension (some phone pickers)": ("1000012345", jpeg, "jpeg", 40, 30),
    "a PDF whose image data happens to hold '/JavaScript'": (
        "a.pdf",
        lambda: pdf(
            stream(b"/Type /XObject /Subtype /Image /Width 1 /Height 1", b"\x00/JavaScript /JS /Launch\xff")
        ),
        "pdf",
        None,
        None,
    ),
}


@pytest.mark.parametrize("case", list(GOOD))
def test_it_accepts_real_documents_and_stores_them_privately(case: str, login: Any, dirs: Path) -> None:
    name, build, kind, width, height = GOOD[case]
    response, _ = _post(login("village_worker"), name, build())
    assert response.status_code == 200, response.content.decode()
    body = response.json()
    assert (body["kind"], body["width"], body["height"]) == (kind, width, height)
    assert _files(dirs / "uploads") == []  # the guard's copy has moved
    assert _files(dirs / "private") == [body["stored"]]
    assert re.fullmatch(r"test/[0-9a-f]{32}\.(jpg|png|pdf)", body["stored"])  # a generated name


def test_the_stored_file_is_private(login: Any, dirs: Path, client: Client) -> None:
    response, _ = _post(login("village_worker"), "签字页.png", png())
    stored = dirs / "private" / response.json()["stored"]
    assert stored.read_bytes() == png()
    assert len(stored.stem) == 32 and stored.suffix == ".png"
    assert stat.S_IMODE(stored.stat().st_mode) == 0o600
    assert stat.S_IMODE(stored.parent.stat().st_mode) == 0o700
    assert stat.S_IMODE((dirs / "private").stat().st_mode) == 0o700
    with pytest.raises(ValueError, match="私有文件没有公开地址"):
        private_storage.url(response.json()["stored"])
    for url in (f"/static/{stored.name}", f"/media/{stored.name}", f"/private/test/{stored.name}"):
        assert client.get(url).status_code == 404, url


def test_it_serves_private_files_uncached_and_never_runs_a_pdf_inline(dirs: Path) -> None:
    name = private_storage.save("test/a.pdf", io.BytesIO(pdf()))
    response = private_file_response(name, kind="pdf", download_name="a.pdf", inline=True)
    assert response["Content-Type"] == "application/pdf"
    assert response["Content-Disposition"].startswith("attachment")
    assert response["Cache-Control"] == "no-store"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert "frame-ancestors 'none'" in response["Content-Security-Policy"]
    assert b"".join(response.streaming_content) == pdf()  # type: ignore[arg-type]
    picture = private_storage.save("test/a.png", io.BytesIO(png()))
    assert private_file_response(picture, kind="png", download_name="a.png", inline=True)[
        "Content-Disposition"
    ].startswith("inline")


# --- hostile files -------------------------------------------------------------------------------

EXE = b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff\x00\x00" + bytes(200)
JS = b"<< /S /JavaScript /JS (app.alert\\(1\\)) >>"
HOSTILE: dict[str, tuple[str, Callable[[], bytes], str]] = {
    "renamed .exe (as a PDF)": ("协议.pdf", lambda: EXE, uploads.DOCUMENT_EXECUTABLE),
    "renamed .exe (as a photo)": ("签字页.jpg", lambda: EXE, uploads.DOCUMENT_EXECUTABLE),
    "ELF binary": ("签字页.png", lambda: b"\x7fELF\x02\x01\x01" + bytes(100), uploads.DOCUMENT_EXECUTABLE),
    "shell script": ("签字页.png", lambda: b"#!/bin/sh\nrm -rf /\n", uploads.DOCUMENT_EXECUTABLE),
    "PDF opening with JavaScript": (
        "a.pdf",
        lambda: pdf(JS, catalog=b" /OpenAction 4 0 R"),
        "JavaScript 脚本",
    ),
    "PDF with JavaScript in #-escaped names": (
        "a.pdf",
        lambda: pdf(b"<< /S /J#61vaScript /J#53 (app.alert\\(1\\)) >>", catalog=b" /OpenAction 4 0 R"),
        "JavaScript 脚本",
    ),
    "PDF with a Launch action": (
        "a.pdf",
        lambda: pdf(b"<< /S /Launch /F (cmd.exe) >>", catalog=b" /OpenAction 4 0 R"),
        "启动外部程序的命令",
    ),
    "PDF with an embedded file": (
        "a.pdf",
        lambda: pdf(
            b"<< /Names [(a.exe) 5 0 R] >>",
            stream(b"/Type /EmbeddedFile", EXE),
            catalog=b" /Names << /EmbeddedFiles 4 0 R >>",
        ),
        "嵌入的文件",
    ),
    "PDF hiding JavaScript in a compressed object stream": (
        "a.pdf",
        lambda: pdf(object_stream(JS), catalog=b" /OpenAction 5 0 R"),
        "JavaScript 脚本",
    ),
    "PDF hiding objects behind a filter that cannot be checked": (
        "a.pdf",
        lambda: pdf(object_stream(JS, filters=b"/Filter /ASCIIHexDecode"), catalog=b" /OpenAction 5 0 R"),
        "无法检查的压缩内容",
    ),
    "PDF with an object-stream bomb": (
        "a.pdf",
        lambda: pdf(
            stream(b"/Type /ObjStm /N 1 /First 4 /Filter /FlateDecode", zlib.compress(bytes(40 * MB), 9))
        ),
        "PDF 对象流解压后过大",
    ),
    "encrypted PDF": (
        "a.pdf",
        lambda: pdf(b"<< /Filter /Standard /V 2 /R 3 /O <00> /U <00> /P -4 >>", trailer=b"/Encrypt 4 0 R "),
        uploads.PDF_ENCRYPTED,
    ),
    "truncated PDF": ("a.pdf", lambda: pdf()[:-40], uploads.PDF_DAMAGED),
    "PNG declaring 100000 × 100000 pixels": (
        "a.png",
        lambda: png_declaring(100_000, 100_000),
        "100000 × 100000",
    ),
    "PNG over the pixel cap within the side limit": (
        "a.png",
        lambda: png_declaring(12_000, 12_000),
        "图片尺寸过大（12000 × 12000 像素）",
    ),
    "PNG one pixel wider than the limit": ("a.png", lambda: png_declaring(12_001, 1), "图片尺寸过大"),
    "JPEG declaring 60000 × 60000 pixels": ("a.jpg", lambda: jpeg_declaring(60_000, 60_000), "60000 × 60000"),
    "truncated PNG": ("a.png", lambda: png()[:40], uploads.IMAGE_DAMAGED),
    "PNG with a broken checksum": ("a.png", lambda: png_with_bad_crc(), uploads.IMAGE_DAMAGED),
    "JPEG without a frame header": (
        "a.jpg",
        lambda: b"\xff\xd8\xff\xe0\x00\x10JFIF" + bytes(60),
        uploads.IMAGE_DAMAGED,
    ),
    "HTML named .png": ("a.png", lambda: b"<html><script>alert(1)</script></html>", "只能上传以下文件"),
    "SVG named .png": (
        "a.png",
        lambda: b'<svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"/>',
        "只能上传以下文件",
    ),
    "GIF": ("a.gif", lambda: b"GIF89a" + bytes(100), "只能上传以下文件"),
    "a .docx named .pdf": ("a.pdf", lambda: b"PK\x03\x04" + bytes(100), "只能上传以下文件"),
    "a PNG named .pdf": ("a.pdf", png, "文件扩展名与内容不符：内容是PNG 图片（.png）"),
    "a PDF named .jpg": ("a.jpg", pdf, "文件扩展名与内容不符：内容是PDF 文件（.pdf）"),
    "over 10 MB": ("a.jpg", lambda: jpeg() + bytes(10 * MB), "文件过大（超过 10 MB）"),
    "empty": ("a.pdf", lambda: b"", uploads.EMPTY),
}


@pytest.mark.parametrize("case", list(HOSTILE))
def test_it_refuses_hostile_documents_quickly_and_leaves_nothing(case: str, login: Any, dirs: Path) -> None:
    name, build, message = HOSTILE[case]
    response, elapsed = _post(login("village_worker"), name, build())
    assert response.status_code == 400, response.content.decode()
    assert message in response.json()["error"]
    assert elapsed < 2.0, f"{case}: refused after {elapsed:.2f} s"
    assert _files(dirs) == []


def test_it_refuses_kinds_the_caller_does_not_take(login: Any, dirs: Path) -> None:
    response, _ = _post(login("village_worker"), "a.pdf", pdf(), kinds="jpeg,png")
    assert response.status_code == 400
    assert response.json()["error"] == "只能上传以下文件：JPEG 图片（.jpg）、PNG 图片（.png）。"
    assert _files(dirs) == []


def test_it_asks_for_a_file_when_none_is_sent(dirs: Path) -> None:
    with pytest.raises(UploadRejected, match=uploads.NO_FILE):
        guard_document(None)


def test_it_takes_the_callers_size_limit_and_the_setting(settings: Any, dirs: Path) -> None:
    data = jpeg() + bytes(3 * MB)
    with pytest.raises(UploadRejected, match=r"文件过大（超过 2 MB）"):
        guard_document(SimpleUploadedFile("a.jpg", data), max_bytes=2 * MB)
    settings.SHOUHU_DOCUMENT_MAX_BYTES = 1 * MB
    with pytest.raises(UploadRejected, match=r"文件过大（超过 1 MB）"):
        guard_document(SimpleUploadedFile("a.jpg", data))
    guard_document(SimpleUploadedFile("a.jpg", data), max_bytes=4 * MB).delete()
    assert _files(dirs) == []


def test_it_refuses_unknown_kinds_as_a_programming_error() -> None:
    with pytest.raises(ValueError, match="unknown document kinds"):
        guard_document(SimpleUploadedFile("a.gif", b"GIF89a"), kinds=("gif",))


def test_it_logs_the_reason_without_the_file_name(caplog: pytest.LogCaptureFixture, dirs: Path) -> None:
    with pytest.raises(UploadRejected):
        guard_document(SimpleUploadedFile("张三委托书.pdf", pdf(JS, catalog=b" /OpenAction 4 0 R")))
    assert "upload refused: pdf_active" in caplog.text
    assert "张三" not in caplog.text


def test_the_corpus_is_what_it_claims(monkeypatch: pytest.MonkeyPatch) -> None:
    """The good files open in Pillow and pypdf; the bombs do claim what they claim."""
    from pypdf import PdfReader

    assert Image.open(io.BytesIO(jpeg())).size == (40, 30)
    assert Image.open(io.BytesIO(png())).size == (40, 30)
    assert len(PdfReader(io.BytesIO(scanned_pdf())).pages) == 1
    assert len(PdfReader(io.BytesIO(pdf())).pages) == 1
    monkeypatch.setattr(Image, "MAX_IMAGE_PIXELS", None)  # open lazily, never decode
    with Image.open(io.BytesIO(jpeg_declaring(60_000, 60_000))) as bomb:
        assert bomb.size == (60_000, 60_000)
    assert len(png_declaring(100_000, 100_000)) < 200
