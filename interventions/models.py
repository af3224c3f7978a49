"""监护干预 (guardianship intervention, R21; issue 5 item 5).

Everything belongs to a report's chain (reports.Report). The guardian concerned is a Guardian
row on the report: a parent or the entrusted guardian on the child's file, or a person named in
free text when the child is not on file (or the person is not on the file). Its name and
relation are copied when it is added, so the records stay readable when the file changes (the
entrusted guardian may be replaced: the link is then cleared, the copy stays).

Per guardian: interventions (批评教育, 训诫, 告诫书, 治安管理处罚, 刑事立案), periods of refused duty,
the grounds a worker judges met (GuardianConcern), and petitions to revoke guardianship
(Petition, with every step in PetitionStep). interventions.rules says which grounds are met;
the page shows a prompt. Nothing changes by itself.

Confidential like the report (SECURITY.md AC-5): read only through interventions/access.py.
"""

import uuid

from django.db import models
from django.db.models import Q
from simple_history.models import HistoricalRecords

from accounts.models import User
from core.fields import EncryptedCharField, EncryptedTextField
from geo.models import Unit
from interventions import rules
from registry import choices as c
from registry.models import EntrustedGuardian, Parent
from reports.models import Report


class Relation(models.TextChoices):
    """The guardian's relation to the child: the parents' roles, then the file's relations."""

    FATHER = "father", "父亲"
    MOTHER = "mother", "母亲"
    GRANDFATHER = "grandfather", "祖父"
    GRANDMOTHER = "grandmother", "祖母"
    MATERNAL_GRANDFATHER = "maternal_grandfather", "外祖父"
    MATERNAL_GRANDMOTHER = "maternal_grandmother", "外祖母"
    SIBLING = "sibling", "兄姐"
    UNCLE_AUNT = "uncle_aunt", "叔伯姑舅姨"
    OTHER_RELATIVE = "other_relative", "其他亲属"
    OTHER = "other", "其他成年人"


assert {*c.ParentRole.values, *c.GuardianRelation.values} == set(Relation.values)


class Guardian(models.Model):
    """A guardian an intervention is about, on one report."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    report = models.ForeignKey(
        Report, on_delete=models.PROTECT, related_name="intervention_guardians", verbose_name="强制报告"
    )
    parent = models.ForeignKey(
        Parent,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name="档案中的父母",
    )
    entrusted = models.ForeignKey(
        EntrustedGuardian,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name="档案中的受委托监护人",
    )
    name = models.CharField("姓名", max_length=32)
    relation = models.CharField("与儿童关系", max_length=32, choices=Relation.choices)
    added_at = models.DateTimeField("添加时间", auto_now_add=True)
    added_by = models.ForeignKey(User, on_delete=models.PROTECT, related_name="+", verbose_name="添加人")

    history = HistoricalRecords()

    class Meta:
        verbose_name = "被干预的监护人"
        verbose_name_plural = verbose_name
        ordering = ["added_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["report", "parent"], condition=Q(parent__isnull=False), name="ivg_parent_once"
            ),
            models.UniqueConstraint(
                fields=["report", "entrusted"],
                condition=Q(entrusted__isnull=False),
                name="ivg_entrusted_once",
            ),
            models.CheckConstraint(
                condition=Q(parent__isnull=True) | Q(entrusted__isnull=True), name="ivg_one_file_person"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.name}（{self.get_relation_display()}）"

    @property
    def on_file(self) -> bool:
        return self.parent_id is not None or self.entrusted_id is not None


class InterventionKind(models.TextChoices):
    CRITICISM = "criticism", "批评教育"
    ADMONITION = "admonition", "训诫"
    WARNING_LETTER = "warning_letter", "告诫书（家庭暴力）"
    PENALTY = "penalty", "治安管理处罚"
    CRIMINAL = "criminal", "刑事立案"


# Measures only the police take (GF13; FDV 16): recorded with a police unit.
POLICE_KINDS = frozenset(
    {
        InterventionKind.ADMONITION,
        InterventionKind.WARNING_LETTER,
        InterventionKind.PENALTY,
        InterventionKind.CRIMINAL,
    }
)
# What counts towards the begging ground (JH2014-35-5: 三次以上批评教育).
EDUCATION_KINDS = frozenset({InterventionKind.CRITICISM, InterventionKind.ADMONITION})


class Concern(models.TextChoices):
    """What the guardian did or failed to do (an intervention's 涉及情形)."""

    BEGGING = "begging", "组织、胁迫、诱骗儿童乞讨"
    UNSUPERVISED = "unsupervised", "放任不管、置于无人监管状态"
    VIOLENCE = "violence", "家庭暴力、虐待"
    ABANDONMENT = "abandonment", "遗弃"
    SEXUAL_ABUSE = "sexual_abuse", "性侵害"
    REFUSED_DUTY = "refused_duty", "拒不履行监护职责"
    DRUGS = "drugs", "吸毒、赌博、酗酒"
    CRIME = "crime", "教唆、利用儿童违法犯罪"
    OTHER = "other", "其他"


class Intervention(models.Model):
    """One measure taken on a guardian: criticism and education, an admonition, a warning
    letter, a public-order penalty or a criminal case."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    report = models.ForeignKey(
        Report, on_delete=models.PROTECT, related_name="interventions", verbose_name="强制报告"
    )
    guardian = models.ForeignKey(
        Guardian, on_delete=models.PROTECT, related_name="interventions", verbose_name="监护人"
    )
    kind = models.CharField("干预措施", max_length=16, choices=InterventionKind.choices)
    on = models.DateField("日期")
    unit = models.ForeignKey(Unit, on_delete=models.PROTECT, related_name="+", verbose_name="作出单位")
    by = models.ForeignKey(User, on_delete=models.PROTECT, related_name="+", verbose_name="记录人")
    concerns = models.JSONField("涉及情形", default=list)
    note = EncryptedTextField("情况说明", max_length=1000, blank=True)
    # From a hidden field of the form: a double tap or a retry sends the same key (one record).
    submission_key = models.UUIDField("提交标识", unique=True, editable=False)
    recorded_at = models.DateTimeField("录入时间", auto_now_add=True)
    # A wrong entry is voided (作废) with a reason, never deleted; it no longer counts.
    voided_at = models.DateTimeField("作废时间", null=True, blank=True, editable=False)
    voided_by = models.ForeignKey(
        User, on_delete=models.PROTECT, null=True, blank=True, related_name="+", verbose_name="作废人"
    )
    void_reason = models.CharField("作废原因", max_length=80, blank=True)

    history = HistoricalRecords()

    class Meta:
        verbose_name = "监护干预措施"
        verbose_name_plural = verbose_name
        ordering = ["on", "recorded_at"]
        indexes = [models.Index(fields=["guardian", "on"], name="intervention_guardian_on")]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.on:%Y-%m-%d}"

    @property
    def concern_labels(self) -> list[str]:
        labels = dict(Concern.choices)
        return [str(labels.get(code, code)) for code in self.concerns]


class DutyRefusal(models.Model):
    """A period in which the guardian refuses the duties of guardianship (拒不履行监护职责):
    from its first day to its last (ended_on; empty while it goes on)."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    report = models.ForeignKey(
        Report, on_delete=models.PROTECT, related_name="duty_refusals", verbose_name="强制报告"
    )
    guardian = models.ForeignKey(
        Guardian, on_delete=models.PROTECT, related_name="refusals", verbose_name="监护人"
    )
    started_on = models.DateField("开始日期")
    ended_on = models.DateField("结束日期", null=True, blank=True)
    note = EncryptedTextField("情况说明", max_length=1000, blank=True)
    recorded_by = models.ForeignKey(User, on_delete=models.PROTECT, related_name="+", verbose_name="记录人")
    recorded_at = models.DateTimeField("录入时间", auto_now_add=True)
    ended_by = models.ForeignKey(
        User, on_delete=models.PROTECT, null=True, blank=True, related_name="+", verbose_name="结束记录人"
    )
    voided_at = models.DateTimeField("作废时间", null=True, blank=True, editable=False)
    voided_by = models.ForeignKey(
        User, on_delete=models.PROTECT, null=True, blank=True, related_name="+", verbose_name="作废人"
    )
    void_reason = models.CharField("作废原因", max_length=80, blank=True)

    history = HistoricalRecords()

    class Meta:
        verbose_name = "拒不履行监护职责"
        verbose_name_plural = verbose_name
        ordering = ["started_on"]
        constraints = [
            models.CheckConstraint(
                condition=Q(ended_on__isnull=True) | Q(ended_on__gte=models.F("started_on")),
                name="refusal_ends_after_start",
            ),
        ]

    def __str__(self) -> str:
        return f"拒不履行监护职责 {self.started_on:%Y-%m-%d} 起"

    @property
    def period(self) -> rules.Period:
        return rules.Period(self.started_on, self.ended_on)


JUDGED_CHOICES = [(ground.code, ground.text) for ground in rules.JUDGED]


class GuardianConcern(models.Model):
    """A ground that is a worker's judgement (rules.JUDGED), ticked on the guardian with the
    basis for it; cleared (never deleted) when the worker no longer judges it met."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    report = models.ForeignKey(
        Report, on_delete=models.PROTECT, related_name="guardian_concerns", verbose_name="强制报告"
    )
    guardian = models.ForeignKey(
        Guardian, on_delete=models.PROTECT, related_name="concerns", verbose_name="监护人"
    )
    ground = models.CharField("情形", max_length=32, choices=JUDGED_CHOICES)
    basis = EncryptedTextField("判断依据", max_length=1000)
    set_at = models.DateTimeField("认定时间", auto_now_add=True)
    set_by = models.ForeignKey(User, on_delete=models.PROTECT, related_name="+", verbose_name="认定人")
    cleared_at = models.DateTimeField("取消时间", null=True, blank=True)
    cleared_by = models.ForeignKey(
        User, on_delete=models.PROTECT, null=True, blank=True, related_name="+", verbose_name="取消人"
    )
    clear_reason = EncryptedTextField("取消原因", max_length=1000, blank=True)

    history = HistoricalRecords()

    class Meta:
        verbose_name = "监护人情形判断"
        verbose_name_plural = verbose_name
        ordering = ["set_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["guardian", "ground"],
                condition=Q(cleared_at__isnull=True),
                name="concern_once_active",
            )
        ]

    def __str__(self) -> str:
        return str(self.get_ground_display())


class PetitionerKind(models.TextChoices):
    """Who may petition (GF13; JH2014 Art. 27)."""

    RELATIVE = "relative", "近亲属"
    VILLAGE_COMMITTEE = "village_committee", "村（居）民委员会"
    CIVIL_AFFAIRS = "civil_affairs", "县民政局"
    RESCUE_AGENCY = "rescue_agency", "未成年人救助保护机构"
    OTHER_GUARDIAN = "other_guardian", "其他监护人"
    PARENT_EMPLOYER = "parent_employer", "父、母所在单位"
    ORGANISATION = "organisation", "共青团、妇联、关工委、学校等团体和单位"


class PetitionState(models.TextChoices):
    FILED = "filed", "已提出申请"
    ACCEPTED = "accepted", "法院已受理"
    HEARD = "heard", "法院已开庭审理"
    DECIDED = "decided", "法院已判决"
    WITHDRAWN = "withdrawn", "已撤回"


OPEN_STATES = (PetitionState.FILED, PetitionState.ACCEPTED, PetitionState.HEARD)
# Steps before the decision, and the states each may follow (the court may hear a petition
# without a separate acceptance being recorded; a petition may be withdrawn until decided).
ADVANCES: dict[str, tuple[str, ...]] = {
    PetitionState.ACCEPTED: (PetitionState.FILED,),
    PetitionState.HEARD: (PetitionState.FILED, PetitionState.ACCEPTED),
    PetitionState.WITHDRAWN: OPEN_STATES,
}


class Outcome(models.TextChoices):
    REVOKED = "revoked", "撤销监护人资格"
    REJECTED = "rejected", "驳回申请"
    WITHDRAWN = "withdrawn", "撤回申请"


class Petition(models.Model):
    """A petition to the court to revoke a guardian's guardianship (撤销监护人资格申请), tracked to
    its end: filed → accepted → heard → decided, or withdrawn at any point before the decision."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    report = models.ForeignKey(
        Report, on_delete=models.PROTECT, related_name="petitions", verbose_name="强制报告"
    )
    guardian = models.ForeignKey(
        Guardian, on_delete=models.PROTECT, related_name="petitions", verbose_name="被申请人"
    )
    petitioner_kind = models.CharField("申请人类别", max_length=24, choices=PetitionerKind.choices)
    petitioner_name = models.CharField("申请人", max_length=64)
    grounds = models.JSONField("申请理由（情形）", default=list)
    court = models.CharField("受理法院", max_length=64)
    filed_on = models.DateField("申请日期")
    state = models.CharField(
        "进展", max_length=16, choices=PetitionState.choices, default=PetitionState.FILED
    )
    accepted_on = models.DateField("受理日期", null=True, blank=True)
    heard_on = models.DateField("开庭日期", null=True, blank=True)
    decided_on = models.DateField("判决或撤回日期", null=True, blank=True)
    outcome = models.CharField("结果", max_length=16, choices=Outcome.choices, blank=True)
    new_guardian_name = models.CharField("另行指定的监护人", max_length=32, blank=True)
    new_guardian_relation = models.CharField(
        "与儿童关系", max_length=32, choices=Relation.choices, blank=True
    )
    new_guardian_institution = models.CharField("或指定的机构", max_length=64, blank=True)
    protection_order = models.BooleanField("法院签发人身安全保护令", default=False)
    maintenance_note = EncryptedTextField("抚养费（继续负担）说明", max_length=500, blank=True)
    note = EncryptedTextField("说明", max_length=1000, blank=True)
    filed_by = models.ForeignKey(User, on_delete=models.PROTECT, related_name="+", verbose_name="登记人")
    recorded_at = models.DateTimeField("录入时间", auto_now_add=True)

    history = HistoricalRecords()

    class Meta:
        verbose_name = "撤销监护人资格申请"
        verbose_name_plural = verbose_name
        ordering = ["filed_on", "recorded_at"]
        constraints = [
            models.CheckConstraint(
                condition=Q(decided_on__isnull=True) | Q(decided_on__gte=models.F("filed_on")),
                name="petition_decided_after_filed",
            ),
            models.CheckConstraint(
                condition=~Q(state=PetitionState.DECIDED)
                | (Q(outcome__in=[Outcome.REVOKED, Outcome.REJECTED]) & Q(decided_on__isnull=False)),
                name="petition_decided_has_outcome",
            ),
            models.CheckConstraint(
                condition=~Q(state=PetitionState.WITHDRAWN)
                | (Q(outcome=Outcome.WITHDRAWN) & Q(decided_on__isnull=False)),
                name="petition_withdrawn_has_date",
            ),
            models.UniqueConstraint(
                fields=["guardian"], condition=Q(state__in=OPEN_STATES), name="petition_one_open_per_guardian"
            ),
        ]

    def __str__(self) -> str:
        return f"撤销监护人资格申请 {self.filed_on:%Y-%m-%d}"

    @property
    def is_open(self) -> bool:
        return self.state in OPEN_STATES

    @property
    def ground_labels(self) -> list[str]:
        return [rules.BY_CODE[code].text if code in rules.BY_CODE else code for code in self.grounds]

    @property
    def new_guardian_label(self) -> str:
        if self.new_guardian_institution:
            return self.new_guardian_institution
        if self.new_guardian_name:
            return f"{self.new_guardian_name}（{self.get_new_guardian_relation_display()}）"
        return ""


class PetitionStep(models.Model):
    """One step of a petition, with its date and who recorded it (the petition's timeline)."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    petition = models.ForeignKey(Petition, on_delete=models.PROTECT, related_name="steps")
    state = models.CharField("进展", max_length=16, choices=PetitionState.choices)
    on = models.DateField("日期")
    by = models.ForeignKey(User, on_delete=models.PROTECT, related_name="+", verbose_name="记录人")
    recorded_at = models.DateTimeField("录入时间", auto_now_add=True)
    note = EncryptedCharField("说明", max_length=200, blank=True)

    class Meta:
        verbose_name = "申请进展"
        verbose_name_plural = verbose_name
        ordering = ["on", "recorded_at"]

    def __str__(self) -> str:
        return f"{self.get_state_display()} {self.on:%Y-%m-%d}"
