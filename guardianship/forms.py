"""Forms of entrusted guardianship: they validate and normalise; services write."""

import datetime as dt
from typing import Any, cast

from django import forms
from django.utils import timezone

from guardianship import rules
from guardianship.models import AgreementTemplate
from guardianship.services import DutyPerson

DATE = {"type": "date"}


def _date_field(label: str, **kwargs: Any) -> forms.DateField:
    return forms.DateField(label=label, widget=forms.DateInput(attrs=DATE, format="%Y-%m-%d"), **kwargs)


class AgreementForm(forms.Form):
    """The period: a start date and either a term (6 months to 3 years) or an end date."""

    valid_from = _date_field("委托期限起")
    term_months = forms.TypedChoiceField(
        label="委托期限",
        choices=[*rules.TERM_CHOICES, (0, "自定截止日期")],
        coerce=int,
        initial=12,
    )
    valid_until = _date_field("委托期限止", required=False, help_text="选择“自定截止日期”时填写。")

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        start: dt.date | None = data.get("valid_from")
        months = data.get("term_months")
        if start is None or months is None:
            return data
        if months:
            data["valid_until"] = rules.period_end(start, months)
        elif data.get("valid_until") is None:
            self.add_error("valid_until", "请填写委托期限止，或选择委托期限。")
        return data


class SignForm(forms.Form):
    signed_on = _date_field("签订日期")

    def clean_signed_on(self) -> dt.date:
        signed_on: dt.date = self.cleaned_data["signed_on"]
        if signed_on > timezone.localdate():
            raise forms.ValidationError("签订日期不能晚于今天。")
        return signed_on


class ScanForm(forms.Form):
    scan = forms.FileField(
        label="签字扫描件",
        required=False,
        help_text="拍照或扫描签字后的协议：JPG、PNG 图片或 PDF 文件，不超过 10 MB。",
        widget=forms.ClearableFileInput(attrs={"accept": "image/jpeg,image/png,application/pdf"}),
    )


class DutyAckForm(forms.Form):
    role = forms.ChoiceField(label="确认人", widget=forms.RadioSelect)
    acknowledged_on = _date_field("确认日期")

    def __init__(self, *args: Any, people: list[DutyPerson], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        labels = {"guardian": "受委托监护人", "father": "父亲", "mother": "母亲"}
        cast(forms.ChoiceField, self.fields["role"]).choices = [
            (p.role, f"{labels[p.role]}：{p.name}") for p in people
        ]
        self.fields["acknowledged_on"].initial = timezone.localdate()

    def clean_acknowledged_on(self) -> dt.date:
        day: dt.date = self.cleaned_data["acknowledged_on"]
        if day > timezone.localdate():
            raise forms.ValidationError("确认日期不能晚于今天。")
        return day


class TemplateForm(forms.ModelForm[AgreementTemplate]):
    version = forms.IntegerField(widget=forms.HiddenInput, min_value=1)

    class Meta:
        model = AgreementTemplate
        fields = ["title", "body", "duties"]
        widgets = {
            "body": forms.Textarea(attrs={"rows": 24}),
            "duties": forms.Textarea(attrs={"rows": 14}),
        }

    def _clean_text(self, name: str) -> str:
        text: str = self.cleaned_data[name]
        unknown = rules.unknown_placeholders(text)
        if unknown:
            raise forms.ValidationError(
                "未知的占位符：%(unknown)s。可用的占位符见下方说明。",
                params={"unknown": "、".join(f"{{{p}}}" for p in unknown)},
            )
        return text

    def clean_title(self) -> str:
        return self._clean_text("title")

    def clean_body(self) -> str:
        return self._clean_text("body")

    def clean_duties(self) -> str:
        return self._clean_text("duties")
