from __future__ import annotations

from datetime import date

from django.conf import settings
from django.db.models import Count, Prefetch, Q, QuerySet
from django.utils import timezone

from accounts.models import User
from accounts.selectors import official_ward_codes
from digital_address.vietnamese_text import fold
from services.errors import DossierNotFound, IdempotencyKeyReused
from services.models import (
    FINAL_STATUSES,
    PAUSED_STATUSES,
    Dossier,
    DossierEvent,
    DossierExtension,
    DossierStatus,
    Procedure,
    RequiredDocument,
    SubmissionKey,
)
from services.workdays import WorkCalendar, work_calendar


def procedure_search(
    *, query: str | None, field: str | None = None, level: str | None = None
) -> QuerySet[Procedure]:
    """Active procedures whose code, name or field holds every word, without diacritics."""
    procedures = Procedure.objects.active()
    # No NUL reaches the database (PostgreSQL refuses it in text: a 500 otherwise).
    query, field = (query or "").replace("\x00", ""), (field or "").replace("\x00", "")
    for word in fold(query).split():
        procedures = procedures.filter(search_name__contains=word)
    if field:
        procedures = procedures.filter(field=field)
    if level:
        procedures = procedures.filter(level=level)
    return procedures.order_by("code")


def procedure_detail(*, code: str) -> Procedure | None:
    documents = RequiredDocument.objects.order_by("position", "id")
    return (
        Procedure.objects.active()
        .prefetch_related(Prefetch("documents", queryset=documents))
        .filter(code=code)
        .first()
    )


def dossiers_of(*, user: User) -> QuerySet[Dossier]:
    return Dossier.objects.filter(applicant=user).select_related("procedure", "unit")


def _with_history(dossiers: QuerySet[Dossier]) -> QuerySet[Dossier]:
    """The timeline, the files, the apology letters and the rating, in a fixed number of
    queries."""
    return dossiers.select_related("rating").prefetch_related(
        Prefetch("events", queryset=DossierEvent.objects.order_by("id")),
        "attachments",
        Prefetch("extension_letters", queryset=DossierExtension.objects.order_by("id")),
    )


def dossier_of(*, user: User, code: str) -> Dossier:
    dossier = _with_history(dossiers_of(user=user)).filter(code=code).first()
    if dossier is None:
        raise DossierNotFound()
    return dossier


def dossier_tracked(*, code: str) -> Dossier:
    """Any dossier by its code, for the public tracking page (which shows no personal data)."""
    dossier = (
        Dossier.objects.select_related("procedure", "unit")
        .prefetch_related(Prefetch("events", queryset=DossierEvent.objects.order_by("id")))
        .filter(code=code.upper())
        .first()
    )
    if dossier is None:
        raise DossierNotFound()
    return dossier


def submission_replay(*, user: User, key: str | None, request_hash: str) -> Dossier | None:
    """The dossier an ``Idempotency-Key`` already created with this very request; a different
    request with the key is refused (422)."""
    if not key:
        return None
    earlier = SubmissionKey.objects.filter(user=user, key=key).select_related("dossier").first()
    if earlier is None:
        return None
    if earlier.request_hash != request_hash:
        raise IdempotencyKeyReused()
    return earlier.dossier


# The deadline runs in these statuses (not before receipt, not while the citizen is waited
# on, not once decided).
CLOCK_RUNNING = (DossierStatus.RECEIVED, DossierStatus.PROCESSING)


def due_soon_until(calendar: WorkCalendar, today: date) -> date:
    """The last appointment date that counts as due soon: DOSSIER_DUE_SOON_WORKING_DAYS
    working days from today."""
    return calendar.add_working_days(today, settings.DOSSIER_DUE_SOON_WORKING_DAYS)


def dossiers_for_official(
    *,
    official: User,
    status: int | None = None,
    procedure: str | None = None,
    overdue: bool = False,
    due_soon: bool = False,
    assigned_to: User | None = None,
) -> QuerySet[Dossier]:
    """The queue of the official's units (a province administrator: the province's), filtered
    by status, procedure, overdue (the appointment date passed while the clock runs), due soon
    (the appointment within the next working days), or assignee."""
    codes = official_ward_codes(user=official)
    dossiers = Dossier.objects.select_related("procedure", "unit", "assignee")
    if codes is not None:
        dossiers = dossiers.filter(unit_id__in=codes)
    if status is not None:
        dossiers = dossiers.filter(status=status)
    if procedure:
        dossiers = dossiers.filter(procedure__code=procedure)
    today = timezone.localdate()
    if overdue:
        dossiers = dossiers.filter(dossier_deadline_q("overdue", today))
    if due_soon:
        dossiers = dossiers.filter(dossier_deadline_q("due_soon", today))
    if assigned_to is not None:
        dossiers = dossiers.filter(assignee=assigned_to)
    return dossiers


def dossier_deadline_q(kind: str, today: date) -> Q:
    """``overdue``: the appointment date passed while the clock runs; ``due_soon``: it falls
    within DOSSIER_DUE_SOON_WORKING_DAYS working days. The one rule the queue, the admin's
    filter and the officials' home page read."""
    if kind == "overdue":
        return Q(status__in=CLOCK_RUNNING, appointment_date__lt=today)
    until = due_soon_until(work_calendar(), today)
    return Q(status__in=CLOCK_RUNNING, appointment_date__gte=today, appointment_date__lte=until)


def dossier_queue_counts(*, official: User) -> dict[str, int]:
    """The official's dossier queues in one query: new (waiting to be received), overdue, due
    soon, and assigned to them still open."""
    today = timezone.localdate()
    return dossiers_for_official(official=official).aggregate(
        new=Count("id", filter=Q(status=DossierStatus.SUBMITTED)),
        overdue=Count("id", filter=dossier_deadline_q("overdue", today)),
        due_soon=Count("id", filter=dossier_deadline_q("due_soon", today)),
        mine=Count("id", filter=Q(assignee=official) & ~Q(status__in=FINAL_STATUSES)),
    )


def dossier_for_official(*, official: User, code: str) -> Dossier:
    dossier = (
        _with_history(dossiers_for_official(official=official).select_related("applicant"))
        .filter(code=code)
        .first()
    )
    if dossier is None:
        raise DossierNotFound()
    return dossier


# What a queue row shows, read as plain values (no model instances: the queue is the officials'
# busiest page, see bench/official_queue.py).
QUEUE_VALUES = (
    "id",
    "code",
    "status",
    "channel",
    "submitted_at",
    "appointment_date",
    "procedure__code",
    "procedure__name",
    "unit__code",
    "unit__name",
    "assignee_id",
    "assignee__full_name",
)


def official_queue(**filters) -> QuerySet:
    """The officials' queue (``dossiers_for_official``) as rows of ``QUEUE_VALUES``."""
    return dossiers_for_official(**filters).values(*QUEUE_VALUES)


def dossier_deadline(
    calendar: WorkCalendar, status: int, appointment: date | None
) -> tuple[int | None, bool]:
    """Working days left (None when the deadline does not run: before receipt, once decided or
    final, or while the citizen is waited on) and whether the dossier is overdue."""
    if (
        appointment is None
        or status in FINAL_STATUSES
        or status == DossierStatus.DECIDED
        or status in PAUSED_STATUSES
    ):
        return None, False
    return calendar.remaining_working_days(appointment), calendar.is_overdue(appointment)
