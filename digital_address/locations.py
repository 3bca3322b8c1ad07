"""Household locations: the Vietnam check, the plus code (Open Location Code) and distances."""

from __future__ import annotations

import math
from decimal import ROUND_HALF_UP, Decimal

from django.utils.translation import gettext as _
from openlocationcode import openlocationcode as olc

from digital_address.vietnam_boundary import in_vietnam

# 11 characters: a cell of about 3 m × 3.5 m, enough to tell two houses apart on a street.
PLUS_CODE_LENGTH = 11
# The shortest plus code looked up ("7PJ87F4F+RJ", as maps show it): a shorter one is an area.
PLUS_CODE_MIN_LOOKUP = 11  # characters, with the "+"
EARTH_RADIUS_M = 6_371_008.8
_MICRODEGREE = Decimal("0.000001")


def quantize(value: float | Decimal) -> Decimal:
    return Decimal(str(value)).quantize(_MICRODEGREE, rounding=ROUND_HALF_UP)


def location_errors(latitude: Decimal | None, longitude: Decimal | None) -> dict[str, list[str]]:
    """Per-field messages for a location a household may not have; empty when it is fine."""
    if latitude is None and longitude is None:
        return {}
    if latitude is None or longitude is None:
        missing = "latitude" if latitude is None else "longitude"
        return {missing: [_("Give both the latitude and the longitude, or neither.")]}
    errors: dict[str, list[str]] = {}
    if not -90 <= latitude <= 90:
        errors["latitude"] = [_("A latitude is between -90 and 90.")]
    if not -180 <= longitude <= 180:
        errors["longitude"] = [_("A longitude is between -180 and 180.")]
    if not errors and not in_vietnam(float(latitude), float(longitude)):
        message = _("This location is outside Vietnam.")
        errors = {"latitude": [message], "longitude": [message]}
    return errors


def plus_code_for(latitude: Decimal | None, longitude: Decimal | None) -> str:
    if latitude is None or longitude is None:
        return ""
    return olc.encode(float(latitude), float(longitude), PLUS_CODE_LENGTH)


def normalize_plus_code(text: str) -> str | None:
    """A full plus code in canonical form, or None when the text is not one."""
    candidate = "".join(text.split()).upper()
    if "+" not in candidate or not olc.isFull(candidate):
        return None
    return candidate


def distance_m(lat1: float, lng1: float, lat2: float, lng2: float) -> float:
    """Great-circle distance (haversine): exact enough at the few kilometres nearby search uses."""
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lng2 - lng1)
    a = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * EARTH_RADIUS_M * math.asin(math.sqrt(a))


def bounding_box(lat: float, lng: float, radius_m: float) -> tuple[float, float, float, float]:
    """(min_lat, max_lat, min_lng, max_lng) enclosing the circle, for an index range scan."""
    dlat = math.degrees(radius_m / EARTH_RADIUS_M)
    dlng = math.degrees(radius_m / (EARTH_RADIUS_M * max(math.cos(math.radians(lat)), 1e-6)))
    return lat - dlat, lat + dlat, lng - dlng, lng + dlng
