"""Authenticated encryption of personal data at rest (SECURITY.md DP-2).

Keys live outside the database: SHOUHU_DATA_KEYS (or SHOUHU_DATA_KEYS_FILE) holds one or
more `id:base64key` entries separated by commas or newlines. The first key encrypts new
writes; every listed key can decrypt, so a key is rotated by putting the new one first,
running `manage.py rotate_data_key`, then dropping the old one.

A stored value is a token `v1:<key id>:<cipher>:<base64(nonce || ciphertext || tag)>`. The
associated data binds the token to its header and to its column ("registry.Child.id_number"),
so a ciphertext copied into another column, or a token whose header was edited, does not
decrypt. (A history table's column shares its model's context: core.fields.) Each cipher
works on its own subkey derived from the configured key (HKDF-SHA256), so one key never
serves two algorithms.

Ciphers: "aes-256-gcm" (default) and "sm4-gcm" for 国密 deployments (SM4 in GCM mode, as
provided by the `cryptography` package's OpenSSL backend).
"""

import base64
import binascii
import functools
import os
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.core.signals import setting_changed

VERSION = "v1"
AES_GCM = "aes-256-gcm"
SM4_GCM = "sm4-gcm"
CIPHERS = (AES_GCM, SM4_GCM)
KEY_BYTES = 32
_NONCE_BYTES = 12
_TAG_BYTES = 16
_SUBKEY_BYTES = {AES_GCM: 32, SM4_GCM: 16}
_KEY_ID = re.compile(r"^[A-Za-z0-9_-]{1,32}$")


class DecryptionError(ValueError):
    """A stored value that is not a token, names an unknown key, or fails authentication."""


@dataclass(frozen=True)
class KeyRing:
    keys: dict[str, bytes]  # in configured order; the first is active
    cipher: str
    # Derived once per ring (see _sealer, _opener): by column, and by (token header, column).
    sealers: dict[str, "_Column"] = field(default_factory=dict, compare=False, repr=False)
    openers: dict[tuple[str, str], "_Column"] = field(default_factory=dict, compare=False, repr=False)

    @property
    def active_id(self) -> str:
        return next(iter(self.keys))


def parse_data_keys(raw: str) -> dict[str, bytes]:
    """`id:base64key` entries separated by commas or newlines; raises ImproperlyConfigured."""
    keys: dict[str, bytes] = {}
    for entry in re.split(r"[,\n]", raw):
        entry = entry.strip()
        if not entry:
            continue
        key_id, sep, encoded = entry.partition(":")
        if not sep or not _KEY_ID.match(key_id):
            raise ImproperlyConfigured(
                "SHOUHU_DATA_KEYS：每个密钥须写成 id:base64key（id 为 1–32 个字母、数字、- 或 _）"
            )
        if key_id in keys:
            raise ImproperlyConfigured(f"SHOUHU_DATA_KEYS：密钥 id {key_id} 重复")
        keys[key_id] = _decode_key(key_id, encoded.strip())
    if not keys:
        raise ImproperlyConfigured("SHOUHU_DATA_KEYS 未配置数据加密密钥")
    return keys


def _decode_key(key_id: str, encoded: str) -> bytes:
    try:
        key = base64.b64decode(encoded.replace("-", "+").replace("_", "/"), validate=True)
    except (binascii.Error, ValueError) as exc:
        raise ImproperlyConfigured(f"SHOUHU_DATA_KEYS：密钥 {key_id} 不是有效的 base64") from exc
    if len(key) != KEY_BYTES:
        raise ImproperlyConfigured(
            f"SHOUHU_DATA_KEYS：密钥 {key_id} 须为 {KEY_BYTES} 字节（当前 {len(key)}）"
        )
    return key


def check_cipher(name: str) -> str:
    if name not in CIPHERS:
        raise ImproperlyConfigured(f"SHOUHU_DATA_CIPHER 须为 {' 或 '.join(CIPHERS)}，当前为 {name!r}")
    return name


def check_data_keys(raw: str, cipher: str) -> None:
    """Start-up check (shouhu/settings.py): ImproperlyConfigured unless both are usable."""
    parse_data_keys(raw)
    check_cipher(cipher)


def new_key() -> str:
    """A fresh random key, base64 (what `make run` writes to var/data_keys)."""
    return base64.b64encode(os.urandom(KEY_BYTES)).decode()


@functools.lru_cache(maxsize=16)
def _ring(raw: str, cipher: str) -> KeyRing:
    return KeyRing(keys=parse_data_keys(raw), cipher=check_cipher(cipher))


_current: list[KeyRing] = []  # the ring of the current settings, once read


def keyring() -> KeyRing:
    """The ring of the current settings. Kept after the first call, since every attribute read
    on django.conf.settings costs about a microsecond and decrypt() runs millions of times per
    export; override_settings (tests) sends setting_changed, which drops it."""
    if not _current:
        _current.append(_ring(settings.SHOUHU_DATA_KEYS, settings.SHOUHU_DATA_CIPHER))
    return _current[0]


def _settings_changed(*, setting: str, **kwargs: object) -> None:
    if setting in ("SHOUHU_DATA_KEYS", "SHOUHU_DATA_CIPHER"):
        _current.clear()


setting_changed.connect(_settings_changed, dispatch_uid="core.crypto.keyring")


@functools.lru_cache(maxsize=64)
def _subkey(key: bytes, cipher: str) -> bytes:
    info = f"shouhu data-at-rest {cipher}".encode()
    return HKDF(algorithm=hashes.SHA256(), length=_SUBKEY_BYTES[cipher], salt=None, info=info).derive(key)


def _aad(key_id: str, cipher: str, context: str) -> bytes:
    return f"{VERSION}|{key_id}|{cipher}|{context}".encode()


class _Sm4Gcm:
    """SM4-GCM with the AESGCM interface (the cryptography package has no SM4 AEAD class)."""

    def __init__(self, key: bytes) -> None:
        self.key = key

    def encrypt(self, nonce: bytes, data: bytes, aad: bytes) -> bytes:
        encryptor = Cipher(algorithms.SM4(self.key), modes.GCM(nonce)).encryptor()
        encryptor.authenticate_additional_data(aad)
        body = encryptor.update(data) + encryptor.finalize()
        return body + encryptor.tag

    def decrypt(self, nonce: bytes, sealed: bytes, aad: bytes) -> bytes:
        body, tag = sealed[:-_TAG_BYTES], sealed[-_TAG_BYTES:]
        decryptor = Cipher(algorithms.SM4(self.key), modes.GCM(nonce, tag)).decryptor()
        decryptor.authenticate_additional_data(aad)
        return decryptor.update(body) + decryptor.finalize()


@dataclass(frozen=True)
class _Column:
    """What sealing or opening a value of one column under one key needs, derived once per
    key ring: the cipher object on its subkey, the associated data, the token header."""

    engine: AESGCM | _Sm4Gcm
    aad: bytes
    header: str  # "v1:<key id>:<cipher>"


def _column(ring: KeyRing, key_id: str, cipher: str, context: str) -> _Column:
    subkey = _subkey(ring.keys[key_id], cipher)
    engine = AESGCM(subkey) if cipher == AES_GCM else _Sm4Gcm(subkey)
    return _Column(engine, _aad(key_id, cipher, context), f"{VERSION}:{key_id}:{cipher}")


def _sealer(ring: KeyRing, context: str) -> _Column:
    found = ring.sealers.get(context)
    if found is None:
        found = ring.sealers[context] = _column(ring, ring.active_id, ring.cipher, context)
    return found


def _opener(ring: KeyRing, header: str, context: str) -> _Column:
    """The column opener for a token header; DecryptionError for a header that is not ours
    or names a key the ring lacks (such headers are never cached)."""
    found = ring.openers.get((header, context))
    if found is not None:
        return found
    parts = header.split(":")
    if len(parts) != 3 or parts[0] != VERSION or parts[2] not in CIPHERS:
        raise DecryptionError("解密失败：存储值不是有效的加密令牌（不接受明文）")
    key_id, cipher = parts[1], parts[2]
    if key_id not in ring.keys:
        raise DecryptionError(f"解密失败：未配置密钥 {key_id}（SHOUHU_DATA_KEYS）")
    found = ring.openers[(header, context)] = _column(ring, key_id, cipher, context)
    return found


def encrypt(plaintext: str, *, context: str, ring: KeyRing | None = None) -> str:
    """The token of `plaintext` for the column named by `context`, under the active key."""
    column = _sealer(ring or keyring(), context)
    nonce = os.urandom(_NONCE_BYTES)
    sealed = column.engine.encrypt(nonce, plaintext.encode(), column.aad)
    return f"{column.header}:{binascii.b2a_base64(nonce + sealed, newline=False).decode()}"


def encrypt_many(plaintexts: Sequence[str], *, context: str, ring: KeyRing | None = None) -> list[str]:
    """encrypt() of many values of one column (an import seals a million): the same tokens,
    the column looked up once and the nonces read from the system in one call, each nonce
    used once. No state is kept between calls, so threads and forked processes share none."""
    column = _sealer(ring or keyring(), context)
    seal, aad, prefix, b2a = column.engine.encrypt, column.aad, f"{column.header}:", binascii.b2a_base64
    nonces = os.urandom(_NONCE_BYTES * len(plaintexts))
    out = []
    for index, plaintext in enumerate(plaintexts):
        nonce = nonces[index * _NONCE_BYTES : (index + 1) * _NONCE_BYTES]
        out.append(prefix + b2a(nonce + seal(nonce, plaintext.encode(), aad), newline=False).decode())
    return out


def seal_blob(data: bytes, *, context: str, ring: KeyRing | None = None) -> bytes:
    """Bytes sealed under the active key and bound to `context` (a work file kept between two
    jobs, e.g. an import's normalised rows): `<token header>\n<nonce><ciphertext><tag>`."""
    column = _sealer(ring or keyring(), context)
    nonce = os.urandom(_NONCE_BYTES)
    return column.header.encode() + b"\n" + nonce + column.engine.encrypt(nonce, data, column.aad)


def open_blob(blob: bytes, *, context: str, ring: KeyRing | None = None) -> bytes:
    """The bytes seal_blob() sealed for `context`; DecryptionError when altered, sealed for
    another context, or under a key the ring lacks."""
    header, newline, sealed = blob.partition(b"\n")
    if not newline or len(sealed) < _NONCE_BYTES + _TAG_BYTES:
        raise DecryptionError("解密失败：不是有效的加密数据")
    try:
        column = _opener(ring or keyring(), header.decode("ascii"), context)
        return column.engine.decrypt(sealed[:_NONCE_BYTES], sealed[_NONCE_BYTES:], column.aad)
    except (UnicodeDecodeError, InvalidTag) as exc:
        raise DecryptionError(f"解密失败：{context} 的数据认证未通过") from exc


def _split(token: str) -> tuple[str, str, bytes]:
    parts = token.split(":")
    if len(parts) != 4 or parts[0] != VERSION or parts[2] not in CIPHERS:
        raise DecryptionError("解密失败：存储值不是有效的加密令牌（不接受明文）")
    return parts[1], parts[2], _blob(parts[3])


def _blob(encoded: str) -> bytes:
    try:
        blob = binascii.a2b_base64(encoded, strict_mode=True)
    except ValueError as exc:  # binascii.Error, or a non-ASCII string
        raise DecryptionError("解密失败：加密令牌的 base64 无效") from exc
    if len(blob) < _NONCE_BYTES + _TAG_BYTES:
        raise DecryptionError("解密失败：加密令牌过短")
    return blob


def _open(column: _Column, encoded: str, context: str) -> str:
    blob = _blob(encoded)
    try:
        data = column.engine.decrypt(blob[:_NONCE_BYTES], blob[_NONCE_BYTES:], column.aad)
    except InvalidTag as exc:
        raise DecryptionError(f"解密失败：{context} 的密文认证未通过（被篡改或不属于此字段）") from exc
    return data.decode()


def decrypt(token: str, *, context: str, ring: KeyRing | None = None) -> str:
    """The plaintext of `token`; DecryptionError when it was altered, moved or its key is gone.

    Every read of an encrypted column comes here: the cipher object and the associated data
    are looked up per (token header, column), not derived per value."""
    header, _, encoded = token.rpartition(":")
    return _open(_opener(ring or keyring(), header, context), encoded, context)


def decryptor(context: str, *, ring: KeyRing | None = None) -> Callable[[str], str]:
    """decrypt() bound to one column, for code that opens many of its values: an export of a
    province's roster opens ten million. Same checks and errors as decrypt()."""
    ring = ring or keyring()
    columns: dict[str, _Column] = {}
    minimum = _NONCE_BYTES + _TAG_BYTES
    a2b = binascii.a2b_base64

    def open_token(token: str) -> str:
        header, _, encoded = token.rpartition(":")
        column = columns.get(header)
        if column is None:
            column = columns[header] = _opener(ring, header, context)
        try:  # _open() inlined: two calls fewer per value
            blob = a2b(encoded, strict_mode=True)
            if len(blob) >= minimum:
                return column.engine.decrypt(blob[:_NONCE_BYTES], blob[_NONCE_BYTES:], column.aad).decode()
        except (ValueError, InvalidTag):
            pass
        return _open(column, encoded, context)  # raises the precise DecryptionError

    return open_token


def needs_rotation(token: str, ring: KeyRing | None = None) -> bool:
    """Whether `token` is under another key or cipher than the active ones."""
    ring = ring or keyring()
    key_id, cipher, _ = _split(token)
    return key_id != ring.active_id or cipher != ring.cipher
