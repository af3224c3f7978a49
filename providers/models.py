"""The register of care providers (R16) and the contracts of services the government buys."""

import uuid

from django.db import models
from simple_history.models import HistoricalRecords

from accounts.models import User
from core.fields import EncryptedCharField
from geo.models import Region, Unit
from providers.choices import ServiceKind


class Provider(models.Model):
    """A provider in the register. Each is a unit (geo.Unit), so that its staff get role
    grants (Role.PROVIDER_STAFF) like anyone else's; the unit gives the name, kind and region."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    unit = models.OneToOneField(Unit, on_delete=models.PROTECT, related_name="provider", verbose_name="单位")
    services = models.JSONField("提供的服务", default=list, blank=True)  # ServiceKind values
    contact_name = models.CharField("联系人", max_length=64, blank=True)
    contact_phone = EncryptedCharField("联系电话", max_length=20, blank=True)
    address = models.CharField("地址", max_length=200, blank=True)
    description = models.TextField("简介", blank=True)
    active = models.BooleanField("有效", default=True)
    version = models.PositiveIntegerField(default=1)
    created_at = models.DateTimeField(auto_now_add=True)
    created_by = models.ForeignKey(User, on_delete=models.PROTECT, null=True, related_name="+")

    history = HistoricalRecords()

    class Meta:
        verbose_name = "服务机构"
        verbose_name_plural = verbose_name

    def __str__(self) -> str:
        return self.unit.name


class Contract(models.Model):
    """A contract of government-purchased services (政府购买服务): who buys what from whom,
    for which townships, in which period, for how much."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    provider = models.ForeignKey(
        Provider, on_delete=models.PROTECT, related_name="contracts", verbose_name="承接机构"
    )
    purchaser = models.ForeignKey(Unit, on_delete=models.PROTECT, related_name="+", verbose_name="购买单位")
    county = models.ForeignKey(Region, on_delete=models.PROTECT, related_name="+", verbose_name="县")
    title = models.CharField("项目名称", max_length=128)
    number = models.CharField("合同编号", max_length=64, blank=True)
    starts_on = models.DateField("服务开始日期")
    ends_on = models.DateField("服务结束日期")
    amount = models.DecimalField("合同金额（元）", max_digits=12, decimal_places=2)
    townships = models.ManyToManyField(Region, related_name="+", verbose_name="覆盖乡镇")
    note = models.TextField("备注", blank=True)
    version = models.PositiveIntegerField(default=1)
    created_at = models.DateTimeField(auto_now_add=True)
    created_by = models.ForeignKey(User, on_delete=models.PROTECT, null=True, related_name="+")

    history = HistoricalRecords(m2m_fields=[townships])

    class Meta:
        verbose_name = "政府购买服务合同"
        verbose_name_plural = verbose_name
        ordering = ["-starts_on"]

    def __str__(self) -> str:
        return self.title


class ContractItem(models.Model):
    """One service of a contract with its plan: sessions to hold and children to reach.
    Delivery is counted from the activities the provider records (stats and this app)."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    contract = models.ForeignKey(Contract, on_delete=models.CASCADE, related_name="items")
    kind = models.CharField("服务项目", max_length=32, choices=ServiceKind.choices)
    planned_sessions = models.PositiveIntegerField("计划场次", default=0)
    planned_children = models.PositiveIntegerField("计划服务儿童数", default=0)

    history = HistoricalRecords()

    class Meta:
        verbose_name = "合同服务项目"
        verbose_name_plural = verbose_name
        constraints = [models.UniqueConstraint(fields=["contract", "kind"], name="contract_item_kind_unique")]

    def __str__(self) -> str:
        return self.get_kind_display()
