"""Every person an official is shown in a household is in the access log, members without an
account included, in one INSERT whatever the size of the household."""

from __future__ import annotations

from dataclasses import dataclass

import pytest
from django.contrib.contenttypes.models import ContentType
from django.test import Client
from django.utils import timezone

from accounts.models import DataAccessLog, User
from digital_address.events import household_event
from digital_address.models import Household, HouseholdMember
from tests.conftest import client_for, with_units_query
from tests.factories import (
    HouseholdFactory,
    HouseholdMemberFactory,
    ProvinceFactory,
    UserFactory,
    WardFactory,
)

pytestmark = pytest.mark.django_db

OFFICIAL_URL = "/api/v1/official/households/"
ADMIN_URL = "/admin/digital_address/household/"


@dataclass(frozen=True)
class Household_:
    household: Household
    with_account: list[HouseholdMember]
    without_account: list[HouseholdMember]
    former: list[HouseholdMember]


def make_household(ward, head: User, *, members: int, former: int = 0) -> Household_:
    """The head and ``members - 1`` others, alternately with and without an account; ``former``
    members who left (one with an account, the others without). Each member added leaves a
    timeline event by a different actor."""
    household = HouseholdFactory(ward=ward, head=head)
    current = [HouseholdMember.objects.get(household=household, user=head)]
    for n in range(1, members):
        user = UserFactory(ward=ward) if n % 2 == 0 else None
        current.append(HouseholdMemberFactory(household=household, user=user))
    gone = [
        HouseholdMemberFactory(
            household=household,
            user=UserFactory(ward=ward) if n == 0 else None,
            ended_at=timezone.now(),
        )
        for n in range(former)
    ]
    for member in current + gone:
        household_event(
            household=household, actor=UserFactory(), kind="member_added", member=member.pk
        )
    everyone = current + gone
    return Household_(
        household=household,
        with_account=[m for m in everyone if m.user_id is not None],
        without_account=[m for m in everyone if m.user_id is None],
        former=gone,
    )


def log_rows() -> list[tuple]:
    return sorted(
        DataAccessLog.objects.values_list(
            "official", "subject", "resource", "object_id", "purpose", "channel"
        ),
        key=repr,
    )


def expected_rows(
    official: User, h: Household_, *, purpose: str, channel: str, former: bool = True
) -> list[tuple]:
    def shown(members: list[HouseholdMember]) -> list[HouseholdMember]:
        return [m for m in members if former or m not in h.former]

    return sorted(
        [
            (official.pk, m.user_id, "household", str(h.household.pk), purpose, channel)
            for m in shown(h.with_account)
        ]
        + [
            (official.pk, None, "household_member", str(m.pk), purpose, channel)
            for m in shown(h.without_account)
        ],
        key=repr,
    )


def admin_client(user: User) -> Client:
    client = Client(HTTP_ACCEPT_LANGUAGE="en")
    client.force_login(user)
    return client


# --- the officials' API ----------------------------------------------------------------------


@pytest.mark.parametrize("members", [2, 10])
def test_the_official_detail_costs_the_same_for_any_number_of_members(
    members, official, ward, citizen, django_assert_num_queries
):
    h = make_household(ward, citizen, members=members)
    client = client_for(official)

    # The token's user with the official profile, the user's and its groups' permissions (one
    # query, accounts.backends), its units, the household (ward and province joined), its
    # members, external codes, timeline (actors joined) and pending invitations; then one
    # INSERT for the whole access log.
    with django_assert_num_queries(with_units_query(9)):
        response = client.get(f"{OFFICIAL_URL}{h.household.pk}/")

    assert response.status_code == 200, response.content
    assert len(response.json()["members"]) == members
    assert DataAccessLog.objects.count() == members


def test_the_official_detail_logs_every_member_shown(official, ward, citizen):
    h = make_household(ward, citizen, members=4, former=2)

    response = client_for(official).get(f"{OFFICIAL_URL}{h.household.pk}/")

    assert response.status_code == 200, response.content
    # The API shows current members only: former ones are not read, so not logged.
    assert len(response.json()["members"]) == 4
    assert log_rows() == expected_rows(
        official, h, purpose="household_verification", channel="api", former=False
    )
    assert [m.user_id for m in h.with_account if m not in h.former] == [
        citizen.pk,
        h.with_account[1].user_id,
    ]
    assert len([m for m in h.without_account if m not in h.former]) == 2


@pytest.mark.parametrize("decision", ["verify", "reject"])
def test_the_detail_answering_a_decision_logs_every_member_too(decision, official, ward, citizen):
    h = make_household(ward, citizen, members=2)

    response = client_for(official).post(
        f"{OFFICIAL_URL}{h.household.pk}/{decision}/", {"reason": "Không có số nhà"}
    )

    assert response.status_code == 200, response.content
    assert log_rows() == expected_rows(official, h, purpose="household_verification", channel="api")


def test_an_official_reading_their_own_household_is_not_logged_for_themselves(official, ward):
    h = make_household(ward, official, members=2)

    response = client_for(official).get(f"{OFFICIAL_URL}{h.household.pk}/")

    assert response.status_code == 200, response.content
    (child,) = h.without_account
    assert log_rows() == [
        (official.pk, None, "household_member", str(child.pk), "household_verification", "api")
    ]


def test_an_official_of_another_unit_reads_and_logs_nothing(other_official, ward, citizen):
    h = make_household(ward, citizen, members=3)

    response = client_for(other_official).get(f"{OFFICIAL_URL}{h.household.pk}/")

    assert response.status_code == 404
    assert DataAccessLog.objects.count() == 0


# --- the admin --------------------------------------------------------------------------------


@pytest.mark.parametrize("members", [2, 10])
def test_the_admin_change_page_costs_the_same_for_any_number_of_members(
    members, official, ward, citizen, django_assert_num_queries
):
    h = make_household(ward, citizen, members=members, former=2)
    client = admin_client(official)
    # Cached for the process once loaded: cleared so that the count does not depend on the
    # order of the tests.
    ContentType.objects.clear_cache()

    # The session, the user, the user's and its groups' permissions (one query), the official
    # profile, its units, the household, then one query each for the members, external codes
    # and timeline (actors joined), the household's content type, the members for the access
    # log, one INSERT for the whole log, and the ward shown.
    with django_assert_num_queries(13):
        response = client.get(f"{ADMIN_URL}{h.household.pk}/change/")

    assert response.status_code == 200
    assert len(response.context["inline_admin_formsets"][0].formset.forms) == members + 2
    assert DataAccessLog.objects.count() == members + 2


def test_the_admin_change_page_logs_every_member_it_lists(official, ward, citizen):
    h = make_household(ward, citizen, members=3, former=2)

    response = admin_client(official).get(f"{ADMIN_URL}{h.household.pk}/change/")

    assert response.status_code == 200
    page = response.content.decode()
    assert all(m.full_name in page for m in h.with_account + h.without_account)
    assert log_rows() == expected_rows(official, h, purpose="admin_view", channel="admin")


def test_the_admin_of_another_unit_opens_and_logs_nothing(other_official, ward, citizen):
    h = make_household(ward, citizen, members=3)

    response = admin_client(other_official).get(f"{ADMIN_URL}{h.household.pk}/change/")

    assert (response.status_code, response["Location"]) == (302, "/admin/")
    assert DataAccessLog.objects.count() == 0


# --- who sees the rows ------------------------------------------------------------------------


def test_a_citizen_sees_the_reads_of_their_own_data_only(official, ward, citizen):
    h = make_household(ward, citizen, members=3)
    client_for(official).get(f"{OFFICIAL_URL}{h.household.pk}/")
    other = h.with_account[1].user

    mine = client_for(citizen).get("/api/v1/me/access-log/", HTTP_ACCEPT_LANGUAGE="en")
    theirs = client_for(other).get("/api/v1/me/access-log/")

    # The child's read (no account) is in no citizen's log: only officials audit it.
    assert [(r["resource"], r["purpose"]) for r in mine.json()["results"]] == [
        ("household", "Household verification")
    ]
    assert [r["resource"] for r in theirs.json()["results"]] == ["household"]
    assert DataAccessLog.objects.filter(subject=None).count() == 1


def test_the_log_of_a_province_shows_the_reads_of_its_members_without_an_account(
    province_admin, ward, citizen
):
    here = make_household(ward, citizen, members=2)
    hanoi = WardFactory(code=2, name="Phường Hoàn Kiếm", province=ProvinceFactory(code=1))
    there = make_household(hanoi, UserFactory(ward=hanoi), members=2)
    superuser = User.objects.create_superuser("+84900000099", "Quản-trị-viên-2026")
    for h in (here, there):
        admin_client(superuser).get(f"{ADMIN_URL}{h.household.pk}/change/")

    def audited(user: User) -> list[tuple]:
        response = admin_client(user).get("/admin/accounts/dataaccesslog/")
        assert response.status_code == 200
        rows = response.context["cl"].result_list
        return sorted(((row.subject_id, row.resource, row.object_id) for row in rows), key=repr)

    def rows(h: Household_) -> list[tuple]:
        (head,), (child,) = h.with_account, h.without_account
        return [
            (None, "household_member", str(child.pk)),
            (head.user_id, "household", str(h.household.pk)),
        ]

    assert audited(province_admin) == sorted(rows(here), key=repr)
    assert audited(superuser) == sorted(rows(here) + rows(there), key=repr)
