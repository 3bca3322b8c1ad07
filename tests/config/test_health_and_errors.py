"""Liveness and readiness, the one error body under the API (404, 400, 500) in Vietnamese and
English, HTML outside the API, the boot guard on SECRET_KEY, and the OpenAPI schema's validity."""

from __future__ import annotations

import logging
import os
import subprocess
import sys

import pytest
import yaml
from django.conf import settings
from django.core.management import call_command
from django.test import Client

from accounts.models import OtpChallenge
from notifications.models import SmsMessage


def test_healthz_answers_without_database_or_broker(client):
    response = client.get("/healthz")

    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


@pytest.mark.django_db
def test_readyz_is_ok_when_database_and_broker_answer(client):
    response = client.get("/readyz")

    assert response.status_code == 200
    assert response.json() == {"status": "ok", "checks": {"database": True, "broker": True}}


@pytest.mark.django_db
def test_readyz_is_unavailable_when_the_broker_is_down(client, dead_broker, caplog):
    response = client.get("/readyz")

    assert response.status_code == 503
    assert response.json() == {
        "status": "unavailable",
        "checks": {"database": True, "broker": False},
    }
    assert [r.getMessage() for r in caplog.records if r.name == "config.health"] == [
        "readyz: broker unreachable"
    ]


@pytest.mark.parametrize(
    ("language", "message"),
    [(None, "Không tìm thấy."), ("vi", "Không tìm thấy."), ("en", "Not found.")],
)
@pytest.mark.parametrize("method", ["get", "post", "delete"])
def test_unknown_api_url_answers_the_json_error_body(client, method, language, message):
    headers = {"Accept-Language": language} if language else {}

    response = getattr(client, method)("/api/v1/no-such-thing/", headers=headers)

    assert response.status_code == 404
    assert response["Content-Type"] == "application/json"
    assert response.json() == {"code": "not_found", "message": message, "fields": {}}


def test_unknown_url_outside_the_api_keeps_the_html_page(client):
    response = client.get("/no-such-page/")

    assert response.status_code == 404
    assert response["Content-Type"].startswith("text/html")


@pytest.mark.django_db
def test_invalid_input_answers_400_with_the_fields_in_vietnamese(client):
    response = client.post("/api/v1/auth/otp/", {}, content_type="application/json")

    assert response.status_code == 400
    assert response.json() == {
        "code": "invalid",
        "message": "Dữ liệu không hợp lệ.",
        "fields": {
            "phone": ["Trường này là bắt buộc."],
            "purpose": ["Trường này là bắt buộc."],
        },
    }
    assert not OtpChallenge.objects.exists()
    assert not SmsMessage.objects.exists()


@pytest.mark.django_db
def test_invalid_input_answers_400_in_english_on_request(client):
    response = client.post(
        "/api/v1/auth/otp/",
        {"phone": "0912345678", "purpose": "lottery"},
        content_type="application/json",
        headers={"Accept-Language": "en"},
    )

    assert response.status_code == 400
    assert response.json() == {
        "code": "invalid",
        "message": "Invalid input.",
        "fields": {"purpose": ['"lottery" is not a valid choice.']},
    }
    assert not OtpChallenge.objects.exists()
    assert not SmsMessage.objects.exists()


@pytest.mark.urls("tests.config.urls_with_errors")
@pytest.mark.parametrize(
    ("language", "message"),
    [
        (None, "Đã xảy ra lỗi không mong muốn. Vui lòng thử lại sau."),
        ("en", "An unexpected error occurred. Please try again later."),
    ],
)
def test_unhandled_error_under_the_api_answers_json_500_and_is_logged(language, message, caplog):
    client = Client(raise_request_exception=False)
    headers = {"Accept-Language": language} if language else {}

    response = client.get("/api/v1/test-broken/", headers=headers)

    assert response.status_code == 500
    assert response["Content-Type"] == "application/json"
    assert response.json() == {"code": "server_error", "message": message, "fields": {}}
    [record] = [r for r in caplog.records if r.name == "config.errors"]
    assert record.levelno == logging.ERROR
    assert record.getMessage() == "Unhandled error on GET /api/v1/test-broken/"
    assert str(record.exc_info[1]) == "the database exploded"


@pytest.mark.urls("tests.config.urls_with_errors")
def test_unhandled_error_outside_the_api_keeps_the_html_page():
    client = Client(raise_request_exception=False)

    response = client.get("/test-broken/")

    assert response.status_code == 500
    assert response["Content-Type"].startswith("text/html")


@pytest.mark.parametrize("secret_key", [None, ""], ids=["absent", "empty"])
def test_production_settings_refuse_to_boot_without_a_secret_key(secret_key):
    env = {k: v for k, v in os.environ.items() if k not in ("SECRET_KEY", "DEBUG")}
    env.update(DJANGO_SETTINGS_MODULE="config.settings", DEBUG="false")
    if secret_key is not None:
        env["SECRET_KEY"] = secret_key

    result = subprocess.run(
        [sys.executable, "-c", "import django; django.setup()"],
        cwd=settings.BASE_DIR,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )

    assert result.returncode == 1
    assert (
        "django.core.exceptions.ImproperlyConfigured: SECRET_KEY is required when DEBUG is off "
        "(set SECRET_KEY, or DEBUG=true for development)."
    ) in result.stderr


def test_openapi_schema_validates_without_warnings(tmp_path):
    target = tmp_path / "schema.yaml"

    call_command("spectacular", validate=True, fail_on_warn=True, file=str(target))

    schema = yaml.safe_load(target.read_text(encoding="utf-8"))
    assert schema["openapi"].startswith("3.")
    assert "/api/v1/auth/otp/" in schema["paths"]


@pytest.mark.parametrize(
    ("method", "path", "codes"),
    [
        ("get", "/api/v1/admin-units/provinces/", ["200"]),
        ("get", "/api/v1/admin-units/wards/", ["200", "400", "404"]),
        ("post", "/api/v1/auth/otp/", ["202", "400", "415", "429"]),
        ("get", "/api/v1/me/", ["200", "401"]),
        ("patch", "/api/v1/me/", ["200", "400", "401", "415"]),
        ("delete", "/api/v1/me/devices/{id}/", ["204", "401", "404"]),
    ],
)
def test_schema_documents_the_framework_errors_with_the_error_body(client, method, path, codes):
    schema = client.get("/api/schema/", {"format": "json"}).json()

    responses = schema["paths"][path][method]["responses"]

    assert sorted(responses) == codes
    for code in codes:
        if not code.startswith("2"):
            assert responses[code]["content"]["application/json"]["schema"] == {
                "$ref": "#/components/schemas/Error"
            }
    assert schema["components"]["schemas"]["Error"]["required"] == ["code", "fields", "message"]
