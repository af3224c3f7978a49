"""Ledger imports (台账导入, issue 6): a batch per uploaded file, its per-row preview, and the
column mapping each unit chose last time.

Nothing here holds a child's personal data in clear: row summaries and differences are
masked when written (imports.services), and the uploaded file itself sits in the private
upload directory (core.uploads) under a generated name until the batch is committed,
cancelled or purged after 24 hours.
"""

import json
import uuid

from django.db import models
from django.db.models import Q

from accounts.models import User
from core.fields import EncryptedTextField
from geo.models import Unit
from jobs.models import Job
from registry.models import Child


class BatchState(models.TextChoices):
    MAPPING = "mapping", "待确认列"
    PREVIEWING = "previewing", "正在预览"
    PREVIEWED = "previewed", "已预览"
    COMMITTING = "committing", "正在导入"
    COMMITTED = "committed", "已导入"
    CANCELLED = "cancelled", "已取消"
    EXPIRED = "expired", "已过期"


# States in which the uploaded file is still needed (the purge must not take it).
OPEN_STATES = (BatchState.MAPPING, BatchState.PREVIEWING, BatchState.PREVIEWED, BatchState.COMMITTING)


class Outcome(models.TextChoices):
    NEW = "new", "新建"
    UPDATE = "update", "更新"
    UNCHANGED = "unchanged", "无变化"
    ERROR = "error", "错误"


class Batch(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    created_by = models.ForeignKey(User, on_delete=models.PROTECT, related_name="+", verbose_name="导入人")
    unit = models.ForeignKey(Unit, on_delete=models.PROTECT, related_name="+", verbose_name="单位")
    # The name the user gave, for the list only; never used on the file system or in logs.
    file_name = models.CharField("文件名", max_length=120)
    kind = models.CharField("文件类型", max_length=8)
    # Generated name in SHOUHU_UPLOAD_DIR; blank once the file is deleted.
    stored_name = models.CharField("存储文件名", max_length=64, blank=True)
    size = models.PositiveIntegerField("文件大小", default=0)
    sheet_name = models.CharField("工作表", max_length=64, blank=True)
    header_row = models.PositiveIntegerField("表头行", default=1)
    headers = models.JSONField("列名", default=list)
    # Column index (as text) → field key (imports.columns.FIELDS); unmapped columns absent.
    mapping = models.JSONField("列对应", default=dict)
    state = models.CharField("状态", max_length=16, choices=BatchState.choices, default=BatchState.MAPPING)
    # Each preview is a round; the commit of a round is one job (a second POST gets it back).
    round = models.PositiveIntegerField("预览轮次", default=0)
    preview_job = models.ForeignKey(
        Job, on_delete=models.SET_NULL, null=True, blank=True, related_name="+", verbose_name="预览任务"
    )
    commit_job = models.ForeignKey(
        Job, on_delete=models.SET_NULL, null=True, blank=True, related_name="+", verbose_name="导入任务"
    )
    total_rows = models.PositiveIntegerField("数据行数", default=0)
    new_count = models.PositiveIntegerField("新建", default=0)
    update_count = models.PositiveIntegerField("更新", default=0)
    unchanged_count = models.PositiveIntegerField("无变化", default=0)
    error_count = models.PositiveIntegerField("错误", default=0)
    created_at = models.DateTimeField("上传时间", auto_now_add=True)
    previewed_at = models.DateTimeField("预览时间", null=True, blank=True)
    committed_at = models.DateTimeField("导入时间", null=True, blank=True)

    class Meta:
        verbose_name = "导入批次"
        verbose_name_plural = verbose_name
        ordering = ["-created_at"]
        indexes = [
            models.Index(fields=["created_by", "-created_at"], name="import_batch_owner"),
            models.Index(fields=["state", "created_at"], name="import_batch_state"),
        ]

    def __str__(self) -> str:
        return f"导入批次 {self.id}（{self.get_state_display()}）"

    @property
    def is_open(self) -> bool:
        return self.state in OPEN_STATES

    @property
    def can_commit(self) -> bool:
        return self.state == BatchState.PREVIEWED and self.error_count == 0 and self.total_rows > 0

    @property
    def can_remap(self) -> bool:
        """The mapping may be changed and the file previewed again."""
        return (
            self.state in (BatchState.MAPPING, BatchState.PREVIEWED)
            or (self.state == BatchState.PREVIEWING and _failed(self.preview_job))
            or (self.state == BatchState.COMMITTING and self.commit_failed)
        )

    @property
    def can_cancel(self) -> bool:
        return self.state in (BatchState.MAPPING, BatchState.PREVIEWING, BatchState.PREVIEWED) or (
            self.state == BatchState.COMMITTING and self.commit_failed
        )

    @property
    def commit_failed(self) -> bool:
        return _failed(self.commit_job)


def _failed(job: Job | None) -> bool:
    return job is not None and job.state == "failed"


class ImportRow(models.Model):
    """What the preview found for one data row of the file (values masked)."""

    id = models.BigAutoField(primary_key=True)
    batch = models.ForeignKey(Batch, on_delete=models.CASCADE, related_name="rows")
    number = models.PositiveIntegerField("行号")
    outcome = models.CharField("结果", max_length=16, choices=Outcome.choices)
    child = models.ForeignKey(Child, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    child_version = models.PositiveIntegerField("预览时的档案版本", null=True, blank=True)
    # JSON [[字段, 原值, 新值], …], ID and phone numbers and addresses masked; encrypted all
    # the same, since the other values (health, disability…) are sensitive too.
    diff = EncryptedTextField("变化", blank=True)
    # [{"column": 列名, "reason": 原因, "value": 值（已脱敏）}, …]
    errors = models.JSONField("错误", default=list, blank=True)
    # The name masked to its first character, and the masked ID number.
    summary = models.CharField("摘要", max_length=64, blank=True)

    class Meta:
        verbose_name = "导入行"
        verbose_name_plural = verbose_name
        constraints = [models.UniqueConstraint(fields=["batch", "number"], name="import_row_unique")]
        indexes = [models.Index(fields=["batch", "outcome", "number"], name="import_row_outcome")]

    def __str__(self) -> str:
        return f"第 {self.number} 行（{self.get_outcome_display()}）"

    @property
    def changes(self) -> list[list[str]]:
        loaded: list[list[str]] = json.loads(self.diff) if self.diff else []
        return loaded


class ColumnMapping(models.Model):
    """A unit's choice for one header (by imports.columns.header_key): field key, or "" for
    a column not to import. The mapping screen proposes it on the unit's next upload."""

    id = models.BigAutoField(primary_key=True)
    unit = models.ForeignKey(Unit, on_delete=models.CASCADE, related_name="+")
    header_key = models.CharField("列名", max_length=100)
    field_key = models.CharField("字段", max_length=40, blank=True)
    updated_at = models.DateTimeField("更新时间", auto_now=True)

    class Meta:
        verbose_name = "列对应"
        verbose_name_plural = verbose_name
        constraints = [
            models.UniqueConstraint(fields=["unit", "header_key"], name="column_mapping_unique"),
            models.CheckConstraint(condition=~Q(header_key=""), name="column_mapping_has_header"),
        ]

    def __str__(self) -> str:
        return f"{self.header_key} → {self.field_key or '不导入'}"
