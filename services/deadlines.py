"""The periodic deadline warnings: a dossier whose appointment is near, or passed, is told to
its assignee and to the leaders of its unit, once per appointment date."""

from __future__ import annotations

from datetime import datetime

from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone

from accounts.models import User
from services.dossier_flow import officials_of_unit
from services.dossier_notices import notify_officials_due
from services.models import Dossier
from services.selectors import CLOCK_RUNNING, due_soon_until
from services.workdays import LOCAL, work_calendar

BATCH = 200


def _not_warned_for(field: str) -> Q:
    """The warning was not sent for the current appointment date (never, or for another)."""
    return (
        Q(**{f"{field}__isnull": True})
        | Q(**{f"{field}__lt": F("appointment_date")})
        | Q(**{f"{field}__gt": F("appointment_date")})
    )


def dossiers_warn_due(*, now: datetime | None = None) -> dict[str, int]:
    """Warn about every dossier newly overdue or due soon; returns how many of each. Safe to
    run twice, or on two workers at once: rows are claimed with SKIP LOCKED and marked in the
    transaction that writes the messages (whose keys are unique per appointment date)."""
    now = now or timezone.now()
    today = timezone.localtime(now, LOCAL).date()
    until = due_soon_until(work_calendar(), today)
    kinds = {
        "overdue": (Q(appointment_date__lt=today), "overdue_warned_for"),
        "due_soon": (
            Q(appointment_date__gte=today, appointment_date__lte=until),
            "due_soon_warned_for",
        ),
    }
    leaders: dict[int, list[User]] = {}
    counts = {}
    for kind, (due, field) in kinds.items():
        counts[kind] = 0
        while True:
            with transaction.atomic():
                batch = list(
                    Dossier.objects.select_for_update(skip_locked=True, of=("self",))
                    .select_related("procedure", "assignee")
                    .filter(due, _not_warned_for(field), status__in=CLOCK_RUNNING)
                    .order_by("appointment_date", "id")[:BATCH]
                )
                if not batch:
                    break
                for dossier in batch:
                    _warn(dossier, leaders, overdue=kind == "overdue")
                    setattr(dossier, field, dossier.appointment_date)
                Dossier.objects.bulk_update(batch, [field])
                counts[kind] += len(batch)
    return counts


def _warn(dossier: Dossier, leaders: dict[int, list[User]], *, overdue: bool) -> None:
    if dossier.unit_id not in leaders:
        leaders[dossier.unit_id] = list(
            officials_of_unit(dossier.unit_id, "services.decide_dossier")
        )
    recipients = list(leaders[dossier.unit_id])
    # The assignee while still processing dossiers of the unit (not one who moved elsewhere).
    if (
        dossier.assignee_id is not None
        and officials_of_unit(dossier.unit_id, "services.process_dossier")
        .filter(pk=dossier.assignee_id)
        .exists()
    ):
        recipients.append(dossier.assignee)
    notify_officials_due(dossier, recipients, overdue=overdue)
