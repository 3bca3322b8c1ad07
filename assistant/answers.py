"""The assistant's answers, composed only from what the database holds: the catalog (papers,
fee, processing time, where to file, online or not), the communes' one-stop desks, the FAQ
entries, the asker's dossiers and household. Nothing is invented: what is missing is said to
be missing. In the asker's language (the catalog's own text stays Vietnamese)."""

from __future__ import annotations

from dataclasses import dataclass, field

from django.conf import settings
from django.utils.translation import gettext as _

from accounts.models import User
from assistant.engine import Match, Reading
from assistant.models import FaqEntry, Intent
from digital_address.models import VerificationStatus, Ward
from digital_address.selectors import households_of
from services.errors import DossierNotFound
from services.models import DossierStatus, OnlineLevel, Procedure, ProcedureLevel
from services.selectors import dossier_of, dossier_tracked


@dataclass
class Answer:
    text: str
    procedures: list[dict] = field(default_factory=list)
    suggestions: list[str] = field(default_factory=list)
    data: dict = field(default_factory=dict)
    # Set when the answer could not be what the reading said (an FAQ entry or a procedure
    # retired since the index was built): then it is "none".
    intent: str | None = None


def deep_link(code: str) -> str:
    """Where the app starts a dossier of the procedure."""
    return f"{settings.ASSISTANT_DEEP_LINK_BASE}dossiers/new?procedure={code}"


def _money(amount) -> str:
    return f"{int(amount):,}".replace(",", ".") + " đ"


def _offered(matches: list[Match]) -> list[dict]:
    return [
        {
            "code": m.key,
            "name": m.title,
            "confidence": m.confidence,
            "deep_link": deep_link(m.key),
        }
        for m in matches
        if m.kind == "procedure"
    ]


def _procedure_text(procedure: Procedure) -> str:
    papers = "\n".join(
        f"- {d.name}" + ("" if d.mandatory else _(" (if any)")) for d in procedure.documents.all()
    )
    note = procedure.fee_note.strip().rstrip(".")
    if procedure.fee:
        fee = f"{_money(procedure.fee)} ({note})" if note else _money(procedure.fee)
    else:
        # No amount in the catalog: the note says why (exempt, or set by the council).
        fee = note or _("free of charge")
    unit = _("working days") if procedure.processing_unit == "days" else _("working hours")
    where = (
        _("the one-stop desk of the People's Committee of your commune or ward")
        if procedure.level == ProcedureLevel.COMMUNE
        else _("the province's Public Administration Service Centre")
    )
    online = (
        _("Yes, entirely online in the app.")
        if procedure.online_level == OnlineLevel.FULL
        else _("Partly: submit online in the app, then bring the originals to the desk.")
    )
    return "\n".join(
        [
            f"{procedure.name} ({procedure.field}).",
            _("Papers:") + ("\n" + papers if papers else " " + _("none listed.")),
            _("Fee: %(fee)s.") % {"fee": fee},
            _("Processing time: %(n)d %(unit)s.") % {"n": procedure.processing_time, "unit": unit},
            _("Where to file: %(where)s.") % {"where": where},
            _("Online: %(online)s") % {"online": online},
        ]
    )


def _desk_text(ward: Ward) -> str:
    lines = [_("One-stop desk of %(ward)s:") % {"ward": ward.name}]
    if ward.desk_address:
        lines.append(_("Address: %(a)s") % {"a": ward.desk_address})
    if ward.desk_phone:
        lines.append(_("Phone: %(p)s") % {"p": ward.desk_phone})
    if ward.desk_hours:
        lines.append(_("Opening hours: %(h)s") % {"h": ward.desk_hours})
    if len(lines) == 1:
        lines = [
            _(
                "The contact details of the one-stop desk of %(ward)s are not recorded yet: "
                "please ask at the People's Committee of %(ward)s."
            )
            % {"ward": ward.name}
        ]
    return "\n".join(lines)


def _not_known(reading: Reading, user: User | None) -> Answer:
    text = _("Sorry, I am not sure I understood. I only answer from the procedure catalog.")
    offered = _offered(reading.matches)
    if offered:
        text += (
            "\n"
            + _("The closest procedures:")
            + "\n"
            + "\n".join(f"- {p['name']}" for p in offered)
        )
    ward = _ward_of(reading, user)
    if ward is not None:
        text += "\n" + _desk_text(ward)
    return Answer(text, procedures=offered, data={"ward": ward.code} if ward else {})


def _ward_of(reading: Reading, user: User | None) -> Ward | None:
    code = reading.ward_code or (user.ward_id if user is not None else None)
    return Ward.objects.filter(code=code).first() if code else None


def compose(reading: Reading, user: User | None) -> Answer:
    match reading.intent:
        case Intent.DOSSIER_STATUS:
            return _dossier(reading.dossier_code, user)
        case Intent.MY_ADDRESS:
            return _my_address(user)
        case Intent.WARD_DESK:
            ward = Ward.objects.get(code=reading.ward_code)
            return Answer(_desk_text(ward), data={"ward": ward.code})
        case Intent.FAQ:
            entry = FaqEntry.objects.filter(pk=reading.matches[0].key, active=True).first()
            if entry is None:  # retired since the index was built
                answer = _not_known(reading, user)
                answer.intent = Intent.NONE
                return answer
            return Answer(entry.answer, data={"faq": entry.pk})
        case Intent.PROCEDURE:
            return _procedure(reading)
    return _not_known(reading, user)


def _procedure(reading: Reading) -> Answer:
    best = reading.matches[0]
    procedure = (
        Procedure.objects.active().prefetch_related("documents").filter(code=best.key).first()
    )
    if procedure is None:  # retired since the index was built
        return Answer(_("Sorry, I am not sure I understood."), intent=Intent.NONE)
    offered = _offered(reading.matches)
    return Answer(
        _procedure_text(procedure),
        procedures=offered,
        suggestions=[
            _("How do I file it online?"),
            _("What is the status of my dossier?"),
            *(_("And %(name)s?") % {"name": p["name"]} for p in offered[1:]),
        ],
        data={"procedure": procedure.code, "deep_link": deep_link(procedure.code)},
    )


def _dossier(code: str, user: User | None) -> Answer:
    try:
        if user is not None:
            dossier = dossier_of(user=user, code=code)
        else:
            raise DossierNotFound()
    except DossierNotFound:
        try:
            dossier = dossier_tracked(code=code)
        except DossierNotFound:
            return Answer(
                _("No dossier has the code %(code)s. Please check it on your receipt.")
                % {"code": code}
            )
    status = DossierStatus(dossier.status).label
    text = _("Dossier %(code)s (%(procedure)s): %(status)s.") % {
        "code": dossier.code,
        "procedure": dossier.procedure.name,
        "status": status,
    }
    if dossier.appointment_date and dossier.status not in (9, 10, 3, 7, 8):
        text += " " + _("Appointment date: %(date)s.") % {
            "date": dossier.appointment_date.strftime("%d/%m/%Y")
        }
    return Answer(text, data={"dossier": dossier.code, "status": dossier.status})


def _my_address(user: User | None) -> Answer:
    if user is None:
        return Answer(_("Log in to see your household's digital address."))
    household = households_of(user=user).first()
    if household is not None and household.status == VerificationStatus.REJECTED:
        # Its code resolves nowhere: not an address to give.
        return Answer(
            _(
                "The commune refused your household's registration, so it has no digital "
                "address: see the reason in the app."
            )
        )
    if household is None:
        return Answer(
            _(
                "You have no household registered yet: register it in the app to get its "
                "digital address."
            )
        )
    return Answer(
        _("Your household's digital address: %(code)s (%(ward)s).")
        % {"code": household.formatted_code, "ward": household.ward.name},
        data={"household": household.pk, "code": household.formatted_code},
    )
