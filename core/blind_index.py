"""Keyed blind indexes (HMAC-SHA256) for exact lookup of ID and phone numbers.

Search, uniqueness and de-duplication run on these derived columns, never on the
stored value, so encrypting the value at rest (issue 3) changes nothing users see.
"""

import hashlib
import hmac

from django.conf import settings


def blind_index(kind: str, value: str) -> str:
    key = settings.SHOUHU_INDEX_KEY.encode()
    message = f"{kind}:{value}".encode()
    return hmac.new(key, message, hashlib.sha256).hexdigest()


def id_index(number: str | None) -> str | None:
    return blind_index("id", number.upper()) if number else None


def phone_index(number: str | None) -> str | None:
    return blind_index("phone", number) if number else None
