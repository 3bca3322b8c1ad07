"""Requests Django itself refuses (a bad Host header, too many form fields, a suspicious or bad
request, a permission denied, a failed CSRF check) and bodies no parser reads: under the API they
answer the one JSON error body with a 4xx, never an HTML page or a 500; outside it Django's own
pages stay."""

from __future__ import annotations

import logging

import pytest
from django.test import Client, modify_settings

from accounts.models import OtpChallenge
from notifications.models import SmsMessage

GUARDS = "tests.config.urls_with_guards"
MALFORMED = {"vi": "Yêu cầu sai cấu trúc.", "en": "Malformed request."}
FORBIDDEN = {
    "vi": "Bạn không có quyền thực hiện thao tác này.",
    "en": "You do not have permission to perform this action.",
}


def _headers(language: str) -> dict[str, str]:
    return {"Accept-Language": language}


# --- A Host header not in ALLOWED_HOSTS ---------------------------------------------------------


@pytest.mark.parametrize("language", ["vi", "en"])
def test_disallowed_host_under_the_api_answers_the_json_400(client, language, caplog):
    response = client.get("/api/v1/auth/otp/", HTTP_HOST="evil.example", headers=_headers(language))

    assert response.status_code == 400
    assert response["Content-Type"] == "application/json"
    assert response.json() == {"code": "bad_request", "message": MALFORMED[language], "fields": {}}
    assert [r.name for r in caplog.records if r.name.startswith("django.security")] == [
        "django.security.DisallowedHost"
    ]


def test_disallowed_host_outside_the_api_keeps_the_html_page(client):
    response = client.get("/admin/login/", HTTP_HOST="evil.example")

    assert response.status_code == 400
    assert response["Content-Type"].startswith("text/html")


# --- Too many form fields (a SuspiciousOperation raised while DRF parses the body) --------------


@pytest.mark.django_db
def test_too_many_form_fields_answer_400_not_500(client, settings, caplog):
    body = "&".join(f"field{i}=x" for i in range(settings.DATA_UPLOAD_MAX_NUMBER_FIELDS + 1))

    response = Client(raise_request_exception=False).post(
        "/api/v1/auth/otp/",
        body,
        content_type="application/x-www-form-urlencoded",
        headers=_headers("vi"),
    )

    assert response.status_code == 400
    assert response["Content-Type"] == "application/json"
    assert response.json() == {"code": "bad_request", "message": MALFORMED["vi"], "fields": {}}
    assert [r.name for r in caplog.records if r.name.startswith("django.security")] == [
        "django.security.TooManyFieldsSent"
    ]
    assert not [
        r for r in caplog.records if r.levelno >= logging.ERROR and r.name == "config.errors"
    ]
    assert not OtpChallenge.objects.exists()
    assert not SmsMessage.objects.exists()


# --- Django's exceptions raised by a view under the API -----------------------------------------


@pytest.mark.urls(GUARDS)
@pytest.mark.parametrize("language", ["vi", "en"])
@pytest.mark.parametrize(
    ("path", "status", "code", "messages"),
    [
        ("/api/v1/test-suspicious/", 400, "bad_request", MALFORMED),
        ("/api/v1/test-bad-request/", 400, "bad_request", MALFORMED),
        ("/api/v1/test-permission-denied/", 403, "permission_denied", FORBIDDEN),
    ],
)
def test_django_refusals_under_the_api_answer_the_json_body(path, status, code, messages, language):
    client = Client(raise_request_exception=False)

    response = client.get(path, headers=_headers(language))

    assert response.status_code == status
    assert response["Content-Type"] == "application/json"
    assert response.json() == {"code": code, "message": messages[language], "fields": {}}


@pytest.mark.urls(GUARDS)
def test_a_suspicious_operation_is_still_logged_as_a_security_event(caplog):
    Client(raise_request_exception=False).get("/api/v1/test-suspicious/")

    [record] = [r for r in caplog.records if r.name.startswith("django.security")]
    assert record.name == "django.security.SuspiciousOperation"
    assert record.getMessage() == "a path that climbs out of MEDIA_ROOT"
    assert not [r for r in caplog.records if r.name == "config.errors" and r.levelno >= 40]


@pytest.mark.urls(GUARDS)
def test_permission_denied_outside_the_api_keeps_the_html_page():
    response = Client(raise_request_exception=False).get("/test-permission-denied/")

    assert response.status_code == 403
    assert response["Content-Type"].startswith("text/html")


@pytest.mark.urls(GUARDS)
@modify_settings(MIDDLEWARE={"remove": ["config.errors.ApiExceptionMiddleware"]})
@pytest.mark.parametrize(
    ("path", "status", "content_type"),
    [
        ("/api/v1/test-permission-denied/", 403, "application/json"),
        ("/api/v1/test-bad-request/", 400, "application/json"),
        ("/test-permission-denied/", 403, "text/html; charset=utf-8"),
    ],
)
def test_handler400_and_handler403_answer_json_only_under_the_api(path, status, content_type):
    # Without the middleware, Django's own handling reaches handler400/handler403, as it does for
    # an exception raised by another middleware.
    response = Client(raise_request_exception=False).get(path, headers=_headers("en"))

    assert response.status_code == status
    assert response["Content-Type"] == content_type
    if content_type == "application/json":
        assert response.json()["code"] == {400: "bad_request", 403: "permission_denied"}[status]


# --- CSRF ---------------------------------------------------------------------------------------


@pytest.mark.urls(GUARDS)
def test_csrf_failure_under_the_api_answers_the_json_403():
    client = Client(enforce_csrf_checks=True)

    response = client.post("/api/v1/test-csrf/", {}, headers=_headers("en"))

    assert response.status_code == 403
    assert response["Content-Type"] == "application/json"
    assert response.json() == {
        "code": "csrf_failed",
        "message": "CSRF verification failed. Request aborted.",
        "fields": {},
    }


@pytest.mark.urls(GUARDS)
def test_csrf_failure_outside_the_api_keeps_django_page():
    client = Client(enforce_csrf_checks=True, HTTP_ACCEPT_LANGUAGE="en")

    response = client.post("/test-csrf/", {})

    assert response.status_code == 403
    assert response["Content-Type"].startswith("text/html")
    assert b"CSRF verification failed. Request aborted." in response.content


# --- Bodies no parser reads ---------------------------------------------------------------------


@pytest.mark.django_db
def test_malformed_json_answers_parse_error_in_the_request_language(client):
    response = client.post(
        "/api/v1/auth/otp/",
        '{"phone": "0912345678", "purpose": ',
        content_type="application/json",
        headers=_headers("en"),
    )

    assert response.status_code == 400
    assert response.json() == {
        "code": "parse_error",
        "message": "The request body is not valid JSON.",
        "fields": {},
    }
    assert not OtpChallenge.objects.exists()


@pytest.mark.django_db
@pytest.mark.parametrize("language", ["vi", "en"])
def test_a_multipart_body_no_parser_reads_is_not_called_json(client, language):
    response = client.post(
        "/api/v1/auth/otp/",
        b"phone=0912345678",
        content_type="multipart/form-data",  # no boundary
        headers=_headers(language),
    )

    assert response.status_code == 400
    assert response.json() == {
        "code": "parse_error",
        "message": MALFORMED[language],
        "fields": {},
    }
    assert not OtpChallenge.objects.exists()
