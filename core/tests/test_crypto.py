"""DP-2: ID numbers, phone numbers and addresses are stored as AEAD tokens (core/crypto.py).

Raw SQL on the live and history tables shows no plaintext; a flipped byte or a token moved to
another column fails to decrypt; both ciphers work; keys rotate with `rotate_data_key`;
missing keys stop start-up; search by ID still works through the blind index.
"""

import base64
import datetime as dt
import importlib
import os
import re
import subprocess
import sys
from io import StringIO
from types import SimpleNamespace
from typing import Any

import pytest
from django.apps import apps
from django.conf import settings
from django.core.exceptions import FieldError
from django.core.management import call_command
from django.db import connection
from django.test import Client, override_settings

from core import crypto, idnumber
from core.fields import EncryptedCharField
from geo.models import Region
from registry.models import Child, EntrustedGuardian, Parent
from testing.world import World, make_child

KEY_A = "a:" + base64.b64encode(b"A" * 32).decode()
KEY_B = "b:" + base64.b64encode(b"B" * 32).decode()
GUARDIAN = {
    "name": "陈姨",
    "id_number": idnumber.make("450521", dt.date(1968, 2, 3), 22),
    "phone": "13512345678",
    "relation": "other_relative",
    "address": "合浦县廉州镇加密路 9 号",
}
ENCRYPTED = {
    Child: ("id_number", "hukou_place", "current_address", "household_address"),
    Parent: ("id_number", "phone", "work_detail"),
    EntrustedGuardian: ("id_number", "phone", "address"),
}


def _raw_rows(table: str) -> list[tuple[Any, ...]]:
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT * FROM {connection.ops.quote_name(table)}")
        return cursor.fetchall()


def _raw_value(table: str, column: str, pk: Any) -> str:
    quote = connection.ops.quote_name
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT {quote(column)} FROM {quote(table)} WHERE id = %s",
            [Child._meta.pk.get_db_prep_value(pk, connection)],  # type: ignore[union-attr]
        )
        return str(cursor.fetchone()[0])


def _rich_child(world: World, **overrides: Any) -> Child:
    values: dict[str, Any] = {
        "name": "加密",
        "hukou_place": "广西合浦县户籍街 3 号",
        "household_address": "合浦县廉州镇家庭路 5 号",
        "current_address": "合浦县廉州镇现住路 7 号",
        "guardian": dict(GUARDIAN),
        "care_type": "entrusted_adult",
    }
    values.update(overrides)
    father = {
        "name": "张父",
        "status": "away",
        "phone": "13800000001",
        "work_province": Region.objects.get(code="44", valid_to__isnull=True),
        "work_detail": "东莞某电子厂 3 号车间",
    }
    return make_child(world.village_a1, world.users["county_admin"], father=father, **values)


def _secrets(child: Child) -> list[str]:
    return [
        child.id_number,
        child.hukou_place,
        child.current_address,
        child.household_address,
        "13800000001",
        "东莞某电子厂 3 号车间",
        GUARDIAN["id_number"],
        GUARDIAN["phone"],
        GUARDIAN["address"],
    ]


def test_it_stores_no_plaintext_in_live_or_history_tables(world: World) -> None:
    child = _rich_child(world)
    tables = [model._meta.db_table for model in ENCRYPTED] + [
        model.history.model._meta.db_table  # type: ignore[attr-defined]
        for model in ENCRYPTED
    ]
    dump = "\n".join(repr(row) for table in tables for row in _raw_rows(table))
    assert "v1:test:aes-256-gcm:" in dump
    for secret in _secrets(child):
        assert secret and secret not in dump, secret
    child.refresh_from_db()
    assert child.id_number.startswith("450521") and child.current_address == "合浦县廉州镇现住路 7 号"
    assert child.guardian.phone == GUARDIAN["phone"]
    assert child.history.first().household_address == "合浦县廉州镇家庭路 5 号"  # type: ignore[attr-defined]


def test_it_still_finds_a_child_by_full_id_through_the_blind_index(world: World, login: Any) -> None:
    child = _rich_child(world)
    client: Client = login("county_admin")
    response = client.post("/children/", {"q": child.id_number})
    assert response.status_code == 200
    assert [row.name for row in response.context["page"].rows] == ["加密"]


def test_it_copies_the_encrypted_field_into_history_models() -> None:
    for model, names in ENCRYPTED.items():
        history = model.history.model  # type: ignore[attr-defined]
        for name in names:
            assert isinstance(history._meta.get_field(name), EncryptedCharField), (history, name)


def test_it_refuses_a_flipped_byte() -> None:
    token = crypto.encrypt("450521201506010012", context="registry.Child.id_number")
    head, body = token.rsplit(":", 1)
    blob = bytearray(base64.b64decode(body))
    blob[20] ^= 0x01
    tampered = f"{head}:{base64.b64encode(bytes(blob)).decode()}"
    with pytest.raises(crypto.DecryptionError, match="认证未通过"):
        crypto.decrypt(tampered, context="registry.Child.id_number")
    assert crypto.decrypt(token, context="registry.Child.id_number") == "450521201506010012"


def test_it_refuses_a_token_moved_to_another_column(world: World) -> None:
    child = _rich_child(world)
    token = _raw_value("registry_child", "id_number", child.pk)
    with connection.cursor() as cursor:
        cursor.execute(
            "UPDATE registry_child SET current_address = %s WHERE id = %s",
            [token, Child._meta.pk.get_db_prep_value(child.pk, connection)],  # type: ignore[union-attr]
        )
    with pytest.raises(crypto.DecryptionError, match=re.escape("registry.Child.current_address")):
        Child.objects.get(pk=child.pk)


def _set_history_value(child: Child, column: str, token: str) -> None:
    history_id = child.history.latest().history_id  # type: ignore[attr-defined]
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE registry_historicalchild SET {connection.ops.quote_name(column)} = %s"
            " WHERE history_id = %s",
            [token, history_id],
        )


def test_a_history_row_may_carry_the_files_own_token_and_no_other(world: World) -> None:
    """A history column shares its model's context (what an import's history rows rely on);
    a token of another column still does not open there."""
    child = _rich_child(world)
    own = _raw_value("registry_child", "id_number", child.pk)
    _set_history_value(child, "id_number", own)
    assert child.history.latest().id_number == child.id_number  # type: ignore[attr-defined]
    other = _raw_value("registry_child", "current_address", child.pk)
    _set_history_value(child, "id_number", other)
    with pytest.raises(crypto.DecryptionError, match=re.escape("registry.Child.id_number")):
        child.history.latest()  # type: ignore[attr-defined]


def test_it_reads_history_tokens_sealed_for_the_history_table_before(world: World) -> None:
    """Tokens written before history columns shared their model's context stay readable."""
    child = _rich_child(world)
    legacy = crypto.encrypt(child.id_number, context="registry.HistoricalChild.id_number")
    _set_history_value(child, "id_number", legacy)
    assert child.history.latest().id_number == child.id_number  # type: ignore[attr-defined]
    field = Child.history.model._meta.get_field("id_number")  # type: ignore[attr-defined]
    assert field.context == "registry.Child.id_number"
    assert field.legacy_contexts == ("registry.HistoricalChild.id_number",)
    assert Child._meta.get_field("id_number").legacy_contexts == ()  # type: ignore[attr-defined]


def test_it_refuses_plaintext_in_an_encrypted_column(world: World) -> None:
    child = _rich_child(world)
    with connection.cursor() as cursor:
        cursor.execute(
            "UPDATE registry_child SET hukou_place = %s WHERE id = %s",
            ["明文地址", Child._meta.pk.get_db_prep_value(child.pk, connection)],  # type: ignore[union-attr]
        )
    with pytest.raises(crypto.DecryptionError, match="不接受明文"):
        Child.objects.get(pk=child.pk)


def test_it_refuses_a_header_edited_to_another_cipher() -> None:
    token = crypto.encrypt("13800000001", context="registry.Parent.phone")
    forged = token.replace(":aes-256-gcm:", ":sm4-gcm:")
    with pytest.raises(crypto.DecryptionError):
        crypto.decrypt(forged, context="registry.Parent.phone")


@pytest.mark.parametrize("cipher", ["aes-256-gcm", "sm4-gcm"])
def test_it_round_trips_with_each_cipher(world: World, cipher: str) -> None:
    with override_settings(SHOUHU_DATA_CIPHER=cipher):
        child = _rich_child(world)
        assert f":{cipher}:" in _raw_value("registry_child", "current_address", child.pk)
        assert Child.objects.get(pk=child.pk).current_address == "合浦县廉州镇现住路 7 号"
    # A token keeps naming its cipher: switching the setting back still reads it.
    assert Child.objects.get(pk=child.pk).household_address == "合浦县廉州镇家庭路 5 号"


def test_it_keeps_empty_values_empty_and_searchable(world: World) -> None:
    child = _rich_child(world, hukou_place="")
    assert _raw_value("registry_child", "hukou_place", child.pk) == ""
    assert Child.objects.filter(pk=child.pk, hukou_place="").exists()
    assert not Child.objects.filter(pk=child.pk).exclude(hukou_place="").exists()


@pytest.mark.parametrize(
    "lookup",
    [{"id_number": "450521201506010012"}, {"id_number__startswith": "4505"}, {"phone__contains": "138"}],
)
def test_it_refuses_lookups_on_ciphertext(lookup: dict[str, str]) -> None:
    model = Parent if "phone__contains" in lookup else Child
    with pytest.raises(FieldError, match="盲索引"):
        list(model.objects.filter(**lookup))


def test_it_checks_max_length_on_the_plaintext(world: World, login: Any) -> None:
    field = Child._meta.get_field("id_number")
    assert field.formfield().max_length == 18  # type: ignore[union-attr]
    client: Client = login("village_worker")
    child = world.children["a1"]
    response = client.get(f"/children/{child.pk}/edit/")
    assert 'maxlength="200"' in response.content.decode()  # current_address keeps its length


def test_it_rotates_keys_including_history(world: World) -> None:
    with override_settings(SHOUHU_DATA_KEYS=KEY_A):
        child = _rich_child(world)
        assert _raw_value("registry_child", "id_number", child.pk).startswith("v1:a:")
    # The world's own files are under the test key: it stays readable during the rotation.
    with override_settings(SHOUHU_DATA_KEYS=f"{KEY_B}\n{KEY_A},{settings.SHOUHU_DATA_KEYS}"):
        out = StringIO()
        call_command("rotate_data_key", batch_size=2, stdout=out)
        assert "registry.Child.id_number：重新加密" in out.getvalue()
        assert "registry.HistoricalChild.id_number" in out.getvalue()
        again = StringIO()
        call_command("rotate_data_key", stdout=again)
        assert "共重新加密 0 个值" in again.getvalue()
    with override_settings(SHOUHU_DATA_KEYS=KEY_B):
        fresh = Child.objects.get(pk=child.pk)
        assert fresh.household_address == "合浦县廉州镇家庭路 5 号"
        assert fresh.guardian.address == GUARDIAN["address"]
        assert fresh.history.earliest().id_number == fresh.id_number  # type: ignore[attr-defined]
        assert fresh.parents.get(role="father").phone == "13800000001"
    with (
        override_settings(SHOUHU_DATA_KEYS=KEY_A),
        pytest.raises(crypto.DecryptionError, match="未配置密钥 b"),
    ):
        Child.objects.get(pk=child.pk)


def test_the_migration_encrypts_existing_rows_and_reverses(world: World) -> None:
    migration = importlib.import_module("registry.migrations.0003_encrypt_personal_data")
    child = _rich_child(world)
    pk = Child._meta.pk.get_db_prep_value(child.pk, connection)  # type: ignore[union-attr]
    editor = SimpleNamespace(connection=connection)
    migration.decrypt_rows(apps, editor)  # as the rows were before the migration
    assert _raw_value("registry_child", "current_address", child.pk) == "合浦县廉州镇现住路 7 号"
    migration.encrypt_rows(apps, editor)
    migration.encrypt_rows(apps, editor)  # a re-run leaves tokens alone
    token = _raw_value("registry_child", "current_address", child.pk)
    assert token.startswith("v1:") and pk
    assert Child.objects.get(pk=child.pk).current_address == "合浦县廉州镇现住路 7 号"
    assert child.history.earliest().current_address == "合浦县廉州镇现住路 7 号"  # type: ignore[attr-defined]


def _start(env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    base = {key: value for key, value in os.environ.items() if not key.startswith("SHOUHU_DATA_")}
    base.update(
        DJANGO_SETTINGS_MODULE="shouhu.settings",
        SHOUHU_SECRET_KEY="x",
        SHOUHU_INDEX_KEY="x",
        DATABASE_URL="sqlite:///:memory:",
        **env,
    )
    code = "import django; django.setup()"
    return subprocess.run(
        [sys.executable, "-c", code],
        env=base,
        capture_output=True,
        text=True,
        cwd=settings.BASE_DIR,
        check=False,
    )


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({}, "SHOUHU_DATA_KEYS is required"),
        ({"SHOUHU_DATA_KEYS": "nokeyhere"}, "id:base64key"),
        ({"SHOUHU_DATA_KEYS": "k:" + base64.b64encode(b"short").decode()}, "32 字节"),
        ({"SHOUHU_DATA_KEYS": KEY_A, "SHOUHU_DATA_CIPHER": "des"}, "SHOUHU_DATA_CIPHER"),
    ],
)
def test_it_refuses_to_start_without_usable_keys(env: dict[str, str], message: str) -> None:
    result = _start(env)
    assert result.returncode != 0
    assert "ImproperlyConfigured" in result.stderr and message in result.stderr


def test_it_starts_with_keys_from_a_file(tmp_path: Any) -> None:
    keys = tmp_path / "data_keys"
    keys.write_text(f"{KEY_B}\n{KEY_A}\n")
    assert _start({"SHOUHU_DATA_KEYS_FILE": str(keys)}).returncode == 0


def test_encrypt_many_gives_each_value_its_own_nonce_and_encrypts_tokens() -> None:
    """crypto.encrypt_many reads the nonces of a column's values from the system in one call;
    every token still has its own nonce and opens as encrypt()'s do, in its own column only."""
    values = ["450521201506010011", "450521201506010029", "450521201506010011"] * 50
    tokens = crypto.encrypt_many(values, context="registry.Child.id_number")
    assert len({crypto._split(token)[2][:12] for token in tokens}) == len(values)
    assert [crypto.decrypt(t, context="registry.Child.id_number") for t in tokens] == values
    assert (
        tokens[0].rpartition(":")[0]
        == crypto.encrypt(values[0], context="registry.Child.id_number").rpartition(":")[0]
    )
    with pytest.raises(crypto.DecryptionError):
        crypto.decrypt(tokens[0], context="registry.Parent.id_number")
    assert crypto.encrypt_many([], context="registry.Child.id_number") == []


def test_encrypt_many_draws_fresh_nonces_on_every_call(monkeypatch: pytest.MonkeyPatch) -> None:
    """No nonce is kept between calls (a forked worker or another thread cannot reuse one)."""
    draws: list[int] = []
    urandom = os.urandom
    monkeypatch.setattr(crypto.os, "urandom", lambda n: draws.append(n) or urandom(n))
    first = crypto.encrypt_many(["甲", "乙"], context="registry.Child.name")
    second = crypto.encrypt_many(["甲", "乙"], context="registry.Child.name")
    assert draws == [24, 24]
    assert set(first).isdisjoint(second)
