"""Households in a citizen's export and erasure (Decree 13/2023, Law 91/2025)."""

from __future__ import annotations

from decimal import Decimal

from django.utils.timezone import localtime

from digital_address.actions.households import (
    Address,
    household_create,
    member_add,
    member_invite,
)
from digital_address.models import HouseholdEvent, HouseholdInvitation, HouseholdMember
from tests.conftest import client_for
from tests.factories import PASSWORD, UserFactory

ADDRESS = Address(
    house_number="12", hamlet="Khối 1", latitude=Decimal("22.257"), longitude=Decimal("106.474")
)


def test_the_export_holds_my_household_and_the_invitations_to_my_number(
    citizen, other_citizen, ward
):
    household = household_create(actor=citizen, ward=ward, address=ADDRESS)
    neighbour = UserFactory(phone="+84913000001", ward=ward)
    other = household_create(actor=neighbour, ward=ward, address=Address(hamlet="Bản Pò"))
    invitation = member_invite(
        actor=neighbour, household=other, phone=citizen.phone, relationship="other"
    )
    member_invite(actor=neighbour, household=other, phone=other_citizen.phone, relationship="child")
    mine = HouseholdMember.objects.get(user=citizen)

    body = client_for(citizen).get("/api/v1/me/export/").json()["households"]

    assert body == {
        "memberships": [
            {
                "household_code": household.formatted_code,
                "ward": 6040,
                "address_line": "12, Khối 1",
                "latitude": "22.257000",
                "longitude": "106.474000",
                "relationship": "head",
                "joined_at": localtime(mine.joined_at).isoformat(),
                "ended_at": None,
            }
        ],
        "invitations_received": [
            {
                "household_code": other.formatted_code,
                "relationship": "other",
                "status": "pending",
                "created_at": localtime(invitation.created_at).isoformat(),
            }
        ],
    }


def test_erasure_ends_my_membership_and_forgets_my_name(citizen, ward):
    household = household_create(actor=citizen, ward=ward, address=ADDRESS)
    child = member_add(
        actor=citizen,
        household=household,
        full_name="Nguyễn Văn Bé",
        date_of_birth=None,
        relationship="child",
    )
    neighbour = UserFactory(phone="+84913000001", ward=ward)
    other = household_create(actor=neighbour, ward=ward, address=Address(hamlet="Bản Pò"))
    member_invite(actor=neighbour, household=other, phone=citizen.phone, relationship="other")
    events = HouseholdEvent.objects.count()

    response = client_for(citizen).delete("/api/v1/me/", {"password": PASSWORD})

    assert response.status_code == 204
    mine = HouseholdMember.objects.get(household=household, relationship="head")
    assert (mine.full_name, mine.date_of_birth, mine.ended_at is not None) == ("", None, True)
    assert list(
        HouseholdEvent.objects.filter(household=household)
        .order_by("-id")
        .values_list("kind", "data")[:3]
    ) == [
        ("vacated", {}),
        ("member_left", {"member": child.pk, "head_erased": True}),
        ("member_left", {"member": mine.pk, "erased": True}),
    ]
    assert HouseholdEvent.objects.count() == events + 3  # left, the child ended, vacated
    assert HouseholdInvitation.objects.filter(phone="+84912345678").count() == 0
    # A child cannot stay on their own in the registry: with no adult with an account left, the
    # household is vacated (its code still resolves). Other households are untouched.
    child.refresh_from_db()
    household.refresh_from_db()
    assert (child.full_name, child.ended_at is not None) == ("Nguyễn Văn Bé", True)
    assert household.vacated_at is not None
    assert client_for(neighbour).get("/api/v1/households/").json()[0]["id"] == other.pk
    assert client_for(citizen).get(f"/api/v1/addresses/{household.code}/").status_code == 200
