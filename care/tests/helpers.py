"""Payloads and files for the care tests."""

import datetime as dt
import struct
import uuid
import zlib
from typing import Any

from django.core.files.uploadedfile import SimpleUploadedFile

from registry.models import Child


def visit_post(child: Child, **overrides: Any) -> dict[str, Any]:
    """The visit form as a phone would post it: defaults plus overrides (None drops a key)."""
    data: dict[str, Any] = {
        "submission_key": str(uuid.uuid4()),
        "version": child.version,
        "visited_on": dt.date(2028, 2, 25).isoformat(),
        "kind": "home",
        "visitor_role": "village_worker",
        "present": ["child", "grandparents"],
        "guardian_at_home": "on",
        "guardian_capable": "on",
        "living_conditions_ok": "on",
        "attending_school": "on",
        "health_ok": "on",
        "emotional_ok": "on",
        "parent_contact_recent": "on",
        "notes": "祖母在家照料，孩子学习正常。",
    }
    data.update(overrides)
    return {key: value for key, value in data.items() if value is not None}


def png_bytes(width: int = 2, height: int = 2) -> bytes:
    """A valid PNG (grey pixels), built by hand so the test needs no image library."""

    def chunk(kind: bytes, body: bytes) -> bytes:
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))

    header = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    rows = b"".join(b"\x00" + b"\x80" * width for _ in range(height))
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(rows))
        + chunk(b"IEND", b"")
    )


def photo(name: str = "现场.png", content: bytes | None = None) -> SimpleUploadedFile:
    return SimpleUploadedFile(name, png_bytes() if content is None else content, content_type="image/png")
