"""The filters of the care numbers (关爱服务统计): a period, and for the list behind a number
the key-children mark, the service kind and the provider unit. GET parameters keep the names
the activities list uses (from, to, kind, provider)."""

import datetime as dt
import uuid

from django import forms
from django.http import QueryDict

from providers.choices import ServiceKind
from stats.care import Filters, Period

DATE_ERRORS = {"invalid": "请输入正确的日期，如 2026-03-01。"}


def _date_field(label: str) -> forms.DateField:
    widget = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
    return forms.DateField(label=label, required=False, error_messages=DATE_ERRORS, widget=widget)


class CarePeriodForm(forms.Form):
    """From and to dates: this year so far unless asked otherwise."""

    def __init__(self, data: QueryDict, *, today: dt.date) -> None:
        # Always bound: the dates left out are this year's so far, shown in the inputs.
        default = Period.this_year(today)
        filled = data.copy()
        for name, value in default.params().items():
            if not filled.get(name):
                filled[name] = value
        super().__init__(filled)
        self.today = today
        # "from" is a Python keyword: the fields are added by name.
        self.fields["from"] = _date_field("开始日期")
        self.fields["to"] = _date_field("结束日期")

    def clean(self) -> dict[str, object]:
        cleaned = super().clean() or {}
        start, end = cleaned.get("from"), cleaned.get("to")
        if isinstance(start, dt.date) and isinstance(end, dt.date) and end < start:
            self.add_error("to", "结束日期不能早于开始日期。")
        return cleaned

    def period(self) -> Period:
        """The period asked for; this year so far when it is wrong (the error shows at the field)."""
        if not self.is_valid():
            return Period.this_year(self.today)
        return Period(self.cleaned_data["from"], self.cleaned_data["to"])


class CareListForm(CarePeriodForm):
    """The list behind a number: the period, and what the number narrowed the children to."""

    key = forms.BooleanField(required=False)
    kind = forms.ChoiceField(required=False, choices=[("", ""), *ServiceKind.choices])
    provider = forms.UUIDField(required=False)

    def filters(self) -> Filters:
        self.is_valid()  # cleaned_data keeps the fields without errors
        provider = self.cleaned_data.get("provider")
        return Filters(
            key=bool(self.cleaned_data.get("key")),
            kind=self.cleaned_data.get("kind") or "",
            provider=provider if isinstance(provider, uuid.UUID) else None,
        )
