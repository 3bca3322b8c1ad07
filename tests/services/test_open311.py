"""Open311 GeoReport v2 conformance (https://wiki.open311.org/GeoReport_v2), each answer in both
formats: discovery, the service list and definitions, service requests as the public map shows
them (fields in the specification's order, filters, paging, the 90-day window), one request,
posting a request with an application's key, errors in the specification's shape, and the key
stored hashed."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from pathlib import Path
from xml.etree.ElementTree import Element, fromstring
from zoneinfo import ZoneInfo

import pytest
from django.http import HttpResponse
from django.utils import timezone
from rest_framework.test import APIClient

from accounts.models import User
from notifications.models import Notification
from services.models import (
    FieldReport,
    Open311Client,
    ReportCategory,
    ReportPhoto,
    ReportSource,
    ReportStatus,
)
from services.open311 import open311_client_create
from tests.conftest import client_for
from tests.digital_address.households import register
from tests.services.reports import URL, photo, reload, resolve, step, submit

pytestmark = pytest.mark.django_db

LOCAL = ZoneInfo("Asia/Ho_Chi_Minh")
BASE = "/open311/v2/"
FORMATS = ["json", "xml"]
DECLARATION = '<?xml version="1.0" encoding="UTF-8"?>'
CONTENT_TYPES = {"json": "application/json; charset=utf-8", "xml": "text/xml; charset=utf-8"}
# How the specification names the items of each list in XML.
ITEMS = {
    "services": "service",
    "service_requests": "request",
    "errors": "error",
    "endpoints": "endpoint",
    "formats": "format",
    "attributes": "attribute",
}
SERVICE_FIELDS = [
    "service_code",
    "service_name",
    "description",
    "metadata",
    "type",
    "keywords",
    "group",
]
REQUEST_FIELDS = [
    "service_request_id",
    "status",
    "status_notes",
    "service_name",
    "service_code",
    "description",
    "agency_responsible",
    "service_notice",
    "requested_datetime",
    "updated_datetime",
    "expected_datetime",
    "address",
    "address_id",
    "zipcode",
    "lat",
    "long",
    "media_url",
]
NOTICE = (
    "Tiếp nhận hoặc từ chối trong 2 ngày làm việc, xử lý trong 15 ngày làm việc; người gửi xác "
    "nhận kết quả."
)
AGENCY = "Xã Thất Khê (Công chức Địa chính – Xây dựng)"
LIGHTING = "Chiếu sáng công cộng"
ROADS = "Giao thông, đường sá"
FIXED = "Đã thay bóng đèn mới."
# The ``citizen`` fixture: Nguyễn Văn An, +84912345678.
CITIZEN_TRACES = ("Nguyễn Văn An", "+84912345678", "0912345678", "912345678")
# In the ``ward_with_centre``: 22.2570, 106.4740 is its centre.
LAT, LONG = "22.2574", "106.4736"
NO_SERVICE = "Không có dịch vụ nào mang service_code này."
NO_REQUEST = "Không có yêu cầu nào mang mã này."
BAD_KEY = "api_key: thiếu hoặc không hợp lệ."
REQUIRED = "Trường này là bắt buộc."
NO_PLACE = "Cần lat và long, hoặc address_id (mã địa chỉ số)."
DATE_TIME = "Ngày giờ theo ISO 8601, có múi giờ."
NUMBER_RANGE = "Số nguyên từ %d đến %d."
SPAN = "start_date và end_date cách nhau tối đa 90 ngày."
END_BEFORE = "Ngày kết thúc trước ngày bắt đầu."
OPEN_OR_CLOSED = "open hoặc closed."
IDS = "Các số phản ánh, cách nhau bằng dấu phẩy (tối đa 100)."


# --- helpers --------------------------------------------------------------------------------------


@pytest.fixture(autouse=True)
def media(settings, tmp_path) -> Path:
    settings.MEDIA_ROOT = tmp_path
    return tmp_path


def at(day: int, hour: int, minute: int = 0) -> datetime:
    """A moment of March 2026, local time (2 March is a Monday; no holiday that month)."""
    return datetime(2026, 3, day, hour, minute, tzinfo=LOCAL)


@pytest.fixture
def clock(monkeypatch) -> Callable[[datetime], None]:
    """Set the outside world's clock (timezone.now) to a fixed moment."""

    def set_clock(moment: datetime) -> None:
        monkeypatch.setattr(timezone, "now", lambda: moment)

    return set_clock


@dataclass(frozen=True)
class App:
    client: Open311Client
    key: str


@pytest.fixture
def app(db) -> App:
    client, key = open311_client_create(name="Bản đồ phản ánh", contact="dev@example.vn")
    return App(client, key)


@pytest.fixture
def other_app(db) -> App:
    client, key = open311_client_create(name="Ứng dụng khác")
    return App(client, key)


def from_xml(element: Element) -> object:
    """An XML answer as its JSON twin would be: a list where the specification has one (each
    item named as it names them), an object of the children elsewhere, text at the leaves."""
    children = list(element)
    if element.tag in ITEMS:
        assert [c.tag for c in children] == [ITEMS[element.tag]] * len(children)
        return [from_xml(c) for c in children]
    if not children:
        return element.text or ""
    tags = [c.tag for c in children]
    assert len(set(tags)) == len(tags), tags
    return {c.tag: from_xml(c) for c in children}


def read(response: HttpResponse, fmt: str, root: str) -> object:
    """The answer's body in the format asked for (its Content-Type, and in XML the UTF-8
    declaration first and the root element ``root``), as JSON-like data."""
    assert response["Content-Type"] == CONTENT_TYPES[fmt]
    text = response.content.decode("utf-8")
    if fmt == "json":
        return json.loads(text)
    assert text.startswith(DECLARATION), text[:80]
    element = fromstring(response.content)  # noqa: S314 (our own answer, not untrusted)
    assert element.tag == root
    return from_xml(element)


def shown(value: object, fmt: str) -> object:
    """What a JSON value looks like in the XML answer: text, null and false spelt out."""
    if fmt == "json":
        return value
    if isinstance(value, dict):
        return {k: shown(v, fmt) for k, v in value.items()}
    if isinstance(value, list):
        return [shown(v, fmt) for v in value]
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def errors(response: HttpResponse, fmt: str) -> list[dict]:
    return read(response, fmt, "errors")


def error(code: int, *descriptions: str, fmt: str) -> list[dict]:
    """The specification's error answer."""
    return shown([{"code": code, "description": d} for d in descriptions], fmt)


def requests_(api_client: APIClient, fmt: str, **params: str) -> HttpResponse:
    return api_client.get(f"{BASE}requests.{fmt}", params)


def listed(api_client: APIClient, fmt: str, **params: str) -> list[dict]:
    """GET requests.{fmt} (200 expected): the requests."""
    response = requests_(api_client, fmt, **params)
    assert response.status_code == 200, response.content
    return read(response, fmt, "service_requests")


def ids(rows: list[dict]) -> list[str]:
    return [row["service_request_id"] for row in rows]


def public(citizen: User, official: User, note: str = "Đã ghi nhận.", **fields) -> int:
    """A report of ``citizen`` in the ward 6040, accepted by the ward's ``official``: public."""
    report_id = submit(client_for(citizen), ward=6040, **fields)["id"]
    response = step(client_for(official), report_id, "accept", {"note": note})
    assert response.status_code == 200, response.content
    return report_id


MOVES: dict[str, list[str]] = {
    ReportStatus.ACCEPTED: [],
    ReportStatus.IN_PROGRESS: ["start"],
    ReportStatus.RESOLVED: ["start", "resolve"],
    ReportStatus.CLOSED: ["start", "resolve", "confirm"],
    ReportStatus.CLOSED_NOT_FIXED: ["close"],
}


def brought_to(status: str, *, reporter: User, official: User, **fields) -> int:
    """A public report of ``reporter`` moved on through the API to ``status``."""
    report_id = public(reporter, official, **fields)
    for move in MOVES[status]:
        if move == "resolve":
            response = resolve(client_for(official), report_id, note=FIXED)
        elif move == "confirm":
            response = client_for(reporter).post(
                f"{URL}{report_id}/confirm/", {"note": "Đèn đã sáng, cảm ơn."}, format="json"
            )
        elif move == "close":
            response = step(client_for(official), report_id, "close", {"reason": "planned"})
        else:
            response = step(client_for(official), report_id, move, {"note": "Đội điện đang làm."})
        assert response.status_code == 200, (move, response.content)
    assert reload(report_id).status == status
    return report_id


def post(api_client: APIClient, fmt: str, **fields) -> HttpResponse:
    """POST requests.{fmt} with form fields (multipart, for ``media``)."""
    body = {k: v for k, v in fields.items() if v is not None}
    return api_client.post(f"{BASE}requests.{fmt}", body, format="multipart")


def posted(api_client: APIClient, fmt: str, app: App, **fields) -> int:
    """A request posted by ``app`` (a roads report at LAT, LONG unless told otherwise): its id."""
    body = {
        "api_key": app.key,
        "service_code": "roads",
        "lat": LAT,
        "long": LONG,
        "description": "Ổ gà lớn giữa đường.",
        **fields,
    }
    response = post(api_client, fmt, **body)
    assert response.status_code == 201, response.content
    return int(read(response, fmt, "service_requests")[0]["service_request_id"])


def written(media: Path) -> tuple:
    """Everything a request could write: reports, photos, inbox messages, stored files."""
    return (
        FieldReport.objects.count(),
        ReportPhoto.objects.count(),
        Notification.objects.count(),
        sorted(str(p) for p in media.rglob("*") if p.is_file()),
    )


def texts(value: object) -> Iterator[str]:
    """Every key and every text anywhere in an answer."""
    if isinstance(value, dict):
        for key, item in value.items():
            yield key
            yield from texts(item)
    elif isinstance(value, list):
        for item in value:
            yield from texts(item)
    elif value is not None:
        yield str(value)


# --- 1. discovery ---------------------------------------------------------------------------------


@pytest.mark.parametrize("fmt", FORMATS)
def test_discovery_names_the_endpoint_its_specification_and_formats(api_client, settings, fmt):
    settings.OPEN311_CONTACT = "Trung tâm Chuyển đổi số tỉnh Lạng Sơn, open311@langson.gov.vn"
    settings.OPEN311_KEY_SERVICE = "https://langson.gov.vn/open311/dang-ky-khoa"

    response = api_client.get(f"{BASE}discovery.{fmt}")

    assert response.status_code == 200
    body = read(response, fmt, "discovery")
    assert body == shown(
        {
            "changeset": "2026-11-26T00:00:00+07:00",
            "contact": "Trung tâm Chuyển đổi số tỉnh Lạng Sơn, open311@langson.gov.vn",
            "key_service": "https://langson.gov.vn/open311/dang-ky-khoa",
            "endpoints": [
                {
                    "specification": "http://wiki.open311.org/GeoReport_v2",
                    "url": "http://testserver/open311/v2",
                    "changeset": "2026-11-26T00:00:00+07:00",
                    "type": "production",
                    "formats": ["text/xml", "application/json"],
                }
            ],
        },
        fmt,
    )
    assert list(body) == ["changeset", "contact", "key_service", "endpoints"]
    assert list(body["endpoints"][0]) == ["specification", "url", "changeset", "type", "formats"]


def test_the_root_answers_the_discovery_in_json(api_client):
    response = api_client.get(BASE)

    assert response.status_code == 200
    assert read(response, "json", "discovery") == read(
        api_client.get(f"{BASE}discovery.json"), "json", "discovery"
    )


# --- 2. services and their definitions ------------------------------------------------------------


@pytest.mark.parametrize("fmt", FORMATS)
def test_services_are_the_active_categories_in_order_with_the_specifications_fields(
    api_client, fmt
):
    ReportCategory.objects.filter(code="water").update(active=False)
    ReportCategory.objects.filter(code="lighting").update(description="Đèn đường, đèn công viên.")

    response = api_client.get(f"{BASE}services.{fmt}")

    assert response.status_code == 200
    services = read(response, fmt, "services")
    assert services == shown(
        [
            {
                "service_code": code,
                "service_name": name,
                "description": description,
                "metadata": False,
                "type": "realtime",
                "keywords": "",
                "group": group,
            }
            for code, name, description, group in [
                ("roads", ROADS, "", "Hạ tầng"),
                ("lighting", LIGHTING, "Đèn đường, đèn công viên.", "Hạ tầng"),
                ("waste", "Rác thải, vệ sinh môi trường", "", "Môi trường"),
                ("security", "An ninh, trật tự", "", "An ninh trật tự"),
                ("environment", "Ô nhiễm môi trường", "", "Môi trường"),
            ]
        ],
        fmt,
    )
    assert all(list(service) == SERVICE_FIELDS for service in services)
    if fmt == "json":
        assert all(service["metadata"] is False for service in services)


@pytest.mark.parametrize("fmt", FORMATS)
def test_services_in_english_with_accept_language(api_client, fmt):
    response = api_client.get(f"{BASE}services.{fmt}", HTTP_ACCEPT_LANGUAGE="en")

    assert response.status_code == 200
    assert [s["service_name"] for s in read(response, fmt, "services")] == [
        "Roads and traffic",
        "Street lighting",
        "Waste and sanitation",
        "Water supply and drainage",
        "Security and public order",
        "Pollution",
    ]


@pytest.mark.parametrize("fmt", FORMATS)
def test_service_definition_has_the_code_and_no_attributes(api_client, fmt):
    response = api_client.get(f"{BASE}services/lighting.{fmt}")

    assert response.status_code == 200
    body = read(response, fmt, "service_definition")
    assert body == {"service_code": "lighting", "attributes": []}
    assert list(body) == ["service_code", "attributes"]
    if fmt == "xml":
        assert response.content.decode().endswith(
            "<service_definition><service_code>lighting</service_code><attributes />"
            "</service_definition>"
        )


@pytest.mark.parametrize("code", ["nope", "water"])
@pytest.mark.parametrize("fmt", FORMATS)
def test_unknown_or_inactive_service_is_404_in_the_specifications_error_format(
    api_client, fmt, code
):
    ReportCategory.objects.filter(code="water").update(active=False)

    response = api_client.get(f"{BASE}services/{code}.{fmt}")

    assert response.status_code == 404
    assert errors(response, fmt) == error(404, NO_SERVICE, fmt=fmt)


@pytest.mark.parametrize("path", ["services/Lighting.xml", "requests/abc.xml"])
def test_any_unknown_resource_is_404_in_the_specifications_error_format(api_client, path):
    response = api_client.get(f"{BASE}{path}")

    assert response.status_code == 404
    assert errors(response, "xml")[0]["code"] == "404"


# --- 3. service requests: what they show ----------------------------------------------------------


@pytest.mark.parametrize("fmt", FORMATS)
def test_a_public_request_has_the_specifications_fields_in_order(
    api_client, citizen, official, clock, fmt
):
    clock(at(2, 9))
    created = submit(
        client_for(citizen),
        ward=6040,
        description="Đèn hỏng trước nhà, gọi 0912 345 678 hoặc 0987.654.321.",
        latitude="22.257449",
        longitude="106.474551",
    )
    clock(at(3, 10, 30))
    step(client_for(official), created["id"], "accept", {"note": "Đã ghi nhận, gọi 0205 3812 345."})
    report = reload(created["id"])
    clock(at(4, 8))

    rows = listed(api_client, fmt)

    assert rows == shown(
        [
            {
                "service_request_id": str(report.pk),
                "status": "open",
                "status_notes": "Đã tiếp nhận. Đã ghi nhận, gọi •••.",
                "service_name": LIGHTING,
                "service_code": "lighting",
                "description": "Đèn hỏng trước nhà, gọi ••• hoặc •••.",
                "agency_responsible": AGENCY,
                "service_notice": NOTICE,
                "requested_datetime": "2026-03-02T09:00:00+07:00",
                "updated_datetime": "2026-03-03T10:30:00+07:00",
                "expected_datetime": datetime.combine(
                    report.resolve_due, time(17), LOCAL
                ).isoformat(),
                "address": "Xã Thất Khê",
                "address_id": "",
                "zipcode": "",
                "lat": 22.257,
                "long": 106.475,
                "media_url": f"http://testserver/api/v1/reports/{report.pk}/photos/"
                f"{created['photos'][0]['id']}/",
            }
        ],
        fmt,
    )
    assert list(rows[0]) == REQUEST_FIELDS
    assert report.resolve_due > report.created_at.date()
    image = api_client.get(rows[0]["media_url"])
    assert (image.status_code, image["Content-Type"]) == (200, "image/jpeg")
    assert b"".join(image.streaming_content).startswith(b"\xff\xd8")


@pytest.mark.parametrize("fmt", FORMATS)
def test_status_is_open_until_closed_and_the_status_filter(api_client, citizen, official, fmt):
    by_status = {
        status: str(brought_to(status, reporter=citizen, official=official)) for status in MOVES
    }

    rows = {row["service_request_id"]: row for row in listed(api_client, fmt)}

    assert {status: rows[i]["status"] for status, i in by_status.items()} == {
        "accepted": "open",
        "in_progress": "open",
        "resolved": "open",
        "closed": "closed",
        "closed_not_fixed": "closed",
    }
    # The officials' latest note, never the citizen's words.
    assert rows[by_status["closed"]]["status_notes"] == f"Đã đóng. {FIXED}"
    assert rows[by_status["resolved"]]["expected_datetime"] == shown(None, fmt)
    newest_first = [by_status[s] for s in reversed(list(MOVES))]
    assert ids(listed(api_client, fmt, status="open")) == newest_first[2:]
    assert ids(listed(api_client, fmt, status="closed")) == newest_first[:2]
    assert ids(listed(api_client, fmt, status="open,closed")) == newest_first
    assert ids(listed(api_client, fmt, status="closed, open")) == newest_first


@pytest.mark.parametrize("fmt", FORMATS)
def test_reports_not_public_are_not_requests(api_client, citizen, official, fmt):
    waiting = submit(client_for(citizen), ward=6040)["id"]
    hidden = public(citizen, official)
    refused = submit(client_for(citizen), ward=6040)["id"]
    assert step(client_for(official), hidden, "moderate", {"hidden": True}).status_code == 200
    refusal = {"reason": "Không thuộc thẩm quyền của xã.", "referral": "Điện lực Lạng Sơn"}
    assert step(client_for(official), refused, "refuse", refusal).status_code == 200
    shown_one = public(citizen, official)

    assert ids(listed(api_client, fmt)) == [str(shown_one)]
    for report_id in (waiting, hidden, refused):
        assert ids(listed(api_client, fmt, service_request_id=str(report_id))) == []
        response = api_client.get(f"{BASE}requests/{report_id}.{fmt}")
        assert response.status_code == 404
        assert errors(response, fmt) == error(404, NO_REQUEST, fmt=fmt)


@pytest.mark.parametrize("fmt", FORMATS)
def test_moderated_text_and_photo_are_not_shown(api_client, citizen, official, fmt):
    created = submit(client_for(citizen), ward=6040, photos=2)
    step(client_for(official), created["id"], "accept", {"note": "Đã ghi nhận."})
    first, second = (p["id"] for p in created["photos"])

    hide = {"text_hidden": True, "photos_hidden": [first]}
    assert step(client_for(official), created["id"], "moderate", hide).status_code == 200
    [row] = listed(api_client, fmt)

    assert row["description"] == ""
    assert row["media_url"] == (
        f"http://testserver/api/v1/reports/{created['id']}/photos/{second}/"
    )

    hide = {"photos_hidden": [second]}
    assert step(client_for(official), created["id"], "moderate", hide).status_code == 200
    assert listed(api_client, fmt)[0]["media_url"] == ""


@pytest.mark.parametrize("fmt", FORMATS)
def test_an_anonymous_report_never_shows_its_reporter(api_client, citizen, official, fmt):
    report_id = public(citizen, official, anonymous="true", description="Cột điện nghiêng sắp đổ.")

    answers = [
        listed(api_client, fmt),
        read(api_client.get(f"{BASE}requests/{report_id}.{fmt}"), fmt, "service_requests"),
    ]

    assert ids(answers[0]) == ids(answers[1]) == [str(report_id)]
    assert answers[0][0]["description"] == "Cột điện nghiêng sắp đổ."
    for answer in answers:
        everything = " ".join(texts(answer))
        assert [t for t in CITIZEN_TRACES if t in everything] == []
        assert {"reporter", "anonymous", "household", "address_code"}.isdisjoint(texts(answer))
    raw = requests_(api_client, fmt).content.decode()
    assert [t for t in CITIZEN_TRACES if t in raw] == []


# --- 4. service requests: filters and paging ------------------------------------------------------


@pytest.mark.parametrize("fmt", FORMATS)
def test_service_request_id_lists_those_requests_and_ignores_the_other_filters(
    api_client, citizen, official, fmt
):
    first, second, third = (public(citizen, official) for _ in range(3))
    old = timezone.now() - timedelta(days=100)
    FieldReport.objects.filter(pk=first).update(created_at=old)

    rows = listed(
        api_client,
        fmt,
        service_request_id=f"{first}, {third}",
        service_code="waste",
        status="closed",
        start_date="2020-01-01T00:00:00+07:00",
        end_date="2020-02-01T00:00:00+07:00",
    )

    assert ids(rows) == [str(third), str(first)]
    assert ids(listed(api_client, fmt, service_request_id=str(second))) == [str(second)]
    assert ids(listed(api_client, fmt, service_request_id="999999999999999999")) == []


@pytest.mark.parametrize("fmt", FORMATS)
def test_service_code_filter(api_client, citizen, official, fmt):
    lighting = public(citizen, official)
    roads = public(citizen, official, category="roads")
    water = public(citizen, official, category="water")

    assert ids(listed(api_client, fmt, service_code="roads")) == [str(roads)]
    assert ids(listed(api_client, fmt, service_code="lighting,water")) == [
        str(water),
        str(lighting),
    ]
    assert ids(listed(api_client, fmt, service_code="waste")) == []


@pytest.mark.parametrize("fmt", FORMATS)
def test_the_last_90_days_by_default_and_a_window_of_at_most_90_days(
    api_client, citizen, official, fmt
):
    old = public(citizen, official)
    recent = public(citizen, official)
    now = timezone.now()
    FieldReport.objects.filter(pk=old).update(created_at=now - timedelta(days=100))

    def iso(days_ago: float) -> str:
        return timezone.localtime(now - timedelta(days=days_ago), LOCAL).isoformat()

    assert ids(listed(api_client, fmt)) == [str(recent)]
    covering = listed(api_client, fmt, start_date=iso(120), end_date=iso(30))
    assert ids(covering) == [str(old)]
    assert covering[0]["requested_datetime"] == timezone.localtime(
        now - timedelta(days=100), LOCAL
    ).isoformat(timespec="seconds")
    assert ids(listed(api_client, fmt, start_date=iso(101))) == [str(old)]
    assert ids(listed(api_client, fmt, end_date=iso(99))) == [str(old)]
    assert ids(listed(api_client, fmt, start_date=iso(89))) == [str(recent)]
    utc = (now - timedelta(days=89)).astimezone(ZoneInfo("UTC")).strftime("%Y-%m-%dT%H:%M:%SZ")
    assert ids(listed(api_client, fmt, start_date=utc, end_date=iso(0))) == [str(recent)]


GET_ERRORS: list[tuple[dict, str]] = [
    (
        {"start_date": "2026-01-01T00:00:00+07:00", "end_date": "2026-04-01T00:00:01+07:00"},
        f"end_date: {SPAN}",
    ),
    ({"start_date": "2026-03-01T00:00:00"}, f"start_date: {DATE_TIME}"),
    ({"end_date": "2026-03-01"}, f"end_date: {DATE_TIME}"),
    ({"start_date": "hôm qua"}, f"start_date: {DATE_TIME}"),
    (
        {"start_date": "2026-03-10T00:00:00+07:00", "end_date": "2026-03-01T00:00:00+07:00"},
        f"end_date: {END_BEFORE}",
    ),
    ({"status": "bogus"}, f"status: {OPEN_OR_CLOSED}"),
    ({"status": "open,pending"}, f"status: {OPEN_OR_CLOSED}"),
    ({"page_size": "1001"}, f"page_size: {NUMBER_RANGE % (1, 1000)}"),
    ({"page_size": "0"}, f"page_size: {NUMBER_RANGE % (1, 1000)}"),
    ({"page_size": "-1"}, f"page_size: {NUMBER_RANGE % (1, 1000)}"),
    ({"page": "0"}, f"page: {NUMBER_RANGE % (1, 100000)}"),
    ({"page": "một"}, f"page: {NUMBER_RANGE % (1, 100000)}"),
    ({"service_request_id": "1,abc"}, f"service_request_id: {IDS}"),
    ({"service_request_id": ",".join(str(n) for n in range(1, 102))}, f"service_request_id: {IDS}"),
]


@pytest.mark.parametrize(("params", "description"), GET_ERRORS)
@pytest.mark.parametrize("fmt", FORMATS)
def test_bad_request_parameters_are_400_naming_the_parameter(
    api_client, citizen, official, fmt, params, description
):
    public(citizen, official)

    response = requests_(api_client, fmt, **params)

    assert response.status_code == 400
    assert errors(response, fmt) == error(400, description, fmt=fmt)


@pytest.mark.parametrize("fmt", FORMATS)
def test_exactly_90_days_apart_is_allowed(api_client, citizen, official, fmt):
    report_id = public(citizen, official)
    end = timezone.localtime(timezone.now() + timedelta(minutes=1), LOCAL)
    start = end - timedelta(days=90)

    rows = listed(api_client, fmt, start_date=start.isoformat(), end_date=end.isoformat())

    assert ids(rows) == [str(report_id)]


@pytest.mark.parametrize("fmt", FORMATS)
def test_pages_newest_first(api_client, citizen, official, clock, fmt):
    made = []
    for day in (2, 3, 4):
        clock(at(day, 9))
        made.append(str(public(citizen, official)))
    clock(at(5, 9))

    pages = [ids(listed(api_client, fmt, page_size="1", page=str(n))) for n in (1, 2, 3, 4)]

    assert pages == [[made[2]], [made[1]], [made[0]], []]
    assert ids(listed(api_client, fmt, page_size="2", page="2")) == [made[0]]
    assert ids(listed(api_client, fmt)) == made[::-1]


# --- 5. one service request -----------------------------------------------------------------------


@pytest.mark.parametrize("fmt", FORMATS)
def test_one_request_is_a_one_element_list(api_client, citizen, official, fmt):
    report_id = public(citizen, official)
    public(citizen, official)

    response = api_client.get(f"{BASE}requests/{report_id}.{fmt}")

    assert response.status_code == 200
    one = read(response, fmt, "service_requests")
    assert one == listed(api_client, fmt, service_request_id=str(report_id))
    assert ids(one) == [str(report_id)]
    assert list(one[0]) == REQUEST_FIELDS


@pytest.mark.parametrize("request_id", ["999999", "999999999999999999"])
@pytest.mark.parametrize("fmt", FORMATS)
def test_an_unknown_request_is_404_in_the_specifications_error_format(api_client, fmt, request_id):
    response = api_client.get(f"{BASE}requests/{request_id}.{fmt}")

    assert response.status_code == 404
    assert errors(response, fmt) == error(404, NO_REQUEST, fmt=fmt)


@pytest.mark.parametrize("fmt", FORMATS)
def test_an_application_sees_its_own_requests_before_they_are_public_with_its_key(
    api_client, app, other_app, ward_with_centre, official, fmt
):
    report_id = posted(api_client, fmt, app, media=photo())
    detail = f"{BASE}requests/{report_id}.{fmt}"

    assert api_client.get(detail).status_code == 404
    assert api_client.get(detail, {"api_key": other_app.key}).status_code == 404
    assert ids(listed(api_client, fmt)) == []
    assert ids(listed(api_client, fmt, api_key=other_app.key)) == []
    response = api_client.get(detail, {"api_key": app.key})
    assert response.status_code == 200
    [row] = read(response, fmt, "service_requests")
    assert (row["service_request_id"], row["status"], row["status_notes"]) == (
        str(report_id),
        "open",
        "Mới gửi",
    )
    # Rounded to 0.001°, and no photo address before an official has looked at it.
    assert (row["lat"], row["long"], row["media_url"]) == tuple(shown([22.257, 106.474, ""], fmt))
    assert listed(api_client, fmt, api_key=app.key) == [row]


# --- 6. posting a request -------------------------------------------------------------------------


@pytest.mark.parametrize("fmt", FORMATS)
def test_posting_a_request_makes_a_field_report_for_the_ward(
    api_client, app, ward_with_centre, official, fmt
):
    before = timezone.now()

    response = post(
        api_client,
        fmt,
        api_key=app.key,
        service_code="roads",
        lat=LAT,
        long=LONG,
        description="  Ổ gà lớn giữa đường, xe máy dễ ngã. ",
        media=photo(),
        email="nguoi.gui@example.vn",
        first_name="Văn",
        last_name="Người Gửi",
        phone="0911222333",
    )

    assert response.status_code == 201, response.content
    report = FieldReport.objects.get()
    assert read(response, fmt, "service_requests") == shown(
        [{"service_request_id": str(report.pk), "service_notice": NOTICE, "account_id": None}],
        fmt,
    )
    if fmt == "xml":
        assert response.content.decode().startswith(
            f"{DECLARATION}<service_requests><request><service_request_id>{report.pk}<"
        )
    assert (
        report.source,
        report.open311_client_id,
        report.reporter_id,
        report.status,
        report.category_id,
        report.unit_id,
        report.description,
        str(report.latitude),
        str(report.longitude),
        report.household_id,
    ) == (
        ReportSource.OPEN311,
        app.client.pk,
        app.client.account_id,
        ReportStatus.SUBMITTED,
        ReportCategory.objects.get(code="roads").pk,
        6040,
        "Ổ gà lớn giữa đường, xe máy dễ ngã.",
        "22.257400",
        "106.473600",
        None,
    )
    assert list(report.photos.values_list("kind", "content_type")) == [("report", "image/jpeg")]
    assert list(Notification.objects.values_list("user_id", "event")) == [
        (official.pk, "report.new")
    ]
    # The sender's contact fields are not stored anywhere on the report.
    stored = " ".join(
        str(v) for v in FieldReport.objects.filter(pk=report.pk).values().get().values()
    )
    assert [t for t in ("nguoi.gui", "Người Gửi", "0911222333") if t in stored] == []
    client = Open311Client.objects.get(pk=app.client.pk)
    assert client.last_used_at is not None and before <= client.last_used_at <= timezone.now()


@pytest.mark.parametrize("fmt", FORMATS)
def test_posting_without_media_makes_a_report_without_photos(
    api_client, app, ward_with_centre, official, fmt
):
    report_id = posted(api_client, fmt, app, service_code="lighting")

    report = reload(report_id)
    assert (report.category.code, report.photos.count(), report.unit_id) == ("lighting", 0, 6040)


@pytest.mark.parametrize("fmt", FORMATS)
def test_an_address_id_routes_to_its_households_ward_and_is_never_shown(
    api_client, app, citizen, official, fmt
):
    # No ward has its centre entered: only the digital address can route it.
    household = register(citizen)

    report_id = posted(api_client, fmt, app, lat=None, long=None, address_id=household["code"])

    report = reload(report_id)
    assert (report.unit_id, report.household_id) == (6040, household["id"])
    assert list(Notification.objects.values_list("user_id", "event")) == [
        (official.pk, "report.new")
    ]
    response = api_client.get(f"{BASE}requests/{report_id}.{fmt}", {"api_key": app.key})
    [row] = read(response, fmt, "service_requests")
    assert row["address_id"] == ""
    assert household["code"] not in response.content.decode()


@pytest.fixture
def inactive_app(db) -> App:
    client, key = open311_client_create(name="Ứng dụng đã ngừng")
    client.active = False
    client.save(update_fields=["active"])
    return App(client, key)


POST_ERRORS: dict[str, tuple[dict, int, str]] = {
    "no api_key": ({"api_key": None}, 403, BAD_KEY),
    "wrong api_key": ({"api_key": "sai-khoa-" + "x" * 34}, 403, BAD_KEY),
    "deactivated application": ({"api_key": "inactive"}, 403, BAD_KEY),
    "unknown service_code": ({"service_code": "nope"}, 404, NO_SERVICE),
    "inactive service_code": ({"service_code": "water"}, 404, NO_SERVICE),
    "no service_code": ({"service_code": None}, 400, f"service_code: {REQUIRED}"),
    "blank service_code": ({"service_code": "  "}, 400, f"service_code: {REQUIRED}"),
    "no place": ({"lat": None, "long": None}, 400, NO_PLACE),
    "lat out of range": ({"lat": "91"}, 400, "lat: Giá trị phải nhỏ hơn hoặc bằng 90."),
    "long out of range": ({"long": "-180.5"}, 400, "long: Giá trị phải lớn hơn hoặc bằng -180."),
    "lat not a number": ({"lat": "bắc"}, 400, "lat: Vui lòng nhập một số hợp lệ."),
    "long missing": ({"long": None}, 400, "long: Vui lòng nhập một số hợp lệ."),
    "no description": ({"description": None}, 400, f"description: {REQUIRED}"),
    "blank description": ({"description": "   "}, 400, f"description: {REQUIRED}"),
}


@pytest.mark.parametrize("case", POST_ERRORS)
@pytest.mark.parametrize("fmt", FORMATS)
def test_a_refused_request_writes_nothing_and_answers_the_specifications_error(
    api_client, app, inactive_app, ward_with_centre, official, media, fmt, case
):
    ReportCategory.objects.filter(code="water").update(active=False)
    changes, status, description = POST_ERRORS[case]
    body = {
        "api_key": app.key,
        "service_code": "roads",
        "lat": LAT,
        "long": LONG,
        "description": "Ổ gà lớn giữa đường.",
        "media": photo(),
        **changes,
    }
    if body["api_key"] == "inactive":
        body["api_key"] = inactive_app.key
    before = written(media)

    response = post(api_client, fmt, **body)

    assert response.status_code == status, response.content
    assert errors(response, fmt) == error(status, description, fmt=fmt)
    assert written(media) == before == (0, 0, 0, [])
    assert Open311Client.objects.get(pk=inactive_app.client.pk).last_used_at is None


@pytest.mark.parametrize(
    ("changes", "fields"),
    [
        # The place as a whole is refused: both of its parameters are named.
        ({"lat": "10.7769", "long": "106.7009"}, ["lat", "long"]),
        ({"lat": None, "long": None, "address_id": "LS-0000-0000"}, ["address_id"]),
        ({"media": 6}, ["media"]),
    ],
    ids=["place outside the served wards", "unknown address_id", "six media"],
)
def test_refusals_from_the_report_rules_name_the_requests_fields(
    api_client, app, ward_with_centre, media, changes, fields
):
    body = {
        "api_key": app.key,
        "service_code": "roads",
        "lat": LAT,
        "long": LONG,
        "description": "Ổ gà lớn giữa đường.",
        **changes,
    }
    if "media" in body:
        body["media"] = [photo(name=f"{n}.jpg") for n in range(body["media"])]

    response = post(api_client, "json", **body)

    assert response.status_code == 400
    assert written(media) == (0, 0, 0, [])
    assert [e["description"].split(":")[0] for e in errors(response, "json")] == fields


def test_a_json_body_with_numbers_is_not_a_server_error(api_client, app, ward_with_centre):
    body = {"api_key": app.key, "service_code": "roads", "lat": 22.2574, "long": 106.4736}

    response = api_client.post(
        f"{BASE}requests.json", {**body, "description": "Ổ gà."}, format="json"
    )

    assert response.status_code == 201, response.content
    assert FieldReport.objects.get().latitude is not None


# --- 7. the key -----------------------------------------------------------------------------------


def test_the_key_is_stored_hashed_and_its_use_recorded(api_client, ward_with_centre, official):
    client, key = open311_client_create(name="Bản đồ phản ánh", contact="dev@example.vn")
    other, other_key = open311_client_create(name="Ứng dụng khác")

    row = Open311Client.objects.filter(pk=client.pk).values().get()
    assert row["key_hash"] != key
    assert row["key_hash"] == hashlib.sha256(key.encode()).hexdigest()
    assert row["key_prefix"] == key[:8]
    assert [name for name, value in row.items() if key in str(value)] == []
    assert len(key) >= 32 and key != other_key
    assert row["last_used_at"] is None
    account = User.objects.get(pk=client.account_id)
    assert (account.is_active, account.has_usable_password()) == (False, False)

    before = timezone.now()
    posted(api_client, "json", App(client, key))

    client.refresh_from_db()
    other.refresh_from_db()
    assert client.last_used_at is not None and before <= client.last_used_at <= timezone.now()
    assert other.last_used_at is None
    # The prefix alone is not a key.
    response = post(api_client, "json", api_key=key[:8], service_code="roads", lat=LAT, long=LONG)
    assert (response.status_code, FieldReport.objects.count()) == (403, 1)


# --- bugs that break the answer ----------------------------------------------------------------


def test_control_characters_in_a_description_keep_the_xml_well_formed(
    api_client, app, ward_with_centre
):
    report_id = posted(api_client, "xml", app, description="Ổ gà\x0blớn\x01 giữa đường.")

    response = api_client.get(f"{BASE}requests/{report_id}.xml", {"api_key": app.key})

    assert response.status_code == 200
    [row] = read(response, "xml", "service_requests")
    assert row["service_request_id"] == str(report_id)


@pytest.mark.parametrize("name", ["page", "page_size", "service_request_id"])
def test_a_number_int_cannot_read_is_400(api_client, name):
    response = requests_(api_client, "json", **{name: "²"})

    assert response.status_code == 400
    assert errors(response, "json")[0]["description"].startswith(f"{name}: ")


@pytest.mark.parametrize(
    "params",
    [{"start_date": "9999-12-31T00:00:00+07:00"}, {"end_date": "0001-01-01T00:00:00+00:00"}],
    ids=["start at the end of the calendar", "end at its start"],
)
def test_a_date_at_the_calendars_edge_is_answered_not_a_server_error(api_client, params):
    response = requests_(api_client, "json", **params)

    # Nothing was reported then (200, no request), or the date is refused (400): either way in
    # the specification's shape.
    assert (response.status_code, response["Content-Type"]) in [
        (200, CONTENT_TYPES["json"]),
        (400, CONTENT_TYPES["json"]),
    ]
    assert isinstance(response.json(), list)
