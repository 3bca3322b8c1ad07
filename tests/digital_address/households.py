"""What the household tests share: the API's paths, an address in Thất Khê, registering through
the API, and the family the ``family`` fixture (conftest.py) sets up."""

from __future__ import annotations

from dataclasses import dataclass

from accounts.models import User
from digital_address.models import Household, HouseholdInvitation, HouseholdMember
from tests.conftest import client_for

URL = "/api/v1/households/"
RECEIVED_URL = "/api/v1/households/invitations/"

ADDRESS = {
    "ward": 6040,
    "house_number": "12",
    "street": "Đường Hoàng Văn Thụ",
    "hamlet": "Khối 3",
    "latitude": "22.257",
    "longitude": "106.474",
}


def register(user: User, **changes) -> dict:
    response = client_for(user).post(URL, {**ADDRESS, **changes})
    assert response.status_code == 201, response.content
    return response.json()


@dataclass(frozen=True)
class Family:
    household: Household
    head: HouseholdMember
    child: HouseholdMember
    spouse: HouseholdMember
    spouse_user: User
    invitation: HouseholdInvitation  # pending, to a number without an account
