"""core.pinyin: one conversion gives both keys, and the initials are what pypinyin's own
FIRST_LETTER style gives."""

import random

from pypinyin import Style, lazy_pinyin

from core.pinyin import pinyin_keys


def _first_letters(name: str) -> str:
    return "".join(lazy_pinyin(name, style=Style.FIRST_LETTER, errors="ignore")).lower()


def test_it_gives_full_pinyin_and_initials() -> None:
    assert pinyin_keys("张三") == ("zhangsan", "zs")
    assert pinyin_keys("欧阳 小明") == ("ouyangxiaoming", "oyxm")
    assert pinyin_keys("ABC") == ("", "")  # no pinyin: ignored, as the ledger search expects


def test_the_initials_equal_pypinyin_first_letter_style() -> None:
    """Every CJK unified character, then names of two to four characters (phrases change the
    reading of a character, e.g. 重庆, 银行行长)."""
    for code in range(0x4E00, 0x9FA6):
        char = chr(code)
        assert pinyin_keys(char)[1] == _first_letters(char), char
    rng = random.Random(2016)
    chars = [chr(code) for code in range(0x4E00, 0x9FA6)]
    names = ["".join(rng.choice(chars) for _ in range(rng.randint(2, 4))) for _ in range(3000)]
    for name in [*names, "重庆", "银行行长", "长大了", "单于", "曾子", "乐乐", "张A三"]:
        assert pinyin_keys(name)[1] == _first_letters(name), name
