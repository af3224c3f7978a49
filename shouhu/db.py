"""Parse DATABASE_URL into a Django DATABASES entry (SQLite or PostgreSQL only)."""

from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlparse

from django.core.exceptions import ImproperlyConfigured


def database_from_url(url: str, base_dir: Path) -> dict[str, Any]:
    parsed = urlparse(url)
    if parsed.scheme == "sqlite":
        # sqlite:///relative.db and sqlite:////absolute/path.db, as dj-database-url reads them.
        name = unquote(parsed.path[1:]) if parsed.path not in ("", "/") else "db.sqlite3"
        path = Path(name) if Path(name).is_absolute() else base_dir / name
        return {
            "ENGINE": "django.db.backends.sqlite3",
            "NAME": str(path),
            # WAL with synchronous=FULL: committed rows survive power loss (RE-7).
            "OPTIONS": {
                "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL; PRAGMA foreign_keys=ON;",
                "transaction_mode": "IMMEDIATE",
                "timeout": 20,
            },
        }
    if parsed.scheme in {"postgres", "postgresql"}:
        return {
            "ENGINE": "django.db.backends.postgresql",
            "NAME": unquote(parsed.path.lstrip("/")),
            "USER": unquote(parsed.username or ""),
            "PASSWORD": unquote(parsed.password or ""),
            "HOST": parsed.hostname or "",
            "PORT": str(parsed.port or ""),
            "CONN_MAX_AGE": 60,
            "CONN_HEALTH_CHECKS": True,
        }
    raise ImproperlyConfigured("DATABASE_URL must start with sqlite:// or postgres://")
