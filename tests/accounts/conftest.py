"""Fixtures of the accounts tests: moving OTP rows back in time, logging in over HTTP."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

import pytest
from django.db.models import F
from rest_framework.test import APIClient

from accounts.models import OtpChallenge


@pytest.fixture
def rewind_otps() -> Callable[..., None]:
    """Pretend the OTP challenges (all, or those matching ``filters``) were created ``seconds``
    earlier: cool-downs, expiry, caps and locks all read these two columns."""

    def rewind(seconds: int, **filters) -> None:
        delta = timedelta(seconds=seconds)
        OtpChallenge.objects.filter(**filters).update(
            created_at=F("created_at") - delta, expires_at=F("expires_at") - delta
        )

    return rewind


@pytest.fixture
def login() -> Callable[[str, str], dict[str, str]]:
    """POST auth/token/ and return the token pair (200 expected)."""

    def log_in(phone: str, password: str) -> dict[str, str]:
        response = APIClient().post("/api/v1/auth/token/", {"phone": phone, "password": password})
        assert response.status_code == 200, response.content
        return response.json()

    return log_in


@pytest.fixture
def as_bearer() -> Callable[[str], APIClient]:
    """An API client sending ``access`` as its bearer token."""

    def client_with(access: str) -> APIClient:
        client = APIClient()
        client.credentials(HTTP_AUTHORIZATION=f"Bearer {access}")
        return client

    return client_with
