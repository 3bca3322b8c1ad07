"""Nobody but me reaches my account: no token → 401 with the error body; another citizen's token
only ever reaches their own account."""

from __future__ import annotations

from datetime import timedelta

import pytest
from rest_framework.test import APIClient
from rest_framework_simplejwt.tokens import AccessToken

from accounts.events import record_data_access
from accounts.models import AccessPurpose, AccessResource, DataAccessLog, Device, User
from tests.factories import DeviceFactory

pytestmark = pytest.mark.django_db

PROTECTED = [
    ("get", "/api/v1/me/"),
    ("patch", "/api/v1/me/"),
    ("delete", "/api/v1/me/"),
    ("post", "/api/v1/me/phone/"),
    ("get", "/api/v1/me/export/"),
    ("get", "/api/v1/me/devices/"),
    ("post", "/api/v1/me/devices/"),
    ("delete", "/api/v1/me/devices/1/"),
    ("get", "/api/v1/me/access-log/"),
    ("post", "/api/v1/auth/logout/"),
]
NOT_AUTHENTICATED = {
    "code": "not_authenticated",
    "message": "Authentication credentials were not provided.",
    "fields": {},
}


def row(user: User) -> dict:
    return User.objects.filter(pk=user.pk).values().get()


@pytest.mark.parametrize(("method", "path"), PROTECTED)
def test_no_token_gets_401(citizen, method, path):
    device = DeviceFactory(user=citizen, pk=1)
    before = row(citizen)
    client = APIClient(HTTP_ACCEPT_LANGUAGE="en")

    response = getattr(client, method)(
        path, {"full_name": "X", "password": "x", "platform": "ios", "token": "t", "refresh": "r"}
    )

    assert (response.status_code, response.json()) == (401, NOT_AUTHENTICATED)
    assert response["WWW-Authenticate"] == 'Bearer realm="api"'
    assert row(citizen) == before
    assert list(Device.objects.all()) == [device]


@pytest.mark.parametrize(
    ("header", "code"),
    [
        ("Bearer not-a-token", "token_not_valid"),
        ("Bearer ", "bad_authorization_header"),
        ("Bearer two parts", "bad_authorization_header"),
        ("Token abc", "not_authenticated"),  # not our scheme: as if no header at all
    ],
)
def test_a_bad_authorization_header_gets_401(header, code):
    response = APIClient(HTTP_AUTHORIZATION=header).get("/api/v1/me/")

    assert response.status_code == 401
    assert (response.json()["code"], response.json()["fields"]) == (code, {})


def test_an_expired_access_token_gets_401(citizen):
    token = AccessToken.for_user(citizen)
    token.set_exp(lifetime=-timedelta(seconds=1))

    response = APIClient(HTTP_AUTHORIZATION=f"Bearer {token}").get("/api/v1/me/")

    assert (response.status_code, response.json()["code"]) == (401, "token_not_valid")


def test_a_refresh_token_is_no_access_token(citizen, password, login):
    tokens = login(citizen.phone, password)

    response = APIClient(HTTP_AUTHORIZATION=f"Bearer {tokens['refresh']}").get("/api/v1/me/")

    assert (response.status_code, response.json()["code"]) == (401, "token_not_valid")


# --- Another citizen --------------------------------------------------------------------------


def test_another_citizens_patch_changes_only_their_own_account(
    citizen, other_citizen, other_citizen_client
):
    before = row(citizen)

    response = other_citizen_client.patch(
        "/api/v1/me/", {"id": citizen.pk, "phone": citizen.phone, "full_name": "Trần Thị Bình B"}
    )

    assert response.status_code == 200
    assert response.json()["id"] == other_citizen.pk
    assert row(citizen) == before
    assert row(other_citizen)["full_name"] == "Trần Thị Bình B"


def test_another_citizen_cannot_log_me_out(citizen, password, login, other_citizen_client):
    mine = login(citizen.phone, password)

    response = other_citizen_client.post(
        "/api/v1/auth/logout/", {"refresh": mine["refresh"]}, HTTP_ACCEPT_LANGUAGE="en"
    )

    assert response.status_code == 400
    assert response.json()["code"] == "token_not_valid"
    refresh = APIClient().post("/api/v1/auth/token/refresh/", {"refresh": mine["refresh"]})
    assert refresh.status_code == 200


def test_another_citizen_cannot_erase_me_with_my_password(
    citizen, other_citizen, password, other_citizen_client
):
    User.objects.filter(pk=other_citizen.pk).update(password="!")  # a different password
    mine, theirs = row(citizen), row(other_citizen)

    response = other_citizen_client.delete("/api/v1/me/", {"password": password})

    assert (response.status_code, response.json()["code"]) == (400, "invalid_password")
    assert (row(citizen), row(other_citizen)) == (mine, theirs)


def test_another_citizen_sees_none_of_my_devices_or_reads(citizen, official, other_citizen_client):
    DeviceFactory(user=citizen)
    record_data_access(
        official=official,
        subject=citizen,
        resource=AccessResource.PROFILE,
        purpose=AccessPurpose.ADMIN_VIEW,
    )
    assert DataAccessLog.objects.count() == 1

    assert other_citizen_client.get("/api/v1/me/devices/").json() == []
    assert other_citizen_client.get("/api/v1/me/access-log/").json()["results"] == []
