"""Forms of the care app. They validate and normalise; services write (style rule 6)."""

import datetime as dt
import uuid
from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import UploadedFile
from django.utils import timezone

from accounts.models import Role
from care import rules
from care.choices import Condition, Present, VisitorRole
from care.models import INTERVAL_FIELDS, CarePolicy, Visit, field_label
from registry import choices as rc
from registry.access import user_roles
from registry.models import Child

# The visitor role a user's account suggests (the form's default).
DEFAULT_VISITOR_ROLE = {
    Role.VILLAGE_WORKER: VisitorRole.VILLAGE_WORKER,
    Role.VISITING_CADRE: VisitorRole.RESIDENT_CADRE,
    Role.SOCIAL_WORKER: VisitorRole.SOCIAL_WORKER,
    Role.TOWNSHIP_SUPERVISOR: VisitorRole.SUPERVISOR,
}
NO_CHANGE = [("", "不调整")]
LIMIT_FIELDS = ("contact_limit_days", "agreement_warning_days", "aging_warning_days")
# Optional in a post (the county's current value stays): older forms and scripts omit it.
GAP_FIELD = "service_gap_days"


class MultipleFileInput(forms.ClearableFileInput):
    allow_multiple_selected = True


class MultiplePhotoField(forms.FileField):
    """Several photos in one input; the content is checked later by the upload guard."""

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("widget", MultipleFileInput(attrs={"accept": "image/jpeg,image/png"}))
        super().__init__(**kwargs)

    def clean(self, data: Any, initial: Any = None) -> list[UploadedFile[bytes]]:  # type: ignore[override]
        items = data if isinstance(data, list | tuple) else [data]
        return [super(MultiplePhotoField, self).clean(item, initial) for item in items if item]


class VisitForm(forms.ModelForm[Visit]):
    """The visit form: one column, big checkboxes, today and 上门走访 preselected."""

    submission_key = forms.UUIDField(widget=forms.HiddenInput)
    version = forms.IntegerField(widget=forms.HiddenInput, min_value=1)
    present = forms.MultipleChoiceField(
        label="在场人员",
        choices=Present.choices,
        widget=forms.CheckboxSelectMultiple,
        error_messages={"required": "请选择在场人员。"},
    )
    photos = MultiplePhotoField(label="照片（可选，JPEG 或 PNG）", required=False)

    FINDING_FIELDS = (
        "guardian_at_home",
        "guardian_capable",
        "living_conditions_ok",
        "hazards_found",
        "hazards_note",
        "attending_school",
        "health_ok",
        "emotional_ok",
        "parent_contact_recent",
    )

    class Meta:
        model = Visit
        fields = [
            "visited_on",
            "kind",
            "visitor_role",
            "present",
            "present_other",
            "guardian_at_home",
            "guardian_capable",
            "living_conditions_ok",
            "hazards_found",
            "hazards_note",
            "attending_school",
            "health_ok",
            "emotional_ok",
            "parent_contact_recent",
            "notes",
            "follow_up_needed",
            "follow_up_note",
            "new_rating",
            "new_care_type",
        ]
        widgets = {
            "visited_on": forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
            "kind": forms.RadioSelect,
            "notes": forms.Textarea(attrs={"rows": 4}),
        }

    def __init__(self, *args: Any, child: Child, user: Any, can_edit_file: bool, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.child = child
        self._choices("visitor_role", [("", "请选择"), *VisitorRole.choices])
        roles = user_roles(user)
        suggested = next((DEFAULT_VISITOR_ROLE[r] for r in DEFAULT_VISITOR_ROLE if r in roles), "")
        today = timezone.localdate()
        self.fields["visited_on"].widget.attrs["max"] = today.isoformat()
        defaults = {
            "visited_on": today,
            "visitor_role": suggested,
            "submission_key": uuid.uuid4(),
            "version": child.version,
        }
        for name, value in defaults.items():
            if not self.initial.get(name):  # the blank instance's values count as unset
                self.initial[name] = value
        if can_edit_file:
            self._choices("new_rating", NO_CHANGE + list(rc.Rating.choices))
            self.fields["new_rating"].help_text = f"当前：{child.get_guardianship_rating_display()}"
            self._choices("new_care_type", NO_CHANGE + list(rc.CareType.choices))
            self.fields["new_care_type"].help_text = f"当前：{child.get_care_type_display()}"
        else:  # only those who may change the file change it through a visit
            del self.fields["new_rating"], self.fields["new_care_type"]

    def _choices(self, name: str, choices: list[tuple[str, str]]) -> None:
        field = self.fields[name]
        assert isinstance(field, forms.ChoiceField)
        field.choices = choices

    def clean_visited_on(self) -> dt.date:
        day: dt.date = self.cleaned_data["visited_on"]
        if day > timezone.localdate():
            raise ValidationError("走访日期不能晚于今天。")
        if day < self.child.birth_date:
            raise ValidationError("走访日期不能早于儿童的出生日期。")
        return day

    def clean(self) -> dict[str, Any]:
        super().clean()
        data = self.cleaned_data
        if data.get("hazards_found") and not (data.get("hazards_note") or "").strip():
            self.add_error("hazards_note", "请简要说明发现的安全隐患。")
        if data.get("follow_up_needed") and not (data.get("follow_up_note") or "").strip():
            self.add_error("follow_up_note", "请填写需要跟进的事项。")
        if Present.OTHER in (data.get("present") or []) and not (data.get("present_other") or "").strip():
            self.add_error("present_other", "请填写其他在场人员。")
        return data

    def values(self) -> dict[str, Any]:
        """The visit's fields for care.services.visit_record."""
        data = self.cleaned_data
        return {name: data.get(name, "") for name in self.Meta.fields}

    def finding_fields(self) -> list[forms.BoundField]:
        return [self[name] for name in self.FINDING_FIELDS]


class CarePolicyForm(forms.Form):
    """The county's intervals, warning limits and the colour of each condition."""

    def __init__(self, *args: Any, policy: CarePolicy, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.policy = policy
        for name in (*INTERVAL_FIELDS.values(), *LIMIT_FIELDS, GAP_FIELD):
            self.fields[name] = forms.IntegerField(
                label=field_label(CarePolicy, name),
                required=name != GAP_FIELD,
                min_value=1,
                max_value=365,
                initial=getattr(policy, name),
                error_messages={
                    "required": "请填写天数。",
                    "invalid": "请填写整数天数。",
                    "min_value": "请填写 1 至 365 之间的天数。",
                    "max_value": "请填写 1 至 365 之间的天数。",
                },
                widget=forms.NumberInput(attrs={"inputmode": "numeric"}),
            )
        for code in Condition:
            self.fields[f"condition_{code}"] = forms.ChoiceField(
                label=str(code.label), choices=rc.RiskColour.choices, initial=policy.colour_for(code)
            )

    def clean(self) -> dict[str, Any]:
        super().clean()
        data = self.cleaned_data
        intervals = {colour: data.get(name) for colour, name in INTERVAL_FIELDS.items()}
        if all(isinstance(days, int) for days in intervals.values()):
            for colour, message in rules.interval_order_errors(intervals):  # type: ignore[arg-type]
                self.add_error(INTERVAL_FIELDS[colour], message)
        return data

    def interval_fields(self) -> list[forms.BoundField]:
        return [self[name] for name in INTERVAL_FIELDS.values()]

    def limit_fields(self) -> list[forms.BoundField]:
        return [self[name] for name in (*LIMIT_FIELDS, GAP_FIELD)]

    def condition_fields(self) -> list[forms.BoundField]:
        return [self[f"condition_{code}"] for code in Condition]

    def values(self) -> dict[str, Any]:
        data = self.cleaned_data
        values: dict[str, Any] = {name: data[name] for name in (*INTERVAL_FIELDS.values(), *LIMIT_FIELDS)}
        values[GAP_FIELD] = data.get(GAP_FIELD) or self.policy.service_gap_days
        values["conditions"] = {str(code): data[f"condition_{code}"] for code in Condition}
        return values
