import datetime as dt

from django import forms
from django.utils import timezone

from audit.models import EventType, Outcome
from audit.services import EMERGENCY_REASON_MIN

DATE = forms.DateInput(attrs={"type": "date"})


class _Period(forms.Form):
    def clean(self) -> dict[str, object]:
        data = super().clean() or {}
        since, until = data.get("since"), data.get("until")
        if since and until and since > until:  # type: ignore[operator]
            self.add_error("until", "截止日期不能早于起始日期。")
        return data


class AccessLogFilterForm(_Period):
    username = forms.CharField(label="用户名", required=False, max_length=150)
    action = forms.ChoiceField(label="事件类型", required=False, choices=[("", "全部"), *EventType.choices])
    outcome = forms.ChoiceField(label="结果", required=False, choices=[("", "全部"), *Outcome.choices])
    object_id = forms.UUIDField(label="档案标识", required=False)
    since = forms.DateField(label="起始日期", required=False, widget=DATE)
    until = forms.DateField(label="截止日期", required=False, widget=DATE)


class ChildLogFilterForm(_Period):
    username = forms.CharField(label="用户名", required=False, max_length=150)
    since = forms.DateField(label="起始日期", required=False, widget=DATE)
    until = forms.DateField(label="截止日期", required=False, widget=DATE)


class AccessReportForm(_Period):
    since = forms.DateField(label="起始日期", widget=DATE)
    until = forms.DateField(label="截止日期", widget=DATE)

    @staticmethod
    def default_period() -> dict[str, dt.date]:
        """The last full calendar month."""
        first_of_month = timezone.localdate().replace(day=1)
        until = first_of_month - dt.timedelta(days=1)
        return {"since": until.replace(day=1), "until": until}


class EmergencyAccessForm(forms.Form):
    file_no = forms.RegexField(
        label="档案编号",
        regex=r"^\d{18}$",
        max_length=18,
        error_messages={"invalid": "档案编号为 18 位数字（村级区划代码 12 位 + 顺序号 6 位）。"},
    )
    reason = forms.CharField(
        label="紧急查看理由",
        max_length=500,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=(
            f"必填，不少于 {EMERGENCY_REASON_MIN} 个字。理由会记入审计日志，并通知督导人员和安全管理员。"
        ),
    )

    def clean_file_no(self) -> str:
        return str(self.cleaned_data["file_no"]).strip()

    def clean_reason(self) -> str:
        reason = " ".join(str(self.cleaned_data["reason"]).split())
        if len(reason) < EMERGENCY_REASON_MIN:
            raise forms.ValidationError(f"请填写不少于 {EMERGENCY_REASON_MIN} 个字的理由。")
        return reason


class AccessReportDownloadForm(AccessReportForm):
    format = forms.ChoiceField(
        label="下载格式", required=False, choices=[("xlsx", "Excel（.xlsx）"), ("csv", "CSV")]
    )
