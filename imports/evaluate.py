"""What each row of an import would do: 新建, 更新 (with the differences), 无变化, or 错误.

The preview and the commit both run this, chunk by chunk, so the commit re-validates the file
against the database as it is at commit time. Per chunk: the normaliser (imports.normalise)
for every row, then ONE query that finds the active files with the chunk's ID numbers (by
blind index) together with whether the importing user may write them, their parents and
guardian. No query per row.

A row matched to a file outside the user's write scope is an error with the words of the web
form; duplicated ID numbers inside the file are errors on every such row, each naming the
others. Values in differences and errors are masked: ID and phone numbers as everywhere
(core.masking), other encrypted text (addresses, work places) to their first character.
"""

import datetime as dt
from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from django.core.exceptions import ValidationError
from django.db import router
from django.db.models import Exists, Model, OuterRef, Q
from django.db.models import Field as ModelField

from accounts.models import User
from core.blind_index import id_index
from core.lookups import in_values
from core.masking import mask_id, mask_phone, mask_text
from core.pinyin import pinyin_keys
from geo.models import Region
from imports import normalise
from imports.columns import FIELD_BY_KEY
from imports.models import Outcome
from imports.normalise import CellError, RowValues
from imports.reading import RawRow
from imports.regions import RegionLookup
from imports.timing import Phases
from registry import choices as c
from registry import rules
from registry.access import children_editable_by
from registry.models import Child, EntrustedGuardian, Parent
from registry.services import derive, parent_facts

DUPLICATE_IN_FILE = "身份证号码与第 {rows} 行重复"
ALREADY_ON_FILE = "该身份证号码已有在册档案，不能重复建档。"
AMBIGUOUS = "有多份同名、同出生日期且无身份证号码的档案，无法确定更新哪一份，请填写身份证号码"
NEW_FILE_NEEDS = "新建档案须填写此项"
NO_VILLAGE = "请填写所属村（社区）"
# A new file needs these (the model has no default for them); birth date and sex come from
# the ID number when it is given (registry.validation.child_errors says so otherwise).
NEW_FILE_REQUIRED = ("name", "schooling", "care_type", "guardianship_rating")
GROUP_LABELS = {"father": "父亲", "mother": "母亲", "guardian": "受委托监护人"}
_CHILD_FIELDS = {f.name: f for f in Child._meta.concrete_fields}
_PARENT_FIELDS = {f.name: f for f in Parent._meta.concrete_fields}
_GUARDIAN_FIELDS = {f.name: f for f in EntrustedGuardian._meta.concrete_fields}
_MULTI_CHOICES = {"income_sources": dict(c.Income.choices), "assistance": dict(c.Assistance.choices)}
_PHONE_FIELDS = frozenset({"phone"})
_ID_FIELDS = frozenset({"id_number"})
# Never taken from a row: keys, the family link, and the village (RowValues.village).
_NOT_GIVEN = frozenset({"id", "child", "role", "village", "id_index", "phone_index", "id_tail"})


@dataclass
class Plan:
    """Everything a run needs that does not change from row to row."""

    user: User
    headers: Sequence[str]
    mapping: Mapping[int, str]
    regions: RegionLookup
    today: dt.date
    duplicates: dict[int, list[int]] = field(default_factory=dict)  # row → the other rows
    # Build what will be written: a new file's values with their derived columns
    # (registry.services.derive). The preview does not (it keeps outcomes and differences):
    # the normaliser already checks what derive() would refuse (the ID number against birth
    # date and sex; villages come from the user's RegionLookup).
    derive: bool = True
    phases: Phases = field(default_factory=Phases)

    def column_of(self, key: str) -> str:
        """The file's header of the column mapped to field `key` ("" when none)."""
        for index, mapped in self.mapping.items():
            if mapped == key:
                return str(self.headers[index])
        return ""


@dataclass
class FamilyWrite:
    """A parent or guardian to create, or to update with these fields."""

    obj: Parent | EntrustedGuardian
    fields: list[str]  # empty: a new record


@dataclass
class NewFile:
    """A file to open, as plain values (attribute name → value), no model instances: the
    commit writes 100,000 of them (imports.writing). `child` holds the derived columns too
    when the plan derives; `family` the parents and the guardian to create with it."""

    child: dict[str, Any]
    family: list[tuple[type[Parent] | type[EntrustedGuardian], dict[str, Any]]]


@dataclass
class Evaluated:
    number: int
    outcome: str
    errors: list[dict[str, str]] = field(default_factory=list)
    child: Child | None = None  # a matched file (changes applied, derived)
    new: NewFile | None = None  # a file to open
    seen_version: int | None = None  # the matched file's version before this import
    child_fields: list[str] = field(default_factory=list)  # changed fields of a matched file
    family: list[FamilyWrite] = field(default_factory=list)
    diff: list[list[str]] = field(default_factory=list)
    summary: str = ""


# --- before the chunks: duplicated ID numbers inside the file --------------------------------


def find_duplicates(rows: Iterable[RawRow], mapping: Mapping[int, str]) -> dict[int, list[int]]:
    """Rows whose child ID number appears on another row too: row → the other rows."""
    column = next((index for index, key in mapping.items() if key == "id_number"), None)
    if column is None:
        return {}
    # Grouped first by a cheap key (the text as id_number() would normalise it); only the
    # numbers found on two rows or more are then checked and grouped by their real value.
    by_key: dict[str, list[RawRow]] = defaultdict(list)
    for row in rows:
        cell = row.cells[column] if column < len(row.cells) else None
        key = normalise.id_key(cell)
        if key:
            by_key[key].append(row)
    seen: dict[str, list[int]] = defaultdict(list)
    for group in by_key.values():
        if len(group) < 2:
            continue
        for row in group:
            try:
                value = normalise.id_number(row.cells[column])
            except normalise.BadValue:
                continue  # the row's own error says why
            if value:
                seen[value].append(row.number)
    duplicates: dict[int, list[int]] = {}
    for numbers in seen.values():
        if len(numbers) > 1:
            for number in sorted(numbers):
                duplicates[number] = [other for other in sorted(numbers) if other != number]
    return duplicates


# --- one chunk ----------------------------------------------------------------------------------


Normalised = list[tuple[RowValues, list[CellError]]]


def normalise_chunk(rows: Sequence[RawRow], plan: Plan) -> Normalised:
    """The typed values and the cell errors of each row (imports.normalise)."""
    with plan.phases("normalise"):
        return [
            normalise.normalise_row(row, plan.mapping, plan.headers, regions=plan.regions, today=plan.today)
            for row in rows
        ]


def evaluate_normalised(normalised: Normalised, plan: Plan, *, lock: bool) -> list[Evaluated]:
    """The outcome of each row normalised by normalise_chunk(). `lock`: take the matched files
    FOR UPDATE."""
    return evaluate_matched(match_normalised(normalised, plan, lock=lock), plan)


@dataclass
class Matched:
    """A chunk's rows with the files they match (match_normalised), to be evaluated."""

    normalised: Normalised
    keys: list[str | None]
    matches: dict[str, Child]
    by_name: dict[tuple[Any, ...], list[Child]]
    lock: bool


def match_normalised(normalised: Normalised, plan: Plan, *, lock: bool) -> Matched:
    """The database part of evaluate_normalised(): the files the rows match (locked with
    `lock`)."""
    with plan.phases("match"):
        # The blind index of each row's ID number, computed once (an HMAC each).
        keys = [id_index(values.child.get("id_number") or None) for values, _errors in normalised]
        matches, by_name = _match([values for values, _errors in normalised], keys, plan.user, lock=lock)
    return Matched(normalised, keys, matches, by_name, lock)


def evaluate_matched(matched: Matched, plan: Plan) -> list[Evaluated]:
    """The rest of evaluate_normalised(): outcomes, differences, new files' values."""
    plan.derive = matched.lock  # only the commit writes: the preview skips the derived values (pinyin…)
    with plan.phases("evaluate"):
        return [
            _evaluate(values, errors, key, plan, matched.matches, matched.by_name)
            for (values, errors), key in zip(matched.normalised, matched.keys, strict=True)
        ]


def _evaluate(
    values: RowValues,
    errors: list[CellError],
    key: str | None,
    plan: Plan,
    matches: dict[str, Child],
    by_name: dict[tuple[Any, ...], list[Child]],
) -> Evaluated:
    found = [_error(e) for e in errors]
    number = values.number
    if number in plan.duplicates:
        rows = "、".join(str(other) for other in plan.duplicates[number])
        found.append(_cell_error(plan, "id_number", DUPLICATE_IN_FILE.format(rows=rows), values))
    summary = _summary(values)
    if found:
        return Evaluated(number, Outcome.ERROR, errors=found, summary=summary)
    if key is not None:
        match = matches.get(key)
    else:
        candidates = by_name.get(_name_key(values), [])
        if len(candidates) > 1:
            return Evaluated(number, Outcome.ERROR, errors=[_row_error(AMBIGUOUS)], summary=summary)
        match = candidates[0] if candidates else None
    if match is not None and not getattr(match, "writable", True):
        error = _cell_error(plan, "id_number", ALREADY_ON_FILE, values)
        return Evaluated(number, Outcome.ERROR, errors=[error], summary=summary)
    try:
        if match is None:
            return _new(values, plan, summary, key)
        return _update(values, match, plan, summary)
    except ValidationError as exc:
        return Evaluated(number, Outcome.ERROR, errors=_validation_errors(exc, plan, values), summary=summary)


# --- matching: one query per chunk ------------------------------------------------------------


def lock_matching(normalised: Normalised, plan: Plan, *, hold: int) -> Matched | None:
    """The commit's first pass over a chunk: lock (FOR UPDATE) the active files its rows may
    match, reading only their keys; then the chunk matched (match_normalised()) when it
    matches at most `hold` files, or None when it matches more (the caller matches it when
    its turn comes, the files locked already, so as not to hold many files with their
    families meanwhile)."""
    with plan.phases("match"):
        keys = [id_index(values.child.get("id_number") or None) for values, _errors in normalised]
        query = _matching([values for values, _errors in normalised], keys)
        found = (
            []
            if query is None
            else list(
                Child.objects.filter(query, status=c.Status.ACTIVE)
                .select_for_update(of=("self",))
                .values_list("pk", flat=True)
            )
        )
    if not found:
        return Matched(normalised, keys, {}, {}, lock=True)
    return match_normalised(normalised, plan, lock=True) if len(found) <= hold else None


def _matching(rows: list[RowValues], row_keys: list[str | None]) -> Q | None:
    """The condition _match() looks files up by (None: no row can match)."""
    keys = {k for k in row_keys if k}
    nameless = [r for r in rows if not r.child.get("id_number") and r.village is not None]
    if not keys and not nameless:
        return None
    query = Q(in_values("id_index", keys, using=router.db_for_read(Child))) if keys else Q(pk__in=[])
    if nameless:
        query |= Q(
            id_index__isnull=True,
            village_id__in={r.village.pk for r in nameless if r.village is not None},
            name__in={r.child.get("name") for r in nameless},
        )
    return query


def _match(
    rows: list[RowValues], row_keys: list[str | None], user: User, *, lock: bool
) -> tuple[dict[str, Child], dict[tuple[Any, ...], list[Child]]]:
    """Active files with the chunk's ID numbers (by blind index, `row_keys`); for rows without
    an ID number, active files without one of the same village, name and birth date. Each file
    carries `writable` (in the user's write scope), its parents and its guardian."""
    query = _matching(rows, row_keys)
    if query is None:
        return {}, {}
    found = (
        Child.objects.filter(query, status=c.Status.ACTIVE)
        .annotate(writable=Exists(children_editable_by(user).filter(pk=OuterRef("pk"))))
        .select_related("village__parent__parent", "guardian")
        .prefetch_related("parents")
    )
    if lock:
        found = found.select_for_update(of=("self",))
    by_index: dict[str, Child] = {}
    by_name: dict[tuple[Any, ...], list[Child]] = defaultdict(list)
    for child in found:
        if child.id_index:
            by_index[child.id_index] = child
        else:
            by_name[(child.village_id, child.name, child.birth_date)].append(child)
    return by_index, by_name


def _name_key(values: RowValues) -> tuple[Any, ...]:
    village = values.village.pk if values.village is not None else None
    return (village, values.child.get("name"), values.child.get("birth_date"))


# --- new files and updates --------------------------------------------------------------------


def _new(values: RowValues, plan: Plan, summary: str, key: str | None) -> Evaluated:
    missing = [name for name in NEW_FILE_REQUIRED if values.child.get(name) in (None, "")]
    errors = [_cell_error(plan, name, NEW_FILE_NEEDS, values) for name in missing]
    village = values.village
    if village is None:
        errors.append(_cell_error(plan, "village", NO_VILLAGE, values))
    if errors or village is None:
        return Evaluated(values.number, Outcome.ERROR, errors=errors, summary=summary)
    if not plan.derive:  # the preview keeps the outcome only; the commit builds the values
        return Evaluated(values.number, Outcome.NEW, summary=summary)
    child = _attributes(values.child, _CHILD_FIELDS)
    child["village_id"] = village.pk
    child.update(derived(child, village, values.father, values.mother, key=key, on=plan.today))
    family: list[tuple[type[Parent] | type[EntrustedGuardian], dict[str, Any]]] = []
    for role, given in ((c.ParentRole.FATHER, values.father), (c.ParentRole.MOTHER, values.mother)):
        if _has_values(given):
            family.append((Parent, {**_attributes(given, _PARENT_FIELDS), "role": role}))
    if _has_values(values.guardian):
        family.append((EntrustedGuardian, _attributes(values.guardian or {}, _GUARDIAN_FIELDS)))
    return Evaluated(values.number, Outcome.NEW, new=NewFile(child, family), summary=summary)


def _attributes(given: Mapping[str, Any] | None, fields: dict[str, ModelField[Any, Any]]) -> dict[str, Any]:
    """_own() by attribute name: a related object becomes its key."""
    out: dict[str, Any] = {}
    for name, value in _own(given, fields).items():
        model_field = fields[name]
        if model_field.is_relation:
            out[model_field.attname] = value.pk if isinstance(value, Model) else value
        else:
            out[name] = value
    return out


# A file's default values (for a new file's columns the row does not give).
CHILD_DEFAULTS = {name: f.get_default() for name, f in _CHILD_FIELDS.items() if f.has_default()}


def derived(
    child: Mapping[str, Any],
    village: Region,
    father: Mapping[str, Any] | None,
    mother: Mapping[str, Any] | None,
    *,
    key: str | None,
    on: dt.date,
) -> dict[str, Any]:
    """The derived columns of a new file: what registry.services.derive() sets on a Child,
    computed from values the normaliser has already checked (the ID number parsed, birth date
    and sex taken from it and compared; the village one the user may write). A test keeps
    the two equal (imports/tests/test_writing.py). `key`: the ID number's blind index."""
    township = village.parent
    if township is None or township.parent_id is None:
        raise ValidationError({"village": "请选择村（社区）。"})
    value: Callable[[str], Any] = {**CHILD_DEFAULTS, **child}.get
    number = value("id_number") or ""
    pinyin, initials = pinyin_keys(str(value("name")))
    reasons = rules.key_reasons(
        guardianship_rating=value("guardianship_rating"),
        care_type=value("care_type"),
        schooling=value("schooling"),
        hukou_registered=value("hukou_registered"),
        health=value("health"),
        manual=value("key_manual"),
    )
    return {
        "name_pinyin": pinyin,
        "name_initials": initials,
        "id_index": key if number else None,
        "id_tail": number[-4:],
        "township_id": township.pk,
        "county_id": township.parent_id,
        "is_left_behind": rules.is_left_behind(
            birth=value("birth_date"),
            on=on,
            father=_parent_facts(father),
            mother=_parent_facts(mother),
            hukou_registered=value("hukou_registered"),
            hukou_rural=value("hukou_rural"),
        ),
        "key_reasons": reasons,
        "is_key": bool(reasons),
    }


def _parent_facts(given: Mapping[str, Any] | None) -> rules.ParentFacts | None:
    """The file's parent values read by registry.services.parent_facts, as derive() reads them."""
    return parent_facts(_facts(None, given))


def _update(values: RowValues, child: Child, plan: Plan, summary: str) -> Evaluated:
    given = _own(values.child, _CHILD_FIELDS)
    if values.village is not None:
        given["village"] = values.village
    diff: list[list[str]] = []
    changed = _changes(child, given, _CHILD_FIELDS, "", diff)
    parents = {p.role: p for p in child.parents.all()}
    family: list[FamilyWrite] = []
    facts: dict[str, dict[str, Any]] = {}
    for role, prefix, new in (
        (c.ParentRole.FATHER, "父亲", values.father),
        (c.ParentRole.MOTHER, "母亲", values.mother),
    ):
        current = parents.get(role)
        facts[role] = _facts(current, new)
        if _has_values(new):
            family += _family_write(
                current or Parent(child=child, role=role), new, _PARENT_FIELDS, prefix, diff
            )
    if _has_values(values.guardian):
        current_guardian = getattr(child, "guardian", None) or EntrustedGuardian(child=child)
        family += _family_write(
            current_guardian, values.guardian or {}, _GUARDIAN_FIELDS, "受委托监护人", diff
        )
    seen = child.version
    if not diff:
        return Evaluated(values.number, Outcome.UNCHANGED, child=child, seen_version=seen, summary=summary)
    _assign(child, {name: given[name] for name in changed})
    if plan.derive:
        derive(child, father=facts[c.ParentRole.FATHER], mother=facts[c.ParentRole.MOTHER], on=plan.today)
    return Evaluated(
        values.number,
        Outcome.UPDATE,
        child=child,
        seen_version=seen,
        child_fields=changed,
        family=family,
        diff=diff,
        summary=summary,
    )


def _family_write(
    obj: Parent | EntrustedGuardian,
    given: dict[str, Any],
    fields: dict[str, ModelField[Any, Any]],
    prefix: str,
    diff: list[list[str]],
) -> list[FamilyWrite]:
    own = _own(given, fields)
    changed = _changes(obj, own, fields, prefix, diff)
    if not changed:
        return []
    creating = obj._state.adding
    _assign(obj, {name: own[name] for name in changed})
    return [FamilyWrite(obj, [] if creating else changed)]


def _changes(
    obj: Model,
    given: dict[str, Any],
    fields: dict[str, ModelField[Any, Any]],
    prefix: str,
    diff: list[list[str]],
) -> list[str]:
    """Names of the fields whose given value differs from the stored one; appends the
    masked (字段, 原值, 新值) of each to `diff`."""
    changed = []
    for name, new in given.items():
        model_field = fields[name]
        old = getattr(obj, model_field.attname) if not obj._state.adding else None
        if _same(old, _raw(new)):
            continue
        changed.append(name)
        label = f"{prefix}{model_field.verbose_name}"
        diff.append([label, _shown(model_field, old), _shown(model_field, _raw(new))])
    return changed


def _raw(value: Any) -> Any:
    return value.pk if isinstance(value, Model) else value


def _same(old: Any, new: Any) -> bool:
    if old in (None, "", []) and new in (None, "", []):
        return True
    if isinstance(old, list) and isinstance(new, list):
        return sorted(map(str, old)) == sorted(map(str, new))
    return bool(old == new)


_REGION_NAMES: dict[Any, str] = {}


def _region_name(pk: Any) -> str:
    if pk not in _REGION_NAMES:
        _REGION_NAMES[pk] = Region.objects.filter(pk=pk).values_list("name", flat=True).first() or ""
    return _REGION_NAMES[pk]


def _shown(model_field: ModelField[Any, Any], value: Any) -> str:
    """The value as the user reads it, masked where it is personal."""
    if value in (None, "", []):
        return ""
    name = model_field.name
    if name in _ID_FIELDS:
        return mask_id(str(value))
    if name in _PHONE_FIELDS:
        return mask_phone(str(value))
    if getattr(model_field, "encrypted", False):
        return mask_text(str(value))
    if model_field.is_relation:
        return _region_name(value) if model_field.related_model is Region else str(value)
    if model_field.choices:
        return str(dict(model_field.flatchoices).get(value, value))
    if name in _MULTI_CHOICES:
        return "、".join(str(_MULTI_CHOICES[name].get(v, v)) for v in value)
    if isinstance(value, bool):
        return "是" if value else "否"
    if isinstance(value, dt.date):
        return value.isoformat()
    return str(value)


# --- small helpers ----------------------------------------------------------------------------


def _own(values: Mapping[str, Any] | None, fields: Mapping[str, Any]) -> dict[str, Any]:
    """The given values that are fields of the model (None: not given, keep what is stored)."""
    return {
        name: value
        for name, value in (values or {}).items()
        if name in fields and name not in _NOT_GIVEN and value is not None
    }


def _has_values(values: Mapping[str, Any] | None) -> bool:
    """Whether any value is given (not None, "" or []). By type, not by ==: a value may be a
    Region, whose == is Python code, and this runs for every person of every row."""
    if not values:
        return False
    for value in values.values():
        if value is None:
            continue
        if isinstance(value, str | list):
            if value:
                return True
            continue
        return True
    return False


def _assign(obj: Model, values: Mapping[str, Any]) -> None:
    for name, value in values.items():
        setattr(obj, name, value)


def _facts(parent: Parent | None, new: Mapping[str, Any] | None) -> dict[str, Any]:
    """The parent's status and incapacity as derive() reads them: the file's values over the
    stored ones."""
    if parent is None and not _has_values(new):
        return {}
    facts = {"status": parent.status, "incapacity_reason": parent.incapacity_reason} if parent else {}
    facts.update({k: v for k, v in (new or {}).items() if k in ("status", "incapacity_reason") and v})
    return facts


def _summary(values: RowValues) -> str:
    name = str(values.child.get("name") or "")
    number = str(values.child.get("id_number") or "")
    parts = [f"{name[0]}*" if name else "", mask_id(number)]
    return " ".join(p for p in parts if p)


def _error(error: CellError) -> dict[str, str]:
    return {"column": error.column, "reason": error.reason, "value": error.value}


def _row_error(reason: str) -> dict[str, str]:
    return {"column": "", "reason": reason, "value": ""}


def _cell_error(plan: Plan, key: str, reason: str, values: RowValues) -> dict[str, str]:
    value = values.child.get(key) if key in _CHILD_FIELDS else None
    shown = mask_id(str(value)) if key == "id_number" and value else ""
    label = FIELD_BY_KEY[key].label if key in FIELD_BY_KEY else key
    return {"column": plan.column_of(key) or label, "reason": reason, "value": shown}


def _validation_errors(exc: ValidationError, plan: Plan, values: RowValues) -> list[dict[str, str]]:
    if not hasattr(exc, "error_dict"):
        return [_row_error(message) for message in exc.messages]
    return [
        _cell_error(plan, name, str(message), values)
        for name, messages in exc.message_dict.items()
        for message in messages
    ]
