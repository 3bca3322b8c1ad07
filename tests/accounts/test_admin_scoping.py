"""The admin shows officials only their units' rows, and never lets a masked number be confirmed
by searching for it."""

from __future__ import annotations

import pytest
from django.test import Client

from accounts.events import record_data_access
from accounts.models import AccessPurpose, AccessResource, User
from notifications.models import SmsMessage
from tests.factories import ProvinceFactory, WardFactory

pytestmark = pytest.mark.django_db

USERS = "/admin/accounts/user/"


def admin_client(user: User) -> Client:
    client = Client(HTTP_ACCEPT_LANGUAGE="en")
    client.force_login(user)
    return client


def listed(response) -> list[int]:
    return [obj.pk for obj in response.context["cl"].result_list]


def test_an_official_cannot_find_a_citizen_by_phone_number(citizen, official):
    client = admin_client(official)

    assert listed(client.get(USERS, {"q": citizen.phone})) == []
    assert listed(client.get(USERS, {"q": "0912345678"})) == []
    assert listed(client.get(USERS, {"q": "Nguyễn Văn An"})) == [citizen.pk]


def test_a_province_administrator_finds_a_citizen_by_the_number_as_typed(
    citizen, other_citizen, province_admin
):
    client = admin_client(province_admin)

    assert listed(client.get(USERS, {"q": "0912 345 678"})) == [citizen.pk]
    assert listed(client.get(USERS, {"q": "+84912345678"})) == [citizen.pk]


def test_officials_see_only_their_own_units(ward, other_ward, official, province_admin):
    elsewhere = WardFactory(code=1, name="Phường Hoàn Kiếm", province=ProvinceFactory(code=1))

    response = admin_client(official).get("/admin/digital_address/ward/")
    assert listed(response) == [ward.code]
    assert (
        admin_client(official)
        .get(f"/admin/digital_address/ward/{other_ward.code}/change/")["Location"]
        .startswith("/admin/")
    )

    response = admin_client(province_admin).get("/admin/digital_address/ward/")
    assert sorted(listed(response)) == sorted([ward.code, other_ward.code])
    assert elsewhere.code not in listed(response)


def test_the_access_log_is_scoped_to_the_administrators_province(citizen, official, province_admin):
    outside = User.objects.create_user(
        "+84977000001",
        "Mật-khẩu-đủ-dài-2026",
        full_name="Ngoài Tỉnh",
        ward=WardFactory(code=2, province=ProvinceFactory(code=1, name="Hà Nội")),
    )
    read = {"resource": AccessResource.PROFILE, "purpose": AccessPurpose.ADMIN_VIEW}
    inside = record_data_access(official=official, subject=citizen, **read)
    record_data_access(official=official, subject=outside, **read)

    response = admin_client(province_admin).get("/admin/accounts/dataaccesslog/")

    assert listed(response) == [inside.pk]


def test_sms_records_are_for_technical_administrators_only(province_admin, official):
    SmsMessage.objects.create(phone="+84912345678", body="x", purpose="test")

    for user in (province_admin, official):
        assert admin_client(user).get("/admin/notifications/smsmessage/").status_code == 403


@pytest.mark.parametrize(
    "lookup",
    [
        {"phone": "+84912345678"},
        {"phone__startswith": "+849123"},
        {"national_id__startswith": "0200900012"},
        {"date_of_birth__year": "1990"},
    ],
)
def test_an_official_cannot_filter_on_masked_fields_through_the_url(citizen, official, lookup):
    User.objects.filter(pk=citizen.pk).update(
        national_id="020090001234", date_of_birth="1990-05-01"
    )

    response = admin_client(official).get(USERS, lookup)

    assert response.status_code == 400


def test_an_official_may_use_the_list_filters(citizen, official):
    response = admin_client(official).get(USERS, {"is_active__exact": "1"})

    assert listed(response) == [citizen.pk]


def test_a_province_administrator_may_filter_on_the_number(citizen, province_admin):
    response = admin_client(province_admin).get(USERS, {"phone__startswith": "+849123"})

    assert listed(response) == [citizen.pk]
