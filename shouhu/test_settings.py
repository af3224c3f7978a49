"""Test overrides, in one place: fixed keys, a fast hasher, tasks run immediately.

DATABASE_URL chooses the database: SQLite by default; `make test` runs the suite a second
time with DATABASE_URL pointing at PostgreSQL.
"""

import atexit
import os
import shutil
import tempfile
from pathlib import Path

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
# Private documents go to a throw-away directory per test run, never into var/private.
SHOUHU_PRIVATE_DIR = Path(tempfile.mkdtemp(prefix="shouhu-private-"))
atexit.register(shutil.rmtree, SHOUHU_PRIVATE_DIR, ignore_errors=True)
EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
SHOUHU_SMS_BACKEND = "notify.sms.LocmemSmsBackend"
