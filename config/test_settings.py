"""Settings for the test suite: the real settings, with a test secret and in-process SMS.

DATABASE_URL / REDIS_URL still come from the environment (CI points them at PostgreSQL and
Redis); without them the suite runs on SQLite."""

from __future__ import annotations

import os
import tempfile

os.environ.setdefault("SECRET_KEY", "test-secret-key-not-for-production-0123456789abcdef")
os.environ.setdefault("DEBUG", "false")
os.environ.setdefault("VAR_DIR", os.path.join(tempfile.gettempdir(), "congdanso-test-var"))

from config.settings import *  # noqa: F403
from config.settings import (
    CELERY_BROKER_TRANSPORT_OPTIONS,
    REDIS_URL,
    STATIC_ROOT,
    STORAGES,
)

# In-process outbox; the integration tests' real worker sets TEST_SMS_PROVIDER=file and reads the
# file (a worker is another process: it cannot share the memory outbox).
SMS_PROVIDER = os.environ.get("TEST_SMS_PROVIDER", "memory")
PUSH_PROVIDER = os.environ.get("TEST_PUSH_PROVIDER", "memory")
# The fake payment provider stands in for the outside world's gateway in tests.
PAYMENT_PROVIDER = "fake"
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]  # fast; tests only
CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
STORAGES["staticfiles"]["BACKEND"] = "django.contrib.staticfiles.storage.StaticFilesStorage"

# Unit tests publish to an in-process broker; integration tests set REDIS_URL and use Redis.
CELERY_BROKER_URL = os.environ.get("CELERY_BROKER_URL") or REDIS_URL or "memory://"
if CELERY_BROKER_URL == "memory://":
    CELERY_BROKER_TRANSPORT_OPTIONS = {}
STATIC_ROOT.mkdir(parents=True, exist_ok=True)
