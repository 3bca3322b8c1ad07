"""Files of a dossier (type by content, size and count limits, server-chosen names, no orphan
file) and the end of the road: the decision with its result document, and returning it."""

from __future__ import annotations

from io import StringIO
from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command

from accounts.actions.officials import official_create_or_update
from accounts.models import DataAccessLog, Role
from services.models import Dossier, DossierAttachment
from tests.conftest import client_for
from tests.factories import PASSWORD

pytestmark = pytest.mark.django_db
PDF = b"%PDF-1.4\n1 0 obj\n<<>>\nendobj\ntrailer\n<<>>\n%%EOF\n"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 32
EXE = b"MZ\x90\x00" + b"\x00" * 60


@pytest.fixture(autouse=True)
def _media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    call_command("load_demo_procedures", stdout=StringIO())
    return tmp_path


def stored_files(root: Path) -> list[Path]:
    return sorted(p for p in root.rglob("*") if p.is_file())


def submit(citizen) -> str:
    response = client_for(citizen).post(
        "/api/v1/dossiers/",
        {"procedure": "1.004873", "unit": 6040, "form_data": {"purpose": "x"}},
        format="json",
    )
    return response.json()["code"]


def upload(user, code, content=PDF, name="giấy tờ.pdf"):
    return client_for(user).post(
        f"/api/v1/dossiers/{code}/attachments/",
        {"file": SimpleUploadedFile(name, content, content_type="application/pdf")},
        format="multipart",
        HTTP_ACCEPT_LANGUAGE="en",
    )


def approver():
    return official_create_or_update(
        phone="+84900000077",
        full_name="Lãnh Đạo Xã",
        password=PASSWORD,
        roles=[Role.APPROVAL],
        unit_codes=[6040],
    )


def test_a_paper_is_stored_under_a_server_name_and_downloaded_as_sent(citizen, _media):
    code = submit(citizen)

    response = upload(citizen, code)

    assert response.status_code == 201, response.content
    body = response.json()
    assert (body["kind"], body["name"], body["content_type"], body["size"]) == (
        "citizen",
        "giấy tờ.pdf",
        "application/pdf",
        len(PDF),
    )
    [path] = stored_files(_media)
    assert path.suffix == ".pdf"
    assert "giấy" not in path.name
    detail = client_for(citizen).get(f"/api/v1/dossiers/{code}/").json()
    assert [a["id"] for a in detail["attachments"]] == [body["id"]]
    download = client_for(citizen).get(f"/api/v1/dossiers/{code}/attachments/{body['id']}/")
    assert download.status_code == 200
    assert b"".join(download.streaming_content) == PDF
    assert download["Content-Type"] == "application/pdf"
    assert download["Content-Disposition"].startswith("attachment;")
    assert download["Cache-Control"] == "private, no-store"


@pytest.mark.parametrize(
    ("content", "name"), [(EXE, "hoso.pdf"), (b"GIF89a" + b"\x00" * 10, "anh.png"), (b"", "x.pdf")]
)
def test_a_disguised_or_unsupported_type_is_refused(citizen, _media, content, name):
    code = submit(citizen)

    response = upload(citizen, code, content, name)

    assert response.status_code == 400
    assert response.json()["fields"] in (
        {"file": ["Only PDF, JPEG and PNG files are accepted."]},
        {"file": ["The submitted file is empty."]},
    )
    assert stored_files(_media) == []
    assert DossierAttachment.objects.count() == 0


def test_size_and_count_limits(citizen, _media, settings):
    code = submit(citizen)
    settings.ATTACHMENT_MAX_BYTES = 20

    big = upload(citizen, code)

    assert (big.status_code, big.json()["fields"]) == (
        400,
        {"file": ["A file may be at most 0 MB."]},
    )
    settings.ATTACHMENT_MAX_BYTES = 10 * 1024 * 1024
    settings.ATTACHMENT_MAX_COUNT = 1
    assert upload(citizen, code, PNG, "a.png").status_code == 201

    second = upload(citizen, code)

    assert (second.status_code, second.json()["fields"]) == (
        400,
        {"file": ["A dossier has at most 1 files."]},
    )
    # The refused file was stored, then removed again: only the first stays.
    assert len(stored_files(_media)) == 1
    assert DossierAttachment.objects.count() == 1


def test_papers_are_added_only_while_new_or_asked_for(citizen, official, _media):
    code = submit(citizen)
    client_for(official).post(f"/api/v1/official/dossiers/{code}/receive/")

    refused = upload(citizen, code)

    assert (refused.status_code, refused.json()["code"]) == (409, "invalid_transition")
    assert stored_files(_media) == []
    client_for(official).post(
        f"/api/v1/official/dossiers/{code}/request-supplement/", {"missing": "Bản sao CCCD"}
    )
    assert upload(citizen, code).status_code == 201


def test_nobody_else_sees_or_adds_the_files(citizen, other_citizen, other_official, _media):
    code = submit(citizen)
    attachment = upload(citizen, code).json()["id"]

    assert upload(other_citizen, code).status_code == 404
    assert (
        client_for(other_citizen).get(f"/api/v1/dossiers/{code}/attachments/{attachment}/")
    ).status_code == 404
    assert (
        client_for(other_official).get(
            f"/api/v1/official/dossiers/{code}/attachments/{attachment}/"
        )
    ).status_code == 404
    assert DossierAttachment.objects.count() == 1
    assert DataAccessLog.objects.count() == 0


def test_an_official_of_the_unit_downloads_and_the_read_is_logged(citizen, official, _media):
    code = submit(citizen)
    attachment = upload(citizen, code).json()["id"]

    response = client_for(official).get(
        f"/api/v1/official/dossiers/{code}/attachments/{attachment}/"
    )

    assert response.status_code == 200
    assert b"".join(response.streaming_content) == PDF
    assert list(
        DataAccessLog.objects.values_list("official", "subject", "resource", "object_id")
    ) == [(official.pk, citizen.pk, "dossier", code)]


def test_the_leader_decides_with_the_result_and_the_desk_returns_it(citizen, official, _media):
    code = submit(citizen)
    client_for(official).post(f"/api/v1/official/dossiers/{code}/receive/")
    leader = approver()

    # The desk and processing roles do not decide.
    assert (
        client_for(official).post(
            f"/api/v1/official/dossiers/{code}/decide/", {"outcome": "approved"}
        )
    ).status_code == 404
    decided = client_for(leader).post(
        f"/api/v1/official/dossiers/{code}/decide/",
        {
            "outcome": "approved",
            "note": "Đủ điều kiện",
            "result": SimpleUploadedFile("giay-xac-nhan.pdf", PDF),
        },
        format="multipart",
    )

    assert decided.status_code == 200, decided.content
    body = decided.json()
    assert (body["status"], body["outcome"]) == (9, "approved")
    assert [(a["kind"], a["name"]) for a in body["attachments"]] == [
        ("result", "giay-xac-nhan.pdf")
    ]
    returned = client_for(official).post(f"/api/v1/official/dossiers/{code}/return/")
    assert (returned.status_code, returned.json()["status"]) == (200, 10)
    result_id = body["attachments"][0]["id"]
    mine = client_for(citizen).get(f"/api/v1/dossiers/{code}/attachments/{result_id}/")
    assert b"".join(mine.streaming_content) == PDF


def test_a_rejection_needs_its_reason_and_a_bad_result_file_leaves_nothing(
    citizen, official, _media
):
    code = submit(citizen)
    client_for(official).post(f"/api/v1/official/dossiers/{code}/receive/")
    leader = approver()
    url = f"/api/v1/official/dossiers/{code}/decide/"

    no_reason = client_for(leader).post(url, {"outcome": "rejected"}, HTTP_ACCEPT_LANGUAGE="en")
    bad_file = client_for(leader).post(
        url,
        {"outcome": "approved", "result": SimpleUploadedFile("x.pdf", EXE)},
        format="multipart",
    )

    assert (no_reason.status_code, no_reason.json()["fields"]) == (
        400,
        {"note": ["Give the reason for the rejection."]},
    )
    assert bad_file.status_code == 400
    assert Dossier.objects.get(code=code).status == 4
    assert stored_files(_media) == []


def test_a_decision_refused_by_the_rules_leaves_no_file(citizen, official, _media):
    code = submit(citizen)  # still 1: cannot be decided
    leader = approver()

    response = client_for(leader).post(
        f"/api/v1/official/dossiers/{code}/decide/",
        {"outcome": "approved", "result": SimpleUploadedFile("kq.pdf", PDF)},
        format="multipart",
    )

    assert (response.status_code, response.json()["code"]) == (409, "invalid_transition")
    assert stored_files(_media) == []
    assert DossierAttachment.objects.count() == 0
