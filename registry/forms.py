"""Forms of the child file. They validate and normalise; services write (style rule 6)."""

import datetime as dt
from typing import Any

from django import forms
from django.db.models import Q, QuerySet
from django.utils import timezone

from accounts.models import WRITE_ROLES, User
from core import idnumber
from core.masking import mask_id, mask_phone
from core.widgets import FastSelect
from geo.models import Region, RegionLevel, Unit, UnitKind
from registry import choices as c
from registry import validation
from registry.access import active_grants, regions_visible_to, villages_writable_by
from registry.models import Child, EntrustedGuardian, Parent
from registry.selectors import AGE_BAND_LABELS, CATEGORY_CHOICES, NO_COLOUR, LedgerFilters

BLANK = [("", "全部")]


class RegionChoiceField(forms.ModelChoiceField[Region]):
    widget = FastSelect

    def label_from_instance(self, obj: Region) -> str:
        return obj.name


def _clean_id(value: str) -> str:
    if not value:
        return ""
    try:
        return idnumber.parse(value).number
    except forms.ValidationError:
        raise
    except Exception as exc:  # pragma: no cover - defensive
        raise forms.ValidationError("身份证号码无效，请核对。") from exc


def schools_for(user: User) -> QuerySet[Unit]:
    """Schools and kindergartens of the counties the user works in: pupils often attend a
    school in another township of the same county. Units are not personal data, but the
    list still stays inside the user's counties (AC-4)."""
    counties = {grant.scope_region.code[:6] for grant in active_grants(user) if grant.role in WRITE_ROLES}
    if not counties:
        return Unit.objects.none()
    q = Q()
    for code in counties:
        q |= Q(region__code__startswith=code)
    return Unit.objects.filter(q, kind__in=[UnitKind.SCHOOL, UnitKind.KINDERGARTEN], active=True)


def id_number_field(help_text: str = "") -> forms.CharField:
    """Longer than 18 so that a number typed or pasted with spaces reaches the parser, which
    removes them and decides (a browser would cut a pasted number at maxlength)."""
    return forms.CharField(label="公民身份号码", max_length=24, required=False, help_text=help_text)


def phone_field() -> forms.CharField:
    """Room for spaces and dashes typed into a number; the validator removes them and decides."""
    return forms.CharField(label="联系电话", max_length=32, required=False)


class KeepSecretsMixin:
    """ID and phone numbers are never sent back to the browser in full (DP-3): on an edit the
    input is empty with the masked value as placeholder, and an empty input keeps the stored
    value. Typing a new value replaces it."""

    SECRET_FIELDS: tuple[str, ...] = ()
    instance: Any
    fields: Any
    initial: Any

    def _hide_secrets(self) -> None:
        for name in self.SECRET_FIELDS:
            stored = getattr(self.instance, name, "") if self.instance.pk else ""
            if stored:
                masked = mask_phone(stored) if name == "phone" else mask_id(stored)
                self.initial[name] = ""
                self.fields[name].widget.attrs["placeholder"] = f"已登记 {masked}，不修改请留空"
                self.fields[name].help_text = "出于隐私保护不显示完整号码；留空表示保持不变。"

    def _kept(self, name: str, value: str) -> str:
        if not value and self.instance.pk:
            return str(getattr(self.instance, name, "") or "")
        return value


class ChildForm(KeepSecretsMixin, forms.ModelForm[Child]):
    SECRET_FIELDS = ("id_number",)
    id_number = id_number_field(help_text="填写后自动带出出生日期和性别。无户籍儿童可不填。")

    income_sources = forms.MultipleChoiceField(
        label="家庭经济来源", choices=c.Income.choices, required=False, widget=forms.CheckboxSelectMultiple
    )
    assistance = forms.MultipleChoiceField(
        label="救助帮扶情况",
        choices=c.Assistance.choices,
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )
    village = RegionChoiceField(label="所属村（社区）", queryset=Region.objects.none())

    class Meta:
        model = Child
        fields = [
            "name",
            "id_number",
            "sex",
            "birth_date",
            "ethnicity",
            "village",
            "hukou_registered",
            "hukou_rural",
            "hukou_place",
            "current_address",
            "health",
            "disability_category",
            "disability_grade",
            "illness",
            "schooling",
            "school",
            "grade",
            "boarding",
            "household_address",
            "income_sources",
            "assistance",
            "care_type",
            "guardianship_rating",
            "is_in_difficulty",
            "is_de_facto_orphan",
            "key_manual",
            "key_manual_reason",
        ]
        widgets = {"birth_date": forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")}

    def __init__(self, *args: Any, user: User, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        villages = villages_writable_by(user).select_related("parent")
        if self.instance.pk:  # keep the current village selectable even if outside new grants
            villages = villages | Region.objects.filter(pk=self.instance.village_id)
        self.fields["village"].queryset = villages.order_by("code")  # type: ignore[attr-defined]
        self.fields["school"].queryset = schools_for(user)  # type: ignore[attr-defined]
        self.fields["sex"].required = False
        self.fields["birth_date"].required = False
        self._hide_secrets()

    def clean_id_number(self) -> str:
        return _clean_id(self._kept("id_number", self.cleaned_data.get("id_number", "")))

    def clean_name(self) -> str:
        name: str = self.cleaned_data["name"].strip()
        if not name:
            raise forms.ValidationError("请填写姓名。")
        return name

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        number = data.get("id_number")
        if number:
            facts = idnumber.parse(number)
            if data.get("birth_date") and data["birth_date"] != facts.birth_date:
                self.add_error("birth_date", "出生日期与身份证号码不一致。")
            if data.get("sex") and data["sex"] != facts.sex:
                self.add_error("sex", "性别与身份证号码不一致。")
            data["birth_date"] = data.get("birth_date") or facts.birth_date
            data["sex"] = data.get("sex") or facts.sex
        self._add_errors(validation.child_errors(data.get))
        return data

    def _add_errors(self, errors: dict[str, str]) -> None:
        for name, message in errors.items():
            if name not in self.errors:
                self.add_error(name, message)


class ParentForm(KeepSecretsMixin, forms.ModelForm[Parent]):
    SECRET_FIELDS = ("id_number", "phone")
    id_number = id_number_field()
    phone = phone_field()

    work_province = RegionChoiceField(
        label="务工省份",
        required=False,
        queryset=Region.objects.filter(level=RegionLevel.PROVINCE, valid_to__isnull=True),
    )
    work_city = RegionChoiceField(
        label="务工城市",
        required=False,
        queryset=Region.objects.filter(level=RegionLevel.CITY, valid_to__isnull=True),
    )

    class Meta:
        model = Parent
        fields = [
            "name",
            "id_number",
            "birth_date",
            "phone",
            "status",
            "work_province",
            "work_city",
            "work_detail",
            "away_since",
            "incapacity_reason",
            "incapacity_note",
        ]
        widgets = {
            "birth_date": forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
            "away_since": forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
        }

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._hide_secrets()

    def clean_id_number(self) -> str:
        return _clean_id(self._kept("id_number", self.cleaned_data.get("id_number", "")))

    def clean_phone(self) -> str:
        return validation.clean_phone(self._kept("phone", self.cleaned_data.get("phone", "")))

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        city = data.get("work_city")
        if city and not data.get("work_province"):
            data["work_province"] = city.parent
        for name, message in validation.parent_errors(data.get).items():
            if name not in self.errors:
                self.add_error(name, message)
        return data


class GuardianForm(KeepSecretsMixin, forms.ModelForm[EntrustedGuardian]):
    SECRET_FIELDS = ("id_number", "phone")
    id_number = id_number_field()
    phone = phone_field()

    present = forms.BooleanField(label="有受委托监护人", required=False)

    class Meta:
        model = EntrustedGuardian
        fields = [
            "name",
            "id_number",
            "phone",
            "relation",
            "address",
            *EntrustedGuardian.CHECKLIST,
            "assessed_by",
            "assessed_on",
        ]
        widgets = {"assessed_on": forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")}

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._hide_secrets()
        # A new EntrustedGuardian() already has its uuid4 key: ask the state, not the pk.
        self.fields["present"].initial = not self.instance._state.adding
        if self.data and not self.data.get(self.add_prefix("present")):
            for name in ("name", "relation"):
                self.fields[name].required = False

    def clean_id_number(self) -> str:
        return _clean_id(self._kept("id_number", self.cleaned_data.get("id_number", "")))

    def clean_phone(self) -> str:
        return validation.clean_phone(self._kept("phone", self.cleaned_data.get("phone", "")))

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if data.get("present"):
            for name, message in validation.guardian_errors(data.get).items():
                if name not in self.errors:
                    self.add_error(name, message)
        return data

    def values(self) -> dict[str, Any] | None:
        if not self.cleaned_data.get("present"):
            return None
        return {name: self.cleaned_data.get(name) for name in self.Meta.fields}


class VersionForm(forms.Form):
    version = forms.IntegerField(widget=forms.HiddenInput, min_value=1)


class ExitForm(forms.Form):
    version = forms.IntegerField(widget=forms.HiddenInput, min_value=1)
    exit_reason = forms.ChoiceField(label="退出原因", choices=[("", "请选择"), *c.ExitReason.choices])
    exit_date = forms.DateField(label="退出日期", widget=forms.DateInput(attrs={"type": "date"}))
    exit_note = forms.CharField(label="说明", required=False, max_length=200)

    def clean_exit_date(self) -> dt.date:
        day: dt.date = self.cleaned_data["exit_date"]
        if day > timezone.localdate():
            raise forms.ValidationError("退出日期不能晚于今天。")
        return day


class ReactivateForm(forms.Form):
    version = forms.IntegerField(widget=forms.HiddenInput, min_value=1)
    reason = forms.CharField(label="恢复原因", max_length=200)


REVEAL_FIELDS = {
    "child_id": "儿童身份证号码",
    "father_id": "父亲身份证号码",
    "mother_id": "母亲身份证号码",
    "father_phone": "父亲电话",
    "mother_phone": "母亲电话",
    "guardian_id": "受委托监护人身份证号码",
    "guardian_phone": "受委托监护人电话",
}


class RevealForm(forms.Form):
    field = forms.ChoiceField(choices=list(REVEAL_FIELDS.items()))
    reason = forms.CharField(label="查看原因", max_length=200, min_length=2)


class LedgerFilterForm(forms.Form):
    q = forms.CharField(label="搜索", required=False, max_length=40)
    township = forms.ChoiceField(label="乡镇", required=False)
    village = forms.ChoiceField(label="村（社区）", required=False)
    category = forms.ChoiceField(label="类别", required=False, choices=BLANK + CATEGORY_CHOICES)
    care_type = forms.ChoiceField(label="监护类型", required=False, choices=BLANK + c.CareType.choices)
    rating = forms.ChoiceField(label="监护评估", required=False, choices=BLANK + c.Rating.choices)
    schooling = forms.ChoiceField(label="就学", required=False, choices=BLANK + c.Schooling.choices)
    key = forms.ChoiceField(label="重点对象", required=False, choices=[*BLANK, ("1", "是"), ("0", "否")])
    age_band = forms.ChoiceField(
        label="年龄段",
        required=False,
        choices=[*BLANK, *AGE_BAND_LABELS.items()],
    )
    sex = forms.ChoiceField(label="性别", required=False, choices=BLANK + c.Sex.choices)
    risk_colour = forms.ChoiceField(
        label="风险等级", required=False, choices=[*BLANK, *c.RiskColour.choices, (NO_COLOUR, "未评定")]
    )
    status = forms.ChoiceField(
        label="状态", required=False, choices=[("active", "在册"), ("exited", "已退出"), ("", "全部")]
    )
    # Shown only to users who see more than one county (a city or province grant).
    county = forms.ChoiceField(label="县（市、区）", required=False)

    def __init__(self, *args: Any, user: User, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        regions = list(
            regions_visible_to(user).order_by("code").values_list("id", "name", "level", "parent_id")
        )
        townships = [(str(rid), name) for rid, name, level, _ in regions if level == RegionLevel.TOWNSHIP]
        selected = self.data.get("township", "")
        villages = [
            (str(rid), name)
            for rid, name, level, parent in regions
            if level == RegionLevel.VILLAGE and (not selected or str(parent) == selected)
        ]
        self.fields["township"].choices = BLANK + townships  # type: ignore[attr-defined]
        self.fields["village"].choices = BLANK + villages  # type: ignore[attr-defined]
        counties = {parent for _, _, level, parent in regions if level == RegionLevel.TOWNSHIP}
        if len(counties) > 1:
            names = Region.objects.filter(pk__in=counties).order_by("code").values_list("id", "name")
            self.fields["county"].choices = BLANK + [(str(rid), name) for rid, name in names]  # type: ignore[attr-defined]
        else:
            del self.fields["county"]

    def filters(self) -> LedgerFilters:
        if not self.is_valid():
            return LedgerFilters()
        data = {k: v for k, v in self.cleaned_data.items() if v is not None}
        if "status" not in self.data:
            data["status"] = c.Status.ACTIVE
        return LedgerFilters(**data)
