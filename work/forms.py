"""Forms of "我的工作": they validate and normalise only (house style rule 6)."""

import datetime as dt
import uuid
from typing import Any

from django import forms
from django.utils import timezone

from accounts.models import User
from registry import choices as c
from work.selectors import ListFilters

COLOUR_CHOICES = [("", "全部颜色"), *c.RiskColour.choices]
CURSOR_MAX = 64


class ListFilterForm(forms.Form):
    """Filters of a section list, from the query string: a village id, a colour and the
    keyset cursor, none of them personal. Anything malformed is ignored (first page)."""

    village = forms.UUIDField(required=False)
    colour = forms.ChoiceField(choices=COLOUR_CHOICES, required=False)
    after = forms.CharField(required=False, max_length=CURSOR_MAX)

    def filters(self) -> ListFilters:
        data = self.cleaned_data if self.is_bound and self.is_valid() else {}
        return ListFilters(village=data.get("village"), colour=data.get("colour", ""))

    def cursor(self) -> str:
        return str(self.cleaned_data.get("after") or "") if self.is_bound and self.is_valid() else ""


class AssignFilterForm(forms.Form):
    village = forms.ChoiceField(label="村（社区）", required=False)
    colour = forms.ChoiceField(label="风险等级", choices=COLOUR_CHOICES, required=False)
    overdue = forms.BooleanField(label="只看逾期未走访", required=False)
    after = forms.CharField(required=False, max_length=CURSOR_MAX, widget=forms.HiddenInput)

    def __init__(self, *args: Any, villages: list[tuple[str, str]], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["village"].choices = [("", "全部村（社区）"), *villages]  # type: ignore[attr-defined]

    def value(self, name: str) -> Any:
        return self.cleaned_data.get(name) if self.is_bound and self.is_valid() else None


class UUIDListField(forms.Field):
    """Several UUIDs under one name (checkboxes): a list, or a field error."""

    widget = forms.MultipleHiddenInput

    def to_python(self, value: Any) -> list[uuid.UUID]:
        if not value:
            return []
        values = value if isinstance(value, list | tuple) else [value]
        try:
            return list(dict.fromkeys(uuid.UUID(str(item)) for item in values))
        except ValueError as exc:
            raise forms.ValidationError("所选儿童无效，请刷新页面后重试。") from exc

    def validate(self, value: Any) -> None:
        if self.required and not value:
            raise forms.ValidationError(self.error_messages["required"], code="required")


class AssignForm(forms.Form):
    children = UUIDListField(label="儿童", error_messages={"required": "请至少选择一名儿童。"})
    assignee = forms.ChoiceField(label="指派给", error_messages={"required": "请选择走访人员。"})

    def __init__(self, *args: Any, assignees: list[User], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.people = {str(person.pk): person for person in assignees}
        self.fields["assignee"].choices = [  # type: ignore[attr-defined]
            ("", "请选择驻村干部或社会工作者"),
            *((pk, person.full_name or person.username) for pk, person in self.people.items()),
        ]

    def clean_assignee(self) -> User:
        return self.people[self.cleaned_data["assignee"]]


class ConfirmForm(forms.Form):
    exit_date = forms.DateField(label="退出日期", widget=forms.DateInput(attrs={"type": "date"}))
    note = forms.CharField(label="说明", max_length=200, required=False)

    def clean_exit_date(self) -> dt.date:
        value: dt.date = self.cleaned_data["exit_date"]
        if value > timezone.localdate():
            raise forms.ValidationError("退出日期不能晚于今天。")
        return value


class DismissForm(forms.Form):
    note = forms.CharField(label="驳回原因", max_length=200, error_messages={"required": "请填写驳回原因。"})

    def clean_note(self) -> str:
        note = " ".join(str(self.cleaned_data["note"]).split())
        if not note:
            raise forms.ValidationError("请填写驳回原因。")
        return note
