"""Writers of the household timeline, and of the access-log rows of an official's reads."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from accounts.events import PersonRead, record_data_reads
from accounts.models import AccessChannel, AccessPurpose, AccessResource, DataAccessLog, User
from digital_address.models import Household, HouseholdEvent, HouseholdMember


def household_event(
    *, household: Household, actor: User | None, kind: str, **data: Any
) -> HouseholdEvent:
    return HouseholdEvent.objects.create(
        household=household, actor=actor, kind=kind, data={k: v for k, v in data.items()}
    )


def household_read_record(
    *,
    official: User,
    household: Household,
    members: Iterable[HouseholdMember],
    channel: AccessChannel,
    purpose: AccessPurpose,
) -> list[DataAccessLog]:
    """An official was shown these members of the household: one access-log row per person, in
    one INSERT. A member with an account is logged against the account (it shows in their
    me/access-log); one without (a child, an imported head) by the member's id."""
    reads: list[PersonRead] = []
    accounts_seen: set[int] = set()
    for member in members:
        if member.user_id is None:
            reads.append(
                PersonRead(
                    subject_id=None,
                    resource=AccessResource.HOUSEHOLD_MEMBER,
                    object_id=member.pk,
                )
            )
        elif member.user_id not in accounts_seen:
            # Someone who left and came back is listed twice, but was read once.
            accounts_seen.add(member.user_id)
            reads.append(
                PersonRead(
                    subject_id=member.user_id,
                    resource=AccessResource.HOUSEHOLD,
                    object_id=household.pk,
                )
            )
    return record_data_reads(official=official, reads=reads, purpose=purpose, channel=channel)
