"""Forms of tiered review: they validate and normalise; services write."""

from typing import Any

from django import forms
from django.utils import timezone

from submissions.models import RoundKind

DATE = {"type": "date"}


class RoundForm(forms.Form):
    kind = forms.ChoiceField(label="报送类型", choices=RoundKind.choices)
    title = forms.CharField(
        label="报送名称", max_length=100, help_text="例如：2025年第二季度农村留守儿童信息报送"
    )
    reference_date = forms.DateField(
        label="统计基准日",
        widget=forms.DateInput(attrs=DATE, format="%Y-%m-%d"),
        help_text="年龄按统计基准日计算（0–5岁、6–13岁、14–16岁）。",
    )
    due_date = forms.DateField(label="报送截止日期", widget=forms.DateInput(attrs=DATE, format="%Y-%m-%d"))

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("initial", {"reference_date": timezone.localdate()})
        super().__init__(*args, **kwargs)

    def clean_title(self) -> str:
        return " ".join(str(self.cleaned_data["title"]).split())


class VillageSubmitForm(forms.Form):
    note = forms.CharField(
        label="报送说明", max_length=500, required=False, widget=forms.Textarea(attrs={"rows": 2})
    )
    confirmed = forms.BooleanField(
        label="我已逐一核对本村每份档案，台账与实际情况一致",
        error_messages={"required": "请确认已逐一核对本村每份档案。"},
    )


class TownshipSubmitForm(forms.Form):
    note = forms.CharField(
        label="报送说明", max_length=500, required=False, widget=forms.Textarea(attrs={"rows": 2})
    )


class ReviewForm(forms.Form):
    """Approve (comment optional) or return (comment required: the service says so)."""

    comment = forms.CharField(label="审核意见", max_length=500, required=False)


class CancelForm(forms.Form):
    reason = forms.CharField(label="撤销原因", max_length=500)
