"""Turning one raw row of a ledger into typed values of the child file, with errors per cell.

A blank cell means "not given": its key is left out of RowValues (an update keeps the stored
value, a new file gets the model's default). Cross-field rules are registry.validation's, the
same the web form applies; their messages are attached to the file's column.

The value normalisers (text, id_number, date, boolean, choice, multi, phone) are public: each
takes a raw cell, gives ""/None for a blank one and raises BadValue (a Chinese reason) for a
value it cannot read. None of them guesses.
"""

import datetime as dt
import functools
import re
import unicodedata
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from dataclasses import field as dataclass_field
from typing import Any

from django.core.exceptions import ValidationError
from django.utils import timezone

from core import idnumber
from core.masking import mask_id, mask_phone
from geo.models import Region
from imports.columns import FIELD_BY_KEY
from imports.reading import Cell, RawRow
from imports.regions import RegionLookup
from registry import choices as c
from registry import validation
from registry.models import Child, EntrustedGuardian, Parent

ID_LOST_DIGITS = "身份证号码被存成了数字，末几位已丢失，请把该列设为文本后重新填写"
DATE_FORMAT = "日期无法识别：请写成 2010-05-03"
DATE_MISSING_DAY = "出生日期请写到日：请写成 2010-05-03"
BOOLEAN = "请填写“是”或“否”"
REQUIRED = "请填写此项"
BIRTH_MISMATCH = "出生日期与身份证号码不一致"
SEX_MISMATCH = "性别与身份证号码不一致"


class BadValue(ValueError):  # noqa: N818 - the name callers use
    """A value that cannot be read; `message` is the Chinese reason shown in the error list."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


@dataclass(frozen=True)
class CellError:
    row: int  # RawRow.number
    column: str  # the header as in the file ("" for a row-level error)
    reason: str  # Chinese, specific
    value: str  # the offending value, MASKED for id/phone


@dataclass
class RowValues:
    number: int
    child: dict[str, Any]  # registry field name → typed value (codes, not labels; dates as date)
    father: dict[str, Any]  # Parent fields (work_province/work_city as Region objects)
    mother: dict[str, Any]
    guardian: dict[str, Any] | None
    village: Region | None  # resolved village Region


# --- value normalisers -------------------------------------------------------------------------

_SPACE = re.compile(r"\s+")
_SCIENTIFIC = re.compile(r"^\d+(\.\d+)?[eE]\+?\d+$")


def text(value: Cell) -> str:
    """NFKC (full-width → half-width), stripped, inner whitespace (U+3000 too) collapsed."""
    if value is None:
        return ""
    if isinstance(value, str):
        if not value.isascii():
            value = unicodedata.normalize("NFKC", value)
        return " ".join(value.split())
    if isinstance(value, bool):
        return "是" if value else "否"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, dt.datetime | dt.date):
        return value.isoformat()
    return str(value)


MASKED_NUMBER = "这是脱敏后的号码（含 *），无法导入：请导出完整号码的花名册，或填写完整号码后再导入"


def id_number(value: Cell) -> str:
    """An 18-character ID number checked by core.idnumber. A number (Excel keeps 15 significant
    digits) has lost its last digits: an error, never a guess."""
    facts = id_facts(value)
    return facts.number if facts else ""


def id_facts(value: Cell) -> idnumber.IdFacts | None:
    """id_number() with the birth date and sex the number gives; None for a blank cell."""
    if isinstance(value, bool):
        raise BadValue("身份证号码无效")
    if isinstance(value, int | float):
        if abs(value) >= 1e15:
            raise BadValue(ID_LOST_DIGITS)
        value = text(value)
    number = text(value).lstrip("'").replace(" ", "")
    if not number:
        return None
    if _SCIENTIFIC.match(number):  # a CSV saved from Excel: "4.50521E+17"
        raise BadValue(ID_LOST_DIGITS)
    if "*" in number:  # a masked export uploaded back
        raise BadValue(MASKED_NUMBER)
    try:
        return _parse_id(number)
    except ValidationError as exc:
        raise BadValue(_message(exc)) from exc


# Region codes (not personal data) that core.idnumber has accepted in this process.
_KNOWN_REGIONS: set[str] = set()


def _parse_id(raw: str) -> idnumber.IdFacts:
    """core.idnumber.parse() with a fast path for the well-formed numbers a ledger is full
    of (a 100,000-row file holds some 300,000): the same checks — 18 characters, ASCII
    digits and a final X, a real birth date, the MOD 11-2 check character, a region code
    that idnumber has accepted before — without python-stdnum's generic cleaning. Anything
    else goes to idnumber.parse, which gives the exact message (and learns the region).
    A test compares the two on valid and invalid numbers."""
    number = idnumber.normalise(raw)
    if (
        len(number) == 18
        and number.isascii()
        and number[:17].isdigit()
        and number[:6] in _KNOWN_REGIONS
        and number[17] == _check_character(number)
    ):
        birth = _birth_date(number[6:14])
        if birth is not None:
            return idnumber.IdFacts(number=number, birth_date=birth, sex="M" if int(number[16]) % 2 else "F")
    facts = idnumber.parse(raw)
    _KNOWN_REGIONS.add(facts.number[:6])
    return facts


def _check_character(number: str) -> str:
    checksum = (1 - 2 * int(number[:17], 13)) % 11  # as stdnum.cn.ric.calc_check_digit
    return "X" if checksum == 10 else str(checksum)


@functools.lru_cache(maxsize=40_000)
def _birth_date(digits: str) -> dt.date | None:
    try:
        return dt.date(int(digits[:4]), int(digits[4:6]), int(digits[6:]))
    except ValueError:
        return None


def id_key(value: Cell) -> str:
    """What id_number() would give for a well-formed cell, without checking it: for finding
    the same number on two rows (imports.evaluate.find_duplicates checks those)."""
    if isinstance(value, bool) or value is None:
        return ""
    if isinstance(value, int | float):
        return ""
    return idnumber.normalise(text(value).lstrip("'"))


_DATE = re.compile(
    r"^(\d{4})\s*[-./年]\s*(\d{1,2})\s*[-./月]\s*(\d{1,2})\s*日?(?:[ T]\d{1,2}:\d{2}(?::\d{2})?)?$"
)
_COMPACT = re.compile(r"^(\d{4})(\d{2})(\d{2})$")
_YEAR_MONTH = re.compile(r"^(\d{4})\s*[-./年]\s*(\d{1,2})\s*月?$")
_EXCEL_EPOCH = dt.date(1899, 12, 30)
SERIAL_MIN = 10_000  # 1927-05-18
SERIAL_MAX = 2_958_465  # 9999-12-31


def date(value: Cell) -> dt.date | None:
    """2010-05-03, 2010.5.3, 2010/5/3, 2010年5月3日, 20100503, Excel serial numbers (1900
    system), date and datetime objects."""
    if value is None or value == "":
        return None
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    if isinstance(value, bool):
        raise BadValue(DATE_FORMAT)
    if isinstance(value, int | float):
        return _number_date(value)
    raw = text(value)
    if not raw:
        return None
    match = _DATE.match(raw) or _COMPACT.match(raw)
    if match:
        return _ymd(int(match[1]), int(match[2]), int(match[3]))
    if raw.isdigit() and len(raw) == 5:  # a serial saved as text
        return _number_date(int(raw))
    if _YEAR_MONTH.match(raw):
        raise BadValue(DATE_MISSING_DAY)
    raise BadValue(DATE_FORMAT)


def _number_date(value: float) -> dt.date:
    """20100503 or an Excel serial. A fraction (2010.05: a month typed as a number) and small
    numbers (2010: a year) are errors: read as serials they would be dates in 1905."""
    if isinstance(value, float) and not value.is_integer():
        raise BadValue(DATE_FORMAT)
    whole = int(value)
    if 19000101 <= whole <= 21001231:
        return _ymd(whole // 10000, whole // 100 % 100, whole % 100)
    if SERIAL_MIN <= whole <= SERIAL_MAX:
        return _serial(whole)
    raise BadValue(DATE_FORMAT)


def _serial(serial: int) -> dt.date:
    """Excel's 1900 date system: serial 1 is 1900-01-01 and serial 60 the 1900-02-29 that
    never was (Lotus 1-2-3's leap-year bug)."""
    if serial == 60:
        raise BadValue("日期不存在：1900年2月29日")
    if serial < 60:
        serial += 1
    return _EXCEL_EPOCH + dt.timedelta(days=serial)


def _ymd(year: int, month: int, day: int) -> dt.date:
    try:
        return dt.date(year, month, day)
    except ValueError as exc:
        raise BadValue(f"日期不存在：{year}年{month}月{day}日") from exc


_TRUE = frozenset({"是", "有", "√", "✓", "✔", "☑", "Y", "YES", "TRUE", "1", "对", "是的"})
_FALSE = frozenset({"否", "无", "×", "✗", "✘", "☐", "N", "NO", "FALSE", "0", "没有", "不是", "X"})


def boolean(value: Cell) -> bool | None:
    """是/否/有/无/√/×/Y/N/1/0."""
    if isinstance(value, bool):
        return value
    raw = text(value).upper()
    if not raw:
        return None
    if raw in _TRUE:
        return True
    if raw in _FALSE:
        return False
    raise BadValue(BOOLEAN)


class Vocabulary:
    """A code list read by its Chinese labels, its codes and synonyms (all compared after NFKC
    and without spaces)."""

    def __init__(self, choices: Sequence[tuple[str, str]], synonyms: Mapping[str, str] | None = None) -> None:
        self.labels = [str(label) for code, label in choices if code]
        self.index: dict[str, str] = {}
        for code, label in choices:
            self.index.setdefault(_key(str(label)), str(code))
            if code:
                self.index.setdefault(_key(str(code)), str(code))
        for word, code in (synonyms or {}).items():
            self.index.setdefault(_key(word), code)

    def code(self, value: Cell) -> str | None:
        """The code, None for a blank cell; BadValue for a value not in the list."""
        raw = text(value)
        if not raw:
            return None
        found = self.index.get(_key(raw))
        if found is None:
            raise BadValue(f"无法识别“{raw[:20]}”：请填写 {'、'.join(self.labels)} 之一")
        return found


def _key(value: str) -> str:
    return _SPACE.sub("", unicodedata.normalize("NFKC", value)).upper()


@functools.lru_cache(maxsize=64)
def _vocabulary(choices: tuple[tuple[str, str], ...], synonyms: tuple[tuple[str, str], ...]) -> Vocabulary:
    return Vocabulary(choices, dict(synonyms))


def choice(value: Cell, choices: Sequence[tuple[str, str]], synonyms: Mapping[str, str] | None = None) -> str:
    """The code of a choice given by its Chinese label, its code or a synonym; "" if blank."""
    vocabulary = _vocabulary(tuple((str(a), str(b)) for a, b in choices), tuple((synonyms or {}).items()))
    return vocabulary.code(value) or ""


_SEPARATORS = re.compile(r"[、，,;；/\s]+")
_NOTHING = frozenset({"无", "没有", "—", "-", "--", "——", "/", "无此项"})


def multi(
    value: Cell, choices: Sequence[tuple[str, str]], synonyms: Mapping[str, str] | None = None
) -> list[str]:
    """Codes of a multi-select written as labels separated by 、，,;/ (and spaces); "无" is []."""
    vocabulary = _vocabulary(tuple((str(a), str(b)) for a, b in choices), tuple((synonyms or {}).items()))
    return _multi(vocabulary, value)


def _multi(vocabulary: Vocabulary, value: Cell) -> list[str]:
    raw = text(value)
    if raw in _NOTHING:
        return []
    codes: list[str] = []
    for part in _SEPARATORS.split(raw):
        code = vocabulary.code(part) if part else None
        if code and code not in codes:
            codes.append(code)
    return codes


def phone(value: Cell) -> str:
    """A phone number by registry.validation.clean_phone's rules (a number from Excel too)."""
    if isinstance(value, bool):
        raise BadValue("请填写 11 位手机号码或带区号的固定电话。")
    raw = text(value).replace(" ", "").lstrip("'")
    if raw.startswith("+86"):
        raw = raw[3:]
    if "*" in raw:
        raise BadValue(MASKED_NUMBER)
    if re.fullmatch(r"1\d{2}-\d{4}-\d{4}", raw):
        raw = raw.replace("-", "")
    try:
        return validation.clean_phone(raw)
    except ValidationError as exc:
        raise BadValue(_message(exc)) from exc


def _message(exc: ValidationError) -> str:
    return str(exc.messages[0]).rstrip("。") if exc.messages else "内容无效"


# --- the vocabularies of the ledger --------------------------------------------------------------

SEX = Vocabulary(
    c.Sex.choices, {"男性": "M", "女性": "F", "男孩": "M", "女孩": "F", "男童": "M", "女童": "F"}
)
ETHNICITY = Vocabulary(c.ETHNICITY_CHOICES, {name.removesuffix("族"): name for name in c.ETHNICITIES})
HEALTH = Vocabulary(
    c.Health.choices,
    {"良好": "healthy", "正常": "healthy", "健康良好": "healthy", "残": "disabled", "残障": "disabled"}
    | {"疾病": "ill", "有病": "ill", "重病": "ill", "大病": "ill", "重大疾病": "ill", "患重病": "ill"},
)
DISABILITY_CATEGORY = Vocabulary(
    c.DisabilityCategory.choices,
    {label.removesuffix("残疾"): code for code, label in c.DisabilityCategory.choices}
    | {"智障": "intellectual", "听障": "hearing", "视障": "visual", "多重": "multiple"},
)
DISABILITY_GRADE = Vocabulary(
    c.DisabilityGrade.choices,
    {f"{n}级": str(n) for n in range(1, 5)}
    | {label.removesuffix("级"): code for code, label in c.DisabilityGrade.choices}
    | {"壹级": "1", "贰级": "2", "叁级": "3", "肆级": "4"},
)
SCHOOLING = Vocabulary(
    c.Schooling.choices,
    {
        "学前": "kindergarten",
        "在园": "kindergarten",
        "幼儿园在读": "kindergarten",
        "学龄前未入园": "not_in_kindergarten",
    }
    | {
        "小学在读": "primary",
        "在读小学": "primary",
        "小学生": "primary",
        "初中在读": "junior",
        "在读初中": "junior",
    }
    | {
        "初中生": "junior",
        "高中在读": "senior",
        "在读高中": "senior",
        "高中生": "senior",
        "中专": "vocational",
    }
    | {"职高": "vocational", "技校": "vocational", "中职在读": "vocational", "职业高中": "vocational"}
    | {"失学": "dropout", "辍学在家": "dropout", "失学辍学": "dropout", "未就学": "not_in_school"}
    | {"未上学": "not_in_school", "不在校": "not_in_school"},
)
CARE_TYPE = Vocabulary(
    c.CareType.choices,
    {
        "祖父母照料": "grandparents",
        "(外)祖父母": "grandparents",
        "祖父母": "grandparents",
        "外祖父母": "grandparents",
    }
    | {"祖辈照料": "grandparents", "隔代照料": "grandparents", "(外)祖父母监护": "grandparents"}
    | {"亲友照料": "relatives", "亲属照料": "relatives", "亲友监护": "relatives", "其他亲属照料": "relatives"}
    | {"父亲照料": "one_parent", "母亲照料": "one_parent", "父母一方": "one_parent", "单亲照料": "one_parent"}
    | {"受委托成年人照料": "entrusted_adult", "委托照料": "entrusted_adult", "无人照料": "unsupervised"}
    | {"独居": "living_alone", "单独生活": "living_alone"},
)
RATING = Vocabulary(
    c.Rating.choices,
    {
        "好": "good",
        "良好": "good",
        "较差": "poor",
        "监护情况较好": "good",
        "监护情况一般": "fair",
        "监护情况差": "poor",
    },
)
PARENT_STATUS = Vocabulary(
    c.ParentStatus.choices,
    {"在本地": "at_home", "在家务农": "at_home", "本地": "at_home", "外出": "away", "务工": "away"}
    | {"打工": "away", "外出打工": "away", "外地务工": "away", "死亡": "deceased", "去世": "deceased"}
    | {"过世": "deceased", "已故": "deceased", "失踪": "missing", "下落不明": "missing", "失联": "missing"}
    | {"服刑": "imprisoned", "在押": "imprisoned", "强制隔离戒毒": "imprisoned", "戒毒": "imprisoned"},
)
INCAPACITY = Vocabulary(
    c.IncapacityReason.choices,
    {"重大疾病": "serious_illness", "患重病": "serious_illness", "重度残疾": "serious_disability"}
    | {"重残": "serious_disability", "其他": "other", "无": "", "—": "", "-": "", "有监护能力": "", "有": ""},
)
RELATION = Vocabulary(
    c.GuardianRelation.choices,
    {
        "爷爷": "grandfather",
        "奶奶": "grandmother",
        "外公": "maternal_grandfather",
        "姥爷": "maternal_grandfather",
    }
    | {"外婆": "maternal_grandmother", "姥姥": "maternal_grandmother", "祖孙": "other_relative"}
    | {w: "sibling" for w in ("哥哥", "姐姐", "兄", "姐", "兄长", "兄妹", "姐弟", "姐妹", "兄弟")}
    | {
        w: "uncle_aunt"
        for w in ("叔叔", "伯伯", "伯父", "叔父", "姑姑", "姑妈", "舅舅", "阿姨", "姨妈", "婶婶")
    }
    | {w: "uncle_aunt" for w in ("叔", "伯", "姑", "舅", "姨", "舅妈", "伯母", "叔侄", "姑父", "姨父")}
    | {"亲戚": "other_relative", "亲属": "other_relative", "邻居": "other", "朋友": "other", "其他": "other"},
)
INCOME = Vocabulary(
    c.Income.choices,
    {"务工": "migrant_work", "外出务工": "migrant_work", "打工收入": "migrant_work", "工资": "migrant_work"}
    | {"种植": "farming", "养殖": "farming", "种养": "farming", "务农": "farming", "农业": "farming"}
    | {
        "救助": "government_aid",
        "低保": "government_aid",
        "亲友接济": "relatives_help",
        "亲戚接济": "relatives_help",
    },
)
ASSISTANCE = Vocabulary(
    c.Assistance.choices,
    {
        "最低生活保障": "dibao",
        "低保户": "dibao",
        "特困": "tekun",
        "特困人员": "tekun",
        "特困供养人员": "tekun",
    }
    | {"五保": "tekun", "医疗": "medical", "大病救助": "medical", "住房": "housing", "危房改造": "housing"},
)
HUKOU_RURAL = {"农业": True, "农村": True, "农业户口": True, "农村户籍": True, "农业户籍": True}
HUKOU_RURAL |= {
    "非农业": False,
    "非农": False,
    "城镇": False,
    "城市": False,
    "非农业户口": False,
    "城镇户口": False,
}
HUKOU_REGISTERED = {
    "已登记": True,
    "已落户": True,
    "有户口": True,
    "未登记": False,
    "无户口": False,
    "未落户": False,
}
BOARDING = {"寄宿": True, "住校": True, "寄宿生": True, "走读": False, "走读生": False, "不寄宿": False}

# The national form's mixed "监护类型" (R30) → (care_type, guardianship_rating); a CareType
# label (our own ledger export uses this header for care_type) is read by CARE_TYPE instead.
MIXED_GUARDIANSHIP: dict[str, tuple[str | None, str | None]] = {
    "无人监护": (c.CareType.UNSUPERVISED, c.Rating.POOR),
    "父或母无监护能力": (None, c.Rating.POOR),
    "父母一方无监护能力": (None, c.Rating.POOR),
    "一方外出另一方无监护能力": (None, c.Rating.POOR),
    "受委托监护人监护能力不足": (None, c.Rating.POOR),
    "监护情况一般": (None, c.Rating.FAIR),
    "监护情况较好": (None, c.Rating.GOOD),
    "监护情况差": (None, c.Rating.POOR),
}
_MIXED = {_key(word): pair for word, pair in MIXED_GUARDIANSHIP.items()}

_DISABILITY = re.compile(r"^(?P<category>.+?)(?P<grade>[一二三四1-4壹贰叁肆])级?$")
_DASHES = frozenset({"—", "-", "--", "——", "/", "无"})
_DECEASED = frozenset({"—", "-", "--", "——", "－", "―", "一"})  # R30: a deceased relative is "—"


def _flag(value: Cell, words: Mapping[str, bool]) -> bool | None:
    raw = text(value)
    if raw in words:
        return words[raw]
    return boolean(value)


# --- one row -------------------------------------------------------------------------------------


@dataclass
class _Row:
    """The row being read: values, the header each value came from, errors."""

    raw: RawRow
    regions: RegionLookup
    values: RowValues
    origin: dict[tuple[str, str], str]  # (group, registry field) → header
    errors: list[CellError]
    place: dict[str, str]
    columns: dict[str, str]  # mapping key → header, for every mapped column
    failed: set[str]  # mapping keys whose cell could not be read
    today: dt.date
    mixed: tuple[str | None, str | None] | None = None
    disability: tuple[str, str] | None = None
    id_facts: dict[str, idnumber.IdFacts] = dataclass_field(default_factory=dict)  # group → facts

    def target(self, group: str) -> dict[str, Any]:
        values = self.values
        if group == "guardian":
            if values.guardian is None:
                values.guardian = {}
            return values.guardian
        return {"child": values.child, "father": values.father, "mother": values.mother}[group]

    def error(self, header: str, reason: str, value: Cell = "", *, mask: str = "") -> None:
        shown = text(value)
        if mask == "id":
            shown = mask_id(shown)
        elif mask == "phone":
            shown = mask_phone(shown)
        self.errors.append(CellError(row=self.raw.number, column=header, reason=reason, value=shown[:50]))

    def field_error(self, group: str, name: str, reason: str, *, header: str = "") -> None:
        """A cross-field error on the column the field came from (row-level if none did);
        none if that column already has an error (one reason per cell is enough)."""
        header = header or self.origin.get((group, name)) or self._column_of(group, name)
        if header and any(error.column == header for error in self.errors):
            return
        if not header:
            label = _FIELD_LABELS.get((group, name), name)
            reason = f"{label}：{reason}"
        self.errors.append(CellError(row=self.raw.number, column=header, reason=reason, value=""))

    def _column_of(self, group: str, name: str) -> str:
        prefix = "" if group == "child" else f"{group}_"
        for key in (prefix + name, *_FIELD_COLUMNS.get((group, name), ())):
            if key in self.columns:
                return self.columns[key]
        return ""


# Registry fields filled from a column of another name.
_FIELD_COLUMNS: dict[tuple[str, str], tuple[str, ...]] = {
    ("child", "disability_category"): ("disability",),
    ("child", "disability_grade"): ("disability",),
    ("child", "care_type"): ("guardianship_type",),
    ("child", "guardianship_rating"): ("guardianship_type",),
    ("father", "work_province"): ("father_work_place",),
    ("father", "work_city"): ("father_work_place",),
    ("father", "incapacity_note"): ("father_incapacity_reason",),
    ("mother", "work_province"): ("mother_work_place",),
    ("mother", "work_city"): ("mother_work_place",),
    ("mother", "incapacity_note"): ("mother_incapacity_reason",),
}


Handler = Callable[[_Row, str, Cell, str], None]


def _max_length(model: Any, name: str) -> int:
    return int(model._meta.get_field(name).max_length)


def _text_handler(model: Any, name: str, *, squeeze: bool = False) -> Handler:
    limit = _max_length(model, name)

    def handle(row: _Row, group: str, value: Cell, header: str) -> None:
        result = text(value)
        if squeeze and " " in result and not _LATIN.search(result):
            result = result.replace(" ", "")  # "张  三" padded for alignment
        if len(result) > limit:
            raise BadValue(f"内容过长：最多 {limit} 个字")
        if result:
            row.target(group)[name] = result
            row.origin[(group, name)] = header

    return handle


_MEMO_LIMIT = 20_000
_LATIN = re.compile(r"[A-Za-z]")


def _memo(parse: Callable[[Cell], Any]) -> Callable[[Cell], Any]:
    """parse() remembered by value: a ledger repeats the same few code-list values and dates
    100,000 times. Keyed by type too (True == 1, and 1 == 1.0, are not the same cell)."""
    cache: dict[tuple[type, Cell], Any] = {}

    def remembered(value: Cell) -> Any:
        key = (value.__class__, value)
        try:
            outcome = cache[key]
        except KeyError:
            try:
                outcome = parse(value)
            except BadValue as exc:
                outcome = exc
            if len(cache) < _MEMO_LIMIT:
                cache[key] = outcome
        if isinstance(outcome, BadValue):
            raise BadValue(outcome.message)
        return outcome

    return remembered


def _value_handler(name: str, parse: Callable[[Cell], Any], *, memo: bool = True) -> Handler:
    """A handler storing parse(value) under `name`; parse is remembered by value unless the
    values are unique (ID and phone numbers)."""
    parse = _memo(parse) if memo else parse

    def handle(row: _Row, group: str, value: Cell, header: str) -> None:
        result = parse(value)
        if result is not None and result != "":
            row.target(group)[name] = result
            row.origin[(group, name)] = header

    return handle


def _id_handler(row: _Row, group: str, value: Cell, header: str) -> None:
    facts = id_facts(value)
    if facts:
        row.target(group)["id_number"] = facts.number
        row.origin[(group, "id_number")] = header
        row.id_facts[group] = facts


def _parent_name(row: _Row, group: str, value: Cell, header: str) -> None:
    if isinstance(value, str) and value.strip() in _DECEASED:  # R30: a deceased relative is entered as "—"
        row.target(group).setdefault("status", c.ParentStatus.DECEASED)
        row.origin.setdefault((group, "status"), header)
        return
    _PARENT_NAME(row, group, value, header)


def _work_place(row: _Row, group: str, value: Cell, header: str) -> None:
    raw = text(value)
    if not raw or raw in _DASHES:
        return
    province, city, rest = row.regions.work_place_detail(raw)
    target = row.target(group)
    for name, found in (("work_province", province), ("work_city", city)):
        if found is not None:
            target[name] = found
            row.origin[(group, name)] = header
    detail = (rest if province or city else raw).strip()
    if detail:
        target["work_detail"] = detail[: _max_length(Parent, "work_detail")]
        row.origin[(group, "work_detail")] = header


def _incapacity(row: _Row, group: str, value: Cell, header: str) -> None:
    raw = text(value)
    if not raw:
        return
    target = row.target(group)
    row.origin[(group, "incapacity_reason")] = header
    try:
        target["incapacity_reason"] = INCAPACITY.code(raw) or ""
    except BadValue:  # a reason in the writer's own words ("精神障碍"): other, with the words
        target["incapacity_reason"] = c.IncapacityReason.OTHER
        target["incapacity_note"] = raw[: _max_length(Parent, "incapacity_note")]
        row.origin[(group, "incapacity_note")] = header


def _disability(row: _Row, group: str, value: Cell, header: str) -> None:
    raw = text(value).replace(" ", "")
    if not raw or raw in _DASHES:
        return
    match = _DISABILITY.match(raw)
    if not match:
        raise BadValue("残疾类别及等级无法识别：请写成 肢体残疾二级")
    grade = "一二三四".find(match["grade"]) + 1 or "壹贰叁肆".find(match["grade"]) + 1 or int(match["grade"])
    category = DISABILITY_CATEGORY.code(match["category"]) or ""
    row.disability = (category, str(grade))
    row.origin[("child", "disability_category")] = header
    row.origin[("child", "disability_grade")] = header


def _mixed_guardianship(value: Cell) -> tuple[str | None, str | None] | None:
    raw = text(value)
    if not raw:
        return None
    mixed = _MIXED.get(_key(raw))
    if mixed is None:
        try:
            mixed = (CARE_TYPE.code(raw), None)
        except BadValue:
            words = "、".join(MIXED_GUARDIANSHIP) + "、" + "、".join(CARE_TYPE.labels)
            raise BadValue(f"无法识别“{raw[:20]}”：请填写 {words} 之一") from None
    return mixed


_MIXED_MEMO = _memo(_mixed_guardianship)


def _guardianship_type(row: _Row, group: str, value: Cell, header: str) -> None:
    mixed = _MIXED_MEMO(value)
    if mixed is None:
        return
    row.mixed = mixed
    for name, code in zip(("care_type", "guardianship_rating"), mixed, strict=True):
        if code:
            row.origin.setdefault(("child", name), header)


def _place(name: str) -> Handler:
    def handle(row: _Row, group: str, value: Cell, header: str) -> None:
        # RegionLookup normalises (and remembers) the text itself.
        row.place[name] = value if isinstance(value, str) else text(value)
        row.origin[("place", name)] = header

    return handle


_PARENT_NAME = _text_handler(Parent, "name", squeeze=True)


def _choice(vocabulary: Vocabulary) -> Callable[[Cell], str | None]:
    return vocabulary.code


def _flag_of(words: Mapping[str, bool]) -> Callable[[Cell], bool | None]:
    return lambda value: _flag(value, words)


_HANDLERS: dict[str, Handler] = {
    "name": _text_handler(Child, "name", squeeze=True),
    "sex": _value_handler("sex", _choice(SEX)),
    "ethnicity": _value_handler("ethnicity", _choice(ETHNICITY)),
    "birth_date": _value_handler("birth_date", date),
    "id_number": _id_handler,
    "hukou_registered": _value_handler("hukou_registered", _flag_of(HUKOU_REGISTERED)),
    "hukou_rural": _value_handler("hukou_rural", _flag_of(HUKOU_RURAL)),
    "hukou_place": _text_handler(Child, "hukou_place"),
    "current_address": _text_handler(Child, "current_address"),
    "health": _value_handler("health", _choice(HEALTH)),
    "disability": _disability,
    "disability_category": _value_handler("disability_category", _choice(DISABILITY_CATEGORY)),
    "disability_grade": _value_handler("disability_grade", _choice(DISABILITY_GRADE)),
    "illness": _text_handler(Child, "illness"),
    "boarding": _value_handler("boarding", _flag_of(BOARDING)),
    "schooling": _value_handler("schooling", _choice(SCHOOLING)),
    "grade": _text_handler(Child, "grade"),
    "household_address": _text_handler(Child, "household_address"),
    "income_sources": _value_handler("income_sources", functools.partial(_multi, INCOME)),
    "assistance": _value_handler("assistance", functools.partial(_multi, ASSISTANCE)),
    "care_type": _value_handler("care_type", _choice(CARE_TYPE)),
    "guardianship_rating": _value_handler("guardianship_rating", _choice(RATING)),
    "guardianship_type": _guardianship_type,
    "is_in_difficulty": _value_handler("is_in_difficulty", boolean),
    "is_de_facto_orphan": _value_handler("is_de_facto_orphan", boolean),
    "township": _place("township"),
    "village": _place("village"),
    "village_code": _place("code"),
    "guardian_name": _text_handler(EntrustedGuardian, "name", squeeze=True),
    "guardian_phone": _value_handler("phone", phone, memo=False),
    "guardian_id_number": _id_handler,
    "guardian_relation": _value_handler("relation", _choice(RELATION)),
    "guardian_address": _text_handler(EntrustedGuardian, "address"),
}
for _role in ("father", "mother"):
    _HANDLERS |= {
        f"{_role}_name": _parent_name,
        f"{_role}_birth_date": _value_handler("birth_date", date),
        f"{_role}_id_number": _id_handler,
        f"{_role}_phone": _value_handler("phone", phone, memo=False),
        f"{_role}_status": _value_handler("status", _choice(PARENT_STATUS)),
        f"{_role}_work_place": _work_place,
        f"{_role}_incapacity_reason": _incapacity,
    }
_MASKED = {key: "id" for key in FIELD_BY_KEY if key.endswith("id_number")}
_MASKED |= {key: "phone" for key in FIELD_BY_KEY if key.endswith("phone")}

_FIELD_LABELS: dict[tuple[str, str], str] = {
    ("child", "birth_date"): "出生日期",
    ("child", "sex"): "性别",
    ("child", "disability_category"): "残疾类别",
    ("child", "illness"): "患病类型",
    ("child", "key_manual_reason"): "人工认定原因",
    ("guardian", "name"): "受委托监护人姓名",
    ("guardian", "relation"): "受委托监护人与儿童关系",
    ("guardian", "assessed_by"): "评估人",
    ("guardian", "assessed_on"): "评估日期",
} | {
    (role, name): prefix + label
    for role, prefix in (("father", "父亲"), ("mother", "母亲"))
    for name, label in (
        ("work_province", "务工地点"),
        ("work_city", "务工地点"),
        ("incapacity_note", "无监护能力原因"),
    )
}


def normalise_row(
    row: RawRow,
    mapping: Mapping[int, str],
    headers: Sequence[str],
    *,
    regions: RegionLookup,
    today: dt.date | None = None,
) -> tuple[RowValues, list[CellError]]:
    """Typed values of one row and the errors found in it (an empty list: the row is good).

    Keys are present only for the cells the row fills. The village is resolved when a place
    column is mapped (an error if the row leaves it blank or names a village outside the
    user's write scope); with no place column it is the user's only village, or None (the
    caller then decides). `today` is the date a birth date may not be after (the server's
    local date by default; a run passes its own, fixed for the whole file)."""
    state = _Row(
        raw=row,
        regions=regions,
        values=RowValues(number=row.number, child={}, father={}, mother={}, guardian=None, village=None),
        origin={},
        errors=[],
        place={},
        columns={key: headers[index] for index, key in mapping.items()},
        failed=set(),
        today=today or timezone.localdate(),
    )
    _read_cells(state, mapping, headers)
    _settle_child(state)
    _settle_village(state, mapping, headers)
    _check(state, mapping, headers)
    return state.values, state.errors


def _read_cells(row: _Row, mapping: Mapping[int, str], headers: Sequence[str]) -> None:
    cells = row.raw.cells
    for index, key in mapping.items():
        value = cells[index] if index < len(cells) else None
        if value is None or value == "":
            continue
        group = FIELD_BY_KEY[key].group
        try:
            _HANDLERS[key](row, group, value, headers[index])
        except BadValue as exc:
            row.failed.add(key)
            row.error(headers[index], exc.message, value, mask=_MASKED.get(key, ""))


def _settle_child(row: _Row) -> None:
    """Values that come from two places: the mixed 监护类型, 残疾类别及等级, the ID number."""
    child = row.values.child
    if row.mixed is not None:
        for name, code in zip(("care_type", "guardianship_rating"), row.mixed, strict=True):
            if code:
                child.setdefault(name, code)  # an explicit column wins
    if row.disability is not None:
        category, grade = row.disability
        child.setdefault("disability_category", category)
        child.setdefault("disability_grade", grade)
        child.setdefault("health", c.Health.DISABLED)
    facts = row.id_facts.get("child")
    if facts is not None:
        for name, fact, reason in (
            ("birth_date", facts.birth_date, BIRTH_MISMATCH),
            ("sex", facts.sex, SEX_MISMATCH),
        ):
            given = child.get(name)
            if given is not None and given != fact:
                row.field_error("child", name, reason)
            child[name] = fact
    for group in ("father", "mother"):
        _settle_parent_birth(row, group)


def _settle_parent_birth(row: _Row, group: str) -> None:
    parent = row.values.father if group == "father" else row.values.mother
    facts = row.id_facts.get(group)
    if facts is None:
        return
    birth = facts.birth_date
    if parent.get("birth_date") not in (None, birth):
        row.field_error(group, "birth_date", BIRTH_MISMATCH)
    parent["birth_date"] = birth


def _settle_village(row: _Row, mapping: Mapping[int, str], headers: Sequence[str]) -> None:
    mapped = {key: headers[index] for index, key in mapping.items() if FIELD_BY_KEY[key].group == "place"}
    if not mapped:
        row.values.village = row.regions.only_village
        return
    place = row.place
    found = row.regions.village(
        township=place.get("township", ""), village=place.get("village", ""), code=place.get("code", "")
    )
    if isinstance(found, Region):
        row.values.village = found
        return
    header = mapped.get("village") or mapped.get("village_code") or mapped.get("township", "")
    shown = place.get("village") or place.get("code") or place.get("township") or ""
    row.error(header, found.rstrip("。"), shown)


def _check(row: _Row, mapping: Mapping[int, str], headers: Sequence[str]) -> None:
    values = row.values
    for index, key in mapping.items():
        if key == "name" and "name" not in values.child:
            row.field_error("child", "name", REQUIRED, header=headers[index])

    def child_value(name: str) -> Any:
        # An ID number that was given but could not be read is still "given": the row's
        # error is the ID's, not a missing birth date.
        return values.child.get(name) or (name == "id_number" and "id_number" in row.failed)

    for name, reason in validation.child_errors(child_value, today=row.today).items():
        row.field_error("child", name, reason.rstrip("。"))
    for group, parent in (("father", values.father), ("mother", values.mother)):
        # A row that only names a parent (or gives a phone) says nothing of where the parent
        # is; the rules about work place and capacity apply when it does.
        if parent.keys() & _PARENT_WHEREABOUTS:
            for name, reason in validation.parent_errors(parent.get).items():
                row.field_error(group, name, reason.rstrip("。"))
    if values.guardian:
        for name, reason in validation.guardian_errors(values.guardian.get).items():
            row.field_error("guardian", name, reason.rstrip("。"))


_PARENT_WHEREABOUTS = frozenset({"status", "work_province", "work_city", "work_detail", "incapacity_reason"})
