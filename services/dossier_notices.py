"""What a dossier's citizen and officials read in their inbox when something happens to it.

Called inside the transaction of the move, so the message exists exactly when the move does;
the key names the event, so writing it twice leaves one message."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date
from decimal import Decimal

from django.utils.translation import gettext_lazy as _

from accounts.models import User
from notifications.actions import Message, notify
from notifications.events import EventType, event_factory, register
from notifications.models import Category
from services.models import Dossier, DossierEvent, DossierStatus, Outcome

S = DossierStatus
_event = event_factory("dossier", Category.DOSSIER, {"code": "G22.20.01-261126-0001"})


RECEIVED = _event(
    "received",
    _("Dossier received"),
    _("Dossier {{ code }} received"),
    _("Your dossier was received. Appointment date for the result: {{ date }}."),
    {"date": "10/12/2026"},
)
REFUSED = _event(
    "refused",
    _("Dossier not received"),
    _("Dossier {{ code }} not received"),
    "{{ note }}",
    {"note": "Thiếu bản sao giấy khai sinh."},
)
SUPPLEMENT = _event(
    "supplement_requested",
    _("Papers missing"),
    _("Dossier {{ code }}: papers missing"),
    _("Please supplement your dossier: {{ note }}"),
    {"note": "Bản sao sổ hộ khẩu."},
    sms_fallback=True,
)
FEE = _event(
    "fee_requested",
    _("Payment due"),
    _("Dossier {{ code }}: payment due"),
    _("Amount due: {{ amount }}. {{ note }}"),
    {"amount": "50.000 đ", "note": ""},
    sms_fallback=True,
)
STOPPED = _event(
    "stopped",
    _("Processing stopped"),
    _("Dossier {{ code }}: processing stopped"),
    "{{ note }}",
    {"note": "Theo đề nghị của người nộp."},
)
APPROVED = _event(
    "approved",
    _("Result ready (approved)"),
    _("Dossier {{ code }}: result ready"),
    _("Your application was approved. The result is ready."),
    {},
    sms_fallback=True,
    email=True,
)
REJECTED = _event(
    "rejected",
    _("Result ready (rejected)"),
    _("Dossier {{ code }}: result ready"),
    _("Your application was rejected: {{ note }}"),
    {"note": "Không đủ điều kiện."},
    sms_fallback=True,
    email=True,
)
RETURNED = _event(
    "returned",
    _("Result returned"),
    _("Dossier {{ code }}: result returned"),
    _("The result was handed over. Please rate how your dossier was handled."),
    {},
)
EXTENDED = _event(
    "extended",
    _("New appointment date (apology letter)"),
    _("Dossier {{ code }}: new appointment date"),
    _("We apologise: your result is delayed ({{ reason }}). New appointment date: {{ date }}."),
    {"reason": "Cần xác minh thêm.", "date": "15/12/2026"},
    sms_fallback=True,
)
DUE_SOON = _event(
    "due_soon",
    _("Due soon (officials)"),
    _("Dossier {{ code }} is due soon"),
    _("{{ procedure }}: the appointment date is {{ date }}."),
    {"procedure": "Đăng ký khai sinh", "date": "10/12/2026"},
)
OVERDUE = _event(
    "overdue",
    _("Overdue (officials)"),
    _("Dossier {{ code }} is overdue"),
    _("{{ procedure }}: the appointment date was {{ date }}."),
    {"procedure": "Đăng ký khai sinh", "date": "10/12/2026"},
)
ASSIGNED = _event(
    "assigned",
    _("Assigned to an official"),
    _("Dossier {{ code }} assigned to you"),
    _("{{ procedure }}{% if date %}. Appointment date: {{ date }}.{% endif %}"),
    {"procedure": "Đăng ký khai sinh", "date": "10/12/2026"},
)
register(
    RECEIVED,
    REFUSED,
    SUPPLEMENT,
    FEE,
    STOPPED,
    APPROVED,
    REJECTED,
    RETURNED,
    EXTENDED,
    DUE_SOON,
    OVERDUE,
    ASSIGNED,
)


def _day(day: date | None) -> str:
    return day.strftime("%d/%m/%Y") if day else ""


def _money(amount: Decimal | None) -> str:
    # Vietnamese grouping, whatever the reader's language: 1.500.000 đ.
    return f"{int(amount or 0):,}".replace(",", ".") + " đ"


def _event_for(dossier: Dossier, event: DossierEvent) -> EventType | None:
    match event.to_status:
        case S.PROCESSING if event.from_status == S.RECEIVED:
            return RECEIVED
        case S.REFUSED:
            return REFUSED
        case S.SUPPLEMENT_REQUESTED:
            return SUPPLEMENT
        case S.FEE_REQUESTED:
            return FEE
        case S.STOPPED:
            return STOPPED
        case S.DECIDED:
            return REJECTED if dossier.outcome == Outcome.REJECTED else APPROVED
        case S.RETURNED:
            return RETURNED
    return None


def notify_citizen_of_moves(dossier: Dossier, events: Iterable[DossierEvent]) -> None:
    """The applicant's message for each move they care about (not their own moves)."""
    for event in events:
        kind = _event_for(dossier, event)
        if event.actor_id == dossier.applicant_id or kind is None:
            continue
        notify(
            users=[dossier.applicant],
            event=kind.name,
            key=f"dossier:{dossier.code}:event:{event.pk}",
            context={
                "code": dossier.code,
                "note": event.note,
                "date": _day(dossier.appointment_date),
                "amount": _money(dossier.fee_due),
            },
            data={"dossier": dossier.code, "status": event.to_status},
        )


def notify_citizen_of_extension(dossier: Dossier, letter_id: int, reason: str) -> None:
    notify(
        users=[dossier.applicant],
        event=EXTENDED.name,
        key=f"dossier:{dossier.code}:extension:{letter_id}",
        context={"code": dossier.code, "reason": reason, "date": _day(dossier.appointment_date)},
        data={"dossier": dossier.code, "appointment_date": dossier.appointment_date.isoformat()},
    )


def due_warning(dossier: Dossier, officials: Iterable[User], *, overdue: bool) -> Message:
    """The warning to the assignee and the unit's leaders: due soon, or overdue (once per
    appointment date: the key). Sent in batches by services.deadlines."""
    return Message(
        users=officials,
        key=f"dossier:{dossier.code}:{'overdue' if overdue else 'due-soon'}:"
        f"{dossier.appointment_date.isoformat()}",
        context={
            "code": dossier.code,
            "procedure": dossier.procedure.name,
            "date": _day(dossier.appointment_date),
        },
        data={"dossier": dossier.code, "official": True},
    )


def notify_assignee(dossier: Dossier, assignee: User) -> None:
    notify(
        users=[assignee],
        event=ASSIGNED.name,
        key=f"dossier:{dossier.code}:assigned:{assignee.pk}:{dossier.updated_at.timestamp()}",
        context={
            "code": dossier.code,
            "procedure": dossier.procedure.name,
            # Not received yet: no appointment date to give.
            "date": _day(dossier.appointment_date),
        },
        data={"dossier": dossier.code, "official": True},
    )
