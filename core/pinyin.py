"""Pinyin keys for search: 张三 → ("zhangsan", "zs")."""

from pypinyin import Style, lazy_pinyin
from pypinyin.constants import PHRASES_DICT, PINYIN_DICT

# A character's own reading (pypinyin's first, NORMAL style); None when pypinyin has none.
_READING: dict[str, str | None] = {}
_SHORT = 6  # longer names go to pypinyin whole


def pinyin_keys(name: str) -> tuple[str, str]:
    """The full pinyin and the initials, from one conversion: pypinyin's FIRST_LETTER style
    is the first letter of each NORMAL syllable (core/tests/test_pinyin.py checks it on every
    CJK character and on random names), and a second conversion doubled an import's cost.

    pypinyin reads a run of Chinese characters phrase by phrase (its phrase dictionary) and
    every character outside a phrase by its own first reading. A short name of characters it
    knows, no two or more of which in a row make a phrase, is therefore read character by
    character from a memo, without pypinyin's segmentation (most of an import's pinyin time);
    any other name goes to pypinyin whole. The test compares both on random names."""
    syllables = _by_character(name) if len(name) <= _SHORT else None
    if syllables is None:
        syllables = lazy_pinyin(name, style=Style.NORMAL, errors="ignore")
    return "".join(syllables).lower(), "".join(syllable[:1] for syllable in syllables).lower()


def _by_character(name: str) -> list[str] | None:
    syllables = []
    for char in name:
        reading = _READING.get(char, "")
        if reading == "":
            reading = _READING[char] = _own_reading(char)
        if reading is None:
            return None
        syllables.append(reading)
    size = len(name)
    if any(name[start:end] in PHRASES_DICT for start in range(size) for end in range(start + 2, size + 1)):
        return None
    return syllables


def _own_reading(char: str) -> str | None:
    if ord(char) not in PINYIN_DICT:
        return None
    syllables = lazy_pinyin(char, style=Style.NORMAL, errors="ignore")
    return syllables[0] if len(syllables) == 1 else None
