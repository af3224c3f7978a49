"""Writes of the import flow: upload → column mapping → preview (a background job) → commit
(a background job, all or nothing, RE-3) — and the purge of files left behind.

The uploaded file stays in the private upload directory (core.uploads) under a generated name
until the batch is committed, cancelled or 24 hours old (imports_purge_stale, called nightly).
Job payloads carry the batch id and the preview round only (DP-5).

The preview handler runs outside a transaction (its progress is seen at once) and stores what
each row would do (ImportRow, masked). The commit handler runs inside the job's transaction:
it re-reads and re-validates the file against the database as it is now, refuses when a file
matched in the preview has changed since, and otherwise writes everything — new files,
updates, parents, guardians, history rows ("台账导入"), care state, one audit row — or, on any
error or crash, nothing.
"""

import datetime as dt
import json
import logging
import os
import uuid
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import UploadedFile
from django.db import connections, router, transaction
from django.db.models import Model, Q
from django.utils import timezone
from simple_history.utils import bulk_create_with_history, bulk_update_with_history

from accounts.models import User
from audit.models import EventType
from audit.services import audit_event
from care import rules as care_rules
from care.models import CarePolicy
from core.blind_index import id_index, phone_index
from core.uploads import guard_upload, upload_dir
from geo.models import Region, Unit
from guardianship import rules as agreement_rules
from imports.access import import_unit
from imports.cache import CacheWriter, cache_delete, cached_rows, sheet_load, sheet_save
from imports.columns import FIELD_BY_KEY, FIELDS, NOT_IMPORTED, guess_mapping, header_key
from imports.evaluate import (
    CHILD_DEFAULTS,
    Evaluated,
    FamilyWrite,
    Matched,
    NewFile,
    Normalised,
    Plan,
    evaluate_matched,
    evaluate_normalised,
    find_duplicates,
    lock_matching,
    match_normalised,
    normalise_chunk,
)
from imports.models import OPEN_STATES, Batch, BatchState, ColumnMapping, ImportRow, Outcome
from imports.normalise import RowValues
from imports.reading import ImportFileError, RawRow, Sheet, read_sheet
from imports.regions import RegionLookup
from imports.timing import Phases
from imports.writing import Background, Inserter
from jobs.handlers import PermanentJobError
from jobs.models import Job, JobState
from jobs.services import JobContext, job_submit
from registry.choices import Status
from registry.models import Child, EntrustedGuardian, Parent

logger = logging.getLogger("shouhu.imports")

PREVIEW_KIND = "imports.preview"
COMMIT_KIND = "imports.commit"
CHUNK = 4000
HELD_MATCHES = 200  # per chunk, matched before the commit's loop (see commit_run)
CHANGE_REASON = "台账导入"
KEEP_FILES = dt.timedelta(hours=24)
NO_UNIT = "您的账号没有所属单位，不能导入。"
FILE_GONE = "导入文件已删除（已导入、已取消或超过 24 小时），请重新上传。"
HAS_ERRORS = "导入文件有错误，未写入任何数据"
STALE = "预览后有 {count} 份档案被修改，请重新预览"
NOT_READY = "只有预览完成且没有错误的批次才能导入。"
REPORT_LIMIT = 200  # errors kept in a failed commit's result


# --- upload and mapping ---------------------------------------------------------------------


def remembered_mapping(unit: Unit) -> dict[str, str]:
    return dict(ColumnMapping.objects.filter(unit=unit).values_list("header_key", "field_key"))


def batch_upload(*, user: User, upload: UploadedFile[bytes] | None) -> Batch:
    """Accept the file (core.uploads), find its header and guess the mapping with the unit's
    remembered choices. Raises UploadRejected or ImportFileError (the file is then deleted)."""
    unit = import_unit(user)
    if unit is None:
        raise ValidationError(NO_UNIT)
    guarded = guard_upload(upload)
    try:
        sheet = read_sheet(guarded.path, guarded.kind)
        mapping = guess_mapping(sheet.headers, remembered_mapping(unit))
        batch = Batch.objects.create(
            created_by=user,
            unit=unit,
            file_name=guarded.name[-120:],
            kind=guarded.kind,
            stored_name=guarded.path.name,
            size=guarded.size,
            sheet_name=sheet.name[:64],
            header_row=sheet.header_row,
            headers=list(sheet.headers),
            mapping={str(index): key for index, key in mapping.items()},
            total_rows=len(sheet.rows),
        )
        sheet_save(guarded.path, sheet, batch_id=batch.pk)  # the preview reads this, not the file
    except BaseException:
        guarded.delete()
        cache_delete(guarded.path)
        raise
    return batch


def batch_mapping(batch: Batch) -> dict[int, str]:
    return {int(index): key for index, key in batch.mapping.items()}


def mapping_problems(mapping: Mapping[int, str]) -> list[str]:
    """Chinese messages for a mapping that cannot be imported: required fields missing."""
    mapped = set(mapping.values())
    missing = [f.label for f in FIELDS if f.required and f.key not in mapped]
    return [f"缺少必填列：{'、'.join(missing)}。请在下面为这些字段选择对应的列。"] if missing else []


def mapping_settled(batch: Batch) -> bool:
    """Every column is mapped or known to the unit as "不导入", and nothing required is
    missing: the user may go straight to the preview."""
    remembered = remembered_mapping(batch.unit)
    mapping = batch_mapping(batch)
    decided = all(
        index in mapping or header_key(header) in remembered or header_key(header) in NOT_IMPORTED
        for index, header in enumerate(batch.headers)
    )
    return decided and not mapping_problems(mapping)


@transaction.atomic
def batch_map(*, user: User, batch: Batch, mapping: Mapping[int, str]) -> Job:
    """Save the user's mapping, remember it for the unit, and start a preview."""
    headers = batch.headers
    batch.mapping = {str(index): key for index, key in mapping.items() if key}
    rows = {}
    for index, header in enumerate(headers):
        key = header_key(header)
        if key:
            rows[key] = ColumnMapping(unit=batch.unit, header_key=key[:100], field_key=mapping.get(index, ""))
    ColumnMapping.objects.bulk_create(
        rows.values(),
        update_conflicts=True,
        unique_fields=["unit", "header_key"],
        update_fields=["field_key", "updated_at"],
    )
    return batch_preview_submit(user=user, batch=batch)


@transaction.atomic
def batch_preview_submit(*, user: User, batch: Batch) -> Job:
    """A new preview round (the first, or again after a change of mapping or a refused
    commit). Saves the batch's mapping too."""
    locked = (
        Batch.objects.select_for_update(of=("self",))
        .select_related("preview_job", "commit_job")
        .get(pk=batch.pk)
    )
    if not _file_kept(locked):
        raise ValidationError(FILE_GONE)
    if locked.state != BatchState.MAPPING and not locked.can_remap:
        raise ValidationError("该批次已结束或正在处理，不能重新预览。")
    locked.round += 1
    locked.mapping = batch.mapping
    locked.state = BatchState.PREVIEWING
    locked.error_count = locked.new_count = locked.update_count = locked.unchanged_count = 0
    job = job_submit(
        kind=PREVIEW_KIND,
        payload={"batch": str(locked.pk), "round": locked.round},
        idempotency_key=f"{PREVIEW_KIND}:{locked.pk}:{locked.round}",
        user=user,
    )
    locked.preview_job = job
    locked.commit_job = None
    locked.save(
        update_fields=[
            "round",
            "mapping",
            "state",
            "preview_job",
            "commit_job",
            "error_count",
            "new_count",
            "update_count",
            "unchanged_count",
        ]
    )
    batch.refresh_from_db()
    return job


@transaction.atomic
def batch_commit_submit(*, user: User, batch: Batch) -> Job:
    """Start the commit of a previewed batch without errors; a second call for the same
    round returns the same job."""
    locked = Batch.objects.select_for_update(of=("self",)).select_related("commit_job").get(pk=batch.pk)
    if locked.state == BatchState.COMMITTING and locked.commit_job is not None:
        return locked.commit_job
    if locked.state == BatchState.COMMITTED and locked.commit_job is not None:
        return locked.commit_job
    if not locked.can_commit:
        raise ValidationError(NOT_READY)
    if not _file_kept(locked):
        raise ValidationError(FILE_GONE)
    job = job_submit(
        kind=COMMIT_KIND,
        payload={"batch": str(locked.pk), "round": locked.round},
        idempotency_key=f"{COMMIT_KIND}:{locked.pk}:{locked.round}",
        user=user,
    )
    locked.state = BatchState.COMMITTING
    locked.commit_job = job
    locked.save(update_fields=["state", "commit_job"])
    batch.refresh_from_db()
    return job


@transaction.atomic
def batch_cancel(*, user: User, batch: Batch) -> None:
    locked = (
        Batch.objects.select_for_update(of=("self",))
        .select_related("preview_job", "commit_job")
        .get(pk=batch.pk)
    )
    if locked.state in (BatchState.CANCELLED, BatchState.EXPIRED):
        return
    if not locked.can_cancel:
        raise ValidationError("该批次已导入或正在导入，不能取消。")
    _delete_file_on_commit(locked)
    locked.state = BatchState.CANCELLED
    locked.stored_name = ""
    locked.save(update_fields=["state", "stored_name"])


def imports_purge_stale(*, now: dt.datetime | None = None) -> int:
    """Delete the files of batches older than 24 hours that are not being committed, and
    mark the unfinished ones expired (FI-3). For the nightly job; returns files deleted."""
    cutoff = (now or timezone.now()) - KEEP_FILES
    busy = Q(state=BatchState.COMMITTING) & Q(commit_job__state__in=[JobState.QUEUED, JobState.RUNNING])
    stale = Batch.objects.filter(created_at__lt=cutoff).exclude(stored_name="").exclude(busy)
    count = 0
    for batch in stale.select_related("commit_job"):
        with transaction.atomic():
            _delete_file_on_commit(batch)
            fields = ["stored_name"]
            batch.stored_name = ""
            if batch.state in OPEN_STATES:
                batch.state = BatchState.EXPIRED
                fields.append("state")
            batch.save(update_fields=fields)
        count += 1
    return count


def _file_kept(batch: Batch) -> bool:
    return bool(batch.stored_name) and batch_path(batch).exists()


def batch_path(batch: Batch) -> Path:
    return upload_dir() / Path(batch.stored_name).name


def _delete_file_on_commit(batch: Batch) -> None:
    path = batch_path(batch) if batch.stored_name else None
    if path is not None:
        transaction.on_commit(lambda: _delete_upload(path))


def _delete_upload(path: Path) -> None:
    """The upload and its preview caches (imports.cache)."""
    path.unlink(missing_ok=True)
    cache_delete(path)


# --- running a round --------------------------------------------------------------------------


@dataclass
class _Run:
    batch: Batch
    sheet: Sheet
    plan: Plan


def _open_run(batch: Batch) -> _Run:
    if not _file_kept(batch):
        raise PermanentJobError(FILE_GONE)
    phases = Phases()
    try:
        with phases("read"):
            path = batch_path(batch)
            sheet = sheet_load(path, batch_id=batch.pk) or read_sheet(path, batch.kind)
    except ImportFileError as exc:
        raise PermanentJobError(exc.message) from exc
    plan = _plan(batch, sheet.headers, phases)
    with phases("normalise"):
        plan.duplicates = find_duplicates(sheet.rows, plan.mapping)
    return _Run(batch, sheet, plan)


def _plan(batch: Batch, headers: Sequence[str], phases: Phases) -> Plan:
    user = batch.created_by
    return Plan(
        user=user,
        headers=headers,
        mapping=batch_mapping(batch),
        regions=RegionLookup.for_user(user),
        today=timezone.localdate(),
        phases=phases,
    )


def _chunks(rows: Sequence[RawRow]) -> Iterator[Sequence[RawRow]]:
    for start in range(0, len(rows), CHUNK):
        yield rows[start : start + CHUNK]


def _current(job: Job, *, lock: bool) -> Batch | None:
    """The job's batch, if the job is still its current round (an older round's job that
    runs late does nothing)."""
    query = Batch.objects.select_related("created_by", "unit")
    if lock:
        query = query.select_for_update(of=("self",))
    batch = query.filter(pk=job.payload.get("batch")).first()
    if batch is None or batch.round != job.payload.get("round"):
        return None
    return batch


# --- the preview --------------------------------------------------------------------------------


def preview_run(job: Job, context: JobContext) -> dict[str, Any]:
    """Evaluate every row and store the outcomes (non-transactional; idempotent: a re-run
    replaces the rows of the round)."""
    batch = _current(job, lock=False)
    if batch is None or batch.state != BatchState.PREVIEWING:
        return {"skipped": True}
    run = _open_run(batch)
    ImportRow.objects.filter(batch=batch).delete()
    upload = batch_path(batch)
    cache_delete(upload, rounds_only=True)  # an earlier round's
    cache = CacheWriter(upload, batch_id=batch.pk, round_=batch.round, day=run.plan.today)
    try:
        counts = _preview_rows(batch, run, cache, context)
        if counts[Outcome.ERROR]:
            cache.discard()  # no commit without a new round
        else:
            with run.plan.phases("rows"):
                cache.finish()
    except BaseException:
        cache.discard()
        raise
    total = len(run.sheet.rows)
    Batch.objects.filter(pk=batch.pk, round=batch.round, state=BatchState.PREVIEWING).update(
        state=BatchState.PREVIEWED,
        previewed_at=timezone.now(),
        total_rows=total,
        new_count=counts[Outcome.NEW],
        update_count=counts[Outcome.UPDATE],
        unchanged_count=counts[Outcome.UNCHANGED],
        error_count=counts[Outcome.ERROR],
    )
    _log_phases(PREVIEW_KIND, total, run.plan.phases)
    return {"rows": total, **counts}


def _preview_rows(batch: Batch, run: _Run, cache: CacheWriter, context: JobContext) -> dict[str, int]:
    """Evaluate and store the rows chunk by chunk; keep their normalised values for the commit
    while no row has an error."""
    counts = dict.fromkeys(Outcome.values, 0)
    total = len(run.sheet.rows)
    done = 0
    context.progress(0, total)
    connection = connections[router.db_for_write(ImportRow)]
    # PostgreSQL: the rows are written in the background while the next chunk is normalised.
    background = Background(connection, run.plan.phases) if connection.vendor == "postgresql" else None
    rows = Inserter(ImportRow, history=False, background=background)
    try:
        for chunk in _chunks(run.sheet.rows):
            normalised = normalise_chunk(chunk, run.plan)
            evaluated = evaluate_normalised(normalised, run.plan, lock=False)
            with run.plan.phases("rows"):
                rows.insert([_import_row(batch, e) for e in evaluated])
                for e in evaluated:
                    counts[e.outcome] += 1
                if counts[Outcome.ERROR]:
                    cache.discard()
                else:
                    cache.add([values for values, _errors in normalised])
            done += len(chunk)
            context.progress(done, total)
        if background is not None:
            background.wait()
    finally:
        if background is not None:
            background.close()
    return counts


def _import_row(batch: Batch, e: Evaluated) -> dict[str, Any]:
    """An ImportRow's values (imports.writing inserts them)."""
    matched = e.child is not None and e.outcome in (Outcome.UPDATE, Outcome.UNCHANGED)
    return {
        "batch_id": batch.pk,
        "number": e.number,
        "outcome": e.outcome,
        "child_id": e.child.pk if matched and e.child is not None else None,
        "child_version": e.seen_version if matched else None,
        "diff": json.dumps(e.diff, ensure_ascii=False) if e.diff else "",
        "errors": e.errors,
        "summary": e.summary[:64],
    }


# --- the commit ---------------------------------------------------------------------------------


@dataclass
class _Seen:
    child_id: Any
    version: int | None


def commit_run(job: Job, context: JobContext) -> dict[str, Any]:
    """Write the batch, or nothing (runs inside the job's transaction)."""
    batch = _current(job, lock=True)
    if batch is None or batch.state != BatchState.COMMITTING:
        return {"skipped": True}
    if not _file_kept(batch):
        raise PermanentJobError(FILE_GONE)
    plan, total, keys, chunks = _commit_rows(batch)
    seen = {
        number: _Seen(child_id, version)
        for number, child_id, version in ImportRow.objects.filter(batch=batch).values_list(
            "number", "child_id", "child_version"
        )
    }
    writer = _Writer(batch.created_by, plan.today, plan.phases)
    if writer.background is not None:
        # PostgreSQL checks Django's foreign keys at COMMIT (DEFERRABLE INITIALLY DEFERRED):
        # for a hundred thousand files, seconds of the server's time after the last write.
        # Checked at the end of each statement instead, they run in the background beside the
        # next chunk's evaluation. (A chunk's files are written before their parents.)
        with connections[router.db_for_write(Child)].cursor() as cursor:
            cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
    errors: list[dict[str, Any]] = []
    stale = 0
    done = 0
    try:
        # First every chunk's files are locked (FOR UPDATE), by its rows' keys, and the next
        # file numbers of its villages read: for a chunk of new files, or of a few updates,
        # matched then, the loop below sends no query while the background writes (a query
        # would wait for the write), so the job's Python for a chunk runs beside the server's
        # write of the one before. A chunk of many updates is matched in the loop (its files
        # with their families are not held until then: an import of a hundred thousand
        # updates would hold them all).
        ahead: list[Matched | None] = []
        villages: set[Any] = set()
        for rows in keys:
            ahead.append(lock_matching(rows, plan, hold=HELD_MATCHES))
            villages |= {v.village.pk for v, _e in rows if v.village is not None}
        writer.number_villages(villages)
        for early, (rows, moved) in zip(ahead, chunks, strict=True):
            if early is None:
                matched = match_normalised(rows, plan, lock=True)
            else:
                matched = early
                matched.normalised = rows  # the rows whole, instead of their keys
            stale += moved
            evaluated = evaluate_matched(matched, plan)
            for e in evaluated:
                errors += [{"row": e.number, **error} for error in e.errors]
                stale += _is_stale(e, seen.get(e.number))
            if not errors and not stale:
                writer.write(evaluated)
            done += len(matched.normalised)
            context.progress(done, total)
        if errors:
            raise PermanentJobError(
                HAS_ERRORS, result={"errors": errors[:REPORT_LIMIT], "count": len(errors)}
            )
        if stale:
            raise PermanentJobError(STALE.format(count=stale), result={"stale": stale})
        writer.finish()
    finally:
        writer.close()  # no background write may outlive the transaction
    counts = {"rows": total, **writer.counts}
    _delete_file_on_commit(batch)
    batch.state = BatchState.COMMITTED
    batch.committed_at = timezone.now()
    batch.stored_name = ""
    batch.save(update_fields=["state", "committed_at", "stored_name"])
    audit_event(
        action=EventType.CREATE,
        user=batch.created_by,
        object_type="import_batch",
        object_id=batch.pk,
        detail=counts,
    )
    _log_phases(COMMIT_KIND, total, plan.phases)
    return counts


def _commit_rows(
    batch: Batch,
) -> tuple[Plan, int, Iterator[Normalised], Iterator[tuple[Normalised, int]]]:
    """The commit's plan, its row count, its rows' match keys chunk by chunk (rows holding only
    what they are matched by), and its rows normalised chunk by chunk, each chunk with the
    number of its rows whose village has left the importer's write scope since the preview
    (stale). From the preview's cache (imports.cache) when it can be used, else from the file
    (normalised twice then: memory stays that of a chunk)."""
    phases = Phases()
    plan = _plan(batch, batch.headers, phases)
    with phases("read"):
        cached = cached_rows(batch_path(batch), batch_id=batch.pk, round_=batch.round, day=plan.today)
    if cached is None:
        run = _open_run(batch)
        return (
            run.plan,
            len(run.sheet.rows),
            (normalise_chunk(c, run.plan) for c in _chunks(run.sheet.rows)),
            ((normalise_chunk(c, run.plan), 0) for c in _chunks(run.sheet.rows)),
        )
    writable = {village.pk for village in plan.regions.villages}

    def read(opened: Iterator[list[RowValues]]) -> Iterator[list[RowValues]]:
        while True:
            with phases("read"):
                values = next(opened, None)
            if values is None:
                return
            yield values

    def chunks() -> Iterator[tuple[Normalised, int]]:
        for values in read(cached.chunks()):
            moved = sum(1 for v in values if v.village is not None and v.village.pk not in writable)
            yield [(v, []) for v in values], moved

    keys: Iterator[Normalised] = ([(v, []) for v in values] for values in read(cached.keys()))
    return plan, cached.rows, keys, chunks()


def _log_phases(kind: str, rows: int, phases: Phases) -> None:
    """Where a round's time went (step names and seconds only), for operations and the
    benchmark."""
    logger.info("%s: %d rows, %s", kind, rows, json.dumps(phases.result()))


def _is_stale(e: Evaluated, seen: _Seen | None) -> int:
    """1 if the file this row matches is not the one, or not at the version, the preview
    saw (edited, exited, or opened by someone else since)."""
    if e.outcome == Outcome.ERROR:
        return 0
    matched = e.child if e.outcome in (Outcome.UPDATE, Outcome.UNCHANGED) else None
    before_id = seen.child_id if seen else None
    if matched is None:
        return int(before_id is not None)
    return int(seen is None or before_id != matched.pk or seen.version != e.seen_version)


_PARENT_STATUS_DEFAULT = Parent._meta.get_field("status").get_default()

_DERIVED = [
    "name_pinyin",
    "name_initials",
    "id_number",
    "id_index",
    "id_tail",
    "birth_date",
    "sex",
    "township",
    "county",
    "is_left_behind",
    "key_reasons",
    "is_key",
]


class _Writer:
    """Writes one chunk at a time inside the commit's transaction: new files, their parents
    and guardian with their history rows by imports.writing (COPY on PostgreSQL, in a
    background thread on the same connection, so that the server writes one chunk while the
    next is evaluated); updates with simple_history's bulk helpers. File numbers are allocated
    once per village and counted up. `close()` must follow, whatever happens."""

    def __init__(self, user: User, today: dt.date, phases: "Phases | None" = None) -> None:
        self.user = user
        self.today = today
        self.phases = phases or Phases()
        self.counts = {"created": 0, "updated": 0, "unchanged": 0}
        self.touched: list[Any] = []
        self._next_no: dict[Any, int] = {}
        self._codes: dict[Any, str] = {}
        self._inserters: dict[type[Model], Inserter] = {}
        self._policies: dict[Any, care_rules.RulePolicy] = {}
        self._rules: dict[tuple[Any, ...], tuple[str, tuple[str, ...], dt.date | None, bool]] = {}
        connection = connections[router.db_for_write(Child)]
        self.background = Background(connection, self.phases) if connection.vendor == "postgresql" else None

    def write(self, evaluated: list[Evaluated]) -> None:
        new = [e.new for e in evaluated if e.outcome == Outcome.NEW and e.new is not None]
        updated = [e for e in evaluated if e.outcome == Outcome.UPDATE and e.child is not None]
        self.counts["unchanged"] += sum(1 for e in evaluated if e.outcome == Outcome.UNCHANGED)
        with self.phases("write"):
            self._create(new)
            self._update(updated)
            self._family([w for e in updated for w in e.family])
        self.counts["created"] += len(new)
        self.counts["updated"] += len(updated)
        self.touched += [e.child.pk for e in updated if e.child is not None]

    def _inserter(self, model: type[Model]) -> Inserter:
        if model not in self._inserters:
            self._inserters[model] = Inserter(
                model, history=True, phases=self.phases, background=self.background
            )
        return self._inserters[model]

    def _create(self, files: list[NewFile]) -> None:
        if not files:
            return
        now = timezone.now()
        opened_on = timezone.localdate(now)
        children: list[dict[str, Any]] = []
        family: dict[type[Model], list[dict[str, Any]]] = {Parent: [], EntrustedGuardian: []}
        ids = _uuids(len(files) + sum(len(new.family) for new in files))
        for new in files:
            child = new.child
            child_id = next(ids)
            child.update(
                id=child_id,
                file_no=self._file_no(child["village_id"]),
                created_by_id=self.user.pk,
                created_at=now,
                updated_at=now,
            )
            children.append(child)
            self._care_columns(child, new, now, opened_on)
            for model, values in new.family:
                values.update(id=next(ids), child_id=child_id)
                values["id_index"] = id_index(values.get("id_number") or None)
                values["phone_index"] = phone_index(values.get("phone") or None)
                family[model].append(values)
        user_id = self.user.pk
        self._inserter(Child).insert(children, when=now, user_id=user_id, reason=CHANGE_REASON)
        for kind, rows in family.items():
            self._inserter(kind).insert(rows, when=now, user_id=user_id, reason=CHANGE_REASON)

    def _care_columns(
        self, child: dict[str, Any], new: NewFile, now: dt.datetime, opened_on: dt.date
    ) -> None:
        """The care state and agreement columns of a new file, by the rules the care and
        guardianship apps apply after each write (care.services.care_recompute,
        guardianship.services.agreement_state_recompute) for a file that has no visit, no
        agreement and no parent marked 失联 yet: computed here instead of read back and
        rewritten. A test proves that recomputing afterwards changes nothing. The rules are
        functions of a handful of code values, so each distinct combination is computed once
        per import (`_rules`)."""
        value: Callable[[str], Any] = {**CHILD_DEFAULTS, **child}.get
        active = value("status") == Status.ACTIVE
        facts = care_rules.Facts(
            care_type=value("care_type"),
            guardianship_rating=value("guardianship_rating"),
            schooling=value("schooling"),
            hukou_registered=value("hukou_registered"),
            health=value("health"),
            disability_grade=value("disability_grade"),
            active=active,
        )
        parents = tuple(
            agreement_rules.ParentFacts(
                status=values.get("status") or _PARENT_STATUS_DEFAULT,
                incapacity_reason=values.get("incapacity_reason") or "",
            )
            for model, values in new.family
            if model is Parent
        )
        key = (child["county_id"], opened_on, facts, parents)
        if key not in self._rules:
            policy = self._policy(child["county_id"])
            found, why = care_rules.risk_colour(facts, policy)
            self._rules[key] = (
                found,
                tuple(why),
                care_rules.next_due(None, found, policy, opened_on=opened_on),
                agreement_rules.agreement_required(active=active, care_type=facts.care_type, parents=parents),
            )
        colour, reasons, due, required = self._rules[key]
        child.update(
            risk_colour=colour,
            risk_reasons=list(reasons),
            next_visit_due=due,
            care_computed_at=now,
            agreement_required=required,
            agreement_valid_until=None,
        )

    def _policy(self, county_id: Any) -> care_rules.RulePolicy:
        if county_id not in self._policies:
            found = CarePolicy.objects.filter(county_id=county_id).first()
            self._policies[county_id] = found.table() if found is not None else care_rules.DEFAULT_POLICY
        return self._policies[county_id]

    def number_villages(self, village_ids: Iterable[Any]) -> None:
        """Read the next file number of each of these villages now (before the background
        writer starts: afterwards a query waits for its write)."""
        for village_id in village_ids:
            self._next_number(village_id)

    def _file_no(self, village_id: Any) -> str:
        self._next_number(village_id)
        sequence = self._next_no[village_id]
        self._next_no[village_id] += 1
        return f"{self._codes[village_id]}{sequence:06d}"

    def _next_number(self, village_id: Any) -> None:
        if village_id not in self._next_no:
            code = Region.objects.filter(pk=village_id).values_list("code", flat=True).get()
            last = (
                Child.objects.filter(file_no__startswith=code)
                .order_by("-file_no")
                .values_list("file_no", flat=True)
                .first()
            )
            self._codes[village_id] = code
            self._next_no[village_id] = int(last[len(code) :]) + 1 if last else 1

    def _update(self, updated: list[Evaluated]) -> None:
        if not updated:
            return
        now = timezone.now()
        fields = {"version", "updated_at", *_DERIVED}
        children = []
        for e in updated:
            child = e.child
            assert child is not None
            child.version += 1
            child.updated_at = now
            fields.update(e.child_fields)
            children.append(child)
        bulk_update_with_history(
            children,
            Child,
            sorted(fields),
            batch_size=CHUNK,
            default_user=self.user,
            default_change_reason=CHANGE_REASON,
        )

    def _family(self, writes: list[FamilyWrite]) -> None:
        """Parents and guardians of matched files: new ones and changed ones."""
        for model in (Parent, EntrustedGuardian):
            mine = [w for w in writes if isinstance(w.obj, model)]
            for w in mine:
                _person_indexes(w)
            created = [w.obj for w in mine if not w.fields]
            if created:
                bulk_create_with_history(
                    created,
                    model,
                    batch_size=CHUNK,
                    default_user=self.user,
                    default_change_reason=CHANGE_REASON,
                )
            changed = [w for w in mine if w.fields]
            if changed:
                names = sorted({name for w in changed for name in w.fields} | {"id_index", "phone_index"})
                bulk_update_with_history(
                    [w.obj for w in changed],
                    model,
                    names,
                    batch_size=CHUNK,
                    default_user=self.user,
                    default_change_reason=CHANGE_REASON,
                )

    def close(self) -> None:
        """Wait for every background write (after an error too)."""
        if self.background is not None:
            self.background.close()

    def finish(self) -> None:
        """Every background write done (its error raised), then the care state of every file
        touched (the care app's rules, in batches)."""
        if self.background is not None:
            self.background.wait()
        with self.phases("care"):
            for start in range(0, len(self.touched), CHUNK):
                care_state_recompute(self.touched[start : start + CHUNK], on=self.today)


def _uuids(count: int) -> Iterator[uuid.UUID]:
    """`count` random UUIDs (version 4, as uuid4() makes them) from one read of the system's
    random source instead of one per UUID: with the background writer busy, each read gave
    up the interpreter lock and waited to get it back."""
    random = os.urandom(16 * count)
    for start in range(0, len(random), 16):
        yield uuid.UUID(bytes=random[start : start + 16], version=4)


def _person_indexes(write: FamilyWrite) -> None:
    person = write.obj
    person.id_index = id_index(person.id_number or None)
    person.phone_index = phone_index(person.phone or None)


def care_state_recompute(child_ids: Sequence[Any], *, on: dt.date) -> None:
    """Recompute the care state (risk colour, next visit due) and the agreement columns of
    these files in a few queries per 2,000: what registry.services does for one file after
    each write."""
    from care.services import care_recompute_many
    from guardianship.services import agreement_state_recompute_many

    care_recompute_many(child_ids=child_ids, on=on)
    agreement_state_recompute_many(child_ids=child_ids)


# --- the error list -------------------------------------------------------------------------


def error_rows(batch: Batch) -> tuple[Sheet, dict[int, list[dict[str, str]]]]:
    """The file's rows with errors (as the file has them) and their errors, for the error
    spreadsheet. Raises ValidationError when the file is gone."""
    if not _file_kept(batch):
        raise ValidationError(FILE_GONE)
    errors = dict(
        ImportRow.objects.filter(batch=batch, outcome=Outcome.ERROR).values_list("number", "errors")
    )
    try:
        path = batch_path(batch)
        sheet = sheet_load(path, batch_id=batch.pk) or read_sheet(path, batch.kind)
    except ImportFileError as exc:
        raise ValidationError(exc.message) from exc
    return sheet, errors


def field_label(key: str) -> str:
    field = FIELD_BY_KEY.get(key)
    return field.label if field else key
