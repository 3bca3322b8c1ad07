"""An emergency check-in is personal data (where someone was, what they needed): it is in the
person's export and gone when they erase their account."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.utils import timezone

from accounts.actions.officials import official_create_or_update
from accounts.models import Role
from notifications.actions.broadcasts import broadcast_create, broadcast_fan_out, check_in_record
from notifications.models import CheckIn
from tests.conftest import client_for
from tests.factories import PASSWORD

pytestmark = pytest.mark.django_db


@pytest.fixture
def answered(ward, citizen) -> CheckIn:
    caster = official_create_or_update(
        phone="+84900000071",
        full_name="Hà Thị Phát Thanh",
        password=PASSWORD,
        roles=[Role.BROADCASTING],
        unit_codes=[ward.code],
    )
    broadcast = broadcast_create(
        official=caster,
        title="Lũ quét",
        body="Di chuyển lên chỗ cao.",
        kind="emergency",
        ward_codes=[ward.code],
    )
    broadcast_fan_out(broadcast_id=broadcast.pk)
    return check_in_record(
        user=citizen,
        broadcast_id=broadcast.pk,
        status="need_help",
        note="Nhà bị ngập, có người già",
        latitude=Decimal("21.853708"),
        longitude=Decimal("106.761519"),
    )


def test_my_export_holds_my_check_ins(citizen, answered):
    exported = client_for(citizen).get("/api/v1/me/export/").json()["check_ins"]

    assert exported == [
        {
            "broadcast": answered.broadcast_id,
            "status": "need_help",
            "note": "Nhà bị ngập, có người già",
            "latitude": "21.853708",
            "longitude": "106.761519",
            "updated_at": timezone.localtime(answered.updated_at).isoformat(),
        }
    ]


def test_erasing_my_account_deletes_my_check_ins(citizen, answered):
    response = client_for(citizen).delete("/api/v1/me/", {"password": PASSWORD}, format="json")

    assert response.status_code == 204
    assert CheckIn.objects.count() == 0
