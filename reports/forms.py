"""Forms of the reports app: they validate and normalise; services write and decide the rest."""

import datetime as dt
import uuid
from typing import Any

from django import forms
from django.utils import timezone

from accounts.models import RoleGrant, User
from geo.models import Region, Unit
from registry.access import children_visible_to
from registry.forms import RegionChoiceField
from registry.models import Child
from reports import routing
from reports.access import filing_grants
from reports.models import MemberKind, PlacementKind, Report, ResponseKind, UnknownSex
from reports.selectors import default_township, townships_for_filing
from reports.triggers import CHOICES as TRIGGER_CHOICES

DATE = {"type": "date"}
DATETIME = {"type": "datetime-local"}


def _now() -> dt.datetime:
    return timezone.localtime().replace(second=0, microsecond=0)


def _when(label: str) -> forms.DateTimeField:
    return forms.DateTimeField(
        label=label,
        initial=_now,
        widget=forms.DateTimeInput(attrs=DATETIME, format="%Y-%m-%dT%H:%M"),
        error_messages={"required": f"请填写{label}。", "invalid": f"{label}格式不正确。"},
    )


def _day(label: str) -> forms.DateField:
    return forms.DateField(
        label=label,
        initial=timezone.localdate,
        widget=forms.DateInput(attrs=DATE, format="%Y-%m-%d"),
        error_messages={"required": f"请填写{label}。", "invalid": f"{label}格式不正确。"},
    )


def _text(label: str, max_length: int, *, required: bool = True, rows: int = 0) -> forms.CharField:
    widget = forms.Textarea(attrs={"rows": rows}) if rows else forms.TextInput()
    return forms.CharField(
        label=label,
        max_length=max_length,
        required=required,
        widget=widget,
        error_messages={"required": f"请填写{label}。", "max_length": f"{label}不能超过 {max_length} 个字。"},
    )


class GrantChoiceField(forms.ModelChoiceField[RoleGrant]):
    def label_from_instance(self, obj: RoleGrant) -> str:
        return f"{obj.unit.name}（{obj.get_role_display()}）"


class ChildField(forms.ModelChoiceField[Child]):
    """A file among those the user may see, picked from search results (never rendered as a
    select: the template lists only the results)."""

    widget = forms.HiddenInput


class ReportForm(forms.Form):
    """The mandatory report. The child search and the filing share the form, so that a search
    keeps what was typed; the search term travels by POST, never in a URL (DP-5)."""

    submission_key = forms.UUIDField(widget=forms.HiddenInput, initial=uuid.uuid4)
    q = forms.CharField(label="查找儿童档案", max_length=32, required=False)
    child = ChildField(
        queryset=Child.objects.none(),
        required=False,
        error_messages={"invalid_choice": "请从搜索结果中选择儿童。"},
    )
    unknown_name = _text("儿童姓名（未建档）", 32, required=False)
    unknown_sex = forms.ChoiceField(
        label="性别",
        choices=UnknownSex.choices,
        initial=UnknownSex.UNKNOWN,
        widget=forms.RadioSelect,
        required=False,
    )
    unknown_age = forms.IntegerField(
        label="大约年龄（岁）",
        required=False,
        min_value=0,
        max_value=17,
        widget=forms.NumberInput(attrs={"inputmode": "numeric"}),
        error_messages={
            "min_value": "年龄不能小于 0。",
            "max_value": "强制报告针对未成年人：年龄不能超过 17 岁。",
        },
    )
    township = RegionChoiceField(
        label="发现儿童的乡镇（街道）",
        queryset=Region.objects.none(),
        required=False,
        error_messages={"invalid_choice": "请选择本县的乡镇（街道）。"},
    )
    triggers = forms.MultipleChoiceField(
        label="发现的情形",
        choices=TRIGGER_CHOICES,
        widget=forms.CheckboxSelectMultiple,
        error_messages={
            "required": "请至少选择一项发现的情形。",
            "invalid_choice": "发现的情形中有无效的选项。",
        },
    )
    found_at = _when("发现时间")
    found_place = _text("发现地点", 128)
    description = _text("情况描述", 2000, rows=4)
    grant = GrantChoiceField(
        label="报告人单位和身份",
        queryset=RoleGrant.objects.none(),
        empty_label=None,
        error_messages={"invalid_choice": "请选择您所在的单位。", "required": "请选择您所在的单位。"},
    )

    def __init__(self, *args: Any, user: User, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["child"].queryset = children_visible_to(user)  # type: ignore[attr-defined]
        self.fields["township"].queryset = townships_for_filing(user)  # type: ignore[attr-defined]
        self.fields["township"].initial = default_township(user)
        grants = filing_grants(user)
        self.fields["grant"].queryset = RoleGrant.objects.filter(  # type: ignore[attr-defined]
            pk__in=[g.pk for g in grants]
        ).select_related("unit")
        if grants:
            self.fields["grant"].initial = grants[0].pk
        self.fields["q"].widget.attrs.update(
            placeholder="姓名、拼音首字母或身份证后 4 位", autocomplete="off"
        )
        self.fields["found_place"].widget.attrs.update(placeholder="如：甲一村村委会旁的小卖部")

    def clean_unknown_name(self) -> str:
        return " ".join(str(self.cleaned_data.get("unknown_name") or "").split())


class _OnDetailPage(forms.Form):
    """The action forms share the detail page: each gets its own id prefix."""

    id_prefix = "report"

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("auto_id", f"{self.id_prefix}_%s")
        super().__init__(*args, **kwargs)


class AttendForm(_OnDetailPage):
    id_prefix = "attend"
    attended_at = _when("到场时间")


class ActionForm(_OnDetailPage):
    id_prefix = "action"
    kind = forms.ChoiceField(
        label="处置措施", choices=ResponseKind.choices, error_messages={"required": "请选择处置措施。"}
    )
    done_at = _when("处置时间")
    note = _text("说明", 500, required=False, rows=2)


class PlacementForm(_OnDetailPage):
    id_prefix = "placement"
    kind = forms.ChoiceField(
        label="安置类型", choices=PlacementKind.choices, error_messages={"required": "请选择安置类型。"}
    )
    place = _text("安置地点或照料人", 128)
    started_on = _day("开始日期")


class PlacementEndForm(_OnDetailPage):
    id_prefix = "end"
    ended_on = _day("结束日期")
    return_assessment = _text("返家评估", 1000, rows=3)


class FeedbackForm(_OnDetailPage):
    id_prefix = "feedback"
    feedback = _text("给报告人的反馈", 200, rows=2)


class UnitChoiceField(forms.ModelChoiceField[Unit]):
    def label_from_instance(self, obj: Unit) -> str:
        return f"{obj.name}（{obj.get_kind_display()}）"


class RerouteForm(_OnDetailPage):
    id_prefix = "reroute"
    unit = UnitChoiceField(
        label="改派至",
        queryset=Unit.objects.none(),
        error_messages={"required": "请选择改派的公安机关。", "invalid_choice": "请选择本县的公安机关。"},
    )
    reason = _text("改派原因", 120)

    def __init__(self, *args: Any, report: Report, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        units = routing.police_units_of(report.county).exclude(pk=report.routed_unit_id)
        self.fields["unit"].queryset = units  # type: ignore[attr-defined]


class UserChoiceField(forms.ModelChoiceField[User]):
    def label_from_instance(self, obj: User) -> str:
        return str(obj)


class MemberForm(_OnDetailPage):
    id_prefix = "member"
    kind = forms.ChoiceField(
        label="身份", choices=MemberKind.choices, error_messages={"required": "请选择身份。"}
    )
    member = UserChoiceField(
        label="人员",
        queryset=User.objects.none(),
        error_messages={"required": "请选择人员。", "invalid_choice": "请从列表中选择本县的相关人员。"},
    )

    def __init__(self, *args: Any, candidates: list[User], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["member"].queryset = User.objects.filter(  # type: ignore[attr-defined]
            pk__in=[user.pk for user in candidates]
        ).order_by("full_name", "username")


class LinkForm(forms.Form):
    q = forms.CharField(label="查找儿童档案", max_length=32, required=False)
    child = ChildField(
        queryset=Child.objects.none(),
        required=False,
        error_messages={"invalid_choice": "请从搜索结果中选择儿童。"},
    )

    def __init__(self, *args: Any, user: User, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["child"].queryset = children_visible_to(user)  # type: ignore[attr-defined]
        self.fields["q"].widget.attrs.update(
            placeholder="姓名、拼音首字母或身份证后 4 位", autocomplete="off"
        )


class PolicyForm(forms.Form):
    escalate_after_minutes = forms.IntegerField(
        label="未受理首次升级（分钟）",
        min_value=5,
        max_value=720,
        error_messages={
            "required": "请填写分钟数。",
            "min_value": "不能少于 5 分钟。",
            "max_value": "不能超过 720 分钟。",
            "invalid": "请填写整数分钟数。",
        },
    )
    escalate_again_minutes = forms.IntegerField(
        label="未受理再次升级（分钟）",
        min_value=10,
        max_value=1440,
        error_messages={
            "required": "请填写分钟数。",
            "min_value": "不能少于 10 分钟。",
            "max_value": "不能超过 1440 分钟。",
            "invalid": "请填写整数分钟数。",
        },
    )

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        first, again = data.get("escalate_after_minutes"), data.get("escalate_again_minutes")
        if first is not None and again is not None and again <= first:
            self.add_error("escalate_again_minutes", "再次升级的时间必须晚于首次升级的时间。")
        return data


class JurisdictionForm(forms.Form):
    """One choice per township of the county: the station that receives its reports, or none
    (the county police bureau receives them)."""

    NONE = "（无派出所：由县公安局受理）"

    def __init__(
        self,
        *args: Any,
        townships: list[Region],
        stations: list[Unit],
        current: dict[Any, Any],
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        self.townships = townships
        self.stations = {str(station.pk): station for station in stations}
        choices = [("", self.NONE), *((str(station.pk), station.name) for station in stations)]
        for township in townships:
            unit = current.get(township.pk)
            self.fields[f"t_{township.pk}"] = forms.ChoiceField(
                label=township.name,
                choices=choices,
                required=False,
                initial=str(unit.pk) if unit else "",
                error_messages={"invalid_choice": "请选择本县的派出所。"},
            )

    def chosen(self) -> dict[Any, Unit | None]:
        return {
            township.pk: self.stations.get(self.cleaned_data.get(f"t_{township.pk}") or "")
            for township in self.townships
        }
