"""The apology letter with a new appointment date (Phiếu xin lỗi và hẹn lại ngày trả kết quả,
Mẫu 04 of Thông tư 01/2018/TT-VPCP). An administrative document: in Vietnamese whatever the
reader's language, printed, signed and stamped by the head of the unit."""

from __future__ import annotations

from django.http import HttpResponse
from django.template.loader import render_to_string
from django.utils import timezone

from services.models import Dossier, DossierExtension


def _spelled(day) -> str:
    return f"ngày {day.day:02d} tháng {day.month:02d} năm {day.year}"


def letter_context(dossier: Dossier, letter: DossierExtension) -> dict:
    received = timezone.localtime(dossier.received_at) if dossier.received_at else None
    return {
        "unit": dossier.unit.name,
        "place": dossier.unit.name,
        "written": _spelled(timezone.localtime(letter.created_at).date()),
        "applicant": dossier.applicant.full_name,
        "received": _spelled(received.date()) if received else "",
        "procedure": dossier.procedure.name,
        "code": dossier.code,
        "previous": _spelled(letter.previous_date),
        "reason": letter.reason,
        "new": _spelled(letter.new_date),
    }


def letter_response(dossier: Dossier, letter: DossierExtension) -> HttpResponse:
    """The letter as a page to print. It names the applicant: kept in no shared cache, nor in
    the browser's."""
    response = HttpResponse(
        render_to_string("services/extension_letter.html", letter_context(dossier, letter))
    )
    response["Cache-Control"] = "private, no-store"
    return response
