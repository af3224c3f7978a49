"""Pinyin keys for search: 张三 → ("zhangsan", "zs")."""

from pypinyin import Style, lazy_pinyin


def pinyin_keys(name: str) -> tuple[str, str]:
    """The full pinyin and the initials, from one conversion: pypinyin's FIRST_LETTER style
    is the first letter of each NORMAL syllable (core/tests/test_pinyin.py checks it on every
    CJK character and on random names), and a second conversion doubled an import's cost."""
    syllables = lazy_pinyin(name, style=Style.NORMAL, errors="ignore")
    return "".join(syllables).lower(), "".join(syllable[:1] for syllable in syllables).lower()
