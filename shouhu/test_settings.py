"""Test overrides, in one place: fixed keys, a fast hasher, tasks run immediately.

DATABASE_URL chooses the database: SQLite by default; `make test` runs the suite a second
time with DATABASE_URL pointing at PostgreSQL.
"""

import os

os.environ.setdefault("SHOUHU_SECRET_KEY", "test-secret-key-not-for-production")
os.environ.setdefault("SHOUHU_INDEX_KEY", "test-index-key-not-for-production")
# A fixed data key (32 bytes, base64) so encrypted test rows read back on every run.
os.environ.setdefault("SHOUHU_DATA_KEYS", "test:dGVzdC1kYXRhLWtleS1ub3QtZm9yLXByb2R1Y3Rpb24=")
os.environ.setdefault("DATABASE_URL", "sqlite:///var/test.sqlite3")
os.environ.setdefault("SHOUHU_SECURE_COOKIES", "0")

from shouhu.settings import *  # noqa: F403

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
TASKS = {"default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend"}}
ALLOWED_HOSTS = ["*"]
WHITENOISE_AUTOREFRESH = True  # tests run without collectstatic
