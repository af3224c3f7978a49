"""Forms of the contact app (phone-first): they validate and normalise; services write."""

import datetime as dt
import uuid
from typing import Any

from django import forms
from django.utils import timezone

from contact.models import ContactKind, ContactWith, NoticeChannel
from geo.models import Region, RegionLevel
from registry import choices as c
from registry.forms import RegionChoiceField, phone_field
from registry.validation import clean_phone

DATE = {"type": "date"}


def _date(label: str) -> forms.DateField:
    return forms.DateField(
        label=label, initial=timezone.localdate, widget=forms.DateInput(attrs=DATE, format="%Y-%m-%d")
    )


def _not_future(day: dt.date, label: str) -> dt.date:
    if day > timezone.localdate():
        raise forms.ValidationError(f"{label}不能晚于今天。")
    return day


class NoticeForm(forms.Form):
    role = forms.ChoiceField(label="告知的家长", choices=c.ParentRole.choices, widget=forms.RadioSelect)
    notified_on = _date("告知日期")
    channel = forms.ChoiceField(label="告知方式", choices=NoticeChannel.choices, widget=forms.RadioSelect)
    told_village = forms.BooleanField(label="已告知村（居）民委员会", required=False, initial=True)
    told_school = forms.BooleanField(label="已告知学校", required=False)
    work_province = RegionChoiceField(
        label="新务工省份",
        required=False,
        queryset=Region.objects.filter(level=RegionLevel.PROVINCE, valid_to__isnull=True),
    )
    work_city = RegionChoiceField(
        label="新务工城市",
        required=False,
        queryset=Region.objects.filter(level=RegionLevel.CITY, valid_to__isnull=True),
    )
    work_detail = forms.CharField(label="新务工单位或详细地点", max_length=128, required=False)
    new_phone = phone_field()
    note = forms.CharField(
        label="备注", max_length=200, required=False, widget=forms.Textarea(attrs={"rows": 2})
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["new_phone"].label = "新联系电话"
        self.fields["new_phone"].widget.attrs.update(inputmode="tel", autocomplete="off")

    def clean_notified_on(self) -> dt.date:
        return _not_future(self.cleaned_data["notified_on"], "告知日期")

    def clean_new_phone(self) -> str:
        return clean_phone(self.cleaned_data.get("new_phone") or "")

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        province, city = data.get("work_province"), data.get("work_city")
        if city and province and not city.code.startswith(province.code):
            self.add_error("work_city", "务工城市不在所选省份内。")
        if data.get("work_detail") and not (province or city):
            self.add_error("work_province", "填写务工单位时，请同时选择务工省份或城市。")
        if not (province or city or data.get("new_phone")) and not self.errors:
            self.add_error(None, "请填写新的务工地点或新的联系电话。")
        return data


class ReachabilityForm(forms.Form):
    # What the page offered (mark 失联, or reachable again): a repeated POST is refused, never
    # flips the flag back.
    unreachable = forms.TypedChoiceField(
        choices=[("1", "失联"), ("0", "恢复联系")],
        coerce=lambda value: value == "1",
        widget=forms.HiddenInput,
    )
    on = _date("日期")
    reason = forms.CharField(
        label="原因或情况说明",
        max_length=80,
        widget=forms.TextInput(attrs={"placeholder": "如：连续一周电话、微信均联系不上"}),
    )


class ContactForm(forms.Form):
    submission_key = forms.UUIDField(widget=forms.HiddenInput, initial=uuid.uuid4)
    contacted_on = _date("联系日期")
    kind = forms.ChoiceField(
        label="联系方式", choices=ContactKind.choices, initial=ContactKind.PHONE, widget=forms.RadioSelect
    )
    with_whom = forms.ChoiceField(
        label="与谁联系", choices=ContactWith.choices, initial=ContactWith.BOTH, widget=forms.RadioSelect
    )
    arranged = forms.BooleanField(label="由村（居）委会安排（协助通话）", required=False)
    duration_minutes = forms.IntegerField(
        label="通话时长（分钟）",
        required=False,
        min_value=1,
        max_value=600,
        widget=forms.NumberInput(attrs={"inputmode": "numeric"}),
        error_messages={
            "min_value": "通话时长至少 1 分钟。",
            "max_value": "通话时长不能超过 600 分钟。",
            "invalid": "请填写整数分钟数。",
        },
    )
    note = forms.CharField(
        label="备注", max_length=200, required=False, widget=forms.Textarea(attrs={"rows": 2})
    )

    def clean_contacted_on(self) -> dt.date:
        return _not_future(self.cleaned_data["contacted_on"], "联系日期")


class VoidForm(forms.Form):
    reason = forms.CharField(
        label="作废原因",
        max_length=80,
        widget=forms.TextInput(attrs={"placeholder": "如：日期录错，应为上周五"}),
        error_messages={"required": "请填写作废原因。", "max_length": "作废原因不能超过 80 个字。"},
    )
