"""Authenticated encryption of personal data at rest (SECURITY.md DP-2).

Keys live outside the database: SHOUHU_DATA_KEYS (or SHOUHU_DATA_KEYS_FILE) holds one or
more `id:base64key` entries separated by commas or newlines. The first key encrypts new
writes; every listed key can decrypt, so a key is rotated by putting the new one first,
running `manage.py rotate_data_key`, then dropping the old one.

A stored value is a token `v1:<key id>:<cipher>:<base64(nonce || ciphertext || tag)>`. The
associated data binds the token to its header and to its column ("registry.Child.id_number"),
so a ciphertext copied into another column, or a token whose header was edited, does not
decrypt. Each cipher works on its own subkey derived from the configured key (HKDF-SHA256),
so one key never serves two algorithms.

Ciphers: "aes-256-gcm" (default) and "sm4-gcm" for 国密 deployments (SM4 in GCM mode, as
provided by the `cryptography` package's OpenSSL backend).
"""

import base64
import binascii
import functools
import os
import re
from dataclasses import dataclass

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from django.core.exceptions import ImproperlyConfigured

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


def keyring() -> KeyRing:
    from django.conf import settings

    return _ring(settings.SHOUHU_DATA_KEYS, settings.SHOUHU_DATA_CIPHER)


@functools.lru_cache(maxsize=64)
def _subkey(key: bytes, cipher: str) -> bytes:
    info = f"shouhu data-at-rest {cipher}".encode()
    return HKDF(algorithm=hashes.SHA256(), length=_SUBKEY_BYTES[cipher], salt=None, info=info).derive(key)


@functools.lru_cache(maxsize=64)
def _aesgcm(subkey: bytes) -> AESGCM:
    return AESGCM(subkey)


def _aad(key_id: str, cipher: str, context: str) -> bytes:
    return f"{VERSION}|{key_id}|{cipher}|{context}".encode()


def _seal(cipher: str, subkey: bytes, nonce: bytes, data: bytes, aad: bytes) -> bytes:
    if cipher == AES_GCM:
        return _aesgcm(subkey).encrypt(nonce, data, aad)
    encryptor = Cipher(algorithms.SM4(subkey), modes.GCM(nonce)).encryptor()
    encryptor.authenticate_additional_data(aad)
    body = encryptor.update(data) + encryptor.finalize()
    return body + encryptor.tag


def _open(cipher: str, subkey: bytes, nonce: bytes, sealed: bytes, aad: bytes) -> bytes:
    if cipher == AES_GCM:
        return _aesgcm(subkey).decrypt(nonce, sealed, aad)
    body, tag = sealed[:-_TAG_BYTES], sealed[-_TAG_BYTES:]
    decryptor = Cipher(algorithms.SM4(subkey), modes.GCM(nonce, tag)).decryptor()
    decryptor.authenticate_additional_data(aad)
    return decryptor.update(body) + decryptor.finalize()


def encrypt(plaintext: str, *, context: str, ring: KeyRing | None = None) -> str:
    """The token of `plaintext` for the column named by `context`, under the active key."""
    ring = ring or keyring()
    key_id, cipher = ring.active_id, ring.cipher
    nonce = os.urandom(_NONCE_BYTES)
    sealed = _seal(
        cipher, _subkey(ring.keys[key_id], cipher), nonce, plaintext.encode(), _aad(key_id, cipher, context)
    )
    return f"{VERSION}:{key_id}:{cipher}:{base64.b64encode(nonce + sealed).decode()}"


def _split(token: str) -> tuple[str, str, bytes]:
    parts = token.split(":")
    if len(parts) != 4 or parts[0] != VERSION or parts[2] not in CIPHERS:
        raise DecryptionError("解密失败：存储值不是有效的加密令牌（不接受明文）")
    try:
        blob = base64.b64decode(parts[3], validate=True)
    except (binascii.Error, ValueError) as exc:
        raise DecryptionError("解密失败：加密令牌的 base64 无效") from exc
    if len(blob) < _NONCE_BYTES + _TAG_BYTES:
        raise DecryptionError("解密失败：加密令牌过短")
    return parts[1], parts[2], blob


def decrypt(token: str, *, context: str, ring: KeyRing | None = None) -> str:
    """The plaintext of `token`; DecryptionError when it was altered, moved or its key is gone."""
    ring = ring or keyring()
    key_id, cipher, blob = _split(token)
    key = ring.keys.get(key_id)
    if key is None:
        raise DecryptionError(f"解密失败：未配置密钥 {key_id}（SHOUHU_DATA_KEYS）")
    nonce, sealed = blob[:_NONCE_BYTES], blob[_NONCE_BYTES:]
    try:
        data = _open(cipher, _subkey(key, cipher), nonce, sealed, _aad(key_id, cipher, context))
    except InvalidTag as exc:
        raise DecryptionError(f"解密失败：{context} 的密文认证未通过（被篡改或不属于此字段）") from exc
    return data.decode()


def needs_rotation(token: str, ring: KeyRing | None = None) -> bool:
    """Whether `token` is under another key or cipher than the active ones."""
    ring = ring or keyring()
    key_id, cipher, _ = _split(token)
    return key_id != ring.active_id or cipher != ring.cipher
