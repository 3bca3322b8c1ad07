"""Phone numbers in the forms people type, stored in E.164; only Vietnamese mobiles (the OTP goes
by SMS)."""

from __future__ import annotations

import pytest
from rest_framework.test import APIClient

from accounts.models import OtpChallenge
from accounts.phone_numbers import InvalidPhoneNumber, normalize_phone
from notifications.models import SmsMessage

INVALID_PHONE = "Enter a valid Vietnamese mobile number, for example 0912345678."

TYPED = [
    "0912345678",
    "+84912345678",
    "84 912 345 678",
    "(+84) 91-234-5678",
    "0084912345678",
    "0912.345.678",
    " 0912 345 678 ",
]

NOT_MOBILE = [
    "0123",  # too short
    "abc",
    "+1 212 555 0100",  # a US number
    "0243 123 4567",  # a Hà Nội landline
    "1800 1091",  # a free-call service number
    "",
    "0912345678" * 4,  # 40 characters
]


@pytest.mark.parametrize("typed", TYPED)
def test_typed_forms_normalise_to_e164(typed):
    assert normalize_phone(typed) == "+84912345678"


@pytest.mark.parametrize(
    ("typed", "e164"),
    [("0321234567", "+84321234567"), ("086 812 3456", "+84868123456")],
)
def test_other_mobile_prefixes(typed, e164):
    assert normalize_phone(typed) == e164


@pytest.mark.parametrize("typed", [*NOT_MOBILE, None])
def test_what_is_not_a_vietnamese_mobile_is_refused(typed):
    with pytest.raises(InvalidPhoneNumber) as caught:
        normalize_phone(typed)
    assert caught.value.code == "invalid_phone"


# --- Through the API --------------------------------------------------------------------------


@pytest.mark.django_db
@pytest.mark.parametrize("typed", TYPED)
def test_the_api_stores_the_e164_form(typed, deliver_sms):
    response = APIClient().post("/api/v1/auth/otp/", {"phone": typed, "purpose": "register"})

    assert response.status_code == 202
    assert OtpChallenge.objects.get().phone == "+84912345678"
    assert [sms.phone for sms in deliver_sms()] == ["+84912345678"]
    assert SmsMessage.objects.get().phone == "+84912345678"


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("typed", "errors"),
    [
        ("0123", [INVALID_PHONE]),
        ("abc", [INVALID_PHONE]),
        ("+1 212 555 0100", [INVALID_PHONE]),
        ("0243 123 4567", [INVALID_PHONE]),
        ("+84912345678x", [INVALID_PHONE]),
        ("0912345678 ext. 12", [INVALID_PHONE]),
        ("", ["This field may not be blank."]),
        ("0912345678" * 4, [INVALID_PHONE]),
        (None, ["This field may not be null."]),
        ({"number": "0912345678"}, ["Not a valid string."]),
    ],
)
def test_the_api_refuses_what_is_not_a_mobile_number(typed, errors, sms_outbox):
    response = APIClient(HTTP_ACCEPT_LANGUAGE="en").post(
        "/api/v1/auth/otp/", {"phone": typed, "purpose": "register"}
    )

    assert response.status_code == 400
    assert response.json() == {
        "code": "invalid",
        "message": "Invalid input.",
        "fields": {"phone": errors},
    }
    assert OtpChallenge.objects.count() == 0
    assert SmsMessage.objects.count() == 0
    assert sms_outbox == []


@pytest.mark.django_db
def test_login_accepts_any_typed_form(citizen, password):
    for typed in TYPED:
        response = APIClient().post("/api/v1/auth/token/", {"phone": typed, "password": password})
        assert response.status_code == 200, typed
