"""The officials' steps: accept, refuse, start, resolve (with evidence), close without a fix,
transfer, merge, moderate."""

from __future__ import annotations

from django.conf import settings
from django.core.files.uploadedfile import UploadedFile
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import User
from accounts.selectors import official_ward_codes
from digital_address.models import Ward
from services.dossier_flow import officials_of_unit
from services.errors import InvalidForm, ReportNotFound, ReportTransitionRefused
from services.models import (
    REPORT_OPEN,
    TRANSFERABLE,
    ActorRole,
    CloseReason,
    FieldReport,
    PhotoKind,
    ReportEvent,
    ReportFollower,
    ReportPhoto,
)
from services.report_flow.transitions import (
    HANDLE,
    K,
    R,
    deadlines_set,
    followers_of,
    locked,
    move,
    official_move,
    on_time,
    photos_record,
    record,
    recount_followers,
    require_official,
    required_text,
)
from services.report_notices import notify_citizens, notify_unit
from services.report_photos import clean_evidence, photos_check, stored_files


def report_accept(*, actor: User, report: FieldReport, note: str = "") -> FieldReport:
    now = timezone.now()
    with transaction.atomic():
        report, event = official_move(
            actor, report, R.ACCEPTED, kind=K.ACCEPTED, now=now, note=note.strip()
        )
        report.acknowledged_at = now
        report.acknowledged_on_time = on_time(report.acknowledge_due, now)
        record(report, event, ["acknowledged_at", "acknowledged_on_time"])
    return report


def report_refuse(
    *, actor: User, report: FieldReport, reason: str, referral: str = ""
) -> FieldReport:
    """Not the unit's competence (or not a problem it can act on): the reason, and where the
    citizen should turn instead."""
    reason = required_text(reason, "reason")
    now = timezone.now()
    with transaction.atomic():
        report, event = official_move(
            actor,
            report,
            R.REFUSED,
            kind=K.REFUSED,
            now=now,
            note=reason,
            referral=referral.strip(),
        )
        report.acknowledged_at = report.closed_at = now
        report.acknowledged_on_time = on_time(report.acknowledge_due, now)
        record(report, event, ["acknowledged_at", "acknowledged_on_time", "closed_at"])
    return report


def report_start(*, actor: User, report: FieldReport, note: str = "") -> FieldReport:
    """Accepted → in progress. (Resolved → in progress is the citizen's dispute only: an
    official does not take back a fix the citizen is asked to confirm.)"""
    now = timezone.now()
    with transaction.atomic():
        report, event = official_move(
            actor,
            report,
            R.IN_PROGRESS,
            kind=K.STARTED,
            now=now,
            only_from=R.ACCEPTED,
            note=note.strip(),
        )
        record(report, event, [])
    return report


def report_resolve(
    *, actor: User, report: FieldReport, note: str, files: list[UploadedFile]
) -> FieldReport:
    """Fixed: a note and at least one photo or document of the fix, which the citizen then
    confirms or disputes."""
    note = required_text(note, "note")
    photos_check(files, field="files", minimum=1)
    cleaned = [clean_evidence(upload, "files") for upload in files]
    now = timezone.now()
    with stored_files(cleaned) as names, transaction.atomic():
        report, event = official_move(
            actor, report, R.RESOLVED, kind=K.RESOLVED, now=now, note=note
        )
        photos_record(report, names, cleaned, PhotoKind.EVIDENCE, actor, now)
        report.resolved_at = now
        report.resolved_on_time = on_time(report.resolve_due, now)
        if report.acknowledged_at is None:
            report.acknowledged_at = now
        record(report, event, ["resolved_at", "resolved_on_time", "acknowledged_at"])
    return report


def report_close_not_fixed(
    *, actor: User, report: FieldReport, reason: str, note: str = ""
) -> FieldReport:
    if reason not in CloseReason.values:
        raise InvalidForm(fields={"reason": [_("Choose one of the reasons.")]})
    note = note.strip()
    if reason == CloseReason.OTHER:
        note = required_text(note, "note")
    now = timezone.now()
    with transaction.atomic():
        report, event = official_move(
            actor,
            report,
            R.CLOSED_NOT_FIXED,
            kind=K.CLOSED_NOT_FIXED,
            now=now,
            note=note,
            reason=reason,
        )
        report.closed_at = now
        report.close_reason = reason
        record(report, event, ["closed_at", "close_reason"])
    return report


def report_transfer(
    *, actor: User, report: FieldReport, unit_code: int, reason: str
) -> FieldReport:
    """To the unit that should handle it, with the reason. It arrives there as new: the
    deadlines count again from its receipt, and that unit's officials are told."""
    reason = required_text(reason, "reason")
    now = timezone.now()
    with transaction.atomic():
        report = locked(report)
        require_official(actor, report)
        if report.status not in TRANSFERABLE:
            raise ReportTransitionRefused()
        target = Ward.objects.filter(
            code=unit_code, province_id=settings.DEPLOYMENT_PROVINCE_CODE
        ).first()
        if target is None:
            raise InvalidForm(fields={"unit": [_("No commune-level unit has this code.")]})
        if target.pk == report.unit_id:
            raise InvalidForm(fields={"unit": [_("The report is already with this unit.")]})
        event = ReportEvent.objects.create(
            report=report,
            kind=K.TRANSFERRED,
            actor=actor,
            actor_role=ActorRole.OFFICIAL,
            from_status=report.status,
            to_status=R.SUBMITTED,
            unit=report.unit,
            to_unit=target,
            note=reason,
            created_at=now,
        )
        report.unit = target
        report.status = R.SUBMITTED
        report.updated_at = now
        report.acknowledged_at = report.acknowledged_on_time = None
        deadlines_set(report, now)
        record(
            report,
            event,
            [
                "unit",
                "received_at",
                "acknowledge_due",
                "resolve_due",
                "acknowledged_at",
                "acknowledged_on_time",
            ],
        )
        notify_unit(report, event, officials_of_unit(target.pk, f"services.{HANDLE}"))
    return report


def report_merge(*, actor: User, report: FieldReport, into_id: int, note: str = "") -> FieldReport:
    """The same problem reported twice: this report ends, and its reporter and followers follow
    the other one (which must be open and in the official's units)."""
    if into_id == report.pk:
        raise InvalidForm(fields={"into": [_("A report cannot be merged into itself.")]})
    now = timezone.now()
    with transaction.atomic():
        # Both rows, in id order: two merges of the same pair cannot deadlock.
        first, second = sorted([report.pk, into_id])
        locked = {r.pk: r for r in (_locked_or_none(first), _locked_or_none(second)) if r}
        report, target = locked.get(report.pk), locked.get(into_id)
        if report is None:
            raise ReportNotFound()
        require_official(actor, report)
        codes = official_ward_codes(user=actor)
        if target is None or (codes is not None and target.unit_id not in codes):
            raise InvalidForm(fields={"into": [_("No open report of your units has this number.")]})
        if target.status not in REPORT_OPEN:
            raise InvalidForm(
                fields={"into": [_("That report is closed: merge into an open one.")]}
            )
        event = move(
            report,
            R.MERGED,
            kind=K.MERGED,
            actor=actor,
            role=ActorRole.OFFICIAL,
            now=now,
            note=note.strip(),
        )
        report.merged_into = target
        report.closed_at = now
        followers = followers_of(report)
        movers = {u.pk for u in followers} | {report.reporter_id}
        movers.discard(target.reporter_id)
        # They have had the problem since the duplicate was reported (a fix of the target
        # after that is theirs to rate).
        since = report.created_at
        ReportFollower.objects.bulk_create(
            [ReportFollower(report=target, user_id=pk, created_at=since) for pk in sorted(movers)],
            ignore_conflicts=True,
        )
        recount_followers(target)
        report.save(update_fields=["status", "updated_at", "merged_into", "closed_at"])
        notify_citizens(report, event, followers, target=str(target.pk))
    return report


def _locked_or_none(pk: int) -> FieldReport | None:
    try:
        return locked(pk)
    except FieldReport.DoesNotExist:
        return None


def report_moderate(
    *,
    actor: User,
    report: FieldReport,
    hidden: bool | None = None,
    text_hidden: bool | None = None,
    photos_hidden: list[int] = (),
    photos_shown: list[int] = (),
    note: str = "",
) -> FieldReport:
    """What the public map shows of the report: the report at all, its text, each photo."""
    now = timezone.now()
    with transaction.atomic():
        report = locked(report)
        require_official(actor, report, "moderate_fieldreport")
        photos = ReportPhoto.objects.filter(report=report)
        unknown = (set(photos_hidden) | set(photos_shown)) - set(
            photos.values_list("pk", flat=True)
        )
        if unknown:
            message = _("Not a photo of this report: %(ids)s.") % {
                "ids": ", ".join(str(i) for i in sorted(unknown))
            }
            raise InvalidForm(fields={"photos": [message]})
        if set(photos_hidden) & set(photos_shown):
            raise InvalidForm(fields={"photos": [_("A photo cannot be both hidden and shown.")]})
        fields = []
        if hidden is not None:
            report.hidden = hidden
            fields.append("hidden")
        if text_hidden is not None:
            report.text_hidden = text_hidden
            fields.append("text_hidden")
        photos.filter(pk__in=list(photos_hidden)).update(hidden=True)
        photos.filter(pk__in=list(photos_shown)).update(hidden=False)
        ReportEvent.objects.create(
            report=report,
            kind=K.MODERATED,
            actor=actor,
            actor_role=ActorRole.OFFICIAL,
            from_status=report.status,
            to_status=report.status,
            unit=report.unit,
            note=note.strip(),
            created_at=now,
        )
        report.updated_at = now
        report.save(update_fields=[*fields, "updated_at"])
    return report
