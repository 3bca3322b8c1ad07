"""Odd input and edge cases found in review: nothing reaches the database that it cannot store,
files of the leader are never refused for the citizen's, a date given is not moved by a later
change of the procedure."""

from __future__ import annotations

from io import StringIO

import pytest
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.utils import timezone

from accounts.actions.officials import official_create_or_update
from accounts.models import Role
from digital_address.models import Ward
from services.models import Dossier, DossierAttachment, PaymentReceipt, Procedure
from services.payments import FakePaymentProvider
from tests.conftest import client_for
from tests.factories import PASSWORD

pytestmark = pytest.mark.django_db
PDF = b"%PDF-1.4\n%%EOF\n"
URL = "/api/v1/dossiers/"


@pytest.fixture(autouse=True)
def _setup(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    call_command("load_demo_procedures", stdout=StringIO())
    FakePaymentProvider.reset()


def submit(citizen, form=None, procedure="1.004873"):
    return client_for(citizen).post(
        URL,
        {"procedure": procedure, "unit": 6040, "form_data": form or {"purpose": "x"}},
        format="json",
        HTTP_ACCEPT_LANGUAGE="en",
    )


@pytest.mark.parametrize(
    "path",
    [
        "/api/v1/track/a%00b/",
        "/api/v1/dossiers/a%00b/",
        "/api/v1/procedures/a%00b/",
        "/api/v1/official/dossiers/a%00b/",
    ],
)
def test_a_nul_in_a_code_is_a_json_404(path, citizen, official):
    response = client_for(official).get(path)

    assert (response.status_code, response.json()["code"]) == (404, "not_found")


def test_a_nul_in_the_procedure_or_the_search_is_bad_input(citizen, ward):
    body = submit(citizen, procedure="1.00\u00004873")
    search = client_for(citizen).get("/api/v1/procedures/", {"search": "khai\u0000sinh"})

    assert (body.status_code, list(body.json()["fields"])) == (400, ["procedure"])
    assert (search.status_code, list(search.json()["fields"])) == (400, ["search"])
    assert Dossier.objects.count() == 0


@pytest.mark.parametrize(
    ("form", "expected"),
    [
        ('{"purpose": "\\ud800"}', {"purpose": ["Enter a valid value."]}),
        ('{"purpose": "a\\u0000b"}', {"purpose": ["Enter a valid value."]}),
        ('{"pur\\u0000pose": "x"}', {"non_field_errors": ["Enter a valid value."]}),
    ],
)
def test_text_the_database_cannot_store_is_refused_per_field(citizen, ward, form, expected):
    # Sent as raw JSON escapes, as a phone would: a lone surrogate cannot even be encoded here.
    body = '{"procedure": "1.004873", "unit": 6040, "form_data": ' + form + "}"
    response = client_for(citizen).post(
        URL, body, content_type="application/json", HTTP_ACCEPT_LANGUAGE="en"
    )

    assert (response.status_code, response.json()["fields"]) == (400, {"form_data": expected})
    assert Dossier.objects.count() == 0


def test_a_deeply_nested_body_is_a_malformed_body_not_a_crash(citizen, ward):
    body = '{"procedure": "1.004873", "unit": 6040, "form_data": ' + "[" * 50000 + "]" * 50000 + "}"

    response = client_for(citizen).post(URL, body, content_type="application/json")

    assert (response.status_code, response.json()["code"]) == (400, "parse_error")


def test_the_result_document_is_not_refused_when_the_citizen_used_the_file_limit(
    citizen, official, settings
):
    settings.ATTACHMENT_MAX_COUNT = 1
    code = submit(citizen).json()["code"]
    client_for(citizen).post(
        f"{URL}{code}/attachments/",
        {"file": SimpleUploadedFile("a.pdf", PDF)},
        format="multipart",
    )
    client_for(official).post(f"/api/v1/official/dossiers/{code}/receive/")
    leader = official_create_or_update(
        phone="+84900000077",
        full_name="Lãnh Đạo",
        password=PASSWORD,
        roles=[Role.APPROVAL],
        unit_codes=[6040],
    )

    decided = client_for(leader).post(
        f"/api/v1/official/dossiers/{code}/decide/",
        {"outcome": "approved", "result": SimpleUploadedFile("kq.pdf", PDF)},
        format="multipart",
    )

    assert decided.status_code == 200, decided.content
    assert sorted(DossierAttachment.objects.values_list("kind", flat=True)) == [
        "citizen",
        "result",
    ]


def test_a_given_appointment_is_not_moved_by_a_later_change_of_the_procedure(citizen, official):
    code = submit(citizen).json()["code"]
    given = client_for(official).post(f"/api/v1/official/dossiers/{code}/receive/").json()
    Procedure.objects.filter(code="1.004873").update(processing_time=30)

    client_for(official).post(
        f"/api/v1/official/dossiers/{code}/request-supplement/", {"missing": "CCCD"}
    )
    answered = client_for(citizen).post(f"{URL}{code}/supplement/", {})

    # Asked and answered the same day: nothing waited, the date stays the one given.
    assert answered.json()["appointment_date"] == given["appointment_date"]


def test_a_payment_is_recorded_paid_and_applied(citizen, official):
    code = submit(citizen).json()["code"]
    client_for(official).post(f"/api/v1/official/dossiers/{code}/receive/")
    client_for(official).post(
        f"/api/v1/official/dossiers/{code}/request-fee/", {"amount": "5000", "note": "Lệ phí"}
    )

    paid = client_for(citizen).post(f"{URL}{code}/pay/")

    assert paid.json()["receipt"]["status"] == "paid"
    receipt = PaymentReceipt.objects.get()
    assert (receipt.status, receipt.applied_at is not None) == ("paid", True)
    assert receipt.applied_at <= timezone.now()


@pytest.mark.parametrize("code", ["H20/6040", "h20.6040", "H20 6040"])
def test_an_agency_code_that_would_break_dossier_codes_is_refused(ward, code):
    ward.agency_code = code

    with pytest.raises(ValidationError) as caught:
        ward.full_clean()

    assert list(caught.value.message_dict) == ["agency_code"]
    assert Ward.objects.get(code=6040).agency_code == "H20.6040"
