"""The citizen ID number (CCCD): 12 digits; province of birth registration, gender and century,
birth year. Checked against the profile's date of birth and gender; unique; masked for others."""

from __future__ import annotations

from datetime import date

import pytest
from django.utils import translation

from accounts.models import User
from accounts.national_id import mask_national_id, national_id_errors
from tests.factories import UserFactory

LENGTH = "A citizen ID number has exactly 12 digits."
DIGITS = "A citizen ID number contains digits only."
PROVINCE = "The first three digits are not a province code."
GENDER = "The fourth digit does not match the gender."
CENTURY = "The fourth digit does not match the century of the date of birth."
YEAR = "Digits 5 and 6 do not match the year of birth."
TAKEN = "This citizen ID number is already used by another account."

VALID = [
    # number, date of birth, gender
    ("020090001234", date(1990, 5, 1), "male"),  # Lạng Sơn, 0 = male 1900s, born '90
    ("020303001234", date(2003, 2, 14), "female"),  # 3 = female 2000s, born '03
    ("001185000123", date(1985, 12, 31), "female"),  # Hà Nội, 1 = female 1900s
    ("079205001234", date(2005, 1, 1), "male"),  # Hồ Chí Minh City, 2 = male 2000s
    ("096100000001", date(1900, 1, 1), "female"),  # Cà Mau, 1 = female 1900s, born 1900
    ("020090001234", None, ""),  # nothing to compare with yet: structure only
]

INVALID = [
    # number, date of birth, gender, errors
    ("02009000123", date(1990, 5, 1), "male", [LENGTH]),
    ("0200900012345", date(1990, 5, 1), "male", [LENGTH]),
    ("", None, "", [LENGTH]),
    ("02009000123A", date(1990, 5, 1), "male", [DIGITS]),
    ("020 90001234", date(1990, 5, 1), "male", [DIGITS]),
    ("٠٢٠٠٩٠٠٠١٢٣٤", date(1990, 5, 1), "male", [DIGITS]),  # Arabic-Indic digits
    ("003090001234", date(1990, 5, 1), "male", [PROVINCE]),  # 003 is no province
    ("020090001234", date(1990, 5, 1), "female", [GENDER]),
    ("020190001234", None, "male", [GENDER]),
    ("020290001234", date(1990, 5, 1), "male", [CENTURY]),  # 2 = 2000s
    ("020091001234", date(1990, 5, 1), "male", [YEAR]),
    # 8/9 are the 24th century (Circular 07/2016/TT-BCA art. 7), not the 19th.
    ("096999000001", date(1899, 7, 1), "female", [CENTURY]),
    ("003391001234", date(1990, 5, 1), "male", [PROVINCE, GENDER, CENTURY, YEAR]),
]


@pytest.mark.parametrize(("number", "born", "gender"), VALID)
def test_valid_numbers(number, born, gender):
    assert national_id_errors(number, date_of_birth=born, gender=gender) == []


@pytest.mark.parametrize(("number", "born", "gender", "errors"), INVALID)
def test_invalid_numbers(number, born, gender, errors):
    with translation.override("en"):
        assert national_id_errors(number, date_of_birth=born, gender=gender) == errors


def test_masking():
    assert mask_national_id("020090001234") == "020*******34"
    assert mask_national_id(None) == ""
    assert mask_national_id("") == ""


# --- Through the API --------------------------------------------------------------------------


def row(user: User) -> dict:
    return User.objects.filter(pk=user.pk).values().get()


def patch(client, data: dict):
    return client.patch("/api/v1/me/", data, HTTP_ACCEPT_LANGUAGE="en")


@pytest.mark.django_db
@pytest.mark.parametrize(("number", "born", "gender"), VALID)
def test_valid_numbers_are_saved(citizen, citizen_client, number, born, gender):
    response = patch(
        citizen_client,
        {
            "national_id": number,
            "date_of_birth": born.isoformat() if born else None,
            "gender": gender,
        },
    )

    assert response.status_code == 200, response.content
    assert response.json()["national_id"] == number
    assert row(citizen)["national_id"] == number


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("number", "born", "gender", "errors"),
    [case for case in INVALID if 0 < len(case[0]) <= 12],
)
def test_invalid_numbers_are_refused(citizen, citizen_client, number, born, gender, errors):
    before = row(citizen)

    response = patch(
        citizen_client,
        {
            "national_id": number,
            "date_of_birth": born.isoformat() if born else None,
            "gender": gender,
        },
    )

    assert response.status_code == 400
    assert response.json() == {
        "code": "invalid",
        "message": errors[0],
        "fields": {"national_id": errors},
    }
    assert row(citizen) == before


@pytest.mark.django_db
def test_a_number_longer_than_12_characters_is_refused(citizen, citizen_client):
    before = row(citizen)

    response = patch(citizen_client, {"national_id": "0200900012345"})

    assert response.status_code == 400
    assert response.json()["fields"] == {
        "national_id": ["Ensure this field has no more than 12 characters."]
    }
    assert row(citizen) == before


@pytest.mark.django_db
def test_the_number_is_checked_against_the_stored_birth_date_and_gender(citizen, citizen_client):
    response = patch(citizen_client, {"date_of_birth": "1990-05-01", "gender": "male"})
    assert response.status_code == 200

    response = patch(citizen_client, {"national_id": "020291001234"})

    assert response.status_code == 400
    assert response.json()["fields"] == {"national_id": [CENTURY, YEAR]}
    assert row(citizen)["national_id"] is None


@pytest.mark.django_db
def test_changing_the_birth_date_must_keep_the_stored_number_consistent(citizen, citizen_client):
    response = patch(
        citizen_client,
        {"national_id": "020090001234", "date_of_birth": "1990-05-01", "gender": "male"},
    )
    assert response.status_code == 200
    before = row(citizen)

    response = patch(citizen_client, {"date_of_birth": "1991-05-01"})
    assert response.status_code == 400
    assert response.json()["fields"] == {"national_id": [YEAR]}
    response = patch(citizen_client, {"gender": "female"})
    assert response.status_code == 400
    assert response.json()["fields"] == {"national_id": [GENDER]}
    assert row(citizen) == before


@pytest.mark.django_db
def test_an_empty_number_clears_it(citizen, citizen_client):
    User.objects.filter(pk=citizen.pk).update(national_id="020090001234")

    response = patch(citizen_client, {"national_id": ""})

    assert response.status_code == 200
    assert response.json()["national_id"] is None
    assert row(citizen)["national_id"] is None


@pytest.mark.django_db
def test_a_number_belongs_to_one_account(citizen, citizen_client):
    UserFactory(national_id="020090001234")
    before = row(citizen)

    response = patch(citizen_client, {"national_id": "020090001234"})

    assert response.status_code == 400
    assert response.json() == {
        "code": "invalid",
        "message": TAKEN,
        "fields": {"national_id": [TAKEN]},
    }
    assert row(citizen) == before
    assert User.objects.filter(national_id="020090001234").count() == 1


@pytest.mark.django_db
def test_saving_ones_own_number_again_is_fine(citizen, citizen_client):
    User.objects.filter(pk=citizen.pk).update(national_id="020090001234")

    response = patch(citizen_client, {"national_id": "020090001234", "full_name": "An"})

    assert response.status_code == 200
    assert (row(citizen)["national_id"], row(citizen)["full_name"]) == ("020090001234", "An")
