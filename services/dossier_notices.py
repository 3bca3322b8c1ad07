"""What a dossier's citizen and officials read in their inbox when something happens to it.

Called inside the transaction of the move, so the message exists exactly when the move does;
the key names the event, so writing it twice leaves one message."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date
from decimal import Decimal

from django.utils.translation import gettext as _

from accounts.models import User
from notifications.actions import notify
from notifications.models import Category
from services.models import Dossier, DossierEvent, DossierStatus, Outcome

S = DossierStatus


def _day(day: date | None) -> str:
    return day.strftime("%d/%m/%Y") if day else ""


def _money(amount: Decimal | None) -> str:
    # Vietnamese grouping, whatever the reader's language: 1.500.000 đ.
    return f"{int(amount or 0):,}".replace(",", ".") + " đ"


def _texts(dossier: Dossier, event: DossierEvent) -> tuple[str, str] | None:
    code, note = dossier.code, event.note
    match event.to_status:
        case S.PROCESSING if event.from_status == S.RECEIVED:
            return (
                _("Dossier %(code)s received") % {"code": code},
                _("Your dossier was received. Appointment date for the result: %(date)s.")
                % {"date": _day(dossier.appointment_date)},
            )
        case S.REFUSED:
            return (_("Dossier %(code)s not received") % {"code": code}, note)
        case S.SUPPLEMENT_REQUESTED:
            return (
                _("Dossier %(code)s: papers missing") % {"code": code},
                _("Please supplement your dossier: %(missing)s") % {"missing": note},
            )
        case S.FEE_REQUESTED:
            return (
                _("Dossier %(code)s: payment due") % {"code": code},
                _("Amount due: %(amount)s. %(note)s")
                % {"amount": _money(dossier.fee_due), "note": note},
            )
        case S.STOPPED:
            return (_("Dossier %(code)s: processing stopped") % {"code": code}, note)
        case S.DECIDED:
            if dossier.outcome == Outcome.REJECTED:
                body = _("Your application was rejected: %(reason)s") % {"reason": note}
            else:
                body = _("Your application was approved. The result is ready.")
            return (_("Dossier %(code)s: result ready") % {"code": code}, body)
        case S.RETURNED:
            return (
                _("Dossier %(code)s: result returned") % {"code": code},
                _("The result was handed over. Please rate how your dossier was handled."),
            )
    return None


def notify_citizen_of_moves(dossier: Dossier, events: Iterable[DossierEvent]) -> None:
    """The applicant's inbox message for each move they care about (not their own moves)."""
    for event in events:
        if event.actor_id == dossier.applicant_id or _texts(dossier, event) is None:
            continue
        notify(
            users=[dossier.applicant],
            category=Category.DOSSIER,
            key=f"dossier:{dossier.code}:event:{event.pk}",
            render=lambda event=event: _texts(dossier, event),
            data={"dossier": dossier.code, "status": event.to_status},
        )


def notify_citizen_of_extension(dossier: Dossier, letter_id: int, reason: str) -> None:
    notify(
        users=[dossier.applicant],
        category=Category.DOSSIER,
        key=f"dossier:{dossier.code}:extension:{letter_id}",
        render=lambda: (
            _("Dossier %(code)s: new appointment date") % {"code": dossier.code},
            _("We apologise: your result is delayed (%(reason)s). New appointment date: %(date)s.")
            % {"reason": reason, "date": _day(dossier.appointment_date)},
        ),
        data={"dossier": dossier.code, "appointment_date": dossier.appointment_date.isoformat()},
    )


def notify_officials_due(dossier: Dossier, officials: Iterable[User], *, overdue: bool) -> int:
    """Warn the assignee and the unit's leaders: due soon, or overdue (once per appointment)."""
    kind = "overdue" if overdue else "due-soon"

    def render() -> tuple[str, str]:
        if overdue:
            return (
                _("Dossier %(code)s is overdue") % {"code": dossier.code},
                _("%(procedure)s: the appointment date was %(date)s.")
                % {"procedure": dossier.procedure.name, "date": _day(dossier.appointment_date)},
            )
        return (
            _("Dossier %(code)s is due soon") % {"code": dossier.code},
            _("%(procedure)s: the appointment date is %(date)s.")
            % {"procedure": dossier.procedure.name, "date": _day(dossier.appointment_date)},
        )

    return notify(
        users=officials,
        category=Category.DOSSIER,
        key=f"dossier:{dossier.code}:{kind}:{dossier.appointment_date.isoformat()}",
        render=render,
        data={"dossier": dossier.code, "official": True},
    )


def notify_assignee(dossier: Dossier, assignee: User) -> None:
    notify(
        users=[assignee],
        category=Category.DOSSIER,
        key=f"dossier:{dossier.code}:assigned:{assignee.pk}:{dossier.updated_at.timestamp()}",
        render=lambda: (
            _("Dossier %(code)s assigned to you") % {"code": dossier.code},
            _("%(procedure)s. Appointment date: %(date)s.")
            % {"procedure": dossier.procedure.name, "date": _day(dossier.appointment_date)}
            if dossier.appointment_date
            # Not received yet: no appointment date to give.
            else dossier.procedure.name,
        ),
        data={"dossier": dossier.code, "official": True},
    )
