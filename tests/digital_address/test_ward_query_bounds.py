"""Found by the schemathesis run: a province number too large for the database (SQLite raised
OverflowError, a 500) is bad input."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("province", ["32768", str(2**70)])
def test_a_province_number_out_of_range_is_a_400(api_client, province):
    response = api_client.get(
        "/api/v1/admin-units/wards/", {"province": province}, HTTP_ACCEPT_LANGUAGE="en"
    )

    assert response.status_code == 400
    assert response.json() == {
        "code": "invalid",
        "message": "Invalid input.",
        "fields": {"province": ["Ensure this value is less than or equal to 32767."]},
    }


def test_the_largest_province_number_is_accepted(api_client):
    response = api_client.get("/api/v1/admin-units/wards/", {"province": "32767"})

    assert response.status_code == 200
    assert response.json() == {"next": None, "previous": None, "results": []}
