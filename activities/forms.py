"""Forms of the activities app: they validate and normalise; services write.

Every choice a form offers is cut to the user's scope (AC-4): townships and villages where
the user may hold an activity, providers of the user's county, children the user sees.
"""

import datetime as dt
import decimal
import uuid
from dataclasses import dataclass
from typing import Any

from django import forms
from django.db.models import Q, QuerySet

from accounts.models import RoleGrant, User
from activities.access import provider_grants, region_grants, region_reader_grants
from activities.models import Activity, AdultRelation, TargetGroup
from activities.selectors import ListFilters
from geo.models import Region, RegionLevel, Unit
from providers.choices import ServiceKind
from providers.models import Provider
from registry.models import Child

DATE = {"type": "date"}
COUNTY_CODE_LENGTH = 6
MONTH_FORMAT = "%Y-%m"


def _required(label: str) -> dict[str, str]:
    return {"required": f"请填写{label}。", "invalid_choice": f"请选择有效的{label}。"}


def _choice(label: str) -> dict[str, str]:
    return {"required": f"请选择{label}。", "invalid_choice": f"请选择有效的{label}。"}


# --- where a user may hold an activity -------------------------------------------------------


@dataclass(frozen=True)
class Placement:
    """Who organises an activity at (township, village), under which grant."""

    organiser: Unit
    provider: Unit | None


def _county_code(region: Region) -> str:
    return region.code[:COUNTY_CODE_LENGTH]


def _region_allows(grant: RoleGrant, township: Region, village: Region | None) -> bool:
    root = grant.scope_region
    if root.level == RegionLevel.VILLAGE:
        return village is not None and village.pk == root.pk
    return township.code.startswith(root.code)


def placement_for(user: User, township: Region, village: Region | None) -> Placement | None:
    """The organiser (and provider, for provider staff) of an activity the user holds there;
    None when no grant of the user allows it."""
    for grant in region_grants(user):
        if _region_allows(grant, township, village):
            return Placement(organiser=grant.unit, provider=None)
    for grant in provider_grants(user):
        if _county_code(township) == _county_code(grant.unit.region):
            return Placement(organiser=grant.unit, provider=grant.unit)
    return None


def _region_grants(user: User, read: bool) -> list[RoleGrant]:
    return region_reader_grants(user) if read else region_grants(user)


def _roots(user: User, read: bool = False) -> list[str]:
    """Region-code prefixes under which the user may hold (`read`: read) activities."""
    roots = []
    for grant in _region_grants(user, read):
        root = grant.scope_region
        roots.append(root.code[:9] if root.level == RegionLevel.VILLAGE else root.code)
    roots += [_county_code(grant.unit.region) for grant in provider_grants(user)]
    return roots


def townships_for(user: User, *, read: bool = False) -> QuerySet[Region]:
    roots = _roots(user, read)
    if not roots:
        return Region.objects.none()
    prefix = Q()
    for root in roots:
        prefix |= Q(code__startswith=root)
    return Region.objects.filter(prefix, level=RegionLevel.TOWNSHIP, valid_to__isnull=True).order_by("code")


def villages_for(user: User, *, read: bool = False) -> QuerySet[Region]:
    scope = Q(pk__in=[])
    for grant in _region_grants(user, read):
        root = grant.scope_region
        scope |= Q(pk=root.pk) if root.level == RegionLevel.VILLAGE else Q(code__startswith=root.code)
    for grant in provider_grants(user):
        scope |= Q(code__startswith=_county_code(grant.unit.region))
    return Region.objects.filter(scope, level=RegionLevel.VILLAGE, valid_to__isnull=True).order_by("code")


def providers_for(user: User, *, read: bool = False) -> QuerySet[Unit]:
    """Units of the providers register (active) in the counties of the user's region grants."""
    counties = {_county_code(grant.scope_region) for grant in _region_grants(user, read)}
    if not counties:
        return Unit.objects.none()
    prefix = Q()
    for code in counties:
        prefix |= Q(region__code__startswith=code)
    registered = Provider.objects.filter(active=True).values("unit_id")
    return Unit.objects.filter(prefix, pk__in=registered, active=True).order_by("name")


class RegionChoiceField(forms.ModelChoiceField):  # type: ignore[type-arg]
    def label_from_instance(self, obj: Any) -> str:
        return str(obj.name)


class UnitChoiceField(forms.ModelChoiceField):  # type: ignore[type-arg]
    def label_from_instance(self, obj: Any) -> str:
        return str(obj.name)


class ActivityForm(forms.Form):
    """Create or edit an activity. The organiser is the user's own unit; a region user may
    name a provider of the county; provider staff always deliver as their own unit."""

    version = forms.IntegerField(widget=forms.HiddenInput, min_value=1, required=False)
    kind = forms.ChoiceField(
        label="活动类型", choices=ServiceKind.choices, error_messages=_choice("活动类型")
    )
    title = forms.CharField(label="活动名称", max_length=128, error_messages=_required("活动名称"))
    held_on = forms.DateField(
        label="活动日期",
        widget=forms.DateInput(attrs=DATE, format="%Y-%m-%d"),
        error_messages={"required": "请填写活动日期。", "invalid": "请填写正确的日期。"},
    )
    township = RegionChoiceField(label="乡镇", queryset=Region.objects.none(), error_messages=_choice("乡镇"))
    village = RegionChoiceField(
        label="村（社区）",
        queryset=Region.objects.none(),
        required=False,
        empty_label="全乡镇",
        error_messages=_choice("村（社区）"),
    )
    place = forms.CharField(label="地点", max_length=128, error_messages=_required("地点"))
    target_group = forms.ChoiceField(
        label="对象",
        choices=TargetGroup.choices,
        initial=TargetGroup.CHILDREN,
        error_messages=_choice("对象"),
    )
    provider = UnitChoiceField(
        label="服务机构",
        queryset=Unit.objects.none(),
        required=False,
        empty_label="由组织单位自行开展",
        error_messages=_choice("服务机构"),
    )
    note = forms.CharField(
        label="活动内容", required=False, max_length=2000, widget=forms.Textarea(attrs={"rows": 3})
    )

    def __init__(self, *args: Any, user: User, activity: Activity | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.user = user
        self.activity = activity
        self.fields["township"].queryset = townships_for(user)  # type: ignore[attr-defined]
        self.fields["village"].queryset = villages_for(user)  # type: ignore[attr-defined]
        providers = providers_for(user)
        if activity is not None and activity.provider_id:
            providers = providers | Unit.objects.filter(pk=activity.provider_id)
        self.fields["provider"].queryset = providers  # type: ignore[attr-defined]
        if not region_grants(user):
            del self.fields["provider"]  # provider staff deliver as their own unit
        if activity is not None:
            self.fields["version"].required = True
            for name in ("kind", "title", "held_on", "township", "village", "place", "target_group", "note"):
                self.initial[name] = getattr(activity, name)
            self.initial["provider"] = activity.provider
            self.initial["version"] = activity.version

    def clean_title(self) -> str:
        return str(self.cleaned_data["title"]).strip()

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        township, village = data.get("township"), data.get("village")
        if township is None:
            return data
        if village is not None and village.parent_id != township.pk:
            self.add_error("village", "所选村（社区）不在该乡镇。")
            return data
        placement = placement_for(self.user, township, village)
        if placement is None:
            self.add_error("village", "请选择您负责的村（社区）。")
            return data
        data["organiser"] = placement.organiser
        if placement.provider is not None:
            data["provider"] = placement.provider
        data["county"] = township.parent
        return data

    def values(self) -> dict[str, Any]:
        data = self.cleaned_data
        # Editing keeps the unit that organised the activity.
        organiser = self.activity.organiser if self.activity is not None else data["organiser"]
        return {
            "kind": data["kind"],
            "title": data["title"],
            "organiser": organiser,
            "provider": data.get("provider"),
            "county": data["county"],
            "township": data["township"],
            "village": data["village"],
            "place": data["place"].strip(),
            "held_on": data["held_on"],
            "target_group": data["target_group"],
            "note": data["note"].strip(),
        }


class FilterForm(forms.Form):
    kind = forms.ChoiceField(label="活动类型", required=False, choices=[("", "全部"), *ServiceKind.choices])
    township = RegionChoiceField(
        label="乡镇", queryset=Region.objects.none(), required=False, empty_label="全部"
    )
    village = RegionChoiceField(
        label="村（社区）", queryset=Region.objects.none(), required=False, empty_label="全部"
    )
    provider = UnitChoiceField(
        label="服务机构", queryset=Unit.objects.none(), required=False, empty_label="全部"
    )
    month = forms.CharField(
        label="月份", required=False, widget=forms.DateInput(attrs={"type": "month"}), max_length=7
    )

    def __init__(self, *args: Any, user: User, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # The list's filters offer what the user may read (a county officer reads the county).
        self.fields["township"].queryset = townships_for(user, read=True)  # type: ignore[attr-defined]
        self.fields["village"].queryset = villages_for(user, read=True)  # type: ignore[attr-defined]
        self.fields["provider"].queryset = providers_for(user, read=True)  # type: ignore[attr-defined]
        # "from" and "to" (a Python keyword) are added by name; stats' care numbers link here.
        for name, label in (("from", "开始日期"), ("to", "结束日期")):
            self.fields[name] = forms.DateField(
                label=label, required=False, widget=forms.DateInput(attrs=DATE)
            )

    def clean_month(self) -> str:
        month = str(self.cleaned_data.get("month") or "").strip()
        if month:
            try:
                dt.datetime.strptime(month, MONTH_FORMAT)  # noqa: DTZ007 - a month, no time
            except ValueError as exc:
                raise forms.ValidationError("请按“年-月”填写月份。") from exc
        return month

    def filters(self) -> ListFilters:
        if not self.is_bound or not self.is_valid():
            return ListFilters()
        data = self.cleaned_data

        def pk(name: str) -> uuid.UUID | None:
            return data[name].pk if data.get(name) else None

        return ListFilters(
            kind=data.get("kind") or "",
            township=pk("township"),
            village=pk("village"),
            provider=pk("provider"),
            month=data.get("month") or "",
            start=data.get("from"),
            end=data.get("to"),
        )


class PickForm(forms.Form):
    """The search box over the pickable children (POSTed: names stay out of URLs)."""

    q = forms.CharField(label="姓名、拼音首字母或身份证号后四位", required=False, max_length=40)
    village = RegionChoiceField(
        label="村（社区）", queryset=Region.objects.none(), required=False, empty_label="全部"
    )
    key = forms.ChoiceField(label="重点对象", required=False, choices=[("", "全部"), ("1", "仅重点对象")])

    def __init__(self, *args: Any, activity: Activity, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        villages = Region.objects.filter(
            parent_id=activity.township_id, level=RegionLevel.VILLAGE, valid_to__isnull=True
        )
        self.fields["village"].queryset = villages.order_by("code")  # type: ignore[attr-defined]

    def terms(self) -> dict[str, str]:
        if not self.is_valid():
            return {"q": "", "village": "", "key": ""}
        village = self.cleaned_data.get("village")
        return {
            "q": self.cleaned_data.get("q") or "",
            "village": str(village.pk) if village else "",
            "key": self.cleaned_data.get("key") or "",
        }


class AdultForm(forms.Form):
    name = forms.CharField(label="姓名", max_length=64, error_messages=_required("姓名"))
    relation = forms.ChoiceField(label="身份", choices=AdultRelation.choices, error_messages=_choice("身份"))
    child = forms.ModelChoiceField(
        label="对应儿童（可不填）",
        queryset=Child.objects.none(),
        required=False,
        empty_label="不关联",
        error_messages=_choice("儿童"),
    )

    def __init__(self, *args: Any, children: QuerySet[Child], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["child"].queryset = children.order_by("file_no")  # type: ignore[attr-defined]
        self.fields["child"].label_from_instance = lambda child: child.name  # type: ignore[attr-defined]

    def clean_name(self) -> str:
        name = str(self.cleaned_data["name"]).strip()
        if not name:
            raise forms.ValidationError("请填写姓名。")
        return name


class VolunteerForm(forms.Form):
    name = forms.CharField(label="志愿者姓名", max_length=64, error_messages=_required("志愿者姓名"))
    team = forms.CharField(label="所属队伍", max_length=128, required=False)
    hours = forms.DecimalField(
        label="服务时长（小时）",
        min_value=decimal.Decimal("0.5"),
        max_value=decimal.Decimal(24),
        max_digits=5,
        decimal_places=1,
        widget=forms.NumberInput(attrs={"step": "0.5", "inputmode": "decimal"}),
        error_messages={
            "required": "请填写服务时长。",
            "invalid": "请填写数字，如 2 或 1.5。",
            "min_value": "服务时长应在 0.5 至 24 小时之间。",
            "max_value": "服务时长应在 0.5 至 24 小时之间。",
            "max_decimal_places": "服务时长最多保留一位小数。",
            "max_digits": "服务时长应在 0.5 至 24 小时之间。",
        },
    )
    is_me = forms.BooleanField(label="这是我本人的志愿服务", required=False)

    def clean_name(self) -> str:
        name = str(self.cleaned_data["name"]).strip()
        if not name:
            raise forms.ValidationError("请填写志愿者姓名。")
        return name
