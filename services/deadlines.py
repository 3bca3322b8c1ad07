"""The periodic deadline warnings: a dossier whose appointment is near, or passed, is told to
its assignee and to the leaders of its unit, once per appointment date."""

from __future__ import annotations

from datetime import datetime

from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone

from accounts.models import User
from notifications.actions import Message, notify_many
from services.dossier_flow import officials_of_unit
from services.dossier_notices import DUE_SOON, OVERDUE, due_warning
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
    units = _UnitOfficials()
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
                overdue = kind == "overdue"
                notify_many(
                    event=(OVERDUE if overdue else DUE_SOON).name,
                    messages=[_warning(d, units, overdue=overdue) for d in batch],
                )
                for dossier in batch:
                    setattr(dossier, field, dossier.appointment_date)
                Dossier.objects.bulk_update(batch, [field])
                counts[kind] += len(batch)
    return counts


class _UnitOfficials:
    """Per unit, read once per run: its leaders, and the ids of its processing officials (an
    assignee who left the unit is not warned)."""

    def __init__(self) -> None:
        self._leaders: dict[int, list[User]] = {}
        self._processing: dict[int, set[int]] = {}

    def leaders(self, unit_id: int) -> list[User]:
        if unit_id not in self._leaders:
            self._leaders[unit_id] = list(officials_of_unit(unit_id, "services.decide_dossier"))
        return self._leaders[unit_id]

    def processes(self, unit_id: int, user_id: int) -> bool:
        if unit_id not in self._processing:
            self._processing[unit_id] = set(
                officials_of_unit(unit_id, "services.process_dossier").values_list("pk", flat=True)
            )
        return user_id in self._processing[unit_id]


def _warning(dossier: Dossier, units: _UnitOfficials, *, overdue: bool) -> Message:
    recipients = list(units.leaders(dossier.unit_id))
    if dossier.assignee_id is not None and units.processes(dossier.unit_id, dossier.assignee_id):
        recipients.append(dossier.assignee)
    return due_warning(dossier, recipients, overdue=overdue)
