"""Forms of the cases app (phone-first): they validate and normalise; services write."""

import datetime as dt
from typing import Any

from django import forms
from django.utils import timezone

from accounts.models import User
from cases.models import AssistanceStatus, MeasureKind, MeasureStatus, Participant, Rating, Risk
from geo.models import Unit

DATE = {"type": "date"}


def _date(label: str, **kwargs: Any) -> forms.DateField:
    return forms.DateField(
        label=label,
        widget=forms.DateInput(attrs=DATE, format="%Y-%m-%d"),
        error_messages={"required": f"请填写{label}。", "invalid": "请填写有效的日期。"},
        **kwargs,
    )


def _radio(label: str, choices: Any) -> forms.ChoiceField:
    return forms.ChoiceField(
        label=label,
        choices=choices,
        widget=forms.RadioSelect,
        error_messages={"required": f"请选择{label}。", "invalid_choice": "请选择有效的选项。"},
    )


def _text(
    label: str, max_length: int, *, required: bool, rows: int = 3, placeholder: str = ""
) -> forms.CharField:
    return forms.CharField(
        label=label,
        max_length=max_length,
        required=required,
        widget=forms.Textarea(attrs={"rows": rows, "placeholder": placeholder}),
        error_messages={"required": f"请填写{label}。", "max_length": f"{label}不能超过 {max_length} 个字。"},
    )


class VersionForm(forms.Form):
    """The case version the page was loaded with (stale-edit refusal)."""

    version = forms.IntegerField(widget=forms.HiddenInput, min_value=1)


class AssessmentForm(VersionForm):
    assessed_on = _date("评估日期", initial=timezone.localdate)
    participants = forms.MultipleChoiceField(
        label="参与评估单位",
        choices=Participant.choices,
        widget=forms.CheckboxSelectMultiple,
        error_messages={"required": "请选择参与评估的单位。", "invalid_choice": "请选择有效的选项。"},
    )
    safety = _radio("人身安全", Rating.choices)
    guardianship = _radio("监护情况", Rating.choices)
    physical_health = _radio("身体健康", Rating.choices)
    mental_health = _radio("心理健康", Rating.choices)
    risk = _radio("综合风险等级", Risk.choices)
    dibao_status = _radio("低保", AssistanceStatus.choices)
    tekun_status = _radio("特困供养", AssistanceStatus.choices)
    temporary_relief_status = _radio("临时救助", AssistanceStatus.choices)
    notes = _text(
        "评估意见", 2000, required=False, rows=4, placeholder="儿童安全、监护、身心健康的具体情况和主要问题"
    )

    def clean_assessed_on(self) -> dt.date:
        day: dt.date = self.cleaned_data["assessed_on"]
        if day > timezone.localdate():
            raise forms.ValidationError("评估日期不能晚于今天。")
        return day


class UnitChoiceField(forms.ModelChoiceField[Unit]):
    def label_from_instance(self, obj: Unit) -> str:
        return f"{obj.name}（{obj.get_kind_display()}）"


class MeasureForm(forms.Form):
    kind = forms.ChoiceField(
        label="帮扶措施",
        choices=[("", "请选择"), *MeasureKind.choices],
        error_messages={"required": "请选择帮扶措施。", "invalid_choice": "请选择有效的帮扶措施。"},
    )
    unit = UnitChoiceField(
        label="责任单位",
        queryset=Unit.objects.none(),
        empty_label="请选择",
        help_text="选择本乡镇人民政府或县民政局以外的单位时，将作为转介发给该单位，由对方承接或说明不能承接的原因。",
        error_messages={"required": "请选择责任单位。", "invalid_choice": "请选择本县的有效单位。"},
    )
    due_on = _date("完成期限")
    note = _text(
        "具体内容和要求", 1000, required=False, placeholder="需要对方做什么、联系谁；不要填写身份证号码"
    )

    def __init__(self, *args: Any, units: list[Unit], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["unit"]
        assert isinstance(field, UnitChoiceField)
        field.queryset = Unit.objects.filter(pk__in=[unit.pk for unit in units]).order_by(
            "region__code", "kind", "name"
        )

    def clean_due_on(self) -> dt.date:
        day: dt.date = self.cleaned_data["due_on"]
        if day < timezone.localdate():
            raise forms.ValidationError("完成期限不能早于今天。")
        return day


_PROGRESS = [(MeasureStatus.IN_PROGRESS.value, "实施中"), (MeasureStatus.DONE.value, "已完成")]
_CANCEL = [(MeasureStatus.CANCELLED.value, "撤销这项措施")]


class MeasureUpdateForm(forms.Form):
    """A manager (or the unit) moves a measure on; cancelling (managers only) needs a reason."""

    status = forms.ChoiceField(
        label="更新为",
        choices=[*_PROGRESS, *_CANCEL],
        widget=forms.RadioSelect,
        error_messages={"required": "请选择要更新的状态。", "invalid_choice": "请选择有效的状态。"},
    )
    note = _text("说明", 500, required=False, rows=2, placeholder="进展情况；撤销时必须填写原因")

    def __init__(self, *args: Any, may_cancel: bool = True, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if not may_cancel:
            field = self.fields["status"]
            assert isinstance(field, forms.ChoiceField)
            field.choices = _PROGRESS


class ReferralAnswerForm(forms.Form):
    """The receiving unit accepts or declines a referral (a reason is required to decline)."""

    decision = forms.ChoiceField(
        label="答复",
        choices=[("accept", "承接"), ("decline", "不能承接")],
        widget=forms.RadioSelect,
        error_messages={"required": "请选择是否承接。", "invalid_choice": "请选择有效的选项。"},
    )
    reason = _text("说明或原因", 200, required=False, rows=2, placeholder="不能承接时必须填写原因")

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if data.get("decision") == "decline" and not " ".join((data.get("reason") or "").split()):
            self.add_error("reason", "请填写不能承接的原因。")
        return data


class FollowUpForm(forms.Form):
    due_on = _date("回访期限")
    assigned_to = forms.ModelChoiceField(
        label="回访人",
        queryset=User.objects.none(),
        empty_label="请选择",
        error_messages={"required": "请选择回访人。", "invalid_choice": "请选择有效的回访人。"},
    )

    def __init__(self, *args: Any, assignees: list[User], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["assigned_to"]
        assert isinstance(field, forms.ModelChoiceField)
        field.queryset = User.objects.filter(pk__in=[user.pk for user in assignees]).order_by("username")

    def clean_due_on(self) -> dt.date:
        day: dt.date = self.cleaned_data["due_on"]
        if day < timezone.localdate():
            raise forms.ValidationError("回访期限不能早于今天。")
        return day


class FollowUpRecordForm(forms.Form):
    done_on = _date("回访日期", initial=timezone.localdate)
    note = _text("回访情况", 1000, required=True, rows=4, placeholder="儿童的安全、监护、生活和学习情况")

    def clean_done_on(self) -> dt.date:
        day: dt.date = self.cleaned_data["done_on"]
        if day > timezone.localdate():
            raise forms.ValidationError("回访日期不能晚于今天。")
        return day


class ReasonForm(VersionForm):
    reason = _text("理由", 500, required=True, rows=3)

    def __init__(self, *args: Any, label: str = "理由", **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["reason"]
        field.label = label
        field.error_messages["required"] = f"请填写{label}。"

    def clean_reason(self) -> str:
        reason = " ".join(str(self.cleaned_data["reason"]).split())
        if not reason:
            raise forms.ValidationError(self.fields["reason"].error_messages["required"])
        return reason
