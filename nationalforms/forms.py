"""Forms of the national forms pages: they only validate and normalise."""

import datetime as dt

from django import forms
from django.utils import timezone

EARLIEST = dt.date(2016, 1, 1)  # the first national census (MF42) was in 2016


class Table3Form(forms.Form):
    on = forms.DateField(
        label="统计基准日",
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}),
        error_messages={"invalid": "请输入有效的日期，例如 2016-07-31。"},
    )

    def clean_on(self) -> dt.date:
        on: dt.date | None = self.cleaned_data.get("on")
        today = timezone.localdate()
        if on is None:
            return today
        if on > today:
            raise forms.ValidationError("统计基准日不能晚于今天。")
        if on < EARLIEST:
            raise forms.ValidationError("统计基准日不能早于 2016 年。")
        return on

    def reference_date(self) -> dt.date:
        """The valid date, or today when the form is empty or invalid."""
        if self.is_valid():
            on: dt.date = self.cleaned_data["on"]
            return on
        return timezone.localdate()
