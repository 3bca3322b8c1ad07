"""The Open311 GeoReport v2 endpoints under ``/open311/v2/``, in JSON and XML.

Every answer, errors included, is in the specification's shapes: XML with the UTF-8
declaration, or JSON; an error is ``[{"code": 400, "description": "..."}]`` (``<errors>`` in XML).
"""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime, timedelta
from xml.etree.ElementTree import Element, SubElement, tostring

from django.conf import settings
from django.db.models import Prefetch, Q
from django.http import HttpResponse
from django.urls import reverse
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext as _
from drf_spectacular.utils import extend_schema
from rest_framework import exceptions
from rest_framework.parsers import FormParser, MultiPartParser
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.throttling import ScopedRateThrottle
from rest_framework.views import APIView

from config.errors import DomainError
from config.parsers import SafeJSONParser
from digital_address.api.serializers import CoordinateField
from services import open311
from services.errors import InvalidForm
from services.models import (
    PUBLIC_STATUSES,
    FieldReport,
    ReportCategory,
    ReportEvent,
    ReportPhoto,
    ReportSource,
)
from services.report_flow import report_submit

# How the specification names the items of each list in XML.
_ITEMS = {
    "services": "service",
    "service_requests": "request",
    "attributes": "attribute",
    "values": "value",
    "errors": "error",
    "endpoints": "endpoint",
    "formats": "format",
}
MAX_SPAN = timedelta(days=90)
DEFAULT_PAGE_SIZE = 100
MAX_PAGE_SIZE = 1000
MAX_IDS = 100
SERVICE_CODE = re.compile(r"[a-z0-9_-]{1,32}")
EARLIEST = datetime(2000, 1, 1, tzinfo=UTC)
LATEST = datetime(2100, 1, 1, tzinfo=UTC)
# The report rules' field names, as this API's parameters name them.
_PARAMETERS = {
    "latitude": "lat",
    "longitude": "long",
    "address_code": "address_id",
    "photos": "media",
}


class Open311Error(Exception):
    def __init__(self, status: int, descriptions: list[str]) -> None:
        self.status = status
        self.descriptions = descriptions
        super().__init__(descriptions)


# What XML 1.0 cannot carry at all (a report's text may hold it: it came from a phone).
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")


def _text(value) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    return _NOT_XML.sub("", str(value))


def _xml(parent: Element, name: str, value) -> None:
    node = SubElement(parent, name)
    if isinstance(value, dict):
        for key, item in value.items():
            _xml(node, key, item)
    elif isinstance(value, list):
        for item in value:
            _xml(node, _ITEMS.get(name, "item"), item)
    else:
        node.text = _text(value)


def render(data, fmt: str, root: str, status: int = 200) -> HttpResponse:
    """``data`` as JSON, or as XML under ``root`` (a list's items named as the spec names them)."""
    if fmt == "json":
        body = json.dumps(data, ensure_ascii=False, separators=(",", ":"))
        return HttpResponse(body, status=status, content_type="application/json; charset=utf-8")
    element = Element(root)
    if isinstance(data, list):
        for item in data:
            _xml(element, _ITEMS.get(root, "item"), item)
    else:
        for key, item in data.items():
            _xml(element, key, item)
    body = '<?xml version="1.0" encoding="UTF-8"?>' + tostring(element, encoding="unicode")
    return HttpResponse(body, status=status, content_type="text/xml; charset=utf-8")


class Open311View(APIView):
    permission_classes = [AllowAny]
    authentication_classes: list = []
    throttle_classes = [ScopedRateThrottle]
    throttle_scope = "public"
    # The specification posts form fields (multipart with media); JSON is accepted too.
    parser_classes = [FormParser, MultiPartParser, SafeJSONParser]

    def handle_exception(self, exc: Exception) -> HttpResponse:
        fmt = self.kwargs.get("fmt", "xml")
        if isinstance(exc, Open311Error):
            status, descriptions = exc.status, exc.descriptions
        elif isinstance(exc, DomainError):
            status = exc.status_code
            descriptions = [
                f"{_PARAMETERS.get(field, field)}: {message}"
                for field, messages in exc.fields.items()
                for message in messages
            ] or [exc.message]
        elif isinstance(exc, exceptions.APIException):
            status = exc.status_code
            descriptions = [str(exc.detail)]
        else:
            raise exc
        errors = [{"code": status, "description": d} for d in descriptions]
        return render(errors, fmt, "errors", status=status)


def _one(params, name: str, default: str = "") -> str:
    value = params.get(name)
    if value is None or value == "":
        return default
    # A JSON body may give a number (``"lat": 22.25``).
    return (value if isinstance(value, str) else str(value)).strip()


def _is_number(text: str) -> bool:
    # ASCII digits only: "²" is a digit to str.isdigit() but not to int().
    return text.isascii() and text.isdigit()


@extend_schema(exclude=True)
class DiscoveryView(Open311View):
    def get(self, request: Request, fmt: str) -> HttpResponse:
        base = request.build_absolute_uri(reverse("open311-root"))
        changeset = "2026-11-26T00:00:00+07:00"
        return render(
            {
                "changeset": changeset,
                "contact": settings.OPEN311_CONTACT,
                "key_service": settings.OPEN311_KEY_SERVICE,
                "endpoints": [
                    {
                        "specification": open311.SPECIFICATION,
                        "url": base.rstrip("/"),
                        "changeset": changeset,
                        "type": "production",
                        "formats": open311.FORMATS,
                    }
                ],
            },
            fmt,
            "discovery",
        )


@extend_schema(exclude=True)
class ServiceListView(Open311View):
    def get(self, request: Request, fmt: str) -> HttpResponse:
        categories = ReportCategory.objects.active().order_by("position", "code")
        return render([open311.service(c) for c in categories], fmt, "services")


@extend_schema(exclude=True)
class ServiceDefinitionView(Open311View):
    def get(self, request: Request, service_code: str, fmt: str) -> HttpResponse:
        category = None
        if SERVICE_CODE.fullmatch(service_code):
            category = ReportCategory.objects.active().filter(code=service_code).first()
        if category is None:
            raise Open311Error(404, [_("No service has this service_code.")])
        return render(open311.service_definition(category), fmt, "service_definition")


def _datetime(params, name: str) -> datetime | None:
    text = _one(params, name)
    if not text:
        return None
    try:
        value = parse_datetime(text)
    except ValueError:
        value = None
    if value is None or timezone.is_naive(value):
        raise Open311Error(
            400, [f"{name}: " + _("A date and time in ISO 8601 with its time zone.")]
        )
    # No report is older, and nothing at the calendar's edges (year 1, year 9999) overflows.
    if not EARLIEST <= value <= LATEST:
        raise Open311Error(400, [f"{name}: " + _("Choose a date from 2000 to 2100.")])
    return value


def _number(params, name: str, default: int, low: int, high: int) -> int:
    text = _one(params, name)
    if not text:
        return default
    if not _is_number(text) or not low <= int(text) <= high:
        message = _("A whole number from %(low)d to %(high)d.") % {"low": low, "high": high}
        raise Open311Error(400, [f"{name}: {message}"])
    return int(text)


def _visible(client) -> Q:
    """Public reports; and an application's own, with its key."""
    visible = Q(status__in=PUBLIC_STATUSES, hidden=False)
    if client is not None:
        visible |= Q(open311_client=client)
    return visible


def _requests(queryset) -> list:
    photos = ReportPhoto.objects.filter(hidden=False).order_by("id")
    events = ReportEvent.objects.order_by("id")
    return list(
        queryset.select_related("category", "unit").prefetch_related(
            Prefetch("photos", queryset=photos), Prefetch("events", queryset=events)
        )
    )


def _media_url(request: Request, report: FieldReport) -> str | None:
    if report.status not in PUBLIC_STATUSES or report.hidden:
        return None
    photo = next(iter(report.photos.all()), None)
    if photo is None:
        return None
    return request.build_absolute_uri(
        reverse("report-photo", kwargs={"report_id": report.pk, "photo_id": photo.pk})
    )


def _client(params):
    key = _one(params, "api_key")
    return open311.open311_client_for_key(key) if key else None


@extend_schema(exclude=True)
class RequestListView(Open311View):
    def get(self, request: Request, fmt: str) -> HttpResponse:
        params = request.query_params
        reports = FieldReport.objects.filter(_visible(_client(params)))
        ids = _one(params, "service_request_id")
        if ids:
            parts = [part.strip() for part in ids.split(",") if part.strip()]
            if len(parts) > MAX_IDS or not all(_is_number(p) and len(p) < 19 for p in parts):
                message = _("Report numbers separated by commas (at most %(n)d).") % {"n": MAX_IDS}
                raise Open311Error(400, [f"service_request_id: {message}"])
            reports = reports.filter(pk__in=[int(p) for p in parts])
        else:
            reports = self._filtered(reports, params)
        page = _number(params, "page", 1, 1, 100_000)
        size = _number(params, "page_size", DEFAULT_PAGE_SIZE, 1, MAX_PAGE_SIZE)
        rows = _requests(reports.order_by("-created_at", "-id")[(page - 1) * size : page * size])
        return render(
            [open311.service_request(r, _media_url(request, r)) for r in rows],
            fmt,
            "service_requests",
        )

    def _filtered(self, reports, params):
        start, end = _datetime(params, "start_date"), _datetime(params, "end_date")
        # The specification's default: the last 90 days; never a longer span at once.
        if end is None:
            end = timezone.now() if start is None else start + MAX_SPAN
        if start is None:
            start = end - MAX_SPAN
        if start > end:
            raise Open311Error(400, ["end_date: " + _("The end is before the start.")])
        if end - start > MAX_SPAN:
            raise Open311Error(
                400, ["end_date: " + _("start_date and end_date are at most 90 days apart.")]
            )
        reports = reports.filter(created_at__gte=start, created_at__lte=end)
        codes = [c.strip() for c in _one(params, "service_code").split(",") if c.strip()]
        if codes:
            reports = reports.filter(category__code__in=codes)
        statuses = {s.strip() for s in _one(params, "status").split(",") if s.strip()}
        if statuses - {"open", "closed"}:
            raise Open311Error(400, ["status: " + _("open or closed.")])
        if statuses == {"open"}:
            reports = reports.filter(status__in=open311.OPEN)
        elif statuses == {"closed"}:
            reports = reports.exclude(status__in=open311.OPEN)
        return reports

    def post(self, request: Request, fmt: str) -> HttpResponse:
        data = request.data
        client = _client(data)
        if client is None:
            raise Open311Error(403, [_("api_key: missing or not valid.")])
        code = _one(data, "service_code")
        if not code:
            raise Open311Error(400, ["service_code: " + _("This field is required.")])
        category = ReportCategory.objects.active().filter(code=code).first()
        if category is None:
            raise Open311Error(404, [_("No service has this service_code.")])
        latitude, longitude = self._place(data)
        address_id = _one(data, "address_id")
        if latitude is None and not address_id:
            raise Open311Error(
                400, [_("lat and long, or address_id (a digital address code), are required.")]
            )
        media = data.getlist("media") if hasattr(data, "getlist") else []
        report, _created = report_submit(
            reporter=client.account,
            category=category,
            description=_one(data, "description"),
            photos=[m for m in media if hasattr(m, "read")],
            address_code=address_id,
            latitude=latitude,
            longitude=longitude,
            minimum_photos=0,
            source=ReportSource.OPEN311,
            open311_client=client,
        )
        body = [
            {
                "service_request_id": str(report.pk),
                "service_notice": open311.service_notice(category),
                "account_id": None,
            }
        ]
        return render(body, fmt, "service_requests", status=201)

    def _place(self, data):
        lat, lng = _one(data, "lat"), _one(data, "long")
        if not lat and not lng:
            return None, None
        values = []
        for name, text, bound in (("lat", lat, 90), ("long", lng, 180)):
            field = CoordinateField(min_value=-bound, max_value=bound)
            try:
                values.append(field.run_validation(text))
            except exceptions.ValidationError as exc:
                raise InvalidForm(fields={name: [str(m) for m in exc.detail]}) from None
        return values[0], values[1]


@extend_schema(exclude=True)
class RequestDetailView(Open311View):
    def get(self, request: Request, request_id: str, fmt: str) -> HttpResponse:
        reports = FieldReport.objects.filter(_visible(_client(request.query_params)))
        found = _is_number(request_id) and len(request_id) < 19
        rows = _requests(reports.filter(pk=int(request_id))) if found else []
        if not rows:
            raise Open311Error(404, [_("No service request has this id.")])
        return render(
            [open311.service_request(rows[0], _media_url(request, rows[0]))],
            fmt,
            "service_requests",
        )
