"""Forms of the schooling app (phone-first): they validate and normalise; services write."""

import datetime as dt
from typing import Any

from django import forms
from django.utils import timezone

from registry import choices as rc
from schooling.models import AttemptMethod, AttemptOutcome, CaseKind
from schooling.services import BACK_AT_SCHOOL

DATE = {"type": "date"}


def _date(label: str, *, required: bool = True, today: bool = True) -> forms.DateField:
    return forms.DateField(
        label=label,
        required=required,
        initial=timezone.localdate if today else None,
        widget=forms.DateInput(attrs=DATE, format="%Y-%m-%d"),
        error_messages={"required": f"请填写{label}。", "invalid": "请填写正确的日期。"},
    )


def _not_future(day: dt.date | None, label: str) -> dt.date | None:
    if day is not None and day > timezone.localdate():
        raise forms.ValidationError(f"{label}不能晚于今天。")
    return day


def _version() -> forms.IntegerField:
    """The file's version the page was drawn from (RE-1: a stale save is refused)."""
    return forms.IntegerField(widget=forms.HiddenInput, min_value=1)


class CaseOpenForm(forms.Form):
    version = _version()
    kind = forms.ChoiceField(
        label="类型",
        choices=CaseKind.choices,
        widget=forms.RadioSelect,
        error_messages={"required": "请选择无故缺课或辍学。"},
    )
    first_missed_on = _date("开始缺课日期", today=False)
    reported_on = _date("报告日期")
    reason = forms.CharField(
        label="已了解的原因和情况",
        max_length=500,
        required=False,
        widget=forms.Textarea(attrs={"rows": 3, "placeholder": "如：家长外出务工，孩子在家照顾弟妹"}),
    )

    def clean_first_missed_on(self) -> dt.date | None:
        return _not_future(self.cleaned_data.get("first_missed_on"), "开始缺课日期")

    def clean_reported_on(self) -> dt.date | None:
        return _not_future(self.cleaned_data.get("reported_on"), "报告日期")


class AttemptForm(forms.Form):
    attempted_on = _date("劝返日期")
    method = forms.ChoiceField(
        label="劝返方式",
        choices=AttemptMethod.choices,
        initial=AttemptMethod.HOME_VISIT,
        widget=forms.RadioSelect,
        error_messages={"required": "请选择劝返方式。"},
    )
    participants = forms.CharField(
        label="参与人员",
        max_length=100,
        widget=forms.TextInput(attrs={"placeholder": "如：班主任、村儿童主任"}),
        error_messages={"required": "请填写参与劝返的人员。"},
    )
    outcome = forms.ChoiceField(
        label="结果",
        choices=AttemptOutcome.choices,
        widget=forms.RadioSelect,
        error_messages={"required": "请选择劝返结果。"},
    )
    note = forms.CharField(
        label="情况记录", max_length=500, required=False, widget=forms.Textarea(attrs={"rows": 3})
    )

    def clean_attempted_on(self) -> dt.date | None:
        return _not_future(self.cleaned_data.get("attempted_on"), "劝返日期")


class EscalateForm(forms.Form):
    confirm = forms.BooleanField(
        label="书面报告已报送县教育局和乡镇人民政府",
        error_messages={"required": "请确认书面报告已经报送。"},
    )


class Outcome:
    RETURNED = "returned"
    NOT_RETURNED = "not_returned"
    CHOICES = [(RETURNED, "已复学"), (NOT_RETURNED, "未复学")]


class OutcomeForm(forms.Form):
    """Either 已复学 (date and the schooling to put on the file) or 未复学 (the reason)."""

    version = _version()
    outcome = forms.ChoiceField(
        label="结果",
        choices=Outcome.CHOICES,
        widget=forms.RadioSelect,
        error_messages={"required": "请选择结果。"},
    )
    returned_on = _date("复学日期", required=False)
    schooling = forms.ChoiceField(
        label="复学后的就学情况",
        required=False,
        choices=[("", "—")] + [(value, rc.Schooling(value).label) for value in BACK_AT_SCHOOL],
        help_text="写入儿童档案的“就学情况”。",
    )
    reason = forms.CharField(
        label="未复学原因",
        max_length=500,
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
    )

    def clean_returned_on(self) -> dt.date | None:
        return _not_future(self.cleaned_data.get("returned_on"), "复学日期")

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if data.get("outcome") == Outcome.RETURNED:
            if not data.get("returned_on") and "returned_on" not in self.errors:
                self.add_error("returned_on", "请填写复学日期。")
            if not data.get("schooling"):
                self.add_error("schooling", "请选择复学后的就学情况。")
        elif data.get("outcome") == Outcome.NOT_RETURNED and not (data.get("reason") or "").strip():
            self.add_error("reason", "请填写未复学的原因。")
        return data


class HukouDoneForm(forms.Form):
    version = _version()
    registered_on = _date("登记日期")
    note = forms.CharField(
        label="备注",
        max_length=200,
        required=False,
        widget=forms.TextInput(attrs={"placeholder": "如：已办理出生登记"}),
    )

    def clean_registered_on(self) -> dt.date | None:
        return _not_future(self.cleaned_data.get("registered_on"), "登记日期")
