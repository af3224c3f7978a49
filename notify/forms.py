"""Forms of the notify app: only validation and normalisation."""

import re
from typing import Any

from django import forms

from core import idnumber
from core.masking import mask_phone
from notify.models import Channel, DeliveryState, RecipientAddress
from notify.services import mask_email

MOBILE = re.compile(r"^1[3-9]\d{9}$")


class RecipientAddressForm(forms.Form):
    """The stored phone and e-mail are never sent back in full: the inputs are empty with
    the masked value as placeholder; empty keeps the stored value, a tick clears it."""

    phone = forms.CharField(
        label="接收短信的手机号码",
        max_length=32,
        required=False,
        widget=forms.TextInput(attrs={"inputmode": "tel", "autocomplete": "tel"}),
    )
    clear_phone = forms.BooleanField(label="不再接收短信", required=False)
    email = forms.EmailField(
        label="接收通知的电子邮箱",
        max_length=254,
        required=False,
        help_text="留空则使用账号登记的邮箱（如有）。",
        widget=forms.EmailInput(attrs={"autocomplete": "email"}),
    )
    clear_email = forms.BooleanField(label="不再使用此邮箱", required=False)

    def __init__(self, *args: Any, address: RecipientAddress | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.address = address
        if address and address.phone:
            self.fields["phone"].widget.attrs["placeholder"] = (
                f"已登记 {mask_phone(address.phone)}，不修改请留空"
            )
        if address and address.email:
            self.fields["email"].widget.attrs["placeholder"] = (
                f"已登记 {mask_email(address.email)}，不修改请留空"
            )

    def clean_phone(self) -> str:
        raw: str = self.cleaned_data.get("phone", "")
        value = re.sub(r"[\s\-]", "", raw.translate(idnumber.FULLWIDTH))
        if value.startswith("+86"):
            value = value[3:]
        if value and not MOBILE.match(value):
            raise forms.ValidationError("请填写 11 位手机号码（短信只能发到手机）。")
        return value

    def clean_email(self) -> str:
        value: str = self.cleaned_data.get("email", "")
        local, _, domain = value.strip().rpartition("@")
        return f"{local}@{domain.lower()}" if local else ""

    def values(self) -> tuple[str, str]:
        """(phone, email) to store, after keep-or-clear."""
        data = self.cleaned_data
        stored_phone = self.address.phone if self.address else ""
        stored_email = self.address.email if self.address else ""
        phone = "" if data["clear_phone"] else (data["phone"] or stored_phone)
        email = "" if data["clear_email"] else (data["email"] or stored_email)
        return phone, email


class SentLogFilterForm(forms.Form):
    state = forms.ChoiceField(label="状态", choices=[("", "全部"), *DeliveryState.choices], required=False)
    channel = forms.ChoiceField(label="渠道", choices=[("", "全部"), *Channel.choices], required=False)
