"""Households over time: vacated when the last resident leaves, decisions on the address the
official saw, roles, input as phones send it."""

from __future__ import annotations

from decimal import Decimal

import pytest

from accounts.actions.officials import official_create_or_update
from digital_address.actions.households import (
    Address,
    household_create,
    member_add,
    member_invite,
)
from digital_address.models import (
    Household,
    HouseholdEvent,
    HouseholdInvitation,
    HouseholdMember,
    InvitationStatus,
)
from tests.conftest import client_for
from tests.factories import PASSWORD, UserFactory

HERE = Address(
    house_number="12", hamlet="Khối 1", latitude=Decimal("22.257"), longitude=Decimal("106.474")
)
OFFICIAL_URL = "/api/v1/official/households/"


def error(code: str, message: str, fields: dict | None = None) -> dict:
    return {"code": code, "message": message, "fields": fields or {}}


def english(user):
    client = client_for(user)
    client.defaults["HTTP_ACCEPT_LANGUAGE"] = "en"
    return client


@pytest.fixture
def household(citizen, ward) -> Household:
    return household_create(actor=citizen, ward=ward, address=HERE)


def test_the_last_resident_moving_out_vacates_the_household(citizen, household, other_ward):
    invitation = member_invite(
        actor=citizen, household=household, phone="+84933333333", relationship="other"
    )

    response = client_for(citizen).post(
        "/api/v1/households/move/", {"ward": other_ward.code, "hamlet": "Bản Mới"}
    )

    assert response.status_code == 201, response.content
    household.refresh_from_db()
    assert household.vacated_at is not None
    invitation.refresh_from_db()
    assert (invitation.status, invitation.answered_at) == (
        InvitationStatus.CANCELLED,
        household.vacated_at,
    )
    assert list(
        HouseholdEvent.objects.filter(household=household).values_list("kind", flat=True)
    ) == ["created", "member_invited", "member_left", "vacated"]


def test_a_vacated_household_leaves_coverage_queue_and_nearby_but_still_resolves(
    citizen, household, other_ward, official, api_client
):
    client_for(official).post(f"{OFFICIAL_URL}{household.pk}/verify/")
    client_for(citizen).post(
        "/api/v1/households/move/", {"ward": other_ward.code, "hamlet": "Bản Mới"}
    )

    stats = api_client.get("/api/v1/stats/units/").json()
    row = next(w for w in stats["wards"] if w["ward"] == 6040)
    assert (row["registered"], row["verified"], row["with_digital_address"]) == (0, 0, 0)
    queue = client_for(official).get(OFFICIAL_URL, {"status": "verified"}).json()["results"]
    assert queue == []
    nearby = client_for(citizen).get(
        "/api/v1/addresses/nearby/", {"lat": "22.257", "lng": "106.474", "radius": 50}
    )
    assert nearby.json() == []
    # The plate on the wall still names the place.
    assert api_client.get(f"/api/v1/addresses/{household.code}/").status_code == 200
    # Its history is still in the officials' list without a status filter.
    listed = client_for(official).get(OFFICIAL_URL).json()["results"]
    assert [(h["id"], h["vacated_at"] is not None) for h in listed] == [(household.pk, True)]


def test_a_vacated_household_cannot_be_verified(citizen, household, other_ward, official):
    client_for(citizen).post(
        "/api/v1/households/move/", {"ward": other_ward.code, "hamlet": "Bản Mới"}
    )
    events = HouseholdEvent.objects.count()

    response = english(official).post(f"{OFFICIAL_URL}{household.pk}/verify/")

    assert (response.status_code, response.json()) == (
        409,
        error("invalid_transition", "Nobody lives in this household any more."),
    )
    household.refresh_from_db()
    assert household.status == "pending"
    assert HouseholdEvent.objects.count() == events


# --- decisions on what the official saw ------------------------------------------------------


def test_a_verification_of_an_address_changed_since_it_was_opened_is_refused(
    citizen, household, official
):
    seen = client_for(official).get(f"{OFFICIAL_URL}{household.pk}/").json()["updated_at"]
    client_for(citizen).patch(f"/api/v1/households/{household.pk}/", {"house_number": "14"})

    response = english(official).post(f"{OFFICIAL_URL}{household.pk}/verify/", {"updated_at": seen})

    assert (response.status_code, response.json()) == (
        409,
        error(
            "household_changed",
            "The household was changed after you opened it: look at it again before deciding.",
        ),
    )
    household.refresh_from_db()
    assert household.status == "pending"
    rejected = english(official).post(
        f"{OFFICIAL_URL}{household.pk}/reject/", {"updated_at": seen, "reason": "Sai địa chỉ"}
    )
    assert rejected.status_code == 409
    fresh = client_for(official).get(f"{OFFICIAL_URL}{household.pk}/").json()["updated_at"]
    verified = client_for(official).post(
        f"{OFFICIAL_URL}{household.pk}/verify/", {"updated_at": fresh}
    )
    assert (verified.status_code, verified.json()["status"]) == (200, "verified")


def test_an_official_without_a_household_role_reads_no_household(household, ward, province):
    clerk = official_create_or_update(
        phone="+84900000099",
        full_name="Cán Bộ Không Vai Trò",
        password=PASSWORD,
        roles=[],
        unit_codes=[ward.code],
    )

    for url in (OFFICIAL_URL, f"{OFFICIAL_URL}{household.pk}/"):
        response = client_for(clerk).get(url)
        assert (response.status_code, response.json()["code"]) == (403, "permission_denied")


# --- input as phones send it -----------------------------------------------------------------


def test_gps_coordinates_with_many_decimals_are_rounded_not_refused(citizen, ward):
    response = client_for(citizen).post(
        "/api/v1/households/",
        {"ward": ward.code, "hamlet": "Khối 1", "latitude": 22.25712345678, "longitude": 106.4741},
    )

    assert response.status_code == 201, response.content
    assert (response.json()["latitude"], response.json()["longitude"]) == (22.257123, 106.4741)
    nearby = client_for(citizen).get(
        "/api/v1/addresses/nearby/", {"lat": "22.25712345678", "lng": "106.47410000001"}
    )
    assert nearby.status_code == 200


@pytest.mark.parametrize("value", ["1e999999", "NaN", "Infinity", "9999999999.5"])
def test_absurd_coordinates_are_a_field_error(citizen, ward, value):
    response = english(citizen).post(
        "/api/v1/households/",
        {"ward": ward.code, "hamlet": "Khối 1", "latitude": value, "longitude": "106.47"},
    )

    assert response.status_code == 400
    assert list(response.json()["fields"]) == ["latitude"]
    assert Household.objects.count() == 0


def test_a_member_cannot_be_born_in_the_future(citizen, household):
    response = english(citizen).post(
        f"/api/v1/households/{household.pk}/members/",
        {"full_name": "Bé Tương Lai", "date_of_birth": "9999-12-31", "relationship": "child"},
    )

    assert (response.status_code, response.json()["fields"]) == (
        400,
        {"date_of_birth": ["A date of birth cannot be in the future."]},
    )
    assert HouseholdMember.objects.filter(household=household).count() == 1


def test_the_ten_character_plus_code_maps_show_resolves(household, api_client):
    short = household.plus_code[:-1]  # "7PJ87F4F+RJ"

    response = api_client.get(f"/api/v1/addresses/{short.lower()}/")

    assert (response.status_code, response.json()["code"]) == (200, household.formatted_code)


@pytest.mark.parametrize("code", ["%00", "a%00b", "06040%0000001"])
def test_a_nul_in_a_code_is_not_found(code, api_client, household):
    response = api_client.get(f"/api/v1/addresses/{code}/")

    assert (response.status_code, response.json()["code"]) == (404, "not_found")


# --- erasure ---------------------------------------------------------------------------------


def test_when_the_head_erases_their_account_the_longest_standing_adult_heads(
    citizen, household, ward
):
    spouse = UserFactory(phone="+84911111111", ward=ward)
    invitation = member_invite(
        actor=citizen, household=household, phone=spouse.phone, relationship="spouse"
    )
    client_for(spouse).post(f"/api/v1/households/invitations/{invitation.pk}/accept/", {})
    member_add(
        actor=citizen, household=household, full_name="Bé", date_of_birth=None, relationship="child"
    )

    response = client_for(citizen).delete("/api/v1/me/", {"password": PASSWORD})

    assert response.status_code == 204
    assert HouseholdMember.objects.get(user=spouse).relationship == "head"
    household.refresh_from_db()
    assert household.vacated_at is None
    assert HouseholdInvitation.objects.filter(household=household).count() == 1


def test_the_timeline_tells_each_event_in_words(citizen, household, official):
    client_for(citizen).patch(f"/api/v1/households/{household.pk}/", {"street": "Phố Mới"})
    client_for(official).post(
        f"{OFFICIAL_URL}{household.pk}/reject/", {"reason": "Không đúng địa chỉ"}
    )

    timeline = english(citizen).get(f"/api/v1/households/{household.pk}/").json()["timeline"]

    assert [(e["kind"], e["summary"]) for e in timeline] == [
        ("created", ""),
        ("address_changed", "changed: street"),
        ("rejected", "Pending verification → Rejected; reason: Không đúng địa chỉ"),
    ]
    vietnamese = client_for(citizen).get(f"/api/v1/households/{household.pk}/").json()
    assert vietnamese["timeline"][2]["summary"] == (
        "Chờ xác minh → Bị từ chối; lý do: Không đúng địa chỉ"
    )


@pytest.mark.parametrize(("value", "field"), [("1000", "latitude"), ("-999.9999999", "latitude")])
def test_coordinates_far_out_of_range_are_a_field_error_not_a_crash(citizen, ward, value, field):
    response = english(citizen).post(
        "/api/v1/households/",
        {"ward": ward.code, "hamlet": "Khối 1", "latitude": value, "longitude": "106.47"},
    )
    nearby = english(citizen).get("/api/v1/addresses/nearby/", {"lat": value, "lng": "106.47"})

    assert response.status_code == 400
    assert list(response.json()["fields"]) == [field]
    assert nearby.status_code == 400
    assert list(nearby.json()["fields"]) == ["lat"]


def test_a_plus_code_leads_to_the_household_living_there_now(
    citizen, household, other_citizen, ward, api_client
):
    client_for(citizen).post("/api/v1/households/move/", {"ward": ward.code, "hamlet": "Bản Mới"})
    newcomers = household_create(actor=other_citizen, ward=ward, address=HERE)
    assert newcomers.plus_code == household.plus_code

    response = api_client.get(f"/api/v1/addresses/{household.plus_code}/")

    assert response.json()["code"] == newcomers.formatted_code


def test_erasure_deletes_invitations_sent_to_an_earlier_number(citizen, household, ward):
    other_head = UserFactory(phone="+84913000001", ward=ward)
    other = household_create(actor=other_head, ward=ward, address=Address(hamlet="Bản Pò"))
    invited = UserFactory(phone="+84914000001", ward=ward)
    member_invite(actor=other_head, household=other, phone=invited.phone, relationship="other")
    HouseholdInvitation.objects.update(phone="+84914999999")  # the number they had then

    response = client_for(invited).delete("/api/v1/me/", {"password": PASSWORD})

    assert response.status_code == 204
    assert HouseholdInvitation.objects.filter(household=other).count() == 0


def test_a_head_with_only_children_is_told_to_remove_them_before_joining(
    citizen, household, other_citizen, ward
):
    member_add(
        actor=citizen, household=household, full_name="Bé", date_of_birth=None, relationship="child"
    )
    other = household_create(actor=other_citizen, ward=ward, address=Address(hamlet="Bản Pò"))
    invitation = member_invite(
        actor=other_citizen, household=other, phone=citizen.phone, relationship="spouse"
    )
    message = (
        "Members without an account cannot stay on their own: remove them from your household "
        "first; the head of the household you join can then add them."
    )

    response = english(citizen).post(
        f"/api/v1/households/invitations/{invitation.pk}/accept/", {"leave_current": True}
    )

    assert (response.status_code, response.json()) == (
        409,
        error("invalid_transition", message, {"leave_current": [message]}),
    )
    assert HouseholdMember.objects.filter(household=other, ended_at__isnull=True).count() == 1


def test_two_partial_edits_both_count(citizen, household):
    client = client_for(citizen)

    client.patch(
        f"/api/v1/households/{household.pk}/", {"latitude": "22.2575", "longitude": "106.4745"}
    )
    client.patch(f"/api/v1/households/{household.pk}/", {"house_number": "5"})

    household.refresh_from_db()
    assert (household.house_number, household.latitude, household.longitude) == (
        "5",
        Decimal("22.257500"),
        Decimal("106.474500"),
    )
