"""Who read whose personal data: officials' reads in the admin are logged, citizens see their rows
at me/access-log/, and officials see only their units' citizens, with the ID number masked."""

from __future__ import annotations

import importlib
from datetime import datetime

import pytest
from django.apps import apps as django_apps
from django.test import Client

from accounts.events import record_data_access
from accounts.models import AccessChannel, AccessPurpose, AccessResource, DataAccessLog, User
from tests.conftest import client_for

pytestmark = pytest.mark.django_db

URL = "/api/v1/me/access-log/"


@pytest.fixture
def citizen_with_id(citizen) -> User:
    User.objects.filter(pk=citizen.pk).update(
        national_id="020090001234", date_of_birth="1990-05-01", gender="male"
    )
    return citizen


def admin_client(user: User) -> Client:
    client = Client()
    client.force_login(user)
    return client


def change_page(citizen: User) -> str:
    return f"/admin/accounts/user/{citizen.pk}/change/"


def test_an_official_opening_a_citizen_in_the_admin_is_logged(citizen, official):
    response = admin_client(official).get(change_page(citizen))

    assert response.status_code == 200
    assert list(
        DataAccessLog.objects.values_list(
            "official", "subject", "resource", "object_id", "purpose", "channel"
        )
    ) == [(official.pk, citizen.pk, "profile", str(citizen.pk), "admin_view", "admin")]


def test_the_citizen_sees_who_read_their_data(
    citizen, citizen_client, official, django_assert_num_queries
):
    admin_client(official).get(change_page(citizen))
    read = DataAccessLog.objects.get()

    with django_assert_num_queries(2):  # the user of the token, the page of rows
        response = citizen_client.get(URL)

    assert response.status_code == 200
    body = response.json()
    entry = body["results"][0]
    assert datetime.fromisoformat(entry.pop("created_at")) == read.created_at
    assert body == {
        "next": None,
        "previous": None,
        "results": [
            {
                "id": read.pk,
                "official_name": "Lý Thị Cán Bộ",
                "official_title": "Công chức một cửa",
                "resource": "profile",
                "purpose": "Xem trên trang quản trị",
                "channel": "admin",
            }
        ],
    }


def test_the_access_log_list_has_a_fixed_query_count(
    citizen, citizen_client, official, province_admin, django_assert_num_queries
):
    superuser = User.objects.create_superuser("+84900000099", "Quản-trị-viên-2026")
    for reader in (official, province_admin, superuser, official):
        record_data_access(
            official=reader,
            subject=citizen,
            resource=AccessResource.PROFILE,
            purpose=AccessPurpose.ADMIN_VIEW,
            channel=AccessChannel.API,
        )

    with django_assert_num_queries(2):
        response = citizen_client.get(URL)

    results = response.json()["results"]
    assert [(r["official_name"], r["official_title"]) for r in results] == [
        ("Lý Thị Cán Bộ", "Công chức một cửa"),
        ("", ""),  # a superuser without an official profile
        ("Vi Văn Tỉnh", ""),
        ("Lý Thị Cán Bộ", "Công chức một cửa"),
    ]


def test_a_citizen_sees_only_their_own_rows(citizen, other_citizen_client, official):
    admin_client(official).get(change_page(citizen))

    response = other_citizen_client.get(URL)

    assert (response.status_code, response.json()["results"]) == (200, [])


def test_an_official_of_another_ward_cannot_open_the_citizen(citizen_with_id, other_official):
    client = admin_client(other_official)

    response = client.get(change_page(citizen_with_id))

    assert (response.status_code, response["Location"]) == (302, "/admin/")
    assert "020090001234" not in client.get("/admin/").content.decode()
    assert DataAccessLog.objects.count() == 0


def test_the_changelist_of_another_wards_official_does_not_list_the_citizen(
    citizen, other_citizen, other_official
):
    response = admin_client(other_official).get("/admin/accounts/user/")

    assert response.status_code == 200
    listed = [user.pk for user in response.context["cl"].result_list]
    assert listed == [other_citizen.pk]


def test_a_citizen_cannot_open_the_admin(citizen_with_id, other_citizen):
    response = admin_client(other_citizen).get(change_page(citizen_with_id))

    assert response.status_code == 302
    assert response["Location"].startswith("/admin/login/")
    assert DataAccessLog.objects.count() == 0


def test_an_official_sees_the_id_number_and_phone_masked(citizen_with_id, official):
    html = admin_client(official).get(change_page(citizen_with_id)).content.decode()

    assert "020*******34" in html
    assert "020090001234" not in html
    assert "+849*****678" in html
    assert "912345678" not in html


def test_a_province_administrator_sees_the_id_number(citizen_with_id, province_admin):
    response = admin_client(province_admin).get(change_page(citizen_with_id))

    assert response.status_code == 200
    assert "020090001234" in response.content.decode()
    read = DataAccessLog.objects.get()
    assert (read.official, read.subject, read.channel) == (province_admin, citizen_with_id, "admin")


def test_an_official_cannot_change_a_citizen_in_the_admin(citizen, official):
    response = admin_client(official).post(change_page(citizen), {"full_name": "Đổi tên"})

    assert response.status_code == 403
    citizen.refresh_from_db()
    assert citizen.full_name == "Nguyễn Văn An"
    assert DataAccessLog.objects.count() == 0


# --- purposes: codes stored, labels shown in the reader's language -----------------------------


@pytest.mark.parametrize(
    ("accept_language", "label"),
    [(None, "Xem trên trang quản trị"), ("en", "Viewed in the administration site")],
)
def test_the_purpose_is_shown_in_the_readers_language(citizen, official, accept_language, label):
    # The official works in Vietnamese; the citizen reads in their own language.
    reader = Client(HTTP_ACCEPT_LANGUAGE="vi")
    reader.force_login(official)
    reader.get(change_page(citizen))
    client = client_for(citizen)
    headers = {"HTTP_ACCEPT_LANGUAGE": accept_language} if accept_language else {}

    listed = client.get(URL, **headers).json()["results"]
    exported = client.get("/api/v1/me/export/", **headers).json()["access_log"]

    assert DataAccessLog.objects.get().purpose == "admin_view"
    assert [row["purpose"] for row in listed] == [label]
    assert [row["purpose"] for row in exported] == [label]


def legacy_row(official: User, citizen: User, purpose: str) -> DataAccessLog:
    """A row written before the purposes were codes (the write path no longer allows it)."""
    return DataAccessLog.objects.create(
        official=official, subject=citizen, resource="profile", purpose=purpose, channel="api"
    )


def test_a_row_written_before_the_codes_shows_its_text(citizen, official, province_admin):
    legacy_row(official, citizen, "Tiếp nhận hồ sơ")

    listed = client_for(citizen).get(URL, HTTP_ACCEPT_LANGUAGE="en").json()["results"]
    exported = client_for(citizen).get("/api/v1/me/export/").json()["access_log"]
    audited = admin_client(province_admin).get("/admin/accounts/dataaccesslog/")

    assert [row["purpose"] for row in listed] == ["Tiếp nhận hồ sơ"]
    assert [row["purpose"] for row in exported] == ["Tiếp nhận hồ sơ"]
    assert "Tiếp nhận hồ sơ" in audited.content.decode()


def test_the_admin_list_shows_the_purpose_in_the_officials_language(citizen, official):
    admin_client(official).get(change_page(citizen))
    superuser = User.objects.create_superuser("+84900000099", "Quản-trị-viên-2026")
    client = Client(HTTP_ACCEPT_LANGUAGE="en")
    client.force_login(superuser)

    page = client.get("/admin/accounts/dataaccesslog/").content.decode()

    assert "Viewed in the administration site" in page


def test_a_purpose_outside_the_codes_is_refused(citizen, official):
    with pytest.raises(ValueError):
        record_data_access(
            official=official,
            subject=citizen,
            resource=AccessResource.PROFILE,
            purpose="Tiếp nhận hồ sơ",
        )

    assert DataAccessLog.objects.count() == 0


def test_a_read_of_ones_own_data_is_not_logged(official):
    read = record_data_access(
        official=official,
        subject=official,
        resource=AccessResource.PROFILE,
        purpose=AccessPurpose.ADMIN_VIEW,
    )

    assert read is None
    assert DataAccessLog.objects.count() == 0


def test_the_migration_turns_the_known_texts_into_codes(citizen, official):
    migration = importlib.import_module(
        "accounts.migrations.0002_access_log_codes_and_accountless_members"
    )
    texts = [
        "Viewed in the administration site",
        "Xem trên trang quản trị",
        "household verification",
        "Tiếp nhận hồ sơ",
    ]
    rows = [legacy_row(official, citizen, text) for text in texts]

    migration.texts_to_codes(django_apps, None)

    assert [DataAccessLog.objects.get(pk=row.pk).purpose for row in rows] == [
        "admin_view",
        "admin_view",
        "household_verification",
        "Tiếp nhận hồ sơ",  # unknown: kept, and shown as it is
    ]


def test_the_citizens_list_in_the_admin_logs_each_person_listed(citizen, other_citizen, official):
    DataAccessLog.objects.all().delete()

    response = admin_client(official).get("/admin/accounts/user/")

    listed = {user.pk for user in response.context["cl"].result_list}
    assert citizen.pk in listed
    assert set(
        DataAccessLog.objects.values_list("official_id", "subject_id", "channel", "purpose")
    ) == {(official.pk, pk, "admin", "admin_view") for pk in listed - {official.pk}}
