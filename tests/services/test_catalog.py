"""The procedure catalog: the demo loader, diacritics-insensitive search, the detail, the
admin's check of form schemas."""

from __future__ import annotations

from io import StringIO

import pytest
from django.core.exceptions import ValidationError
from django.core.management import call_command
from django.test import Client
from rest_framework.test import APIClient

from services.demo_catalog import PROCEDURES
from services.models import Procedure, RequiredDocument, validate_form_schema

pytestmark = pytest.mark.django_db
URL = "/api/v1/procedures/"


@pytest.fixture
def catalog() -> None:
    call_command("load_demo_procedures", stdout=StringIO())


def codes(response) -> list[str]:
    return [p["code"] for p in response.json()["results"]]


def test_the_demo_catalog_loads_once_and_again_without_duplicates():
    out = StringIO()
    call_command("load_demo_procedures", stdout=out)
    assert out.getvalue().strip() == f"Done: {len(PROCEDURES)} procedures created, 0 updated."
    documents = RequiredDocument.objects.count()

    again = StringIO()
    call_command("load_demo_procedures", stdout=again)

    assert again.getvalue().strip() == f"Done: 0 procedures created, {len(PROCEDURES)} updated."
    assert Procedure.objects.count() == len(PROCEDURES)
    assert RequiredDocument.objects.count() == documents


@pytest.mark.parametrize(
    ("search", "expected"),
    [
        ("khai sinh", ["1.000689", "1.001193", "1.004884"]),
        ("KHAI SINH", ["1.000689", "1.001193", "1.004884"]),
        ("đăng ký khai sinh", ["1.000689", "1.001193", "1.004884"]),
        ("ket hon", ["1.000894"]),
        ("tinh trang hon nhan", ["1.004873"]),
        ("chung thuc", ["2.000815", "2.000884"]),
        ("cư trú", ["1.004194", "1.004222"]),
        ("1.001193", ["1.001193"]),
        ("không có thủ tục này", []),
    ],
)
def test_search_ignores_case_and_diacritics(catalog, search, expected):
    response = APIClient().get(URL, {"search": search})

    assert response.status_code == 200
    assert codes(response) == expected


def test_filters_and_inactive_procedures(catalog):
    Procedure.objects.filter(code="1.004884").update(active=False)

    response = APIClient().get(URL, {"search": "khai sinh", "field": "Hộ tịch"})

    assert codes(response) == ["1.000689", "1.001193"]
    assert APIClient().get(f"{URL}1.004884/").status_code == 404
    bad = APIClient().get(URL, {"level": "district"}, HTTP_ACCEPT_LANGUAGE="en")
    assert (bad.status_code, list(bad.json()["fields"])) == (400, ["level"])


def test_the_list_costs_one_query(catalog, django_assert_num_queries):
    with django_assert_num_queries(1):
        response = APIClient().get(URL)

    assert len(response.json()["results"]) == len(PROCEDURES)


def test_a_procedure_in_detail(catalog, django_assert_num_queries):
    with django_assert_num_queries(2):
        response = APIClient().get(f"{URL}1.001193/")

    body = response.json()
    assert response.status_code == 200
    assert (body["name"], body["field"], body["level"], body["online_level"]) == (
        "Thủ tục đăng ký khai sinh",
        "Hộ tịch",
        "commune",
        "full",
    )
    assert (body["processing_time"], body["processing_unit"], body["fee"]) == (1, "days", 0)
    assert body["household_required"] is True
    assert [(d["name"], d["mandatory"], d["template"]) for d in body["documents"]][:2] == [
        ("Tờ khai đăng ký khai sinh theo mẫu", True, None),
        ("Giấy chứng sinh hoặc văn bản thay thế giấy chứng sinh", True, None),
    ]
    assert body["form_schema"]["required"][0] == "child_full_name"


def test_an_unknown_procedure_is_a_json_404():
    response = APIClient().get(f"{URL}9.999999/", HTTP_ACCEPT_LANGUAGE="en")

    assert (response.status_code, response.json()) == (
        404,
        {"code": "not_found", "message": "Not found.", "fields": {}},
    )


@pytest.mark.parametrize(
    "schema",
    [
        {"type": "object", "properties": {"a": {"type": "strin"}}},
        {"type": "array"},
        ["not", "an", "object"],
        {"type": "object", "required": "name"},
    ],
)
def test_a_broken_form_schema_is_refused(schema):
    with pytest.raises(ValidationError):
        validate_form_schema(schema)


def test_the_admin_refuses_a_broken_form_schema(province_admin, catalog):
    client = Client()
    client.force_login(province_admin)
    procedure = Procedure.objects.get(code="1.001193")

    response = client.post(
        f"/admin/services/procedure/{procedure.pk}/change/",
        {
            "code": procedure.code,
            "name": procedure.name,
            "field": procedure.field,
            "level": "commune",
            "online_level": "full",
            "active": "on",
            "processing_time": "1",
            "processing_unit": "days",
            "fee": "0",
            "form_schema": '{"type": "object", "properties": {"a": {"type": "strin"}}}',
            "documents-TOTAL_FORMS": "0",
            "documents-INITIAL_FORMS": "0",
        },
        HTTP_ACCEPT_LANGUAGE="en",
    )

    assert response.status_code == 200
    assert "This is not a valid JSON Schema" in response.content.decode()
    procedure.refresh_from_db()
    assert procedure.form_schema["required"][0] == "child_full_name"
