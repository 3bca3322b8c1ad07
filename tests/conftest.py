"""Shared fixtures: the actors (citizen, other citizen, official of the ward, official of another
ward, province administrator), an API client, and a clean in-memory SMS outbox and cache."""

from __future__ import annotations

import pytest
from django.core.cache import cache
from rest_framework.test import APIClient
from rest_framework_simplejwt.tokens import RefreshToken

from accounts.actions.officials import official_create_or_update
from accounts.models import Role, User
from notifications.providers.sms import MemorySmsProvider
from tests.factories import PASSWORD, ProvinceFactory, UserFactory, WardFactory


@pytest.fixture(autouse=True)
def _clean_outbox_and_cache():
    MemorySmsProvider.reset()
    cache.clear()
    yield
    MemorySmsProvider.reset()
    cache.clear()


@pytest.fixture
def password() -> str:
    return PASSWORD


@pytest.fixture
def province(db):
    return ProvinceFactory()


@pytest.fixture
def ward(province):
    return WardFactory(code=6040, name="Xã Thất Khê", agency_code="H20.6040")


@pytest.fixture
def other_ward(province):
    return WardFactory(code=6001, name="Xã Đoàn Kết", agency_code="H20.6001")


@pytest.fixture
def citizen(ward) -> User:
    return UserFactory(phone="+84912345678", full_name="Nguyễn Văn An", ward=ward)


@pytest.fixture
def other_citizen(other_ward) -> User:
    return UserFactory(phone="+84987654321", full_name="Trần Thị Bình", ward=other_ward)


@pytest.fixture
def official(ward) -> User:
    return official_create_or_update(
        phone="+84900000011",
        full_name="Lý Thị Cán Bộ",
        password=PASSWORD,
        roles=[Role.RECEPTION, Role.PROCESSING],
        unit_codes=[ward.code],
        title="Công chức một cửa",
    )


@pytest.fixture
def other_official(other_ward) -> User:
    return official_create_or_update(
        phone="+84900000012",
        full_name="Hoàng Văn Khác",
        password=PASSWORD,
        roles=[Role.RECEPTION, Role.PROCESSING],
        unit_codes=[other_ward.code],
    )


@pytest.fixture
def province_admin(province) -> User:
    return official_create_or_update(
        phone="+84900000013",
        full_name="Vi Văn Tỉnh",
        password=PASSWORD,
        roles=[Role.PROVINCE_ADMIN],
        province_code=province.code,
    )


@pytest.fixture
def api_client() -> APIClient:
    return APIClient()


def client_for(user: User) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {RefreshToken.for_user(user).access_token}")
    return client


@pytest.fixture
def citizen_client(citizen) -> APIClient:
    return client_for(citizen)


@pytest.fixture
def other_citizen_client(other_citizen) -> APIClient:
    return client_for(other_citizen)


@pytest.fixture
def sms_outbox() -> list:
    return MemorySmsProvider.outbox
