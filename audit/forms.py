from django import forms

from audit.models import AccessAction


class AccessLogFilterForm(forms.Form):
    username = forms.CharField(label="用户名", required=False, max_length=150)
    action = forms.ChoiceField(label="操作", required=False, choices=[("", "全部"), *AccessAction.choices])
    object_id = forms.UUIDField(label="档案标识", required=False)
    since = forms.DateField(label="起始日期", required=False, widget=forms.DateInput(attrs={"type": "date"}))
    until = forms.DateField(label="截止日期", required=False, widget=forms.DateInput(attrs={"type": "date"}))

    def clean(self) -> dict[str, object]:
        data = super().clean() or {}
        since, until = data.get("since"), data.get("until")
        if since and until and since > until:  # type: ignore[operator]
            self.add_error("until", "截止日期不能早于起始日期。")
        return data
