"""Villages (and parents' work places) named in an imported file, resolved to Region rows.

Names are compared on a key without the administrative suffix, so "甲一村委会", "甲一村" and
"甲一" are the same village, and "廉州镇" and "廉州" the same township.
"""

import re
import unicodedata
from collections.abc import Iterable

from accounts.models import User
from geo.models import Region, RegionLevel

OUT_OF_SCOPE = "该村不在您的管辖范围内"
AMBIGUOUS = "有多个同名的村（社区），请填写所属乡镇以区分。"
NO_VILLAGE = "请填写所属村（社区）。"
CODE_MISMATCH = "村代码与村（社区）名称不一致，请核对。"

_VILLAGE_SUFFIXES = ("村民委员会", "居民委员会", "社区居委会", "村委会", "居委会", "村委", "社区", "村", "居")
_TOWNSHIP_SUFFIXES = ("人民政府", "街道办事处", "办事处", "街道", "镇", "乡")
_PROVINCE_SUFFIXES = ("维吾尔自治区", "壮族自治区", "回族自治区", "自治区", "特别行政区", "省", "市")
_CITY_SUFFIXES = ("自治州", "地区", "市", "盟")
_SPACE = re.compile(r"\s+")


def _clean(text: str) -> str:
    return _SPACE.sub("", unicodedata.normalize("NFKC", text))


def _strip(name: str, suffixes: tuple[str, ...]) -> str:
    """The name without administrative suffixes, never empty ("西门社区居委会" → "西门")."""
    key = _clean(name)
    changed = True
    while changed:
        changed = False
        for suffix in suffixes:
            if key.endswith(suffix) and len(key) > len(suffix):
                key = key[: -len(suffix)]
                changed = True
                break
    return key


def village_key(name: str) -> str:
    return _strip(name, _VILLAGE_SUFFIXES)


def township_key(name: str) -> str:
    return _strip(name, _TOWNSHIP_SUFFIXES)


class RegionLookup:
    """Villages the importing user may write, found by name or code, built once per import
    (one query). Village names repeat across townships: the township column disambiguates."""

    def __init__(self, villages: Iterable[Region]) -> None:
        self.villages = list(villages)
        self._by_code = {v.code: v for v in self.villages}
        self._by_name: dict[str, list[Region]] = {}
        for v in self.villages:
            self._by_name.setdefault(village_key(v.name), []).append(v)
        self._cache: dict[tuple[str, str, str], Region | str] = {}
        self._places: _Places | None = None
        self._place_cache: dict[str, tuple[Region | None, Region | None, str]] = {}

    @classmethod
    def for_user(cls, user: User) -> "RegionLookup":
        """Villages in the user's WRITE scope (registry.access.villages_writable_by)."""
        from registry.access import villages_writable_by

        return cls(villages_writable_by(user).select_related("parent"))

    @property
    def only_village(self) -> Region | None:
        """The one village a user with a single village writes, else None."""
        return self.villages[0] if len(self.villages) == 1 else None

    def village(self, *, township: str, village: str, code: str) -> Region | str:
        """The village Region, or a Chinese error. A village outside the write scope reads
        OUT_OF_SCOPE whether or not it exists elsewhere (the file tells nothing more)."""
        key = (township, village, code)
        if key not in self._cache:
            self._cache[key] = self._resolve(
                township=_clean(township), village=_clean(village), code=_clean(code)
            )
        return self._cache[key]

    def _resolve(self, *, township: str, village: str, code: str) -> Region | str:
        if code:
            found = self._by_code.get(code)
            if found is None:
                return OUT_OF_SCOPE
            if village and village_key(village) != village_key(found.name):
                return CODE_MISMATCH
            return found
        if not village:
            return NO_VILLAGE
        candidates = self._by_name.get(village_key(village), [])
        if township:
            wanted = township_key(township)
            candidates = [v for v in candidates if v.parent and township_key(v.parent.name) == wanted]
        if not candidates:
            return OUT_OF_SCOPE
        if len(candidates) > 1:
            return AMBIGUOUS
        return candidates[0]

    def work_place(self, text: str) -> tuple[Region | None, Region | None]:
        """Province and city from "广东省东莞市" / "广东东莞" / "东莞"."""
        province, city, _rest = self.work_place_detail(text)
        return province, city

    def work_place_detail(self, text: str) -> tuple[Region | None, Region | None, str]:
        """Province, city, and the rest of the text ("广东省东莞市长安镇" → …, "长安镇")."""
        found = self._place_cache.get(text)
        if found is None:
            if self._places is None:
                self._places = _Places.load()
            found = self._places.find(_clean(text))
            if len(self._place_cache) < 10_000:
                self._place_cache[text] = found
        return found


class _Places:
    """Provinces and cities (current NBS list), matched by full name or by name without suffix."""

    def __init__(self, regions: Iterable[Region]) -> None:
        self.provinces: list[tuple[str, Region]] = []
        self.cities: list[tuple[str, Region]] = []
        for region in regions:
            if region.level == RegionLevel.PROVINCE:
                names = {region.name, _strip(region.name, _PROVINCE_SUFFIXES)}
                self.provinces.extend((name, region) for name in names)
            elif region.name not in ("市辖区", "县", "省直辖县级行政区划", "自治区直辖县级行政区划"):
                names = {region.name, _strip(region.name, _CITY_SUFFIXES)}
                self.cities.extend((name, region) for name in names if len(name) >= 2)
        # Longest names first, so that "吉林省" is taken before "吉林".
        self.provinces.sort(key=lambda item: -len(item[0]))
        self.cities.sort(key=lambda item: -len(item[0]))

    @classmethod
    def load(cls) -> "_Places":
        return cls(
            Region.objects.filter(
                level__in=[RegionLevel.PROVINCE, RegionLevel.CITY], valid_to__isnull=True
            ).only("id", "code", "name", "level")
        )

    def find(self, text: str) -> tuple[Region | None, Region | None, str]:
        province = city = None
        for name, region in self.provinces:
            if text.startswith(name):
                province, text = region, text[len(name) :]
                break
        for name, region in self.cities:
            if text.startswith(name) and (province is None or region.code.startswith(province.code)):
                city, text = region, text[len(name) :]
                break
        if province is None and city is not None:
            province = next((r for _n, r in self.provinces if city.code.startswith(r.code)), None)
        return province, city, text
