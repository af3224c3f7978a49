"""Masking of ID and phone numbers for display (DP-3): the default everywhere."""

MASK_ID = "********"


def mask_id(number: str | None) -> str:
    if not number:
        return ""
    if len(number) < 10:
        return "*" * len(number)
    return f"{number[:6]}{MASK_ID}{number[-4:]}"


def mask_phone(number: str | None) -> str:
    if not number:
        return ""
    if len(number) < 7:
        return "*" * len(number)
    return f"{number[:3]}****{number[-4:]}"


def mask_text(value: str | None) -> str:
    """Mask a free-text term for logs: keep only its first character and length."""
    if not value:
        return ""
    return value[0] + "*" * (len(value) - 1)
