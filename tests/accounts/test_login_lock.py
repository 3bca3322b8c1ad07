"""Password guessing against one number stops after LOGIN_LOCK_FAILURES, for the API and the
admin login alike, and the lock looks the same for numbers with and without an account."""

from __future__ import annotations

import pytest
from django.test import Client
from rest_framework.test import APIClient

pytestmark = pytest.mark.django_db

TOKEN_URL = "/api/v1/auth/token/"
UNKNOWN = "+84934567890"
LOCKED_EN = {
    "code": "login_locked",
    "message": "Too many failed logins for this number. Try again later, or log in with a code.",
    "fields": {},
}


@pytest.fixture(autouse=True)
def _three_failures_lock(settings):
    settings.LOGIN_LOCK_FAILURES = 3
    # Throttling is per IP and would stop these tests first.
    settings.REST_FRAMEWORK = {
        **settings.REST_FRAMEWORK,
        "DEFAULT_THROTTLE_RATES": {"auth": "1000/min", "otp": "1000/min", "public": "1000/min"},
    }


def login(phone: str, password: str):
    response = APIClient(HTTP_ACCEPT_LANGUAGE="en").post(
        TOKEN_URL, {"phone": phone, "password": password}
    )
    return response.status_code, response.json()


@pytest.mark.parametrize("phone", ["+84912345678", UNKNOWN])
def test_the_api_locks_a_number_after_repeated_failures(citizen, password, phone):
    for _ in range(3):
        assert login(phone, "wrong-password")[0] == 401

    assert login(phone, "wrong-password") == (429, LOCKED_EN)
    # Even the right password waits for the lock to end.
    assert login(phone, password) == (429, LOCKED_EN)


def test_other_numbers_are_not_locked(citizen, other_citizen, password):
    for _ in range(3):
        login(citizen.phone, "wrong-password")

    assert login(other_citizen.phone, password)[0] == 200


def test_a_success_clears_the_failures(citizen, password):
    for _ in range(2):
        login(citizen.phone, "wrong-password")
    assert login(citizen.phone, password)[0] == 200

    for _ in range(2):
        assert login(citizen.phone, "wrong-password")[0] == 401
    assert login(citizen.phone, password)[0] == 200


def test_the_admin_login_shares_the_lock(official, password):
    client = Client()
    for _ in range(3):
        response = client.post("/admin/login/", {"username": "0900000011", "password": "wrong"})
        assert response.status_code == 200

    response = client.post("/admin/login/", {"username": "0900000011", "password": password})

    assert response.status_code == 200  # the form again: not logged in
    assert "_auth_user_id" not in client.session
    assert login(official.phone, password) == (429, LOCKED_EN)


def test_confirming_a_phone_change_shares_the_lock(citizen, citizen_client, password):
    payload = {"phone": "0934567890", "otp": "123456", "password": "not-the-password"}
    for _ in range(3):
        response = citizen_client.post("/api/v1/me/phone/", payload, HTTP_ACCEPT_LANGUAGE="en")
        assert response.json()["code"] == "invalid_password"

    response = citizen_client.post(
        "/api/v1/me/phone/", {**payload, "password": password}, HTTP_ACCEPT_LANGUAGE="en"
    )

    assert (response.status_code, response.json()) == (429, LOCKED_EN)
    assert login(citizen.phone, password) == (429, LOCKED_EN)


def test_the_lock_is_kept_in_the_database_not_the_cache(citizen, password):
    from django.core.cache import cache

    for _ in range(3):
        login(citizen.phone, "wrong-password")
    cache.clear()

    assert login(citizen.phone, password) == (429, LOCKED_EN)


def test_failures_age_out_of_the_window(citizen, password):
    from datetime import timedelta

    from django.utils import timezone

    from accounts.login_attempts import purge_login_failures
    from accounts.models import LoginFailure

    for _ in range(3):
        login(citizen.phone, "wrong-password")
    LoginFailure.objects.update(created_at=timezone.now() - timedelta(minutes=16))

    assert purge_login_failures() == 3
    assert login(citizen.phone, password)[0] == 200
