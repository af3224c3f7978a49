"""The mapping screen (remembered per unit), the blank template, and who may reach what."""

import io
from typing import Any

from django.test import Client
from python_calamine import CalamineWorkbook

from accounts.models import RoleGrant
from imports.columns import FIELDS
from imports.models import BatchState, ColumnMapping
from imports.tests import helpers as h
from testing.world import World

ODD = "小朋友称呼"  # no synonym of any field
HEADERS = [ODD if header == "姓名" else header for header in h.HEADERS]


def _odd_file() -> bytes:
    return h.ledger(h.rows(2), headers=HEADERS)


def _mapping_post(**choices: str) -> dict[str, str]:
    """The mapping form as the browser sends it: every column, its guessed field."""
    data = {f"col_{index}": _canonical_key(header) for index, header in enumerate(HEADERS)}
    data.update(choices)
    return data


def _canonical_key(header: str) -> str:
    return next((field.key for field in FIELDS if field.label == header), "")


def test_an_unknown_column_goes_to_the_mapping_screen_and_is_remembered_for_the_unit(
    world: World, login: Any
) -> None:
    client = login("township_supervisor")
    response = h.upload(client, _odd_file())
    batch = h.latest_batch()
    assert response["Location"] == f"/imports/{batch.id}/mapping/"
    page = client.get(response["Location"]).content.decode()
    assert ODD in page and "不导入" in page and "姓名（必填）" in page
    assert batch.preview_job is None

    refused = client.post(f"/imports/{batch.id}/mapping/", _mapping_post(col_0=""))
    assert refused.status_code == 200 and "缺少必填列：姓名" in refused.content.decode()
    twice = client.post(f"/imports/{batch.id}/mapping/", _mapping_post(col_0="name", col_1="name"))
    assert "每个字段只能选一次" in twice.content.decode()

    saved = client.post(f"/imports/{batch.id}/mapping/", _mapping_post(col_0="name"))
    assert saved["Location"] == f"/imports/{batch.id}/"
    batch = h.run_preview(batch)
    assert (batch.state, batch.new_count, batch.mapping["0"]) == (BatchState.PREVIEWED, 2, "name")
    unit = RoleGrant.objects.get(user=world.users["township_supervisor"]).unit
    assert ColumnMapping.objects.get(unit=unit, header_key=ODD).field_key == "name"

    # Next time the same unit goes straight to the preview …
    again = h.upload(client, _odd_file())
    second = h.latest_batch()
    assert again["Location"] == f"/imports/{second.id}/" and second.preview_job is not None
    # … and another unit does not get this unit's choice.
    other = Client()
    other.force_login(world.users["county_admin"])
    response = h.upload(other, _odd_file())
    third = h.latest_batch()
    assert response["Location"] == f"/imports/{third.id}/mapping/" and "0" not in third.mapping


def test_a_column_remembered_as_not_imported_needs_no_mapping_screen(world: World, login: Any) -> None:
    client = login("county_admin")
    headers = [*h.HEADERS, "备注"]
    content = h.ledger([[*row, "无"] for row in h.rows(1)], headers=headers)
    h.upload(client, content)
    batch = h.latest_batch()
    assert batch.preview_job is None  # 备注 is unknown: the user decides
    data = {f"col_{i}": _canonical_key(header) for i, header in enumerate(headers)}
    client.post(f"/imports/{batch.id}/mapping/", data)  # 备注 → 不导入
    response = h.upload(client, content)
    assert response["Location"] == f"/imports/{h.latest_batch().id}/"


def test_the_blank_template_has_the_canonical_headers(world: World, login: Any) -> None:
    response = login("village_worker").get("/imports/template.xlsx")
    assert response.status_code == 200
    data = b"".join(response.streaming_content)
    sheet = CalamineWorkbook.from_filelike(io.BytesIO(data)).get_sheet_by_index(0).to_python()
    assert sheet[1] == [field.label for field in FIELDS]


def test_roles_that_may_not_write_get_403_everywhere(world: World, client: Client) -> None:
    batch_owner = Client()
    batch_owner.force_login(world.users["county_admin"])
    h.upload(batch_owner, h.ledger(h.rows(1)))
    batch = h.latest_batch()
    for persona in ("county_officer", "police", "school_staff", "auditor", "no_role"):
        client.force_login(world.users[persona])
        assert client.get("/imports/").status_code == 403, persona
        assert h.upload(client, h.ledger(h.rows(1))).status_code == 403, persona
        assert client.get("/imports/template.xlsx").status_code == 403, persona
        assert client.get(f"/imports/{batch.id}/").status_code == 403, persona
        assert client.post(f"/imports/{batch.id}/commit/").status_code == 403, persona


def test_another_writers_batch_is_404_like_a_missing_one(world: World, client: Client) -> None:
    owner = Client()
    owner.force_login(world.users["county_admin"])
    batch = h.previewed(owner, h.ledger(h.rows(2)))
    client.force_login(world.users["township_supervisor"])
    for method, suffix in (
        ("get", ""),
        ("get", "mapping/"),
        ("post", "mapping/"),
        ("post", "commit/"),
        ("post", "cancel/"),
        ("get", "errors.xlsx"),
    ):
        response = getattr(client, method)(f"/imports/{batch.id}/{suffix}")
        assert response.status_code == 404, (method, suffix)
    batch.refresh_from_db()
    assert batch.state == BatchState.PREVIEWED and batch.commit_job is None
    assert batch.file_name not in client.get("/imports/").content.decode()
