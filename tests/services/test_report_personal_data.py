"""A citizen's field reports and follows in their export, and what erasing the account does
to them."""

from __future__ import annotations

import pytest
from django.utils.timezone import localtime

from services.models import FieldReport, ReportFollower
from tests.conftest import client_for
from tests.services.reports import URL, reload, step, submit

pytestmark = pytest.mark.django_db


@pytest.fixture
def followed(other_citizen, official, citizen_client) -> dict:
    """A report of the other citizen, accepted, which the citizen follows."""
    report = submit(client_for(other_citizen), description="Cống thoát nước bị tắc.", ward=6040)
    assert step(client_for(official), report["id"], "accept").status_code == 200
    assert citizen_client.post(f"{URL}{report['id']}/follow/").status_code == 200
    return report


def test_export_lists_my_reports_and_what_i_follow(citizen, citizen_client, followed):
    mine = submit(citizen_client, anonymous="true", description="Rác đổ trộm ở bờ suối.", ward=6040)

    body = citizen_client.get("/api/v1/me/export/").json()

    report = FieldReport.objects.get(pk=mine["id"])
    assert body["field_reports"] == [
        {
            "id": report.pk,
            "category": "lighting",
            "description": "Rác đổ trộm ở bờ suối.",
            "anonymous": True,
            "latitude": "22.257000",
            "longitude": "106.474000",
            "unit": 6040,
            "status": "submitted",
            "satisfied": None,
            "created_at": localtime(report.created_at).isoformat(),
            "photos": [p["id"] for p in mine["photos"]],
        }
    ]
    assert body["followed_reports"] == [followed["id"]]


def test_the_other_citizen_export_holds_none_of_mine(citizen_client, other_citizen, followed):
    submit(citizen_client, ward=6040)

    body = client_for(other_citizen).get("/api/v1/me/export/").json()

    assert [r["id"] for r in body["field_reports"]] == [followed["id"]]
    assert body["followed_reports"] == []


def test_erasing_my_account_ends_my_follows_and_keeps_my_reports(
    citizen, citizen_client, password, followed
):
    mine = submit(citizen_client, ward=6040)
    assert reload(followed["id"]).followers_count == 1

    response = citizen_client.delete("/api/v1/me/", {"password": password})

    assert response.status_code == 204
    assert ReportFollower.objects.filter(user=citizen).count() == 0
    assert reload(followed["id"]).followers_count == 0
    kept = reload(mine["id"])
    assert (kept.reporter_id, kept.reporter.full_name, kept.reporter.is_active) == (
        citizen.pk,
        "",
        False,
    )
