"""A corpus of good and hostile spreadsheets, built in memory by the tests (no shipped binaries).

Good files: a minimal but real .xlsx and .ods (zipfile and small XML strings), an .xls from
xlwt and a CSV; python-calamine reads each of them (test_uploads checks that), so the guard is
shown to accept real files, not just to refuse odd ones.

Hostile files: zip bombs (ratio, total size, entry count), renamed executables, macro
workbooks (.xlsm content type, vbaProject.bin, OLE2 _VBA_PROJECT_CUR, ODF Basic), XML entity
attacks (billion laughs, quadratic blow-up, external entity), a 1,000,000-row sheet, binary CSV.
"""

import io
import os
import struct
import zipfile
from collections.abc import Iterable, Iterator, Sequence
from functools import cache
from xml.sax.saxutils import escape

XLSX_MAIN = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"
XLSM_MAIN = "application/vnd.ms-excel.sheet.macroEnabled.main+xml"
SHEET = "application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"
NS = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
REL_NS = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
PKG_REL_NS = "http://schemas.openxmlformats.org/package/2006/relationships"


def _content_types(main: str, extra: str = "") -> str:
    return (
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
        '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
        '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
        '<Default Extension="xml" ContentType="application/xml"/>'
        f'<Override PartName="/xl/workbook.xml" ContentType="{main}"/>'
        f'<Override PartName="/xl/worksheets/sheet1.xml" ContentType="{SHEET}"/>'
        f"{extra}</Types>"
    )


ROOT_RELS = (
    f'<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="{PKG_REL_NS}">'
    '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/'
    'relationships/officeDocument" Target="xl/workbook.xml"/></Relationships>'
)
WORKBOOK = (
    f'<?xml version="1.0" encoding="UTF-8"?><workbook xmlns="{NS}" xmlns:r="{REL_NS}">'
    '<sheets><sheet name="名单" sheetId="1" r:id="rId1"/></sheets></workbook>'
)
WORKBOOK_RELS = (
    f'<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="{PKG_REL_NS}">'
    '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/'
    'relationships/worksheet" Target="worksheets/sheet1.xml"/></Relationships>'
)


def _column(index: int) -> str:
    name = ""
    index += 1
    while index:
        index, rest = divmod(index - 1, 26)
        name = chr(65 + rest) + name
    return name


def _cell(row: int, col: int, value: object) -> str:
    ref = f"{_column(col)}{row}"
    if isinstance(value, int | float) and not isinstance(value, bool):
        return f'<c r="{ref}"><v>{value}</v></c>'
    return f'<c r="{ref}" t="inlineStr"><is><t>{escape(str(value))}</t></is></c>'


def sheet_rows(rows: Iterable[Sequence[object]]) -> Iterator[str]:
    for number, row in enumerate(rows, start=1):
        cells = "".join(_cell(number, col, value) for col, value in enumerate(row))
        yield f'<row r="{number}">{cells}</row>'


def _sheet_head(prolog: str = "") -> str:
    return f'<?xml version="1.0" encoding="UTF-8"?>{prolog}<worksheet xmlns="{NS}"><sheetData>'


SHEET_TAIL = "</sheetData></worksheet>"


def xlsx(
    rows: Iterable[Sequence[object]] = (("姓名", "年龄"), ("张三", 9)),
    *,
    main: str = XLSX_MAIN,
    prolog: str = "",
    extra_types: str = "",
    extra_parts: dict[str, bytes] | None = None,
) -> bytes:
    """A minimal real .xlsx: one sheet of inline strings and numbers, streamed into the zip."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("[Content_Types].xml", _content_types(main, extra_types))
        archive.writestr("_rels/.rels", ROOT_RELS)
        archive.writestr("xl/workbook.xml", WORKBOOK)
        archive.writestr("xl/_rels/workbook.xml.rels", WORKBOOK_RELS)
        with archive.open("xl/worksheets/sheet1.xml", "w") as sheet:
            sheet.write(_sheet_head(prolog).encode())
            batch: list[str] = []
            for row in sheet_rows(rows):
                batch.append(row)
                if len(batch) == 10_000:
                    sheet.write("".join(batch).encode())
                    batch.clear()
            sheet.write(("".join(batch) + SHEET_TAIL).encode())
        for name, data in (extra_parts or {}).items():
            archive.writestr(name, data)
    return buffer.getvalue()


@cache
def million_rows() -> bytes:
    """1,000,000 rows: ~30 MB of sheet XML, a few MB zipped (under the 10 MB upload limit)."""
    return xlsx((n,) for n in range(1, 1_000_001))


def xlsm(*, with_vba: bool = True, macro_type: bool = True) -> bytes:
    """A macro workbook: the macroEnabled content type and/or xl/vbaProject.bin."""
    parts = {"xl/vbaProject.bin": b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 504} if with_vba else {}
    types = (
        '<Default Extension="bin" ContentType="application/vnd.ms-office.vbaProject"/>' if with_vba else ""
    )
    return xlsx(main=XLSM_MAIN if macro_type else XLSX_MAIN, extra_types=types, extra_parts=parts)


BILLION_LAUGHS = (
    '<!DOCTYPE lolz [<!ENTITY lol "lol">'
    + "".join(
        f'<!ENTITY lol{n} "{("&lol" + (str(n - 1) if n > 1 else "") + ";") * 10}">' for n in range(1, 10)
    )
    + "]>"
)
QUADRATIC = '<!DOCTYPE q [<!ENTITY a "' + "a" * 50_000 + '">]>'
EXTERNAL_ENTITY = '<!DOCTYPE x [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>'


def entity_xlsx(prolog: str, reference: str) -> bytes:
    """An .xlsx whose sheet declares entities in its DTD and uses `reference` in a cell."""
    buffer = io.BytesIO()
    sheet = _sheet_head(prolog) + f'<row r="1"><c r="A1" t="inlineStr"><is><t>{reference}</t></is></c></row>'
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("[Content_Types].xml", _content_types(XLSX_MAIN))
        archive.writestr("_rels/.rels", ROOT_RELS)
        archive.writestr("xl/workbook.xml", WORKBOOK)
        archive.writestr("xl/_rels/workbook.xml.rels", WORKBOOK_RELS)
        archive.writestr("xl/worksheets/sheet1.xml", sheet + SHEET_TAIL)
    return buffer.getvalue()


def zip_bomb(*, megabytes: int, name: str = "xl/worksheets/sheet2.xml") -> bytes:
    """A valid-looking .xlsx plus one entry of `megabytes` MB of zeros (inflates ~1000×)."""
    buffer = io.BytesIO(xlsx())
    with zipfile.ZipFile(buffer, "a", zipfile.ZIP_DEFLATED) as archive, archive.open(name, "w") as entry:
        block = b"\0" * (1024 * 1024)
        for _ in range(megabytes):
            entry.write(block)
    return buffer.getvalue()


def incompressible(*, megabytes: int) -> bytes:
    """An .xlsx plus an entry of random bytes: a large unpacked size at a ratio of about 1."""
    return xlsx(extra_parts={"xl/media/image1.bin": os.urandom(megabytes * 1024 * 1024)})


def many_entries(count: int) -> bytes:
    buffer = io.BytesIO(xlsx())
    with zipfile.ZipFile(buffer, "a", zipfile.ZIP_STORED) as archive:
        for n in range(count):
            archive.writestr(f"xl/media/p{n}.txt", b"")
    return buffer.getvalue()


def renamed_exe() -> bytes:
    """The start of a Windows PE file: 'MZ', the DOS stub, and 'PE\\0\\0' at e_lfanew."""
    dos = bytearray(b"MZ" + b"\x90\x00" * 29 + b"\x00" * 2)
    dos[0x3C:0x40] = struct.pack("<I", 0x40)
    return bytes(dos) + b"PE\x00\x00" + b"\x4c\x01" + b"\x00" * 200


def elf() -> bytes:
    return b"\x7fELF\x02\x01\x01" + b"\x00" * 200


# --- OLE2 (.xls) -------------------------------------------------------------------------------


def xls(rows: Sequence[Sequence[object]] = (("姓名", "年龄"), ("张三", 9))) -> bytes:
    import xlwt  # dev dependency: the only writer of real .xls files

    workbook = xlwt.Workbook(encoding="utf-8")
    sheet = workbook.add_sheet("名单")
    for r, row in enumerate(rows):
        for c, value in enumerate(row):
            sheet.write(r, c, value)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def ole_with_entry(data: bytes, name: str, *, storage: bool) -> bytes:
    """Add a directory entry (a storage or an empty stream) named `name` to an xlwt file,
    linked as the right sibling of the Workbook stream so that OLE readers see it too."""
    raw = bytearray(data)
    workbook = raw.find("Workbook".encode("utf-16-le"))
    assert workbook > 0 and workbook % 128 == 0, "xlwt directory layout changed"
    slot = workbook + 128
    assert raw[slot + 64 : slot + 66] == b"\0\0", "the slot after Workbook is not free"
    encoded = name.encode("utf-16-le") + b"\0\0"
    entry = bytearray(128)
    entry[: len(encoded)] = encoded
    entry[64:66] = struct.pack("<H", len(encoded))
    entry[66] = 1 if storage else 2  # object type
    entry[67] = 1  # black
    entry[68:80] = b"\xff" * 12  # no left, right or child
    raw[slot : slot + 128] = entry
    did = (slot - (workbook - 128)) // 128  # root is DID 0, Workbook DID 1
    raw[workbook + 72 : workbook + 76] = struct.pack("<I", did)  # Workbook's right sibling
    return bytes(raw)


def xls_with_macros() -> bytes:
    return ole_with_entry(xls(), "_VBA_PROJECT_CUR", storage=True)


def encrypted_ooxml() -> bytes:
    """What Excel saves for a password-protected .xlsx: an OLE2 file with EncryptedPackage."""
    return ole_with_entry(xls(), "EncryptedPackage", storage=False)


# --- ODF (.ods) --------------------------------------------------------------------------------

ODS_MIMETYPE = "application/vnd.oasis.opendocument.spreadsheet"
ODS_NS = (
    'xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office:1.0" '
    'xmlns:table="urn:oasis:names:tc:opendocument:xmlns:table:1.0" '
    'xmlns:text="urn:oasis:names:tc:opendocument:xmlns:text:1.0" office:version="1.2"'
)
MANIFEST = (
    '<?xml version="1.0" encoding="UTF-8"?>'
    '<manifest:manifest xmlns:manifest="urn:oasis:names:tc:opendocument:xmlns:manifest:1.0" '
    'manifest:version="1.2">'
    f'<manifest:file-entry manifest:full-path="/" manifest:media-type="{ODS_MIMETYPE}"/>'
    '<manifest:file-entry manifest:full-path="content.xml" manifest:media-type="text/xml"/>'
    "</manifest:manifest>"
)


def _ods_cell(value: object) -> str:
    if isinstance(value, int | float) and not isinstance(value, bool):
        kind, text = f'office:value-type="float" office:value="{value}"', str(value)
    else:
        kind, text = 'office:value-type="string"', escape(str(value))
    return f"<table:table-cell {kind}><text:p>{text}</text:p></table:table-cell>"


def ods(
    rows: Sequence[Sequence[object]] = (("姓名", "年龄"), ("张三", 9)),
    *,
    tail: str = '<table:table-row table:number-rows-repeated="1048574"><table:table-cell/></table:table-row>',
    extra_parts: dict[str, bytes] | None = None,
) -> bytes:
    """A minimal real .ods; by default padded like LibreOffice with a million repeated empty rows."""
    body = "".join(f"<table:table-row>{''.join(_ods_cell(v) for v in row)}</table:table-row>" for row in rows)
    content = (
        f'<?xml version="1.0" encoding="UTF-8"?><office:document-content {ODS_NS}>'
        f'<office:body><office:spreadsheet><table:table table:name="名单">{body}{tail}</table:table>'
        "</office:spreadsheet></office:body></office:document-content>"
    )
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("mimetype", ODS_MIMETYPE, compress_type=zipfile.ZIP_STORED)  # first, stored
        archive.writestr("content.xml", content, compress_type=zipfile.ZIP_DEFLATED)
        archive.writestr("META-INF/manifest.xml", MANIFEST, compress_type=zipfile.ZIP_DEFLATED)
        for name, data in (extra_parts or {}).items():
            archive.writestr(name, data, compress_type=zipfile.ZIP_DEFLATED)
    return buffer.getvalue()


def ods_with_macros() -> bytes:
    return ods(extra_parts={"Basic/Standard/Module1.xml": b'<?xml version="1.0"?><module/>'})


def ods_repeated_rows(count: int) -> bytes:
    """One row with content repeated `count` times: a reader would expand every copy."""
    tail = f'<table:table-row table:number-rows-repeated="{count}">{_ods_cell("重复")}</table:table-row>'
    return ods(tail=tail)


def ods_cell_bomb() -> bytes:
    cell = (
        '<table:table-cell table:number-columns-repeated="1000000" '
        'office:value-type="float" office:value="1"/>'
    )
    return ods(tail=f"<table:table-row>{cell}</table:table-row>")


# --- CSV ---------------------------------------------------------------------------------------


def csv_bytes(rows: Iterable[Sequence[object]], *, encoding: str = "utf-8-sig") -> bytes:
    import csv

    text = io.StringIO()
    writer = csv.writer(text, lineterminator="\r\n")
    writer.writerows(rows)
    return text.getvalue().encode(encoding)


def lying_bomb() -> bytes:
    """An entry that inflates to 30 MB while its headers declare 1,000 bytes: the guard's size
    checks read the headers, so reading must stop at the declared size (and fail its CRC)."""
    body = b"<worksheet>" + b"<row/>" * (5 * 1024 * 1024) + b"</worksheet>"
    raw = bytearray(xlsx(extra_parts={"xl/worksheets/sheet2.xml": body}))
    with zipfile.ZipFile(io.BytesIO(bytes(raw))) as archive:
        info = archive.getinfo("xl/worksheets/sheet2.xml")
    local = info.header_offset
    assert raw[local : local + 4] == b"PK\x03\x04"
    raw[local + 22 : local + 26] = struct.pack("<I", 1000)
    central = _central_record(raw, info.filename)
    raw[central + 24 : central + 28] = struct.pack("<I", 1000)
    return bytes(raw)


def _central_record(raw: bytes | bytearray, name: str) -> int:
    """The offset of `name`'s record in the central directory (walked from the end record)."""
    end = raw.rfind(b"PK\x05\x06")
    (offset,) = struct.unpack("<I", raw[end + 16 : end + 20])
    while raw[offset : offset + 4] == b"PK\x01\x02":
        name_len, extra_len, comment_len = struct.unpack("<HHH", raw[offset + 28 : offset + 34])
        if raw[offset + 46 : offset + 46 + name_len].decode() == name:
            return int(offset)
        offset += 46 + name_len + extra_len + comment_len
    raise AssertionError(f"{name} not in the central directory")
