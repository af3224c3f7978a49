"""Pinyin keys for search: 张三 → ("zhangsan", "zs")."""

from pypinyin import Style, lazy_pinyin


def pinyin_keys(name: str) -> tuple[str, str]:
    full = "".join(lazy_pinyin(name, style=Style.NORMAL, errors="ignore")).lower()
    initials = "".join(lazy_pinyin(name, style=Style.FIRST_LETTER, errors="ignore")).lower()
    return full, initials
