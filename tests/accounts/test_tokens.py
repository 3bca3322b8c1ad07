"""JWT: short access tokens, refresh rotation with blacklist, logout."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.conf import settings
from rest_framework.test import APIClient
from rest_framework_simplejwt.token_blacklist.models import BlacklistedToken, OutstandingToken
from rest_framework_simplejwt.tokens import AccessToken, RefreshToken

pytestmark = pytest.mark.django_db

REFRESH_URL = "/api/v1/auth/token/refresh/"
LOGOUT_URL = "/api/v1/auth/logout/"


def refresh(token: str) -> tuple[int, dict]:
    response = APIClient().post(REFRESH_URL, {"refresh": token})
    return response.status_code, response.json()


def test_access_tokens_live_at_most_15_minutes(citizen, password, login):
    lifetime = settings.SIMPLE_JWT["ACCESS_TOKEN_LIFETIME"]
    assert lifetime <= timedelta(minutes=15)

    access = AccessToken(login(citizen.phone, password)["access"])

    assert access["exp"] - access["iat"] == lifetime.total_seconds()
    assert (access["token_type"], access["user_id"]) == ("access", str(citizen.pk))


def test_refresh_rotates_and_a_rotated_token_is_dead(citizen, password, login):
    first = login(citizen.phone, password)["refresh"]

    status, body = refresh(first)

    assert (status, set(body)) == (200, {"access", "refresh"})
    second = body["refresh"]
    assert second != first
    assert RefreshToken(second)["user_id"] == str(citizen.pk)
    assert AccessToken(body["access"])["user_id"] == str(citizen.pk)

    status, body = refresh(first)
    assert (status, body["code"], body["fields"]) == (401, "token_not_valid", {})
    assert BlacklistedToken.objects.count() == 1
    # The rotated token still works once.
    status, body = refresh(second)
    assert status == 200
    assert refresh(second)[0] == 401


def test_logout_blacklists_the_refresh_token(citizen, password, login, as_bearer):
    tokens = login(citizen.phone, password)
    client = as_bearer(tokens["access"])

    response = client.post(LOGOUT_URL, {"refresh": tokens["refresh"]})

    assert (response.status_code, response.content) == (204, b"")
    status, body = refresh(tokens["refresh"])
    assert (status, body["code"]) == (401, "token_not_valid")
    # Logging out twice is harmless.
    assert client.post(LOGOUT_URL, {"refresh": tokens["refresh"]}).status_code == 204
    assert BlacklistedToken.objects.count() == 1


def test_logout_needs_the_access_token(citizen, password, login):
    tokens = login(citizen.phone, password)

    response = APIClient().post(LOGOUT_URL, {"refresh": tokens["refresh"]})

    assert (response.status_code, response.json()["code"]) == (401, "not_authenticated")
    assert BlacklistedToken.objects.count() == 0
    assert refresh(tokens["refresh"])[0] == 200


def test_logout_with_a_malformed_token(citizen_client):
    response = citizen_client.post(
        LOGOUT_URL, {"refresh": "not-a-token"}, HTTP_ACCEPT_LANGUAGE="en"
    )

    assert response.status_code == 400
    assert response.json() == {
        "code": "token_not_valid",
        "message": "The refresh token is invalid or expired.",
        "fields": {"refresh": ["The refresh token is invalid or expired."]},
    }
    assert BlacklistedToken.objects.count() == 0


def test_refresh_with_bad_input(api_client):
    response = api_client.post(REFRESH_URL, {})

    assert response.status_code == 400
    assert response.json()["code"] == "invalid"
    assert list(response.json()["fields"]) == ["refresh"]
    assert OutstandingToken.objects.count() == 0


def test_an_access_token_is_not_a_refresh_token(citizen, password, login):
    tokens = login(citizen.phone, password)

    status, body = refresh(tokens["access"])

    assert (status, body["code"]) == (401, "token_not_valid")
    assert OutstandingToken.objects.count() == 1


def test_refresh_for_a_deleted_account_is_401(citizen, password, login):
    tokens = login(citizen.phone, password)
    citizen.delete()

    status, body = refresh(tokens["refresh"])

    assert status == 401
    assert body["code"] == "no_active_account"
