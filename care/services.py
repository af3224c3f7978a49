"""Writes of the care app: the child's care state (colour, reasons, next visit due), visits
and their photos, and the county's policy. Each write runs in one transaction.

The care state columns of registry.Child are derived: they are written with a queryset
update (no history row, no version bump: their causes have history) and only when a value
changed. registry.services calls care_recompute after every write to a file.
"""

import datetime as dt
import hashlib
import json
import uuid
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import UploadedFile
from django.db import IntegrityError, connection, transaction
from django.db.models import Case, Exists, IntegerField, Max, OuterRef, QuerySet, Subquery, Value, When
from django.utils import timezone

from accounts.models import User
from care import rules
from care.models import CarePolicy, Visit, VisitPhoto, column
from core.storage import private_delete, store_guarded
from core.uploads import guard_document
from geo.models import Region
from jobs.models import Job
from jobs.services import job_submit
from registry import choices as rc
from registry.models import Child, EntrustedGuardian, Parent
from registry.services import FileData, StaleVersionError, child_file_update, family_values

RECOMPUTE_COUNTY = "care.recompute_county"
PHOTO_KINDS = ("jpeg", "png")
PHOTO_CONTENT_TYPES = {"jpeg": "image/jpeg", "png": "image/png"}
PHOTO_FOLDER = "visits"
MAX_PHOTOS = 6
_HAZARD, _FOLLOW_UP = 1, 2  # bits of the latest visit's flags

# --- the care state -------------------------------------------------------------------------

_FACT_FIELDS = (
    "id",
    "status",
    "county_id",
    "created_at",
    "care_type",
    "guardianship_rating",
    "schooling",
    "hukou_registered",
    "health",
    "disability_grade",
    "last_visit_on",
    "risk_colour",
    "risk_reasons",
    "next_visit_due",
    "care_computed_at",
    "updated_at",
)


def _with_facts(children: QuerySet[Child]) -> QuerySet[Child, dict[str, Any]]:
    """Each child's own facts plus two per-child lookups, all in one query: whether a parent
    is 失联, and the latest visit's hazard / follow-up flags (index visit_child_latest)."""
    latest = (
        Visit.objects.filter(child=OuterRef("pk"))
        .order_by("-visited_on", "-created_at")
        .annotate(
            flags=Case(When(hazards_found=True, then=Value(_HAZARD)), default=Value(0))
            + Case(When(follow_up_needed=True, then=Value(_FOLLOW_UP)), default=Value(0))
        )
        .values("flags")[:1]
    )
    rows: QuerySet[Child, dict[str, Any]] = children.annotate(
        any_parent_unreachable=Exists(Parent.objects.filter(child=OuterRef("pk"), unreachable=True)),
        visit_flags=Subquery(latest, output_field=IntegerField()),
    ).values(*_FACT_FIELDS, "any_parent_unreachable", "visit_flags")
    return rows


def _facts(row: dict[str, Any]) -> rules.Facts:
    flags = row["visit_flags"] or 0
    return rules.Facts(
        care_type=row["care_type"],
        guardianship_rating=row["guardianship_rating"],
        schooling=row["schooling"],
        hukou_registered=row["hukou_registered"],
        health=row["health"],
        disability_grade=row["disability_grade"],
        parent_unreachable=bool(row["any_parent_unreachable"]),
        visit_hazard=bool(flags & _HAZARD),
        visit_follow_up=bool(flags & _FOLLOW_UP),
        active=row["status"] == rc.Status.ACTIVE,
    )


@dataclass(frozen=True)
class _State:
    risk_colour: str
    risk_reasons: list[str]
    next_visit_due: dt.date | None


def _state(row: dict[str, Any], policy: rules.RulePolicy, on: dt.date) -> _State:
    colour, reasons = rules.risk_colour(_facts(row), policy)
    opened = timezone.localdate(row["created_at"]) if row["created_at"] else on
    due = rules.next_due(row["last_visit_on"], colour, policy, opened_on=opened)
    return _State(colour, reasons, due)


def _changed(row: dict[str, Any], state: _State) -> bool:
    return row["care_computed_at"] is None or (
        row["risk_colour"],
        list(row["risk_reasons"] or []),
        row["next_visit_due"],
    ) != (state.risk_colour, state.risk_reasons, state.next_visit_due)


def _policies(county_ids: Iterable[Any]) -> dict[Any, rules.RulePolicy]:
    """The saved policies of these counties as plain tables; the others use the defaults."""
    return {
        policy.county_id: policy.table()
        for policy in CarePolicy.objects.filter(county_id__in=set(county_ids))
    }


def care_recompute(*, child: Child, on: dt.date | None = None) -> bool:
    """Recompute the child's colour, reasons and next visit due from what is stored now;
    write them (and care_computed_at) only if something changed. Returns whether it did.
    `child` gets the new values too."""
    on = on or timezone.localdate()
    row = _with_facts(Child.objects.filter(pk=child.pk)).get()
    policy = _policies([row["county_id"]]).get(row["county_id"], rules.DEFAULT_POLICY)
    state = _state(row, policy, on)
    if not _changed(row, state):
        return False
    values = {
        "risk_colour": state.risk_colour,
        "risk_reasons": state.risk_reasons,
        "next_visit_due": state.next_visit_due,
        "care_computed_at": timezone.now(),
    }
    Child.objects.filter(pk=child.pk).update(**values)
    for name, value in values.items():
        setattr(child, name, value)
    return True


def care_recompute_all(
    *,
    on: dt.date,
    progress: Callable[[int, int], None] | None = None,
    batch_size: int = 2000,
    county: Region | None = None,
) -> dict[str, int]:
    """Recompute every child (of one county, if given) in batches by primary key: one read
    query per batch (facts and lookups together) and one write for the rows that changed.
    Each batch commits on its own: a re-run after a crash finds the done rows unchanged.
    Returns counts: total, changed (rows written), and per colour ("none": exited files)."""
    base = Child.objects.all() if county is None else Child.objects.filter(county=county)
    total = base.count()
    counts: Counter[str] = Counter({"total": 0, "changed": 0})
    policies = _policies(CarePolicy.objects.values_list("county_id", flat=True))
    now = timezone.now()
    last: Any = None
    while True:
        batch = base if last is None else base.filter(pk__gt=last)
        rows = list(_with_facts(batch.order_by("pk"))[:batch_size])
        if not rows:
            break
        changes: list[tuple[dict[str, Any], _State]] = []
        for row in rows:
            state = _state(row, policies.get(row["county_id"], rules.DEFAULT_POLICY), on)
            counts[state.risk_colour or "none"] += 1
            if _changed(row, state):
                changes.append((row, state))
        counts["changed"] += _write_states(changes, now)
        counts["total"] += len(rows)
        last = rows[-1]["id"]
        if progress is not None:
            progress(counts["total"], max(total, counts["total"]))
    for colour in (*rules.COLOURS, "none"):
        counts.setdefault(colour, 0)
    return dict(counts)


def care_recompute_many(*, child_ids: Sequence[Any], on: dt.date) -> int:
    """Recompute the care state of a set of files (an import's), in chunks of 2,000: one read
    and at most one write per chunk. Returns the number of rows written."""
    ids = list(child_ids)
    written = 0
    for start in range(0, len(ids), 2000):
        rows = list(_with_facts(Child.objects.filter(pk__in=ids[start : start + 2000])))
        policies = _policies({row["county_id"] for row in rows})
        changes = []
        for row in rows:
            state = _state(row, policies.get(row["county_id"], rules.DEFAULT_POLICY), on)
            if _changed(row, state):
                changes.append((row, state))
        written += _write_states(changes, timezone.now())
    return written


def _write_states(changes: list[tuple[dict[str, Any], _State]], now: dt.datetime) -> int:
    """Write the new states; returns the number of rows written. A row is written only if
    nobody touched it since the batch read it: every registry write changes updated_at, a
    visit last_visit_on, every care write care_computed_at. A row that moved was recomputed
    by the service that moved it, so skipping it loses nothing (and no lock is taken)."""
    if not changes:
        return 0
    if connection.vendor == "postgresql":
        return _write_states_postgres(changes, now)
    written = 0
    with transaction.atomic():
        for row, state in changes:
            written += Child.objects.filter(
                pk=row["id"],
                updated_at=row["updated_at"],
                care_computed_at=row["care_computed_at"],
                last_visit_on=row["last_visit_on"],
            ).update(
                risk_colour=state.risk_colour,
                risk_reasons=state.risk_reasons,
                next_visit_due=state.next_visit_due,
                care_computed_at=now,
            )
    return written


def _write_states_postgres(changes: list[tuple[dict[str, Any], _State]], now: dt.datetime) -> int:
    """One UPDATE … FROM (VALUES …) per batch: bulk_update's CASE per row grows with the
    square of the batch on PostgreSQL; a join on the primary key does not."""
    meta = Child._meta
    col = {
        name: column(Child, name)
        for name in (
            "risk_colour",
            "risk_reasons",
            "next_visit_due",
            "care_computed_at",
            "updated_at",
            "last_visit_on",
        )
    }
    rows_sql = ", ".join(
        ["(%s::uuid, %s, %s::jsonb, %s::date, %s::timestamptz, %s::timestamptz, %s::date)"] * len(changes)
    )
    params: list[Any] = [now]
    for row, state in changes:
        params += [
            str(row["id"]),
            state.risk_colour,
            json.dumps(state.risk_reasons),
            state.next_visit_due,
            row["updated_at"],
            row["care_computed_at"],
            row["last_visit_on"],
        ]
    # Table and column names come from the model; every value is a parameter.
    sql = (
        f'UPDATE "{meta.db_table}" AS c SET "{col["risk_colour"]}" = v.colour, '  # noqa: S608
        f'"{col["risk_reasons"]}" = v.reasons, "{col["next_visit_due"]}" = v.due, '
        f'"{col["care_computed_at"]}" = %s '
        f"FROM (VALUES {rows_sql}) AS v(id, colour, reasons, due, updated_at, computed_at, last_visit) "
        f'WHERE c."{meta.pk.column}" = v.id AND c."{col["updated_at"]}" = v.updated_at '
        f'AND c."{col["care_computed_at"]}" IS NOT DISTINCT FROM v.computed_at '
        f'AND c."{col["last_visit_on"]}" IS NOT DISTINCT FROM v.last_visit'
    )
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(sql, params)
        return int(cursor.rowcount)


# --- the county policy ------------------------------------------------------------------------


@transaction.atomic
def care_policy_save(*, user: User, county: Region, values: dict[str, Any]) -> tuple[CarePolicy, Job]:
    """Save the county's policy (with history) and submit the job that recomputes every
    child of the county with it (after commit; its progress page is care:job)."""
    policy = CarePolicy.objects.select_for_update().filter(county=county).first() or CarePolicy(county=county)
    for name, value in values.items():
        setattr(policy, name, value)
    policy.updated_by = user
    policy._history_user = user  # type: ignore[attr-defined]
    policy.full_clean()
    policy.save()
    job = job_submit(
        kind=RECOMPUTE_COUNTY,
        payload={"county": str(county.pk)},
        idempotency_key=f"{RECOMPUTE_COUNTY}:{county.pk}:{uuid.uuid4().hex}",
        user=user,
    )
    return policy, job


# --- visits ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class StoredPhoto:
    """A photo that passed the guard and sits in the private storage, not yet linked."""

    file_name: str
    content_type: str
    size: int
    sha256: str


def visit_photos_store(*, files: Sequence[UploadedFile[bytes]]) -> list[StoredPhoto]:
    """Guard each upload (content must be JPEG or PNG, whatever its name says) and copy it
    into the private storage under a generated name. Raises UploadRejected (nothing kept)."""
    if len(files) > MAX_PHOTOS:
        raise ValidationError({"photos": f"每次走访最多上传 {MAX_PHOTOS} 张照片。"})
    stored: list[StoredPhoto] = []
    try:
        for upload in files:
            stored.append(_store_photo(upload))
    except BaseException:
        visit_photos_discard(stored)
        raise
    return stored


def _store_photo(upload: UploadedFile[bytes]) -> StoredPhoto:
    guarded = guard_document(upload, kinds=PHOTO_KINDS)
    try:
        digest = hashlib.sha256()
        with guarded.path.open("rb") as source:
            for chunk in iter(lambda: source.read(64 * 1024), b""):
                digest.update(chunk)
    except BaseException:
        guarded.delete()
        raise
    name = store_guarded(guarded, folder=PHOTO_FOLDER)  # deletes the guard's copy
    return StoredPhoto(name, PHOTO_CONTENT_TYPES[guarded.kind], guarded.size, digest.hexdigest())


def visit_photos_discard(photos: Iterable[StoredPhoto]) -> None:
    """Remove stored photos whose visit was not written (a refusal or a rollback)."""
    for photo in photos:
        private_delete(photo.file_name)


def _check_visit_date(child: Child, visited_on: dt.date) -> None:
    if visited_on > timezone.localdate():
        raise ValidationError({"visited_on": "走访日期不能晚于今天。"})
    if visited_on < child.birth_date:
        raise ValidationError({"visited_on": "走访日期不能早于儿童的出生日期。"})


def _file_changes(child: Child, values: dict[str, Any]) -> dict[str, str]:
    """What the visit changes in the file: a new rating or care arrangement that differs
    from the stored one (the same value is no change)."""
    changes: dict[str, str] = {}
    if values.get("new_rating") and values["new_rating"] != child.guardianship_rating:
        changes["guardianship_rating"] = values["new_rating"]
    if values.get("new_care_type") and values["new_care_type"] != child.care_type:
        changes["care_type"] = values["new_care_type"]
    return changes


def _update_file(*, user: User, child: Child, expected_version: int, changes: dict[str, str]) -> Child:
    """The rating / care arrangement change goes through the registry's own edit service:
    version-checked, with a history row, the file's derived columns and the care hook."""
    if child.version != expected_version:
        raise StaleVersionError(child, expected_version)
    father, mother = family_values(child)
    keep_guardian = EntrustedGuardian.objects.filter(child=child).exists()
    data = FileData(child=changes, father=father, mother=mother, guardian={} if keep_guardian else None)
    return child_file_update(user=user, child=child, expected_version=expected_version, data=data)


@transaction.atomic
def visit_record(
    *,
    user: User,
    child: Child,
    values: dict[str, Any],
    submission_key: uuid.UUID,
    expected_version: int,
    photos: Sequence[StoredPhoto] = (),
) -> tuple[Visit, bool]:
    """Record a visit and bring the file up to date: last visit date, any rating or care
    arrangement change (refused with StaleVersionError when the file moved on since
    `expected_version`), colour and due date. Returns (visit, created): a submission key
    already used gives its visit back and writes nothing (a double tap, a retry)."""
    locked = Child.objects.select_for_update().get(pk=child.pk)  # one visit write per file at a time
    existing = Visit.objects.filter(submission_key=submission_key).first()
    if existing is not None:
        return existing, False
    if locked.status != rc.Status.ACTIVE:
        raise ValidationError("该档案已退出台账，不能记录走访。")
    _check_visit_date(locked, values["visited_on"])
    changes = _file_changes(locked, values)
    visit = Visit(child=locked, visitor=user, submission_key=submission_key, **values)
    visit.new_rating = changes.get("guardianship_rating", "")
    visit.new_care_type = changes.get("care_type", "")
    visit._history_user = user  # type: ignore[attr-defined]
    visit.full_clean()
    try:
        with transaction.atomic():
            visit.save(force_insert=True)
    except IntegrityError:
        return Visit.objects.get(submission_key=submission_key), False
    for photo in photos:
        VisitPhoto.objects.create(
            visit=visit,
            file_name=photo.file_name,
            content_type=photo.content_type,
            size=photo.size,
            sha256=photo.sha256,
        )
    last = Visit.objects.filter(child=locked).aggregate(last=Max("visited_on"))["last"]
    Child.objects.filter(pk=locked.pk).update(last_visit_on=last)
    locked.last_visit_on = last
    if changes:
        locked = _update_file(user=user, child=locked, expected_version=expected_version, changes=changes)
    care_recompute(child=locked)
    return visit, True
