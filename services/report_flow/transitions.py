"""What every step of a field report shares: the row lock, the one guard over
``REPORT_TRANSITIONS``, the timeline event, the messages, the deadlines and the photos."""

from __future__ import annotations

from datetime import datetime

from django.utils.translation import gettext as _

from accounts.models import User
from accounts.selectors import official_ward_codes
from services.errors import InvalidForm, ReportNotFound, ReportTransitionRefused
from services.models import (
    REPORT_TRANSITIONS,
    ActorRole,
    FieldReport,
    ReportEvent,
    ReportEventKind,
    ReportFollower,
    ReportPhoto,
    ReportStatus,
)
from services.report_notices import notify_citizens
from services.report_photos import CleanFile
from services.workdays import LOCAL, work_calendar

R = ReportStatus
K = ReportEventKind
HANDLE = "handle_fieldreport"


def deadlines_set(report: FieldReport, now: datetime) -> None:
    """Counted in working days from the day the unit received it (after the intake cut-off:
    the next working day)."""
    calendar = work_calendar()
    report.received_at = now
    report.acknowledge_due = calendar.appointment(now, report.category.acknowledge_days)
    report.resolve_due = calendar.appointment(now, report.category.resolve_days)


def on_time(due, now: datetime) -> bool:
    return now.astimezone(LOCAL).date() <= due


def photos_record(
    report: FieldReport,
    names: list[str],
    cleaned: list[CleanFile],
    kind: str,
    actor: User,
    now: datetime,
) -> None:
    ReportPhoto.objects.bulk_create(
        ReportPhoto(
            report=report,
            kind=kind,
            file=name,
            content_type=clean.content_type,
            size=len(clean.content),
            uploaded_by=actor,
            created_at=now,
        )
        for name, clean in zip(names, cleaned, strict=True)
    )


def locked(report: FieldReport | int) -> FieldReport:
    pk = report if isinstance(report, int) else report.pk
    return (
        FieldReport.objects.select_for_update(no_key=True, of=("self",))
        .select_related("category", "reporter", "unit")
        .get(pk=pk)
    )


def require_official(actor: User, report: FieldReport, permission: str = HANDLE) -> None:
    codes = official_ward_codes(user=actor)
    if codes is not None and report.unit_id not in codes:
        raise ReportNotFound()
    if not actor.has_perm(f"services.{permission}"):
        raise ReportNotFound()


def required_text(text: str, field: str) -> str:
    text = (text or "").strip()
    if not text:
        raise InvalidForm(fields={field: [_("This field is required.")]})
    return text


def followers_of(report: FieldReport) -> list[User]:
    return list(User.objects.filter(followed_reports__report=report, is_active=True))


def move(
    report: FieldReport,
    to: str,
    *,
    kind: str,
    actor: User | None,
    role: str,
    now: datetime,
    **fields: object,
) -> ReportEvent:
    """The one guard: a move not declared in REPORT_TRANSITIONS is refused (409)."""
    if to not in REPORT_TRANSITIONS.get(report.status, frozenset()):
        raise ReportTransitionRefused()
    event = ReportEvent.objects.create(
        report=report,
        kind=kind,
        actor=actor,
        actor_role=role,
        from_status=report.status,
        to_status=to,
        unit=report.unit,
        created_at=now,
        **fields,
    )
    report.status = to
    report.updated_at = now
    return event


def official_move(
    actor: User,
    report: FieldReport,
    to: str,
    *,
    kind: str,
    now: datetime,
    only_from: str | None = None,
    **fields: object,
) -> tuple[FieldReport, ReportEvent]:
    """An official's step: the report locked, the official's unit and permission checked, and
    moved (``only_from``: a move the official makes from that status only)."""
    report = locked(report)
    require_official(actor, report)
    if only_from is not None and report.status != only_from:
        raise ReportTransitionRefused()
    event = move(report, to, kind=kind, actor=actor, role=ActorRole.OFFICIAL, now=now, **fields)
    return report, event


def record(report: FieldReport, event: ReportEvent, fields: list[str], **extra: object) -> None:
    report.save(update_fields=["status", "updated_at", *fields])
    notify_citizens(report, event, followers_of(report), **extra)


def recount_followers(report: FieldReport) -> None:
    count = ReportFollower.objects.filter(report=report).count()
    FieldReport.objects.filter(pk=report.pk).update(followers_count=count)
    report.followers_count = count
