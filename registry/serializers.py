"""Child files over the API. Serializers only validate and normalise; writes go through
registry.services (house style rule 2), and every ID or phone number goes out masked."""

from typing import Any

from django.core.exceptions import ValidationError as DjangoValidationError
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from accounts.models import User
from core import idnumber
from core.api import MaskedIdField, MaskedPhoneField, QuerySerializer
from core.masking import mask_id, mask_phone
from geo.models import Region, RegionLevel, Unit
from geo.serializers import RegionBriefSerializer
from registry import choices as c
from registry import validation
from registry.access import villages_writable_by
from registry.forms import schools_for
from registry.models import Child, EntrustedGuardian, Parent
from registry.selectors import AGE_BAND_LABELS, CATEGORY_CHOICES, NO_COLOUR, LedgerFilters
from registry.services import FileData, family_values

MASKED_INPUT = "请填写完整号码；如不修改，请原样提交读取时得到的号码或省略此字段。"


# Reading ---------------------------------------------------------------------------------


@extend_schema_field(
    {
        "type": "string",
        "enum": c.ParentStatus.values,
        "description": "\n".join(f"* `{value}` - {label}" for value, label in c.ParentStatus.choices),
    },
    component_name="ParentStatusEnum",
)
class ParentStatusField(serializers.ChoiceField):
    """The parent's status. Its own schema component, because a second enum named "status"
    (the file's) would otherwise collide in drf-spectacular's enum naming."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(choices=c.ParentStatus.choices, label="当前状态", **kwargs)


class UnitBriefSerializer(serializers.ModelSerializer[Unit]):
    class Meta:
        model = Unit
        fields = ["id", "name"]
        read_only_fields = fields


class ParentSerializer(serializers.ModelSerializer[Parent]):
    id_number = MaskedIdField(read_only=True, label="公民身份号码（已遮蔽）")
    phone = MaskedPhoneField(read_only=True, label="联系电话（已遮蔽）")
    status = ParentStatusField(read_only=True)
    work_province = RegionBriefSerializer(read_only=True, allow_null=True, label="务工省份")
    work_city = RegionBriefSerializer(read_only=True, allow_null=True, label="务工城市")

    class Meta:
        model = Parent
        fields = [
            "id",
            "role",
            "name",
            "birth_date",
            "id_number",
            "phone",
            "status",
            "work_province",
            "work_city",
            "work_detail",
            "away_since",
            "incapacity_reason",
            "incapacity_note",
        ]
        read_only_fields = fields


class GuardianSerializer(serializers.ModelSerializer[EntrustedGuardian]):
    id_number = MaskedIdField(read_only=True, label="公民身份号码（已遮蔽）")
    phone = MaskedPhoneField(read_only=True, label="联系电话（已遮蔽）")
    is_eligible = serializers.BooleanField(read_only=True, label="评估条件全部满足")

    class Meta:
        model = EntrustedGuardian
        fields = [
            "id",
            "name",
            "id_number",
            "phone",
            "relation",
            "address",
            *EntrustedGuardian.CHECKLIST,
            "assessed_by",
            "assessed_on",
            "is_eligible",
        ]
        read_only_fields = fields


_SUMMARY_FIELDS = [
    "id",
    "file_no",
    "version",
    "name",
    "sex",
    "birth_date",
    "id_number",
    "village",
    "township",
    "schooling",
    "care_type",
    "guardianship_rating",
    "is_left_behind",
    "is_in_difficulty",
    "is_de_facto_orphan",
    "is_key",
    "status",
]


class ChildSummarySerializer(serializers.ModelSerializer[Child]):
    """A row of the ledger. Callers select_related village and township."""

    id_number = MaskedIdField(read_only=True, label="公民身份号码（已遮蔽）")
    village = RegionBriefSerializer(read_only=True, label="所属村（社区）")
    township = RegionBriefSerializer(read_only=True, label="所属乡镇")

    class Meta:
        model = Child
        fields = _SUMMARY_FIELDS
        read_only_fields = fields


class ChildSerializer(ChildSummarySerializer):
    """The whole file. Callers prefetch parents (with their work regions) and the guardian."""

    county = RegionBriefSerializer(read_only=True, label="所属县")
    school = UnitBriefSerializer(read_only=True, allow_null=True, label="就读学校")
    father = serializers.SerializerMethodField(label="父亲")
    mother = serializers.SerializerMethodField(label="母亲")
    guardian = serializers.SerializerMethodField(label="受委托监护人")

    class Meta:
        model = Child
        fields = [
            *_SUMMARY_FIELDS,
            "county",
            "ethnicity",
            "hukou_registered",
            "hukou_rural",
            "hukou_place",
            "current_address",
            "health",
            "disability_category",
            "disability_grade",
            "illness",
            "school",
            "grade",
            "boarding",
            "household_address",
            "income_sources",
            "assistance",
            "key_reasons",
            "key_manual",
            "key_manual_reason",
            "exit_reason",
            "exit_date",
            "exit_note",
            "created_at",
            "updated_at",
            "father",
            "mother",
            "guardian",
        ]
        read_only_fields = fields

    def _parent(self, child: Child, role: str) -> dict[str, Any] | None:
        parent = next((p for p in child.parents.all() if p.role == role), None)
        return ParentSerializer(parent).data if parent else None

    @extend_schema_field(ParentSerializer(allow_null=True))
    def get_father(self, obj: Child) -> dict[str, Any] | None:
        return self._parent(obj, c.ParentRole.FATHER)

    @extend_schema_field(ParentSerializer(allow_null=True))
    def get_mother(self, obj: Child) -> dict[str, Any] | None:
        return self._parent(obj, c.ParentRole.MOTHER)

    @extend_schema_field(GuardianSerializer(allow_null=True))
    def get_guardian(self, obj: Child) -> dict[str, Any] | None:
        guardian = getattr(obj, "guardian", None)
        return GuardianSerializer(guardian).data if guardian else None


class ChangeSerializer(serializers.Serializer[Any]):
    field = serializers.CharField(label="字段")
    # A declared field leaves the class namespace, so Field.label is not really shadowed.
    label = serializers.CharField(label="字段名称")  # type: ignore[assignment]
    old = serializers.CharField(label="原值（号码已遮蔽）")
    new = serializers.CharField(label="新值（号码已遮蔽）")


class EventSerializer(serializers.Serializer[Any]):
    at = serializers.DateTimeField(label="时间")
    user = serializers.CharField(label="操作人")
    section = serializers.CharField(label="部分")
    kind = serializers.CharField(label="操作")
    reason = serializers.CharField(label="原因")
    version = serializers.IntegerField(allow_null=True, label="版本")
    changes = ChangeSerializer(many=True, label="变更")


class StaleVersionSerializer(serializers.Serializer[Any]):
    detail = serializers.CharField(label="说明")
    current_version = serializers.IntegerField(label="当前版本")
    changes = EventSerializer(many=True, label="他人所做的修改")


# Query parameters ------------------------------------------------------------------------


class LedgerQuerySerializer(QuerySerializer):
    """The ledger's filters as query parameters (registry.selectors.LedgerFilters)."""

    township = serializers.UUIDField(required=False, label="乡镇", help_text="乡镇区划的 UUID。")
    village = serializers.UUIDField(required=False, label="村（社区）", help_text="村（社区）区划的 UUID。")
    category = serializers.ChoiceField(choices=CATEGORY_CHOICES, required=False, label="儿童类别")
    care_type = serializers.ChoiceField(choices=c.CareType.choices, required=False, label="监护类型")
    rating = serializers.ChoiceField(choices=c.Rating.choices, required=False, label="监护情况评估")
    schooling = serializers.ChoiceField(choices=c.Schooling.choices, required=False, label="就学情况")
    key = serializers.ChoiceField(
        choices=[("1", "重点对象"), ("0", "非重点对象")], required=False, label="重点对象"
    )
    age_band = serializers.ChoiceField(choices=list(AGE_BAND_LABELS.items()), required=False, label="年龄段")
    county = serializers.UUIDField(required=False, label="县（市、区）", help_text="县级区划的 UUID。")
    sex = serializers.ChoiceField(choices=c.Sex.choices, required=False, label="性别")
    risk_colour = serializers.ChoiceField(
        choices=[*c.RiskColour.choices, (NO_COLOUR, "未评定")], required=False, label="风险等级"
    )
    status = serializers.ChoiceField(
        choices=[*c.Status.choices, ("all", "全部")],
        required=False,
        default=c.Status.ACTIVE,
        label="状态",
        help_text="默认只列出在册档案；all 列出全部。",
    )
    q = serializers.CharField(
        required=False,
        max_length=64,
        label="搜索",
        help_text="姓名、拼音或首字母、身份证号码（完整或后四位）、父母或监护人手机号码。",
    )

    def to_filters(self) -> LedgerFilters:
        data = self.validated_data
        status = data.get("status", c.Status.ACTIVE)
        return LedgerFilters(
            township=str(data.get("township") or ""),
            village=str(data.get("village") or ""),
            category=data.get("category", ""),
            care_type=data.get("care_type", ""),
            rating=data.get("rating", ""),
            schooling=data.get("schooling", ""),
            key=data.get("key", ""),
            age_band=data.get("age_band", ""),
            county=str(data.get("county") or ""),
            sex=data.get("sex", ""),
            risk_colour=data.get("risk_colour", ""),
            status="" if status == "all" else status,
            q=data.get("q", ""),
        )


# Writing ---------------------------------------------------------------------------------
#
# The cross-field rules below are the web forms' (registry/forms.py), applied to the stored
# values merged with what was sent, so that PATCH checks the file as it will be saved.


def _clean_id_number(value: str) -> str:
    """A full ID number, normalised; a masked one is resolved later against the stored value."""
    if not value or "*" in value:
        return value
    try:
        return idnumber.parse(value).number
    except DjangoValidationError as exc:
        raise serializers.ValidationError(exc.messages) from exc


def _clean_phone(value: str) -> str:
    if "*" in value:  # masked: resolved later against the stored value
        return value
    try:
        return validation.clean_phone(value)
    except DjangoValidationError as exc:
        raise serializers.ValidationError(exc.messages) from exc


class _NumbersMixin:
    def validate_id_number(self, value: str) -> str:
        return _clean_id_number(value)

    def validate_phone(self, value: str) -> str:
        return _clean_phone(value)


def _id_field(help_text: str = "完整号码；读取时得到的遮蔽号码原样提交表示不修改。") -> serializers.CharField:
    return serializers.CharField(
        required=False, allow_blank=True, max_length=24, label="公民身份号码", help_text=help_text
    )


def _phone_field() -> serializers.CharField:
    return serializers.CharField(
        required=False,
        allow_blank=True,
        max_length=32,  # spaces and dashes typed into a number are removed by the validator
        label="联系电话",
        help_text="11 位手机号码或带区号的固定电话；读取时得到的遮蔽号码原样提交表示不修改。",
    )


class ParentWriteSerializer(_NumbersMixin, serializers.ModelSerializer[Parent]):
    id_number = _id_field()
    phone = _phone_field()
    status = ParentStatusField(required=False)
    work_province = serializers.PrimaryKeyRelatedField(
        queryset=Region.objects.filter(level=RegionLevel.PROVINCE, valid_to__isnull=True),
        required=False,
        allow_null=True,
        label="务工省份",
        error_messages={"does_not_exist": "请选择现行的省级区划。"},
    )
    work_city = serializers.PrimaryKeyRelatedField(
        queryset=Region.objects.filter(level=RegionLevel.CITY, valid_to__isnull=True).select_related(
            "parent"
        ),
        required=False,
        allow_null=True,
        label="务工城市",
        error_messages={"does_not_exist": "请选择现行的地市级区划。"},
    )

    class Meta:
        model = Parent
        fields = [
            "name",
            "birth_date",
            "id_number",
            "phone",
            "status",
            "work_province",
            "work_city",
            "work_detail",
            "away_since",
            "incapacity_reason",
            "incapacity_note",
        ]


class GuardianWriteSerializer(_NumbersMixin, serializers.ModelSerializer[EntrustedGuardian]):
    id_number = _id_field()
    phone = _phone_field()

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


_FAMILY = ("father", "mother", "guardian")


def _merged(sent: dict[str, Any], stored: Any) -> Any:
    """A reader of one field: the sent value if any, else the stored one (or None)."""
    return lambda name: sent[name] if name in sent else getattr(stored, name, None)


def _parent_errors(sent: dict[str, Any], stored: Parent | None) -> dict[str, str]:
    value = _merged(sent, stored)
    if value("work_city") and not value("work_province"):
        sent["work_province"] = value("work_city").parent
    return validation.parent_errors(_merged(sent, stored))


class ChildWriteSerializer(_NumbersMixin, serializers.ModelSerializer[Child]):
    """Create (POST) or change (PUT/PATCH) a file with its family records.

    Family sections left out are kept as stored; `"guardian": null` removes the guardian.
    Context: `user`, the caller: the villages they may write to and the schools they may
    pick are theirs. On an edit, pass the file (with parents prefetched) as the instance.
    """

    version = serializers.IntegerField(
        min_value=1,
        required=False,
        write_only=True,
        label="版本",
        help_text="修改时必填：读取档案时得到的 version；档案已被他人修改时返回 409。",
    )
    id_number = _id_field("填写后出生日期与性别由号码得出；读取时得到的遮蔽号码原样提交表示不修改。")
    village = serializers.PrimaryKeyRelatedField(
        queryset=Region.objects.filter(level=RegionLevel.VILLAGE).select_related("parent__parent"),
        label="所属村（社区）",
        error_messages={"does_not_exist": "请选择村（社区）。", "incorrect_type": "请选择村（社区）。"},
    )
    school = serializers.PrimaryKeyRelatedField(
        queryset=Unit.objects.none(),
        required=False,
        allow_null=True,
        label="就读学校",
        error_messages={"does_not_exist": "请选择本县的学校或幼儿园。"},
    )
    income_sources = serializers.ListField(
        child=serializers.ChoiceField(choices=c.Income.choices), required=False, label="家庭经济来源"
    )
    assistance = serializers.ListField(
        child=serializers.ChoiceField(choices=c.Assistance.choices), required=False, label="救助帮扶情况"
    )
    father = ParentWriteSerializer(required=False, label="父亲")
    mother = ParentWriteSerializer(required=False, label="母亲")
    guardian = GuardianWriteSerializer(required=False, allow_null=True, label="受委托监护人")

    class Meta:
        model = Child
        fields = [
            "version",
            "name",
            "sex",
            "ethnicity",
            "id_number",
            "birth_date",
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
            "village",
            "household_address",
            "income_sources",
            "assistance",
            "care_type",
            "guardianship_rating",
            "is_in_difficulty",
            "is_de_facto_orphan",
            "key_manual",
            "key_manual_reason",
            *_FAMILY,
        ]
        extra_kwargs = {"sex": {"required": False}, "birth_date": {"required": False}}

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if "user" in self.context:  # absent only when the schema is generated
            schools = schools_for(self.context["user"])
            if isinstance(self.instance, Child) and self.instance.school_id:
                schools = schools | Unit.objects.filter(pk=self.instance.school_id)
            self.fields["school"].queryset = schools  # type: ignore[attr-defined]

    def validate_village(self, value: Region) -> Region:
        if self.instance is not None and value.pk == self.instance.village_id:
            return value  # staying put, even in a village that has since been renamed
        user: User = self.context["user"]
        if not villages_writable_by(user).filter(pk=value.pk).exists():
            raise serializers.ValidationError("您无权在该村（社区）建档，请选择您负责的村（社区）。")
        return value

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        child = self.instance
        if child is not None and "version" not in attrs:
            raise serializers.ValidationError({"version": "请提供读取档案时得到的版本号（version）。"})
        parents = {p.role: p for p in child.parents.all()} if child else {}
        guardian: EntrustedGuardian | None = getattr(child, "guardian", None) if child else None
        _keep_masked(attrs, "id_number", child.id_number if child else "", mask_id)
        for role in (c.ParentRole.FATHER, c.ParentRole.MOTHER):
            _keep_masked_family(attrs, role, parents.get(role))
        _keep_masked_family(attrs, "guardian", guardian)
        errors: dict[str, Any] = dict(validation.child_errors(_merged(attrs, child)))
        for role in (c.ParentRole.FATHER, c.ParentRole.MOTHER):
            if role in attrs and (found := _parent_errors(attrs[role], parents.get(role))):
                errors[role] = _as_lists(found)
        # `"guardian": null` removes the guardian: nothing to check then.
        if attrs.get("guardian") is not None and (
            found := validation.guardian_errors(_merged(attrs["guardian"], guardian))
        ):
            errors["guardian"] = _as_lists(found)
        if errors:
            raise serializers.ValidationError(errors)
        return attrs


def _as_lists(errors: dict[str, str]) -> dict[str, list[str]]:
    """Nested errors in the shape DRF gives a nested serializer's own: a list per field."""
    return {name: [message] for name, message in errors.items()}


def _keep_masked(values: dict[str, Any], name: str, stored: str, mask: Any) -> None:
    """A masked number sent back unchanged means "keep it"; any other masked value is refused."""
    value = values.get(name)
    if not value or "*" not in value:
        return
    if stored and value == mask(stored):
        del values[name]
        return
    raise serializers.ValidationError({name: [MASKED_INPUT]})


def _keep_masked_family(
    attrs: dict[str, Any], section: str, stored: Parent | EntrustedGuardian | None
) -> None:
    values = attrs.get(section)
    if not values:
        return
    try:
        _keep_masked(values, "id_number", stored.id_number if stored else "", mask_id)
        _keep_masked(values, "phone", stored.phone if stored else "", mask_phone)
    except serializers.ValidationError as exc:
        raise serializers.ValidationError({section: exc.detail}) from exc


def file_data(validated: dict[str, Any], *, current: Child | None) -> FileData:
    """The service's FileData from validated input; on an edit, unsent sections are kept.

    Parents always carry their stored status and capacity, so that deriving "left-behind"
    never sees a parent as missing just because the request did not mention them.
    """
    values = dict(validated)
    values.pop("version", None)
    sent = {name: values.pop(name) for name in _FAMILY if name in values}
    stored_father, stored_mother = family_values(current) if current else ({}, {})
    guardian: dict[str, Any] | None = sent.get("guardian")
    if "guardian" not in sent and current is not None and hasattr(current, "guardian"):
        guardian = {}  # keep the stored guardian as it is
    return FileData(
        child=values,
        father={**stored_father, **sent.get("father", {})},
        mother={**stored_mother, **sent.get("mother", {})},
        guardian=guardian,
    )
