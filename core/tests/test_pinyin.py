"""core.pinyin: one conversion gives both keys, and the initials are what pypinyin's own
FIRST_LETTER style gives."""

import random

from pypinyin import Style, lazy_pinyin
from pypinyin.constants import PHRASES_DICT

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


def _pypinyin(name: str) -> tuple[str, str]:
    syllables = lazy_pinyin(name, style=Style.NORMAL, errors="ignore")
    return "".join(syllables).lower(), "".join(s[:1] for s in syllables).lower()


def test_names_read_character_by_character_equal_pypinyin_whole() -> None:
    """pinyin_keys reads short names without phrases from a per-character memo: the keys are
    pypinyin's for names of common characters, random characters (extension A and others
    included), names holding a phrase of its dictionary (where a character's reading changes)
    and names with other characters."""
    rng = random.Random(13)
    common = (
        "陈李黄张王刘林吴杨梁周何罗郑谢赵莫庞廖苏许钟邓冯韦覃蒙卢彭曾潘"
        "小明华丽芳伟强军敏静婷杰涛超勇娟霞宇浩然欣怡子轩梓涵一诺雨桐思琪佳俊海燕秋月春生单乐重长行"
    )
    every = [chr(code) for code in range(0x3400, 0x9FFF)] + list("·A 1")
    phrases = [p for p in PHRASES_DICT if len(p) <= 4]
    names = (
        ["".join(rng.choice(common) for _ in range(rng.randint(1, 4))) for _ in range(3000)]
        + ["".join(rng.choice(every) for _ in range(rng.randint(1, 7))) for _ in range(3000)]
        + [rng.choice(common) + rng.choice(phrases) for _ in range(2000)]
        + [rng.choice(phrases) + rng.choice(common) for _ in range(2000)]
        + ["重庆", "银行行长", "长大了", "单于", "曾子", "乐乐", "张A三", "欧阳 小明", "阿依古丽·买买提"]
    )
    assert [pinyin_keys(name) for name in names] == [_pypinyin(name) for name in names]
    assert pinyin_keys("单于") == ("chanyu", "cy")  # a phrase: read by pypinyin, not by character
