import datetime as dt

import pytest
from django.core.exceptions import ValidationError
from hypothesis import given
from hypothesis import strategies as st

from core import idnumber
from core.masking import mask_id, mask_phone

births = st.dates(min_value=dt.date(1950, 1, 1), max_value=dt.date(2025, 12, 31))
sequences = st.integers(min_value=0, max_value=999)


@given(birth=births, seq=sequences)
def test_it_accepts_every_generated_number(birth: dt.date, seq: int) -> None:
    number = idnumber.make("450521", birth, seq)
    facts = idnumber.parse(number)
    assert facts.birth_date == birth
    assert facts.sex == ("M" if seq % 2 else "F")


@given(birth=births, seq=sequences, position=st.integers(0, 17), data=st.data())
def test_it_rejects_any_one_character_mutation(
    birth: dt.date, seq: int, position: int, data: st.DataObject
) -> None:
    number = idnumber.make("450521", birth, seq)
    alphabet = "0123456789X" if position == 17 else "0123456789"
    replacement = data.draw(st.sampled_from([ch for ch in alphabet if ch != number[position]]))
    mutated = number[:position] + replacement + number[position + 1 :]
    with pytest.raises(ValidationError):
        idnumber.parse(mutated)


@pytest.mark.parametrize(
    ("raw", "code"),
    [
        ("45052120100503123", "length"),  # 17 characters
        ("4505212010050312345", "length"),
        ("45052120100503123A", "chars"),
        ("450521201013011234", "birth_date"),  # month 13
        ("450521201002301234", "birth_date"),  # 30 February
        ("450521201002291234", "birth_date"),  # 29 February 2010 (not a leap year)
    ],
)
def test_it_explains_bad_numbers(raw: str, code: str) -> None:
    with pytest.raises(ValidationError) as info:
        idnumber.parse(raw)
    assert info.value.code == code


def test_it_reads_leap_day_and_fullwidth_digits() -> None:
    number = idnumber.make("450521", dt.date(2012, 2, 29), 124)
    fullwidth = number.translate(str.maketrans("0123456789", "０１２３４５６７８９"))
    facts = idnumber.parse(fullwidth.lower())
    assert facts.number == number
    assert facts.birth_date == dt.date(2012, 2, 29)
    assert facts.sex == "F"


def test_it_rejects_a_wrong_check_digit_with_a_chinese_message() -> None:
    number = idnumber.make("450521", dt.date(2015, 6, 1), 101)
    wrong = number[:17] + ("0" if number[17] != "0" else "1")
    with pytest.raises(ValidationError, match="校验位"):
        idnumber.parse(wrong)


@pytest.mark.parametrize(
    ("value", "masked"),
    [("450521201005031234", "450521********1234"), ("", ""), (None, "")],
)
def test_it_masks_id_numbers(value: str | None, masked: str) -> None:
    assert mask_id(value) == masked


def test_it_masks_phone_numbers() -> None:
    assert mask_phone("13800001234") == "138****1234"


@pytest.mark.parametrize("region", ["999999", "459999"])
def test_it_rejects_unknown_regions(region: str) -> None:
    number = idnumber.make(region, dt.date(2015, 6, 1), 101)
    with pytest.raises(ValidationError) as info:
        idnumber.parse(number)
    assert info.value.code == "region"


def test_it_accepts_a_county_code_newer_than_the_birth_year() -> None:
    # 合浦县 450521 dates from 1987; a parent born in 1980 may carry it.
    assert idnumber.parse(idnumber.make("450521", dt.date(1980, 5, 3), 21)).birth_date.year == 1980
