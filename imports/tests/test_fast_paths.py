"""The import's fast paths give what the slower general code gives (issue 6 item 8): the
derived columns of a new file equal registry.services.derive(); the ID number fast path
equals core.idnumber.parse(); the care and agreement columns written with a new file are
what the care and guardianship apps compute afterwards; history rows carry values that
read back (encrypted for the history column)."""

import datetime as dt
from typing import Any

import pytest
from django.core.exceptions import ValidationError
from django.db import connection

from care.services import care_recompute_many
from core import idnumber
from guardianship.services import agreement_state_recompute_many
from imports import normalise
from imports.evaluate import _facts, derived
from imports.tests import helpers as h
from registry import choices as c
from registry.models import Child, EntrustedGuardian, Parent
from registry.services import derive
from testing.world import World

ON = dt.date(2026, 6, 1)
AWAY = {"status": c.ParentStatus.AWAY}
HOME = {"status": c.ParentStatus.AT_HOME}
ILL_AT_HOME = {"status": c.ParentStatus.AT_HOME, "incapacity_reason": c.IncapacityReason.SERIOUS_ILLNESS}

CASES: list[tuple[dict[str, Any], dict[str, Any], dict[str, Any]]] = [
    ({"id_number": idnumber.make("450521", dt.date(2015, 3, 4), 123)}, AWAY, AWAY),
    ({"id_number": idnumber.make("450521", dt.date(2008, 3, 4), 124)}, AWAY, AWAY),  # 18: not left behind
    ({"birth_date": dt.date(2016, 1, 2), "sex": "F"}, AWAY, HOME),
    ({"birth_date": dt.date(2016, 1, 2), "sex": "M"}, AWAY, ILL_AT_HOME),
    ({"birth_date": dt.date(2016, 1, 2), "sex": "M", "hukou_rural": False}, AWAY, AWAY),
    ({"birth_date": dt.date(2016, 1, 2), "sex": "M", "hukou_registered": False}, {}, {}),
    ({"birth_date": dt.date(2016, 1, 2), "sex": "M", "health": c.Health.DISABLED}, {"name": "某"}, AWAY),
    ({"birth_date": dt.date(2016, 1, 2), "sex": "M", "schooling": c.Schooling.DROPOUT}, AWAY, AWAY),
    ({"birth_date": dt.date(2016, 1, 2), "sex": "F", "guardianship_rating": c.Rating.POOR}, AWAY, AWAY),
    ({"birth_date": dt.date(2016, 1, 2), "sex": "F", "care_type": c.CareType.LIVING_ALONE}, AWAY, AWAY),
]


@pytest.mark.parametrize(("given", "father", "mother"), CASES)
def test_the_derived_columns_of_a_new_file_are_derives(
    world: World, given: dict[str, Any], father: dict[str, Any], mother: dict[str, Any]
) -> None:
    values = {
        "name": "𠮷张三",
        "schooling": c.Schooling.PRIMARY,
        "care_type": c.CareType.GRANDPARENTS,
        "guardianship_rating": c.Rating.GOOD,
        **given,
    }
    if "id_number" in values:
        facts = idnumber.parse(values["id_number"])
        values |= {"birth_date": facts.birth_date, "sex": facts.sex}
    village = type(world.village_a1).objects.select_related("parent").get(pk=world.village_a1.pk)
    key = "a" * 64 if "id_number" in values else None
    ours = derived(values, village, father, mother, key=key, on=ON)

    child = Child(village=world.village_a1, **values)
    # As the import called derive() before it had its own (the parents' facts as _facts gives them).
    derive(child, father=_facts(None, father), mother=_facts(None, mother), on=ON)
    theirs = {name: getattr(child, name) for name in ours if name != "id_index"}
    assert {name: value for name, value in ours.items() if name != "id_index"} == theirs
    assert (ours["id_index"] is not None) == (child.id_index is not None)


VALID = [
    idnumber.make("450521", dt.date(2015, 3, 4), 123),
    idnumber.make("110101", dt.date(2000, 2, 29), 456),
    # one whose check character is X
    next(n for s in range(1000) if (n := idnumber.make("450502", dt.date(2012, 12, 31), s)).endswith("X")),
]


def _swap_check(number: str) -> str:
    return number[:-1] + ("1" if number[-1] != "1" else "2")


INVALID = [
    "45052120150304123",  # 17 characters
    "4505212015030412３X",  # a full-width digit (normalised) then a wrong check character
    _swap_check(VALID[0]),  # check character
    "450521201502301230",  # 30 February
    idnumber.make("999999", dt.date(2015, 3, 4), 123),  # no such region
    "45052120150304１２３" + "4",  # full-width digits
    "４５０５２１２０１５０３０４１２３" + idnumber.make("450521", dt.date(2015, 3, 4), 123)[-1],
]


@pytest.mark.parametrize("number", VALID + INVALID)
def test_the_id_number_fast_path_answers_as_idnumber_parse(number: str) -> None:
    normalise._parse_id(VALID[0])  # the region is known: the fast path is taken where it can be
    normalise._parse_id(VALID[1])
    try:
        expected: Any = idnumber.parse(number)
    except ValidationError as exc:
        expected = exc.messages
    try:
        ours: Any = normalise._parse_id(number)
    except ValidationError as exc:
        ours = exc.messages
    assert ours == expected


def test_a_new_files_care_state_is_what_the_care_app_computes(world: World, login: Any) -> None:
    client = login("county_admin")
    data = [
        h.ledger_row(1),
        h.ledger_row(2, **{"监护情况评估": "差"}),
        h.ledger_row(3, **{"照料类型": "其他受委托成年人照料"}),
        h.ledger_row(4, **{"照料类型": "父母一方照料", "父亲当前状态": "在家", "父亲务工地点": ""}),
        h.ledger_row(5, **{"就学情况": "辍学"}),
    ]
    batch = h.previewed(client, h.ledger(data))
    assert h.commit(client, batch) == "succeeded"
    imported = list(Child.objects.exclude(pk__in=h.world_ids(world)).order_by("file_no"))
    assert len(imported) == 5
    assert {child.risk_colour for child in imported} > {"green"}  # some raised, so the test can fail
    assert any(child.agreement_required for child in imported)
    assert all(child.care_computed_at and child.next_visit_due for child in imported)
    ids = [child.pk for child in imported]
    assert care_recompute_many(child_ids=ids, on=dt.date.today()) == 0
    assert agreement_state_recompute_many(child_ids=ids) == 0


def test_history_rows_of_new_records_read_back(world: World, login: Any) -> None:
    client = login("county_admin")
    row = h.ledger_row(7, **{"受委托监护人姓名": "王某", "与儿童关系": "祖母"})
    headers = (*h.HEADERS, "受委托监护人姓名", "与儿童关系", "受委托监护人联系电话")
    batch = h.previewed(client, h.ledger([[*row, "王某", "祖母", "13900001111"]], headers=headers))
    assert h.commit(client, batch) == "succeeded"
    child = Child.objects.exclude(pk__in=h.world_ids(world)).get()
    history = child.history.get()  # type: ignore[attr-defined]
    assert (history.id_number, history.name, history.file_no, history.version) == (
        child.id_number,
        child.name,
        child.file_no,
        1,
    )
    father = Parent.objects.get(child=child, role=c.ParentRole.FATHER)
    assert father.history.get().phone == father.phone == "13812345678"  # type: ignore[attr-defined]
    guardian = EntrustedGuardian.objects.get(child=child)
    assert guardian.history.get().phone == guardian.phone == "13900001111"  # type: ignore[attr-defined]
    assert father.phone_index and guardian.phone_index
    # Each value sealed once: the history row carries the file's own token (core.fields).
    assert _raw("registry_historicalchild", "id_number", "id", child.pk) == _raw(
        "registry_child", "id_number", "id", child.pk
    )
    assert _raw("registry_historicalparent", "phone", "id", father.pk) == _raw(
        "registry_parent", "phone", "id", father.pk
    )


def test_every_history_column_equals_its_records(world: World, login: Any) -> None:
    """The history rows of an import's new records (on PostgreSQL copied from the records'
    own COPY text, imports.writing._copy_rows) hold each column of the record as written,
    text with a backslash, a tab or quotes included, and simple_history's "+" columns."""
    from imports.writing import Inserter

    client = login("county_admin")
    odd = '东街\\3号\t"甲" 乙'  # a backslash, a tab, quotes
    headers = (*h.HEADERS, "家庭住址", "患病类型", "受委托监护人姓名", "与儿童关系")
    extra = [odd, "哮喘\\N", "王某", "祖母"]
    file = h.ledger([[*h.ledger_row(n), *extra] for n in (3, 4)], headers=headers)
    batch = h.previewed(client, file)
    assert h.commit(client, batch) == "succeeded"
    children = Child.objects.exclude(pk__in=h.world_ids(world))
    # (The normaliser makes the tab a space; the backslash and the quotes stay.)
    assert {(child.household_address, child.illness) for child in children} == {
        ('东街\\3号 "甲" 乙', "哮喘\\N")
    }
    user = h.latest_batch().created_by
    user_key = user._meta.pk.get_db_prep_value(user.pk, connection)  # type: ignore[union-attr]
    keys = [Child._meta.pk.get_db_prep_value(child.pk, connection) for child in children]  # type: ignore[union-attr]
    for model in (Child, Parent, EntrustedGuardian):
        inserter = Inserter(model, history=True)
        assert inserter.history is not None
        shared = [column.column for column in inserter.history.columns]
        table, history = model._meta.db_table, inserter.history.table
        quote = connection.ops.quote_name
        differs = " OR ".join(f"r.{quote(name)} IS DISTINCT FROM h.{quote(name)}" for name in shared)
        mine = "r.id" if model is Child else "r.child_id"
        with connection.cursor() as cursor:
            cursor.execute(
                f"SELECT count(*), count(*) FILTER (WHERE {differs} OR h.history_type <> '+' "
                f"OR h.history_change_reason <> '台账导入' OR h.history_user_id <> %s) "
                f"FROM {quote(table)} r JOIN {quote(history)} h ON h.id = r.id "
                f"WHERE {mine} IN (%s, %s)",
                [user_key, *keys],
            )
            joined, different = cursor.fetchone()
        expected = {Child: 2, Parent: 4, EntrustedGuardian: 2}[model]
        assert (joined, different) == (expected, 0), model


def _raw(table: str, column: str, key: str, pk: Any) -> str:
    quote = connection.ops.quote_name
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT {quote(column)} FROM {quote(table)} WHERE {quote(key)} = %s",
            [Child._meta.pk.get_db_prep_value(pk, connection)],  # type: ignore[union-attr]
        )
        rows = cursor.fetchall()
    assert len(rows) == 1, rows
    return str(rows[0][0])
