"""Model fields whose values are stored encrypted (SECURITY.md DP-2; core/crypto.py).

The column holds a token (text); Python code, forms and serializers see the plaintext.
An empty string stays empty, so "blank" keeps working and `exclude(phone="")` still finds
the empty ones. No other lookup can work on a randomised ciphertext, so every other lookup
and transform raises: exact search goes through the blind indexes (id_index, phone_index,
id_tail; core/blind_index.py).

The fields subclass models.Field, not CharField/TextField, on purpose: code that writes rows
in bulk (registry/demo.py) passes CharField and TextField values to the database as they are,
and must not skip encryption; every other value goes through get_db_prep_save.
"""

from typing import Any

from django import forms
from django.core import validators
from django.core.exceptions import FieldError
from django.db import models
from django.db.backends.base.base import BaseDatabaseWrapper
from django.db.models import lookups
from django.db.models.expressions import Expression

from core import crypto

_UNSUPPORTED = "加密字段 {field} 不支持查询条件 {lookup}：请按盲索引（id_index、phone_index、id_tail）检索"


class _EmptyOnlyExact(lookups.Exact):
    """`field=""` only: a randomised ciphertext never equals a fresh encryption."""

    def get_prep_lookup(self) -> Any:
        if self.rhs not in ("", None):
            raise FieldError(_UNSUPPORTED.format(field=self.lhs.output_field, lookup="exact（非空值）"))
        return super().get_prep_lookup()


class EncryptedCharField(models.Field[Any, str]):
    """A short text value (ID number, phone, address), encrypted; max_length is checked on
    the plaintext and handed to forms."""

    description = "加密存储的文本"
    encrypted = True
    _pyi_private_set_type: str
    _pyi_private_get_type: str

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if self.max_length is not None:
            self.validators.append(validators.MaxLengthValidator(self.max_length))

    @property
    def context(self) -> str:
        """The associated data: the column this value belongs to (model label + field). The
        column of a history row (simple_history's Historical<Model>, whose `instance_type` is
        the tracked model) shares its model's context: a history row holds copies of the
        file's values, so it may hold the file's own tokens (imports.writing writes them
        without sealing each value twice). A token still does not open in any other column."""
        tracked = getattr(self.model, "instance_type", None)
        return f"{(tracked or self.model)._meta.label}.{self.name}"

    @property
    def legacy_contexts(self) -> tuple[str, ...]:
        """Contexts this column's older tokens were sealed for: a history row's tokens written
        before it shared its model's context were bound to the history table's own label."""
        if getattr(self.model, "instance_type", None) is None:
            return ()
        return (f"{self.model._meta.label}.{self.name}",)

    def open_token(self, token: str, *, ring: crypto.KeyRing | None = None) -> str:
        """The plaintext of a stored token of this column (current or legacy context)."""
        try:
            return crypto.decrypt(token, context=self.context, ring=ring)
        except crypto.DecryptionError:
            for legacy in self.legacy_contexts:
                try:
                    return crypto.decrypt(token, context=legacy, ring=ring)
                except crypto.DecryptionError:
                    continue
            raise

    def get_internal_type(self) -> str:
        return "TextField"

    def to_python(self, value: Any) -> Any:
        if value is None or isinstance(value, str):
            return value
        return str(value)

    def get_prep_value(self, value: Any) -> Any:
        return self.to_python(super().get_prep_value(value))

    def get_db_prep_value(self, value: Any, connection: BaseDatabaseWrapper, prepared: bool = False) -> Any:
        if not prepared:
            value = self.get_prep_value(value)
        if value is None or value == "" or hasattr(value, "as_sql"):
            return value
        return crypto.encrypt(value, context=self.context)

    def from_db_value(self, value: Any, expression: Expression, connection: BaseDatabaseWrapper) -> Any:
        if value is None or value == "":
            return value
        return self.open_token(value)

    def get_lookup(self, lookup_name: str) -> Any:
        if lookup_name == "exact":
            return _EmptyOnlyExact
        if lookup_name == "isnull":
            return super().get_lookup(lookup_name)
        raise FieldError(_UNSUPPORTED.format(field=self, lookup=lookup_name))

    def get_transform(self, lookup_name: str) -> Any:
        raise FieldError(_UNSUPPORTED.format(field=self, lookup=lookup_name))

    def formfield(self, **kwargs: Any) -> Any:
        defaults: dict[str, Any] = {"max_length": self.max_length}
        if self.null:
            defaults["empty_value"] = None
        defaults.update(kwargs)
        return super().formfield(**defaults)


class EncryptedTextField(EncryptedCharField):
    """A long text value (report narratives), encrypted; forms show a textarea."""

    def formfield(self, **kwargs: Any) -> Any:
        return super().formfield(**{"widget": forms.Textarea, **kwargs})
