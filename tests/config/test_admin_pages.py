"""The dossier page and list at 1366×768: the declaration under its questions, the desk's fields
first, and no unit column for an official of one unit."""

from __future__ import annotations

from io import StringIO

import pytest
from django.core.management import call_command
from django.test import Client

from services.models import Dossier
from tests.conftest import client_for

pytestmark = pytest.mark.django_db


@pytest.fixture
def dossier(citizen) -> Dossier:
    call_command("load_demo_procedures", stdout=StringIO())
    response = client_for(citizen).post(
        "/api/v1/dossiers/",
        {"procedure": "1.004873", "unit": 6040, "form_data": {"purpose": "Đăng ký kết hôn"}},
        format="json",
    )
    assert response.status_code == 201, response.content
    return Dossier.objects.get()


def admin(user) -> Client:
    client = Client(HTTP_ACCEPT_LANGUAGE="vi")
    client.force_login(user)
    return client


def test_the_declaration_reads_as_questions_and_answers(official, dossier):
    page = admin(official).get(f"/admin/services/dossier/{dossier.pk}/change/").content.decode()

    title = dossier.procedure.form_schema["properties"]["purpose"]["title"]
    assert f"<dt>{title}</dt><dd>Đăng ký kết hôn</dd>" in page
    assert '{"purpose"' not in page


def test_the_desks_fields_come_before_the_folded_details(official, dossier):
    response = admin(official).get(f"/admin/services/dossier/{dossier.pk}/change/")

    fieldsets = [
        (fieldset.name, [line.fields[0] for line in fieldset])
        for fieldset in response.context["adminform"]
    ]
    assert fieldsets[0] == (
        None,
        ["code", "procedure", "unit", "applicant", "status", "appointment_date", "assignee"],
    )
    assert [name for name, _fields in fieldsets[1:]] == ["Tờ khai", "Thông tin khác"]


def test_an_official_of_one_unit_has_no_unit_column(official, province_admin, other_ward, dossier):
    one = admin(official).get("/admin/services/dossier/").context["cl"].list_display
    province = admin(province_admin).get("/admin/services/dossier/").context["cl"].list_display

    assert "unit" not in one
    assert "unit" in province
