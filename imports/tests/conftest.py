"""Uploads of the import tests go to a directory of their own, so that a test can see which
files are kept and which are deleted."""

from pathlib import Path
from typing import Any

import pytest


@pytest.fixture(autouse=True)
def upload_dir(settings: Any, tmp_path: Path) -> Path:
    directory = tmp_path / "uploads"
    settings.SHOUHU_UPLOAD_DIR = directory
    settings.SHOUHU_EXPORT_DIR = tmp_path / "exports"
    return directory
