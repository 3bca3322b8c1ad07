"""Error messages are Vietnamese by default and English with ``Accept-Language: en``."""

from __future__ import annotations

import pytest
from rest_framework.test import APIClient
from rest_framework_simplejwt.token_blacklist.models import OutstandingToken

from accounts.models import OtpChallenge, User

pytestmark = pytest.mark.django_db

INVALID = {"vi": "Dữ liệu không hợp lệ.", "en": "Invalid input."}
INVALID_PHONE = {
    "vi": "Vui lòng nhập số điện thoại di động Việt Nam hợp lệ, ví dụ 0912345678.",
    "en": "Enter a valid Vietnamese mobile number, for example 0912345678.",
}
INVALID_OTP = {
    "vi": "Mã xác thực không đúng hoặc đã hết hạn. Vui lòng yêu cầu mã mới.",
    "en": "The code is wrong or has expired. Request a new code.",
}
INVALID_CREDENTIALS = {
    "vi": "Số điện thoại hoặc mật khẩu không đúng.",
    "en": "The phone number or password is wrong.",
}
NATIONAL_ID_LENGTH = {
    "vi": "Số CCCD phải gồm đúng 12 chữ số.",
    "en": "A citizen ID number has exactly 12 digits.",
}

# Accept-Language header (None: not sent) → the language expected.
LANGUAGES = [
    (None, "vi"),
    ("vi", "vi"),
    ("en", "en"),
    ("en-US,en;q=0.9,vi;q=0.5", "en"),
    ("fr", "vi"),  # not offered: the default
]


def client(accept_language: str | None) -> APIClient:
    return APIClient(**({"HTTP_ACCEPT_LANGUAGE": accept_language} if accept_language else {}))


@pytest.mark.parametrize(("accept_language", "lang"), LANGUAGES)
def test_invalid_phone(accept_language, lang):
    response = client(accept_language).post(
        "/api/v1/auth/otp/", {"phone": "0243 123 4567", "purpose": "login"}
    )

    assert (response.status_code, response.json()) == (
        400,
        {"code": "invalid", "message": INVALID[lang], "fields": {"phone": [INVALID_PHONE[lang]]}},
    )
    assert response["Content-Language"] == lang
    assert OtpChallenge.objects.count() == 0


@pytest.mark.parametrize(("accept_language", "lang"), LANGUAGES)
def test_invalid_otp(citizen, accept_language, lang):
    response = client(accept_language).post(
        "/api/v1/auth/token/otp/", {"phone": citizen.phone, "otp": "123456"}
    )

    assert (response.status_code, response.json()) == (
        400,
        {
            "code": "invalid_otp",
            "message": INVALID_OTP[lang],
            "fields": {"otp": [INVALID_OTP[lang]]},
        },
    )
    assert OutstandingToken.objects.count() == 0


@pytest.mark.parametrize(("accept_language", "lang"), LANGUAGES)
def test_invalid_credentials(citizen, accept_language, lang):
    response = client(accept_language).post(
        "/api/v1/auth/token/", {"phone": citizen.phone, "password": "Sai-mật-khẩu-2026"}
    )

    assert (response.status_code, response.json()) == (
        401,
        {"code": "invalid_credentials", "message": INVALID_CREDENTIALS[lang], "fields": {}},
    )
    assert OutstandingToken.objects.count() == 0


@pytest.mark.parametrize(("accept_language", "lang"), LANGUAGES)
def test_national_id_length(citizen, citizen_client, accept_language, lang):
    headers = {"HTTP_ACCEPT_LANGUAGE": accept_language} if accept_language else {}

    response = citizen_client.patch("/api/v1/me/", {"national_id": "0200900012"}, **headers)

    assert (response.status_code, response.json()) == (
        400,
        {
            "code": "invalid",
            "message": NATIONAL_ID_LENGTH[lang],
            "fields": {"national_id": [NATIONAL_ID_LENGTH[lang]]},
        },
    )
    assert User.objects.get(pk=citizen.pk).national_id is None
