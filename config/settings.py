"""Settings, read from the environment only (see README, "Configuration").

With no environment at all this is the embedded default: SQLite in ``var/``, kombu's filesystem
transport as the broker (no server), the SMS file outbox. Production sets ``DATABASE_URL``,
``REDIS_URL`` and ``SECRET_KEY``.
"""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from pathlib import Path

import environ
from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext_lazy as _

BASE_DIR = Path(__file__).resolve().parent.parent

env = environ.Env()
environ.Env.read_env(BASE_DIR / ".env", overwrite=False)

DEBUG = env.bool("DEBUG", default=False)

# No insecure default: a production process without a secret must not boot.
SECRET_KEY = env.str("SECRET_KEY", default="")
if not SECRET_KEY:
    if DEBUG:
        SECRET_KEY = "insecure-development-only-key-do-not-use-in-production-0123456789"  # noqa: S105
    else:
        raise ImproperlyConfigured(
            "SECRET_KEY is required when DEBUG is off "
            "(set SECRET_KEY, or DEBUG=true for development)."
        )

ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["localhost", "127.0.0.1", "[::1]", "testserver"])
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])
CSRF_FAILURE_VIEW = "config.errors.csrf_failure"  # the JSON error body under /api/

VAR_DIR = Path(env.str("VAR_DIR", default=str(BASE_DIR / "var")))
VAR_DIR.mkdir(parents=True, exist_ok=True)

INSTALLED_APPS = [
    "config.apps.OfficialsAdminConfig",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "rest_framework",
    "rest_framework_simplejwt.token_blacklist",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "accounts",
    "digital_address",
    "services",
    "notifications",
    "assistant",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "config.errors.ApiExceptionMiddleware",
]

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"
ASGI_APPLICATION = "config.asgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates", BASE_DIR / "config" / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

DATABASES = {
    "default": env.db_url("DATABASE_URL", default=f"sqlite:///{VAR_DIR / 'db.sqlite3'}"),
}
# Reuse connections in web and worker processes (CONN_MAX_AGE), checked before use.
DATABASES["default"]["CONN_MAX_AGE"] = env.int("DB_CONN_MAX_AGE", default=60)
DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # Web server, worker and beat share one file: wait for locks instead of failing at once.
    DATABASES["default"].setdefault("OPTIONS", {}).update(
        {"timeout": 20, "transaction_mode": "IMMEDIATE", "init_command": "PRAGMA journal_mode=WAL;"}
    )
    DATABASES["default"]["CONN_MAX_AGE"] = 0
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

REDIS_URL = env.str("REDIS_URL", default="")
# Its own Redis database in production: cache.clear() is a FLUSHDB, which in the broker's
# database would also wipe the queued Celery messages.
REDIS_CACHE_URL = env.str("REDIS_CACHE_URL", default=REDIS_URL)
if REDIS_CACHE_URL:
    CACHES = {
        "default": {
            "BACKEND": "django_redis.cache.RedisCache",
            "LOCATION": REDIS_CACHE_URL,
            "OPTIONS": {
                "SOCKET_CONNECT_TIMEOUT": 2,
                "SOCKET_TIMEOUT": 2,
                # The throttles count in the cache: with Redis down they let requests through
                # (logged) rather than turn every auth endpoint into a 500.
                "IGNORE_EXCEPTIONS": True,
            },
        }
    }
else:
    # Shared between the web server and the worker processes of the embedded default.
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.filebased.FileBasedCache",
            "LOCATION": str(VAR_DIR / "cache"),
        }
    }
DJANGO_REDIS_LOG_IGNORED_EXCEPTIONS = True

AUTH_USER_MODEL = "accounts.User"
AUTHENTICATION_BACKENDS = ["accounts.backends.PhoneBackend"]
AUTH_PASSWORD_VALIDATORS = [
    {
        "NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator",
        "OPTIONS": {"user_attributes": ["phone", "full_name", "email"]},
    },
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
PASSWORD_HASHERS = env.list(
    "PASSWORD_HASHERS",
    default=[
        "django.contrib.auth.hashers.PBKDF2PasswordHasher",
        "django.contrib.auth.hashers.PBKDF2SHA1PasswordHasher",
        "django.contrib.auth.hashers.Argon2PasswordHasher",
        "django.contrib.auth.hashers.BCryptSHA256PasswordHasher",
        "django.contrib.auth.hashers.ScryptPasswordHasher",
    ],
)

LANGUAGE_CODE = "vi"
LANGUAGES = [("vi", _("Vietnamese")), ("en", _("English"))]
LOCALE_PATHS = [BASE_DIR / "locale"]
# Day-first date input in Vietnamese (config/formats/vi/formats.py).
FORMAT_MODULE_PATH = ["config.formats"]
TIME_ZONE = "Asia/Ho_Chi_Minh"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = VAR_DIR / "static"
MEDIA_URL = "media/"
MEDIA_ROOT = Path(env.str("MEDIA_ROOT", default=str(VAR_DIR / "media")))
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": (
            "django.contrib.staticfiles.storage.StaticFilesStorage"
            if DEBUG
            else "whitenoise.storage.CompressedManifestStaticFilesStorage"
        )
    },
}

BEHIND_TLS_PROXY = env.bool("BEHIND_TLS_PROXY", default=False)
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https") if BEHIND_TLS_PROXY else None
SESSION_COOKIE_SECURE = env.bool("SECURE_COOKIES", default=not DEBUG)
CSRF_COOKIE_SECURE = SESSION_COOKIE_SECURE
SECURE_CONTENT_TYPE_NOSNIFF = True
X_FRAME_OPTIONS = "DENY"

# How many reverse proxies stand in front of the app: the client IP is read from
# X-Forwarded-For only that deep (used for OTP caps and throttling). Unset or empty (compose
# passes it empty): one behind the TLS proxy, else none; with none, every client behind a proxy
# would share the proxy's address and its per-IP caps.
_num_proxies = env.str("NUM_PROXIES", default="").strip()
if not _num_proxies:
    NUM_PROXIES = 1 if BEHIND_TLS_PROXY else 0
elif _num_proxies.isascii() and _num_proxies.isdecimal():
    NUM_PROXIES = int(_num_proxies)
else:
    raise ImproperlyConfigured(
        f"NUM_PROXIES must be a whole number, 0 or more (got {_num_proxies!r})."
    )

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "accounts.authentication.JWTAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_PARSER_CLASSES": [
        "config.parsers.SafeJSONParser",
        "rest_framework.parsers.FormParser",
        "rest_framework.parsers.MultiPartParser",
    ],
    "DEFAULT_SCHEMA_CLASS": "config.openapi.AutoSchema",
    "DEFAULT_FILTER_BACKENDS": ["django_filters.rest_framework.DjangoFilterBackend"],
    "EXCEPTION_HANDLER": "config.errors.exception_handler",
    "DEFAULT_THROTTLE_RATES": {
        "auth": env.str("THROTTLE_AUTH", default="20/min"),
        "otp": env.str("THROTTLE_OTP", default="10/min"),
        "public": env.str("THROTTLE_PUBLIC", default="120/min"),
        "assistant": env.str("THROTTLE_ASSISTANT", default="30/min"),
    },
    "NUM_PROXIES": NUM_PROXIES,  # 0: X-Forwarded-For is ignored
    "UNAUTHENTICATED_USER": "django.contrib.auth.models.AnonymousUser",
    "TEST_REQUEST_DEFAULT_FORMAT": "json",
}

SIMPLE_JWT = {
    # A stolen access token is useful for at most this long; the app refreshes silently.
    "ACCESS_TOKEN_LIFETIME": timedelta(minutes=min(env.int("JWT_ACCESS_MINUTES", default=15), 15)),
    "REFRESH_TOKEN_LIFETIME": timedelta(days=env.int("JWT_REFRESH_DAYS", default=30)),
    "ROTATE_REFRESH_TOKENS": True,
    "BLACKLIST_AFTER_ROTATION": True,
    "UPDATE_LAST_LOGIN": True,
    "SIGNING_KEY": env.str("JWT_SIGNING_KEY", default=SECRET_KEY),
    "USER_ID_FIELD": "id",
    "USER_ID_CLAIM": "user_id",
}

SPECTACULAR_SETTINGS = {
    "TITLE": "Công dân số API",
    "DESCRIPTION": (
        "API of the Công dân số citizen app: accounts, digital addresses, online public "
        "services, field reports and notifications. Errors share one body: "
        '`{"code", "message", "fields"}`; Vietnamese by default, English with '
        "`Accept-Language: en`."
    ),
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SCHEMA_PATH_PREFIX": r"/api/v1",
    # config.converters.RowId: a row's id, as many digits as a 64-bit key holds.
    "PATH_CONVERTER_OVERRIDES": {
        "id": {"type": "integer", "minimum": 0, "maximum": 999_999_999_999_999_999}
    },
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,
    "ENUM_NAME_OVERRIDES": {
        "LanguageEnum": "accounts.models.Language",
        "GenderEnum": "accounts.models.Gender",
        "VerificationStatusEnum": "digital_address.models.VerificationStatus",
        "InvitationStatusEnum": "digital_address.models.InvitationStatus",
        "RelationshipEnum": "digital_address.models.Relationship",
        "InvitableRelationshipEnum": "digital_address.models.INVITABLE_RELATIONSHIPS",
        "DossierStatusEnum": "services.models.DossierStatus",
        "DossierChannelEnum": "services.models.Channel",
        "BroadcastKindEnum": "notifications.models.BroadcastKind",
        "BroadcastStatusEnum": "notifications.models.BroadcastStatus",
        "CheckInStatusEnum": "notifications.models.CheckInStatus",
    },
}

# --- Celery -----------------------------------------------------------------------------------
CELERY_BROKER_URL = env.str("CELERY_BROKER_URL", default=REDIS_URL or "filesystem://")
BROKER_DIR = VAR_DIR / "broker"
if CELERY_BROKER_URL.startswith("filesystem://"):
    for sub in ("queue", "processed", "control"):
        (BROKER_DIR / sub).mkdir(parents=True, exist_ok=True)
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(BROKER_DIR / "queue"),
        "data_folder_out": str(BROKER_DIR / "queue"),
        "processed_folder": str(BROKER_DIR / "processed"),
        # Exchange bindings; kombu's default is "control" relative to the working directory.
        "control_folder": str(BROKER_DIR / "control"),
        "store_processed": False,
    }
else:
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        # Longer than the longest task time limit, so a slow task is not delivered twice.
        "visibility_timeout": 3600,
        "socket_connect_timeout": 3,
        "socket_timeout": 5,
    }

# --- Providers --------------------------------------------------------------------------------
SMS_PROVIDER = env.str("SMS_PROVIDER", default="file")
if not DEBUG and SMS_PROVIDER in ("console", "memory"):
    # console prints every OTP into the logs; memory sends nothing to anyone.
    raise ImproperlyConfigured(
        f"SMS_PROVIDER={SMS_PROVIDER} is for development and tests only (DEBUG is off)."
    )
SMS_FILE_PATH = Path(env.str("SMS_FILE_PATH", default=str(VAR_DIR / "sms-outbox.jsonl")))
SMS_MAX_ATTEMPTS = env.int("SMS_MAX_ATTEMPTS", default=5)
# The generic HTTP brandname-SMS gateway (SMS_PROVIDER=http); see notifications.providers.sms.
SMS_HTTP_URL = env.str("SMS_HTTP_URL", default="")
SMS_HTTP_METHOD = env.str("SMS_HTTP_METHOD", default="POST")
SMS_HTTP_AUTH = env.str("SMS_HTTP_AUTH", default="")  # "basic" or empty
SMS_HTTP_USERNAME = env.str("SMS_HTTP_USERNAME", default="")
SMS_HTTP_PASSWORD = env.str("SMS_HTTP_PASSWORD", default="")
SMS_HTTP_API_KEY = env.str("SMS_HTTP_API_KEY", default="")
SMS_HTTP_BRANDNAME = env.str("SMS_HTTP_BRANDNAME", default="")
# Empty counts as unset (docker-compose passes unset variables as empty strings).
try:
    SMS_HTTP_HEADERS = json.loads(env.str("SMS_HTTP_HEADERS", default="") or "{}")
except ValueError as exc:
    raise ImproperlyConfigured(f"SMS_HTTP_HEADERS is not JSON: {exc}") from None
SMS_HTTP_BODY = env.str("SMS_HTTP_BODY", default="") or (
    '{"to": "{phone}", "text": "{text}", "reference": "{reference}", "brandname": "{brandname}"}'
)
SMS_HTTP_PHONE_FORMAT = env.str("SMS_HTTP_PHONE_FORMAT", default="national")
SMS_HTTP_CONNECT_TIMEOUT = env.float("SMS_HTTP_CONNECT_TIMEOUT", default=3.0)
SMS_HTTP_READ_TIMEOUT = env.float("SMS_HTTP_READ_TIMEOUT", default=10.0)
SMS_HTTP_RESULT_FIELD = env.str("SMS_HTTP_RESULT_FIELD", default="code")
SMS_HTTP_SUCCESS_CODES = env.list("SMS_HTTP_SUCCESS_CODES", default=["0"])
SMS_HTTP_TEMPORARY_CODES = env.list("SMS_HTTP_TEMPORARY_CODES", default=[])
SMS_HTTP_MESSAGE_ID_FIELD = env.str("SMS_HTTP_MESSAGE_ID_FIELD", default="")
if SMS_PROVIDER == "http":
    if SMS_HTTP_PHONE_FORMAT not in ("e164", "digits", "national"):
        raise ImproperlyConfigured("SMS_HTTP_PHONE_FORMAT must be e164, digits or national.")
    try:
        json.loads(SMS_HTTP_BODY)
    except ValueError as exc:
        raise ImproperlyConfigured(f"SMS_HTTP_BODY is not JSON: {exc}") from None
if not isinstance(SMS_HTTP_HEADERS, dict):
    raise ImproperlyConfigured("SMS_HTTP_HEADERS must be a JSON object.")

PUSH_PROVIDER = env.str("PUSH_PROVIDER", default="file")
if not DEBUG and PUSH_PROVIDER == "memory":
    raise ImproperlyConfigured("PUSH_PROVIDER=memory is for tests only (DEBUG is off).")
PUSH_FILE_PATH = Path(env.str("PUSH_FILE_PATH", default=str(VAR_DIR / "push-outbox.jsonl")))
FCM_CREDENTIALS_FILE = env.str("FCM_CREDENTIALS_FILE", default="")
FCM_PROJECT_ID = env.str("FCM_PROJECT_ID", default="")

# Email through Django's backends: EMAIL_URL (smtp+tls://user:password@host:587, ...); without
# it, each message is a file under var/mail/ (development).
if env.str("EMAIL_URL", default=""):
    vars().update(env.email_url("EMAIL_URL"))
else:
    EMAIL_BACKEND = "django.core.mail.backends.filebased.EmailBackend"
    EMAIL_FILE_PATH = str(VAR_DIR / "mail")
DEFAULT_FROM_EMAIL = env.str("DEFAULT_FROM_EMAIL", default="Công dân số <no-reply@localhost>")
SERVER_EMAIL = env.str("SERVER_EMAIL", default=DEFAULT_FROM_EMAIL)
ADMINS = [("Administrators", a) for a in env.list("ADMIN_EMAILS", default=[])]

# --- Notifications ----------------------------------------------------------------------------
# Attempts per delivery before it is a technical failure; the backoff doubles from 5 s to 5 min.
NOTIFICATION_MAX_ATTEMPTS = env.int("NOTIFICATION_MAX_ATTEMPTS", default=5)
# A delivery "sending" this long belongs to a dead worker and is sent again (longer than the
# task time limit).
NOTIFICATION_SENDING_TIMEOUT = env.int("NOTIFICATION_SENDING_TIMEOUT", default=360)
# Unread this long, a message of an event with an SMS fallback goes out by SMS (once).
NOTIFICATION_SMS_FALLBACK_MINUTES = env.int("NOTIFICATION_SMS_FALLBACK_MINUTES", default=30)
# Notification SMS (not OTPs) per user per day, and for the whole deployment per day.
NOTIFICATION_SMS_PER_USER_DAILY = env.int("NOTIFICATION_SMS_PER_USER_DAILY", default=5)
NOTIFICATION_SMS_DAILY_BUDGET = env.int("NOTIFICATION_SMS_DAILY_BUDGET", default=5000)
# An emergency broadcast waits for a second official's approval before it goes.
BROADCAST_EMERGENCY_APPROVAL = env.bool("BROADCAST_EMERGENCY_APPROVAL", default=False)
# Recipients written per transaction of a broadcast's fan-out.
BROADCAST_FANOUT_CHUNK = env.int("BROADCAST_FANOUT_CHUNK", default=5000)
# Fan-out tasks writing one broadcast side by side, each its share of the audience (user id
# modulo the count): the database's cores, not one statement at a time.
BROADCAST_FANOUT_LANES = env.int("BROADCAST_FANOUT_LANES", default=2)
if not 1 <= BROADCAST_FANOUT_LANES <= 16:
    raise ImproperlyConfigured("BROADCAST_FANOUT_LANES is between 1 and 16.")
# A broadcast still sending and untouched this long lost its fan-out task: it is published again.
BROADCAST_FANOUT_STALE_SECONDS = env.int("BROADCAST_FANOUT_STALE_SECONDS", default=120)
# Shared secrets for delivery receipts, per provider: "http=secret,fcm=other".
DELIVERY_RECEIPT_SECRETS = env.dict("DELIVERY_RECEIPT_SECRETS", default={})

# --- OTP (NIST SP 800-63B) --------------------------------------------------------------------
OTP_TTL_SECONDS = env.int("OTP_TTL_SECONDS", default=300)
OTP_MAX_CHECKS = env.int("OTP_MAX_CHECKS", default=5)
OTP_RESEND_SECONDS = env.int("OTP_RESEND_SECONDS", default=60)
OTP_DAILY_PER_PHONE = env.int("OTP_DAILY_PER_PHONE", default=10)
OTP_DAILY_PER_IP = env.int("OTP_DAILY_PER_IP", default=50)
OTP_LOCK_FAILURES = env.int("OTP_LOCK_FAILURES", default=10)
OTP_LOCK_MINUTES = env.int("OTP_LOCK_MINUTES", default=60)

# --- Password login lock (per phone number; the API and the admin login) ---------------------
LOGIN_LOCK_FAILURES = env.int("LOGIN_LOCK_FAILURES", default=10)
LOGIN_LOCK_MINUTES = env.int("LOGIN_LOCK_MINUTES", default=15)

DEPLOYMENT_PROVINCE_CODE = env.int("DEPLOYMENT_PROVINCE_CODE", default=20)

# --- Online public services ------------------------------------------------------------------
# A dossier received at or after this local time counts as received on the next working day.
# Each province's one-stop regulation sets it; 16:00 unless told otherwise.
try:
    INTAKE_CUTOFF = datetime.strptime(env.str("INTAKE_CUTOFF", default="16:00"), "%H:%M").time()
except ValueError as exc:
    raise ImproperlyConfigured("INTAKE_CUTOFF is a time of day, HH:MM (e.g. 16:00).") from exc

# Files of a dossier (PDF, JPEG, PNG by content): the size of one, and how many per dossier.
ATTACHMENT_MAX_BYTES = env.int("ATTACHMENT_MAX_MB", default=10) * 1024 * 1024
ATTACHMENT_MAX_COUNT = env.int("ATTACHMENT_MAX_COUNT", default=20)

# Online payment of dossiers' financial obligations: "fake" (development: always pays) or "none"
# (online payment refused; the citizen pays at the desk). No real gateway is integrated yet.
PAYMENT_PROVIDER = env.str("PAYMENT_PROVIDER", default="fake" if DEBUG else "none")
if PAYMENT_PROVIDER == "fake" and not DEBUG:
    raise ImproperlyConfigured("PAYMENT_PROVIDER=fake records payments nobody made: DEBUG only.")

# A dossier is "due soon" when its appointment date is within this many working days; a
# periodic task (every 15 minutes) tells its assignee and the unit's leaders once, and once
# more when it is overdue.
DOSSIER_DUE_SOON_WORKING_DAYS = env.int("DOSSIER_DUE_SOON_WORKING_DAYS", default=1)
if not 0 <= DOSSIER_DUE_SOON_WORKING_DAYS <= 20:
    raise ImproperlyConfigured("DOSSIER_DUE_SOON_WORKING_DAYS is between 0 and 20.")

# --- Field reports ---------------------------------------------------------------------------
# One photo of a report (or of the evidence of its fix) as uploaded, before it is re-encoded.
REPORT_PHOTO_MAX_BYTES = env.int("REPORT_PHOTO_MAX_MB", default=10) * 1024 * 1024
# Open reports of the same category within this distance are offered as duplicates to follow.
REPORT_DUPLICATE_RADIUS_M = env.int("REPORT_DUPLICATE_RADIUS_M", default=150)
if not 10 <= REPORT_DUPLICATE_RADIUS_M <= 5000:
    raise ImproperlyConfigured("REPORT_DUPLICATE_RADIUS_M is between 10 and 5000 metres.")
# Days the citizen has to confirm or dispute a fix; silence closes the report after them.
REPORT_CONFIRM_DAYS = env.int("REPORT_CONFIRM_DAYS", default=7)
if not 1 <= REPORT_CONFIRM_DAYS <= 60:
    raise ImproperlyConfigured("REPORT_CONFIRM_DAYS is between 1 and 60.")
# --- Virtual assistant -----------------------------------------------------------------------
# Where a procedure offered by the assistant opens in the app: {base}dossiers/new?procedure=code.
ASSISTANT_DEEP_LINK_BASE = env.str("ASSISTANT_DEEP_LINK_BASE", default="congdanso://")
# The assistant in a Zalo Official Account (assistant/channels/zalo.py): the webhook answers
# only when the app id and the OA secret key are set. The API addresses are settings so that
# tests (and a proxy) can stand in for Zalo.
ZALO_APP_ID = env.str("ZALO_APP_ID", default="")
ZALO_APP_SECRET = env.str("ZALO_APP_SECRET", default="")
ZALO_OA_SECRET_KEY = env.str("ZALO_OA_SECRET_KEY", default="")
ZALO_API_URL = env.str("ZALO_API_URL", default="https://openapi.zalo.me").rstrip("/")
ZALO_OAUTH_URL = env.str("ZALO_OAUTH_URL", default="https://oauth.zaloapp.com").rstrip("/")

# Open311 GeoReport v2 discovery: who runs the endpoint, and where an application gets a key.
OPEN311_CONTACT = env.str("OPEN311_CONTACT", default="")
OPEN311_KEY_SERVICE = env.str("OPEN311_KEY_SERVICE", default="")

# --- Digital addresses ---------------------------------------------------------------------
# The address a house plate's QR code opens: the public site's origin, so plates printed from an
# internal admin host still point to the public one. Empty: the origin of the request.
PUBLIC_BASE_URL = env.str("PUBLIC_BASE_URL", default="").rstrip("/")
# Rows a CSV import uploaded through the API may hold; larger files go through the command.
HOUSEHOLD_IMPORT_MAX_ROWS = env.int("HOUSEHOLD_IMPORT_MAX_ROWS", default=20000)

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": env.str("LOG_LEVEL", default="INFO")},
    "loggers": {
        "django.db.backends": {"level": "WARNING"},
        # Django's own console handler (DEBUG only) would print every line a second time.
        "django": {"handlers": [], "level": "INFO", "propagate": True},
    },
}
