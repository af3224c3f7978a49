"""Forms of the providers register: they validate and normalise; services write. Every list
of places or children offered is the user's own scope (AC-4)."""

from decimal import Decimal
from typing import Any

from django import forms
from django.core.validators import MinValueValidator

from accounts.models import User
from core.masking import mask_phone
from core.widgets import FastSelect
from geo.models import Region, RegionLevel, UnitKind
from providers import access
from providers.choices import PROVIDER_UNIT_KINDS, ServiceKind
from providers.models import Contract, Provider
from providers.services import ContractData, ItemData, ProviderData

DATE = {"type": "date"}
NOT_NEGATIVE = "不能为负数。"
KIND_LABELS = dict(UnitKind.choices)


class RegionChoiceField(forms.ModelChoiceField[Region]):
    widget = FastSelect  # a county's villages: a few hundred options

    def label_from_instance(self, obj: Region) -> str:
        if obj.level == RegionLevel.VILLAGE and obj.parent is not None:
            return f"{obj.parent.name} · {obj.name}"
        if obj.level == RegionLevel.COUNTY:
            return f"{obj.name}（县级）"
        return obj.name


class TownshipsField(forms.ModelMultipleChoiceField[Region]):
    def label_from_instance(self, obj: Region) -> str:
        return obj.name


def kind_choices(kinds: list[str]) -> list[tuple[str, str]]:
    return [(kind, KIND_LABELS[kind]) for kind in kinds]


class RegisterFilterForm(forms.Form):
    """The register's filters (GET: a provider's name is not personal data)."""

    q = forms.CharField(label="机构名称", required=False, max_length=64)
    kind = forms.ChoiceField(label="类型", required=False)
    township = forms.ChoiceField(label="乡镇", required=False)
    service = forms.ChoiceField(
        label="提供的服务", required=False, choices=[("", "全部"), *ServiceKind.choices]
    )
    inactive = forms.BooleanField(label="含已停止服务的机构", required=False)

    def __init__(self, *args: Any, townships: list[Region], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["kind"].choices = [("", "全部"), *kind_choices(list(PROVIDER_UNIT_KINDS))]  # type: ignore[attr-defined]
        self.fields["township"].choices = [("", "全部"), *((t.code, t.name) for t in townships)]  # type: ignore[attr-defined]


class ProviderForm(forms.Form):
    """Register a provider, or edit one (with the version it was loaded at). The phone is
    never sent back to the browser: its input is empty with the masked number as placeholder,
    and an empty input keeps the stored number."""

    version = forms.IntegerField(widget=forms.HiddenInput, required=False)
    name = forms.CharField(label="机构名称", max_length=128, error_messages={"required": "请填写机构名称。"})
    kind = forms.ChoiceField(
        label="类型",
        error_messages={
            "required": "请选择服务机构的类型。",
            "invalid_choice": "请从列表中选择服务机构的类型。",
        },
    )
    region = RegionChoiceField(
        label="所在区划",
        queryset=Region.objects.none(),
        error_messages={"required": "请选择所在区划。", "invalid_choice": "请从列表中选择所在区划。"},
    )
    services = forms.MultipleChoiceField(
        label="提供的服务",
        choices=ServiceKind.choices,
        required=False,
        widget=forms.CheckboxSelectMultiple,
        error_messages={"invalid_choice": "请从列表中选择提供的服务。"},
    )
    contact_name = forms.CharField(label="联系人", max_length=64, required=False)
    contact_phone = forms.CharField(
        label="联系电话",
        max_length=20,
        required=False,
        widget=forms.TextInput(attrs={"inputmode": "tel", "autocomplete": "off"}),
    )
    clear_phone = forms.BooleanField(label="清除联系电话", required=False)
    address = forms.CharField(label="地址", max_length=200, required=False)
    description = forms.CharField(
        label="简介", max_length=2000, required=False, widget=forms.Textarea(attrs={"rows": 4})
    )
    active = forms.BooleanField(
        label="正在提供服务",
        required=False,
        help_text="取消勾选即停止服务：该机构的工作人员账号随之不能再查看儿童档案。",
    )

    def __init__(self, *args: Any, user: User, provider: Provider | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.provider = provider
        kinds = access.registrable_kinds(user)
        regions = access.registrable_regions(user).select_related("parent")
        if provider is not None and provider.unit.kind not in kinds:
            kinds = [*kinds, provider.unit.kind]  # shown, and refused by the service if changed to
        self.fields["kind"].choices = [("", "请选择"), *kind_choices(kinds)]  # type: ignore[attr-defined]
        self.fields["region"].queryset = regions  # type: ignore[attr-defined]
        if provider is None:
            del self.fields["clear_phone"]
            del self.fields["active"]
            self.fields["contact_phone"].help_text = "11 位手机号码，或带区号的固定电话。"
        else:
            self.fields["contact_phone"].widget.attrs["placeholder"] = mask_phone(provider.contact_phone)
            self.fields["contact_phone"].help_text = "不修改请留空。"

    def clean_name(self) -> str:
        return " ".join(self.cleaned_data["name"].split())

    def data_for_service(self) -> ProviderData:
        data = self.cleaned_data
        phone: str | None = data.get("contact_phone", "")
        if self.provider is not None and not phone:
            phone = "" if data.get("clear_phone") else None
        return ProviderData(
            name=data["name"],
            kind=data["kind"],
            region=data["region"],
            services=list(data.get("services") or []),
            contact_name=data.get("contact_name", ""),
            contact_phone=phone,
            address=data.get("address", ""),
            description=data.get("description", ""),
            active=data.get("active", True) if self.provider is not None else True,
        )


def provider_initial(provider: Provider) -> dict[str, Any]:
    return {
        "version": provider.version,
        "name": provider.unit.name,
        "kind": provider.unit.kind,
        "region": provider.unit.region,
        "services": provider.services,
        "contact_name": provider.contact_name,
        "address": provider.address,
        "description": provider.description,
        "active": provider.active,
    }


class ContractForm(forms.Form):
    version = forms.IntegerField(widget=forms.HiddenInput, required=False)
    title = forms.CharField(label="项目名称", max_length=128, error_messages={"required": "请填写项目名称。"})
    number = forms.CharField(label="合同编号", max_length=64, required=False)
    starts_on = forms.DateField(
        label="服务开始日期",
        widget=forms.DateInput(attrs=DATE, format="%Y-%m-%d"),
        error_messages={"required": "请填写服务开始日期。", "invalid": "请填写正确的日期。"},
    )
    ends_on = forms.DateField(
        label="服务结束日期",
        widget=forms.DateInput(attrs=DATE, format="%Y-%m-%d"),
        error_messages={"required": "请填写服务结束日期。", "invalid": "请填写正确的日期。"},
    )
    amount = forms.DecimalField(
        label="合同金额（元）",
        max_digits=12,
        decimal_places=2,
        validators=[MinValueValidator(Decimal(0), message="合同金额不能为负数。")],
        widget=forms.NumberInput(attrs={"inputmode": "decimal", "step": "0.01", "min": "0"}),
        error_messages={"required": "请填写合同金额。", "invalid": "请填写金额（元），如 120000.00。"},
    )
    townships = TownshipsField(
        label="覆盖乡镇",
        queryset=Region.objects.none(),
        widget=forms.CheckboxSelectMultiple,
        error_messages={"required": "请至少选择一个覆盖乡镇。", "invalid_choice": "覆盖乡镇须是本县的乡镇。"},
    )
    note = forms.CharField(
        label="备注", max_length=2000, required=False, widget=forms.Textarea(attrs={"rows": 3})
    )

    def __init__(self, *args: Any, county: Region, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["townships"].queryset = access.county_townships(county)  # type: ignore[attr-defined]

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        starts, ends = data.get("starts_on"), data.get("ends_on")
        if starts and ends and ends < starts:
            self.add_error("ends_on", "服务结束日期不能早于开始日期。")
        return data


class ItemForm(forms.Form):
    """One row of a contract's items; a row without a service is left out."""

    kind = forms.ChoiceField(
        label="服务项目", required=False, choices=[("", "（不填）"), *ServiceKind.choices]
    )
    planned_sessions = forms.IntegerField(
        label="计划场次",
        required=False,
        min_value=0,
        error_messages={"min_value": f"计划场次{NOT_NEGATIVE}", "invalid": "请填写整数。"},
        widget=forms.NumberInput(attrs={"inputmode": "numeric", "min": "0"}),
    )
    planned_children = forms.IntegerField(
        label="计划服务儿童数",
        required=False,
        min_value=0,
        error_messages={"min_value": f"计划服务儿童数{NOT_NEGATIVE}", "invalid": "请填写整数。"},
        widget=forms.NumberInput(attrs={"inputmode": "numeric", "min": "0"}),
    )

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        numbers = (data.get("planned_sessions"), data.get("planned_children"))
        if not data.get("kind") and any(numbers):
            self.add_error("kind", "请选择服务项目。")
        return data


class BaseItemFormSet(forms.BaseFormSet):  # type: ignore[type-arg]
    def get_form_kwargs(self, index: int | None) -> dict[str, Any]:
        # Every row is read: a row equal to its initial value is not skipped as "unchanged"
        # (which would drop an item kept as it was, whatever INITIAL_FORMS says).
        return {**super().get_form_kwargs(index), "empty_permitted": False}

    def clean(self) -> None:
        if any(self.errors):
            return
        seen: set[str] = set()
        for form in self.forms:
            kind = form.cleaned_data.get("kind")
            if not kind:
                continue
            if kind in seen:
                form.add_error("kind", f"服务项目“{dict(ServiceKind.choices)[kind]}”重复，每项只填一行。")
            seen.add(kind)
        if not seen:
            raise forms.ValidationError("请至少填写一项服务项目。")

    def items(self) -> list[ItemData]:
        return [
            ItemData(
                kind=form.cleaned_data["kind"],
                planned_sessions=form.cleaned_data.get("planned_sessions") or 0,
                planned_children=form.cleaned_data.get("planned_children") or 0,
            )
            for form in self.forms
            if form.cleaned_data.get("kind")
        ]


BLANK_ROWS = 3


def item_formset(data: Any, contract: Contract | None = None) -> BaseItemFormSet:
    """The items as rows: the contract's (edit) and BLANK_ROWS empty ones to add to."""
    initial = (
        [
            {
                "kind": item.kind,
                "planned_sessions": item.planned_sessions,
                "planned_children": item.planned_children,
            }
            for item in contract.items.all()
        ]
        if contract is not None
        else []
    )
    formset_class = forms.formset_factory(
        ItemForm,
        formset=BaseItemFormSet,
        extra=BLANK_ROWS,
        max_num=len(ServiceKind),
        absolute_max=len(ServiceKind),
    )
    formset = formset_class(data, initial=initial, prefix="items")
    assert isinstance(formset, BaseItemFormSet)
    return formset


def contract_data(form: ContractForm, items: BaseItemFormSet) -> ContractData:
    data = form.cleaned_data
    return ContractData(
        title=data["title"],
        number=data.get("number", ""),
        starts_on=data["starts_on"],
        ends_on=data["ends_on"],
        amount=data["amount"],
        townships=list(data["townships"]),
        items=items.items(),
        note=data.get("note", ""),
    )


def contract_initial(contract: Contract) -> dict[str, Any]:
    return {
        "version": contract.version,
        "title": contract.title,
        "number": contract.number,
        "starts_on": contract.starts_on,
        "ends_on": contract.ends_on,
        "amount": contract.amount,
        "townships": list(contract.townships.all()),
        "note": contract.note,
    }


class AssignSearchForm(forms.Form):
    """Finding children to assign: by POST only, so that a name typed never sits in a URL."""

    q = forms.CharField(
        label="姓名、拼音或身份证后四位",
        required=False,
        max_length=40,
        widget=forms.TextInput(attrs={"autocomplete": "off", "enterkeyhint": "search"}),
    )
    village = forms.ChoiceField(label="村（社区）", required=False, widget=FastSelect)
    key = forms.ChoiceField(label="重点对象", required=False, choices=[("", "全部"), ("1", "仅重点对象")])

    def __init__(self, *args: Any, villages: list[Region], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["village"].choices = [("", "全部"), *((str(v.pk), v.name) for v in villages)]  # type: ignore[attr-defined]


class RevealForm(forms.Form):
    reason = forms.CharField(
        label="查看原因",
        min_length=2,
        max_length=200,
        error_messages={"required": "请填写查看原因。", "min_length": "查看原因至少 2 个字。"},
    )
