"""me/: read and update one's own profile."""

from __future__ import annotations

from datetime import date, datetime, timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from accounts.models import User

pytestmark = pytest.mark.django_db


def row(user: User) -> dict:
    return User.objects.filter(pk=user.pk).values().get()


def test_get_me(citizen, citizen_client):
    response = citizen_client.get("/api/v1/me/")

    assert response.status_code == 200
    body = response.json()
    assert datetime.fromisoformat(body.pop("date_joined")) == citizen.date_joined
    assert body == {
        "id": citizen.pk,
        "phone": "+84912345678",
        "full_name": "Nguyễn Văn An",
        "date_of_birth": None,
        "gender": "",
        "national_id": None,
        "email": "",
        "language": "vi",
        "ward": 6040,
        "is_official": False,
    }


def test_me_is_always_the_caller(citizen, other_citizen, other_citizen_client):
    response = other_citizen_client.get("/api/v1/me/", {"id": citizen.pk, "phone": citizen.phone})

    assert response.status_code == 200
    assert (response.json()["id"], response.json()["phone"]) == (other_citizen.pk, "+84987654321")
    assert citizen.phone not in response.content.decode()


def test_patch_me(citizen, citizen_client, other_ward):
    response = citizen_client.patch(
        "/api/v1/me/",
        {
            "full_name": "  Nguyễn Văn Bình ",
            "date_of_birth": "1990-05-01",
            "gender": "male",
            "national_id": "020090001234",
            "email": "binh@example.vn",
            "language": "en",
            "ward": other_ward.code,
        },
    )

    assert response.status_code == 200, response.content
    expected = {
        "full_name": "Nguyễn Văn Bình",
        "date_of_birth": date(1990, 5, 1),
        "gender": "male",
        "national_id": "020090001234",
        "email": "binh@example.vn",
        "language": "en",
        "ward_id": 6001,
    }
    assert {key: row(citizen)[key] for key in expected} == expected
    body = response.json()
    assert (body["full_name"], body["date_of_birth"], body["ward"]) == (
        "Nguyễn Văn Bình",
        "1990-05-01",
        6001,
    )


def test_patch_only_what_is_sent(citizen, citizen_client):
    before = row(citizen)

    response = citizen_client.patch("/api/v1/me/", {"email": "an@example.vn"})

    assert response.status_code == 200
    assert row(citizen) == {**before, "email": "an@example.vn"}


def test_patch_with_bad_input_names_every_field_and_changes_nothing(citizen, citizen_client):
    before = row(citizen)

    response = citizen_client.patch(
        "/api/v1/me/",
        {
            "full_name": "   ",
            "date_of_birth": "01/05/1990",
            "gender": "other",
            "email": "not-an-email",
            "language": "fr",
            "ward": 999999,
        },
        HTTP_ACCEPT_LANGUAGE="en",
    )

    assert response.status_code == 400
    body = response.json()
    assert (body["code"], body["message"]) == ("invalid", "Invalid input.")
    assert body["fields"] == {
        "full_name": ["Enter your full name."],
        "date_of_birth": ["Date has wrong format. Use one of these formats instead: YYYY-MM-DD."],
        "gender": ['"other" is not a valid choice.'],
        "email": ["Enter a valid email address."],
        "language": ['"fr" is not a valid choice.'],
        "ward": ['Invalid pk "999999" - object does not exist.'],
    }
    assert row(citizen) == before


def test_one_bad_field_keeps_the_good_ones_out_too(citizen, citizen_client):
    before = row(citizen)

    response = citizen_client.patch("/api/v1/me/", {"full_name": "Tên Mới", "national_id": "12345"})

    assert response.status_code == 400
    assert list(response.json()["fields"]) == ["national_id"]
    assert row(citizen) == before


def test_read_only_fields_are_ignored(citizen, citizen_client):
    before = row(citizen)

    response = citizen_client.patch(
        "/api/v1/me/",
        {
            "id": 999,
            "phone": "+84934567890",
            "is_official": True,
            "is_staff": True,
            "is_superuser": True,
            "is_active": False,
            "date_joined": "2000-01-01T00:00:00Z",
        },
    )

    assert response.status_code == 200
    assert row(citizen) == before


def test_a_json_body_that_is_not_an_object(citizen, citizen_client):
    before = row(citizen)

    response = citizen_client.patch("/api/v1/me/", ["full_name"])

    assert response.status_code == 400
    assert response.json()["code"] == "invalid"
    assert list(response.json()["fields"]) == ["non_field_errors"]
    assert row(citizen) == before


def test_a_date_of_birth_in_the_future_is_refused(citizen, citizen_client):
    from django.utils import timezone

    before = row(citizen)
    tomorrow = timezone.localdate() + timedelta(days=1)

    response = citizen_client.patch(
        "/api/v1/me/", {"date_of_birth": tomorrow.isoformat()}, HTTP_ACCEPT_LANGUAGE="en"
    )

    assert response.status_code == 400
    assert response.json()["fields"] == {
        "date_of_birth": ["The date of birth cannot be in the future."]
    }
    assert row(citizen) == before


def test_an_empty_patch_writes_nothing(citizen, citizen_client):
    with CaptureQueriesContext(connection) as queries:
        response = citizen_client.patch("/api/v1/me/", {})

    assert response.status_code == 200
    assert [q["sql"] for q in queries if q["sql"].startswith("UPDATE")] == []
