"""Who keeps a say on a fix: a merged duplicate's reporter rates the report it was merged into,
and a citizen who stops following takes their reaction back."""

from __future__ import annotations

import pytest

from services.models import ReportReaction
from tests.conftest import client_for
from tests.services.reports import URL, reload, resolve, step, submit

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _media(settings, tmp_path) -> None:
    settings.MEDIA_ROOT = tmp_path


def test_a_merged_duplicates_reporter_rates_the_fix_of_the_report_it_joined(
    citizen, other_citizen, official
):
    original = submit(client_for(citizen), ward=6040)["id"]
    duplicate = submit(client_for(other_citizen), ward=6040)["id"]
    o = client_for(official)
    assert step(o, original, "accept").status_code == 200
    assert resolve(o, original).status_code == 200
    # Merged after the fix: its reporter has had the problem since their own report.
    assert step(o, duplicate, "merge", {"into": original}).status_code == 200

    response = client_for(other_citizen).post(
        f"{URL}{original}/reaction/", {"like": False}, format="json"
    )

    assert response.status_code == 200, response.content
    assert response.json()["my_reaction"] is False
    assert list(ReportReaction.objects.values_list("report", "user", "like")) == [
        (original, other_citizen.pk, False)
    ]


def test_unfollowing_takes_the_reaction_back(citizen, other_citizen, official):
    report = submit(client_for(citizen), ward=6040)["id"]
    o = client_for(official)
    assert step(o, report, "accept").status_code == 200
    follower = client_for(other_citizen)
    assert follower.post(f"{URL}{report}/follow/").status_code == 200
    assert resolve(o, report).status_code == 200
    assert follower.post(f"{URL}{report}/reaction/", {"like": True}, format="json").json()[
        "my_reaction"
    ]
    assert (
        client_for(citizen)
        .post(f"{URL}{report}/reaction/", {"like": True}, format="json")
        .json()["my_reaction"]
    )

    response = follower.delete(f"{URL}{report}/follow/")

    assert response.status_code == 200
    assert (response.json()["following"], response.json()["my_reaction"]) == (False, None)
    assert reload(report).followers_count == 0
    # The reporter's own stays.
    assert list(ReportReaction.objects.values_list("user", "like")) == [(citizen.pk, True)]
