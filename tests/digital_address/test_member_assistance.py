"""Changing a household member: the head corrects a member without an account and flags who
needs help in an emergency, a member flags themself, an official of the ward flags members (API
and admin); the timeline tells it, officials' reads are logged, and the emergency check-in report
counts the flagged among the vulnerable."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from django.test import Client
from django.utils import timezone

from accounts.models import DataAccessLog, User
from digital_address.models import HouseholdEvent, HouseholdMember
from notifications.actions.broadcasts import broadcast_create, broadcast_fan_out
from notifications.selectors import check_in_report
from tests.conftest import client_for
from tests.digital_address.households import URL
from tests.digital_address.test_households_api import (
    NOT_FOUND,
    NOT_HEAD,
    english,
    error,
    iso,
    snapshot,
    timeline,
    vi,
)
from tests.factories import HouseholdFactory

pytestmark = pytest.mark.django_db

OFFICIAL_URL = "/api/v1/official/households/"
ACCOUNT_FIELD = "This comes from the member's own account: they change it in their profile."


def member_url(family, member: HouseholdMember) -> str:
    return f"{URL}{family.household.pk}/members/{member.pk}/"


def official_member_url(family, member: HouseholdMember) -> str:
    return f"{OFFICIAL_URL}{family.household.pk}/members/{member.pk}/"


def as_listed(member: HouseholdMember) -> dict:
    member.refresh_from_db()
    return {
        "id": member.pk,
        "full_name": member.full_name,
        "date_of_birth": member.date_of_birth.isoformat() if member.date_of_birth else None,
        "relationship": member.relationship,
        "has_account": member.user_id is not None,
        "needs_assistance": member.needs_assistance,
        "joined_at": iso(member.joined_at),
    }


# --- the household ----------------------------------------------------------------------------


def test_the_head_flags_a_child_who_needs_assistance(citizen, family):
    response = client_for(citizen).patch(
        member_url(family, family.child), {"needs_assistance": True}, format="json"
    )

    assert response.status_code == 200, response.content
    assert response.json() == as_listed(family.child)
    assert family.child.needs_assistance is True
    assert timeline(family.household)[-1] == (
        "member_updated",
        {"member": family.child.pk, "fields": ["needs_assistance"], "needs_assistance": True},
        citizen.pk,
    )
    detail = english(citizen).get(f"{URL}{family.household.pk}/").json()
    assert [(m["id"], m["needs_assistance"]) for m in detail["members"]] == [
        (family.head.pk, False),
        (family.child.pk, True),
        (family.spouse.pk, False),
    ]
    assert detail["timeline"][-1]["summary"] == (
        "changed: needs assistance in emergencies; flagged as needing assistance in emergencies"
    )
    assert DataAccessLog.objects.count() == 0


def test_the_head_corrects_the_name_and_birth_date_of_a_member_without_an_account(citizen, family):
    response = client_for(citizen).patch(
        member_url(family, family.child),
        {"full_name": "  Nguyễn Văn Bình ", "date_of_birth": "2018-04-02"},
        format="json",
    )

    assert response.status_code == 200, response.content
    family.child.refresh_from_db()
    assert (family.child.full_name, family.child.date_of_birth) == (
        "Nguyễn Văn Bình",
        date(2018, 4, 2),
    )
    assert response.json() == as_listed(family.child)
    assert timeline(family.household)[-1] == (
        "member_updated",
        {"member": family.child.pk, "fields": ["full_name", "date_of_birth"]},
        citizen.pk,
    )


def test_a_member_flags_themself_and_clears_it(family):
    client = client_for(family.spouse_user)

    flagged = client.patch(member_url(family, family.spouse), {"needs_assistance": True})
    cleared = client.patch(member_url(family, family.spouse), {"needs_assistance": False})

    assert (flagged.status_code, cleared.status_code) == (200, 200)
    assert cleared.json()["needs_assistance"] is False
    assert [e[1] for e in timeline(family.household)[-2:]] == [
        {"member": family.spouse.pk, "fields": ["needs_assistance"], "needs_assistance": True},
        {"member": family.spouse.pk, "fields": ["needs_assistance"], "needs_assistance": False},
    ]


def test_sending_what_is_already_there_writes_nothing(citizen, family):
    before = snapshot(family.household)

    response = client_for(citizen).patch(
        member_url(family, family.child),
        {"full_name": "Nguyễn Văn Bé", "needs_assistance": False},
        format="json",
    )

    assert (response.status_code, response.json()) == (200, as_listed(family.child))
    assert snapshot(family.household) == before


def test_the_name_of_a_member_with_an_account_is_the_accounts(citizen, family):
    before = snapshot(family.household)

    response = english(citizen).patch(
        member_url(family, family.spouse),
        {"full_name": "Tên Khác", "date_of_birth": "1990-01-01", "needs_assistance": True},
        format="json",
    )

    assert (response.status_code, response.json()) == (
        400,
        error(
            "invalid",
            ACCOUNT_FIELD,
            {"full_name": [ACCOUNT_FIELD], "date_of_birth": [ACCOUNT_FIELD]},
        ),
    )
    # Nothing of the request, the flag included.
    assert snapshot(family.household) == before

    in_vietnamese = client_for(family.spouse_user).patch(
        member_url(family, family.spouse), {"full_name": "Tên Khác"}
    )
    assert in_vietnamese.status_code == 400
    assert in_vietnamese.json() == error(
        "invalid", vi(ACCOUNT_FIELD), {"full_name": [vi(ACCOUNT_FIELD)]}
    )
    assert vi(ACCOUNT_FIELD) != ACCOUNT_FIELD


@pytest.mark.parametrize(
    ("body", "fields"),
    [
        ({"needs_assistance": "maybe"}, {"needs_assistance": ["Must be a valid boolean."]}),
        ({"full_name": ""}, {"full_name": ["This field may not be blank."]}),
        (
            {"full_name": "x" * 151},
            {"full_name": ["Ensure this field has no more than 150 characters."]},
        ),
        (
            {"date_of_birth": (timezone.localdate() + timedelta(days=1)).isoformat()},
            {"date_of_birth": ["A date of birth cannot be in the future."]},
        ),
        (
            {"date_of_birth": "02/03/2018"},
            {
                "date_of_birth": [
                    "Date has wrong format. Use one of these formats instead: YYYY-MM-DD."
                ]
            },
        ),
    ],
)
def test_bad_values_are_refused_per_field(citizen, family, body, fields):
    before = snapshot(family.household)

    response = english(citizen).patch(member_url(family, family.child), body, format="json")

    assert (response.status_code, response.json()) == (
        400,
        error("invalid", "Invalid input.", fields),
    )
    assert snapshot(family.household) == before


def test_the_vietnamese_answer_to_a_bad_flag(citizen, family):
    response = client_for(citizen).patch(
        member_url(family, family.child), {"needs_assistance": "maybe"}, format="json"
    )

    assert response.status_code == 400
    assert response.json()["fields"] == {"needs_assistance": ["Phải là giá trị đúng/sai hợp lệ."]}


def test_a_member_who_left_is_not_found(citizen, family):
    client_for(citizen).delete(member_url(family, family.child))
    before = snapshot(family.household)

    response = english(citizen).patch(member_url(family, family.child), {"needs_assistance": True})

    assert (response.status_code, response.json()) == (404, error("not_found", NOT_FOUND))
    assert snapshot(family.household) == before


def test_a_member_cannot_change_another_member(family):
    before = snapshot(family.household)

    response = english(family.spouse_user).patch(
        member_url(family, family.child), {"needs_assistance": True}
    )

    assert (response.status_code, response.json()) == (403, error("not_household_head", NOT_HEAD))
    assert snapshot(family.household) == before


# --- officials ----------------------------------------------------------------------------------


def test_an_official_of_the_ward_flags_a_member_and_the_read_is_logged(family, official):
    response = client_for(official).patch(
        official_member_url(family, family.child), {"needs_assistance": True}, format="json"
    )

    assert response.status_code == 200, response.content
    assert response.json() == as_listed(family.child)
    assert family.child.needs_assistance is True
    assert timeline(family.household)[-1] == (
        "member_updated",
        {"member": family.child.pk, "fields": ["needs_assistance"], "needs_assistance": True},
        official.pk,
    )
    assert list(
        DataAccessLog.objects.values_list(
            "official", "subject", "resource", "object_id", "channel", "purpose"
        )
    ) == [
        (
            official.pk,
            None,
            "household_member",
            str(family.child.pk),
            "api",
            "emergency_response",
        )
    ]


def test_an_official_flags_a_member_with_an_account_too(family, official):
    response = client_for(official).patch(
        official_member_url(family, family.spouse), {"needs_assistance": True}
    )

    assert response.status_code == 200, response.content
    family.spouse.refresh_from_db()
    assert family.spouse.needs_assistance is True
    assert list(DataAccessLog.objects.values_list("subject", "resource", "purpose")) == [
        (family.spouse_user.pk, "household", "emergency_response")
    ]


def test_an_official_who_does_not_verify_households_cannot_flag(family, broadcaster):
    before = snapshot(family.household)

    response = english(broadcaster).patch(
        official_member_url(family, family.child), {"needs_assistance": True}
    )

    assert (response.status_code, response.json()) == (404, error("not_found", NOT_FOUND))
    assert snapshot(family.household) == before


def test_the_official_must_send_the_flag(family, official):
    before = snapshot(family.household)

    response = english(official).patch(official_member_url(family, family.child), {})

    assert (response.status_code, response.json()) == (
        400,
        error("invalid", "Invalid input.", {"needs_assistance": ["This field is required."]}),
    )
    assert snapshot(family.household) == before


def test_a_member_of_another_household_is_not_found_through_this_one(
    family, official, citizen, ward
):
    other = HouseholdMember.objects.create(
        household=HouseholdFactory(ward=ward), full_name="Người Khác", relationship="other"
    )
    before = snapshot(family.household)

    response = english(official).patch(
        f"{OFFICIAL_URL}{family.household.pk}/members/{other.pk}/", {"needs_assistance": True}
    )

    assert (response.status_code, response.json()) == (404, error("not_found", NOT_FOUND))
    assert snapshot(family.household) == before
    other.refresh_from_db()
    assert other.needs_assistance is False


# --- the admin ----------------------------------------------------------------------------------


def admin_client(user: User) -> Client:
    client = Client(HTTP_ACCEPT_LANGUAGE="en")
    client.force_login(user)
    return client


def assistance_page(family) -> str:
    return f"/admin/digital_address/household/{family.household.pk}/assistance/"


def test_the_admin_form_lists_the_current_members_and_logs_the_read(family, official, citizen):
    family.child.needs_assistance = True
    family.child.save(update_fields=["needs_assistance"])
    client = admin_client(official)

    page = client.get(assistance_page(family))

    assert page.status_code == 200
    field = page.context["form"]["members"]
    assert [(choice.data["value"].value, choice.data["label"]) for choice in field] == [
        (family.head.pk, "Nguyễn Văn An"),
        (family.child.pk, "Nguyễn Văn Bé"),
        (family.spouse.pk, "Hoàng Thị Vợ"),
    ]
    assert [m.pk for m in page.context["form"].initial["members"]] == [family.child.pk]
    assert sorted(
        DataAccessLog.objects.values_list("subject", "resource", "object_id", "channel", "purpose"),
        key=repr,
    ) == sorted(
        [
            (citizen.pk, "household", str(family.household.pk), "admin", "emergency_response"),
            (None, "household_member", str(family.child.pk), "admin", "emergency_response"),
            (
                family.spouse_user.pk,
                "household",
                str(family.household.pk),
                "admin",
                "emergency_response",
            ),
        ],
        key=repr,
    )
    change = client.get(f"/admin/digital_address/household/{family.household.pk}/change/")
    assert assistance_page(family).encode() in change.content


def test_the_admin_form_sets_the_flags_as_ticked(family, official):
    family.child.needs_assistance = True
    family.child.save(update_fields=["needs_assistance"])

    response = admin_client(official).post(
        assistance_page(family), {"members": [family.head.pk, family.spouse.pk]}
    )

    assert response.status_code == 302
    flags = dict(
        HouseholdMember.objects.filter(household=family.household).values_list(
            "pk", "needs_assistance"
        )
    )
    assert flags == {family.head.pk: True, family.child.pk: False, family.spouse.pk: True}
    updates = HouseholdEvent.objects.filter(household=family.household, kind="member_updated")
    assert sorted((e.data["member"], e.data["needs_assistance"], e.actor_id) for e in updates) == [
        (family.head.pk, True, official.pk),
        (family.child.pk, False, official.pk),
        (family.spouse.pk, True, official.pk),
    ]


def test_the_admin_form_refuses_a_member_of_another_household(family, official, ward):
    before = snapshot(family.household)

    response = admin_client(official).post(assistance_page(family), {"members": [999999]})

    assert response.status_code == 200
    assert list(response.context["form"].errors) == ["members"]
    assert snapshot(family.household) == before


def test_the_admin_form_is_not_for_officials_of_another_ward(family, other_official):
    before = snapshot(family.household)
    client = admin_client(other_official)

    assert client.get(assistance_page(family)).status_code == 404
    assert client.post(assistance_page(family), {"members": [family.child.pk]}).status_code == 404
    assert snapshot(family.household) == before


def test_the_admin_form_is_not_for_officials_who_do_not_verify(family, broadcaster):
    before = snapshot(family.household)
    client = admin_client(broadcaster)

    assert client.get(assistance_page(family)).status_code == 403
    assert client.post(assistance_page(family), {"members": [family.child.pk]}).status_code == 403
    assert snapshot(family.household) == before


# --- what the flag is for ---------------------------------------------------------------------


def test_a_flagged_adult_is_counted_among_the_vulnerable_who_have_not_answered(
    citizen, family, province_admin
):
    HouseholdMember.objects.filter(pk=family.spouse.pk).update(date_of_birth=date(1990, 5, 1))
    broadcast = broadcast_create(
        official=province_admin,
        title="Lũ quét",
        body="Di chuyển lên vùng cao ngay.",
        kind="emergency",
        whole_province=True,
    )
    while not broadcast_fan_out(broadcast_id=broadcast.pk):
        pass

    def vulnerable() -> set[int]:
        return {m["member"] for m in check_in_report(broadcast)["vulnerable_not_responded"]}

    assert family.spouse.pk not in vulnerable()
    assert family.child.pk in vulnerable()  # a child anyway

    client_for(citizen).patch(member_url(family, family.spouse), {"needs_assistance": True})

    assert family.spouse.pk in vulnerable()
