"""Households through the HTTP API: registering, editing, members and invitations, moving, address
codes, verification by officials, external codes, who may do what, and the queries each list
costs."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone, translation
from rest_framework.fields import DateTimeField
from rest_framework.test import APIClient

from accounts.models import DataAccessLog, User
from digital_address.address_codes import compose, format_code
from digital_address.locations import plus_code_for
from digital_address.models import (
    ExternalAddressCode,
    Household,
    HouseholdEvent,
    HouseholdInvitation,
    HouseholdMember,
    WardAddressSequence,
)
from tests.conftest import client_for, with_units_query
from tests.digital_address.households import ADDRESS, RECEIVED_URL, URL, register
from tests.factories import HouseholdFactory, UserFactory

pytestmark = pytest.mark.django_db

MOVE_URL = "/api/v1/households/move/"
OFFICIAL_URL = "/api/v1/official/households/"

THAT_KHE_POINT = (Decimal("22.257000"), Decimal("106.474000"))

# English, as the code writes them (the msgids).
INVALID = "Invalid input."
NOT_FOUND = "Not found."
NO_ADDRESS_PART = "Give the house number, the street or the hamlet of the address."
BOTH_OR_NEITHER = "Give both the latitude and the longitude, or neither."
OUTSIDE_VIETNAM = "This location is outside Vietnam."
# DRF's messages: (template, parameters), as its catalog holds them.
LATITUDE_MAX = ("Ensure this value is less than or equal to {max_value}.", {"max_value": 90})
UNKNOWN_WARD = ('Invalid pk "{pk_value}" - object does not exist.', {"pk_value": 99999})
ALREADY_IN_HOUSEHOLD = (
    "You already live in a household. To live at another address, move there: "
    "your membership of the current household then ends."
)
NOT_HEAD = "Only the head of the household can do this."
INVITATION_UNAVAILABLE = "This invitation has already been answered, cancelled or has expired."
HEAD_LEAVES_BY_MOVING = "The head leaves a household by moving to another address."
ONLY_ACCOUNTLESS_COME_ALONG = "Only current members without an account can be brought along."
INVALID_TRANSITION = "This cannot be done in the household's current state."
EXTERNAL_CODE_TAKEN = "This code is already attached to another household."
REASON_REQUIRED = "This field is required."


def vi(message: str) -> str:
    """What the Vietnamese catalog makes of a message (the default language of the API)."""
    with translation.override("vi"):
        return translation.gettext(message)


def error(code: str, message: str, fields: dict | None = None) -> dict:
    return {"code": code, "message": message, "fields": fields or {}}


def iso(value) -> str:
    return DateTimeField().to_representation(value)


def english(user: User) -> APIClient:
    client = client_for(user)
    client.defaults["HTTP_ACCEPT_LANGUAGE"] = "en"
    return client


def timeline(household: Household) -> list[tuple[str, dict, int | None]]:
    return list(
        HouseholdEvent.objects.filter(household=household)
        .order_by("id")
        .values_list("kind", "data", "actor_id")
    )


def snapshot(household: Household) -> dict:
    """Everything a request could change about a household, to show that nothing did."""
    return {
        "household": Household.objects.filter(pk=household.pk).values().get(),
        "members": list(
            HouseholdMember.objects.filter(household=household).order_by("id").values()
        ),
        "invitations": list(
            HouseholdInvitation.objects.filter(household=household).order_by("id").values()
        ),
        "events": list(HouseholdEvent.objects.filter(household=household).values_list("id")),
        "external_codes": list(ExternalAddressCode.objects.filter(household=household).values()),
        "sequences": list(WardAddressSequence.objects.values()),
        "households": Household.objects.count(),
        "all_members": HouseholdMember.objects.count(),
        "access_log": DataAccessLog.objects.count(),
    }


def verify(official: User, household: Household) -> dict:
    response = client_for(official).post(f"{OFFICIAL_URL}{household.pk}/verify/")
    assert response.status_code == 200, response.content
    return response.json()


# --- registering -----------------------------------------------------------------------------


def test_a_citizen_registers_their_household_and_gets_its_address_code(citizen, ward):
    response = client_for(citizen).post(URL, ADDRESS)

    assert response.status_code == 201, response.content
    household = Household.objects.get()
    head = HouseholdMember.objects.get()
    created = HouseholdEvent.objects.get()
    assert response.json() == {
        "id": household.pk,
        "code": format_code(compose(6040, 1)),
        "plus_code": plus_code_for(*THAT_KHE_POINT),
        "ward": {"code": 6040, "name": "Xã Thất Khê", "province": "Lạng Sơn"},
        "house_number": "12",
        "street": "Đường Hoàng Văn Thụ",
        "hamlet": "Khối 3",
        "address_line": "12, Đường Hoàng Văn Thụ, Khối 3",
        "latitude": 22.257,
        "longitude": 106.474,
        "status": "pending",
        "rejection_reason": "",
        "members": [
            {
                "id": head.pk,
                "full_name": "Nguyễn Văn An",
                "date_of_birth": None,
                "relationship": "head",
                "has_account": True,
                "needs_assistance": False,
                "joined_at": iso(head.joined_at),
            }
        ],
        "invitations": [],
        "external_codes": [],
        "timeline": [
            {
                "kind": "created",
                "kind_display": vi("Registered"),
                "summary": "",
                "actor": vi("Resident"),
                "data": {},
                "created_at": iso(created.created_at),
            }
        ],
        "created_at": iso(household.created_at),
    }
    assert household.code == compose(6040, 1)
    assert format_code(compose(6040, 1)).startswith("06040-00001-")
    assert (household.latitude, household.longitude) == THAT_KHE_POINT
    assert (household.source, household.created_by, head.user) == ("app", citizen, citizen)
    assert (created.kind, created.actor, created.data) == ("created", citizen, {})
    assert WardAddressSequence.objects.get(ward=ward).last_value == 1


def test_the_citizen_lists_the_household_they_live_in(citizen, household, other_citizen):
    mine = client_for(citizen).get(URL)
    theirs = client_for(other_citizen).get(URL)

    assert (mine.status_code, [h["id"] for h in mine.json()]) == (200, [household.pk])
    assert (theirs.status_code, theirs.json()) == (200, [])


BAD_ADDRESSES = [
    pytest.param(
        {"ward": 6040},
        ("invalid", INVALID, {"hamlet": [NO_ADDRESS_PART]}),
        id="no-address-part",
    ),
    pytest.param(
        {**ADDRESS, "longitude": None},
        ("invalid_location", BOTH_OR_NEITHER, {"longitude": [BOTH_OR_NEITHER]}),
        id="latitude-without-longitude",
    ),
    pytest.param(
        {**ADDRESS, "latitude": "13.7563", "longitude": "100.5018"},  # Bangkok
        (
            "invalid_location",
            OUTSIDE_VIETNAM,
            {"latitude": [OUTSIDE_VIETNAM], "longitude": [OUTSIDE_VIETNAM]},
        ),
        id="outside-vietnam",
    ),
    pytest.param(
        {**ADDRESS, "latitude": "91"},
        ("invalid", INVALID, {"latitude": [LATITUDE_MAX]}),
        id="latitude-91",
    ),
    pytest.param(
        {**ADDRESS, "ward": 99999},
        ("invalid", INVALID, {"ward": [UNKNOWN_WARD]}),
        id="unknown-ward",
    ),
]


def _translated(expected: tuple[str, str, dict], translate) -> dict:
    def text(message: str | tuple[str, dict]) -> str:
        if isinstance(message, tuple):
            template, params = message
            return translate(template).format(**params)
        return translate(message)

    code, message, fields = expected
    return error(
        code,
        text(message),
        {field: [text(m) for m in messages] for field, messages in fields.items()},
    )


def _nothing_registered() -> None:
    assert Household.objects.count() == 0
    assert HouseholdMember.objects.count() == 0
    assert HouseholdEvent.objects.count() == 0
    assert WardAddressSequence.objects.count() == 0


@pytest.mark.parametrize(("data", "expected"), BAD_ADDRESSES)
def test_a_bad_address_is_refused_in_english(citizen, ward, data, expected):
    response = english(citizen).post(URL, data)

    assert (response.status_code, response.json()) == (400, _translated(expected, str))
    _nothing_registered()


@pytest.mark.parametrize(("data", "expected"), BAD_ADDRESSES)
def test_a_bad_address_is_refused_in_the_default_language(citizen, ward, data, expected):
    response = client_for(citizen).post(URL, data)

    assert (response.status_code, response.json()) == (400, _translated(expected, vi))
    _nothing_registered()


def test_the_household_messages_read_in_vietnamese():
    messages = [
        NO_ADDRESS_PART,
        BOTH_OR_NEITHER,
        OUTSIDE_VIETNAM,
        ALREADY_IN_HOUSEHOLD,
        NOT_HEAD,
        INVITATION_UNAVAILABLE,
        HEAD_LEAVES_BY_MOVING,
        ONLY_ACCOUNTLESS_COME_ALONG,
        INVALID_TRANSITION,
        EXTERNAL_CODE_TAKEN,
        "Registered",
        "Resident",
        "The last digit of this address code does not match the others: "
        "a digit was probably mistyped or two digits swapped. Please check the code.",
    ]

    assert [m for m in messages if vi(m) == m] == []


def test_a_second_registration_by_a_resident_is_a_conflict(citizen, household):
    before = snapshot(household)

    response = english(citizen).post(URL, {**ADDRESS, "house_number": "14"})

    assert (response.status_code, response.json()) == (
        409,
        error("already_in_household", ALREADY_IN_HOUSEHOLD),
    )
    assert snapshot(household) == before
    assert WardAddressSequence.objects.get().last_value == 1


def test_a_member_of_a_household_cannot_register_another(family):
    response = english(family.spouse_user).post(URL, {**ADDRESS, "house_number": "99"})

    assert (response.status_code, response.json()["code"]) == (409, "already_in_household")
    assert Household.objects.count() == 1


# --- editing ----------------------------------------------------------------------------------


def test_changing_the_address_of_a_verified_household_sends_it_back_for_verification(
    citizen, household, official
):
    verify(official, household)

    response = client_for(citizen).patch(
        f"{URL}{household.pk}/",
        {"street": "Đường Lê Lợi", "latitude": "22.2575", "longitude": "106.4745"},
    )

    assert response.status_code == 200, response.content
    body = response.json()
    household.refresh_from_db()
    assert (body["status"], body["street"], body["latitude"], body["longitude"]) == (
        "pending",
        "Đường Lê Lợi",
        22.2575,
        106.4745,
    )
    assert body["plus_code"] == plus_code_for(Decimal("22.2575"), Decimal("106.4745"))
    assert (household.status, household.street, household.plus_code) == (
        "pending",
        "Đường Lê Lợi",
        body["plus_code"],
    )
    assert household.plus_code != plus_code_for(*THAT_KHE_POINT)
    assert timeline(household) == [
        ("created", {}, citizen.pk),
        ("verified", {"from": "pending", "to": "verified"}, official.pk),
        ("address_changed", {"fields": ["street", "latitude", "longitude"]}, citizen.pk),
        ("returned", {"from": "verified", "to": "pending"}, citizen.pk),
    ]
    assert [e["kind"] for e in body["timeline"]] == [
        "created",
        "verified",
        "address_changed",
        "returned",
    ]


def test_changing_the_address_of_a_rejected_household_clears_the_reason(
    citizen, household, official
):
    client_for(official).post(f"{OFFICIAL_URL}{household.pk}/reject/", {"reason": "Sai số nhà"})

    response = client_for(citizen).patch(f"{URL}{household.pk}/", {"house_number": "12A"})

    assert response.status_code == 200, response.content
    household.refresh_from_db()
    assert (household.status, household.rejection_reason, household.house_number) == (
        "pending",
        "",
        "12A",
    )
    assert timeline(household)[-2:] == [
        ("address_changed", {"fields": ["house_number"]}, citizen.pk),
        ("returned", {"from": "rejected", "to": "pending"}, citizen.pk),
    ]


def test_saving_the_same_address_changes_nothing(citizen, household, official):
    verify(official, household)
    before = snapshot(household)

    response = client_for(citizen).patch(
        f"{URL}{household.pk}/",
        {"house_number": " 12 ", "street": ADDRESS["street"], "latitude": "22.257000"},
    )

    assert (response.status_code, response.json()["status"]) == (200, "verified")
    assert snapshot(household) == before


def test_the_ward_of_a_household_cannot_be_changed_by_editing(citizen, household, other_ward):
    before = snapshot(household)

    response = english(citizen).patch(f"{URL}{household.pk}/", {"ward": other_ward.code})

    assert (response.status_code, response.json()) == (
        400,
        error(
            "invalid",
            INVALID,
            {"ward": ["A household does not change ward: to live in another ward, move."]},
        ),
    )
    assert snapshot(household) == before


def test_an_edit_that_leaves_no_address_part_is_refused(citizen, household):
    before = snapshot(household)

    response = english(citizen).patch(
        f"{URL}{household.pk}/", {"house_number": "", "street": "", "hamlet": " "}
    )

    assert (response.status_code, response.json()) == (
        400,
        error("invalid", INVALID, {"hamlet": [NO_ADDRESS_PART]}),
    )
    assert snapshot(household) == before


# --- members and invitations -----------------------------------------------------------------


def test_the_head_adds_a_child_without_an_account(citizen, household):
    response = client_for(citizen).post(
        f"{URL}{household.pk}/members/",
        {"full_name": " Nguyễn Văn Bé ", "date_of_birth": "2018-03-02", "relationship": "child"},
    )

    assert response.status_code == 201, response.content
    child = HouseholdMember.objects.get(relationship="child")
    assert response.json() == {
        "id": child.pk,
        "full_name": "Nguyễn Văn Bé",
        "date_of_birth": "2018-03-02",
        "relationship": "child",
        "has_account": False,
        "needs_assistance": False,
        "joined_at": iso(child.joined_at),
    }
    assert (child.household, child.user, child.ended_at) == (household, None, None)
    assert timeline(household)[-1] == (
        "member_added",
        {"member": child.pk, "relationship": "child"},
        citizen.pk,
    )


def test_a_second_head_cannot_be_added(citizen, household):
    before = snapshot(household)

    response = english(citizen).post(
        f"{URL}{household.pk}/members/", {"full_name": "Ai Đó", "relationship": "head"}
    )

    assert (response.status_code, response.json()["code"]) == (400, "invalid")
    assert list(response.json()["fields"]) == ["relationship"]
    assert snapshot(household) == before


def test_the_head_invites_by_phone_and_the_invitee_accepts(citizen, household, other_citizen):
    invited = client_for(citizen).post(
        f"{URL}{household.pk}/members/", {"phone": "0987 654 321", "relationship": "spouse"}
    )

    assert invited.status_code == 202, invited.content
    invitation = HouseholdInvitation.objects.get()
    assert invited.json() == {
        "id": invitation.pk,
        "phone": "+849*****321",
        "relationship": "spouse",
        "status": "pending",
        "created_at": iso(invitation.created_at),
        "expires_at": iso(invitation.expires_at),
    }
    assert (invitation.phone, invitation.invitee, invitation.invited_by) == (
        "+84987654321",
        other_citizen,
        citizen,
    )
    lifetime = invitation.expires_at - invitation.created_at
    assert abs(lifetime - timedelta(days=14)) < timedelta(seconds=1)
    assert timeline(household)[-1] == (
        "member_invited",
        {"invitation": invitation.pk, "relationship": "spouse"},
        citizen.pk,
    )
    # The head sees it pending, masked.
    assert [
        i["phone"] for i in client_for(citizen).get(f"{URL}{household.pk}/").json()["invitations"]
    ] == ["+849*****321"]

    invitee = client_for(other_citizen)
    received = invitee.get(RECEIVED_URL)
    assert (received.status_code, received.json()) == (
        200,
        [
            {
                "id": invitation.pk,
                "household_code": household.formatted_code,
                "ward": "Xã Thất Khê",
                "address_line": "12, Đường Hoàng Văn Thụ, Khối 3",
                "invited_by": "Nguyễn Văn An",
                "relationship": "spouse",
                "expires_at": iso(invitation.expires_at),
            }
        ],
    )
    assert client_for(citizen).get(RECEIVED_URL).json() == []

    accepted = invitee.post(f"{RECEIVED_URL}{invitation.pk}/accept/", {})

    assert accepted.status_code == 200, accepted.content
    member = HouseholdMember.objects.get(user=other_citizen)
    invitation.refresh_from_db()
    assert (member.household, member.relationship, member.full_name, member.ended_at) == (
        household,
        "spouse",
        "Trần Thị Bình",
        None,
    )
    assert (invitation.status, invitation.member, invitation.answered_at is not None) == (
        "accepted",
        member,
        True,
    )
    body = accepted.json()
    assert (body["id"], body["invitations"]) == (household.pk, [])
    assert [(m["full_name"], m["relationship"], m["has_account"]) for m in body["members"]] == [
        ("Nguyễn Văn An", "head", True),
        ("Trần Thị Bình", "spouse", True),
    ]
    assert timeline(household)[-1] == (
        "member_joined",
        {"member": member.pk, "relationship": "spouse"},
        other_citizen.pk,
    )
    assert invitee.get(RECEIVED_URL).json() == []
    assert [h["id"] for h in invitee.get(URL).json()] == [household.pk]


def test_inviting_the_same_number_twice_gives_the_same_invitation(citizen, household):
    client = client_for(citizen)
    url = f"{URL}{household.pk}/members/"

    first = client.post(url, {"phone": "0987654321", "relationship": "spouse"})
    second = client.post(url, {"phone": "+84987654321", "relationship": "other"})

    assert (first.status_code, second.status_code) == (202, 202)
    assert first.json()["id"] == second.json()["id"]
    # The latest ask says what the invitee would be.
    assert second.json()["relationship"] == "other"
    assert HouseholdInvitation.objects.get().relationship == "other"
    assert [kind for kind, _data, _actor in timeline(household)] == ["created", "member_invited"]


@pytest.fixture
def elsewhere(ward) -> tuple[Household, User]:
    """Another household of the ward, headed by someone else."""
    head = UserFactory(phone="+84922222222", full_name="Lương Văn Chủ", ward=ward)
    return Household.objects.get(pk=register(head, house_number="40")["id"]), head


def _invite(head: User, household: Household, phone: str) -> HouseholdInvitation:
    response = client_for(head).post(
        f"{URL}{household.pk}/members/", {"phone": phone, "relationship": "other"}
    )
    assert response.status_code == 202, response.content
    return HouseholdInvitation.objects.get(pk=response.json()["id"])


def test_someone_living_elsewhere_joins_only_when_leaving_explicitly(
    citizen, household, other_citizen, elsewhere
):
    old_household, old_head = elsewhere
    _invite(old_head, old_household, other_citizen.phone)
    old_invitation = HouseholdInvitation.objects.get(household=old_household)
    joined = client_for(other_citizen).post(f"{RECEIVED_URL}{old_invitation.pk}/accept/", {})
    assert joined.status_code == 200, joined.content
    old_membership = HouseholdMember.objects.get(user=other_citizen)
    invitation = _invite(citizen, household, other_citizen.phone)
    before = (snapshot(household), snapshot(old_household))

    refused = english(other_citizen).post(f"{RECEIVED_URL}{invitation.pk}/accept/", {})

    assert (refused.status_code, refused.json()) == (
        409,
        error("already_in_household", ALREADY_IN_HOUSEHOLD),
    )
    assert (snapshot(household), snapshot(old_household)) == before

    accepted = client_for(other_citizen).post(
        f"{RECEIVED_URL}{invitation.pk}/accept/", {"leave_current": True}
    )

    assert accepted.status_code == 200, accepted.content
    old_membership.refresh_from_db()
    assert old_membership.ended_at is not None
    assert timeline(old_household)[-1] == (
        "member_left",
        {"member": old_membership.pk, "joined": household.pk},
        other_citizen.pk,
    )
    current = HouseholdMember.objects.get(user=other_citizen, ended_at__isnull=True)
    assert (current.household, current.relationship) == (household, "other")
    assert [h["id"] for h in client_for(other_citizen).get(URL).json()] == [household.pk]


def test_a_head_living_alone_joins_another_household_and_the_old_one_is_vacated(
    citizen, household, other_citizen
):
    own = Household.objects.get(pk=register(other_citizen, ward=6001, hamlet="Thôn Na")["id"])
    invitation = _invite(citizen, household, other_citizen.phone)

    response = client_for(other_citizen).post(
        f"{RECEIVED_URL}{invitation.pk}/accept/", {"leave_current": True}
    )

    assert response.status_code == 200, response.content
    assert response.json()["id"] == household.pk
    own.refresh_from_db()
    assert own.vacated_at is not None
    assert [k for k, _d, _a in timeline(own)][-2:] == ["member_left", "vacated"]
    assert HouseholdMember.objects.filter(household=own, ended_at__isnull=True).count() == 0


def test_a_head_joining_elsewhere_names_the_new_head_of_those_who_stay(
    citizen, family, other_citizen
):
    """The head joins another household; the spouse heads the old one, with the child."""
    other = Household.objects.get(pk=register(other_citizen, ward=6001, hamlet="Thôn Na")["id"])
    invitation = _invite(other_citizen, other, citizen.phone)
    body = {"leave_current": True}

    refused = english(citizen).post(f"{RECEIVED_URL}{invitation.pk}/accept/", body)
    message = (
        "Members with an account stay at the old address: name one of them the new head of "
        "that household."
    )
    assert (refused.status_code, refused.json()) == (
        400,
        error("invalid_transition", message, {"new_head": [message]}),
    )

    response = client_for(citizen).post(
        f"{RECEIVED_URL}{invitation.pk}/accept/", {**body, "new_head": family.spouse.pk}
    )

    assert response.status_code == 200, response.content
    assert [(m["full_name"], m["relationship"]) for m in response.json()["members"]] == [
        ("Trần Thị Bình", "head"),
        ("Nguyễn Văn An", "other"),
    ]
    family.spouse.refresh_from_db()
    family.child.refresh_from_db()
    assert (family.spouse.relationship, family.child.ended_at) == ("head", None)
    family.household.refresh_from_db()
    assert family.household.vacated_at is None


def test_the_invitee_declines(citizen, household, other_citizen):
    invitation = _invite(citizen, household, other_citizen.phone)
    before_events = timeline(household)

    response = client_for(other_citizen).post(f"{RECEIVED_URL}{invitation.pk}/decline/")

    assert response.status_code == 204
    invitation.refresh_from_db()
    assert (invitation.status, invitation.member, invitation.answered_at is not None) == (
        "declined",
        None,
        True,
    )
    assert timeline(household) == before_events
    assert HouseholdMember.objects.filter(user=other_citizen).count() == 0
    assert client_for(other_citizen).get(RECEIVED_URL).json() == []
    again = english(other_citizen).post(f"{RECEIVED_URL}{invitation.pk}/accept/", {})
    assert (again.status_code, again.json()) == (
        409,
        error("invitation_unavailable", INVITATION_UNAVAILABLE),
    )


def test_the_head_cancels_an_invitation(citizen, household, other_citizen):
    invitation = _invite(citizen, household, other_citizen.phone)

    response = client_for(citizen).delete(f"{URL}{household.pk}/invitations/{invitation.pk}/")

    assert response.status_code == 204
    invitation.refresh_from_db()
    assert invitation.status == "cancelled"
    assert client_for(other_citizen).get(RECEIVED_URL).json() == []
    accepted = english(other_citizen).post(f"{RECEIVED_URL}{invitation.pk}/accept/", {})
    assert (accepted.status_code, accepted.json()) == (
        409,
        error("invitation_unavailable", INVITATION_UNAVAILABLE),
    )
    assert HouseholdMember.objects.filter(user=other_citizen).count() == 0


def test_an_expired_invitation_cannot_be_accepted(citizen, household, other_citizen):
    invitation = _invite(citizen, household, other_citizen.phone)
    HouseholdInvitation.objects.filter(pk=invitation.pk).update(
        expires_at=timezone.now() - timedelta(seconds=1)
    )
    before = snapshot(household)

    response = english(other_citizen).post(f"{RECEIVED_URL}{invitation.pk}/accept/", {})

    assert (response.status_code, response.json()) == (
        409,
        error("invitation_unavailable", INVITATION_UNAVAILABLE),
    )
    assert snapshot(household) == before
    assert client_for(other_citizen).get(RECEIVED_URL).json() == []


def test_inviting_again_after_expiry_makes_a_new_invitation(citizen, household, other_citizen):
    first = _invite(citizen, household, other_citizen.phone)
    HouseholdInvitation.objects.filter(pk=first.pk).update(
        expires_at=timezone.now() - timedelta(seconds=1)
    )

    second = _invite(citizen, household, other_citizen.phone)

    first.refresh_from_db()
    assert second.pk != first.pk
    assert (first.status, second.status) == ("expired", "pending")


def test_an_invitation_to_someone_else_is_not_found(family, other_citizen):
    before = snapshot(family.household)

    response = english(other_citizen).post(f"{RECEIVED_URL}{family.invitation.pk}/accept/", {})
    declined = english(other_citizen).post(f"{RECEIVED_URL}{family.invitation.pk}/decline/")

    assert (response.status_code, response.json()) == (404, error("not_found", NOT_FOUND))
    assert (declined.status_code, declined.json()) == (404, error("not_found", NOT_FOUND))
    assert snapshot(family.household) == before


# --- leaving and removing --------------------------------------------------------------------


def test_the_head_removes_a_child(citizen, family):
    response = client_for(citizen).delete(f"{URL}{family.household.pk}/members/{family.child.pk}/")

    assert response.status_code == 204
    family.child.refresh_from_db()
    assert family.child.ended_at is not None
    assert timeline(family.household)[-1] == (
        "member_left",
        {"member": family.child.pk},
        citizen.pk,
    )
    members = client_for(citizen).get(f"{URL}{family.household.pk}/").json()["members"]
    assert [m["id"] for m in members] == [family.head.pk, family.spouse.pk]


def test_a_member_leaves_by_themselves(family):
    spouse = client_for(family.spouse_user)

    response = spouse.delete(f"{URL}{family.household.pk}/members/{family.spouse.pk}/")

    assert response.status_code == 204
    family.spouse.refresh_from_db()
    assert family.spouse.ended_at is not None
    assert timeline(family.household)[-1] == (
        "member_left",
        {"member": family.spouse.pk},
        family.spouse_user.pk,
    )
    assert spouse.get(URL).json() == []
    assert spouse.get(f"{URL}{family.household.pk}/").status_code == 404


def test_the_head_cannot_remove_themselves(citizen, family):
    before = snapshot(family.household)

    response = english(citizen).delete(f"{URL}{family.household.pk}/members/{family.head.pk}/")

    assert (response.status_code, response.json()) == (
        409,
        error("invalid_transition", HEAD_LEAVES_BY_MOVING),
    )
    assert snapshot(family.household) == before


def test_a_member_who_already_left_is_not_found(citizen, family):
    client_for(citizen).delete(f"{URL}{family.household.pk}/members/{family.child.pk}/")
    before = snapshot(family.household)

    response = english(citizen).delete(f"{URL}{family.household.pk}/members/{family.child.pk}/")

    assert (response.status_code, response.json()) == (404, error("not_found", NOT_FOUND))
    assert snapshot(family.household) == before


# --- moving -----------------------------------------------------------------------------------


def test_moving_makes_a_new_household_and_brings_the_children(citizen, family, other_ward):
    old = family.household

    response = client_for(citizen).post(
        MOVE_URL,
        {
            "ward": other_ward.code,
            "hamlet": "Thôn Nà Pàn",
            "bring_members": [family.child.pk],
            "new_head": family.spouse.pk,
        },
    )

    assert response.status_code == 201, response.content
    body = response.json()
    new = Household.objects.get(pk=body["id"])
    assert (body["code"], body["ward"]["code"], body["status"], body["hamlet"]) == (
        format_code(compose(6001, 1)),
        6001,
        "pending",
        "Thôn Nà Pàn",
    )
    assert (new.source, new.created_by) == ("move", citizen)
    assert [(m["full_name"], m["relationship"], m["has_account"]) for m in body["members"]] == [
        ("Nguyễn Văn An", "head", True),
        ("Nguyễn Văn Bé", "child", False),
    ]
    assert new.members.get(relationship="child").date_of_birth.isoformat() == "2018-03-02"
    assert timeline(new) == [("created", {"moved_from": old.pk}, citizen.pk)]
    family.head.refresh_from_db()
    family.child.refresh_from_db()
    family.spouse.refresh_from_db()
    assert family.head.ended_at is not None
    assert family.child.ended_at is not None
    # Adults with an account decide for themselves; the one named heads the old household.
    assert (family.spouse.ended_at, family.spouse.relationship) == (None, "head")
    assert timeline(old)[-3:] == [
        ("member_left", {"member": family.head.pk, "moved_to": new.pk}, citizen.pk),
        ("member_left", {"member": family.child.pk, "moved_to": new.pk}, citizen.pk),
        (
            "head_changed",
            {"member": family.spouse.pk, "previous_relationship": "spouse"},
            citizen.pk,
        ),
    ]
    assert [h["id"] for h in client_for(citizen).get(URL).json()] == [new.pk]
    assert WardAddressSequence.objects.get(ward=other_ward).last_value == 1


def test_a_member_with_an_account_cannot_be_brought_along(citizen, family, other_ward):
    before = snapshot(family.household)

    response = english(citizen).post(
        MOVE_URL,
        {"ward": other_ward.code, "hamlet": "Thôn Nà Pàn", "bring_members": [family.spouse.pk]},
    )

    assert (response.status_code, response.json()) == (
        409,
        error(
            "invalid_transition",
            ONLY_ACCOUNTLESS_COME_ALONG,
            {"bring_members": [ONLY_ACCOUNTLESS_COME_ALONG]},
        ),
    )
    assert snapshot(family.household) == before
    assert not WardAddressSequence.objects.filter(ward=other_ward).exists()


def test_only_the_head_brings_members_along(family, other_ward):
    before = snapshot(family.household)

    response = english(family.spouse_user).post(
        MOVE_URL,
        {"ward": other_ward.code, "hamlet": "Thôn Nà Pàn", "bring_members": [family.child.pk]},
    )

    assert (response.status_code, response.json()) == (
        403,
        error("not_household_head", NOT_HEAD),
    )
    assert snapshot(family.household) == before


def test_a_member_moves_out_alone(family, other_ward):
    response = client_for(family.spouse_user).post(
        MOVE_URL, {"ward": other_ward.code, "hamlet": "Thôn Nà Pàn"}
    )

    assert response.status_code == 201, response.content
    family.spouse.refresh_from_db()
    assert family.spouse.ended_at is not None
    assert [m["relationship"] for m in response.json()["members"]] == ["head"]


# --- address codes ---------------------------------------------------------------------------


def test_codes_follow_the_ward_sequence_and_are_never_reused(ward):
    citizens = [UserFactory(ward=ward) for _ in range(4)]

    codes = [register(c, house_number=str(n))["code"] for n, c in enumerate(citizens[:3])]
    assert codes == [format_code(compose(6040, n)) for n in (1, 2, 3)]

    Household.objects.get(code=compose(6040, 3)).delete()
    fourth = register(citizens[3], house_number="3")

    assert fourth["code"] == format_code(compose(6040, 4))
    assert WardAddressSequence.objects.get(ward=ward).last_value == 4


def test_each_ward_has_its_own_sequence(citizen, other_citizen, ward, other_ward):
    first = register(citizen)
    second = register(other_citizen, ward=other_ward.code)

    assert (first["code"], second["code"]) == (
        format_code(compose(6040, 1)),
        format_code(compose(6001, 1)),
    )


# --- who may do what: the citizens' endpoints -------------------------------------------------


@pytest.mark.parametrize("intruder", ["other_citizen", "other_official", "official"])
def test_someone_outside_the_household_sees_and_changes_nothing(request, family, intruder):
    client = english(request.getfixturevalue(intruder))
    h = family.household
    before = snapshot(h)

    responses = [
        client.get(f"{URL}{h.pk}/"),
        client.patch(f"{URL}{h.pk}/", {"street": "Phố Lạ"}),
        client.post(f"{URL}{h.pk}/members/", {"full_name": "Người Lạ", "relationship": "other"}),
        client.post(f"{URL}{h.pk}/members/", {"phone": "0944444444", "relationship": "other"}),
        client.delete(f"{URL}{h.pk}/members/{family.child.pk}/"),
        client.delete(f"{URL}{h.pk}/invitations/{family.invitation.pk}/"),
        client.patch(f"{URL}{h.pk}/members/{family.child.pk}/", {"needs_assistance": True}),
    ]

    assert [(r.status_code, r.json()) for r in responses] == [
        (404, error("not_found", NOT_FOUND))
    ] * 7
    assert snapshot(h) == before
    assert client.get(URL).json() == []


def test_a_member_who_is_not_the_head_cannot_manage_the_household(family):
    client = english(family.spouse_user)
    h = family.household
    before = snapshot(h)

    responses = [
        client.patch(f"{URL}{h.pk}/", {"street": "Phố Lạ"}),
        client.post(f"{URL}{h.pk}/members/", {"full_name": "Người Lạ", "relationship": "other"}),
        client.post(f"{URL}{h.pk}/members/", {"phone": "0944444444", "relationship": "other"}),
        client.delete(f"{URL}{h.pk}/members/{family.child.pk}/"),
        client.delete(f"{URL}{h.pk}/invitations/{family.invitation.pk}/"),
        client.patch(f"{URL}{h.pk}/members/{family.child.pk}/", {"needs_assistance": True}),
        client.patch(f"{URL}{h.pk}/members/{family.head.pk}/", {"needs_assistance": True}),
    ]

    assert [(r.status_code, r.json()) for r in responses] == [
        (403, error("not_household_head", NOT_HEAD))
    ] * 7
    assert snapshot(h) == before
    # Reading is for every member.
    assert client.get(f"{URL}{h.pk}/").status_code == 200


def test_anonymous_requests_are_refused(family, api_client):
    h = family.household
    before = snapshot(h)

    responses = [
        api_client.get(URL),
        api_client.post(URL, ADDRESS),
        api_client.get(f"{URL}{h.pk}/"),
        api_client.patch(f"{URL}{h.pk}/", {"street": "Phố Lạ"}),
        api_client.post(f"{URL}{h.pk}/members/", {"full_name": "Lạ", "relationship": "other"}),
        api_client.delete(f"{URL}{h.pk}/members/{family.child.pk}/"),
        api_client.patch(f"{URL}{h.pk}/members/{family.child.pk}/", {"needs_assistance": True}),
        api_client.delete(f"{URL}{h.pk}/invitations/{family.invitation.pk}/"),
        api_client.post(MOVE_URL, ADDRESS),
        api_client.get(RECEIVED_URL),
        api_client.post(f"{RECEIVED_URL}{family.invitation.pk}/accept/", {}),
        api_client.post(f"{RECEIVED_URL}{family.invitation.pk}/decline/"),
        api_client.get(OFFICIAL_URL),
        api_client.get(f"{OFFICIAL_URL}{h.pk}/"),
        api_client.post(f"{OFFICIAL_URL}{h.pk}/verify/"),
        api_client.patch(
            f"{OFFICIAL_URL}{h.pk}/members/{family.child.pk}/", {"needs_assistance": True}
        ),
    ]

    assert {(r.status_code, r.json()["code"]) for r in responses} == {(401, "not_authenticated")}
    assert snapshot(h) == before


# --- who may do what: the officials' endpoints ------------------------------------------------


def test_an_official_of_another_unit_sees_and_changes_nothing(family, other_official):
    client = english(other_official)
    h = family.household
    before = snapshot(h)

    responses = [
        client.get(f"{OFFICIAL_URL}{h.pk}/"),
        client.post(f"{OFFICIAL_URL}{h.pk}/verify/"),
        client.post(f"{OFFICIAL_URL}{h.pk}/reject/", {"reason": "Không có thật"}),
        client.post(f"{OFFICIAL_URL}{h.pk}/external-codes/", {"scheme": "national", "code": "X1"}),
        client.patch(
            f"{OFFICIAL_URL}{h.pk}/members/{family.child.pk}/", {"needs_assistance": True}
        ),
    ]

    assert [(r.status_code, r.json()) for r in responses] == [
        (404, error("not_found", NOT_FOUND))
    ] * 5
    assert snapshot(h) == before
    assert Household.objects.get(pk=h.pk).status == "pending"
    assert DataAccessLog.objects.count() == 0
    listed = client.get(OFFICIAL_URL)
    assert (listed.status_code, listed.json()["results"]) == (200, [])
    assert client.get(OFFICIAL_URL, {"ward": 6040}).json()["results"] == []


@pytest.mark.parametrize("who", ["citizen", "other_citizen"])
def test_citizens_cannot_use_the_officials_api(request, family, who):
    client = english(request.getfixturevalue(who))
    h = family.household
    before = snapshot(h)

    responses = [
        client.get(OFFICIAL_URL),
        client.get(f"{OFFICIAL_URL}{h.pk}/"),
        client.post(f"{OFFICIAL_URL}{h.pk}/verify/"),
        client.post(f"{OFFICIAL_URL}{h.pk}/reject/", {"reason": "Không có thật"}),
        client.post(f"{OFFICIAL_URL}{h.pk}/external-codes/", {"scheme": "national", "code": "X1"}),
        client.get("/api/v1/official/stats/"),
        client.patch(
            f"{OFFICIAL_URL}{h.pk}/members/{family.child.pk}/", {"needs_assistance": True}
        ),
    ]

    assert [(r.status_code, r.json()) for r in responses] == [
        (
            403,
            error("permission_denied", "You do not have permission to perform this action."),
        )
    ] * 7
    assert snapshot(h) == before


def test_the_province_administrator_verifies_households_of_the_province(household, province_admin):
    response = client_for(province_admin).post(f"{OFFICIAL_URL}{household.pk}/verify/")

    assert (response.status_code, response.json()["status"]) == (200, "verified")
    household.refresh_from_db()
    assert (household.status, household.reviewed_by) == ("verified", province_admin)
    assert timeline(household)[-1] == (
        "verified",
        {"from": "pending", "to": "verified"},
        province_admin.pk,
    )


def test_an_official_reading_a_household_is_logged_for_each_member_with_an_account(
    family, official, citizen
):
    client = client_for(official)

    listed = client.get(OFFICIAL_URL)
    assert [h["id"] for h in listed.json()["results"]] == [family.household.pk]
    assert DataAccessLog.objects.count() == 0

    response = client.get(f"{OFFICIAL_URL}{family.household.pk}/")

    assert response.status_code == 200, response.content
    body = response.json()
    assert (body["id"], body["source"], body["reviewed_at"]) == (family.household.pk, "app", None)
    assert [m["full_name"] for m in body["members"]] == [
        "Nguyễn Văn An",
        "Nguyễn Văn Bé",
        "Hoàng Thị Vợ",
    ]
    rows = DataAccessLog.objects.order_by("id").values_list(
        "official", "subject", "resource", "object_id", "channel", "purpose"
    )
    household_id = str(family.household.pk)
    assert list(rows) == [
        (official.pk, citizen.pk, "household", household_id, "api", "household_verification"),
        (
            official.pk,
            None,
            "household_member",
            str(family.child.pk),
            "api",
            "household_verification",
        ),
        (
            official.pk,
            family.spouse_user.pk,
            "household",
            household_id,
            "api",
            "household_verification",
        ),
    ]


def test_the_detail_returned_by_a_verification_is_logged_too(family, official):
    response = client_for(official).post(f"{OFFICIAL_URL}{family.household.pk}/verify/")

    assert [m["full_name"] for m in response.json()["members"]] != []
    assert DataAccessLog.objects.count() == 3


# --- verifying and rejecting -----------------------------------------------------------------


def test_a_rejection_needs_a_reason(household, official):
    client = english(official)
    before = snapshot(household)

    missing = client.post(f"{OFFICIAL_URL}{household.pk}/reject/", {})
    blank = client.post(f"{OFFICIAL_URL}{household.pk}/reject/", {"reason": "   "})

    assert (missing.status_code, missing.json()) == (
        400,
        error("invalid", INVALID, {"reason": [REASON_REQUIRED]}),
    )
    assert (blank.status_code, blank.json()) == (
        400,
        error("invalid", INVALID, {"reason": ["This field may not be blank."]}),
    )
    assert snapshot(household) == before


def test_an_official_rejects_with_a_reason(household, official, citizen):
    response = client_for(official).post(
        f"{OFFICIAL_URL}{household.pk}/reject/", {"reason": " Không có số nhà 12 "}
    )

    assert response.status_code == 200, response.content
    body = response.json()
    assert (body["status"], body["rejection_reason"]) == ("rejected", "Không có số nhà 12")
    household.refresh_from_db()
    assert (household.status, household.rejection_reason, household.reviewed_by) == (
        "rejected",
        "Không có số nhà 12",
        official,
    )
    assert household.reviewed_at is not None
    assert timeline(household) == [
        ("created", {}, citizen.pk),
        (
            "rejected",
            {"from": "pending", "to": "rejected", "reason": "Không có số nhà 12"},
            official.pk,
        ),
    ]
    # The citizen reads the reason, and which official decided.
    mine = client_for(citizen).get(f"{URL}{household.pk}/").json()
    assert (mine["status"], mine["rejection_reason"]) == ("rejected", "Không có số nhà 12")
    assert mine["timeline"][-1]["actor"] == "Lý Thị Cán Bộ"


def test_verifying_twice_is_harmless(household, official):
    first = verify(official, household)
    second = verify(official, household)

    assert (first["status"], second["status"]) == ("verified", "verified")
    assert [kind for kind, _data, _actor in timeline(household)] == ["created", "verified"]
    household.refresh_from_db()
    assert (household.status, household.reviewed_by) == ("verified", official)


def test_a_verified_household_cannot_be_rejected(household, official):
    verify(official, household)
    before = snapshot(household)

    response = english(official).post(
        f"{OFFICIAL_URL}{household.pk}/reject/", {"reason": "Nhầm lẫn"}
    )

    assert (response.status_code, response.json()) == (
        409,
        error("invalid_transition", INVALID_TRANSITION),
    )
    assert snapshot(household) == before


def test_a_rejected_household_is_verified_only_after_the_citizen_edits_it(
    household, official, citizen
):
    client_for(official).post(f"{OFFICIAL_URL}{household.pk}/reject/", {"reason": "Sai vị trí"})
    before = snapshot(household)

    refused = english(official).post(f"{OFFICIAL_URL}{household.pk}/verify/")

    assert (refused.status_code, refused.json()["code"]) == (409, "invalid_transition")
    assert snapshot(household) == before
    client_for(citizen).patch(f"{URL}{household.pk}/", {"latitude": "22.2571"})
    assert verify(official, household)["status"] == "verified"


def test_the_queue_filters_by_status(household, official, ward):
    other = Household.objects.get(pk=register(UserFactory(ward=ward), house_number="7")["id"])
    verify(official, other)
    client = client_for(official)

    pending = client.get(OFFICIAL_URL, {"status": "pending"}).json()["results"]
    verified = client.get(OFFICIAL_URL, {"status": "verified"}).json()["results"]

    assert [h["id"] for h in pending] == [household.pk]
    assert verified == [
        {
            "id": other.pk,
            "code": other.formatted_code,
            "ward": 6040,
            "address_line": "7, Đường Hoàng Văn Thụ, Khối 3",
            "has_location": True,
            "status": "verified",
            "source": "app",
            "created_at": iso(other.created_at),
            "updated_at": iso(other.updated_at),
            "vacated_at": None,
        }
    ]


# --- external codes --------------------------------------------------------------------------


def test_an_official_attaches_an_external_code(household, official, citizen):
    response = client_for(official).post(
        f"{OFFICIAL_URL}{household.pk}/external-codes/",
        {"scheme": "national", "code": " vn-ls 0012 ab "},
    )

    assert (response.status_code, response.json()) == (
        201,
        {"scheme": "national", "code": "VN-LS0012AB"},
    )
    attached = ExternalAddressCode.objects.get()
    assert (attached.household, attached.scheme, attached.code, attached.attached_by) == (
        household,
        "national",
        "VN-LS0012AB",
        official,
    )
    assert timeline(household)[-1] == (
        "external_code",
        {"scheme": "national", "code": "VN-LS0012AB"},
        official.pk,
    )
    assert client_for(citizen).get(f"{URL}{household.pk}/").json()["external_codes"] == [
        {"scheme": "national", "code": "VN-LS0012AB"}
    ]


def test_attaching_the_same_code_again_changes_nothing(household, official):
    client = client_for(official)
    url = f"{OFFICIAL_URL}{household.pk}/external-codes/"
    client.post(url, {"scheme": "vpostcode", "code": "241234"})
    before = snapshot(household)

    again = client.post(url, {"scheme": "vpostcode", "code": "24 1234"})

    # The same answer as the first time: the code is attached, nothing new was written.
    assert (again.status_code, again.json()) == (201, {"scheme": "vpostcode", "code": "241234"})
    assert snapshot(household) == before


def test_a_code_attached_to_another_household_is_refused(household, official, ward):
    other = Household.objects.get(pk=register(UserFactory(ward=ward), house_number="7")["id"])
    client = english(official)
    client.post(
        f"{OFFICIAL_URL}{household.pk}/external-codes/", {"scheme": "national", "code": "X1"}
    )
    before = snapshot(other)

    response = client.post(
        f"{OFFICIAL_URL}{other.pk}/external-codes/", {"scheme": "national", "code": "x1"}
    )

    assert (response.status_code, response.json()) == (
        409,
        error("external_code_taken", EXTERNAL_CODE_TAKEN, {"code": [EXTERNAL_CODE_TAKEN]}),
    )
    assert snapshot(other) == before
    # Another scheme may use the same characters.
    other_scheme = client.post(
        f"{OFFICIAL_URL}{other.pk}/external-codes/", {"scheme": "vpostcode", "code": "X1"}
    )
    assert other_scheme.status_code == 201


# --- query counts ----------------------------------------------------------------------------


def test_my_household_costs_a_fixed_number_of_queries(family, citizen, django_assert_num_queries):
    client = client_for(citizen)
    ExternalAddressCode.objects.create(household=family.household, scheme="national", code="X1")

    # The token's user, the household (ward and province joined), then one query each for the
    # members, the external codes, the timeline (actors joined) and the pending invitations.
    with django_assert_num_queries(6):
        response = client.get(URL)

    body = response.json()
    assert len(body[0]["members"]) == 3
    assert len(body[0]["invitations"]) == 1
    assert len(body[0]["external_codes"]) == 1


@pytest.mark.parametrize("count", [3, 10])
def test_the_verification_queue_costs_the_same_for_any_number_of_rows(
    count, official, ward, django_assert_num_queries
):
    for n in range(count):
        HouseholdFactory(ward=ward, head=UserFactory(ward=ward), house_number=str(n))
    client = client_for(official)

    # The token's user with the official profile, its permissions (direct and through groups,
    # one query), its units, the page of households.
    with django_assert_num_queries(with_units_query(4)):
        response = client.get(OFFICIAL_URL)

    assert len(response.json()["results"]) == count


def test_the_officials_statistics_cost_a_fixed_number_of_queries(
    official, ward, other_ward, django_assert_num_queries
):
    for n in range(3):
        HouseholdFactory(ward=ward, house_number=str(n))
    client = client_for(official)

    # The token's user with the official profile, its units, one aggregate over the wards; the
    # dossier KPIs: decided and submitted, in total, per unit and per procedure; the report
    # KPIs: received, acknowledged and resolved.
    with django_assert_num_queries(with_units_query(12)):
        response = client.get("/api/v1/official/stats/")

    assert [w["ward"] for w in response.json()["wards"]] == [6040]


def test_the_public_statistics_cost_a_fixed_number_of_queries(
    ward, other_ward, api_client, django_assert_num_queries
):
    for w in (ward, ward, other_ward):
        HouseholdFactory(ward=w)

    # The province, one aggregate over its wards, the six of the dossier KPIs, the three of
    # the report KPIs.
    with django_assert_num_queries(11):
        response = api_client.get("/api/v1/stats/units/", {"province": 20})

    assert [w["registered"] for w in response.json()["wards"]] == [1, 2]


def test_nearby_costs_a_fixed_number_of_queries(citizen, ward, django_assert_num_queries):
    for n in range(5):
        HouseholdFactory(
            ward=ward,
            latitude=Decimal("22.257000") + Decimal(n) / 10000,
            longitude=Decimal("106.474"),
        )
    client = client_for(citizen)

    # The token's user, the households in the bounding box (ward and province joined).
    with django_assert_num_queries(2):
        response = client.get("/api/v1/addresses/nearby/", {"lat": "22.257", "lng": "106.474"})

    assert len(response.json()) == 5


def test_another_ward_of_the_province_is_not_in_the_queue(official, other_ward):
    HouseholdFactory(ward=other_ward)

    assert client_for(official).get(OFFICIAL_URL).json()["results"] == []


# --- a head moving out leaves nobody without a head --------------------------------------------


def _move_refused(user, body, status, code, field, message, household) -> None:
    before = snapshot(household)
    households = Household.objects.count()

    response = english(user).post(MOVE_URL, body)

    assert (response.status_code, response.json()) == (
        status,
        error(code, message, {field: [message]}),
    )
    assert snapshot(household) == before
    assert Household.objects.count() == households


def test_a_head_who_leaves_members_with_an_account_must_name_the_new_head(
    citizen, family, other_ward
):
    message = (
        "Members with an account stay at the old address: name one of them the new head of "
        "that household."
    )
    body = {"ward": other_ward.code, "hamlet": "Thôn Nà Pàn", "bring_members": [family.child.pk]}
    _move_refused(citizen, body, 400, "invalid_transition", "new_head", message, family.household)
    # Naming the child (no account) or a stranger is the same refusal.
    for wrong in (family.child.pk, 999999):
        body_wrong = {**body, "bring_members": [], "new_head": wrong}
        _move_refused(
            citizen, body_wrong, 400, "invalid_transition", "new_head", message, family.household
        )


def test_a_head_cannot_leave_children_alone(citizen, household, other_ward):
    child = client_for(citizen).post(
        f"{URL}{household.pk}/members/", {"full_name": "Nguyễn Văn Bé", "relationship": "child"}
    )
    assert child.status_code == 201, child.content
    message = (
        "Members without an account cannot stay on their own: bring them along, or remove them "
        "from the household first."
    )
    body = {"ward": other_ward.code, "hamlet": "Thôn Nà Pàn"}
    _move_refused(citizen, body, 409, "invalid_transition", "bring_members", message, household)


def test_naming_a_new_head_when_nobody_stays_is_refused(citizen, household, other_ward):
    message = "Nobody with an account stays at the old address."
    body = {"ward": other_ward.code, "hamlet": "Thôn Nà Pàn", "new_head": 1}
    _move_refused(citizen, body, 400, "invalid_transition", "new_head", message, household)


def test_a_head_alone_moves_without_naming_anyone(citizen, household, other_ward):
    response = client_for(citizen).post(MOVE_URL, {"ward": other_ward.code, "hamlet": "Bản Mới"})

    assert response.status_code == 201, response.content
    assert HouseholdMember.objects.get(household=household).ended_at is not None
    assert HouseholdMember.objects.filter(household=household, ended_at__isnull=True).count() == 0
