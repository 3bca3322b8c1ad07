"""Files in the admin: a dossier's papers and a report's photos open in the browser from their
page (inline, never sniffed or cached, sandboxed), for officials of the unit only; opening a
dossier's paper is a read of the applicant's data, in the access log."""

from __future__ import annotations

from io import StringIO

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.test import Client

from accounts.models import DataAccessLog
from services.models import DossierAttachment, ReportPhoto
from tests.conftest import client_for
from tests.services.reports import submit as submit_report

pytestmark = pytest.mark.django_db

PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


@pytest.fixture(autouse=True)
def _media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path


@pytest.fixture
def attachment(citizen) -> DossierAttachment:
    call_command("load_demo_procedures", stdout=StringIO())
    client = client_for(citizen)
    code = client.post(
        "/api/v1/dossiers/",
        {"procedure": "1.004873", "unit": 6040, "form_data": {"purpose": "x"}},
        format="json",
    ).json()["code"]
    response = client.post(
        f"/api/v1/dossiers/{code}/attachments/",
        {"file": SimpleUploadedFile("giấy tờ.pdf", PDF, content_type="application/pdf")},
        format="multipart",
    )
    assert response.status_code == 201, response.content
    return DossierAttachment.objects.get()


def admin(user) -> Client:
    client = Client(HTTP_ACCEPT_LANGUAGE="en")
    client.force_login(user)
    return client


def test_an_official_of_the_unit_opens_a_dossiers_paper_and_the_read_is_logged(
    official, citizen, attachment
):
    page = admin(official).get(f"/admin/services/dossier/{attachment.dossier_id}/change/")
    url = f"/admin/services/dossier/{attachment.dossier_id}/files/{attachment.pk}/"
    assert url in page.content.decode()
    before = DataAccessLog.objects.count()

    response = admin(official).get(url)

    assert response.status_code == 200
    assert b"".join(response.streaming_content) == PDF
    assert response["Content-Type"] == "application/pdf"
    assert response["Content-Disposition"].startswith("inline")
    # The admin's own never_cache adds to ours.
    assert {"private", "no-store"} <= set(response["Cache-Control"].split(", "))
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Content-Security-Policy"] == "sandbox"
    assert DataAccessLog.objects.count() == before + 1
    row = DataAccessLog.objects.latest("id")
    assert (row.official_id, row.subject_id, row.channel, row.object_id) == (
        official.pk,
        citizen.pk,
        "admin",
        attachment.dossier.code,
    )


def test_an_official_of_another_unit_cannot_open_it(other_official, attachment):
    before = DataAccessLog.objects.count()

    response = admin(other_official).get(
        f"/admin/services/dossier/{attachment.dossier_id}/files/{attachment.pk}/"
    )

    assert response.status_code == 404
    assert DataAccessLog.objects.count() == before


def test_a_paper_of_another_dossier_is_not_found_through_this_one(official, citizen, attachment):
    before = DataAccessLog.objects.count()

    response = admin(official).get(
        f"/admin/services/dossier/{attachment.dossier_id}/files/{attachment.pk + 1}/"
    )

    assert response.status_code == 404
    assert DataAccessLog.objects.count() == before


def test_a_reports_photo_opens_for_the_unit_only(official, other_official, citizen, ward):
    report_id = submit_report(client_for(citizen), ward=6040)["id"]
    photo = ReportPhoto.objects.get(report_id=report_id)
    url = f"/admin/services/fieldreport/{report_id}/files/{photo.pk}/"
    assert (
        url
        in admin(official).get(f"/admin/services/fieldreport/{report_id}/change/").content.decode()
    )

    response = admin(official).get(url)

    assert response.status_code == 200
    assert response["Content-Type"] == "image/jpeg"
    assert b"".join(response.streaming_content)[:2] == b"\xff\xd8"
    assert admin(other_official).get(url).status_code == 404
