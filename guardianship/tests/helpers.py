"""Shared helpers of the guardianship tests."""

import datetime as dt
from typing import Any

from registry.models import Child, EntrustedGuardian


def guardian(child: Child, *, eligible: bool = True, **overrides: Any) -> EntrustedGuardian:
    """An entrusted guardian on the file with the WBF Art. 22 checklist all confirmed (or,
    with eligible=False, all but the addiction check)."""
    checks = dict.fromkeys(EntrustedGuardian.CHECKLIST, True)
    if not eligible:
        checks["check_no_addiction"] = False
    values: dict[str, Any] = {
        "name": "王奶奶",
        "relation": "grandmother",
        "assessed_by": "李主任",
        "assessed_on": dt.date(2028, 1, 10),
        **checks,
        **overrides,
    }
    return EntrustedGuardian.objects.create(child=child, **values)


def pdf_text(data: bytes) -> str:
    """The PDF's text as a reader extracts it, whitespace removed (CJK extraction puts spaces
    between characters)."""
    import io

    from pypdf import PdfReader

    reader = PdfReader(io.BytesIO(data))
    return "".join("".join(page.extract_text().split()) for page in reader.pages)
