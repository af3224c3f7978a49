"""Forms of supervised tasks: they validate and normalise; services write."""

import datetime as dt
import uuid
from typing import Any

from django import forms
from django.utils import timezone

from geo.models import Region, Unit, UnitKind
from tasks.access import units_of_county
from tasks.models import TaskTemplate

DATE = {"type": "date"}


class UnitChoiceField(forms.ModelChoiceField[Unit]):
    def label_from_instance(self, obj: Unit) -> str:
        return obj.name


class UnitsChoiceField(forms.ModelMultipleChoiceField[Unit]):
    def label_from_instance(self, obj: Unit) -> str:
        return obj.name


class TaskForm(forms.Form):
    """A new task (with `each_township`) or an edit (with the version it was loaded at). The
    unit lists hold the county's active units only (AC-4)."""

    version = forms.IntegerField(widget=forms.HiddenInput, required=False)
    title = forms.CharField(label="任务名称", max_length=100)
    plan_section = forms.CharField(label="方案条目", max_length=40, required=False)
    description = forms.CharField(
        label="任务要求", max_length=4000, required=False, widget=forms.Textarea(attrs={"rows": 5})
    )
    lead_unit = UnitChoiceField(label="牵头单位", queryset=Unit.objects.none(), required=False)
    each_township = forms.BooleanField(
        label="各乡镇人民政府分别牵头（为每个乡镇各建立一项任务）",
        required=False,
        help_text="方案写明“牵头单位：各乡镇人民政府”时勾选；勾选后不必选择牵头单位。",
    )
    participants = UnitsChoiceField(
        label="参加单位",
        queryset=Unit.objects.none(),
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )
    deadline = forms.DateField(label="完成时限", widget=forms.DateInput(attrs=DATE, format="%Y-%m-%d"))

    def __init__(self, *args: Any, county: Region, creating: bool, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        units = units_of_county(county)
        self.fields["lead_unit"].queryset = units  # type: ignore[attr-defined]
        self.fields["participants"].queryset = units  # type: ignore[attr-defined]
        self.creating = creating
        if not creating:
            del self.fields["each_township"]

    def clean_title(self) -> str:
        return " ".join(self.cleaned_data["title"].split())

    def clean_deadline(self) -> dt.date:
        deadline: dt.date = self.cleaned_data["deadline"]
        if self.creating and deadline < timezone.localdate():
            raise forms.ValidationError("完成时限不能早于今天。")
        return deadline

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if not data.get("lead_unit") and not data.get("each_township") and "lead_unit" not in self.errors:
            self.add_error("lead_unit", "请选择牵头单位。")
        return data


def template_initial(template: TaskTemplate, county: Region) -> dict[str, Any]:
    """A new task's form prefilled from a template: the lead and participants are the county's
    units of the kinds the template names ("各镇": every township government)."""
    units = list(units_of_county(county))
    lead_township = template.lead_kind == UnitKind.TOWNSHIP_GOVERNMENT
    lead = None if lead_township else next((u for u in units if u.kind == template.lead_kind), None)
    kinds = set(template.participant_kinds or [])
    participants = [u for u in units if u.kind in kinds and u != lead]
    return {
        "title": template.name,
        "plan_section": template.plan_section,
        "description": template.description,
        "lead_unit": lead,
        "each_township": lead_township,
        "participants": participants,
    }


class ProgressForm(forms.Form):
    submission_key = forms.UUIDField(widget=forms.HiddenInput, initial=uuid.uuid4)
    unit = UnitChoiceField(label="报送单位", queryset=Unit.objects.none(), empty_label=None)
    text = forms.CharField(
        label="工作进展",
        max_length=2000,
        widget=forms.Textarea(
            attrs={"rows": 4, "placeholder": "如：已完成 12 个村的走访排查，发现问题 3 个，正在整改"}
        ),
        error_messages={"required": "请填写工作进展。", "max_length": "工作进展不能超过 2000 个字。"},
    )
    percent = forms.IntegerField(
        label="完成进度（%）",
        required=False,
        min_value=0,
        max_value=100,
        widget=forms.NumberInput(attrs={"inputmode": "numeric"}),
        error_messages={
            "min_value": "完成进度在 0 到 100 之间。",
            "max_value": "完成进度在 0 到 100 之间。",
            "invalid": "请填写 0 到 100 的整数。",
        },
    )

    def __init__(self, *args: Any, units: list[Unit], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["unit"]
        field.queryset = Unit.objects.filter(pk__in=[u.pk for u in units])  # type: ignore[attr-defined]
        if units:
            field.initial = units[0].pk
        if len(units) == 1:
            field.widget = forms.HiddenInput()


class ProposeForm(forms.Form):
    note = forms.CharField(
        label="完成情况说明",
        max_length=500,
        widget=forms.Textarea(attrs={"rows": 3}),
        error_messages={"required": "请填写完成情况说明。", "max_length": "完成情况说明不能超过 500 个字。"},
    )


class ConfirmForm(forms.Form):
    note = forms.CharField(label="确认意见", max_length=500, required=False)


class ReasonForm(forms.Form):
    reason = forms.CharField(
        label="原因",
        max_length=500,
        error_messages={"required": "请填写原因。", "max_length": "原因不能超过 500 个字。"},
    )

    def __init__(self, *args: Any, label: str, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["reason"].label = label
        self.fields["reason"].error_messages["required"] = f"请填写{label}。"


class TemplateForm(forms.ModelForm[TaskTemplate]):
    participant_kinds = forms.MultipleChoiceField(
        label="参加单位类型",
        choices=UnitKind.choices,
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text="新建任务时按这些类型预选本县的参加单位。",
    )

    class Meta:
        model = TaskTemplate
        fields = [
            "name",
            "plan_section",
            "lead_kind",
            "lead_name",
            "participant_kinds",
            "participants",
            "description",
            "note",
            "position",
            "active",
        ]
        widgets = {
            "description": forms.Textarea(attrs={"rows": 4}),
            "note": forms.Textarea(attrs={"rows": 3}),
        }
        help_texts = {
            "lead_kind": "新建任务时按此类型预选牵头单位；选“乡镇人民政府”时按各乡镇分别建立。",
            "lead_name": "方案原文的写法，仅供参考。",
            "participants": "方案原文的写法，仅供参考。",
        }
