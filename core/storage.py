"""Private file storage (FI-3, DP-5): scans of signed agreements, visit photos.

Files live under settings.SHOUHU_PRIVATE_DIR (mode 0700, files 0600), outside the web root:
there is no MEDIA_URL, whitenoise serves STATIC_ROOT only, and url() refuses, so a stored file
has no public address. A view that has checked access through registry/access.py hands the
file out with private_file_response() (no-store, nosniff, attachment or inline).

Stored names are generated (`<folder>/<uuid hex>.<kind>`): the name the user gave never reaches
the file system, and the extension comes from the content that core.uploads.guard_document
recognised, never from the upload's name.
"""

import uuid
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.files import File
from django.core.files.storage import FileSystemStorage
from django.http import FileResponse

from core.uploads import GuardedFile

CONTENT_TYPES = {"jpeg": "image/jpeg", "png": "image/png", "pdf": "application/pdf"}
EXTENSIONS = {"jpeg": "jpg", "png": "png", "pdf": "pdf"}


class PrivateStorage(FileSystemStorage):
    """FileSystemStorage rooted at SHOUHU_PRIVATE_DIR, read on every use so that a test's
    settings override applies, with no URL."""

    def __init__(self) -> None:
        super().__init__(file_permissions_mode=0o600, directory_permissions_mode=0o700)

    @property  # type: ignore[override]
    def base_location(self) -> str:
        return str(settings.SHOUHU_PRIVATE_DIR)

    @property  # type: ignore[override]
    def location(self) -> str:
        return str(Path(self.base_location).resolve())

    def url(self, name: str | None) -> str:
        raise ValueError("私有文件没有公开地址，只能经检查权限的视图读取。")

    def get_available_name(self, name: str, max_length: int | None = None) -> str:
        # Names are fresh UUIDs; a clash would be a bug, never something to rename around.
        if self.exists(name):
            raise FileExistsError(name)
        return name


private_storage = PrivateStorage()


def get_private_storage() -> PrivateStorage:
    """For FileField(storage=…): a callable, so migrations name it instead of pickling it."""
    return private_storage


def private_name(*, folder: str, kind: str) -> str:
    return f"{folder}/{uuid.uuid4().hex}.{EXTENSIONS[kind]}"


def store_guarded(guarded: GuardedFile, *, folder: str) -> str:
    """Move a file accepted by guard_document into private storage; return its stored name.
    The guard's copy in the upload directory is deleted whatever happens."""
    try:
        with guarded.path.open("rb") as handle:
            return private_storage.save(private_name(folder=folder, kind=guarded.kind), File(handle))
    finally:
        guarded.delete()


def private_delete(name: str) -> None:
    if name:
        private_storage.delete(name)


def private_file_response(name: str, *, kind: str, download_name: str, inline: bool = False) -> FileResponse:
    """The stored file, for a view that has already checked access. Never cached, never
    sniffed; a PDF is always an attachment, so that no reader plugin runs it in our origin."""
    handle: Any = private_storage.open(name, "rb")
    response = FileResponse(
        handle,
        content_type=CONTENT_TYPES[kind],
        as_attachment=not (inline and kind != "pdf"),
        filename=download_name,
    )
    response["Cache-Control"] = "no-store"
    response["X-Content-Type-Options"] = "nosniff"
    response["Content-Security-Policy"] = "default-src 'none'; frame-ancestors 'none'; sandbox"
    return response
