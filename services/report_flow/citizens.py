"""The citizen's side of a report: confirming or disputing the fix, following, reacting;
and the closing of fixes nobody answered."""

from __future__ import annotations

from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from accounts.models import User
from services.dossier_flow import officials_of_unit
from services.errors import (
    ConfirmationPeriodOver,
    ReactionRefused,
    ReportNotFound,
    ReportTransitionRefused,
)
from services.models import (
    REPORT_OPEN,
    ActorRole,
    FieldReport,
    ReportEvent,
    ReportFollower,
    ReportReaction,
)
from services.report_flow.transitions import (
    K,
    R,
    locked,
    move,
    record,
    recount_followers,
    required_text,
)
from services.report_notices import notify_leaders


def _answer_window(report: FieldReport, now: datetime) -> None:
    if report.status != R.RESOLVED:
        raise ReportTransitionRefused()
    if now > report.resolved_at + timedelta(days=settings.REPORT_CONFIRM_DAYS):
        raise ConfirmationPeriodOver()


def _answer(
    actor: User, report: FieldReport, to: str, kind: str, note: str, now: datetime
) -> tuple[FieldReport, ReportEvent]:
    """The reporter's answer to a fix, within its window: the report locked and moved."""
    report = locked(report)
    if report.reporter_id != actor.pk:
        raise ReportNotFound()
    _answer_window(report, now)
    event = move(report, to, kind=kind, actor=actor, role=ActorRole.CITIZEN, now=now, note=note)
    return report, event


def report_confirm(*, actor: User, report: FieldReport, note: str = "") -> FieldReport:
    """The reporter confirms the fix: closed, and counted as satisfied."""
    now = timezone.now()
    with transaction.atomic():
        report, event = _answer(actor, report, R.CLOSED, K.CONFIRMED, note.strip(), now)
        report.satisfied = True
        report.closed_at = now
        record(report, event, ["satisfied", "closed_at"])
    return report


def report_dispute(*, actor: User, report: FieldReport, reason: str) -> FieldReport:
    """The reporter says it is not fixed: back in progress, escalated to the unit's leaders."""
    reason = required_text(reason, "reason")
    now = timezone.now()
    with transaction.atomic():
        report, event = _answer(actor, report, R.IN_PROGRESS, K.DISPUTED, reason, now)
        report.satisfied = False
        report.escalated = True
        report.resolved_at = report.resolved_on_time = None
        record(report, event, ["satisfied", "escalated", "resolved_at", "resolved_on_time"])
        leaders = officials_of_unit(report.unit_id, "services.supervise_fieldreport")
        notify_leaders(report, event, leaders)
    return report


def report_follow(*, user: User, report: FieldReport) -> FieldReport:
    """Me too: told of every step from now on. Following twice is following."""
    with transaction.atomic():
        report = locked(report)
        if report.status not in REPORT_OPEN:
            raise ReportTransitionRefused()
        if report.reporter_id != user.pk:
            ReportFollower.objects.bulk_create(
                [ReportFollower(report=report, user=user)], ignore_conflicts=True
            )
            recount_followers(report)
    return report


def report_unfollow(*, user: User, report: FieldReport) -> FieldReport:
    """No longer told of its steps; a follower's like or dislike goes too (they could no
    longer change it)."""
    with transaction.atomic():
        report = locked(report)
        if ReportFollower.objects.filter(report=report, user=user).delete()[0]:
            ReportReaction.objects.filter(report=report, user=user).delete()
        recount_followers(report)
    return report


BATCH = 200


def reports_close_unconfirmed(*, now: datetime | None = None) -> int:
    """Close every fix nobody confirmed or disputed within REPORT_CONFIRM_DAYS. Safe to run
    twice or on two workers at once: rows are claimed with SKIP LOCKED and moved in the
    transaction that writes their messages."""
    now = now or timezone.now()
    before = now - timedelta(days=settings.REPORT_CONFIRM_DAYS)
    closed = 0
    while True:
        with transaction.atomic():
            batch = list(
                FieldReport.objects.select_for_update(skip_locked=True, of=("self",))
                .select_related("category", "reporter", "unit")
                .filter(status=R.RESOLVED, resolved_at__lt=before)
                .order_by("resolved_at", "id")[:BATCH]
            )
            if not batch:
                return closed
            for report in batch:
                event = move(
                    report,
                    R.CLOSED,
                    kind=K.AUTO_CLOSED,
                    actor=None,
                    role=ActorRole.SYSTEM,
                    now=now,
                )
                report.closed_at = now
                record(report, event, ["closed_at"])
            closed += len(batch)


def report_follows_erase(*, user: User) -> int:
    """The citizen's account is erased: they follow nothing any more (the counts follow)."""
    report_ids = list(ReportFollower.objects.filter(user=user).values_list("report_id", flat=True))
    deleted, _rows = ReportFollower.objects.filter(user=user).delete()
    for report in FieldReport.objects.filter(pk__in=report_ids).order_by("pk"):
        recount_followers(report)
    return deleted


# Reactions are about a fix: not about a report closed without one.
REACTABLE = frozenset({R.RESOLVED, R.CLOSED})


def report_react(*, user: User, report: FieldReport, like: bool | None) -> FieldReport:
    """The reporter, or a follower who had the problem before it was fixed, likes or dislikes
    how it was handled (once resolved); again to change it, ``None`` to take it back."""
    with transaction.atomic():
        report = locked(report)
        follow = ReportFollower.objects.filter(report=report, user=user).first()
        if report.reporter_id != user.pk and follow is None:
            raise ReportNotFound()
        if report.status not in REACTABLE or report.resolved_at is None:
            raise ReportTransitionRefused()
        # Following a fixed report and disliking it is not a verdict on the fix.
        if report.reporter_id != user.pk and follow.created_at > report.resolved_at:
            raise ReactionRefused()
        if like is None:
            ReportReaction.objects.filter(report=report, user=user).delete()
        else:
            ReportReaction.objects.update_or_create(
                report=report, user=user, defaults={"like": like, "created_at": timezone.now()}
            )
    return report
