"""Buttons on an object's admin page (config.admin_transitions): one per step the official may
take in the object's status, each asking its form (a reason where the rules need one, a
confirmation otherwise) and calling the same action as the API. Field reports and broadcasts
here; dossiers in tests/services/test_dossier_admin.py."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone

from accounts.actions.officials import official_create_or_update
from accounts.models import Role, User
from notifications.models import Broadcast, BroadcastStatus
from services.models import FieldReport, ReportEvent
from tests.conftest import client_for
from tests.factories import PASSWORD
from tests.services.reports import photo
from tests.services.reports import submit as submit_report

pytestmark = pytest.mark.django_db

REPORTS = "/admin/services/fieldreport/"
BROADCASTS = "/admin/notifications/broadcast/"


@pytest.fixture(autouse=True)
def _media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path


def admin(user: User) -> Client:
    client = Client(HTTP_ACCEPT_LANGUAGE="en")
    client.force_login(user)
    return client


def buttons(user: User, url: str) -> list[str]:
    response = admin(user).get(url)
    assert response.status_code == 200
    return [name for name, _label in response.context["transitions"]]


@pytest.fixture
def report_id(citizen, ward) -> int:
    return submit_report(client_for(citizen), ward=6040)["id"]


def test_a_reports_buttons_follow_its_status(official, report_id):
    page = f"{REPORTS}{report_id}/change/"
    assert buttons(official, page) == ["accept", "refuse", "transfer", "merge", "moderate"]

    assert (
        admin(official).post(f"{REPORTS}{report_id}/act/accept/", {"note": ""}).status_code == 302
    )
    assert buttons(official, page) == [
        "start",
        "resolve",
        "close-not-fixed",
        "transfer",
        "merge",
        "moderate",
    ]


def test_a_report_is_resolved_from_its_page_with_evidence(official, report_id):
    admin(official).post(f"{REPORTS}{report_id}/act/accept/", {"note": "Đã nhận"})

    empty = admin(official).post(f"{REPORTS}{report_id}/act/resolve/", {"note": "Đã thay bóng"})
    assert empty.status_code == 200
    assert empty.context["form"].errors == {"files": ["This field is required."]}
    assert FieldReport.objects.get(pk=report_id).status == "accepted"

    done = admin(official).post(
        f"{REPORTS}{report_id}/act/resolve/",
        {"note": "Đã thay bóng", "files": [photo(name="a.jpg"), photo(name="b.jpg")]},
    )

    assert done.status_code == 302
    report = FieldReport.objects.get(pk=report_id)
    assert report.status == "resolved"
    assert report.photos.filter(kind="evidence").count() == 2
    assert list(ReportEvent.objects.filter(report=report).values_list("kind", flat=True)) == [
        "submitted",
        "accepted",
        "resolved",
    ]


def test_refusing_needs_a_reason_and_a_refusal_by_the_action_shows_on_the_form(official, report_id):
    missing = admin(official).post(f"{REPORTS}{report_id}/act/refuse/", {"reason": ""})
    assert missing.context["form"].errors == {"reason": ["This field is required."]}

    admin(official).post(f"{REPORTS}{report_id}/act/accept/", {})
    # Accepted meanwhile (another official, another tab): refusing is no longer a step.
    late = admin(official).post(f"{REPORTS}{report_id}/act/refuse/", {"reason": "Không phải"})
    assert late.status_code == 200
    assert late.context["form"].non_field_errors()
    assert FieldReport.objects.get(pk=report_id).status == "accepted"


def test_what_the_public_map_shows_is_moderated_from_the_page(official, report_id):
    report = FieldReport.objects.get(pk=report_id)
    photo_id = report.photos.get().pk
    form = admin(official).get(f"{REPORTS}{report_id}/act/moderate/").context["form"]
    assert form.initial == {"hidden": False, "text_hidden": False, "photos_hidden": []}

    response = admin(official).post(
        f"{REPORTS}{report_id}/act/moderate/",
        {"text_hidden": "on", "photos_hidden": [photo_id], "note": "Có số điện thoại"},
    )

    assert response.status_code == 302
    report.refresh_from_db()
    assert (report.hidden, report.text_hidden) == (False, True)
    assert report.photos.get().hidden is True
    event = ReportEvent.objects.filter(report=report).latest("id")
    assert (event.kind, event.note) == ("moderated", "Có số điện thoại")

    # Unticked again: shown again.
    admin(official).post(f"{REPORTS}{report_id}/act/moderate/", {})
    report.refresh_from_db()
    assert (report.text_hidden, report.photos.get().hidden) == (False, False)


def test_a_processing_official_does_not_moderate(report_id):
    processor = official_create_or_update(
        phone="+84900000075",
        full_name="Cán bộ xử lý",
        password=PASSWORD,
        roles=[Role.PROCESSING],
        unit_codes=[6040],
    )
    assert "moderate" not in buttons(processor, f"{REPORTS}{report_id}/change/")

    response = admin(processor).post(f"{REPORTS}{report_id}/act/moderate/", {"text_hidden": "on"})

    assert response.status_code == 403
    assert FieldReport.objects.get(pk=report_id).text_hidden is False


def test_a_report_is_transferred_to_another_unit(official, other_ward, report_id):
    response = admin(official).post(
        f"{REPORTS}{report_id}/act/transfer/", {"unit": other_ward.pk, "reason": "Địa bàn xã bên"}
    )

    assert response.status_code == 302
    assert FieldReport.objects.get(pk=report_id).unit_id == other_ward.pk
    # Gone from the official's units: the page is no longer theirs.
    assert admin(official).get(f"{REPORTS}{report_id}/change/").status_code == 302


def test_another_units_official_cannot_act_and_nothing_changes(other_official, report_id):
    before = FieldReport.objects.filter(pk=report_id).values().get()

    response = admin(other_official).post(f"{REPORTS}{report_id}/act/accept/", {"note": ""})

    assert response.status_code == 404
    assert FieldReport.objects.filter(pk=report_id).values().get() == before


def test_an_unknown_step_is_not_found(official, report_id):
    assert admin(official).get(f"{REPORTS}{report_id}/act/reopen/").status_code == 404


# --- broadcasts ---------------------------------------------------------------------------


def official(role: str, phone: str, unit: int = 6040) -> User:
    return official_create_or_update(
        phone=phone, full_name="Cán bộ", password=PASSWORD, roles=[role], unit_codes=[unit]
    )


@pytest.fixture
def pending(ward) -> Broadcast:
    broadcast = Broadcast.objects.create(
        title="Lũ quét",
        body="Sơ tán ngay.",
        kind="emergency",
        status=BroadcastStatus.PENDING_APPROVAL,
        scheduled_at=timezone.now() + timedelta(hours=1),
        expires_at=timezone.now() + timedelta(hours=6),
        created_by=official(Role.BROADCASTING, "+84900000071"),
    )
    broadcast.wards.add(ward)
    return broadcast


def test_a_leader_approves_a_broadcast_after_confirming(pending):
    leader = official(Role.APPROVAL, "+84900000072")
    url = f"{BROADCASTS}{pending.pk}/act/approve/"
    assert buttons(leader, f"{BROADCASTS}{pending.pk}/change/") == ["approve"]

    confirm = admin(leader).get(url)
    assert confirm.status_code == 200
    assert "Once approved, the broadcast is sent" in confirm.content.decode()
    # Whom it reaches (nobody has an account in the ward yet), said before approving.
    assert confirm.context["summary"] == (
        "It reaches 0 people with an account, in 1 commune or ward."
    )
    assert Broadcast.objects.get(pk=pending.pk).status == "pending_approval"

    assert admin(leader).post(url, {}).status_code == 302
    approved = Broadcast.objects.get(pk=pending.pk)
    assert (approved.status, approved.approved_by_id) == ("scheduled", leader.pk)


def test_the_author_cannot_approve_their_own_broadcast(pending):
    author = pending.created_by
    author.groups.add(*official(Role.APPROVAL, "+84900000073").groups.all())

    response = admin(author).post(f"{BROADCASTS}{pending.pk}/act/approve/", {})

    assert response.status_code == 200
    assert response.context["form"].non_field_errors() == [
        "Another official must approve your broadcast."
    ]
    assert Broadcast.objects.get(pk=pending.pk).status == "pending_approval"


def test_a_broadcaster_cancels_a_broadcast_not_yet_sent(pending):
    author = pending.created_by
    assert buttons(author, f"{BROADCASTS}{pending.pk}/change/") == ["cancel"]

    assert admin(author).post(f"{BROADCASTS}{pending.pk}/act/cancel/", {}).status_code == 302
    assert Broadcast.objects.get(pk=pending.pk).status == "cancelled"


def test_without_the_permission_the_step_is_forbidden(pending):
    desk = official(Role.RECEPTION, "+84900000074")

    response = admin(desk).post(f"{BROADCASTS}{pending.pk}/act/approve/", {})

    assert response.status_code == 403
    assert Broadcast.objects.get(pk=pending.pk).status == "pending_approval"
