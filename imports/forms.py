"""Forms of the import flow: the upload, and the column mapping (one select per column)."""

from collections.abc import Sequence
from typing import Any

from django import forms

from imports.columns import FIELDS
from imports.services import mapping_problems

IGNORE = ""
GROUP_LABELS = {
    "child": "儿童",
    "place": "所在地",
    "father": "父亲",
    "mother": "母亲",
    "guardian": "受委托监护人",
}


class UploadForm(forms.Form):
    file = forms.FileField(
        label="台账文件",
        help_text="支持 .xlsx、.xls、.ods 和 .csv（UTF-8 或 GBK 编码）；不超过 10 MB。",
        error_messages={"required": "请选择要上传的文件。"},
    )


def _field_choices() -> list[tuple[str, Any]]:
    groups: dict[str, list[tuple[str, str]]] = {}
    for field in FIELDS:
        label = f"{field.label}（必填）" if field.required else field.label
        groups.setdefault(field.group, []).append((field.key, label))
    choices: list[tuple[str, Any]] = [(IGNORE, "不导入")]
    for group, options in groups.items():
        choices.append((GROUP_LABELS.get(group, group), options))
    return choices


class MappingForm(forms.Form):
    """A select per column of the file: a field, or 不导入. Each field at most once; the
    required fields must all be chosen."""

    def __init__(
        self, *args: Any, headers: Sequence[str], initial_mapping: dict[int, str], **kwargs: Any
    ) -> None:
        super().__init__(*args, **kwargs)
        self.headers = list(headers)
        choices = _field_choices()
        for index, header in enumerate(self.headers):
            self.fields[f"col_{index}"] = forms.ChoiceField(
                label=header or f"第 {index + 1} 列（无列名）",
                choices=choices,
                required=False,
                initial=initial_mapping.get(index, IGNORE),
            )

    def columns(self) -> list[tuple[int, forms.BoundField]]:
        return [(index, self[f"col_{index}"]) for index in range(len(self.headers))]

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        seen: dict[str, int] = {}
        for index in range(len(self.headers)):
            key = data.get(f"col_{index}") or IGNORE
            if not key:
                continue
            if key in seen:
                self.add_error(f"col_{index}", "该字段已对应到前面的另一列，每个字段只能选一次。")
            seen[key] = index
        for problem in mapping_problems(self.mapping(data)):
            self.add_error(None, problem)
        return data

    def mapping(self, data: dict[str, Any] | None = None) -> dict[int, str]:
        data = self.cleaned_data if data is None else data
        return {index: data[f"col_{index}"] for index in range(len(self.headers)) if data.get(f"col_{index}")}
