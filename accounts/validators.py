"""Password validators (AU-2), with messages in Chinese.

Length and Django's common-password list come from django.contrib.auth; these add the 等保
composition rule (3 of 4 character classes), the context words (the project, the county and
its townships, in Chinese and pinyin, and the user's own names) and the history of the last
five passwords. docs/security.md records why composition and rotation are kept although
ASVS 6.2.5 and 6.2.10 advise against them.
"""

import re
from typing import Any

from django.conf import settings
from django.contrib.auth.hashers import check_password
from django.core.exceptions import ValidationError

from core.pinyin import pinyin_keys

PROJECT_WORDS = ("守护", "shouhu")
# Suffixes of region names: 合浦县 → 合浦 → hepu.
_SUFFIXES = ("街道办事处", "街道", "办事处", "自治县", "县", "区", "市", "镇", "乡")
_MIN_LATIN = 4  # shorter Latin words (e.g. "li") would reject too many good passwords


def _classes(password: str) -> int:
    checks = (
        any(ch.isupper() for ch in password),
        any(ch.islower() for ch in password),
        any(ch.isdigit() for ch in password),
        any(not ch.isalnum() for ch in password),
    )
    return sum(checks)


class CharacterClassesValidator:
    """At least `min_classes` of: upper case, lower case, digits, symbols."""

    def __init__(self, min_classes: int = 3) -> None:
        self.min_classes = min_classes

    def validate(self, password: str, user: Any = None) -> None:
        if _classes(password) < self.min_classes:
            raise ValidationError(self.get_help_text(), code="password_too_simple")

    def get_help_text(self) -> str:
        return f"密码须包含大写字母、小写字母、数字、符号中的至少 {self.min_classes} 类。"


def _variants(name: str) -> set[str]:
    """合浦县 → {合浦县, 合浦, hepuxian, hepu}."""
    name = name.strip()
    if not name:
        return set()
    stem = name
    for suffix in _SUFFIXES:
        if stem.endswith(suffix) and len(stem) > len(suffix) + 1:
            stem = stem[: -len(suffix)]
            break
    words = {name, stem}
    words |= {pinyin_keys(word)[0] for word in (name, stem)}
    return {word.lower() for word in words if word}


def _long_enough(word: str) -> bool:
    if re.fullmatch(r"[a-z0-9._@+-]+", word):
        return len(word) >= _MIN_LATIN
    return len(word) >= 2


def context_words(user: Any = None) -> set[str]:
    """Words a password may not contain: the project, the county and its townships, the
    user's username and full name."""
    from geo.models import Region, RegionLevel

    county_code = settings.SHOUHU_COUNTY_CODE
    names = Region.objects.filter(
        code__startswith=county_code,
        level__in=[RegionLevel.COUNTY, RegionLevel.TOWNSHIP],
        valid_to__isnull=True,
    ).values_list("name", flat=True)
    words = set(PROJECT_WORDS)
    for name in names:
        words |= _variants(name)
    if user is not None:
        words |= _variants(getattr(user, "username", "") or "")
        words |= _variants(getattr(user, "full_name", "") or "")
    return {word for word in words if _long_enough(word)}


class ContextWordsValidator:
    """No project, place or personal name inside the password (case-insensitive)."""

    def validate(self, password: str, user: Any = None) -> None:
        lowered = password.lower()
        if any(word in lowered for word in context_words(user)):
            raise ValidationError(
                "密码不能包含系统名称、本县或乡镇名称（含拼音）、用户名或姓名。", code="password_context"
            )

    def get_help_text(self) -> str:
        return "密码不能包含系统名称、本县或乡镇名称（含拼音）、用户名或姓名。"


class PasswordHistoryValidator:
    """None of the user's last `count` passwords (the current one included)."""

    def __init__(self, count: int = 5) -> None:
        self.count = count

    def validate(self, password: str, user: Any = None) -> None:
        if user is None or getattr(user, "pk", None) is None:
            return
        from accounts.models import PasswordHistory, User

        current = User.objects.filter(pk=user.pk).values_list("password", flat=True).first()
        recent = PasswordHistory.objects.filter(user_id=user.pk).values_list("password", flat=True)
        hashes = [current, *recent[: self.count]]
        if any(encoded and check_password(password, encoded) for encoded in hashes):
            raise ValidationError(
                f"新密码不能与最近 {self.count} 次使用过的密码相同。", code="password_reused"
            )

    def get_help_text(self) -> str:
        return f"不能与最近 {self.count} 次使用过的密码相同。"
