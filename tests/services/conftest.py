"""Actors of the field-report tests beyond the shared ones (tests/conftest.py)."""

from __future__ import annotations

import pytest

from accounts.actions.officials import official_create_or_update
from accounts.models import Role, User
from tests.factories import PASSWORD


@pytest.fixture
def ward_with_centre(ward):
    """The ``ward`` fixture with its centre entered, so a location alone routes to it."""
    ward.latitude, ward.longitude = 22.2570, 106.4740
    ward.save(update_fields=["latitude", "longitude"])
    return ward


@pytest.fixture
def leader(ward) -> User:
    """The leader of the ward (Role.APPROVAL): receives disputed fixes."""
    return official_create_or_update(
        phone="+84900000031",
        full_name="Nông Văn Lãnh Đạo",
        password=PASSWORD,
        roles=[Role.APPROVAL],
        unit_codes=[ward.code],
        title="Phó Chủ tịch UBND xã",
    )
