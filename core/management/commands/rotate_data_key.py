"""manage.py rotate_data_key [--batch-size N]: re-encrypt every encrypted column (DP-2).

Key rotation: put the new key first in SHOUHU_DATA_KEYS ("new:…,old:…"), run this command,
then drop the old key. Every column of an EncryptedCharField, in the live and the history
tables, is read raw in keyset batches; each token under another key or cipher than the active
ones is decrypted and encrypted again, one transaction per batch. Tokens already under the
active key are left alone, so the command is idempotent and can be re-run after an
interruption. It prints, per column, how many values were re-encrypted and how many were
already current.
"""

from argparse import ArgumentParser
from collections.abc import Iterator
from typing import Any

from django.apps import apps
from django.core.management.base import BaseCommand
from django.db import connection, models, transaction

from core import crypto
from core.fields import EncryptedCharField


def encrypted_columns() -> Iterator[tuple[type[models.Model], EncryptedCharField]]:
    """Every (model, field) whose column holds tokens, history models included."""
    for model in apps.get_models():
        for field in model._meta.concrete_fields:
            if isinstance(field, EncryptedCharField):
                yield model, field


def _names(model: type[models.Model], field: EncryptedCharField) -> tuple[str, str, str]:
    """Quoted table, pk column and value column."""
    quote = connection.ops.quote_name
    pk = model._meta.pk
    assert pk is not None and pk.column is not None and field.column is not None
    return quote(model._meta.db_table), quote(pk.column), quote(field.column)


def _batches(
    model: type[models.Model], field: EncryptedCharField, size: int
) -> Iterator[list[tuple[Any, str]]]:
    table, pk, column = _names(model, field)
    after: Any = None
    while True:
        where = f"{column} <> ''" + ("" if after is None else f" AND {pk} > %s")
        sql = f"SELECT {pk}, {column} FROM {table} WHERE {where} ORDER BY {pk} LIMIT {size}"  # noqa: S608
        with connection.cursor() as cursor:
            cursor.execute(sql, [] if after is None else [after])
            rows = cursor.fetchall()
        if rows:
            yield rows
        if len(rows) < size:
            return
        after = rows[-1][0]


def rotate_column(model: type[models.Model], field: EncryptedCharField, size: int) -> tuple[int, int]:
    """(re-encrypted, already current) for one column."""
    ring = crypto.keyring()
    table, pk, column = _names(model, field)
    update = f"UPDATE {table} SET {column} = %s WHERE {pk} = %s AND {column} = %s"  # noqa: S608
    done = current = 0
    for rows in _batches(model, field, size):
        changes = [
            (
                crypto.encrypt(field.open_token(token, ring=ring), context=field.context, ring=ring),
                key,
                token,
            )
            for key, token in rows
            if crypto.needs_rotation(token, ring)
        ]
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.executemany(update, changes)
        done += len(changes)
        current += len(rows) - len(changes)
    return done, current


class Command(BaseCommand):
    help = "用当前数据密钥重新加密所有加密字段（含历史表），可重复执行。"

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument("--batch-size", type=int, default=1000, help="每批行数（默认 1000）")

    def handle(self, *args: Any, **options: Any) -> None:
        ring = crypto.keyring()
        self.stdout.write(f"当前密钥 {ring.active_id}，算法 {ring.cipher}")
        total = 0
        for model, field in encrypted_columns():
            done, current = rotate_column(model, field, options["batch_size"])
            total += done
            self.stdout.write(f"{model._meta.label}.{field.name}：重新加密 {done}，已是当前密钥 {current}")
        self.stdout.write(self.style.SUCCESS(f"完成：共重新加密 {total} 个值"))
