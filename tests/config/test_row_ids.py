"""A row's id in a URL is at most 18 digits (config.converters.RowId): a longer number matches
no URL, a JSON 404, instead of overflowing the database driver (a 500 it used to be)."""

from __future__ import annotations

import pytest
from rest_framework.test import APIClient

pytestmark = pytest.mark.django_db

TOO_LONG = "8041913268115519939018752"
NOT_FOUND_EN = {"code": "not_found", "message": "Not found.", "fields": {}}


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("post", f"/api/v1/broadcasts/{TOO_LONG}/check-in/"),
        ("get", f"/api/v1/reports/{TOO_LONG}/"),
        ("post", f"/api/v1/assistant/turns/{TOO_LONG}/feedback/"),
    ],
)
def test_an_id_longer_than_a_64_bit_key_is_not_found(method, path, citizen):
    client = APIClient()
    client.force_authenticate(citizen)

    response = getattr(client, method)(path, {}, format="json", HTTP_ACCEPT_LANGUAGE="en")

    assert response.status_code == 404
    assert response.json() == NOT_FOUND_EN


def test_the_largest_id_still_reaches_its_view():
    # The view answered (its own check of the body), not the URL resolver.
    response = APIClient().post(f"/api/v1/assistant/turns/{'9' * 18}/feedback/", {}, format="json")

    assert response.status_code == 400
    assert set(response.json()["fields"]) == {"conversation", "helpful"}
