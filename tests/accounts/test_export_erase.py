"""me/export/ gives every piece of personal data held; DELETE me/ erases or de-identifies it."""

from __future__ import annotations

from datetime import date, time

import pytest
from django.utils.timezone import localtime
from rest_framework.test import APIClient

from accounts.events import record_data_access
from accounts.models import (
    AccessChannel,
    AccessPurpose,
    AccessResource,
    DataAccessLog,
    Device,
    OtpChallenge,
    User,
)
from notifications.actions import notification_preferences_update, notify
from notifications.models import (
    Category,
    Delivery,
    Notification,
    NotificationPreference,
    SmsMessage,
)
from tests.factories import DeviceFactory
from tests.notifications.text_events import text_event

pytestmark = pytest.mark.django_db


@pytest.fixture
def otp_code(citizen, other_citizen, request_otp) -> str:
    """A login code texted to the citizen (and one to the other citizen, which must stay out)."""
    code = request_otp(citizen.phone, "login")
    request_otp(other_citizen.phone, "login")
    return code


@pytest.fixture
def citizen_data(citizen, other_citizen, official, otp_code) -> dict:
    User.objects.filter(pk=citizen.pk).update(
        date_of_birth=date(1990, 5, 1),
        gender="male",
        national_id="020090001234",
        email="an@example.vn",
    )
    DeviceFactory(user=other_citizen)
    for user, title in ((citizen, "Hồ sơ H20.6040-260302-0001 cần bổ sung"), (other_citizen, "x")):
        notify(
            users=[user],
            event=text_event(Category.DOSSIER),
            key="dossier:H20.6040-260302-0001:event:3",
            context={"title": title, "body": "Đề nghị bổ sung hồ sơ: bản sao CCCD"},
            data={"dossier": "H20.6040-260302-0001", "status": 5},
        )
    notification_preferences_update(
        user=citizen,
        quiet_hours={"start": time(22, 0), "end": time(6, 0)},
        channels={"dossier": {"sms": False}},
    )
    return {
        "device": DeviceFactory(user=citizen, token="fcm-token-of-an"),
        "read": record_data_access(
            official=official,
            subject=citizen,
            resource=AccessResource.PROFILE,
            purpose=AccessPurpose.ADMIN_VIEW,
            channel=AccessChannel.ADMIN,
        ),
    }


def test_export_holds_every_piece_of_my_data(citizen, citizen_client, citizen_data, otp_code):
    response = citizen_client.get("/api/v1/me/export/")

    assert response.status_code == 200
    citizen.refresh_from_db()
    device = Device.objects.get(user=citizen)
    challenge = OtpChallenge.objects.get(phone=citizen.phone)
    sms = SmsMessage.objects.get(phone=citizen.phone)
    read = DataAccessLog.objects.get()
    assert response.json() == {
        "profile": {
            "id": citizen.pk,
            "phone": "+84912345678",
            "full_name": "Nguyễn Văn An",
            "date_of_birth": "1990-05-01",
            "gender": "male",
            "national_id": "020090001234",
            "email": "an@example.vn",
            "language": "vi",
            "ward": 6040,
            "date_joined": localtime(citizen.date_joined).isoformat(),
            "last_login": None,
        },
        "devices": [
            {
                "id": device.pk,
                "platform": "android",
                "token": "fcm-token-of-an",
                "app_version": "1.0.0",
                "created_at": localtime(device.created_at).isoformat(),
            }
        ],
        "otp_requests": [
            {
                "purpose": "login",
                "created_at": localtime(challenge.created_at).isoformat(),
                "used": False,
            }
        ],
        "sms": [
            {
                "id": str(sms.id),
                "purpose": "otp:login",
                "status": "sent",
                "text": "",
                "created_at": localtime(sms.created_at).isoformat(),
                "sent_at": localtime(sms.sent_at).isoformat(),
            }
        ],
        "notifications": [
            {
                "category": "dossier",
                "title": "Hồ sơ H20.6040-260302-0001 cần bổ sung",
                "body": "Đề nghị bổ sung hồ sơ: bản sao CCCD",
                "data": {"dossier": "H20.6040-260302-0001", "status": 5},
                "created_at": localtime(
                    Notification.objects.get(user=citizen).created_at
                ).isoformat(),
                "read_at": None,
                # Written before the citizen registered a device: the inbox only.
                "deliveries": [],
            }
        ],
        "notification_preferences": {
            "language": "vi",
            "quiet_hours": {"start": "22:00", "end": "06:00"},
            "channels": {
                category: {
                    "push": True,
                    "sms": category != "dossier",
                    "email": True,
                }
                for category in (
                    "account",
                    "dossier",
                    "report",
                    "household",
                    "broadcast",
                    "emergency",
                )
            },
            "mandatory": ["account", "emergency"],
        },
        # No emergency was sent to them (test_broadcasts.py exports an answer).
        "check_ins": [],
        "households": {"memberships": [], "invitations_received": []},
        # tests/services/test_report_personal_data.py exports reports and follows.
        "field_reports": [],
        "followed_reports": [],
        "assistant": [],
        "access_log": [
            {
                "official": "Lý Thị Cán Bộ",
                "resource": "profile",
                "purpose": "Xem trên trang quản trị",  # the label, in the reader's language
                "channel": "admin",
                "at": localtime(read.created_at).isoformat(),
            }
        ],
    }
    assert otp_code not in response.content.decode()
    assert challenge.code_hash not in response.content.decode()


def test_export_is_only_ever_mine(other_citizen, other_citizen_client, citizen_data):
    response = other_citizen_client.get("/api/v1/me/export/")

    body = response.json()
    assert body["profile"]["id"] == other_citizen.pk
    assert [d["token"] for d in body["devices"]] == [Device.objects.get(user=other_citizen).token]
    assert [r["purpose"] for r in body["otp_requests"]] == ["login"]
    assert [m["purpose"] for m in body["sms"]] == ["otp:login"]
    assert body["access_log"] == []
    text = response.content.decode()
    assert "+84912345678" not in text
    assert "020090001234" not in text


def test_erase_my_account(citizen, other_citizen, password, login, as_bearer, citizen_data):
    tokens = login(citizen.phone, password)
    sms_count = SmsMessage.objects.count()

    response = as_bearer(tokens["access"]).delete("/api/v1/me/", {"password": password})

    assert (response.status_code, response.content) == (204, b"")
    erased = User.objects.get(pk=citizen.pk)
    assert {
        "phone": erased.phone,
        "full_name": erased.full_name,
        "date_of_birth": erased.date_of_birth,
        "gender": erased.gender,
        "national_id": erased.national_id,
        "email": erased.email,
        "ward": erased.ward,
        "is_active": erased.is_active,
        "usable_password": erased.has_usable_password(),
    } == {
        "phone": f"erased-{citizen.pk}",
        "full_name": "",
        "date_of_birth": None,
        "gender": "",
        "national_id": None,
        "email": "",
        "ward": None,
        "is_active": False,
        "usable_password": False,
    }
    assert erased.erased_at is not None
    # Logged out everywhere: the refresh token is dead and the access token refused.
    refresh = APIClient().post("/api/v1/auth/token/refresh/", {"refresh": tokens["refresh"]})
    assert (refresh.status_code, refresh.json()["code"]) == (401, "token_not_valid")
    me = as_bearer(tokens["access"]).get("/api/v1/me/")
    assert (me.status_code, me.json()["code"]) == (401, "user_inactive")
    # Deleted: devices and OTP rows. De-identified: messages. Kept: who read the data.
    assert Device.objects.filter(user=citizen).count() == 0
    assert OtpChallenge.objects.filter(phone="+84912345678").count() == 0
    assert SmsMessage.objects.count() == sms_count
    assert SmsMessage.objects.filter(phone="+84912345678").count() == 0
    assert SmsMessage.objects.filter(phone="", body="").count() == 1
    assert list(DataAccessLog.objects.values_list("subject_id", "resource")) == [
        (citizen.pk, "profile")
    ]
    # The inbox (it quotes the citizen's dossiers) is deleted, with its deliveries, and the
    # notification preferences.
    assert Notification.objects.filter(user=citizen).count() == 0
    assert NotificationPreference.objects.filter(user=citizen).count() == 0
    # Nobody else's data was touched (the other citizen's push delivery included).
    assert Notification.objects.filter(user=other_citizen).count() == 1
    assert list(Delivery.objects.values_list("notification__user_id", "channel")) == [
        (other_citizen.pk, "push")
    ]
    assert Device.objects.count() == 1
    assert OtpChallenge.objects.filter(phone="+84987654321").count() == 1
    assert SmsMessage.objects.filter(phone="+84987654321").count() == 1
    # The old number and password no longer open anything.
    old = APIClient().post("/api/v1/auth/token/", {"phone": "+84912345678", "password": password})
    assert (old.status_code, old.json()["code"]) == (401, "invalid_credentials")


def test_an_erased_number_can_register_again(citizen, citizen_client, password, request_otp):
    assert citizen_client.delete("/api/v1/me/", {"password": password}).status_code == 204

    code = request_otp("+84912345678", "register")
    response = APIClient().post(
        "/api/v1/auth/register/",
        {"phone": "+84912345678", "otp": code, "password": password, "full_name": "An mới"},
    )

    assert response.status_code == 201
    assert User.objects.get(phone="+84912345678").pk != citizen.pk


def test_erase_with_a_wrong_password_changes_nothing(
    citizen, password, login, as_bearer, citizen_data
):
    tokens = login(citizen.phone, password)
    before = User.objects.filter(pk=citizen.pk).values().get()

    response = as_bearer(tokens["access"]).delete(
        "/api/v1/me/", {"password": "Sai-mật-khẩu-2026"}, HTTP_ACCEPT_LANGUAGE="en"
    )

    assert response.status_code == 400
    assert response.json() == {
        "code": "invalid_password",
        "message": "The password is wrong.",
        "fields": {"password": ["The password is wrong."]},
    }
    assert User.objects.filter(pk=citizen.pk).values().get() == before
    assert Device.objects.filter(user=citizen).count() == 1
    assert OtpChallenge.objects.filter(phone=citizen.phone).count() == 1
    assert SmsMessage.objects.filter(phone=citizen.phone).count() == 1
    refresh = APIClient().post("/api/v1/auth/token/refresh/", {"refresh": tokens["refresh"]})
    assert refresh.status_code == 200


def test_erase_without_a_password_changes_nothing(citizen, citizen_client):
    before = User.objects.filter(pk=citizen.pk).values().get()

    response = citizen_client.delete("/api/v1/me/", {})

    assert response.status_code == 400
    assert list(response.json()["fields"]) == ["password"]
    assert User.objects.filter(pk=citizen.pk).values().get() == before
