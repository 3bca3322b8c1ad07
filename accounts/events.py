"""Writers of the personal-data access log."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from django.utils import timezone

from accounts.models import AccessChannel, AccessPurpose, AccessResource, DataAccessLog, User


@dataclass(frozen=True)
class PersonRead:
    """One person whose data an official was shown: ``subject_id`` when they have an account,
    otherwise ``resource`` and ``object_id`` name them."""

    subject_id: int | None
    resource: AccessResource
    object_id: str | int


def record_data_reads(
    *,
    official: User,
    reads: Iterable[PersonRead],
    purpose: AccessPurpose,
    channel: AccessChannel,
) -> list[DataAccessLog]:
    """One row per person an official was shown, in one INSERT. Reading one's own data is not
    logged. Fields are checked here rather than by ``full_clean()``: that would query the
    database for every foreign key and constraint, once per row."""
    purpose, channel = AccessPurpose(purpose), AccessChannel(channel)
    now = timezone.now()
    rows = []
    for read in reads:
        if read.subject_id == official.pk:
            continue
        if read.subject_id is None and str(read.object_id) == "":
            raise ValueError("A read of a person without an account must name its record.")
        rows.append(
            DataAccessLog(
                official=official,
                subject_id=read.subject_id,
                resource=AccessResource(read.resource),
                object_id=str(read.object_id),
                purpose=purpose,
                channel=channel,
                created_at=now,
            )
        )
    return DataAccessLog.objects.bulk_create(rows) if rows else []


def record_data_access(
    *,
    official: User,
    subject: User,
    resource: AccessResource,
    purpose: AccessPurpose,
    channel: AccessChannel = AccessChannel.API,
    object_id: str | int = "",
) -> DataAccessLog | None:
    """An official read a citizen's personal data. Reading one's own data is not logged."""
    rows = record_data_reads(
        official=official,
        reads=[PersonRead(subject_id=subject.pk, resource=resource, object_id=object_id)],
        purpose=purpose,
        channel=channel,
    )
    return rows[0] if rows else None
