"""``/a/<code>``: what a phone's camera opens from a house plate's QR code. A plain page (no app,
no login, no script) naming the place, with links to the maps; the API has the same data at
``/api/v1/addresses/<code>/``. The path is not versioned: plates stay on walls for decades."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.translation import gettext as _
from rest_framework.throttling import ScopedRateThrottle

from config.errors import DomainError
from digital_address.models import VerificationStatus
from digital_address.selectors import address_resolve


class _PublicScope:
    throttle_scope = "public"


def plate_page(request: HttpRequest, code: str) -> HttpResponse:
    # The API's public throttle: the page must not be a way around it.
    if not ScopedRateThrottle().allow_request(request, _PublicScope()):
        return render(
            request,
            "digital_address/plate.html",
            {"error": _("Too many requests. Please try again later.")},
            status=429,
        )
    try:
        household = address_resolve(code=code)
    except DomainError as exc:
        return render(
            request,
            "digital_address/plate.html",
            {"error": exc.message, "code": code[:64]},
            status=exc.status_code,
        )
    response = render(
        request,
        "digital_address/plate.html",
        {
            "household": household,
            "verified": household.status == VerificationStatus.VERIFIED,
        },
    )
    response["Cache-Control"] = "public, max-age=3600"
    return response
