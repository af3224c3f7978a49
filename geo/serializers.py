"""Read-only representations of regions and units, and the query parameters that filter them."""

from rest_framework import serializers

from core.api import QuerySerializer
from geo.models import Region, RegionLevel, Unit, UnitKind


class RegionBriefSerializer(serializers.ModelSerializer[Region]):
    """A region as it appears inside other objects."""

    class Meta:
        model = Region
        fields = ["id", "code", "name"]
        read_only_fields = fields


class RegionSerializer(serializers.ModelSerializer[Region]):
    parent_code = serializers.CharField(
        source="parent.code", read_only=True, allow_null=True, label="上级区划代码"
    )
    is_current = serializers.BooleanField(read_only=True, label="现行有效")

    class Meta:
        model = Region
        fields = [
            "id",
            "code",
            "name",
            "level",
            "parent",
            "parent_code",
            "valid_from",
            "valid_to",
            "successor",
            "is_current",
        ]
        read_only_fields = fields


class UnitSerializer(serializers.ModelSerializer[Unit]):
    region = RegionBriefSerializer(read_only=True, label="所在区划")
    serves = RegionBriefSerializer(many=True, read_only=True, label="服务（管辖）区划")

    class Meta:
        model = Unit
        fields = ["id", "name", "kind", "region", "serves", "active"]
        read_only_fields = fields


class RegionQuerySerializer(QuerySerializer):
    level = serializers.ChoiceField(
        choices=RegionLevel.choices,
        required=False,
        label="层级",
        error_messages={"invalid_choice": "层级“{input}”无效。"},
    )
    # Declared fields leave the class namespace (SerializerMetaclass), so this does not
    # really shadow Field.parent; mypy cannot know that.
    parent = serializers.RegexField(  # type: ignore[assignment]
        r"^\d{2,9}$",
        required=False,
        label="上级区划代码",
        error_messages={"invalid": "上级区划代码应为 2 至 9 位数字。"},
    )
    current = serializers.BooleanField(
        required=False,
        default=True,
        label="只看现行区划",
        help_text="默认只列出现行有效的区划；传 false 列出全部版本。",
    )


class UnitQuerySerializer(QuerySerializer):
    kind = serializers.ChoiceField(
        choices=UnitKind.choices,
        required=False,
        label="单位类型",
        error_messages={"invalid_choice": "单位类型“{input}”无效。"},
    )
    region = serializers.UUIDField(required=False, label="所在区划", help_text="区划的 UUID。")
    active = serializers.BooleanField(required=False, allow_null=True, default=None, label="有效")
