"""Dossier submission at its edges: retries after the catalog changed, long keys, units outside
the deployment, the clock stopped while the dossier waits on the citizen."""

from __future__ import annotations

from datetime import timedelta
from io import StringIO

import pytest
from django.core.management import call_command
from django.utils import timezone

from digital_address.models import Province
from services.models import Dossier, DossierStatus, Procedure
from tests.conftest import client_for
from tests.factories import WardFactory

pytestmark = pytest.mark.django_db
URL = "/api/v1/dossiers/"
BODY = {"procedure": "1.004873", "unit": 6040, "form_data": {"purpose": "Kết hôn"}}


@pytest.fixture(autouse=True)
def _catalog():
    call_command("load_demo_procedures", stdout=StringIO())


def submit(user, body=BODY, **headers):
    return client_for(user).post(URL, body, format="json", HTTP_ACCEPT_LANGUAGE="en", **headers)


def test_a_retry_answers_its_dossier_even_after_the_procedure_was_withdrawn(citizen, ward):
    first = submit(citizen, HTTP_IDEMPOTENCY_KEY="a1")
    Procedure.objects.filter(code="1.004873").update(active=False)

    retry = submit(citizen, HTTP_IDEMPOTENCY_KEY="a1")

    assert (first.status_code, retry.status_code) == (201, 200)
    assert retry.json()["code"] == first.json()["code"]
    assert Dossier.objects.count() == 1


def test_an_over_long_key_is_refused_not_cut(citizen, ward):
    response = submit(citizen, HTTP_IDEMPOTENCY_KEY="k" * 101)

    assert (response.status_code, response.json()["fields"]) == (
        400,
        {"Idempotency-Key": ["An Idempotency-Key has at most 100 characters."]},
    )
    assert Dossier.objects.count() == 0


def test_a_unit_of_another_province_is_refused(citizen, ward):
    elsewhere = WardFactory(
        code=26734, province=Province.objects.create(code=79, name="TP Hồ Chí Minh")
    )

    response = submit(citizen, {**BODY, "unit": elsewhere.code})

    assert (response.status_code, list(response.json()["fields"])) == (400, ["unit"])
    assert Dossier.objects.count() == 0


@pytest.mark.parametrize(
    "waiting", [DossierStatus.SUPPLEMENT_REQUESTED, DossierStatus.FEE_REQUESTED]
)
def test_the_clock_is_stopped_while_waiting_on_the_citizen(citizen, ward, waiting):
    code = submit(citizen).json()["code"]
    long_ago = timezone.localdate() - timedelta(days=30)
    Dossier.objects.filter(code=code).update(status=waiting, appointment_date=long_ago)

    body = client_for(citizen).get(f"{URL}{code}/").json()

    assert (body["remaining_working_days"], body["overdue"]) == (None, False)
    Dossier.objects.filter(code=code).update(status=DossierStatus.PROCESSING)
    running = client_for(citizen).get(f"{URL}{code}/").json()
    assert running["overdue"] is True
    assert running["remaining_working_days"] < 0
