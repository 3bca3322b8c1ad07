"""Dossier transitions: one guard over ``DOSSIER_TRANSITIONS``, the waits that stop the clock,
and the actions of the officials and of the citizen that move a dossier.

Every action: a transaction, the dossier's row locked, the move checked against the declared
transitions, the change saved, one timeline event per status passed (actor, note, time).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from django.contrib.auth.backends import ModelBackend
from django.core.files.uploadedfile import UploadedFile
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import User
from accounts.selectors import official_ward_codes
from services.attachments import attachment_check, attachment_record, stored_file
from services.dossier_notices import (
    notify_assignee,
    notify_citizen_of_extension,
    notify_citizen_of_moves,
)
from services.errors import (
    DossierNotFound,
    DossierTransitionRefused,
    InvalidForm,
    PaymentRefused,
)
from services.models import (
    DOSSIER_TRANSITIONS,
    FINAL_STATUSES,
    PAUSED_STATUSES,
    AttachmentKind,
    Dossier,
    DossierAttachment,
    DossierEvent,
    DossierExtension,
    DossierRating,
    DossierStatus,
    DossierWait,
    Outcome,
    PaymentReceipt,
    PaymentStatus,
    ProcessingUnit,
)
from services.payments import PaymentUnavailable, payment_provider
from services.workdays import LOCAL, work_calendar

S = DossierStatus
# The civil service's 8-hour working day (Labour Code art. 105).
WORKING_HOURS_PER_DAY = 8


def _locked(dossier: Dossier) -> Dossier:
    # Only the dossier's row ("self"): the procedure joined in stays free for the others.
    return (
        Dossier.objects.select_for_update(no_key=True, of=("self",))
        .select_related("procedure", "applicant")
        .get(pk=dossier.pk)
    )


@dataclass(frozen=True)
class Moved:
    event: DossierEvent
    # The waits the move closed (leaving status 5 or 6).
    closed: list[DossierWait]


def _move(dossier: Dossier, to: int, *, actor: User | None, note: str = "", now=None) -> Moved:
    """The one guard: a move not declared in DOSSIER_TRANSITIONS is refused (409)."""
    if to not in DOSSIER_TRANSITIONS.get(dossier.status, frozenset()):
        raise DossierTransitionRefused()
    now = now or timezone.now()
    old = dossier.status
    closed: list[DossierWait] = []
    if old in PAUSED_STATUSES:
        closed = list(DossierWait.objects.filter(dossier=dossier, ended_at__isnull=True))
        for wait in closed:
            wait.ended_at = now
        DossierWait.objects.filter(pk__in=[w.pk for w in closed]).update(ended_at=now)
    if to in PAUSED_STATUSES:
        DossierWait.objects.create(dossier=dossier, status=to, started_at=now)
    dossier.status = to
    dossier.updated_at = now
    event = DossierEvent.objects.create(
        dossier=dossier, actor=actor, from_status=old, to_status=to, note=note, created_at=now
    )
    return Moved(event=event, closed=closed)


def _resume(dossier: Dossier, closed: list[DossierWait]) -> None:
    """The clock runs again: the appointment set at receipt moves on by the working days the
    wait covered (not recomputed: a later change of the procedure or of the calendar does not
    move a date the citizen was given)."""
    if dossier.appointment_date is None:
        return
    calendar = work_calendar()
    waited = sum(calendar.paused_days(w.started_at, w.ended_at, None) for w in closed)
    dossier.appointment_date = calendar.add_working_days(dossier.appointment_date, waited)


def _appointment(dossier: Dossier) -> None:
    """The appointment date, set at receipt: the procedure's working days after it (later
    waits move it on, see _resume)."""
    dossier.appointment_date = work_calendar().appointment(
        dossier.received_at, processing_days(dossier.procedure)
    )


def processing_days(procedure) -> int:
    """Working days to the appointment. A time in working hours is rounded up to whole working
    days of WORKING_HOURS_PER_DAY (the appointment is a date)."""
    if procedure.processing_unit == ProcessingUnit.WORKING_HOURS:
        return math.ceil(procedure.processing_time / WORKING_HOURS_PER_DAY)
    return procedure.processing_time


def _require_official(actor: User, dossier: Dossier, permission: str) -> None:
    codes = official_ward_codes(user=actor)
    if codes is not None and dossier.unit_id not in codes:
        raise DossierNotFound()
    if not actor.has_perm(f"services.{permission}"):
        raise DossierNotFound()


def _required_note(note: str, field: str = "note") -> str:
    note = (note or "").strip()
    if not note:
        raise InvalidForm(fields={field: [_("This field is required.")]})
    return note


_SAVED = ["status", "updated_at", "received_at", "appointment_date", "supplement_requests"]


def _record(dossier: Dossier, moved: Moved, fields: list[str]) -> None:
    """Save the moved dossier and tell its citizen, in the move's transaction (their own moves
    write them nothing: services.dossier_notices)."""
    dossier.save(update_fields=fields)
    notify_citizen_of_moves(dossier, [moved.event])


def dossier_receive(*, actor: User, dossier: Dossier, note: str = "") -> Dossier:
    """The one-stop desk receives the dossier (1 → 2) and hands it to processing (→ 4); the
    appointment date is set now, from the working-day calendar."""
    now = timezone.now()
    with transaction.atomic():
        dossier = _locked(dossier)
        _require_official(actor, dossier, "receive_dossier")
        _move(dossier, S.RECEIVED, actor=actor, note=note, now=now)
        dossier.received_at = now
        _appointment(dossier)
        moved = _move(dossier, S.PROCESSING, actor=actor, now=now)
        _record(dossier, moved, _SAVED)
    return dossier


def dossier_refuse(*, actor: User, dossier: Dossier, reason: str) -> Dossier:
    reason = _required_note(reason, "reason")
    with transaction.atomic():
        dossier = _locked(dossier)
        _require_official(actor, dossier, "receive_dossier")
        moved = _move(dossier, S.REFUSED, actor=actor, note=reason)
        _record(dossier, moved, _SAVED)
    return dossier


def dossier_request_supplement(*, actor: User, dossier: Dossier, missing: str) -> Dossier:
    """4 → 5, listing what is missing; the clock stops. A second request marks the dossier
    late in the KPI."""
    missing = _required_note(missing, "missing")
    with transaction.atomic():
        dossier = _locked(dossier)
        _require_official(actor, dossier, "process_dossier")
        moved = _move(dossier, S.SUPPLEMENT_REQUESTED, actor=actor, note=missing)
        dossier.supplement_requests += 1
        _record(dossier, moved, _SAVED)
    return dossier


def dossier_supplement(*, actor: User, dossier: Dossier, note: str = "") -> Dossier:
    """The citizen answers the request (5 → 4): the clock resumes, the appointment moves on by
    the working days waited."""
    now = timezone.now()
    with transaction.atomic():
        dossier = _locked(dossier)
        if dossier.applicant_id != actor.pk:
            raise DossierNotFound()
        if dossier.status != S.SUPPLEMENT_REQUESTED:
            raise DossierTransitionRefused()
        moved = _move(dossier, S.PROCESSING, actor=actor, note=note.strip(), now=now)
        _resume(dossier, moved.closed)
        _record(dossier, moved, _SAVED)
    return dossier


def dossier_withdraw(*, actor: User, dossier: Dossier, reason: str = "") -> Dossier:
    """The citizen withdraws (→ 7) while the dossier has not been decided."""
    with transaction.atomic():
        dossier = _locked(dossier)
        if dossier.applicant_id != actor.pk:
            raise DossierNotFound()
        moved = _move(dossier, S.WITHDRAWN, actor=actor, note=reason.strip())
        _record(dossier, moved, _SAVED)
    return dossier


def dossier_request_fee(*, actor: User, dossier: Dossier, amount: Decimal, note: str) -> Dossier:
    """4 → 6: the citizen must pay ``amount`` (a fee, a charge) before processing goes on; the
    clock stops."""
    note = _required_note(note)
    if amount <= 0:
        raise InvalidForm(fields={"amount": [_("Enter an amount above zero.")]})
    with transaction.atomic():
        dossier = _locked(dossier)
        _require_official(actor, dossier, "process_dossier")
        moved = _move(dossier, S.FEE_REQUESTED, actor=actor, note=note)
        dossier.fee_due = amount
        dossier.fee_requests += 1
        _record(dossier, moved, [*_SAVED, "fee_due", "fee_requests"])
    return dossier


def dossier_pay(*, actor: User, dossier: Dossier) -> PaymentReceipt:
    """The citizen pays online (6 → 4). The receipt is written first (pending), the provider is
    asked outside any transaction with one reference per fee request (so a retry, or two taps,
    is charged once), the confirmation recorded, then the dossier moves on if it still waits
    for this payment."""
    with transaction.atomic():
        locked = _locked(dossier)
        if locked.applicant_id != actor.pk:
            raise DossierNotFound()
        if locked.status != S.FEE_REQUESTED or not locked.fee_due:
            raise DossierTransitionRefused()
        provider = payment_provider()
        if not provider.available:
            raise PaymentRefused()
        receipt, _created = PaymentReceipt.objects.get_or_create(
            reference=f"{locked.code}-FEE{locked.fee_requests}",
            defaults={"dossier": locked, "amount": locked.fee_due, "provider": provider.name},
        )
    if receipt.status != PaymentStatus.PAID:
        try:
            charge = provider.charge(
                reference=receipt.reference,
                amount=receipt.amount,
                description=f"{locked.procedure.name} — {locked.code}",
            )
        except PaymentUnavailable as exc:
            raise PaymentRefused() from exc
        PaymentReceipt.objects.filter(pk=receipt.pk, status=PaymentStatus.PENDING).update(
            status=PaymentStatus.PAID, transaction_id=charge.transaction_id, paid_at=charge.paid_at
        )
        receipt.refresh_from_db()
    now = timezone.now()
    with transaction.atomic():
        locked = _locked(dossier)
        if locked.status == S.FEE_REQUESTED and receipt.applied_at is None:
            # The receipt's reference, not a sentence: the timeline is read in any language.
            moved = _move(locked, S.PROCESSING, actor=actor, note=receipt.reference, now=now)
            _resume(locked, moved.closed)
            _record(locked, moved, _SAVED)
            PaymentReceipt.objects.filter(pk=receipt.pk).update(applied_at=now)
            receipt.applied_at = now
    return receipt


def dossier_stop(*, actor: User, dossier: Dossier, reason: str) -> Dossier:
    """→ 8: processing stops for good (the law does not allow it, the citizen did not supply
    what was asked in time), with the reason the citizen reads."""
    reason = _required_note(reason, "reason")
    with transaction.atomic():
        dossier = _locked(dossier)
        _require_official(actor, dossier, "process_dossier")
        moved = _move(dossier, S.STOPPED, actor=actor, note=reason)
        _record(dossier, moved, _SAVED)
    return dossier


# Papers may be added while the dossier is new or waits on the citizen for them.
ATTACHABLE_STATUSES = frozenset({S.SUBMITTED, S.SUPPLEMENT_REQUESTED})


def dossier_attach(*, actor: User, dossier: Dossier, upload: UploadedFile) -> DossierAttachment:
    """The applicant adds a paper (status 1 or 5): the type read from the content, the size
    and count limited; the file is removed again if it cannot be recorded."""
    content_type, extension = attachment_check(upload)
    # The transaction ends first: if it rolls back, the stored file is deleted on the way out.
    with (
        stored_file(upload, dossier=dossier, extension=extension) as name,
        transaction.atomic(),
    ):
        dossier = _locked(dossier)
        if dossier.applicant_id != actor.pk:
            raise DossierNotFound()
        if dossier.status not in ATTACHABLE_STATUSES:
            raise DossierTransitionRefused(
                _("Papers can be added while the dossier is new or a supplement is asked.")
            )
        return attachment_record(
            dossier=dossier,
            name=name,
            upload=upload,
            kind=AttachmentKind.CITIZEN,
            content_type=content_type,
            actor=actor,
        )


def dossier_decide(
    *,
    actor: User,
    dossier: Dossier,
    outcome: str,
    note: str,
    result: UploadedFile | None = None,
) -> Dossier:
    """4 → 9: the leader approves or rejects (with the reason the citizen reads), with the
    result document (the signed decision, the certificate) when there is one."""
    note = note.strip()
    if outcome == Outcome.REJECTED and not note:
        raise InvalidForm(fields={"note": [_("Give the reason for the rejection.")]})
    checked = attachment_check(result, "result") if result is not None else None

    def decide(name: str | None) -> Dossier:
        with transaction.atomic():
            locked = _locked(dossier)
            _require_official(actor, locked, "decide_dossier")
            moved = _move(locked, S.DECIDED, actor=actor, note=note)
            locked.outcome = outcome
            _score(locked, moved.event.created_at)
            _record(locked, moved, [*_SAVED, "outcome", *_SCORED])
            if name is not None:
                attachment_record(
                    dossier=locked,
                    name=name,
                    upload=result,
                    kind=AttachmentKind.RESULT,
                    content_type=checked[0],
                    actor=actor,
                )
            return locked

    if checked is None:
        return decide(None)
    with stored_file(result, dossier=dossier, extension=checked[1]) as name:
        return decide(name)


def dossier_return(*, actor: User, dossier: Dossier, note: str = "") -> Dossier:
    """9 → 10: the one-stop desk hands the result over (or sends it)."""
    with transaction.atomic():
        dossier = _locked(dossier)
        _require_official(actor, dossier, "receive_dossier")
        moved = _move(dossier, S.RETURNED, actor=actor, note=note.strip())
        _record(dossier, moved, _SAVED)
    return dossier


_SCORED = ["decided_at", "on_time", "working_days_taken"]


def _score(dossier: Dossier, now) -> None:
    """At the decision, what the KPIs read (QĐ 766): on time when decided by the appointment
    date (which waits on the citizen moved on), with at most one supplement request and no
    apology letter; and the working days the unit took, waits subtracted."""
    calendar = work_calendar()
    decided_day = timezone.localtime(now, LOCAL).date()
    dossier.decided_at = now
    dossier.on_time = (
        dossier.appointment_date is not None
        and decided_day <= dossier.appointment_date
        and dossier.supplement_requests <= 1
        and dossier.extensions == 0
    )
    dossier.working_days_taken = None
    if dossier.received_at is not None:
        waited = sum(
            calendar.paused_days(w.started_at, w.ended_at, now)
            for w in DossierWait.objects.filter(dossier=dossier)
        )
        try:
            taken = calendar.working_days_between(
                calendar.receipt_day(dossier.received_at), decided_day
            )
        except ValueError:  # years between receipt and decision: not an average's business
            return
        dossier.working_days_taken = max(0, taken - waited)


def officials_of_unit(unit_id: int, permission: str):
    """Active officials of the unit holding ``permission`` (through a role or directly)."""
    return (
        ModelBackend()
        .with_perm(permission, is_active=True, include_superusers=False)
        .filter(is_staff=True, official__units=unit_id)
    )


def dossier_assign(*, actor: User, dossier: Dossier, assignee_id: int) -> Dossier:
    """The one-stop desk or the unit's leader hands the dossier to a processing official of
    the receiving unit, who is told in their inbox."""
    with transaction.atomic():
        dossier = _locked(dossier)
        _require_official(actor, dossier, "assign_dossier")
        if dossier.status in FINAL_STATUSES:
            raise DossierTransitionRefused()
        assignee = (
            officials_of_unit(dossier.unit_id, "services.process_dossier")
            .filter(pk=assignee_id)
            .first()
        )
        if assignee is None:
            raise InvalidForm(
                fields={
                    "assignee": [
                        _("Choose an official of the receiving unit who processes dossiers.")
                    ]
                }
            )
        if dossier.assignee_id == assignee.pk:
            return dossier
        dossier.assignee = assignee
        dossier.updated_at = timezone.now()
        dossier.save(update_fields=["assignee", "updated_at"])
        notify_assignee(dossier, assignee)
    return dossier


# An extension is an apology for a dossier being processed that will be late.
EXTENDABLE_STATUSES = frozenset({S.RECEIVED, S.PROCESSING})


def dossier_extend(
    *, actor: User, dossier: Dossier, new_date: date, reason: str
) -> DossierExtension:
    """The apology letter with a new appointment date (Mẫu 04): the reason, the new date (a
    working day after the current appointment and not in the past). The dossier counts late
    in the KPI; the citizen is told."""
    reason = _required_note(reason, "reason")
    with transaction.atomic():
        dossier = _locked(dossier)
        _require_official(actor, dossier, "process_dossier")
        if dossier.status not in EXTENDABLE_STATUSES or dossier.appointment_date is None:
            raise DossierTransitionRefused(
                _("Only a dossier being processed can get a new appointment date.")
            )
        calendar = work_calendar()
        today = timezone.localdate()
        problem = None
        if new_date <= dossier.appointment_date or new_date < today:
            problem = _(
                "Choose a date after the current appointment (%(date)s), not in the past."
            ) % {"date": dossier.appointment_date.strftime("%d/%m/%Y")}
        elif not calendar.is_working_day(new_date):
            problem = _("Choose a working day.")
        elif (new_date - today).days > MAX_EXTENSION_DAYS:
            problem = _("Choose a date within a year.")
        if problem:
            raise InvalidForm(fields={"new_date": [problem]})
        letter = DossierExtension.objects.create(
            dossier=dossier,
            previous_date=dossier.appointment_date,
            new_date=new_date,
            reason=reason,
            official=actor,
        )
        dossier.appointment_date = new_date
        dossier.extensions += 1
        dossier.updated_at = timezone.now()
        dossier.save(update_fields=["appointment_date", "extensions", "updated_at"])
        notify_citizen_of_extension(dossier, letter.pk, reason)
    return letter


MAX_EXTENSION_DAYS = 366


def dossier_rate(*, actor: User, dossier: Dossier, stars: int, comment: str = "") -> DossierRating:
    """The applicant rates a returned dossier (status 10), once: 1–5 stars and a comment;
    one or two stars count as a dislike in the satisfaction KPI."""
    if not 1 <= stars <= 5:
        raise InvalidForm(fields={"stars": [_("Give 1 to 5 stars.")]})
    with transaction.atomic():
        dossier = _locked(dossier)
        if dossier.applicant_id != actor.pk:
            raise DossierNotFound()
        if dossier.status != S.RETURNED:
            raise DossierTransitionRefused(_("A dossier can be rated once its result is returned."))
        if DossierRating.objects.filter(dossier=dossier).exists():
            raise DossierTransitionRefused(
                _("You already rated this dossier."), code="already_rated"
            )
        return DossierRating.objects.create(dossier=dossier, stars=stars, comment=comment.strip())
