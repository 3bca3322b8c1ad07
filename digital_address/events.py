"""Writers of the household timeline."""

from __future__ import annotations

from typing import Any

from accounts.models import User
from digital_address.models import Household, HouseholdEvent


def household_event(
    *, household: Household, actor: User | None, kind: str, **data: Any
) -> HouseholdEvent:
    return HouseholdEvent.objects.create(
        household=household, actor=actor, kind=kind, data={k: v for k, v in data.items()}
    )
