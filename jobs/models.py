"""Background jobs with a lease, bounded retries and an exactly-once success mark (RE-3, RE-4).

A Job is the durable record of a unit of background work; the django-tasks row that runs it
(django_tasks_db.DBTaskResult) is only a wake-up call and may be lost, duplicated or left
RUNNING by a dead worker without harm. See jobs.services for the state machine and
docs/operations.md for the handler contract.
"""

import uuid

from django.db import models
from django.db.models import F, Q

from accounts.models import User


class JobState(models.TextChoices):
    QUEUED = "queued", "排队中"
    RUNNING = "running", "运行中"
    SUCCEEDED = "succeeded", "已完成"
    FAILED = "failed", "失败"


class Job(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    kind = models.CharField("任务类型", max_length=64)
    idempotency_key = models.CharField("幂等键", max_length=200, unique=True)
    # Identifiers only (file names, object ids): never personal data (DP-5).
    payload = models.JSONField("参数", default=dict, blank=True)
    state = models.CharField("状态", max_length=16, choices=JobState.choices, default=JobState.QUEUED)
    attempts = models.PositiveIntegerField("已尝试次数", default=0)
    max_attempts = models.PositiveIntegerField("最多尝试次数", default=3)
    lease_until = models.DateTimeField("租约到期", null=True, blank=True)
    progress_current = models.PositiveIntegerField("已处理", default=0)
    progress_total = models.PositiveIntegerField("总数", null=True, blank=True)
    result = models.JSONField("结果", null=True, blank=True)
    error = models.TextField("错误", blank=True)
    # The id of the latest django-tasks result that should run this job (see jobs_requeue_stale).
    task_id = models.CharField("队列任务标识", max_length=64, blank=True)
    created_by = models.ForeignKey(
        User, on_delete=models.PROTECT, null=True, blank=True, related_name="+", verbose_name="提交人"
    )
    created_at = models.DateTimeField("提交时间", auto_now_add=True)
    enqueued_at = models.DateTimeField("最近入队时间", null=True, blank=True)
    started_at = models.DateTimeField("最近开始时间", null=True, blank=True)
    finished_at = models.DateTimeField("结束时间", null=True, blank=True)
    updated_at = models.DateTimeField("更新时间", auto_now=True)

    class Meta:
        verbose_name = "后台任务"
        verbose_name_plural = verbose_name
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["state", "lease_until"], name="job_state_lease")]
        constraints = [
            models.CheckConstraint(condition=Q(max_attempts__gte=1), name="job_max_attempts_positive"),
            models.CheckConstraint(condition=Q(attempts__lte=F("max_attempts")), name="job_attempts_bounded"),
            models.CheckConstraint(
                condition=~Q(state=JobState.RUNNING) | Q(lease_until__isnull=False),
                name="job_running_has_lease",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.kind} {self.id} ({self.get_state_display()})"

    @property
    def done(self) -> bool:
        return self.state in (JobState.SUCCEEDED, JobState.FAILED)


class DrillEffect(models.Model):
    """The effect of the `jobs.drill` handler: one row per successful run of a drill job.

    Deliberately without a unique constraint on the job: the kill drill
    (bench/job_kill_drill.py) counts duplicate rows, which a constraint would turn into
    errors and make "0 duplicates" true by construction.
    """

    job = models.ForeignKey(Job, on_delete=models.CASCADE, related_name="+", verbose_name="任务")
    attempt = models.PositiveIntegerField("第几次尝试")
    created_at = models.DateTimeField("写入时间", auto_now_add=True)

    class Meta:
        verbose_name = "演练写入"
        verbose_name_plural = verbose_name

    def __str__(self) -> str:
        return f"drill {self.job_id} #{self.attempt}"


class JobProgress(models.Model):
    """The progress of a transactional job while it runs (see jobs.progress).

    Written on a second database connection in autocommit, so the page that polls sees it
    while the job's own transaction is still open. `job_id` is deliberately not a foreign key:
    checking it would wait for the row lock the running attempt holds on its Job.
    """

    job_id = models.UUIDField(primary_key=True)
    current = models.PositiveIntegerField("已处理", default=0)
    total = models.PositiveIntegerField("总数", null=True, blank=True)
    updated_at = models.DateTimeField("更新时间")

    class Meta:
        verbose_name = "后台任务进度"
        verbose_name_plural = verbose_name

    def __str__(self) -> str:
        return f"{self.job_id}: {self.current}/{self.total}"
