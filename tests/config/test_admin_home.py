"""The officials' home page (/admin/): their queues with counts and links, each count read by
the same rule as the list it links to, only for what they may see, in a fixed number of
queries."""

from __future__ import annotations

from datetime import timedelta
from io import StringIO

import pytest
from django.core.management import call_command
from django.test import Client
from django.utils import timezone

from accounts.actions.officials import official_create_or_update
from accounts.models import Role, User
from digital_address.models import VerificationStatus
from notifications.models import Broadcast, BroadcastStatus
from services.models import Dossier, DossierStatus, FieldReport
from tests.conftest import client_for
from tests.factories import PASSWORD, HouseholdFactory
from tests.services.reports import submit as submit_report

pytestmark = pytest.mark.django_db

MARRIAGE = "1.004873"


@pytest.fixture(autouse=True)
def catalog(db) -> None:
    call_command("load_demo_procedures", stdout=StringIO())


def leader_of(unit: int, phone: str) -> User:
    return official_create_or_update(
        phone=phone,
        full_name="Lãnh đạo",
        password=PASSWORD,
        roles=[Role.APPROVAL],
        unit_codes=[unit],
    )


def admin_get(user: User, path: str = "/admin/", language: str = "en"):
    client = Client(HTTP_ACCEPT_LANGUAGE=language)
    client.force_login(user)
    return client.get(path)


def dossier_in(citizen: User, unit: int) -> Dossier:
    response = client_for(citizen).post(
        "/api/v1/dossiers/",
        {"procedure": MARRIAGE, "unit": unit, "form_data": {"purpose": "x"}},
        format="json",
    )
    assert response.status_code == 201, response.content
    return Dossier.objects.get(code=response.json()["code"])


def queues(response) -> list[tuple[str, int, str]]:
    return [(str(q.label), q.count, q.url) for q in response.context["queues"]]


@pytest.fixture
def work(citizen, other_citizen, official, ward, other_ward):
    """In Thất Khê (6040): 2 new dossiers, 1 overdue (assigned to the official), 1 due today,
    1 returned (assigned, finished); 1 report waiting, 1 overdue; 1 household pending, 1
    verified, 1 pending but vacated; 1 emergency broadcast waiting for approval. The same
    kinds of work in Đoàn Kết (6001), which Thất Khê's officials never count."""
    today = timezone.localdate()
    dossier_in(citizen, 6040)
    dossier_in(citizen, 6040)
    overdue, soon, done = (dossier_in(citizen, 6040) for _ in range(3))
    Dossier.objects.filter(pk=overdue.pk).update(
        status=DossierStatus.PROCESSING,
        appointment_date=today - timedelta(days=1),
        assignee=official,
    )
    Dossier.objects.filter(pk=soon.pk).update(status=DossierStatus.RECEIVED, appointment_date=today)
    Dossier.objects.filter(pk=done.pk).update(status=DossierStatus.RETURNED, assignee=official)
    dossier_in(other_citizen, 6001)
    client = client_for(citizen)
    submit_report(client, ward=6040)
    late = submit_report(client, ward=6040)["id"]
    FieldReport.objects.filter(pk=late).update(acknowledge_due=today - timedelta(days=1))
    submit_report(client_for(other_citizen), ward=6001)
    HouseholdFactory(ward=ward, status=VerificationStatus.PENDING)
    HouseholdFactory(ward=ward, status=VerificationStatus.VERIFIED)
    HouseholdFactory(ward=ward, status=VerificationStatus.PENDING, vacated_at=timezone.now())
    HouseholdFactory(ward=other_ward, status=VerificationStatus.PENDING)
    for unit, phone in ((ward, "+84900000091"), (other_ward, "+84900000092")):
        broadcast = Broadcast.objects.create(
            title="Lũ quét",
            body="Sơ tán ngay.",
            kind="emergency",
            status=BroadcastStatus.PENDING_APPROVAL,
            scheduled_at=timezone.now(),
            expires_at=timezone.now() + timedelta(hours=6),
            created_by=leader_of(unit.code, phone),
        )
        broadcast.wards.add(unit)


def test_a_desk_officials_queues_count_their_units_only(official, work):
    response = admin_get(official)

    assert response.status_code == 200
    assert queues(response) == [
        ("New dossiers", 2, "/admin/services/dossier/?status__exact=1"),
        ("Dossiers due soon", 1, "/admin/services/dossier/?deadline=due_soon"),
        ("Overdue dossiers", 1, "/admin/services/dossier/?deadline=overdue"),
        ("Dossiers assigned to me", 1, "/admin/services/dossier/?assigned=me_open"),
        (
            "Reports awaiting acknowledgement",
            2,
            "/admin/services/fieldreport/?status__exact=submitted",
        ),
        ("Overdue reports", 1, "/admin/services/fieldreport/?overdue=yes"),
        (
            "Households awaiting verification",
            1,
            "/admin/digital_address/household/?status__exact=pending&occupancy=occupied",
        ),
    ]


def test_the_kpi_page_is_linked_for_those_who_may_read_it(official, province, work):
    assert 'href="/admin/kpis/"' in admin_get(official).content.decode()
    broadcaster = official_create_or_update(
        phone="+84900000097",
        full_name="Phát thanh",
        password=PASSWORD,
        roles=[Role.BROADCASTING],
        unit_codes=[6040],
    )
    assert 'href="/admin/kpis/"' not in admin_get(broadcaster).content.decode()


def test_each_count_is_what_its_list_shows(official, work):
    for label, count, url in queues(admin_get(official)):
        listed = admin_get(official, url)
        assert listed.status_code == 200, label
        assert listed.context["cl"].result_count == count, label


def test_a_leader_also_sees_the_broadcasts_waiting_for_approval(ward, work):
    leader = leader_of(6040, "+84900000093")

    response = admin_get(leader)

    assert queues(response)[-1] == (
        "Broadcasts awaiting my approval",
        1,
        "/admin/notifications/broadcast/?approve=me",
    )
    listed = admin_get(leader, queues(response)[-1][2])
    assert listed.context["cl"].result_count == 1


def test_the_home_page_is_in_vietnamese_by_default(official, work):
    response = admin_get(official, language="vi")

    assert [str(label) for label, _c, _u in queues(response)][:2] == [
        "Hồ sơ mới",
        "Hồ sơ sắp đến hạn",
    ]
    assert "Việc của tôi" in response.content.decode()


def test_the_queues_follow_what_the_official_may_do(province, work):
    # A broadcaster verifies no household and handles no dossier: none of those queues.
    broadcaster = official_create_or_update(
        phone="+84900000094",
        full_name="Phát thanh",
        password=PASSWORD,
        roles=[Role.BROADCASTING],
        unit_codes=[6040],
    )

    response = admin_get(broadcaster)

    assert response.status_code == 200
    assert queues(response) == []


def test_a_broadcast_the_leader_wrote_or_with_a_ward_not_theirs_is_not_theirs_to_approve(
    ward, other_ward, work
):
    leader = leader_of(6040, "+84900000095")
    Broadcast.objects.filter(status=BroadcastStatus.PENDING_APPROVAL).update(created_by=leader)
    both = Broadcast.objects.create(
        title="Rét hại",
        body="Giữ ấm.",
        kind="emergency",
        status=BroadcastStatus.PENDING_APPROVAL,
        scheduled_at=timezone.now(),
        expires_at=timezone.now() + timedelta(hours=6),
        created_by=leader_of(6040, "+84900000096"),
    )
    both.wards.add(ward, other_ward)

    assert queues(admin_get(leader))[-1][1] == 0


def test_the_home_page_costs_the_same_queries_however_much_work_waits(
    official, work, citizen, django_assert_num_queries
):
    client = Client(HTTP_ACCEPT_LANGUAGE="en")
    client.force_login(official)
    client.get("/admin/")  # warm the permission cache of the session's first request
    # The session, the user, their profile, units (once for the page) and permissions, one
    # count per kind of work (dossiers, reports, households), Django's recent actions.
    with django_assert_num_queries(9):
        client.get("/admin/")
    for _ in range(3):
        dossier_in(citizen, 6040)
    with django_assert_num_queries(9):
        client.get("/admin/")
