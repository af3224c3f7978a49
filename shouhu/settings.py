"""Settings for Shouhu, driven by environment variables (see docs/deployment.md).

Required: SHOUHU_SECRET_KEY (or SHOUHU_SECRET_KEY_FILE) and SHOUHU_INDEX_KEY (or
SHOUHU_INDEX_KEY_FILE), the key of the blind indexes for ID and phone numbers. `make run`
creates both under var/ on first run.
"""

import datetime as dt
from pathlib import Path

from core.crypto import check_data_keys as _check_data_keys
from shouhu.db import database_from_url
from shouhu.env import envbool, envint, envlist, envstr

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(envstr("SHOUHU_VAR_DIR", str(BASE_DIR / "var")))

SECRET_KEY = envstr("SHOUHU_SECRET_KEY")
SHOUHU_INDEX_KEY = envstr("SHOUHU_INDEX_KEY")
DEBUG = envbool("SHOUHU_DEBUG", False)
ALLOWED_HOSTS = envlist("SHOUHU_ALLOWED_HOSTS", ["localhost", "127.0.0.1"])
CSRF_TRUSTED_ORIGINS = envlist("SHOUHU_CSRF_TRUSTED_ORIGINS", [])

INSTALLED_APPS = [
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "rest_framework",
    "drf_spectacular",
    "template_partials",
    "simple_history",
    "axes",
    "django_otp",
    "django_otp.plugins.otp_totp",
    "django_tasks",
    "django_tasks_db",
    "core",
    "geo",
    "accounts",
    "audit",
    "registry",
    "jobs",
    "care",
    "guardianship",
    "contact",
    "notify",
    "work",
    "reports",
    "cases",
    "interventions",
    "schooling",
    "tasks",
    "imports",
    "nationalforms",
    "submissions",
    "stats",
    "providers",
    "activities",
    "training",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django_otp.middleware.OTPMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "accounts.middleware.AccountGateMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "core.middleware.PrivacyHeadersMiddleware",
    # Request ID, denied-access rows and the fail-closed 503 (audit; inside the privacy headers).
    "audit.middleware.AuditMiddleware",
    "simple_history.middleware.HistoryRequestMiddleware",
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "shouhu.urls"
WSGI_APPLICATION = "shouhu.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "core.context_processors.shouhu",
                "notify.context_processors.inbox",
            ],
            "builtins": ["template_partials.templatetags.partials", "core.templatetags.shouhu"],
        },
    }
]

DATABASES = {
    "default": database_from_url(envstr("DATABASE_URL", f"sqlite:///{VAR_DIR / 'shouhu.sqlite3'}"), BASE_DIR)
}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_USER_MODEL = "accounts.User"
LOGIN_URL = "accounts:login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "accounts:login"
PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.Argon2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
]
# AU-2: length, composition, common and context words, history (accounts/validators.py).
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {
        "NAME": "django.contrib.auth.password_validation.MinimumLengthValidator",
        "OPTIONS": {"min_length": 12},
    },
    {"NAME": "accounts.validators.CharacterClassesValidator", "OPTIONS": {"min_classes": 3}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "accounts.validators.ContextWordsValidator"},
    {"NAME": "accounts.validators.PasswordHistoryValidator", "OPTIONS": {"count": 5}},
]

LANGUAGE_CODE = "zh-hans"
LANGUAGES = [("zh-hans", "简体中文")]
TIME_ZONE = "Asia/Shanghai"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = VAR_DIR / "staticfiles"

# Sessions: server-side, short idle lifetime; issue 3 hardens further.
SESSION_COOKIE_AGE = envint("SHOUHU_SESSION_IDLE_SECONDS", 15 * 60)
SESSION_SAVE_EVERY_REQUEST = True
SESSION_EXPIRE_AT_BROWSER_CLOSE = True
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
CSRF_COOKIE_SAMESITE = "Lax"
SESSION_COOKIE_SECURE = envbool("SHOUHU_SECURE_COOKIES", not DEBUG)
CSRF_COOKIE_SECURE = SESSION_COOKIE_SECURE
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
CSRF_FAILURE_VIEW = "core.views.csrf_failure"
# TLS (AU-5). Behind the TLS proxy Django can tell https from http, so it redirects http itself
# unless told otherwise; without the proxy header it cannot, and a redirect would loop. HSTS is
# on for a year whenever cookies are Secure (such a site works over https only); Django sends
# it on https responses only. `manage.py check --deploy` is clean with these defaults
# (core/tests/test_deploy_check.py).
SHOUHU_BEHIND_TLS_PROXY = envbool("SHOUHU_BEHIND_TLS_PROXY", False)
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https") if SHOUHU_BEHIND_TLS_PROXY else None
SECURE_SSL_REDIRECT = envbool("SHOUHU_SSL_REDIRECT", SHOUHU_BEHIND_TLS_PROXY)
# The reverse proxies (addresses or networks) whose X-Forwarded-For is believed: the client
# address for the login lockout and the audit log is then the right-most address in that header
# that is not itself a trusted proxy (core/net.py). Empty: REMOTE_ADDR only.
SHOUHU_TRUSTED_PROXIES = envlist("SHOUHU_TRUSTED_PROXIES", [])
SECURE_HSTS_SECONDS = envint("SHOUHU_HSTS_SECONDS", 365 * 24 * 3600 if SESSION_COOKIE_SECURE else 0)

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "DEFAULT_PAGINATION_CLASS": "core.api.KeysetPagination",
    "PAGE_SIZE": 50,
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "EXCEPTION_HANDLER": "core.api.exception_handler",
}
SPECTACULAR_SETTINGS = {
    "TITLE": "守护 Shouhu API",
    "DESCRIPTION": "农村留守儿童关爱保护信息系统 API。所有接口都经过同一访问控制层：范围外的对象返回 404。",
    "VERSION": "0.1.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SERVE_PERMISSIONS": ["rest_framework.permissions.IsAuthenticated"],
    "COMPONENT_SPLIT_REQUEST": True,
}

TASKS = {
    "default": {
        "BACKEND": envstr("SHOUHU_TASKS_BACKEND", "django_tasks_db.DatabaseBackend"),
        "QUEUES": ["default"],
    }
}

# Jobs and durability (issue 3, RE-3…RE-7; docs/operations.md).
# A running job whose worker has not finished within its lease is requeued by
# `manage.py requeue_stale_jobs`; a live transactional job keeps its row lock and is never
# taken over, so the lease only bounds how long a dead worker's job waits.
SHOUHU_JOB_LEASE_SECONDS = envint("SHOUHU_JOB_LEASE_SECONDS", 300)
# Start-up refuses PostgreSQL with fsync, full_page_writes or synchronous_commit off (RE-5);
# 1 turns the refusal into a warning, for throw-away benchmark clusters only.
SHOUHU_ALLOW_UNSAFE_DURABILITY = envbool("SHOUHU_ALLOW_UNSAFE_DURABILITY", False)
# Where `manage.py backup` writes when no --output is given (mode 700; the files hold personal data).
SHOUHU_BACKUP_DIR = Path(envstr("SHOUHU_BACKUP_DIR", str(VAR_DIR / "backups")))

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": "INFO"},
    # Request lines can carry query strings; never log them at INFO (DP-5).
    "loggers": {"django.server": {"level": "WARNING"}, "django.request": {"level": "ERROR"}},
}

# Domain settings.
SHOUHU_COUNTY_CODE = envstr("SHOUHU_COUNTY_CODE", "450521")
SHOUHU_LEFT_BEHIND_AGE = 16
SHOUHU_LEDGER_PAGE_SIZE = envint("SHOUHU_LEDGER_PAGE_SIZE", 50)
# "我的工作" (issue 4): local time (HH:MM) after which `manage.py run_schedule` submits the
# nightly job (work.nightly) for the day; see docs/operations.md.
SHOUHU_NIGHTLY_AT = envstr("SHOUHU_NIGHTLY_AT", "02:00")

# --- Audit (SECURITY.md LG-1…LG-6, AC-8, OP-2; docs/security.md "审计") ------------------------
# Audit rows are kept at least 185 days (a system check refuses less); purge_audit removes older ones.
SHOUHU_AUDIT_RETENTION_DAYS = envint("SHOUHU_AUDIT_RETENTION_DAYS", 185)
# Break-the-glass: how long an emergency read-only grant lasts.
SHOUHU_EMERGENCY_ACCESS_MINUTES = envint("SHOUHU_EMERGENCY_ACCESS_MINUTES", 60)
# Alarms: this many denials of one user within the window; an export above this many rows.
SHOUHU_ALERT_DENIALS = envint("SHOUHU_ALERT_DENIALS", 20)
SHOUHU_ALERT_DENIAL_WINDOW_MINUTES = envint("SHOUHU_ALERT_DENIAL_WINDOW_MINUTES", 10)
SHOUHU_ALERT_EXPORT_ROWS = envint("SHOUHU_ALERT_EXPORT_ROWS", 1000)

# --- Accounts and sessions (SECURITY.md AU-1…AU-5, SE-1…SE-3, DP-6, AC-6, AC-7) ----------------
# Axes first: it refuses locked-out logins before any password is checked (AU-3).
AUTHENTICATION_BACKENDS = ["axes.backends.AxesStandaloneBackend", "accounts.backends.AccountBackend"]
# Sessions live in accounts.UserSession (a user column for ending a user's sessions).
SESSION_ENGINE = "accounts.sessions"
if SESSION_COOKIE_SECURE:  # SE-3: __Host- cookies need Secure, Path=/ and no Domain
    SESSION_COOKIE_NAME = "__Host-sessionid"
    CSRF_COOKIE_NAME = "__Host-csrftoken"
SHOUHU_SESSION_ABSOLUTE_HOURS = envint("SHOUHU_SESSION_ABSOLUTE_HOURS", 8)
# One session per user for the MFA roles always; for everyone when this is on (SE-2).
SHOUHU_SINGLE_SESSION_FOR_ALL = envbool("SHOUHU_SINGLE_SESSION_FOR_ALL", False)
SHOUHU_PASSWORD_MAX_AGE_DAYS = envint("SHOUHU_PASSWORD_MAX_AGE_DAYS", 90)
SHOUHU_DORMANT_DAYS = envint("SHOUHU_DORMANT_DAYS", 90)
# AU-3: 5 failures within 15 minutes lock the account name, and separately the client IP,
# for 15 minutes. The IP is REMOTE_ADDR only: X-Forwarded-For is not trusted (AC-9). The
# locked answer is the login page with the usual error (accounts.views.login_locked).
AXES_FAILURE_LIMIT = 5
AXES_COOLOFF_TIME = dt.timedelta(minutes=15)
AXES_LOCKOUT_PARAMETERS = ["username", "ip_address"]
AXES_CLIENT_IP_CALLABLE = "core.net.client_ip"
AXES_USERNAME_CALLABLE = "accounts.views.lockout_username"  # stored as a keyed hash
AXES_LOCKOUT_CALLABLE = "accounts.views.login_locked"
AXES_ENABLE_ADMIN = False
# AU-4: TOTP (RFC 6238) through django-otp.
OTP_TOTP_ISSUER = "守护"
# AU-5: credentials only over TLS. HSTS (see SECURE_HSTS_SECONDS above) covers subdomains;
# preloading commits the whole registrable domain, which a county site under gov.cn cannot
# decide, so it is off and its check.W021 silenced unless the deployment turns it on.
SECURE_HSTS_INCLUDE_SUBDOMAINS = envbool("SHOUHU_HSTS_INCLUDE_SUBDOMAINS", True)
SECURE_HSTS_PRELOAD = envbool("SHOUHU_HSTS_PRELOAD", False)
SILENCED_SYSTEM_CHECKS = [] if SECURE_HSTS_PRELOAD else ["security.W021"]

# Uploads and exports (FI-1..FI-4): every upload goes through core.uploads.guard_upload and every
# export through core.exports.export_rows. Both directories lie outside the web root (no
# MEDIA_URL; whitenoise serves STATIC_ROOT only).
SHOUHU_UPLOAD_DIR = Path(envstr("SHOUHU_UPLOAD_DIR", str(VAR_DIR / "uploads")))
SHOUHU_EXPORT_DIR = Path(envstr("SHOUHU_EXPORT_DIR", str(VAR_DIR / "exports")))
# Progress of running transactional jobs on SQLite (jobs.progress); PostgreSQL uses a table.
SHOUHU_PROGRESS_DIR = Path(envstr("SHOUHU_PROGRESS_DIR", str(VAR_DIR / "progress")))
SHOUHU_UPLOAD_MAX_BYTES = envint("SHOUHU_UPLOAD_MAX_BYTES", 10 * 1024 * 1024)
SHOUHU_UPLOAD_MAX_UNPACKED_BYTES = envint("SHOUHU_UPLOAD_MAX_UNPACKED_BYTES", 100 * 1024 * 1024)
SHOUHU_UPLOAD_MAX_ENTRIES = envint("SHOUHU_UPLOAD_MAX_ENTRIES", 1000)
SHOUHU_IMPORT_MAX_ROWS = envint("SHOUHU_IMPORT_MAX_ROWS", 50_000)
# Private documents (agreement scans, visit photos): core.storage.private_storage, mode 0700,
# outside the web root; served only by views that check access (core/storage.py). Documents
# pass core.uploads.guard_document first (JPEG, PNG, PDF; at most this many bytes).
SHOUHU_PRIVATE_DIR = Path(envstr("SHOUHU_PRIVATE_DIR", str(VAR_DIR / "private")))
SHOUHU_DOCUMENT_MAX_BYTES = envint("SHOUHU_DOCUMENT_MAX_BYTES", 10 * 1024 * 1024)

# --- Data protection (SECURITY.md DP-1, DP-2; docs/security.md "静态数据加密 (DP)") ---------------
# Keys of the encrypted columns (core/crypto.py): `id:base64key` entries separated by commas or
# newlines, the first one active for new writes, all of them readable. Kept outside the database,
# like the index key; start-up fails when they are missing or malformed.
SHOUHU_DATA_KEYS = envstr("SHOUHU_DATA_KEYS")
SHOUHU_DATA_CIPHER = envstr("SHOUHU_DATA_CIPHER", "aes-256-gcm")  # or "sm4-gcm" (国密)
_check_data_keys(SHOUHU_DATA_KEYS, SHOUHU_DATA_CIPHER)

# --- Notifications (issue 4; notify app, docs/deployment.md) ------------------------------------
# E-mail through Django's mail backends: SMTP in production, the console when DEBUG is on.
_MAIL_BACKEND = "console" if DEBUG else "smtp"
EMAIL_BACKEND = envstr("SHOUHU_EMAIL_BACKEND", f"django.core.mail.backends.{_MAIL_BACKEND}.EmailBackend")
EMAIL_HOST = envstr("SHOUHU_EMAIL_HOST", "localhost")
EMAIL_PORT = envint("SHOUHU_EMAIL_PORT", 25)
EMAIL_HOST_USER = envstr("SHOUHU_EMAIL_HOST_USER", "")
EMAIL_HOST_PASSWORD = envstr("SHOUHU_EMAIL_HOST_PASSWORD", "")
EMAIL_USE_TLS = envbool("SHOUHU_EMAIL_USE_TLS", False)
EMAIL_USE_SSL = envbool("SHOUHU_EMAIL_USE_SSL", False)
# A delivery attempt runs in a background job with a 120 s lease: never wait longer than this.
EMAIL_TIMEOUT = envint("SHOUHU_EMAIL_TIMEOUT", 10)
DEFAULT_FROM_EMAIL = envstr("SHOUHU_EMAIL_FROM", "守护 <noreply@localhost>")
# Text messages: a notify.sms.BaseSmsBackend subclass; the default only logs (masked number).
SHOUHU_SMS_BACKEND = envstr("SHOUHU_SMS_BACKEND", "notify.sms.LoggingSmsBackend")
# Attempts per e-mail or SMS delivery before it is given up (a county admin may retry).
SHOUHU_NOTIFY_MAX_ATTEMPTS = envint("SHOUHU_NOTIFY_MAX_ATTEMPTS", 5)
# The site's address for links in e-mails, e.g. https://shouhu.example.gov.cn (empty: no link).
SHOUHU_SITE_URL = envstr("SHOUHU_SITE_URL", "")
