from django import template

from core.masking import mask_id as _mask_id
from core.masking import mask_phone as _mask_phone

register = template.Library()


@register.filter
def mask_id(value: str | None) -> str:
    return _mask_id(value)


@register.filter
def mask_phone(value: str | None) -> str:
    return _mask_phone(value)
