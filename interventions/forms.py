"""Forms of the interventions app (phone-first): they validate and normalise; services write.

Choices that depend on the user or the report (the intervention kinds a user may record, the
units, the people on the file) are given by the view, so nothing out of scope is offered (AC-4).
"""

import datetime as dt
import uuid
from typing import Any

from django import forms
from django.db.models import QuerySet
from django.utils import timezone

from geo.models import Unit
from interventions import rules
from interventions.models import (
    ADVANCES,
    JUDGED_CHOICES,
    Concern,
    InterventionKind,
    Outcome,
    PetitionerKind,
    PetitionState,
    Relation,
)
from registry.models import Child, EntrustedGuardian, Parent

DATE = {"type": "date"}
NAMED = "named"


def _date(label: str, *, initial: bool = True) -> forms.DateField:
    return forms.DateField(
        label=label,
        initial=timezone.localdate if initial else None,
        widget=forms.DateInput(attrs=DATE, format="%Y-%m-%d"),
    )


def _not_future(day: dt.date, label: str) -> dt.date:
    if day > timezone.localdate():
        raise forms.ValidationError(f"{label}不能晚于今天。")
    return day


def _note(label: str, max_length: int = 1000, *, required: bool = False) -> forms.CharField:
    return forms.CharField(
        label=label, max_length=max_length, required=required, widget=forms.Textarea(attrs={"rows": 3})
    )


class UnitChoiceField(forms.ModelChoiceField[Unit]):
    def label_from_instance(self, obj: Unit) -> str:
        return obj.name


class GuardianForm(forms.Form):
    """Who the interventions are about: a person on the child's file, or someone named here."""

    person = forms.ChoiceField(label="监护人", widget=forms.RadioSelect)
    name = forms.CharField(label="姓名（其他人员）", max_length=32, required=False)
    relation = forms.ChoiceField(
        label="与儿童关系（其他人员）", choices=[("", "—"), *Relation.choices], required=False
    )

    def __init__(self, *args: Any, child: Child | None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.people: dict[str, Parent | EntrustedGuardian] = {}
        choices: list[tuple[str, str]] = []
        if child is not None:
            for parent in Parent.objects.filter(child=child).order_by("role"):
                if parent.name:
                    self.people[f"parent:{parent.pk}"] = parent
                    choices.append((f"parent:{parent.pk}", f"{parent.get_role_display()} {parent.name}"))
            guardian = EntrustedGuardian.objects.filter(child=child).first()
            if guardian is not None:
                self.people[f"entrusted:{guardian.pk}"] = guardian
                label = f"受委托监护人 {guardian.name}（{guardian.get_relation_display()}）"
                choices.append((f"entrusted:{guardian.pk}", label))
        choices.append((NAMED, "其他人员（档案中没有登记，或儿童未建档）"))
        self.fields["person"].choices = choices  # type: ignore[attr-defined]
        self.fields["person"].initial = choices[0][0]

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if data.get("person") == NAMED:
            if not data.get("name", "").strip():
                self.add_error("name", "请填写监护人姓名。")
            if not data.get("relation"):
                self.add_error("relation", "请选择与儿童的关系。")
        return data

    def person_kwargs(self) -> dict[str, Any]:
        """The service's arguments for the chosen person."""
        person = self.people.get(self.cleaned_data["person"])
        if isinstance(person, Parent):
            return {"parent": person}
        if isinstance(person, EntrustedGuardian):
            return {"entrusted": person}
        return {"name": self.cleaned_data["name"], "relation": self.cleaned_data["relation"]}


class InterventionForm(forms.Form):
    submission_key = forms.UUIDField(widget=forms.HiddenInput, initial=uuid.uuid4)
    kind = forms.ChoiceField(label="干预措施", widget=forms.RadioSelect)
    on = _date("日期")
    unit = UnitChoiceField(label="作出单位", queryset=Unit.objects.none(), empty_label=None)
    concerns = forms.MultipleChoiceField(
        label="涉及情形",
        choices=Concern.choices,
        widget=forms.CheckboxSelectMultiple,
        error_messages={"required": "请至少选择一项涉及情形。"},
    )
    note = _note("情况说明")

    def __init__(self, *args: Any, kinds: list[str], units: QuerySet[Unit], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        labels = dict(InterventionKind.choices)
        self.fields["kind"].choices = [(kind, labels[kind]) for kind in kinds]  # type: ignore[attr-defined]
        self.fields["kind"].initial = kinds[0] if kinds else None
        self.fields["unit"].queryset = units  # type: ignore[attr-defined]

    def clean_on(self) -> dt.date:
        return _not_future(self.cleaned_data["on"], "日期")


class RefusalStartForm(forms.Form):
    started_on = _date("开始日期")
    note = _note("情况说明（如：父母外出后不再联系、不寄生活费）")

    def clean_started_on(self) -> dt.date:
        return _not_future(self.cleaned_data["started_on"], "开始日期")


class RefusalEndForm(forms.Form):
    ended_on = _date("结束日期（最后一天）")

    def clean_ended_on(self) -> dt.date:
        return _not_future(self.cleaned_data["ended_on"], "结束日期")


class VoidForm(forms.Form):
    reason = forms.CharField(
        label="作废原因",
        max_length=80,
        widget=forms.TextInput(attrs={"placeholder": "如：日期录错，应为上周五"}),
        error_messages={"required": "请填写作废原因。", "max_length": "作废原因不能超过 80 个字。"},
    )


class ConcernForm(forms.Form):
    grounds = forms.MultipleChoiceField(
        label="经判断已存在的情形",
        choices=JUDGED_CHOICES,
        widget=forms.CheckboxSelectMultiple,
        required=False,
    )
    basis = _note("判断依据（新增认定的依据，或取消认定的原因）", required=True)


class PetitionForm(forms.Form):
    petitioner_kind = forms.ChoiceField(
        label="申请人类别", choices=PetitionerKind.choices, widget=forms.RadioSelect
    )
    petitioner_name = forms.CharField(label="申请人（姓名或单位名称）", max_length=64)
    grounds = forms.MultipleChoiceField(
        label="申请理由（情形）",
        choices=[(ground.code, f"{ground.text}（{ground.source}）") for ground in rules.GROUNDS],
        widget=forms.CheckboxSelectMultiple,
        error_messages={"required": "请至少选择一项申请理由。"},
    )
    court = forms.CharField(label="受理法院", max_length=64)
    filed_on = _date("申请日期")
    note = _note("说明")

    def clean_filed_on(self) -> dt.date:
        return _not_future(self.cleaned_data["filed_on"], "申请日期")


class PetitionStepForm(forms.Form):
    to = forms.ChoiceField(label="新的进展", widget=forms.RadioSelect)
    on = _date("日期")
    note = forms.CharField(label="说明", max_length=200, required=False)

    def __init__(self, *args: Any, state: str, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        offered = [(to, PetitionState(to).label) for to, since in ADVANCES.items() if state in since]
        self.fields["to"].choices = offered  # type: ignore[attr-defined]

    def clean_on(self) -> dt.date:
        return _not_future(self.cleaned_data["on"], "日期")


class DecisionForm(forms.Form):
    decided_on = _date("判决日期")
    outcome = forms.ChoiceField(
        label="判决结果",
        choices=[(Outcome.REVOKED, Outcome.REVOKED.label), (Outcome.REJECTED, Outcome.REJECTED.label)],
        widget=forms.RadioSelect,
    )
    new_guardian_name = forms.CharField(label="另行指定的监护人姓名", max_length=32, required=False)
    new_guardian_relation = forms.ChoiceField(
        label="与儿童关系", choices=[("", "—"), *Relation.choices], required=False
    )
    new_guardian_institution = forms.CharField(
        label="或指定的机构（如：县儿童福利机构、民政部门）", max_length=64, required=False
    )
    protection_order = forms.BooleanField(label="法院同时签发了人身安全保护令", required=False)
    maintenance_note = _note("抚养费说明（被撤销资格的父母应继续负担抚养费）", max_length=500)

    def clean_decided_on(self) -> dt.date:
        return _not_future(self.cleaned_data["decided_on"], "判决日期")
