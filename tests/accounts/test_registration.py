"""Registration, login (password or OTP), password reset and phone change, over HTTP."""

from __future__ import annotations

import pytest
from rest_framework.test import APIClient
from rest_framework_simplejwt.token_blacklist.models import OutstandingToken
from rest_framework_simplejwt.tokens import AccessToken

from accounts.models import OtpChallenge, User
from tests.factories import PASSWORD

pytestmark = pytest.mark.django_db

NEW_PHONE = "+84934567890"
NEW_PASSWORD = "Một-mật-khẩu-mới-2026"
INVALID_OTP_EN = {
    "code": "invalid_otp",
    "message": "The code is wrong or has expired. Request a new code.",
    "fields": {"otp": ["The code is wrong or has expired. Request a new code."]},
}
INVALID_CREDENTIALS_EN = {
    "code": "invalid_credentials",
    "message": "The phone number or password is wrong.",
    "fields": {},
}


@pytest.fixture
def client() -> APIClient:
    return APIClient(HTTP_ACCEPT_LANGUAGE="en")


def wrong(code: str) -> str:
    return f"{(int(code) + 1) % 10**6:06d}"


# --- Registration -----------------------------------------------------------------------------


def test_register_with_the_texted_code(client, request_otp, password):
    code = request_otp("0934 567 890", "register")

    response = client.post(
        "/api/v1/auth/register/",
        {"phone": "0934567890", "otp": code, "password": password, "full_name": "  Lò Thị Mai "},
    )

    assert response.status_code == 201, response.content
    tokens = response.json()
    assert set(tokens) == {"access", "refresh"}
    user = User.objects.get()
    assert (user.phone, user.full_name, user.is_active, user.is_staff) == (
        NEW_PHONE,
        "Lò Thị Mai",
        True,
        False,
    )
    assert user.check_password(password)
    assert user.last_login is not None
    assert AccessToken(tokens["access"])["user_id"] == str(user.pk)
    assert OtpChallenge.objects.get().consumed_at is not None
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {tokens['access']}")
    me = client.get("/api/v1/me/")
    assert (me.status_code, me.json()["phone"], me.json()["id"]) == (200, NEW_PHONE, user.pk)


def test_a_weak_password_is_refused_before_the_code_is_spent(client, request_otp, password):
    code = request_otp(NEW_PHONE, "register")

    response = client.post(
        "/api/v1/auth/register/",
        {"phone": NEW_PHONE, "otp": code, "password": "12345678", "full_name": "Lò Thị Mai"},
    )

    assert response.status_code == 400
    body = response.json()
    assert (body["code"], list(body["fields"])) == ("invalid", ["password"])
    assert body["fields"]["password"] == [
        "This password is too common.",
        "This password is entirely numeric.",
    ]
    assert User.objects.count() == 0
    assert OtpChallenge.objects.get().checks == 0
    # The code is still good.
    response = client.post(
        "/api/v1/auth/register/",
        {"phone": NEW_PHONE, "otp": code, "password": password, "full_name": "Lò Thị Mai"},
    )
    assert response.status_code == 201


def test_register_with_a_wrong_code(client, request_otp, password):
    code = request_otp(NEW_PHONE, "register")

    response = client.post(
        "/api/v1/auth/register/",
        {"phone": NEW_PHONE, "otp": wrong(code), "password": password, "full_name": "Lò Thị Mai"},
    )

    assert (response.status_code, response.json()) == (400, INVALID_OTP_EN)
    assert User.objects.count() == 0
    assert OutstandingToken.objects.count() == 0


def test_register_without_asking_for_a_code(client, password):
    response = client.post(
        "/api/v1/auth/register/",
        {"phone": NEW_PHONE, "otp": "123456", "password": password, "full_name": "Lò Thị Mai"},
    )

    assert (response.status_code, response.json()) == (400, INVALID_OTP_EN)
    assert User.objects.count() == 0


def test_register_with_bad_input_names_every_field(client):
    response = client.post(
        "/api/v1/auth/register/", {"phone": "abc", "otp": "12345", "full_name": "   "}
    )

    assert response.status_code == 400
    body = response.json()
    assert (body["code"], body["message"]) == ("invalid", "Invalid input.")
    assert body["fields"] == {
        "phone": ["Enter a valid Vietnamese mobile number, for example 0912345678."],
        "otp": [
            "Ensure this field has at least 6 characters.",
            "This value does not match the required pattern.",
        ],
        "password": ["This field is required."],
        "full_name": ["This field may not be blank."],
    }
    assert User.objects.count() == 0


# --- Login ------------------------------------------------------------------------------------


def test_login_with_phone_and_password(client, citizen, password):
    response = client.post("/api/v1/auth/token/", {"phone": "0912 345 678", "password": password})

    assert response.status_code == 200
    tokens = response.json()
    assert set(tokens) == {"access", "refresh"}
    assert AccessToken(tokens["access"])["user_id"] == str(citizen.pk)
    citizen.refresh_from_db()
    assert citizen.last_login is not None


def test_wrong_password_unknown_phone_and_deactivated_account_get_the_same_401(
    client, citizen, other_citizen, password
):
    User.objects.filter(pk=other_citizen.pk).update(is_active=False)

    answers = [
        client.post("/api/v1/auth/token/", {"phone": phone, "password": secret})
        for phone, secret in [
            (citizen.phone, "Sai-mật-khẩu-2026"),
            (NEW_PHONE, password),
            (other_citizen.phone, password),
        ]
    ]

    assert [(r.status_code, r.json()) for r in answers] == [(401, INVALID_CREDENTIALS_EN)] * 3
    assert OutstandingToken.objects.count() == 0
    assert User.objects.filter(last_login__isnull=False).count() == 0


def test_login_with_bad_input(client):
    response = client.post("/api/v1/auth/token/", {"phone": "0243 123 4567"})

    assert response.status_code == 400
    assert response.json()["fields"] == {
        "phone": ["Enter a valid Vietnamese mobile number, for example 0912345678."],
        "password": ["This field is required."],
    }
    assert OutstandingToken.objects.count() == 0


def test_login_with_an_otp(client, citizen, request_otp):
    code = request_otp("0912345678", "login")

    response = client.post("/api/v1/auth/token/otp/", {"phone": "+84 912 345 678", "otp": code})

    assert response.status_code == 200
    assert AccessToken(response.json()["access"])["user_id"] == str(citizen.pk)


def test_login_with_a_wrong_otp(client, citizen, request_otp):
    code = request_otp(citizen.phone, "login")

    response = client.post("/api/v1/auth/token/otp/", {"phone": citizen.phone, "otp": wrong(code)})

    assert (response.status_code, response.json()) == (400, INVALID_OTP_EN)
    assert OutstandingToken.objects.count() == 0


# --- Password reset ---------------------------------------------------------------------------


def test_password_reset_sets_the_new_password_and_logs_out_everywhere(
    client, citizen, password, request_otp, login
):
    phone_tokens = login(citizen.phone, password)
    tablet_tokens = login(citizen.phone, password)
    code = request_otp(citizen.phone, "reset_password")

    response = client.post(
        "/api/v1/auth/password/reset/",
        {"phone": citizen.phone, "otp": code, "password": NEW_PASSWORD},
    )

    assert (response.status_code, response.content) == (204, b"")
    old = client.post("/api/v1/auth/token/", {"phone": citizen.phone, "password": password})
    assert (old.status_code, old.json()) == (401, INVALID_CREDENTIALS_EN)
    assert login(citizen.phone, NEW_PASSWORD)
    for tokens in (phone_tokens, tablet_tokens):
        refresh = client.post("/api/v1/auth/token/refresh/", {"refresh": tokens["refresh"]})
        assert (refresh.status_code, refresh.json()["code"]) == (401, "token_not_valid")


def test_password_reset_with_a_weak_password_changes_nothing(
    client, citizen, password, request_otp
):
    code = request_otp(citizen.phone, "reset_password")

    response = client.post(
        "/api/v1/auth/password/reset/",
        {"phone": citizen.phone, "otp": code, "password": "password"},
    )

    assert response.status_code == 400
    assert response.json()["fields"] == {"password": ["This password is too common."]}
    citizen.refresh_from_db()
    assert citizen.check_password(password)
    assert OtpChallenge.objects.get().checks == 0


def test_password_reset_with_a_wrong_code_changes_nothing(client, citizen, password, request_otp):
    code = request_otp(citizen.phone, "reset_password")

    response = client.post(
        "/api/v1/auth/password/reset/",
        {"phone": citizen.phone, "otp": wrong(code), "password": NEW_PASSWORD},
    )

    assert (response.status_code, response.json()) == (400, INVALID_OTP_EN)
    citizen.refresh_from_db()
    assert citizen.check_password(password)


def test_password_reset_for_an_unknown_number(client, request_otp):
    assert request_otp(NEW_PHONE, "reset_password") is None

    response = client.post(
        "/api/v1/auth/password/reset/",
        {"phone": NEW_PHONE, "otp": "123456", "password": NEW_PASSWORD},
    )

    assert (response.status_code, response.json()) == (400, INVALID_OTP_EN)
    assert User.objects.count() == 0


# --- Phone change -----------------------------------------------------------------------------


def test_change_phone_with_a_code_texted_to_the_new_number(
    citizen, citizen_client, password, request_otp, sms_outbox, deliver_sms, login
):
    old_tokens = login(citizen.phone, password)
    code = request_otp("0934 567 890", "change_phone")
    assert [s.phone for s in sms_outbox] == [NEW_PHONE]

    response = citizen_client.post(
        "/api/v1/me/phone/", {"phone": "0934567890", "otp": code, "password": password}
    )

    assert response.status_code == 200
    assert set(response.json()) == {"access", "refresh"}
    citizen.refresh_from_db()
    assert citizen.phone == NEW_PHONE
    assert login("0934567890", password)
    old = APIClient().post("/api/v1/auth/token/", {"phone": "0912345678", "password": password})
    assert old.status_code == 401
    # Every earlier session is logged out; the new pair works.
    stale = APIClient().post("/api/v1/auth/token/refresh/", {"refresh": old_tokens["refresh"]})
    assert stale.status_code == 401
    fresh = APIClient().post("/api/v1/auth/token/refresh/", {"refresh": response.json()["refresh"]})
    assert fresh.status_code == 200
    # The old number is told, with the new one masked.
    [notice] = deliver_sms()
    assert notice.phone == "+84912345678"
    assert notice.body == (
        "Cong dan so: so dien thoai cua tai khoan da duoc doi thanh +849*****890. "
        "Neu khong phai ban, hay lien he bo phan mot cua cua xa/phuong."
    )


def test_change_phone_needs_the_password(citizen, citizen_client, request_otp, sms_outbox):
    code = request_otp(NEW_PHONE, "change_phone")

    response = citizen_client.post(
        "/api/v1/me/phone/",
        {"phone": NEW_PHONE, "otp": code, "password": "not-the-password"},
        HTTP_ACCEPT_LANGUAGE="en",
    )

    assert response.status_code == 400
    assert response.json() == {
        "code": "invalid_password",
        "message": "The password is wrong.",
        "fields": {"password": ["The password is wrong."]},
    }
    citizen.refresh_from_db()
    assert citizen.phone == "+84912345678"
    # The code was not spent: the holder can still use it with the right password.
    assert OtpChallenge.objects.get(phone=NEW_PHONE).consumed_at is None
    assert len(sms_outbox) == 1


def test_change_phone_with_a_wrong_code(citizen, citizen_client, request_otp):
    code = request_otp(NEW_PHONE, "change_phone")

    response = citizen_client.post(
        "/api/v1/me/phone/",
        {"phone": NEW_PHONE, "otp": wrong(code), "password": PASSWORD},
        HTTP_ACCEPT_LANGUAGE="en",
    )

    assert (response.status_code, response.json()) == (400, INVALID_OTP_EN)
    citizen.refresh_from_db()
    assert citizen.phone == "+84912345678"


def test_change_phone_with_a_code_asked_for_another_purpose(citizen, citizen_client, request_otp):
    code = request_otp(NEW_PHONE, "register")

    response = citizen_client.post(
        "/api/v1/me/phone/",
        {"phone": NEW_PHONE, "otp": code, "password": PASSWORD},
        HTTP_ACCEPT_LANGUAGE="en",
    )

    assert (response.status_code, response.json()) == (400, INVALID_OTP_EN)
    citizen.refresh_from_db()
    assert citizen.phone == "+84912345678"
    assert User.objects.filter(phone=NEW_PHONE).count() == 0


def test_change_phone_to_a_number_with_an_account_is_impossible(
    citizen, other_citizen, citizen_client, request_otp, sms_outbox
):
    assert request_otp(other_citizen.phone, "change_phone") is None
    assert sms_outbox == []

    response = citizen_client.post(
        "/api/v1/me/phone/",
        {"phone": other_citizen.phone, "otp": "123456", "password": PASSWORD},
        HTTP_ACCEPT_LANGUAGE="en",
    )

    assert (response.status_code, response.json()) == (400, INVALID_OTP_EN)
    citizen.refresh_from_db()
    other_citizen.refresh_from_db()
    assert (citizen.phone, other_citizen.phone) == ("+84912345678", "+84987654321")


def test_password_reset_answers_alike_for_known_and_unknown_numbers(client, citizen):
    # A password like the holder's name must not be refused for their number only: that would
    # tell a caller without the code that the number has an account.
    weak_for_the_holder = {"otp": "123456", "password": citizen.full_name}
    known = client.post(
        "/api/v1/auth/password/reset/", {"phone": citizen.phone, **weak_for_the_holder}
    )
    unknown = client.post(
        "/api/v1/auth/password/reset/", {"phone": NEW_PHONE, **weak_for_the_holder}
    )

    assert (known.status_code, known.json()) == (unknown.status_code, unknown.json())
    assert known.json() == INVALID_OTP_EN
