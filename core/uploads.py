"""The one upload guard (FI-1, FI-2, FI-3): every file a user uploads goes through guard_upload().

The guard decides what a file is from its bytes, never from its name, and refuses it before any
spreadsheet library parses it:

1. size: at most SHOUHU_UPLOAD_MAX_BYTES, counted while copying (the declared size is not trusted);
2. magic bytes: ZIP (.xlsx, .ods), OLE2 (.xls) or text (.csv); executables (MZ, ELF, Mach-O,
   scripts) are named as such; the name's extension must agree with the content;
3. ZIP structure, from the central directory and before anything is inflated: entry count
   (read from the end record, before the directory is even parsed), total unpacked size,
   compression ratio of large entries, encryption, compression method;
4. macros: .xlsm/.xlsb content types, vbaProject.bin, OLE2 _VBA_PROJECT storages, ODF Basic/Scripts;
5. XML: every XML part is streamed through defusedxml with DTDs forbidden (billion laughs,
   quadratic blow-up and external entities all need a DTD), counting rows as it goes, so a
   1M-row sheet is refused at row SHOUHU_IMPORT_MAX_ROWS + 2 without reading further.

Documents (scans, photos) go through guard_document() instead: JPEG, PNG and PDF only (see
the section at the end).

Accepted files sit in SHOUHU_UPLOAD_DIR (outside the web root, mode 0700) under a generated name;
the caller deletes them, best through the guarded_upload() context manager. Refused files are
deleted before UploadRejected propagates.
"""

import csv
import io
import logging
import os
import re
import struct
import uuid
import zipfile
import zlib
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any, NoReturn
from xml.parsers import expat

from defusedxml import DefusedXmlException
from defusedxml.ElementTree import DefusedXMLParser
from django.conf import settings
from django.core.files.uploadedfile import UploadedFile

logger = logging.getLogger("shouhu.uploads")

ALL_KINDS = ("xlsx", "xls", "ods", "csv")
MACRO_EXTENSIONS = frozenset({"xlsm", "xltm", "xlsb", "xlam", "xla"})
KIND_LABELS = {
    "xlsx": "Excel 工作簿（.xlsx）",
    "xls": "Excel 97-2003 工作簿（.xls）",
    "ods": "ODS 表格（.ods）",
    "csv": "CSV 文本（.csv）",
}

# Messages (shown to the user as they are).
NO_FILE = "请选择要上传的文件。"
EMPTY = "文件是空的。"
NOT_WORKBOOK = "文件不是有效的 Excel 工作簿。"
DAMAGED = "文件已损坏，无法读取。"
EXECUTABLE = "文件是可执行程序，不能导入。"
MACRO = "工作簿包含宏，不能导入。请另存为不含宏的 .xlsx 文件后再上传。"
ENCRYPTED = "工作簿已加密，请取消密码保护后再上传。"
BOMB = "压缩内容异常（可能是压缩炸弹）：{reason}。"
XML_UNSAFE = "工作簿包含不安全的 XML 内容（DTD 或实体声明），不能导入。"
CSV_BINARY = "CSV 文件包含二进制内容，不是文本文件。"
CSV_ENCODING = "无法识别 CSV 文件的编码，请另存为 UTF-8 编码后再上传。"
CSV_FORMAT = "CSV 文件格式有误，无法读取。"
EXTENSION_MISMATCH = "文件扩展名与内容不符：内容是{actual}，请检查文件。"

ZIP_MAGIC = b"PK\x03\x04"
OLE_MAGIC = bytes.fromhex("D0CF11E0A1B11AE1")
EXECUTABLE_MAGICS = (
    b"MZ",  # Windows PE (.exe, .dll)
    b"\x7fELF",
    b"\xfe\xed\xfa\xce",  # Mach-O
    b"\xfe\xed\xfa\xcf",
    b"\xce\xfa\xed\xfe",
    b"\xcf\xfa\xed\xfe",
    b"\xca\xfe\xba\xbe",  # Mach-O universal / Java class
    b"#!",  # scripts
)
ODS_MIMETYPE = b"application/vnd.oasis.opendocument.spreadsheet"
XLSX_MAIN = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"
SPREADSHEET_NAMESPACES = (
    "http://schemas.openxmlformats.org/spreadsheetml/2006/main",
    "http://purl.oclc.org/ooxml/spreadsheetml/main",
)
ODF_TABLE = "urn:oasis:names:tc:opendocument:xmlns:table:1.0"
ODF_OFFICE = "urn:oasis:names:tc:opendocument:xmlns:office:1.0"

# A large entry that inflates more than this many times is a bomb, whatever the totals say.
# Real sheets compress 5-30 times; runs of zeros compress about 1000 times.
MAX_RATIO = 100
RATIO_FLOOR = 1024 * 1024
MAX_COLUMNS = 16_384  # Excel's limit; an ODS cell repeated further is a cell bomb
SMALL_PART = 1024 * 1024  # [Content_Types].xml and the ODS mimetype are small
CHUNK = 64 * 1024
_BINARY = re.compile(rb"[\x00-\x08\x0b\x0e-\x1f\x7f]")
_EOCD = b"PK\x05\x06"


class UploadRejected(Exception):  # noqa: N818 - the name every caller uses
    """The file was refused; `message` is the Chinese reason to show to the user."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


@dataclass(frozen=True)
class GuardedFile:
    kind: str  # "xlsx", "xls", "ods" or "csv", from the content
    path: Path  # in SHOUHU_UPLOAD_DIR under a generated name
    size: int
    rows: int  # rows found while scanning (all sheets, header rows included)
    name: str  # the name the user gave; for display only, never for the file system
    # Documents (guard_document): an image's dimensions, read from its header.
    width: int | None = None
    height: int | None = None

    def delete(self) -> None:
        self.path.unlink(missing_ok=True)


@dataclass(frozen=True)
class _Limits:
    max_bytes: int
    max_unpacked: int
    max_entries: int
    max_rows: int  # data rows; one header row is allowed on top

    @classmethod
    def from_settings(cls) -> "_Limits":
        return cls(
            max_bytes=settings.SHOUHU_UPLOAD_MAX_BYTES,
            max_unpacked=settings.SHOUHU_UPLOAD_MAX_UNPACKED_BYTES,
            max_entries=settings.SHOUHU_UPLOAD_MAX_ENTRIES,
            max_rows=settings.SHOUHU_IMPORT_MAX_ROWS,
        )

    def check_rows(self, rows: int) -> None:
        if rows > self.max_rows + 1:
            _refuse("rows", f"数据超过 {self.max_rows} 行，请分批导入。")


# --- public API --------------------------------------------------------------------------------


def guard_upload(
    uploaded_file: UploadedFile[bytes] | None, *, kinds: Sequence[str] = ALL_KINDS
) -> GuardedFile:
    """Copy the upload into the private upload directory and check it; return the accepted file
    or raise UploadRejected (the copy is then already deleted)."""
    unknown = set(kinds) - set(ALL_KINDS)
    if unknown or not kinds:
        raise ValueError(f"unknown upload kinds: {sorted(unknown)}")
    if uploaded_file is None:
        raise UploadRejected(NO_FILE)
    limits = _Limits.from_settings()
    name = str(uploaded_file.name or "")
    extension = name.rsplit(".", 1)[-1].lower() if "." in name else ""
    if extension in MACRO_EXTENSIONS:
        _refuse("macro_extension", MACRO)
    path = upload_dir() / f"{uuid.uuid4().hex}.part"
    try:
        size = _copy(uploaded_file, path, limits.max_bytes)
        kind, rows = _inspect(path, limits, extension, kinds)
        final = path.with_suffix(f".{kind}")
        path.rename(final)
    except BaseException:
        path.unlink(missing_ok=True)
        raise
    return GuardedFile(kind=kind, path=final, size=size, rows=rows, name=name)


@contextmanager
def guarded_upload(
    uploaded_file: UploadedFile[bytes] | None, *, kinds: Sequence[str] = ALL_KINDS
) -> Iterator[GuardedFile]:
    """guard_upload() for a with-block: the stored file is deleted when the block ends, on
    success and on failure alike (FI-3, DP-6)."""
    guarded = guard_upload(uploaded_file, kinds=kinds)
    try:
        yield guarded
    finally:
        guarded.delete()


@contextmanager
def scratch_path(*, directory: Path, suffix: str) -> Iterator[Path]:
    """A new private file name in `directory` (created 0700); the file, if any, is deleted when
    the block ends, whatever happens inside."""
    directory.mkdir(mode=0o700, parents=True, exist_ok=True)
    path = directory / f"{uuid.uuid4().hex}{suffix}"
    try:
        yield path
    finally:
        path.unlink(missing_ok=True)


def upload_dir() -> Path:
    directory = Path(settings.SHOUHU_UPLOAD_DIR)
    directory.mkdir(mode=0o700, parents=True, exist_ok=True)
    return directory


# --- copying and sniffing ----------------------------------------------------------------------


def _refuse(code: str, message: str) -> NoReturn:
    # The reason code only: file names and content may carry personal data (DP-5).
    logger.warning("upload refused: %s", code)
    raise UploadRejected(message)


def _copy(uploaded_file: UploadedFile[bytes], path: Path, max_bytes: int) -> int:
    too_big = f"文件过大（超过 {max_bytes // (1024 * 1024)} MB）。"
    if uploaded_file.size is not None and uploaded_file.size > max_bytes:
        _refuse("too_big", too_big)
    if hasattr(uploaded_file, "seek"):
        uploaded_file.seek(0)
    total = 0
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(descriptor, "wb") as target:
        for chunk in uploaded_file.chunks(CHUNK):
            total += len(chunk)
            if total > max_bytes:  # the declared size may lie; the bytes do not
                _refuse("too_big", too_big)
            target.write(chunk)
    if total == 0:
        _refuse("empty", EMPTY)
    return total


def _inspect(path: Path, limits: _Limits, extension: str, kinds: Sequence[str]) -> tuple[str, int]:
    with path.open("rb") as handle:
        head = handle.read(8)
    if head.startswith(EXECUTABLE_MAGICS):
        _refuse("executable", EXECUTABLE)
    try:
        if head.startswith(ZIP_MAGIC):
            return _inspect_zip(path, limits, extension, kinds)
        if head.startswith(OLE_MAGIC):
            return "xls", _inspect_ole(path, limits, extension, kinds)
        if head.startswith(_EOCD) or _BINARY.search(head):
            _refuse("not_workbook", CSV_BINARY if extension == "csv" else NOT_WORKBOOK)
        _allow("csv", extension, kinds)
        return "csv", _inspect_csv(path, limits)
    except UploadRejected:
        raise
    except Exception as exc:  # anything a hostile file makes a reader raise is a refusal
        logger.warning("upload refused: damaged (%s)", type(exc).__name__)
        raise UploadRejected(DAMAGED) from exc


def _allow(kind: str, extension: str, kinds: Sequence[str]) -> None:
    if kind not in kinds:
        allowed = "、".join(KIND_LABELS[k] for k in kinds)
        _refuse("kind", f"只能上传以下文件：{allowed}。")
    if extension != kind:
        _refuse("extension", EXTENSION_MISMATCH.format(actual=KIND_LABELS[kind]))


# --- ZIP containers: .xlsx and .ods ------------------------------------------------------------


def _inspect_zip(path: Path, limits: _Limits, extension: str, kinds: Sequence[str]) -> tuple[str, int]:
    _check_entry_count(path, limits)
    with zipfile.ZipFile(path) as archive:
        infos = archive.infolist()
        _check_structure(infos, limits)
        kind = _zip_kind(archive, infos)
        _allow(kind, extension, kinds)
        return kind, _scan_xml_parts(archive, infos, kind, limits)


def _check_entry_count(path: Path, limits: _Limits) -> None:
    """Read the entry count from the end-of-central-directory record, so that an archive
    with a million entries is refused before zipfile parses its directory."""
    size = path.stat().st_size
    with path.open("rb") as handle:
        handle.seek(max(0, size - (65_535 + 22)))
        tail = handle.read()
    position = tail.rfind(_EOCD)
    if position < 0 or len(tail) < position + 22:
        _refuse("not_zip", NOT_WORKBOOK)
    (entries,) = struct.unpack("<H", tail[position + 10 : position + 12])
    if entries == 0xFFFF or entries > limits.max_entries:  # 0xFFFF: ZIP64, never a real workbook
        _refuse("entries", BOMB.format(reason=f"包含的文件超过 {limits.max_entries} 个"))


def _check_structure(infos: list[zipfile.ZipInfo], limits: _Limits) -> None:
    if len(infos) > limits.max_entries:
        _refuse("entries", BOMB.format(reason=f"包含的文件超过 {limits.max_entries} 个"))
    total = 0
    for info in infos:
        if info.flag_bits & 0x1:
            _refuse("encrypted", ENCRYPTED)
        if info.compress_type not in (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED):
            _refuse("compression", NOT_WORKBOOK)
        if info.file_size > RATIO_FLOOR and info.file_size > MAX_RATIO * max(info.compress_size, 1):
            _refuse("ratio", BOMB.format(reason="压缩比过高"))
        total += info.file_size
        if total > limits.max_unpacked:
            mb = limits.max_unpacked // (1024 * 1024)
            _refuse("unpacked", BOMB.format(reason=f"解压后超过 {mb} MB"))


def _zip_kind(archive: zipfile.ZipFile, infos: list[zipfile.ZipInfo]) -> str:
    names = {info.filename.lower(): info for info in infos}
    if any(name.endswith(("vbaproject.bin", "vbaprojectsignature.bin")) for name in names):
        _refuse("macro", MACRO)
    if "mimetype" in names and _small(archive, names["mimetype"]).strip() == ODS_MIMETYPE:
        if any(name.startswith(("basic/", "scripts/")) for name in names):
            _refuse("macro", MACRO)
        return "ods"
    types = names.get("[content_types].xml")
    if types is None:
        _refuse("not_workbook", NOT_WORKBOOK)
    content_types = _content_types(_small(archive, types))
    if any("macroenabled" in value.lower() or "vbaproject" in value.lower() for value in content_types):
        _refuse("macro", MACRO)
    if XLSX_MAIN not in content_types:
        _refuse("not_workbook", NOT_WORKBOOK)
    return "xlsx"


def _small(archive: zipfile.ZipFile, info: zipfile.ZipInfo) -> bytes:
    if info.file_size > SMALL_PART:
        _refuse("not_workbook", NOT_WORKBOOK)
    return archive.read(info)


def _content_types(raw: bytes) -> set[str]:
    collector = _ContentTypes()
    _parse(io.BytesIO(raw), collector)
    return collector.values


def _looks_like_xml(archive: zipfile.ZipFile, info: zipfile.ZipInfo) -> bool:
    if info.filename.lower().endswith((".xml", ".rels", ".vml")):
        return True
    with archive.open(info) as part:
        start = part.read(64).lstrip()
    return start.startswith((b"<", b"\xef\xbb\xbf", b"\xff\xfe", b"\xfe\xff"))


def _scan_xml_parts(
    archive: zipfile.ZipFile, infos: list[zipfile.ZipInfo], kind: str, limits: _Limits
) -> int:
    """Stream every XML part through defusedxml (no DTD, no entities), counting rows on the way.
    An .xlsx goes through _scan_xlsx_part instead (expat for the prolog, a byte search for the
    rest): a callback per cell made a 100,000-row ledger take 15 s here instead of 3, and a
    full expat parse took three times as long as inflating the part."""
    counter: _RowCounter = _OdsRows(limits) if kind == "ods" else _XlsxRows(limits)
    for info in infos:
        if info.is_dir() or not _looks_like_xml(archive, info):
            continue
        with archive.open(info) as part:
            if kind == "ods":
                _parse(part, counter)
            else:
                sheet = info.filename.lower().startswith("xl/worksheets/")
                _scan_xlsx_part(part, counter if sheet else None)
    return counter.rows


# A worksheet's rows are counted on its bytes: "<row" and ":row" (a namespace prefix). In
# well-formed XML a "<" in text or an attribute value is escaped, so no row tag hides from
# this; a comment, a CDATA section, a "<rowBreaks>" tag or a cell text with ":row" can only add
# to the count, which errs towards refusing. (A regular expression that checked the character
# after the name took longer than inflating the part.)
_ROW_MARKS = (b"<row", b":row")
# A DTD or an entity declaration anywhere in a part: refused (in well-formed XML these can only
# stand in the prolog, which expat parses; anywhere else the part is not XML).
_DTD_MARKS = (b"<!DOCTYPE", b"<!ENTITY")
_OVERLAP = 16  # bytes of the previous chunk kept, so that a mark cut in two is still found


def _refuse_dtd(*_args: object) -> NoReturn:
    _refuse("xml_unsafe", XML_UNSAFE)


class _EndOfPrologError(Exception):
    """The root element has started: the prolog, where a DTD stands, is over."""


def _end_prolog(*_args: object) -> NoReturn:
    raise _EndOfPrologError


def _scan_xlsx_part(part: IO[bytes], counter: "_RowCounter | None") -> None:
    """Expat (in C) parses the part's prolog, refusing a DTD, entity declarations and external
    entities as defusedxml refuses them (handlers that raise), and stops at the root element;
    without a DTD there is nothing to expand, and the rest of the part is searched as bytes
    for a DTD or entity declaration, which is refused too. Rows of worksheet parts are counted
    on the same bytes, chunk by chunk, so the row limit still stops the scan early. Whether
    the rest is well-formed is the reader's concern (a damaged file is refused there); parsing
    it all here took three times as long as inflating it."""
    parser = expat.ParserCreate()
    parser.StartDoctypeDeclHandler = _refuse_dtd
    parser.EntityDeclHandler = _refuse_dtd
    parser.UnparsedEntityDeclHandler = _refuse_dtd
    parser.ExternalEntityRefHandler = _refuse_dtd
    parser.StartElementHandler = _end_prolog
    in_prolog = True
    tail = b""
    while chunk := part.read(CHUNK):
        if in_prolog:
            try:
                parser.Parse(chunk, False)
            except _EndOfPrologError:
                in_prolog = False
        window = tail + chunk
        if any(mark in window for mark in _DTD_MARKS):
            _refuse_dtd()
        if counter is not None:
            counter.add(sum(window.count(m) for m in _ROW_MARKS) - sum(tail.count(m) for m in _ROW_MARKS))
        tail = window[-_OVERLAP:]
    if in_prolog:
        parser.Parse(b"", True)  # no root element: expat raises, and the upload is refused


# --- streaming XML through defusedxml ----------------------------------------------------------


class _Target:
    """An ElementTree parser target that keeps nothing: no tree, constant memory."""

    def start(self, tag: str, attrib: Mapping[str, str]) -> None:
        pass

    def end(self, tag: str) -> None:
        pass

    def data(self, data: str) -> None:
        pass

    def close(self) -> None:
        pass


def _parse(stream: IO[bytes], target: _Target) -> None:
    parser = DefusedXMLParser(target=target, forbid_dtd=True, forbid_entities=True, forbid_external=True)
    try:
        while chunk := stream.read(CHUNK):
            parser.feed(chunk)
        parser.close()
    except DefusedXmlException:
        _refuse("xml_unsafe", XML_UNSAFE)


class _ContentTypes(_Target):
    def __init__(self) -> None:
        self.values: set[str] = set()

    def start(self, tag: str, attrib: Mapping[str, str]) -> None:
        if "ContentType" in attrib:
            self.values.add(attrib["ContentType"])


class _RowCounter(_Target):
    def __init__(self, limits: _Limits) -> None:
        self.limits = limits
        self.rows = 0

    def add(self, rows: int) -> None:
        self.rows += rows
        self.limits.check_rows(self.rows)  # stops the scan as soon as the limit is passed


class _XlsxRows(_RowCounter):
    _ROW_TAGS = frozenset(f"{{{namespace}}}row" for namespace in SPREADSHEET_NAMESPACES)

    def start(self, tag: str, attrib: Mapping[str, str]) -> None:
        if tag in self._ROW_TAGS:
            self.add(1)


class _OdsRows(_RowCounter):
    """ODS rows and cells may carry repeat counts. Repeated empty rows are how LibreOffice pads a
    sheet (often to 1,048,576 rows), so rows without content do not count; rows with content
    count with their repeats, since a reader expands them, and so do cells across a row."""

    ROW = f"{{{ODF_TABLE}}}table-row"
    CELLS = (f"{{{ODF_TABLE}}}table-cell", f"{{{ODF_TABLE}}}covered-table-cell")
    ROW_REPEAT = f"{{{ODF_TABLE}}}number-rows-repeated"
    CELL_REPEAT = f"{{{ODF_TABLE}}}number-columns-repeated"
    VALUE_TYPE = f"{{{ODF_OFFICE}}}value-type"

    def __init__(self, limits: _Limits) -> None:
        super().__init__(limits)
        self.repeat = 1
        self.columns = 0
        self.cell_repeat = 0
        self.has_content = False

    def start(self, tag: str, attrib: Mapping[str, str]) -> None:
        if tag == self.ROW:
            self.repeat, self.columns, self.has_content = _count(attrib, self.ROW_REPEAT), 0, False
        elif tag in self.CELLS:
            self.cell_repeat = _count(attrib, self.CELL_REPEAT)
            if self.VALUE_TYPE in attrib:
                self._content()

    def data(self, data: str) -> None:
        if self.cell_repeat and data.strip():
            self._content()

    def end(self, tag: str) -> None:
        if tag in self.CELLS:
            self.cell_repeat = 0
        elif tag == self.ROW:
            self.add(self.repeat if self.has_content else 0)

    def _content(self) -> None:
        self.has_content = True
        self.columns += self.cell_repeat
        self.cell_repeat = 1  # a cell's repeat counts once, however many text nodes it holds
        if self.columns > MAX_COLUMNS:
            _refuse("columns", BOMB.format(reason=f"单行超过 {MAX_COLUMNS} 列"))


def _count(attrib: Mapping[str, str], name: str) -> int:
    try:
        return max(1, int(attrib.get(name, "1")))
    except ValueError:
        return 1


# --- OLE2: .xls --------------------------------------------------------------------------------


def _utf16(name: str) -> bytes:
    return name.encode("utf-16-le")


def _inspect_ole(path: Path, limits: _Limits, extension: str, kinds: Sequence[str]) -> int:
    """Directory entry names of an OLE2 file are UTF-16LE: finding them in the bytes is enough
    to refuse macros and encrypted packages without an OLE parser. The file is at most
    SHOUHU_UPLOAD_MAX_BYTES and uncompressed, so the row count can come from the reader."""
    data = path.read_bytes()
    if _utf16("EncryptedPackage") in data or _utf16("EncryptionInfo") in data:
        _refuse("encrypted", ENCRYPTED)
    if _utf16("_VBA_PROJECT") in data:
        _refuse("macro", MACRO)
    if _utf16("Workbook") not in data and _utf16("Book") not in data:
        _refuse("not_workbook", NOT_WORKBOOK)
    _allow("xls", extension, kinds)
    return _calamine_rows(path, limits)


def _calamine_rows(path: Path, limits: _Limits) -> int:
    from python_calamine import CalamineWorkbook

    workbook = CalamineWorkbook.from_path(str(path))
    try:
        rows = 0
        for name in workbook.sheet_names:
            rows += int(workbook.get_sheet_by_name(name).height)
            limits.check_rows(rows)
        return rows
    finally:
        workbook.close()


# --- text: .csv --------------------------------------------------------------------------------


def _inspect_csv(path: Path, limits: _Limits) -> int:
    encoding = _csv_encoding(path)
    with path.open("rb") as raw, io.TextIOWrapper(raw, encoding=encoding, newline="") as text:
        rows = 0
        try:
            for _row in csv.reader(text):
                rows += 1
                limits.check_rows(rows)
        except csv.Error:
            _refuse("csv_format", CSV_FORMAT)
    return rows


def csv_encoding(path: Path) -> str:
    """The encoding of an accepted CSV file ("utf-8-sig" or "gb18030"), as the guard found it."""
    return _csv_encoding(path)


def _csv_encoding(path: Path) -> str:
    """UTF-8 (with or without BOM) or GB18030, as Excel saves CSV on Chinese Windows. Refuses
    binary content (NUL and other control bytes) on the way."""
    encodings = ["utf-8-sig", "gb18030"]
    decoders: dict[str, Callable[[bytes, bool], str]] = {name: _incremental(name) for name in encodings}
    with path.open("rb") as handle:
        while chunk := handle.read(CHUNK):
            if _BINARY.search(chunk):
                _refuse("csv_binary", CSV_BINARY)
            encodings = [name for name in encodings if _decodes(decoders[name], chunk, final=False)]
        encodings = [name for name in encodings if _decodes(decoders[name], b"", final=True)]
    if not encodings:
        _refuse("csv_encoding", CSV_ENCODING)
    return encodings[0]


def _incremental(name: str) -> Callable[[bytes, bool], str]:
    import codecs

    decoder = codecs.getincrementaldecoder(name)()
    return lambda data, final: decoder.decode(data, final)


def _decodes(decode: Callable[[bytes, bool], Any], chunk: bytes, *, final: bool) -> bool:
    try:
        decode(chunk, final)
    except UnicodeDecodeError:
        return False
    return True


# --- documents: JPEG, PNG and PDF (agreement scans, visit photos) --------------------------------
#
# guard_document() is guard_upload() for documents kept as evidence: the same copy with a counted
# size limit, the same refusal of executables, then the content decides the kind (magic bytes),
# the name's extension must agree with it, and each kind is checked without decoding it:
# - images: width and height come from the header (PNG IHDR, JPEG SOFn) and are capped, so a
#   small file that would inflate to gigabytes of pixels (a decompression bomb) is refused
#   before any image library touches it; Pillow, when installed, then verifies the structure;
# - PDF: active content is refused (JavaScript, Launch actions, embedded files, rich media, XFA),
#   looking at every dictionary outside streams and inside object streams (PDF 1.5), with
#   #xx escapes in names decoded, and encrypted PDFs (which cannot be looked into) too.

DOCUMENT_KINDS = ("jpeg", "png", "pdf")
DOCUMENT_LABELS = {"jpeg": "JPEG 图片（.jpg）", "png": "PNG 图片（.png）", "pdf": "PDF 文件（.pdf）"}
DOCUMENT_EXTENSIONS = {"jpeg": ("jpg", "jpeg"), "png": ("png",), "pdf": ("pdf",)}
MAX_IMAGE_SIDE = 12_000
MAX_IMAGE_PIXELS = 80_000_000  # below Pillow's own decompression-bomb warning (89 MP)
MAX_PDF_INFLATED = 32 * 1024 * 1024  # object streams, all together

DOCUMENT_EXECUTABLE = "文件是可执行程序，不能上传。"
IMAGE_TOO_LARGE = "图片尺寸过大（{width} × {height} 像素），每边不能超过 12000 像素，请缩小后再上传。"
IMAGE_DAMAGED = "图片已损坏，无法读取。"
PDF_ACTIVE = "PDF 文件包含{what}，不能上传。请打印后重新扫描，或另存为普通 PDF 后再上传。"
PDF_ENCRYPTED = "PDF 文件已加密，请取消密码保护后再上传。"
PDF_DAMAGED = "PDF 文件已损坏或不完整，无法读取。"

JPEG_MAGIC = b"\xff\xd8\xff"
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
PDF_MAGIC = b"%PDF-"
_JPEG_SOF = frozenset({0xC0, 0xC1, 0xC2, 0xC3, 0xC5, 0xC6, 0xC7, 0xC9, 0xCA, 0xCB, 0xCD, 0xCE, 0xCF})
_PDF_NAME = re.compile(rb"/([^\x00\t\n\x0c\r ()<>\[\]{}/%]+)")
_PDF_HEX = re.compile(rb"#([0-9A-Fa-f]{2})")
_PDF_ACTIVE = {
    b"JavaScript": "JavaScript 脚本",
    b"JS": "JavaScript 脚本",
    b"Launch": "启动外部程序的命令",
    b"EmbeddedFile": "嵌入的文件",
    b"EmbeddedFiles": "嵌入的文件",
    b"GoToE": "嵌入的文件",
    b"RichMedia": "嵌入的多媒体",
    b"XFA": "XFA 动态表单",
}
_FLATE = frozenset({b"FlateDecode", b"Fl"})
_PDF_FILTERS = frozenset(
    {b"FlateDecode", b"Fl", b"ASCIIHexDecode", b"AHx", b"ASCII85Decode", b"A85", b"LZWDecode", b"LZW"}
    | {b"RunLengthDecode", b"RL", b"Crypt"}
)


def guard_document(
    uploaded_file: UploadedFile[bytes] | None,
    *,
    kinds: Sequence[str] = DOCUMENT_KINDS,
    max_bytes: int | None = None,
) -> GuardedFile:
    """Copy the upload into the private upload directory and check it as a JPEG, PNG or PDF
    document; return the accepted file (kind from the content, an image's width and height)
    or raise UploadRejected with the Chinese reason (the copy is then already deleted). The
    caller moves the file into private storage (core.storage.store_guarded) or deletes it."""
    unknown = set(kinds) - set(DOCUMENT_KINDS)
    if unknown or not kinds:
        raise ValueError(f"unknown document kinds: {sorted(unknown)}")
    if uploaded_file is None:
        raise UploadRejected(NO_FILE)
    name = str(uploaded_file.name or "")
    extension = name.rsplit(".", 1)[-1].lower() if "." in name else ""
    path = upload_dir() / f"{uuid.uuid4().hex}.part"
    try:
        size = _copy(uploaded_file, path, max_bytes or settings.SHOUHU_DOCUMENT_MAX_BYTES)
        kind, width, height = _inspect_document(path, extension, kinds)
        final = path.with_suffix(f".{DOCUMENT_EXTENSIONS[kind][0]}")
        path.rename(final)
    except BaseException:
        path.unlink(missing_ok=True)
        raise
    return GuardedFile(kind=kind, path=final, size=size, rows=0, name=name, width=width, height=height)


def _inspect_document(path: Path, extension: str, kinds: Sequence[str]) -> tuple[str, int | None, int | None]:
    with path.open("rb") as handle:
        head = handle.read(16)
    if head.startswith(EXECUTABLE_MAGICS):
        _refuse("executable", DOCUMENT_EXECUTABLE)
    kind = _allow_document(_document_kind(head), extension, kinds)
    try:
        if kind == "pdf":
            _inspect_pdf(path)
            return kind, None, None
        width, height = _png_size(path) if kind == "png" else _jpeg_size(path)
        if width > MAX_IMAGE_SIDE or height > MAX_IMAGE_SIDE or width * height > MAX_IMAGE_PIXELS:
            _refuse("image_dimensions", IMAGE_TOO_LARGE.format(width=width, height=height))
        _verify_image(path)
        return kind, width, height
    except UploadRejected:
        raise
    except Exception as exc:  # anything a hostile file makes a reader raise is a refusal
        logger.warning("upload refused: damaged document (%s)", type(exc).__name__)
        raise UploadRejected(PDF_DAMAGED if kind == "pdf" else IMAGE_DAMAGED) from exc


def _document_kind(head: bytes) -> str | None:
    if head.startswith(JPEG_MAGIC):
        return "jpeg"
    if head.startswith(PNG_MAGIC):
        return "png"
    if head.startswith(PDF_MAGIC):
        return "pdf"
    return None


def _allow_document(kind: str | None, extension: str, kinds: Sequence[str]) -> str:
    """The content decides; a name without an extension (some phone pickers send one) makes no
    claim, any other extension must agree with the content."""
    if kind is None or kind not in kinds:
        allowed = "、".join(DOCUMENT_LABELS[k] for k in kinds)
        _refuse("kind", f"只能上传以下文件：{allowed}。")
    if extension and extension not in DOCUMENT_EXTENSIONS[kind]:
        _refuse("extension", EXTENSION_MISMATCH.format(actual=DOCUMENT_LABELS[kind]))
    return kind


def _png_size(path: Path) -> tuple[int, int]:
    """IHDR must come first; the chunks must chain up to IEND within the file."""
    size = path.stat().st_size
    with path.open("rb") as handle:
        handle.seek(len(PNG_MAGIC))
        length, chunk_type = struct.unpack(">I4s", handle.read(8))
        if chunk_type != b"IHDR" or length != 13:
            _refuse("png_damaged", IMAGE_DAMAGED)
        width, height = struct.unpack(">II", handle.read(8))
        position = len(PNG_MAGIC) + 8 + length + 4
        while True:
            if position + 8 > size:
                _refuse("png_truncated", IMAGE_DAMAGED)
            handle.seek(position)
            length, chunk_type = struct.unpack(">I4s", handle.read(8))
            position += 8 + length + 4
            if chunk_type == b"IEND":
                break
    if not width or not height or position > size:
        _refuse("png_damaged", IMAGE_DAMAGED)
    return width, height


def _jpeg_size(path: Path) -> tuple[int, int]:
    """Walk the marker segments up to the first frame header (SOFn); its height and width."""
    data = path.read_bytes()
    position = 2
    while position + 4 <= len(data):
        if data[position] != 0xFF:
            break
        marker = data[position + 1]
        if marker == 0xFF:  # fill byte
            position += 1
            continue
        if marker in (0xD8, 0x01) or 0xD0 <= marker <= 0xD7:  # no length
            position += 2
            continue
        if marker in (0xD9, 0xDA):  # end of image, or scan data before any frame header
            break
        (length,) = struct.unpack(">H", data[position + 2 : position + 4])
        if marker in _JPEG_SOF and length >= 7 and position + 9 <= len(data):
            height, width = struct.unpack(">HH", data[position + 5 : position + 9])
            if height and width:
                return width, height
            break
        if length < 2:
            break
        position += 2 + length
    _refuse("jpeg_damaged", IMAGE_DAMAGED)


def _verify_image(path: Path) -> None:
    """Pillow's structural check (chunk CRCs, truncation), if Pillow is installed; the size
    check above has already run, so this never decodes a bomb."""
    try:
        from PIL import Image
    except ImportError:  # pragma: no cover - Pillow comes with the PDF library
        return
    with Image.open(path) as image:
        image.verify()


def _pdf_names(data: bytes) -> set[bytes]:
    """Every name in `data`, with #xx escapes decoded (/J#61vaScript is /JavaScript)."""
    return {_PDF_HEX.sub(lambda m: bytes([int(m.group(1), 16)]), raw) for raw in _PDF_NAME.findall(data)}


def _inspect_pdf(path: Path) -> None:
    data = path.read_bytes()
    if b"%%EOF" not in data[-2048:]:
        _refuse("pdf_truncated", PDF_DAMAGED)
    names: set[bytes] = set()
    outside: list[bytes] = []
    budget = [MAX_PDF_INFLATED]
    position = 0
    for start, body_start, end in _pdf_streams(data):
        outside.append(data[position:start])
        header_start = max(data.rfind(b"obj", position, start), position)
        header = _pdf_names(data[header_start:start])
        if b"ObjStm" in header:
            names |= _pdf_names(_object_stream(data[body_start:end], header, budget))
        position = end + len(b"endstream")
    outside.append(data[position:])
    names |= _pdf_names(b" ".join(outside))
    for name, what in _PDF_ACTIVE.items():
        if name in names:
            _refuse("pdf_active", PDF_ACTIVE.format(what=what))
    if b"Encrypt" in names:
        _refuse("pdf_encrypted", PDF_ENCRYPTED)


def _pdf_streams(data: bytes) -> Iterator[tuple[int, int, int]]:
    """(keyword start, body start, endstream start) of each stream, in one linear pass: the
    bodies (image data above all) are skipped, never searched for names."""
    position = 0
    while (start := data.find(b"stream", position)) >= 0:
        body = start + len(b"stream")
        if data.startswith(b"\r\n", body):
            body += 2
        elif data.startswith(b"\n", body) or data.startswith(b"\r", body):
            body += 1
        else:  # "endstream" or the word inside a string: not a stream keyword
            position = body
            continue
        end = data.find(b"endstream", body)
        if end < 0:
            _refuse("pdf_truncated", PDF_DAMAGED)
        yield start, body, end
        position = end + len(b"endstream")


def _object_stream(body: bytes, header: set[bytes], budget: list[int]) -> bytes:
    """An object stream's objects (they may hold any dictionary, actions included), inflated
    within the budget. A filter other than Flate could hide them, so it is refused."""
    filters = header & _PDF_FILTERS
    if not filters:
        return body
    if filters - _FLATE:
        _refuse("pdf_filter", PDF_ACTIVE.format(what="无法检查的压缩内容"))
    inflater = zlib.decompressobj()
    inflated = inflater.decompress(body, budget[0] + 1)
    budget[0] -= len(inflated)
    if budget[0] < 0:
        _refuse("pdf_bomb", BOMB.format(reason="PDF 对象流解压后过大"))
    return inflated
