"""Every file of the corpus, through the doors a real file goes: the upload guard, the reader,
the column guess and the row normaliser, with the outcome the corpus expects."""

from pathlib import Path
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from core.uploads import UploadRejected, guarded_upload
from imports.columns import guess_mapping
from imports.normalise import RowValues, normalise_row
from imports.reading import ImportFileError, read_sheet
from imports.regions import RegionLookup
from imports.tests.corpus import CORPUS, ID_3, CorpusFile
from testing.world import World


def _actual(values: RowValues, key: str) -> Any:
    if key == "village":
        return values.village.code if values.village else None
    if key == "guardian":
        return values.guardian
    group, name = key.split(".")
    found = values.guardian if group == "guardian" else getattr(values, group)
    assert found is not None, f"no {group} values"
    value = found.get(name)
    return getattr(value, "code", value)  # a Region is compared by its code


@pytest.mark.parametrize("entry", CORPUS, ids=[f"{i:02d}-{e.name}" for i, e in enumerate(CORPUS)])
def test_the_corpus_file_gives_its_expected_outcome(entry: CorpusFile, world: World, tmp_path: Path) -> None:
    path = entry.build(tmp_path)
    upload = SimpleUploadedFile(entry.name, path.read_bytes())
    expect = entry.expect
    if expect.refused:
        with pytest.raises(UploadRejected) as refused, guarded_upload(upload):
            pass
        assert refused.value.message == expect.refused
        return
    with guarded_upload(upload) as guarded:
        assert guarded.kind == entry.kind
        if expect.file_error:
            with pytest.raises(ImportFileError) as failed:
                read_sheet(guarded.path, guarded.kind)
            assert failed.value.message == expect.file_error
            return
        sheet = read_sheet(guarded.path, guarded.kind)

    assert [row.number for row in sheet.rows] == list(expect.rows)
    if expect.header_row is not None:
        assert sheet.header_row == expect.header_row
    assert set(expect.headers) <= set(sheet.headers), sheet.headers
    mapping = guess_mapping(sheet.headers)
    regions = RegionLookup.for_user(world.users[entry.persona])
    results = {row.number: normalise_row(row, mapping, sheet.headers, regions=regions) for row in sheet.rows}

    errors = [error for _values, row_errors in results.values() for error in row_errors]
    assert {(error.row, error.column) for error in errors} == set(expect.errors), errors
    reasons = {(error.row, error.column): error.reason for error in errors}
    for where, reason in expect.reasons.items():
        assert reasons[where] == reason
    for number, wanted in expect.values.items():
        values, _errors = results[number]
        assert {key: _actual(values, key) for key in wanted} == wanted


def test_an_id_number_in_an_error_is_masked(world: World, tmp_path: Path) -> None:
    entry = next(e for e in CORPUS if e.name == "数字身份证.xlsx")
    path = entry.build(tmp_path)
    with guarded_upload(SimpleUploadedFile(entry.name, path.read_bytes())) as guarded:
        sheet = read_sheet(guarded.path, guarded.kind)
    regions = RegionLookup.for_user(world.users["county_admin"])
    mapping = guess_mapping(sheet.headers)
    _values, errors = normalise_row(sheet.rows[2], mapping, sheet.headers, regions=regions)
    (error,) = errors
    typed = ID_3[:15]
    assert error.value == f"{typed[:6]}********{typed[-4:]}"
