"""The API root the README and scripts/run point at, and the site root."""

from __future__ import annotations

import pytest


@pytest.mark.parametrize("language", ["vi", "en"])
def test_api_root_answers_without_login(client, language):
    response = client.get("/api/v1/", headers={"Accept-Language": language})

    assert response.status_code == 200
    assert response["Content-Type"] == "application/json"
    assert response.json() == {
        "name": "Công dân số API",
        "version": "1",
        "docs": "/api/docs/",
        "schema": "/api/schema/",
    }


def test_api_root_is_in_the_openapi_schema(client):
    schema = client.get("/api/schema/", {"format": "json"}).json()

    operation = schema["paths"]["/api/v1/"]["get"]
    assert operation["operationId"] == "api_root"
    assert operation["security"] == [{}]
    assert operation["responses"]["200"]["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/ApiRoot"
    }
    assert schema["components"]["schemas"]["ApiRoot"]["required"] == [
        "docs",
        "name",
        "schema",
        "version",
    ]
    assert sorted(operation["responses"]) == ["200"]


def test_site_root_redirects_to_swagger_ui(client):
    response = client.get("/")

    assert response.status_code == 302
    assert response["Location"] == "/api/docs/"
