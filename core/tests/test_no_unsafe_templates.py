"""IN-2: nothing switches Django's autoescaping off for user data.

The project's templates and Python are scanned for every way to mark a string as safe HTML
(`|safe`, `|safeseq`, `{% filter safe %}`, `{% autoescape off %}`, mark_safe, SafeString,
html_safe, "autoescape": False). A use must be listed in ALLOWED with the reason it never
carries user data; anything else fails, and so does an ALLOWED entry that is no longer used.
"""

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from django.conf import settings

# Settings and a subprocess with its own SQLite file (or a scan of the sources): not the test
# database, so it runs in the SQLite run only (conftest.py).
pytestmark = pytest.mark.once

ROOT = Path(settings.BASE_DIR)
SKIP_DIRS = {".git", ".venv", "venv", "node_modules", "var", "__pycache__", ".mypy_cache", ".ruff_cache"}
SUFFIXES = {".py", ".html", ".txt", ".xml", ".jinja", ".jinja2"}

UNSAFE = {
    "|safe filter": re.compile(r"\|\s*safe\b"),
    "|safeseq filter": re.compile(r"\|\s*safeseq\b"),
    "{% filter safe %}": re.compile(r"\{%-?\s*filter\s+[^%]*\bsafe"),
    "{% autoescape off %}": re.compile(r"\{%-?\s*autoescape\s+off\b"),
    "mark_safe": re.compile(r"\bmark_safe\b"),
    "SafeString/SafeText/SafeData": re.compile(r"\bSafe(?:String|Text|Data)\b"),
    "html_safe": re.compile(r"\bhtml_safe\b"),
    "autoescape False": re.compile(r"[\"']autoescape[\"']\s*:\s*False"),
}

# (path relative to the project root, kind) → why it never renders user data unescaped.
ALLOWED: dict[tuple[str, str], str] = {
    ("core/widgets.py", "SafeString/SafeText/SafeData"): (
        "type annotations only: FastSelect returns what format_html/format_html_join built, every "
        "value escaped (core/tests/test_widgets.py compares it with Django's own Select, <乙> included)"
    ),
}

THIS_FILE = Path(__file__).resolve()


def project_files() -> Iterator[Path]:
    for path in ROOT.rglob("*"):
        parts = path.relative_to(ROOT).parts
        # .venv-bench (locust's environment, bench/README.md) and any other .venv-* too.
        if any(part in SKIP_DIRS or part.startswith(".venv") for part in parts):
            continue
        if path.suffix in SUFFIXES and path.is_file() and path.resolve() != THIS_FILE:
            yield path


def find_unsafe(text: str) -> Iterator[tuple[str, int]]:
    """(kind, line number) of every unsafe construct in `text`."""
    for number, line in enumerate(text.splitlines(), start=1):
        for kind, pattern in UNSAFE.items():
            if pattern.search(line):
                yield kind, number


def test_it_finds_no_unsafe_html_outside_the_allowlist() -> None:
    found: dict[tuple[str, str], list[int]] = {}
    scanned = 0
    for path in project_files():
        scanned += 1
        for kind, number in find_unsafe(path.read_text(encoding="utf-8", errors="replace")):
            found.setdefault((str(path.relative_to(ROOT)), kind), []).append(number)
    assert scanned > 50, f"scanned only {scanned} files: is ROOT right? ({ROOT})"
    unexpected = {key: lines for key, lines in found.items() if key not in ALLOWED}
    assert not unexpected, "unsafe HTML outside the allowlist: " + "; ".join(
        f"{path}:{lines} {kind}" for (path, kind), lines in sorted(unexpected.items())
    )
    stale = sorted(set(ALLOWED) - set(found))
    assert not stale, f"ALLOWED entries no longer used (remove them): {stale}"


def test_it_scans_the_templates_and_the_code() -> None:
    files = {str(path.relative_to(ROOT)) for path in project_files()}
    assert "templates/base.html" in files
    assert "registry/views.py" in files
    assert not any(name.startswith((".venv/", "var/")) for name in files)


def test_it_recognises_each_unsafe_construct() -> None:
    samples = {
        "|safe filter": "<p>{{ child.name|safe }}</p>",
        "|safeseq filter": "{{ names | safeseq | join:', ' }}",
        "{% filter safe %}": "{% filter force_escape|safe %}x{% endfilter %}",
        "{% autoescape off %}": "{% autoescape off %}{{ x }}{% endautoescape %}",
        "mark_safe": "from django.utils.safestring import mark_safe",
        "SafeString/SafeText/SafeData": "return SafeString(value)",
        "html_safe": "@html_safe",
        "autoescape False": '"OPTIONS": {"autoescape": False}',
    }
    assert set(samples) == set(UNSAFE)
    for kind, sample in samples.items():
        assert kind in {found for found, _ in find_unsafe(sample)}, kind
    assert not list(find_unsafe("{{ child.name }} {{ value|safe_join }} {% autoescape on %}"))


def test_it_keeps_autoescape_on() -> None:
    for engine in settings.TEMPLATES:
        assert engine.get("OPTIONS", {}).get("autoescape", True) is True
