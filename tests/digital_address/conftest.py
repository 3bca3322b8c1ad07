"""The households the tests of this package start from, set up through the API."""

from __future__ import annotations

import pytest

from digital_address.models import Household, HouseholdInvitation, HouseholdMember
from tests.conftest import client_for
from tests.digital_address.households import RECEIVED_URL, URL, Family, register
from tests.factories import UserFactory


@pytest.fixture
def household(citizen, ward) -> Household:
    return Household.objects.get(pk=register(citizen)["id"])


@pytest.fixture
def family(household, citizen, ward) -> Family:
    """The citizen's household with a child (no account), a spouse who accepted an invitation,
    and an invitation still pending. Set up through the API."""
    head_client = client_for(citizen)
    members_url = f"{URL}{household.pk}/members/"
    child = head_client.post(
        members_url,
        {"full_name": "Nguyễn Văn Bé", "date_of_birth": "2018-03-02", "relationship": "child"},
    )
    assert child.status_code == 201, child.content
    spouse_user = UserFactory(phone="+84911111111", full_name="Hoàng Thị Vợ", ward=ward)
    invited = head_client.post(members_url, {"phone": "0911111111", "relationship": "spouse"})
    assert invited.status_code == 202, invited.content
    accepted = client_for(spouse_user).post(f"{RECEIVED_URL}{invited.json()['id']}/accept/", {})
    assert accepted.status_code == 200, accepted.content
    pending = head_client.post(members_url, {"phone": "0933333333", "relationship": "other"})
    assert pending.status_code == 202, pending.content
    return Family(
        household=household,
        head=HouseholdMember.objects.get(household=household, user=citizen),
        child=HouseholdMember.objects.get(pk=child.json()["id"]),
        spouse=HouseholdMember.objects.get(household=household, user=spouse_user),
        spouse_user=spouse_user,
        invitation=HouseholdInvitation.objects.get(pk=pending.json()["id"]),
    )
