"""What a field report's citizen, its followers and its unit's officials read in their inbox
when something happens to it. Called inside the transaction of the step, keyed by the timeline
event: written twice, it leaves one message. Nothing here names the reporter."""

from __future__ import annotations

from collections.abc import Iterable

from django.utils.translation import gettext_lazy as _

from accounts.models import User
from notifications.actions import notify
from notifications.events import EventType, event_factory, register
from notifications.models import Category
from services.models import CloseReason, FieldReport, ReportEvent, ReportEventKind

K = ReportEventKind
_event = event_factory(
    "report",
    Category.REPORT,
    {"number": "1024", "category": "Đèn chiếu sáng", "unit": "Xã Thất Khê", "note": ""},
)


ACCEPTED = _event(
    "accepted",
    _("Report accepted"),
    _("Report #{{ number }} accepted"),
    _("{{ unit }} accepted your report ({{ category }}).{% if note %} {{ note }}{% endif %}"),
)
REFUSED = _event(
    "refused",
    _("Report refused"),
    _("Report #{{ number }} refused"),
    _("{{ unit }}: {{ note }}{% if referral %} Please contact: {{ referral }}{% endif %}"),
    {"note": "Không thuộc thẩm quyền của xã.", "referral": "Điện lực Lạng Sơn, 1900 xxxx"},
)
STARTED = _event(
    "started",
    _("Work started on a report"),
    _("Report #{{ number }}: work started"),
    _("{{ unit }} is working on it.{% if note %} {{ note }}{% endif %}"),
)
RESOLVED = _event(
    "resolved",
    _("Report resolved: please confirm"),
    _("Report #{{ number }} resolved"),
    _(
        "{{ unit }}: {{ note }} Please confirm the fix or dispute it within {{ days }} days; "
        "without an answer the report closes."
    ),
    {"note": "Đã thay bóng đèn.", "days": "7"},
    sms_fallback=True,
)
CLOSED = _event(
    "closed",
    _("Report closed"),
    _("Report #{{ number }} closed"),
    _("The report ({{ category }}) is closed.{% if note %} {{ note }}{% endif %}"),
)
NOT_FIXED = _event(
    "closed_not_fixed",
    _("Report closed without a fix"),
    _("Report #{{ number }} closed, not fixed"),
    _("{{ unit }}: {{ reason }}.{% if note %} {{ note }}{% endif %}"),
    {"reason": "Đưa vào kế hoạch năm sau", "note": ""},
)
REOPENED = _event(
    "reopened",
    _("Report reopened after a dispute"),
    _("Report #{{ number }} reopened"),
    _("The fix was disputed: the report is back with {{ unit }} and its leaders."),
)
TRANSFERRED = _event(
    "transferred",
    _("Report transferred"),
    _("Report #{{ number }} transferred"),
    _("Now handled by {{ unit }}: {{ note }}"),
    {"note": "Thuộc địa bàn xã bên cạnh."},
)
MERGED = _event(
    "merged",
    _("Report merged"),
    _("Report #{{ number }} merged"),
    _(
        "It is the same problem as report #{{ target }}, which you now follow: you will be told "
        "of its progress."
    ),
    {"target": "1000"},
)
# For the officials of the unit.
NEW = _event(
    "new",
    _("New report for your unit (officials)"),
    _("New report #{{ number }}: {{ category }}"),
    _("To acknowledge or refuse by {{ date }}."),
    {"date": "01/12/2026"},
)
ESCALATED = _event(
    "escalated",
    _("A fix was disputed (unit leaders)"),
    _("Report #{{ number }}: fix disputed"),
    _("The citizen disputed the fix of a report ({{ category }}): {{ note }}"),
    {"note": "Đèn vẫn chưa sáng."},
    urgent=False,
)
register(ACCEPTED, REFUSED, STARTED, RESOLVED, CLOSED, NOT_FIXED, REOPENED, TRANSFERRED, MERGED)
register(NEW, ESCALATED)

# The citizen's message for each kind of step (none for their own confirmation or moderation).
_FOR_CITIZENS: dict[str, EventType] = {
    K.ACCEPTED: ACCEPTED,
    K.REFUSED: REFUSED,
    K.STARTED: STARTED,
    K.RESOLVED: RESOLVED,
    K.CONFIRMED: CLOSED,
    K.AUTO_CLOSED: CLOSED,
    K.CLOSED_NOT_FIXED: NOT_FIXED,
    K.DISPUTED: REOPENED,
    K.TRANSFERRED: TRANSFERRED,
    K.MERGED: MERGED,
}


def _context(report: FieldReport, event: ReportEvent, **extra: object) -> dict[str, object]:
    from django.conf import settings

    return {
        "number": str(report.pk),
        "category": report.category.name,
        "unit": (event.to_unit or event.unit).name,
        "note": event.note,
        "referral": event.referral,
        # Lazy: rendered in each recipient's language.
        "reason": CloseReason(event.reason).label if event.reason else "",
        "days": str(settings.REPORT_CONFIRM_DAYS),
        **extra,
    }


def notify_citizens(
    report: FieldReport, event: ReportEvent, followers: Iterable[User], **extra: object
) -> None:
    """The reporter and the followers, but not whoever took the step."""
    kind = _FOR_CITIZENS.get(event.kind)
    if kind is None:
        return
    users = {u.pk: u for u in followers}
    # Not an erased account, nor an Open311 application's.
    if report.reporter.is_active:
        users[report.reporter_id] = report.reporter
    users.pop(event.actor_id, None)
    if not users:
        return
    notify(
        users=list(users.values()),
        event=kind.name,
        key=f"report:{report.pk}:event:{event.pk}",
        context=_context(report, event, **extra),
        data={"report": report.pk, "status": report.status},
    )


def notify_unit(report: FieldReport, event: ReportEvent, officials: Iterable[User]) -> None:
    """A new report (or one transferred in) for the unit's officials."""
    users = [u for u in officials if u.pk != event.actor_id]
    if users:
        notify(
            users=users,
            event=NEW.name,
            key=f"report:{report.pk}:new:{event.pk}",
            context=_context(report, event, date=report.acknowledge_due.strftime("%d/%m/%Y")),
            data={"report": report.pk, "official": True},
        )


def notify_leaders(report: FieldReport, event: ReportEvent, leaders: Iterable[User]) -> None:
    users = list(leaders)
    if users:
        notify(
            users=users,
            event=ESCALATED.name,
            key=f"report:{report.pk}:escalated:{event.pk}",
            context=_context(report, event),
            data={"report": report.pk, "official": True},
        )
