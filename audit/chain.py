"""Verifying the hash chain (LG-3) and purging rows past the retention period (LG-4).

Each row's hash is SHA-256 over its canonical fields plus the previous row's hash. The
chain starts at GENESIS, or, once old rows have been purged, at the hash of the last purged
row, which the purge recorded in a checkpoint row (detail.anchor_hash) appended to the chain.
"""

import datetime as dt
from dataclasses import dataclass

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.db import connection, transaction
from django.utils import timezone

from audit.models import GENESIS, Alert, AuditEvent, EventType
from audit.services import CHAIN_LOCK, append

# Network logs are kept for at least six months (网络安全法 第二十一条); 180 days falls short.
MIN_RETENTION_DAYS = 185


@dataclass(frozen=True)
class ChainReport:
    count: int
    head: str = ""
    broken_id: int | None = None
    broken_at: dt.datetime | None = None
    problem: str = ""
    anchor_found: bool | None = None

    @property
    def intact(self) -> bool:
        return self.broken_id is None and self.anchor_found is not False


def verify_chain(*, anchor: str = "", chunk_size: int = 2000) -> ChainReport:
    """Walk every row in id order; stop at the first broken link. `anchor`, a head hash
    recorded elsewhere earlier, must still be in the chain (a rewritten chain loses it)."""
    count, previous, found = 0, "", False
    for row in AuditEvent.objects.order_by("id").iterator(chunk_size=chunk_size):
        if count == 0 and row.prev_hash != GENESIS and not _is_checkpoint_anchor(row.prev_hash):
            return _broken(count, row, "链的起点既不是首条记录，也没有对应的清理检查点（前面的记录被删除）")
        if count and row.prev_hash != previous:
            return _broken(count, row, "与前一条记录的哈希不衔接（有记录被删除、插入或改动）")
        if row.compute_hash() != row.hash:
            return _broken(count, row, "记录内容与其哈希不符（记录被改动）")
        found = found or row.hash == anchor
        previous = row.hash
        count += 1
    return ChainReport(count=count, head=previous, anchor_found=found if anchor else None)


def _broken(count: int, row: AuditEvent, problem: str) -> ChainReport:
    return ChainReport(count=count, broken_id=row.pk, broken_at=row.at, problem=problem)


def _is_checkpoint_anchor(prev_hash: str) -> bool:
    return AuditEvent.objects.filter(action=EventType.CHECKPOINT, detail__anchor_hash=prev_hash).exists()


@dataclass(frozen=True)
class PurgeResult:
    deleted: int
    cutoff: dt.datetime
    checkpoint: AuditEvent | None = None


def retention_days() -> int:
    days: int = settings.SHOUHU_AUDIT_RETENTION_DAYS
    if days < MIN_RETENTION_DAYS:
        raise ImproperlyConfigured(f"SHOUHU_AUDIT_RETENTION_DAYS 不得小于 {MIN_RETENTION_DAYS} 天")
    return days


@transaction.atomic
def audit_purge_expired() -> PurgeResult:
    """Delete the oldest rows, up to the first row that is still inside the retention
    period, and append a checkpoint naming the last deleted row's hash. Rows are removed
    as a prefix of the chain, so every row deleted is older than the cutoff."""
    days = retention_days()
    cutoff = timezone.now() - dt.timedelta(days=days)
    _lock()
    first_kept = AuditEvent.objects.filter(at__gte=cutoff).order_by("id").values_list("pk", flat=True).first()
    doomed = AuditEvent.objects.filter(pk__lt=first_kept) if first_kept else AuditEvent.objects.all()
    last = doomed.order_by("-id").first()
    if last is None:
        return PurgeResult(deleted=0, cutoff=cutoff)
    Alert.objects.filter(event_id__lte=last.pk).delete()  # alerts go with their events
    deleted = _delete_through(last.pk)
    checkpoint = AuditEvent(
        action=EventType.CHECKPOINT,
        object_type="audit",
        detail={
            "anchor_hash": last.hash,
            "anchor_id": last.pk,
            "anchor_at": last.at.isoformat(),
            "deleted": deleted,
            "cutoff": cutoff.isoformat(),
            "retention_days": days,
        },
    )
    append(checkpoint, prev_hash=None if first_kept else last.hash)
    return PurgeResult(deleted=deleted, cutoff=cutoff, checkpoint=checkpoint)


def _lock() -> None:
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [CHAIN_LOCK])


def _delete_through(last_id: int) -> int:
    table = connection.ops.quote_name(AuditEvent._meta.db_table)
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            # The append-only trigger lets this transaction delete rows past 185 days only.
            cursor.execute("SET LOCAL shouhu.audit_purge = 'on'")
        cursor.execute(f"DELETE FROM {table} WHERE id <= %s", [last_id])  # noqa: S608 - table name from _meta
        return int(cursor.rowcount)
