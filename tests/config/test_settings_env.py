"""Settings read from the environment: how many proxies the client IP is read through, and the
Redis cache (its own database, and a Redis outage that must not turn the auth endpoints into 500s).

``config/settings.py`` is evaluated afresh with a given environment (``runpy``), so these tests
see what a production process would, not the test settings (which use LocMemCache)."""

from __future__ import annotations

import logging
import runpy
from pathlib import Path
from typing import Any

import pytest
import yaml
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.test import override_settings
from rest_framework.test import APIClient

from accounts.models import OtpChallenge
from tests.conftest import unused_port

SETTINGS_FILE = Path(settings.BASE_DIR) / "config" / "settings.py"
READ_VARIABLES = (
    "BEHIND_TLS_PROXY",
    "NUM_PROXIES",
    "REDIS_URL",
    "REDIS_CACHE_URL",
    "SMS_PROVIDER",
)


def production_settings(tmp_path: Path, **environment: str) -> dict[str, Any]:
    """The settings module's globals for this environment (and none of the four variables above
    unless given); os.environ is restored afterwards."""
    with pytest.MonkeyPatch.context() as mp:
        for name in (*READ_VARIABLES, "CELERY_BROKER_URL"):
            mp.delenv(name, raising=False)
        mp.setenv("DEBUG", environment.pop("DEBUG", "false"))
        mp.setenv("SECRET_KEY", "test-secret-key-not-for-production-0123456789abcdef")
        mp.setenv("VAR_DIR", str(tmp_path / "var"))
        for name, value in environment.items():
            mp.setenv(name, value)
        return runpy.run_path(str(SETTINGS_FILE))


# --- NUM_PROXIES --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("environment", "expected"),
    [
        ({}, 0),
        ({"BEHIND_TLS_PROXY": "false"}, 0),
        ({"BEHIND_TLS_PROXY": "true"}, 1),
        ({"BEHIND_TLS_PROXY": "true", "NUM_PROXIES": ""}, 1),
        ({"BEHIND_TLS_PROXY": "true", "NUM_PROXIES": "0"}, 0),
        ({"BEHIND_TLS_PROXY": "true", "NUM_PROXIES": "2"}, 2),
        ({"NUM_PROXIES": "2"}, 2),
    ],
)
def test_num_proxies_defaults_to_one_behind_a_tls_proxy(tmp_path, environment, expected):
    loaded = production_settings(tmp_path, **environment)

    assert loaded["NUM_PROXIES"] == expected
    assert loaded["REST_FRAMEWORK"]["NUM_PROXIES"] == expected


@pytest.mark.parametrize("value", ["-1", "one"])
def test_num_proxies_must_be_a_whole_number(tmp_path, value):
    from django.core.exceptions import ImproperlyConfigured

    with pytest.raises(ImproperlyConfigured) as raised:
        production_settings(tmp_path, NUM_PROXIES=value)

    assert str(raised.value) == f"NUM_PROXIES must be a whole number, 0 or more (got {value!r})."


# --- The Redis cache ----------------------------------------------------------------------------


def test_the_cache_uses_redis_url_and_ignores_redis_errors_with_a_log(tmp_path):
    loaded = production_settings(tmp_path, REDIS_URL="redis://127.0.0.1:6379/0")

    assert loaded["CACHES"] == {
        "default": {
            "BACKEND": "django_redis.cache.RedisCache",
            "LOCATION": "redis://127.0.0.1:6379/0",
            "OPTIONS": {
                "SOCKET_CONNECT_TIMEOUT": 2,
                "SOCKET_TIMEOUT": 2,
                "IGNORE_EXCEPTIONS": True,
            },
        }
    }
    assert loaded["DJANGO_REDIS_LOG_IGNORED_EXCEPTIONS"] is True
    assert loaded["CELERY_BROKER_URL"] == "redis://127.0.0.1:6379/0"


def test_redis_cache_url_puts_the_cache_in_its_own_database(tmp_path):
    loaded = production_settings(
        tmp_path,
        REDIS_URL="redis://127.0.0.1:6379/0",
        REDIS_CACHE_URL="redis://127.0.0.1:6379/1",
    )

    assert loaded["CACHES"]["default"]["LOCATION"] == "redis://127.0.0.1:6379/1"
    assert loaded["CELERY_BROKER_URL"] == "redis://127.0.0.1:6379/0"


def test_without_redis_the_cache_is_a_file_cache(tmp_path):
    loaded = production_settings(tmp_path)

    assert loaded["CACHES"] == {
        "default": {
            "BACKEND": "django.core.cache.backends.filebased.FileBasedCache",
            "LOCATION": str(tmp_path / "var" / "cache"),
        }
    }


@pytest.mark.django_db
def test_otp_request_answers_202_when_the_cache_redis_is_down(tmp_path, caplog):
    dead = f"redis://127.0.0.1:{unused_port()}/1"
    loaded = production_settings(tmp_path, REDIS_URL=dead)
    client = APIClient(raise_request_exception=False)

    with override_settings(
        CACHES=loaded["CACHES"],
        DJANGO_REDIS_LOG_IGNORED_EXCEPTIONS=loaded.get(
            "DJANGO_REDIS_LOG_IGNORED_EXCEPTIONS", False
        ),
    ):
        response = client.post(
            "/api/v1/auth/otp/",
            {"phone": "0912345678", "purpose": "register"},
            headers={"Accept-Language": "en"},
        )

    assert response.status_code == 202
    assert response.json() == {
        "detail": "If this number can receive it, a code is on its way by SMS.",
        "resend_after": 60,
        "expires_in": 300,
    }
    assert list(OtpChallenge.objects.values_list("phone", flat=True)) == ["+84912345678"]
    ignored = [r for r in caplog.records if r.name == "django_redis.cache"]
    assert ignored
    assert {(r.levelno, r.getMessage()) for r in ignored} == {(logging.ERROR, "Exception ignored")}
    assert not [r for r in caplog.records if r.name == "config.errors"]


def test_compose_keeps_the_cache_out_of_the_broker_database():
    compose = yaml.safe_load((Path(settings.BASE_DIR) / "docker-compose.yml").read_text())

    for name in ("web", "worker", "beat"):
        environment = compose["services"][name]["environment"]
        assert environment["REDIS_URL"] == "redis://redis:6379/0"
        assert environment["REDIS_CACHE_URL"] == "redis://redis:6379/1"


def test_compose_leaves_num_proxies_to_follow_behind_tls_proxy():
    compose = yaml.safe_load((Path(settings.BASE_DIR) / "docker-compose.yml").read_text())

    for name in ("web", "worker", "beat"):
        environment = compose["services"][name]["environment"]
        assert environment["NUM_PROXIES"] == "${NUM_PROXIES:-}"


# --- SMS provider ------------------------------------------------------------------------------


@pytest.mark.parametrize("provider", ["console", "memory"])
def test_development_sms_providers_refuse_to_boot_in_production(tmp_path, provider):
    with pytest.raises(ImproperlyConfigured, match=f"SMS_PROVIDER={provider} is for development"):
        production_settings(tmp_path, SMS_PROVIDER=provider)

    assert production_settings(tmp_path, SMS_PROVIDER=provider, DEBUG="true")["SMS_PROVIDER"] == (
        provider
    )
    assert production_settings(tmp_path)["SMS_PROVIDER"] == "file"
