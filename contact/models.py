"""Parents' notices (告知, R7) and parent–child contacts (亲情联系, R8, R11).

Recording a notice updates the parent on the file through registry.services.parent_update
(history kept, the file's version bumped). Contacts keep Child.last_parent_contact_on
current; "my work" warns when it is too old (contact.selectors.contact_overdue). Warnings
only: nothing here blocks any other work.
"""

import uuid

from django.db import models
from simple_history.models import HistoricalRecords

from accounts.models import User
from core.fields import EncryptedCharField
from geo.models import Region
from registry.models import Child, Parent


class NoticeChannel(models.TextChoices):
    WRITTEN = "written", "书面"
    PHONE = "phone", "电话"
    WECHAT = "wechat", "微信"
    IN_PERSON = "in_person", "当面"


class ParentNotice(models.Model):
    """A parent told the village (and the school) of a new work place or phone number."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    child = models.ForeignKey(
        Child, on_delete=models.PROTECT, related_name="parent_notices", verbose_name="儿童"
    )
    parent = models.ForeignKey(Parent, on_delete=models.PROTECT, related_name="notices", verbose_name="家长")
    notified_on = models.DateField("告知日期")
    channel = models.CharField("告知方式", max_length=16, choices=NoticeChannel.choices)
    told_village = models.BooleanField("已告知村（居）民委员会", default=True)
    told_school = models.BooleanField("已告知学校", default=False)
    work_province = models.ForeignKey(
        Region, on_delete=models.PROTECT, null=True, blank=True, related_name="+", verbose_name="新务工省份"
    )
    work_city = models.ForeignKey(
        Region, on_delete=models.PROTECT, null=True, blank=True, related_name="+", verbose_name="新务工城市"
    )
    work_detail = EncryptedCharField("新务工单位或详细地点", max_length=128, blank=True)
    new_phone = EncryptedCharField("新联系电话", max_length=20, blank=True)
    new_phone_index = models.CharField(max_length=64, null=True, blank=True, editable=False)
    note = EncryptedCharField("备注", max_length=200, blank=True)
    recorded_at = models.DateTimeField("录入时间", auto_now_add=True)
    recorded_by = models.ForeignKey(
        User, on_delete=models.PROTECT, null=True, blank=True, related_name="+", verbose_name="录入人"
    )

    # A wrong entry is voided (作废) with a reason, never deleted: it stays in the list, struck out.
    voided_at = models.DateTimeField("作废时间", null=True, blank=True, editable=False)
    voided_by = models.ForeignKey(
        User, on_delete=models.PROTECT, null=True, blank=True, related_name="+", verbose_name="作废人"
    )
    void_reason = models.CharField("作废原因", max_length=80, blank=True)

    history = HistoricalRecords(excluded_fields=["new_phone_index"])

    class Meta:
        verbose_name = "父母告知"
        verbose_name_plural = verbose_name
        ordering = ["-notified_on", "-recorded_at"]
        indexes = [
            models.Index(fields=["child", "notified_on"], name="notice_child_date"),
            models.Index(fields=["new_phone_index"], name="notice_phone_index"),
        ]

    def __str__(self) -> str:
        return f"{self.parent.get_role_display()}告知 {self.notified_on:%Y-%m-%d}"


class ContactKind(models.TextChoices):
    PHONE = "phone", "电话"
    VIDEO = "video", "视频"
    MEETING = "meeting", "见面"


class ContactWith(models.TextChoices):
    FATHER = "father", "父亲"
    MOTHER = "mother", "母亲"
    BOTH = "both", "父母双方"


class ParentContact(models.Model):
    """A call, video call or meeting between the child and the parents (亲情联系)."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    child = models.ForeignKey(
        Child, on_delete=models.PROTECT, related_name="parent_contacts", verbose_name="儿童"
    )
    contacted_on = models.DateField("联系日期")
    kind = models.CharField("联系方式", max_length=16, choices=ContactKind.choices)
    with_whom = models.CharField("与谁联系", max_length=16, choices=ContactWith.choices)
    # Set when the village arranged the call (R11: help children call their parents).
    arranged_by = models.ForeignKey(
        User, on_delete=models.PROTECT, null=True, blank=True, related_name="+", verbose_name="安排人"
    )
    duration_minutes = models.PositiveSmallIntegerField("通话时长（分钟）", null=True, blank=True)
    note = EncryptedCharField("备注", max_length=200, blank=True)
    # From a hidden field of the form: a double tap or a retry sends the same key (one record).
    submission_key = models.UUIDField("提交标识", unique=True, editable=False)
    recorded_at = models.DateTimeField("录入时间", auto_now_add=True)
    recorded_by = models.ForeignKey(
        User, on_delete=models.PROTECT, null=True, blank=True, related_name="+", verbose_name="录入人"
    )

    # A wrong entry is voided (作废) with a reason, never deleted: it stays in the list, struck out.
    voided_at = models.DateTimeField("作废时间", null=True, blank=True, editable=False)
    voided_by = models.ForeignKey(
        User, on_delete=models.PROTECT, null=True, blank=True, related_name="+", verbose_name="作废人"
    )
    void_reason = models.CharField("作废原因", max_length=80, blank=True)

    history = HistoricalRecords()

    class Meta:
        verbose_name = "亲情联系"
        verbose_name_plural = verbose_name
        ordering = ["-contacted_on", "-recorded_at"]
        indexes = [models.Index(fields=["child", "contacted_on"], name="contact_child_date")]

    def __str__(self) -> str:
        return f"{self.get_kind_display()}（{self.get_with_whom_display()}）{self.contacted_on:%Y-%m-%d}"
