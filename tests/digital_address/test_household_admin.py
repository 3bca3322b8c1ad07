"""The officials' household queue in the admin: scoped to their wards, filtered and searched by
code, verified in bulk, rejected with a reason, and every opened household in the access log."""

from __future__ import annotations

import pytest
from django.test import Client

from accounts.models import DataAccessLog, User
from digital_address.actions.households import (
    Address,
    household_create,
    household_verify,
    invitation_accept,
    member_add,
    member_invite,
    member_remove,
)
from digital_address.models import ExternalAddressCode, Household, HouseholdEvent
from tests.conftest import client_for
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

CHANGELIST = "/admin/digital_address/household/"


def admin_client(user: User) -> Client:
    client = Client(HTTP_ACCEPT_LANGUAGE="en")
    client.force_login(user)
    return client


def listed(response) -> list[int]:
    assert response.status_code == 200, response.content
    return [household.pk for household in response.context["cl"].result_list]


def change_page(household: Household) -> str:
    return f"{CHANGELIST}{household.pk}/change/"


def register(user: User, ward, house_number: str = "12") -> Household:
    return household_create(
        actor=user,
        ward=ward,
        address=Address(house_number=house_number, street="Đường Hoàng Văn Thụ", hamlet="Khối 3"),
    )


def events(household: Household) -> list[tuple[str, dict, int | None]]:
    return list(
        HouseholdEvent.objects.filter(household=household)
        .order_by("id")
        .values_list("kind", "data", "actor_id")
    )


@pytest.fixture
def household(citizen, ward) -> Household:
    return register(citizen, ward)


@pytest.fixture
def verified(ward, official) -> Household:
    household = register(UserFactory(ward=ward), ward, house_number="20")
    household_verify(actor=official, household=household)
    return household


@pytest.fixture
def elsewhere(other_citizen, other_ward) -> Household:
    return register(other_citizen, other_ward, house_number="5")


def test_an_official_sees_only_the_households_of_their_wards(
    household, verified, elsewhere, official, province_admin
):
    assert listed(admin_client(official).get(CHANGELIST)) == [verified.pk, household.pk]
    assert listed(admin_client(province_admin).get(CHANGELIST)) == [
        elsewhere.pk,
        verified.pk,
        household.pk,
    ]


def test_the_queue_filters_on_pending(household, verified, official):
    response = admin_client(official).get(CHANGELIST, {"status__exact": "pending"})

    assert listed(response) == [household.pk]


def test_the_list_holds_no_personal_data(household, official, citizen):
    response = admin_client(official).get(CHANGELIST)

    assert household.formatted_code in response.content.decode()
    assert citizen.full_name not in response.content.decode()
    assert DataAccessLog.objects.count() == 0


@pytest.mark.parametrize(
    "typed",
    [
        lambda h: h.formatted_code,
        lambda h: h.code,
        lambda h: h.formatted_code.replace("-", " "),
    ],
    ids=["with-dashes", "bare", "with-spaces"],
)
def test_a_code_typed_from_a_plate_finds_the_household(household, verified, official, typed):
    response = admin_client(official).get(CHANGELIST, {"q": typed(household)})

    assert listed(response) == [household.pk]


def test_an_external_code_finds_the_household(household, verified, official):
    ExternalAddressCode.objects.create(household=household, scheme="national", code="VNLS77")

    assert listed(admin_client(official).get(CHANGELIST, {"q": "VNLS77"})) == [household.pk]


def test_searching_another_wards_code_finds_nothing(elsewhere, official):
    response = admin_client(official).get(CHANGELIST, {"q": elsewhere.formatted_code})

    assert listed(response) == []


def test_verifying_the_selected_households(household, elsewhere, ward, official):
    second = register(UserFactory(ward=ward), ward, house_number="30")

    response = admin_client(official).post(
        CHANGELIST,
        {"action": "verify_selected", "_selected_action": [household.pk, second.pk, elsewhere.pk]},
        follow=True,
    )

    assert response.status_code == 200
    assert [str(m) for m in response.context["messages"]] == ["2 household(s) verified."]
    assert dict(Household.objects.values_list("pk", "status")) == {
        household.pk: "verified",
        second.pk: "verified",
        elsewhere.pk: "pending",  # not in the official's wards: not even selectable
    }
    assert events(household)[-1] == (
        "verified",
        {"from": "pending", "to": "verified"},
        official.pk,
    )
    assert [kind for kind, _data, _actor in events(elsewhere)] == ["created"]


def test_a_bulk_verification_reports_what_it_could_not_do(household, official):
    admin_client(official).post(f"{CHANGELIST}{household.pk}/reject/", {"reason": "Sai địa chỉ"})

    response = admin_client(official).post(
        CHANGELIST, {"action": "verify_selected", "_selected_action": [household.pk]}, follow=True
    )

    assert [str(m) for m in response.context["messages"]] == [
        "0 household(s) verified.",
        "1 household(s) could not be verified in their current state.",
    ]
    household.refresh_from_db()
    assert household.status == "rejected"


def test_an_official_of_another_unit_cannot_open_or_act_on_a_household(household, other_official):
    client = admin_client(other_official)
    before = (list(Household.objects.values()), HouseholdEvent.objects.count())

    change = client.get(change_page(household))
    reject_form = client.get(f"{CHANGELIST}{household.pk}/reject/")
    reject = client.post(f"{CHANGELIST}{household.pk}/reject/", {"reason": "Không có thật"})
    external = client.post(
        f"{CHANGELIST}{household.pk}/external-code/", {"scheme": "national", "code": "X1"}
    )
    bulk = client.post(
        CHANGELIST,
        {"action": "verify_selected", "_selected_action": [household.pk]},
        follow=True,
    )

    # Django's admin answers an object outside the queryset with a redirect to its index.
    assert (change.status_code, change["Location"]) == (302, "/admin/")
    assert [reject_form.status_code, reject.status_code, external.status_code] == [404, 404, 404]
    assert [str(m) for m in bulk.context["messages"]][-1] == "0 household(s) verified."
    assert (list(Household.objects.values()), HouseholdEvent.objects.count()) == before
    assert ExternalAddressCode.objects.count() == 0
    assert DataAccessLog.objects.count() == 0


def test_a_rejection_in_the_admin_needs_a_reason(household, official):
    client = admin_client(official)

    form = client.get(f"{CHANGELIST}{household.pk}/reject/")
    empty = client.post(f"{CHANGELIST}{household.pk}/reject/", {"reason": "  "})

    assert form.status_code == 200
    assert empty.status_code == 200
    assert empty.context["form"].errors == {"reason": ["This field is required."]}
    household.refresh_from_db()
    assert (household.status, household.rejection_reason) == ("pending", "")
    assert [kind for kind, _data, _actor in events(household)] == ["created"]


def test_an_official_rejects_in_the_admin(household, official):
    response = admin_client(official).post(
        f"{CHANGELIST}{household.pk}/reject/", {"reason": "Không có số nhà 12"}
    )

    assert (response.status_code, response["Location"]) == (302, change_page(household))
    household.refresh_from_db()
    assert (household.status, household.rejection_reason, household.reviewed_by) == (
        "rejected",
        "Không có số nhà 12",
        official,
    )
    assert events(household)[-1] == (
        "rejected",
        {"from": "pending", "to": "rejected", "reason": "Không có số nhà 12"},
        official.pk,
    )


def test_rejecting_a_verified_household_shows_the_error(verified, official):
    response = admin_client(official).post(f"{CHANGELIST}{verified.pk}/reject/", {"reason": "Nhầm"})

    assert response.status_code == 200
    assert response.context["form"].non_field_errors() == [
        "This cannot be done in the household's current state."
    ]
    verified.refresh_from_db()
    assert verified.status == "verified"


def test_an_official_attaches_an_external_code_in_the_admin(household, official):
    response = admin_client(official).post(
        f"{CHANGELIST}{household.pk}/external-code/", {"scheme": "vpostcode", "code": "24 1234"}
    )

    assert (response.status_code, response["Location"]) == (302, change_page(household))
    assert list(ExternalAddressCode.objects.values_list("household", "scheme", "code")) == [
        (household.pk, "vpostcode", "241234")
    ]


@pytest.fixture
def family(household, citizen, ward) -> tuple[Household, User]:
    """The household with a child (no account) and a spouse with an account."""
    member_add(
        actor=citizen,
        household=household,
        full_name="Nguyễn Văn Bé",
        date_of_birth=None,
        relationship="child",
    )
    spouse = UserFactory(phone="+84911111111", full_name="Hoàng Thị Vợ", ward=ward)
    invitation = member_invite(
        actor=citizen, household=household, phone=spouse.phone, relationship="spouse"
    )
    invitation_accept(actor=spouse, invitation_id=invitation.pk)
    return household, spouse


def test_opening_a_household_is_logged_for_each_member_with_an_account(family, official, citizen):
    household, spouse = family

    response = admin_client(official).get(change_page(household))

    assert response.status_code == 200
    child = household.members.get(user=None)
    rows = DataAccessLog.objects.order_by("id").values_list(
        "official", "subject", "resource", "object_id", "channel", "purpose"
    )
    assert list(rows) == [
        (official.pk, citizen.pk, "household", str(household.pk), "admin", "admin_view"),
        (official.pk, None, "household_member", str(child.pk), "admin", "admin_view"),
        (official.pk, spouse.pk, "household", str(household.pk), "admin", "admin_view"),
    ]


def test_the_change_page_shows_members_codes_and_timeline_to_an_official(family, official):
    household, _spouse = family
    ExternalAddressCode.objects.create(household=household, scheme="national", code="VNLS77")

    response = admin_client(official).get(change_page(household))

    page = response.content.decode()
    assert [
        name in page for name in ("Nguyễn Văn Bé", "Hoàng Thị Vợ", "VNLS77", "Member joined")
    ] == [
        True,
        True,
        True,
        True,
    ]


def test_a_superuser_sees_members_codes_and_timeline(family):
    household, _spouse = family
    ExternalAddressCode.objects.create(household=household, scheme="national", code="VNLS77")
    superuser = User.objects.create_superuser("+84900000099", "Quản-trị-viên-2026")

    page = admin_client(superuser).get(change_page(household)).content.decode()

    assert [
        name in page for name in ("Nguyễn Văn Bé", "Hoàng Thị Vợ", "VNLS77", "Member joined")
    ] == [
        True,
        True,
        True,
        True,
    ]


def test_a_former_member_shown_on_the_page_is_logged_too(family):
    household, spouse = family
    member_remove(
        actor=spouse, household=household, member_id=household.members.get(user=spouse).pk
    )
    # A superuser: the inline is shown to them whatever the roles' permissions.
    superuser = User.objects.create_superuser("+84900000099", "Quản-trị-viên-2026")

    response = admin_client(superuser).get(change_page(household))

    assert "Hoàng Thị Vợ" in response.content.decode()
    assert DataAccessLog.objects.filter(subject=spouse).count() == 1


@pytest.mark.parametrize(
    ("language", "action", "inline"),
    [
        ("vi", "Xác minh các hộ gia đình đã chọn", "Diễn biến"),
        ("en", "Verify the selected households", "Timeline"),
    ],
)
def test_the_admin_speaks_the_officials_language(household, official, language, action, inline):
    client = admin_client(official)

    changelist = client.get(CHANGELIST, HTTP_ACCEPT_LANGUAGE=language).content.decode()
    page = client.get(change_page(household), HTTP_ACCEPT_LANGUAGE=language).content.decode()

    assert action in changelist
    assert inline in page


def test_a_rejection_of_an_address_changed_since_the_form_opened_is_refused(
    household, official, citizen
):
    client = admin_client(official)
    form = client.get(f"{CHANGELIST}{household.pk}/reject/", HTTP_ACCEPT_LANGUAGE="en")
    seen = form.context["form"]["updated_at"].value()
    client_for(citizen).patch(f"/api/v1/households/{household.pk}/", {"house_number": "99"})

    response = client.post(
        f"{CHANGELIST}{household.pk}/reject/",
        {"reason": "Sai số nhà", "updated_at": seen},
        HTTP_ACCEPT_LANGUAGE="en",
    )

    assert response.status_code == 200
    assert response.context["form"].non_field_errors() == [
        "The household was changed after you opened it: look at it again before deciding."
    ]
    household.refresh_from_db()
    assert household.status == "pending"


def test_the_list_tells_vacated_households_apart(household, official, citizen, other_ward):
    client_for(citizen).post(
        "/api/v1/households/move/", {"ward": other_ward.code, "hamlet": "Bản Mới"}
    )
    client = admin_client(official)

    assert listed(client.get(CHANGELIST, {"occupancy": "vacated"})) == [household.pk]
    assert listed(client.get(CHANGELIST, {"occupancy": "occupied"})) == []


def test_the_bulk_verification_skips_a_household_changed_after_the_list_was_loaded(
    household, official, citizen
):
    client = admin_client(official)
    page = client.get(CHANGELIST).content.decode()
    seen = household.updated_at.isoformat()
    assert f'name="seen-{household.pk}" value="{seen}"' in page
    client_for(citizen).patch(f"/api/v1/households/{household.pk}/", {"house_number": "99"})

    response = client.post(
        CHANGELIST,
        {
            "action": "verify_selected",
            "_selected_action": [household.pk],
            f"seen-{household.pk}": seen,
        },
        follow=True,
        HTTP_ACCEPT_LANGUAGE="en",
    )

    assert [str(m) for m in response.context["messages"]] == [
        "0 household(s) verified.",
        "1 household(s) were changed after the list was loaded: look at them again before "
        "verifying.",
    ]
    household.refresh_from_db()
    assert household.status == "pending"
