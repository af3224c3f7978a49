"""The preview's normalised rows, kept for the commit: one read and one normalisation of the
file per import instead of two.

The file cannot change between the two jobs (it is stored under a generated name, and a new
mapping starts a new round), so the commit takes the values the preview normalised instead of
reading and normalising the file again. They are kept beside the upload, in chunks, each
sealed by core.crypto.seal_blob and bound to the batch and round (a cache of another batch or
round, or altered bytes, does not open), and the commit opens one chunk at a time, so its
memory stays that of a chunk (and of every row's match keys, a blob of their own per chunk:
the commit locks the files every chunk matches before it writes any).

The commit still matches every row against the database as it is then, under lock, and
refuses a preview that has gone stale. It uses the cache only when the preview finished it
(written as a .part file, renamed at the end), for the same bytes of the file (SHA-256), on
the day the preview ran (a new file's
derived columns depend on the date), and for rows whose village is still in the importer's
write scope (imports.services counts any other as stale). Otherwise it reads the file as
before. The cache is deleted with the upload (commit, cancel, the 24-hour purge) and when a
new round starts.

The rows the upload read are kept the same way (sheet_save, sheet_load), so that the
preview does not read the file again.
"""

import datetime as dt
import hashlib
import pickle
import struct
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, BinaryIO

from core.crypto import DecryptionError, open_blob, seal_blob
from geo.models import Region
from imports.normalise import RowValues
from imports.reading import RawRow, Sheet

_LENGTH = struct.Struct(">Q")
SUFFIX = ".rows"
_LAYOUT = 2  # each chunk: its match keys, then its rows (a cache of another layout is not used)


def cache_path(upload: Path, round_: int) -> Path:
    return upload.with_name(f"{upload.name}.r{round_}{SUFFIX}")


def cache_paths(upload: Path) -> list[Path]:
    """Every round's cache of this upload (finished or not)."""
    return sorted(upload.parent.glob(f"{upload.name}.r*{SUFFIX}*"))


def _context(batch_id: object, round_: int) -> str:
    return f"imports.preview_rows:{batch_id}:{round_}"


class CacheWriter:
    """Writes a round's cache chunk by chunk; `finish()` makes it usable, `discard()` drops it."""

    def __init__(self, upload: Path, *, batch_id: object, round_: int, day: dt.date) -> None:
        self.path = cache_path(upload, round_)
        self.part = self.path.with_name(self.path.name + ".part")
        self.context = _context(batch_id, round_)
        self.rows = 0
        self._regions: set[Any] = set()
        self._file: BinaryIO | None = self.part.open("wb")
        head = {"layout": _LAYOUT, "day": day.isoformat(), "file": file_digest(upload)}
        self._write(pickle.dumps(head))

    def _write(self, data: bytes) -> None:
        assert self._file is not None
        _write_blob(self._file, data, self.context)

    @property
    def open(self) -> bool:
        return self._file is not None

    def add(self, values: list[RowValues]) -> None:
        """One chunk: what the commit matches the rows by (a blob of its own, see
        CachedRows.keys), then the rows."""
        if self._file is not None:
            keys = [_key(v) for v in values]
            self._write(pickle.dumps(keys, protocol=pickle.HIGHEST_PROTOCOL))
            packed = [_pack(v, self._regions) for v in values]
            self._write(pickle.dumps(packed, protocol=pickle.HIGHEST_PROTOCOL))
            self.rows += len(values)

    def finish(self) -> None:
        if self._file is not None:
            self._write(pickle.dumps({"rows": self.rows, "regions": sorted(self._regions)}))
            self._file.close()
            self._file = None
            self.part.replace(self.path)

    def discard(self) -> None:
        if self._file is not None:
            self._file.close()
            self._file = None
        self.part.unlink(missing_ok=True)


class CachedRows:
    """A finished cache, opened: `rows` in all, `chunks()` yields them chunk by chunk."""

    def __init__(self, path: Path, context: str, rows: int, regions: dict[Any, Region]) -> None:
        self.path = path
        self.context = context
        self.rows = rows
        self.regions = regions  # the Regions the rows name, by key

    def chunks(self) -> Iterator[list[RowValues]]:
        for _keys, rows in self._pairs(keys=False):
            packed = pickle.loads(open_blob(rows, context=self.context))  # noqa: S301
            yield [_unpack(p, self.regions) for p in packed]

    def keys(self) -> Iterator[list[RowValues]]:
        """Chunk by chunk, the rows with only what the commit matches them by (the ID number;
        the name, birth date and village of a row without one): the commit locks the files
        every chunk matches before it writes any, and holds these instead of the rows."""
        for keys, _rows in self._pairs(keys=True):
            yield [_unkey(k, self.regions) for k in pickle.loads(open_blob(keys, context=self.context))]  # noqa: S301

    def _pairs(self, *, keys: bool) -> Iterator[tuple[bytes, bytes]]:
        """Each chunk's two blobs, still sealed; the one not wanted is skipped unread (empty)."""
        with self.path.open("rb") as file:
            blobs = _blobs(file, wanted=lambda index: index == 0 or (index % 2 == 1) == keys)
            next(blobs)  # the head
            while (first := next(blobs, None)) is not None:
                second = next(blobs, None)
                if second is None:
                    return  # `first` was the tail
                yield first, second


# A Region (a row's village, a parent's work place) is kept as its key: pickling a model
# instance for every row cost more than the rest of the row.
_PLACES = ("work_province", "work_city")
Packed = tuple[int, dict[str, Any], dict[str, Any], dict[str, Any], dict[str, Any] | None, Any]


def _pack(values: RowValues, regions: set[Any]) -> Packed:
    father, mother = _places_out(values.father, regions), _places_out(values.mother, regions)
    village = values.village.pk if values.village is not None else None
    if village is not None:
        regions.add(village)
    return (values.number, values.child, father, mother, values.guardian, village)


Key = tuple[int, str | None, str | None, dt.date | None, Any]


def _key(values: RowValues) -> Key:
    child = values.child
    village = values.village.pk if values.village is not None else None
    return (values.number, child.get("id_number"), child.get("name"), child.get("birth_date"), village)


def _unkey(key: Key, regions: dict[Any, Region]) -> RowValues:
    number, id_number, name, birth_date, village = key
    child = {k: v for k, v in (("id_number", id_number), ("name", name), ("birth_date", birth_date)) if v}
    return RowValues(
        number=number,
        child=child,
        father={},
        mother={},
        guardian=None,
        village=regions[village] if village is not None else None,
    )


def _places_out(person: dict[str, Any], regions: set[Any]) -> dict[str, Any]:
    if not any(isinstance(person.get(name), Region) for name in _PLACES):
        return person
    person = dict(person)
    for name in _PLACES:
        place = person.get(name)
        if isinstance(place, Region):
            regions.add(place.pk)
            person[name] = place.pk
    return person


def _unpack(packed: Packed, regions: dict[Any, Region]) -> RowValues:
    number, child, father, mother, guardian, village = packed
    for person in (father, mother):
        for name in _PLACES:
            if person.get(name) is not None:
                person[name] = regions[person[name]]
    return RowValues(
        number=number,
        child=child,
        father=father,
        mother=mother,
        guardian=guardian,
        village=regions[village] if village is not None else None,
    )


def _blobs(file: BinaryIO, *, wanted: Callable[[int], bool] = lambda index: True) -> Iterator[bytes]:
    """The sealed blobs in order; those whose position is not `wanted` as empty placeholders
    (seeked over, unread), except the last, always read (a cache's tail)."""
    index = 0
    while header := file.read(_LENGTH.size):
        if len(header) < _LENGTH.size:
            raise DecryptionError("缓存文件不完整")
        (length,) = _LENGTH.unpack(header)
        start = file.tell()
        if not wanted(index):
            file.seek(length, 1)
            if file.read(1):  # not the last: leave it unread
                file.seek(-1, 1)
                index += 1
                yield b""
                continue
            file.seek(start)
        index += 1
        blob = file.read(length)
        if len(blob) < length:
            raise DecryptionError("缓存文件不完整")
        yield blob


def cached_rows(upload: Path, *, batch_id: object, round_: int, day: dt.date) -> CachedRows | None:
    """The round's finished cache, if it opens and was made on `day`; else None. Unpickling is
    safe here: only a blob that this server sealed for this batch and round opens. A file whose
    bytes are not those the cache was made from (SHA-256) gets None: the commit reads it."""
    path = cache_path(upload, round_)
    context = _context(batch_id, round_)
    try:
        with path.open("rb") as file:
            blobs = list(_blobs(file, wanted=lambda index: index == 0))
        if len(blobs) < 2:
            return None
        head = pickle.loads(open_blob(blobs[0], context=context))  # noqa: S301
        tail = pickle.loads(open_blob(blobs[-1], context=context))  # noqa: S301
    except (OSError, DecryptionError, pickle.UnpicklingError, EOFError):
        return None
    if (
        head.get("layout") != _LAYOUT
        or head.get("day") != day.isoformat()
        or head.get("file") != file_digest(upload)
    ):
        return None
    regions = Region.objects.select_related("parent").in_bulk(tail["regions"])
    if len(regions) != len(tail["regions"]):
        return None  # a region the rows name is gone: read the file
    return CachedRows(path, context, int(tail["rows"]), regions)


def file_digest(path: Path) -> str:
    """SHA-256 of the upload: a cache serves only the bytes it was made from."""
    with path.open("rb") as file:
        return hashlib.file_digest(file, "sha256").hexdigest()


def cache_delete(upload: Path, *, rounds_only: bool = False) -> None:
    """Every cache of the upload; with `rounds_only`, the rounds' and not the sheet's."""
    for path in cache_paths(upload):
        path.unlink(missing_ok=True)
    if not rounds_only:
        for path in upload.parent.glob(f"{upload.name}{SHEET_SUFFIX}*"):
            path.unlink(missing_ok=True)


# --- the upload's rows, as read ------------------------------------------------------------------
#
# The upload reads the whole sheet (to find the header and count the rows); the rows it read
# are kept beside the file, sealed the same way, so that the preview does not read the file a
# second time. Bound to the batch (the context) and to the bytes of the file (SHA-256); a
# sheet cache that does not open is ignored and the preview reads the file.

SHEET_SUFFIX = ".sheet"


def sheet_path(upload: Path) -> Path:
    return upload.with_name(f"{upload.name}{SHEET_SUFFIX}")


def _sheet_context(batch_id: object) -> str:
    return f"imports.sheet:{batch_id}"


def sheet_save(upload: Path, sheet: Sheet, *, batch_id: object) -> None:
    """Keep `sheet` (read from `upload`) for the preview: a .part file renamed when complete."""
    path = sheet_path(upload)
    part = path.with_name(path.name + ".part")
    context = _sheet_context(batch_id)
    head = {
        "file": file_digest(upload),
        "name": sheet.name,
        "header_row": sheet.header_row,
        "headers": sheet.headers,
        "rows": len(sheet.rows),
    }
    try:
        with part.open("wb") as file:
            _write_blob(file, pickle.dumps(head), context)
            for start in range(0, len(sheet.rows), _SHEET_CHUNK):
                chunk = [(row.number, row.cells) for row in sheet.rows[start : start + _SHEET_CHUNK]]
                _write_blob(file, pickle.dumps(chunk, protocol=pickle.HIGHEST_PROTOCOL), context)
        part.replace(path)
    except BaseException:
        part.unlink(missing_ok=True)
        raise


def sheet_load(upload: Path, *, batch_id: object) -> Sheet | None:
    """The sheet kept at the upload, or None (missing, damaged, of another batch or file)."""
    context = _sheet_context(batch_id)
    try:
        with sheet_path(upload).open("rb") as file:
            blobs = _blobs(file)
            head = pickle.loads(open_blob(next(blobs), context=context))  # noqa: S301
            if head.get("file") != file_digest(upload):
                return None
            rows = [
                RawRow(number, cells)
                for blob in blobs
                for number, cells in pickle.loads(open_blob(blob, context=context))  # noqa: S301
            ]
    except (OSError, DecryptionError, pickle.UnpicklingError, EOFError, StopIteration):
        return None
    if len(rows) != head["rows"]:
        return None
    return Sheet(name=head["name"], header_row=head["header_row"], headers=head["headers"], rows=rows)


_SHEET_CHUNK = 10_000


def _write_blob(file: BinaryIO, data: bytes, context: str) -> None:
    blob = seal_blob(data, context=context)
    file.write(_LENGTH.pack(len(blob)))
    file.write(blob)
