from typing import Any

from django import forms
from django.contrib.auth.forms import AuthenticationForm, PasswordChangeForm

from accounts import selectors
from accounts.models import Role, SecurityPolicy, User
from accounts.services import GrantData
from geo.models import Region, Unit

INVALID_LOGIN = "用户名或密码不正确。"


class LoginForm(AuthenticationForm):
    # One message for a wrong password, an unknown user, a disabled account and a lockout
    # (AU-3): the answer tells nothing about which it was.
    error_messages = {"invalid_login": INVALID_LOGIN, "inactive": INVALID_LOGIN}

    username = forms.CharField(
        label="用户名",
        max_length=150,
        widget=forms.TextInput(attrs={"autofocus": True, "autocomplete": "username"}),
    )
    password = forms.CharField(
        label="密码", strip=False, widget=forms.PasswordInput(attrs={"autocomplete": "current-password"})
    )


class TokenForm(forms.Form):
    token = forms.RegexField(
        label="动态验证码",
        regex=r"^\s*\d{6}\s*$",
        error_messages={"invalid": "请输入验证器上显示的 6 位数字。"},
        widget=forms.TextInput(
            attrs={"autocomplete": "one-time-code", "inputmode": "numeric", "autofocus": True, "size": 8}
        ),
    )

    def clean_token(self) -> str:
        token: str = self.cleaned_data["token"]
        return token.strip()


class ChangePasswordForm(PasswordChangeForm):
    def __init__(self, user: Any, *args: Any, **kwargs: Any) -> None:
        super().__init__(user, *args, **kwargs)
        self.fields["old_password"].label = "当前密码"
        self.fields["new_password1"].label = "新密码"
        self.fields["new_password2"].label = "再次输入新密码"
        self.error_messages = {
            **self.error_messages,
            "password_incorrect": "当前密码不正确。",
            "password_mismatch": "两次输入的新密码不一致。",
        }


class _GrantFields(forms.Form):
    role = forms.ChoiceField(label="角色", choices=Role.choices)
    unit = forms.ModelChoiceField(label="单位", queryset=Unit.objects.none())
    region = forms.ModelChoiceField(
        label="管辖区划",
        queryset=Region.objects.none(),
        required=False,
        help_text="区域类角色的范围；为空时取单位所在区划。",
    )

    def __init__(self, *args: Any, by: User, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # Only units and regions inside the admin's own county are offered (AC-4).
        self.fields["unit"].queryset = selectors.units_for_admin(by)  # type: ignore[attr-defined]
        self.fields["region"].queryset = selectors.regions_for_admin(by)  # type: ignore[attr-defined]

    def grant(self) -> GrantData:
        data = self.cleaned_data
        return GrantData(role=data["role"], unit=data["unit"], region=data["region"])


class GrantForm(_GrantFields):
    pass


class UserCreateForm(_GrantFields):
    username = forms.RegexField(
        label="用户名",
        max_length=150,
        regex=r"^[\w.@+-]+\Z",
        help_text="字母、数字和 @ . + - _，登录时使用。",
        error_messages={"invalid": "用户名只能包含字母、数字和 @ . + - _。"},
    )
    full_name = forms.CharField(label="姓名", max_length=64)
    valid_until = forms.DateField(
        label="账号有效期至",
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}),
        help_text="临时人员填写；为空则长期有效（仍按闲置天数停用）。",
    )
    field_order = ["username", "full_name", "role", "unit", "region", "valid_until"]

    def clean_username(self) -> str:
        username: str = self.cleaned_data["username"]
        if User.objects.filter(username__iexact=username).exists():
            raise forms.ValidationError("该用户名已被使用。")
        return username


class RevokeForm(forms.Form):
    grant = forms.UUIDField()


class DisableForm(forms.Form):
    reason = forms.CharField(label="停用原因", max_length=200, min_length=2)


class UserSearchForm(forms.Form):
    q = forms.CharField(label="用户名或姓名", max_length=64, required=False)
    after = forms.UUIDField(required=False, widget=forms.HiddenInput)


class PolicyForm(forms.ModelForm[SecurityPolicy]):
    class Meta:
        model = SecurityPolicy
        fields = ["password_max_age_days", "session_idle_minutes", "session_absolute_hours", "dormant_days"]
