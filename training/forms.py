"""Forms of training: they validate and normalise; services write."""

import datetime as dt
from decimal import Decimal
from typing import Any

from django import forms
from django.utils import timezone

from geo.models import Region, Unit
from training.access import organiser_units
from training.models import MAX_HOURS, MIN_HOURS, Audience

DATE = {"type": "date"}


class UnitChoiceField(forms.ModelChoiceField[Unit]):
    def label_from_instance(self, obj: Unit) -> str:
        return obj.name


class SessionForm(forms.Form):
    """A new session, or an edit (with the version it was loaded at)."""

    version = forms.IntegerField(widget=forms.HiddenInput, required=False)
    topic = forms.CharField(
        label="培训主题",
        max_length=100,
        error_messages={"required": "请填写培训主题。", "max_length": "培训主题不能超过 100 个字。"},
    )
    held_on = forms.DateField(
        label="培训日期",
        widget=forms.DateInput(attrs=DATE, format="%Y-%m-%d"),
        error_messages={"required": "请填写培训日期。", "invalid": "请填写有效的日期。"},
    )
    hours = forms.DecimalField(
        label="培训学时（小时）",
        min_value=MIN_HOURS,
        max_value=MAX_HOURS,
        max_digits=4,
        decimal_places=1,
        widget=forms.NumberInput(attrs={"step": "0.5", "inputmode": "decimal"}),
        error_messages={
            "required": "请填写培训学时。",
            "invalid": "请填写数字，如 2 或 3.5。",
            "min_value": f"培训学时在 {MIN_HOURS} 到 {MAX_HOURS} 小时之间。",
            "max_value": f"培训学时在 {MIN_HOURS} 到 {MAX_HOURS} 小时之间。",
            "max_decimal_places": "培训学时最多保留 1 位小数。",
            "max_digits": f"培训学时在 {MIN_HOURS} 到 {MAX_HOURS} 小时之间。",
        },
    )
    organiser = UnitChoiceField(
        label="主办单位",
        queryset=Unit.objects.none(),
        error_messages={"required": "请选择主办单位。", "invalid_choice": "主办单位须是本县的有效单位。"},
    )
    audience = forms.MultipleChoiceField(
        label="培训对象",
        choices=Audience.choices,
        widget=forms.CheckboxSelectMultiple,
        error_messages={"required": "请至少选择一类培训对象。", "invalid_choice": "培训对象不在可选范围内。"},
    )
    trainer = forms.CharField(
        label="授课人",
        max_length=100,
        required=False,
        help_text="姓名和单位、职务，如：张老师（市社工协会）。",
        error_messages={"max_length": "授课人不能超过 100 个字。"},
    )
    place = forms.CharField(
        label="培训地点",
        max_length=100,
        required=False,
        error_messages={"max_length": "培训地点不能超过 100 个字。"},
    )
    note = forms.CharField(
        label="培训内容和说明",
        max_length=2000,
        required=False,
        widget=forms.Textarea(attrs={"rows": 4}),
        error_messages={"max_length": "培训内容和说明不能超过 2000 个字。"},
    )

    def __init__(self, *args: Any, county: Region, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["organiser"].queryset = organiser_units(county)  # type: ignore[attr-defined]

    def clean_topic(self) -> str:
        topic = " ".join(self.cleaned_data["topic"].split())
        if not topic:
            raise forms.ValidationError("请填写培训主题。")
        return topic

    def clean_held_on(self) -> dt.date:
        held_on: dt.date = self.cleaned_data["held_on"]
        if held_on > timezone.localdate():
            raise forms.ValidationError("培训日期不能晚于今天：请在培训举办后登记。")
        return held_on

    def clean_hours(self) -> Decimal:
        hours: Decimal = self.cleaned_data["hours"]
        return hours.quantize(Decimal("0.1"))


class PickerFilterForm(forms.Form):
    """The attendee picker's filters. The name search comes by POST only (DP-5: no names in
    URLs); role and township may come by GET."""

    role = forms.ChoiceField(label="角色", required=False)
    township = forms.ChoiceField(label="乡镇", required=False)
    q = forms.CharField(label="姓名", max_length=32, required=False)

    def __init__(
        self, *args: Any, roles: list[tuple[str, str]], townships: list[tuple[str, str]], **kwargs: Any
    ) -> None:
        super().__init__(*args, **kwargs)
        self.fields["role"].choices = [("", "全部角色"), *roles]  # type: ignore[attr-defined]
        self.fields["township"].choices = [("", "全部乡镇"), *townships]  # type: ignore[attr-defined]

    def value(self, name: str) -> str:
        """The field's value if valid; an unknown choice (another township…) is ignored."""
        if not self.is_bound:
            return ""
        self.is_valid()
        return str(self.cleaned_data.get(name) or "")


class GuestForm(forms.Form):
    guest_name = forms.CharField(
        label="姓名",
        max_length=64,
        error_messages={"required": "请填写姓名。", "max_length": "姓名不能超过 64 个字。"},
    )
    guest_unit = forms.CharField(
        label="单位",
        max_length=100,
        required=False,
        error_messages={"max_length": "单位不能超过 100 个字。"},
    )


class YearFilterForm(forms.Form):
    """The year (default this year), and for the no-training list role and township."""

    year = forms.IntegerField(label="年度", required=False, min_value=2000, max_value=2100)
    role = forms.ChoiceField(label="角色", required=False)
    township = forms.ChoiceField(label="乡镇", required=False)

    def __init__(
        self,
        *args: Any,
        roles: list[tuple[str, str]] | None = None,
        townships: list[tuple[str, str]] | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        self.fields["role"].choices = [("", "全部角色"), *(roles or [])]  # type: ignore[attr-defined]
        self.fields["township"].choices = [("", "全部乡镇"), *(townships or [])]  # type: ignore[attr-defined]

    def chosen_year(self) -> int:
        self.is_valid()
        if self.cleaned_data.get("year"):
            return int(self.cleaned_data["year"])
        return timezone.localdate().year

    def value(self, name: str) -> str:
        """The field's value if valid; an unknown choice (another township…) is ignored."""
        if not self.is_bound:
            return ""
        self.is_valid()
        return str(self.cleaned_data.get(name) or "")
