"""accounts.authentication.JWTAuthentication: simplejwt's, with the official profile read in the
same query as the user; simplejwt's answers for unknown and inactive users unchanged."""

from __future__ import annotations

import pytest
from django.test import RequestFactory
from rest_framework.exceptions import AuthenticationFailed
from rest_framework_simplejwt.tokens import AccessToken

from accounts.authentication import JWTAuthentication
from accounts.selectors import official_ward_codes
from tests.conftest import with_units_query

pytestmark = pytest.mark.django_db


def authenticate(user):
    request = RequestFactory().get("/", HTTP_AUTHORIZATION=f"Bearer {AccessToken.for_user(user)}")
    return JWTAuthentication().authenticate(request)


def test_the_official_profile_comes_with_the_user(official, django_assert_num_queries):
    with django_assert_num_queries(1):
        user, _token = authenticate(official)
        units = user.official.pk

    assert (user, units) == (official, official.official.pk)


def test_a_citizen_has_no_profile_and_no_extra_query(citizen, django_assert_num_queries):
    with django_assert_num_queries(1):
        user, _token = authenticate(citizen)
        assert not hasattr(user, "official")

    assert user == citizen


def test_an_unknown_or_inactive_user_is_refused_as_simplejwt_does(citizen, other_citizen):
    token_of_deleted = AccessToken.for_user(other_citizen)
    other_citizen.delete()
    citizen.is_active = False
    citizen.save(update_fields=["is_active"])
    deleted = RequestFactory().get("/", HTTP_AUTHORIZATION=f"Bearer {token_of_deleted}")

    with pytest.raises(AuthenticationFailed) as unknown:
        JWTAuthentication().authenticate(deleted)
    with pytest.raises(AuthenticationFailed) as inactive:
        authenticate(citizen)

    assert (unknown.value.detail["code"], inactive.value.detail["code"]) == (
        "user_not_found",
        "user_inactive",
    )


def test_the_officials_units_come_with_the_user_on_postgresql(
    official, ward, other_ward, django_assert_num_queries
):
    with django_assert_num_queries(with_units_query(2)):
        user, _token = authenticate(official)
        codes = official_ward_codes(user=user)
    assert codes == {ward.code}

    # Read on every request, never kept: a unit added shows on the next one.
    official.official.units.add(other_ward)
    user, _token = authenticate(official)
    assert official_ward_codes(user=user) == {ward.code, other_ward.code}
    official.official.units.clear()
    user, _token = authenticate(official)
    assert official_ward_codes(user=user) == frozenset()


def test_a_province_administrator_still_gets_the_provinces_wards(province_admin, ward, other_ward):
    user, _token = authenticate(province_admin)

    assert official_ward_codes(user=user) == {ward.code, other_ward.code}
