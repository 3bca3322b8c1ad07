"""Writers of the personal-data access log."""

from __future__ import annotations

from accounts.models import AccessChannel, DataAccessLog, User


def record_data_access(
    *,
    official: User,
    subject: User,
    resource: str,
    purpose: str,
    channel: str = AccessChannel.API,
    object_id: str | int = "",
) -> DataAccessLog | None:
    """An official read a citizen's personal data. Reading one's own data is not logged."""
    if official.pk == subject.pk:
        return None
    return DataAccessLog.objects.create(
        official=official,
        subject=subject,
        resource=resource,
        object_id=str(object_id),
        purpose=purpose[:200],
        channel=channel,
    )
