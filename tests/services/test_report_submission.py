"""Submitting a field report: the exact answer and what it writes, every refusal (per field,
Vietnamese first, nothing written and no file left), photos re-encoded without their metadata,
routing to the commune (address code, chosen commune, nearest centre), retries with an
Idempotency-Key, duplicates nearby to follow instead, and the citizen's own lists."""

from __future__ import annotations

import io
import math
import os
import re
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from django.utils import timezone
from PIL import Image, PngImagePlugin

from accounts.models import User
from digital_address.address_codes import compose
from digital_address.models import Ward
from notifications.models import Notification
from services.models import (
    FieldReport,
    ReportCategory,
    ReportEvent,
    ReportFollower,
    ReportPhoto,
)
from tests.conftest import client_for
from tests.digital_address.households import register
from tests.factories import ProvinceFactory, WardFactory
from tests.services.reports import (
    NEAR_PLACE,
    PLACE,
    SIMILAR_URL,
    URL,
    photo,
    resolve,
    step,
    submit,
)

pytestmark = pytest.mark.django_db

LOCAL = ZoneInfo("Asia/Ho_Chi_Minh")
DESCRIPTION = "Đèn đường hỏng trước nhà văn hoá thôn."
INVALID = "Dữ liệu không hợp lệ."
NO_PLACE = "Hãy cho biết địa điểm: vị trí trên bản đồ hoặc mã địa chỉ số."
OUTSIDE_VIETNAM = "Vị trí này nằm ngoài lãnh thổ Việt Nam."
NOT_SERVED = (
    "Vị trí này không thuộc xã, phường nào được phục vụ: hãy chọn xã, phường hoặc nhập mã "
    "địa chỉ số."
)
NOT_A_PHOTO = "Chỉ chấp nhận ảnh JPEG và PNG."
WRONG_CHECK_DIGIT = (
    "Chữ số cuối của mã địa chỉ này không khớp với các chữ số còn lại: có thể đã gõ nhầm một "
    "chữ số hoặc đảo chỗ hai chữ số. Vui lòng kiểm tra lại mã."
)
ANONYMOUS_WITH_CODE = (
    "Phản ánh ẩn danh được xác định bằng vị trí trên bản đồ hoặc xã, phường: mã địa chỉ số sẽ "
    "cho biết ai là người gửi."
)
STORED_NAME = re.compile(r"^reports/[0-9a-f]{32}\.(jpg|png)$")


# --- helpers --------------------------------------------------------------------------------------


@pytest.fixture(autouse=True)
def media(settings, tmp_path) -> Path:
    """This test's own MEDIA_ROOT (config/test_settings.py shares one under VAR_DIR between
    runs): the folder the photos are stored in, to see what a request left there."""
    settings.MEDIA_ROOT = tmp_path / "media"
    return settings.MEDIA_ROOT / "reports"


def stored(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir()) if folder.exists() else []


def at(day: int, hour: int, minute: int = 0) -> datetime:
    """A moment of March 2026, local time (2 March is a Monday; no holiday that month)."""
    return datetime(2026, 3, day, hour, minute, tzinfo=LOCAL)


@pytest.fixture
def clock(monkeypatch) -> Callable[[datetime], None]:
    def set_clock(moment: datetime) -> None:
        monkeypatch.setattr(timezone, "now", lambda: moment)

    return set_clock


def post(user: User, body: dict, **extra):
    """POST reports/ as multipart; ``None`` values are left out of the body."""
    client = client_for(user)
    return client.post(
        URL, {k: v for k, v in body.items() if v is not None}, format="multipart", **extra
    )


def body_with(photos: list | None = None, **fields) -> dict:
    body = {"category": "lighting", "description": DESCRIPTION, **PLACE, **fields}
    body["photos"] = [photo()] if photos is None else photos
    return body


def written() -> tuple[int, int, int, int]:
    """Everything a submission writes: reports, photos, timeline events, inbox messages."""
    return (
        FieldReport.objects.count(),
        ReportPhoto.objects.count(),
        ReportEvent.objects.count(),
        Notification.objects.count(),
    )


def named_file(content: bytes, name: str) -> io.BytesIO:
    buffer = io.BytesIO(content)
    buffer.name = name
    return buffer


def noisy_png(side: int = 700) -> io.BytesIO:
    """A PNG that compresses badly: random pixels, about 1.4 MB for 700 × 700."""
    buffer = io.BytesIO()
    Image.frombytes("RGB", (side, side), os.urandom(side * side * 3)).save(buffer, "PNG")
    buffer.seek(0)
    buffer.name = "to.png"
    return buffer


def stored_images(report_id: int) -> list[Image.Image]:
    images = []
    for row in ReportPhoto.objects.filter(report_id=report_id).order_by("id"):
        with row.file.open("rb") as handle:
            image = Image.open(io.BytesIO(handle.read()))
            image.load()
            images.append(image)
    return images


def offset(place: dict, north_m: float = 0.0, east_m: float = 0.0) -> dict:
    """A place ``north_m`` metres north and ``east_m`` metres east of ``place``."""
    lat, lng = float(place["latitude"]), float(place["longitude"])
    dlat = math.degrees(north_m / 6_371_008.8)
    dlng = math.degrees(east_m / (6_371_008.8 * math.cos(math.radians(lat))))
    return {"latitude": f"{lat + dlat:.6f}", "longitude": f"{lng + dlng:.6f}"}


# --- 1. the answer and what it writes -------------------------------------------------------------


def test_submission_answers_the_report_whole_and_writes_one_event_and_its_photos(
    citizen, official, ward_with_centre, clock, media
):
    clock(at(2, 9))

    response = post(citizen, body_with(photos=[photo(), photo("PNG", name="b.png")]))

    assert response.status_code == 201, response.content
    report = FieldReport.objects.get()
    first, second = ReportPhoto.objects.order_by("id")
    now = "2026-03-02T09:00:00+07:00"
    assert response.json() == {
        "id": report.pk,
        "category": {"code": "lighting", "name": "Chiếu sáng công cộng"},
        "status": "submitted",
        "status_label": "Mới gửi",
        "unit": {"code": 6040, "name": "Xã Thất Khê"},
        "followers_count": 0,
        "created_at": now,
        "updated_at": now,
        "resolved_at": None,
        "description": DESCRIPTION,
        "anonymous": False,
        "place": {"latitude": 22.257, "longitude": 106.474},
        "address_code": None,
        "handled_by": "Công chức Địa chính – Xây dựng",
        # 2 and 15 working days from Monday 2 March (received before the 16:00 cut-off).
        "acknowledge_due": "2026-03-04",
        "resolve_due": "2026-03-23",
        "confirm_until": None,
        "satisfied": None,
        "escalated": False,
        "merged_into": None,
        "photos": [
            {
                "id": first.pk,
                "kind": "report",
                "content_type": "image/jpeg",
                "url": f"/api/v1/reports/{report.pk}/photos/{first.pk}/",
            },
            {
                "id": second.pk,
                "kind": "report",
                "content_type": "image/png",
                "url": f"/api/v1/reports/{report.pk}/photos/{second.pk}/",
            },
        ],
        "timeline": [
            {
                "kind": "submitted",
                "kind_label": "Gửi phản ánh",
                "status": "submitted",
                "actor_role": "citizen",
                "unit": {"code": 6040, "name": "Xã Thất Khê"},
                "to_unit": None,
                "note": "",
                "referral": "",
                "reason": "",
                "reason_label": "",
                "at": now,
            }
        ],
        "transfers": [],
        "is_mine": True,
        "my_reaction": None,
        "similar": [],
    }
    assert (
        report.reporter_id,
        report.anonymous,
        report.household_id,
        report.received_at,
        report.submission_key,
        report.hidden,
        report.text_hidden,
    ) == (citizen.pk, False, None, at(2, 9), "", False, False)
    assert list(
        ReportEvent.objects.values_list(
            "report_id", "kind", "actor_id", "actor_role", "from_status", "to_status", "unit_id"
        )
    ) == [(report.pk, "submitted", citizen.pk, "citizen", "", "submitted", 6040)]
    rows = list(
        ReportPhoto.objects.order_by("id").values_list(
            "report_id", "kind", "content_type", "hidden", "uploaded_by_id", "created_at"
        )
    )
    assert rows == [
        (report.pk, "report", "image/jpeg", False, citizen.pk, at(2, 9)),
        (report.pk, "report", "image/png", False, citizen.pk, at(2, 9)),
    ]
    for row in (first, second):
        assert STORED_NAME.match(row.file.name), row.file.name
        assert row.size == (media.parent / row.file.name).stat().st_size
    assert stored(media) == sorted(Path(r.file.name).name for r in (first, second))


def test_submission_in_english_names_the_category_and_the_steps_in_english(
    citizen, ward_with_centre
):
    response = post(citizen, body_with(), HTTP_ACCEPT_LANGUAGE="en")

    assert response.status_code == 201, response.content
    body = response.json()
    assert body["category"] == {"code": "lighting", "name": "Street lighting"}
    assert (body["status_label"], body["timeline"][0]["kind_label"]) == ("Submitted", "Submitted")


# --- 2. refusals ----------------------------------------------------------------------------------


def _pdf() -> io.BytesIO:
    return named_file(b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n", "don.pdf")


def _text() -> io.BytesIO:
    return named_file("Đây không phải là ảnh.".encode(), "anh.jpg")


def _wrong_check_digit() -> str:
    code = compose(6040, 1)
    return code[:-1] + str((int(code[-1]) + 1) % 10)


REFUSALS = {
    "no photo": ({"photos": []}, {"photos": ["Hãy thêm ít nhất một ảnh."]}),
    "six photos": (
        {"photos": lambda: [photo() for _ in range(6)]},
        {"photos": ["Tối đa 5 tệp."]},
    ),
    "a PDF": ({"photos": lambda: [_pdf()]}, {"photos": [NOT_A_PHOTO]}),
    "text named .jpg": ({"photos": lambda: [_text()]}, {"photos": [NOT_A_PHOTO]}),
    # The good photo before it is not kept either.
    "a photo then a PDF": ({"photos": lambda: [photo(), _pdf()]}, {"photos": [NOT_A_PHOTO]}),
    "empty description": (
        {"description": ""},
        {"description": ["Trường này không được để trống."]},
    ),
    "blank description": (
        {"description": "   \n "},
        {"description": ["Trường này không được để trống."]},
    ),
    "no place at all": (
        {"latitude": None, "longitude": None},
        {"latitude": [NO_PLACE], "longitude": [NO_PLACE]},
    ),
    "latitude without longitude": (
        {"longitude": None},
        {"longitude": ["Hãy nhập cả vĩ độ và kinh độ, hoặc bỏ trống cả hai."]},
    ),
    "outside Vietnam (Bangkok)": (
        {"latitude": "13.756300", "longitude": "100.501800"},
        {"latitude": [OUTSIDE_VIETNAM], "longitude": [OUTSIDE_VIETNAM]},
    ),
    "unknown address code": (
        {"address_code": compose(6040, 999), "latitude": None, "longitude": None},
        {"address_code": ["Không có hộ gia đình nào mang mã địa chỉ số này."]},
    ),
    "wrong check digit": (
        {"address_code": _wrong_check_digit(), "latitude": None, "longitude": None},
        {"address_code": [WRONG_CHECK_DIGIT]},
    ),
    "unknown ward": (
        {"ward": 99999},
        {"ward": ["Không có đơn vị hành chính cấp xã nào mang mã này."]},
    ),
}


@pytest.mark.parametrize("case", list(REFUSALS), ids=list(REFUSALS))
def test_a_refused_submission_says_why_per_field_and_writes_nothing(
    citizen, official, ward_with_centre, media, case
):
    register(citizen)  # a household exists: the unknown code is not unknown for want of any
    changes, fields = REFUSALS[case]
    changes = {k: v() if callable(v) else v for k, v in changes.items()}
    photos = changes.pop("photos", None)
    before = written()

    response = post(citizen, body_with(photos=photos, **changes))

    assert response.status_code == 400, response.content
    assert response.json() == {"code": "invalid", "message": INVALID, "fields": fields}
    assert written() == before == (0, 0, 0, 0)
    assert stored(media) == []


def test_a_photo_over_the_size_limit_is_refused_before_it_is_read(
    citizen, ward_with_centre, settings, media
):
    settings.REPORT_PHOTO_MAX_BYTES = 1024 * 1024
    big = noisy_png()
    assert big.getbuffer().nbytes > 1024 * 1024

    response = post(citizen, body_with(photos=[photo(), big]))

    assert response.status_code == 400, response.content
    assert response.json() == {
        "code": "invalid",
        "message": INVALID,
        "fields": {"photos": ["Mỗi ảnh tối đa 1 MB."]},
    }
    assert written() == (0, 0, 0, 0)
    assert stored(media) == []


@pytest.mark.parametrize("code", ["nope", "water"], ids=["unknown", "inactive"])
def test_an_unknown_or_inactive_category_is_refused(citizen, ward_with_centre, media, code):
    ReportCategory.objects.filter(code="water").update(active=False)

    response = post(citizen, body_with(category=code))

    assert response.status_code == 400, response.content
    body = response.json()
    assert (body["code"], body["message"], list(body["fields"])) == (
        "invalid",
        INVALID,
        ["category"],
    )
    assert written() == (0, 0, 0, 0)
    assert stored(media) == []


def test_an_unknown_category_is_refused_in_vietnamese(citizen, ward_with_centre):
    vi = post(citizen, body_with(category="nope")).json()["fields"]["category"]
    en = post(citizen, body_with(category="nope"), HTTP_ACCEPT_LANGUAGE="en").json()["fields"][
        "category"
    ]

    assert vi != en
    assert "code=" not in vi[0]


@pytest.mark.parametrize(
    ("changes", "photos", "fields"),
    [
        ({}, [], {"photos": ["Add at least one photo."]}),
        (
            {"latitude": "13.756300", "longitude": "100.501800"},
            None,
            {
                "latitude": ["This location is outside Vietnam."],
                "longitude": ["This location is outside Vietnam."],
            },
        ),
    ],
    ids=["no photo", "outside Vietnam"],
)
def test_refusals_in_english(citizen, ward_with_centre, changes, photos, fields):
    response = post(citizen, body_with(photos=photos, **changes), HTTP_ACCEPT_LANGUAGE="en")

    assert response.status_code == 400, response.content
    assert response.json() == {"code": "invalid", "message": "Invalid input.", "fields": fields}
    assert written() == (0, 0, 0, 0)


# --- 3. photos re-encoded -------------------------------------------------------------------------


def test_a_jpeg_is_stored_without_its_exif_gps_and_device(citizen, ward_with_centre):
    exif = Image.Exif()
    exif[0x010F] = "Samsung"  # Make
    exif[0x0110] = "SM-A546E"  # Model
    exif[0x8825] = {1: "N", 2: (22.0, 15.0, 25.2), 3: "E", 4: (106.0, 28.0, 26.4)}  # GPS
    buffer = io.BytesIO()
    Image.new("RGB", (64, 48), (200, 30, 30)).save(buffer, "JPEG", exif=exif.tobytes())
    sent = Image.open(io.BytesIO(buffer.getvalue())).getexif()
    assert (sent[0x010F], sent[0x0110], 0x8825 in sent) == ("Samsung", "SM-A546E", True)

    response = post(citizen, body_with(photos=[named_file(buffer.getvalue(), "gps.jpg")]))

    assert response.status_code == 201, response.content
    (image,) = stored_images(response.json()["id"])
    assert (image.format, image.size) == ("JPEG", (64, 48))
    assert dict(image.getexif()) == {}
    assert "exif" not in image.info


def test_a_png_is_stored_as_png_without_its_exif_and_text(citizen, ward_with_centre):
    exif = Image.Exif()
    exif[0x010F] = "Samsung"
    info = PngImagePlugin.PngInfo()
    info.add_text("Author", "Nguyễn Văn An")
    buffer = io.BytesIO()
    Image.new("RGB", (64, 48), (200, 30, 30)).save(buffer, "PNG", exif=exif.tobytes(), pnginfo=info)

    response = post(citizen, body_with(photos=[named_file(buffer.getvalue(), "a.png")]))

    assert response.status_code == 201, response.content
    assert [p["content_type"] for p in response.json()["photos"]] == ["image/png"]
    (image,) = stored_images(response.json()["id"])
    assert (image.format, image.size, dict(image.getexif()), image.info) == (
        "PNG",
        (64, 48),
        {},
        {},
    )
    assert ReportPhoto.objects.get().file.name.endswith(".png")


def test_a_large_photo_is_scaled_to_at_most_2048_pixels(citizen, ward_with_centre):
    response = post(citizen, body_with(photos=[photo(size=(4000, 3000))]))

    assert response.status_code == 201, response.content
    (image,) = stored_images(response.json()["id"])
    assert (image.format, image.size) == ("JPEG", (2048, 1536))


def test_a_photo_is_served_to_its_reporter_with_its_type(citizen, ward_with_centre):
    response = post(citizen, body_with(photos=[photo(), photo("PNG", name="b.png")]))
    body = response.json()
    client = client_for(citizen)

    served = [client.get(p["url"]) for p in body["photos"]]

    assert [r.status_code for r in served] == [200, 200]
    assert [r["Content-Type"] for r in served] == ["image/jpeg", "image/png"]
    assert [r["X-Content-Type-Options"] for r in served] == ["nosniff", "nosniff"]
    for response, row in zip(served, ReportPhoto.objects.order_by("id"), strict=True):
        with row.file.open("rb") as handle:
            assert b"".join(response.streaming_content) == handle.read()
    missing = client.get(f"{URL}{body['id']}/photos/{body['photos'][-1]['id'] + 1}/")
    assert missing.status_code == 404


# --- 4. routing -----------------------------------------------------------------------------------


@pytest.fixture
def household_in_6001(other_citizen, other_ward) -> dict:
    """A household of Xã Đoàn Kết (6001), somewhere else than the ``ward`` fixture's centre."""
    return register(other_citizen, ward=6001, latitude="22.310000", longitude="106.550000")


def test_an_address_code_routes_to_its_households_ward_and_gives_its_location(
    citizen, ward_with_centre, household_in_6001
):
    response = post(
        citizen,
        body_with(address_code=household_in_6001["code"], latitude=None, longitude=None),
    )

    assert response.status_code == 201, response.content
    body = response.json()
    assert (body["unit"], body["place"], body["address_code"]) == (
        {"code": 6001, "name": "Xã Đoàn Kết"},
        {"latitude": 22.31, "longitude": 106.55},
        household_in_6001["code"],
    )
    report = FieldReport.objects.get()
    assert (report.unit_id, report.household_id) == (6001, household_in_6001["id"])


def test_an_address_code_wins_over_the_chosen_ward_and_keeps_the_given_location(
    citizen, ward_with_centre, household_in_6001
):
    response = post(citizen, body_with(address_code=household_in_6001["code"], ward=6040))

    assert response.status_code == 201, response.content
    body = response.json()
    assert (body["unit"]["code"], body["place"]) == (
        6001,
        {"latitude": 22.257, "longitude": 106.474},
    )


def test_an_address_code_is_read_with_separators_or_without(
    citizen, ward_with_centre, household_in_6001
):
    bare = household_in_6001["code"].replace("-", "")

    response = post(citizen, body_with(address_code=f" {bare} ", latitude=None, longitude=None))

    assert response.status_code == 201, response.content
    assert response.json()["unit"]["code"] == 6001


def test_the_chosen_ward_wins_over_the_nearest_centre(citizen, ward_with_centre, other_ward):
    response = post(citizen, body_with(ward=6001))

    assert response.status_code == 201, response.content
    body = response.json()
    assert (body["unit"]["code"], body["place"]) == (
        6001,
        {"latitude": 22.257, "longitude": 106.474},
    )
    assert FieldReport.objects.get().household_id is None


def test_the_chosen_ward_needs_no_location(citizen, other_ward):
    response = post(citizen, body_with(ward=6001, latitude=None, longitude=None))

    assert response.status_code == 201, response.content
    assert (response.json()["unit"]["code"], response.json()["place"]) == (6001, None)


@pytest.fixture
def centres(ward_with_centre) -> tuple[Ward, Ward]:
    """Thất Khê's centre, a commune of the province about 4.8 km north of it, and a commune of
    another province whose centre is right where the test reports (not served here)."""
    north = WardFactory(code=6100, name="Xã Chi Lăng", latitude=22.3000, longitude=106.4740)
    WardFactory(
        code=1234,
        name="Xã Ngoài Tỉnh",
        province=ProvinceFactory(code=4, name="Cao Bằng"),
        latitude=22.2600,
        longitude=106.4740,
    )
    return ward_with_centre, north


@pytest.mark.parametrize(
    ("place", "unit"),
    [
        ({"latitude": "22.260000", "longitude": "106.474000"}, 6040),
        ({"latitude": "22.295000", "longitude": "106.474000"}, 6100),
    ],
    ids=["near Thất Khê", "near Chi Lăng"],
)
def test_a_location_alone_routes_to_the_commune_of_the_province_with_the_nearest_centre(
    citizen, centres, place, unit
):
    response = post(citizen, body_with(**place))

    assert response.status_code == 201, response.content
    assert response.json()["unit"]["code"] == unit
    assert FieldReport.objects.get().unit_id == unit


def test_a_location_farther_than_30_km_from_every_centre_is_refused(citizen, centres, media):
    # Hà Nội: in Vietnam, about 150 km from Thất Khê.
    response = post(citizen, body_with(latitude="21.028500", longitude="105.854200"))

    assert response.status_code == 400, response.content
    assert response.json()["fields"] == {"latitude": [NOT_SERVED], "longitude": [NOT_SERVED]}
    assert written() == (0, 0, 0, 0)
    assert stored(media) == []


def test_a_location_is_refused_when_no_commune_has_a_centre(citizen, ward):
    response = post(citizen, body_with())

    assert response.status_code == 400, response.content
    assert response.json()["fields"] == {"latitude": [NOT_SERVED], "longitude": [NOT_SERVED]}
    assert written() == (0, 0, 0, 0)


def test_a_chosen_ward_of_another_province_is_refused(citizen, centres):
    response = post(citizen, body_with(ward=1234))

    assert response.status_code == 400, response.content
    assert response.json()["fields"] == {
        "ward": ["Không có đơn vị hành chính cấp xã nào mang mã này."]
    }
    assert FieldReport.objects.count() == 0


def test_an_official_transferring_a_report_is_answered_with_success(
    citizen, official, other_official, ward_with_centre, other_ward
):
    report_id = submit(client_for(citizen))["id"]
    assert step(client_for(official), report_id, "accept").status_code == 200

    response = step(
        client_for(official), report_id, "transfer", {"unit": 6001, "reason": "Xã bên cạnh."}
    )

    report = FieldReport.objects.get(pk=report_id)
    assert (report.unit_id, report.status) == (6001, "submitted")  # done, whatever the answer
    assert response.status_code == 200, response.content


# --- 5. anonymous and an address code -------------------------------------------------------------


def test_an_anonymous_report_cannot_be_placed_by_an_address_code(citizen, ward_with_centre, media):
    household = register(citizen)

    response = post(
        citizen, body_with(address_code=household["code"], anonymous="true", latitude=None)
    )

    assert response.status_code == 400, response.content
    assert response.json() == {
        "code": "invalid",
        "message": INVALID,
        "fields": {"address_code": [ANONYMOUS_WITH_CODE]},
    }
    assert written() == (0, 0, 0, 0)
    assert stored(media) == []


def test_an_anonymous_report_placed_on_the_map_is_accepted(citizen, ward_with_centre):
    response = post(citizen, body_with(anonymous="true"))

    assert response.status_code == 201, response.content
    assert (response.json()["anonymous"], response.json()["address_code"]) == (True, None)
    assert FieldReport.objects.get().anonymous is True


# --- 6. Idempotency-Key ---------------------------------------------------------------------------


def test_the_same_idempotency_key_answers_the_same_report_and_writes_nothing_more(
    citizen, official, ward_with_centre, media
):
    key = "3f1c6a2e-0b7d-4c8e-9a51-7d2f1e8b4c90"
    first = post(citizen, body_with(), HTTP_IDEMPOTENCY_KEY=key)
    assert first.status_code == 201, first.content
    after_first, files = written(), stored(media)
    assert after_first == (1, 1, 1, 1)  # the report, its photo, its event, the official's message

    again = post(citizen, body_with(photos=[photo(), photo()]), HTTP_IDEMPOTENCY_KEY=key)

    assert again.status_code == 200, again.content
    assert again.json() == first.json()
    assert written() == after_first
    assert stored(media) == files
    assert FieldReport.objects.get().submission_key == key


def test_another_idempotency_key_or_another_citizen_makes_a_new_report(
    citizen, other_citizen, ward_with_centre
):
    first = post(citizen, body_with(), HTTP_IDEMPOTENCY_KEY="key-1")
    other_key = post(citizen, body_with(), HTTP_IDEMPOTENCY_KEY="key-2")
    other_user = post(other_citizen, body_with(), HTTP_IDEMPOTENCY_KEY="key-1")

    assert [r.status_code for r in (first, other_key, other_user)] == [201, 201, 201]
    assert len({r.json()["id"] for r in (first, other_key, other_user)}) == 3
    assert list(
        FieldReport.objects.order_by("id").values_list("reporter_id", "submission_key")
    ) == [(citizen.pk, "key-1"), (citizen.pk, "key-2"), (other_citizen.pk, "key-1")]


def test_an_idempotency_key_of_100_characters_is_kept_and_of_101_refused(
    citizen, ward_with_centre, media
):
    refused = post(citizen, body_with(), HTTP_IDEMPOTENCY_KEY="k" * 101)

    assert refused.status_code == 400, refused.content
    assert refused.json() == {
        "code": "invalid",
        "message": INVALID,
        "fields": {"Idempotency-Key": ["Idempotency-Key có tối đa 100 ký tự."]},
    }
    assert written() == (0, 0, 0, 0)
    assert stored(media) == []
    kept = post(citizen, body_with(), HTTP_IDEMPOTENCY_KEY="k" * 100)
    assert kept.status_code == 201, kept.content
    assert FieldReport.objects.get().submission_key == "k" * 100


# --- 7. duplicates --------------------------------------------------------------------------------


def similar(user: User, place: dict, category: str = "lighting"):
    return client_for(user).get(SIMILAR_URL, {"category": category, **place})


def test_similar_lists_open_reports_of_the_category_nearby_nearest_first(
    citizen, other_citizen, official, ward_with_centre
):
    c = client_for(citizen)
    o = client_for(official)
    at_120_m = submit(c, **offset(PLACE, north_m=120))
    at_50_m = submit(c, **NEAR_PLACE)
    accepted_at_10_m = submit(c, **offset(PLACE, east_m=10))
    step(o, accepted_at_10_m["id"], "accept")
    # Not listed: another category, too far, closed, refused, merged, closed not fixed, hidden.
    submit(c, category="roads", **PLACE)
    submit(c, **offset(PLACE, north_m=300))
    closed = submit(c, **PLACE)
    step(o, closed["id"], "accept")
    resolve(o, closed["id"])
    assert c.post(f"{URL}{closed['id']}/confirm/", {}, format="json").status_code == 200
    refused = submit(c, **PLACE)
    step(o, refused["id"], "refuse", {"reason": "Không thuộc thẩm quyền."})
    merged = submit(c, **PLACE)
    step(o, merged["id"], "merge", {"into": at_50_m["id"]})
    not_fixed = submit(c, **PLACE)
    step(o, not_fixed["id"], "accept")
    assert step(o, not_fixed["id"], "close", {"reason": "planned"}).status_code == 200
    hidden = submit(c, **PLACE)
    assert step(o, hidden["id"], "moderate", {"hidden": True}).status_code == 200
    assert list(
        FieldReport.objects.filter(
            pk__in=[closed["id"], refused["id"], merged["id"], not_fixed["id"], hidden["id"]]
        )
        .order_by("id")
        .values_list("status", "hidden")
    ) == [
        ("closed", False),
        ("refused", False),
        ("merged", False),
        ("closed_not_fixed", False),
        ("submitted", True),
    ]

    response = similar(other_citizen, PLACE)

    assert response.status_code == 200, response.content
    found = [(r["id"], r["status"], r["distance_m"]) for r in response.json()]
    # Nearest first; the distance shown is to each public (rounded) place, in tens of metres:
    # the 10 m and 50 m ones round to PLACE itself, the 120 m one to 0.001° (111 m) north.
    assert found == [
        (accepted_at_10_m["id"], "accepted", 0),
        (at_50_m["id"], "submitted", 0),
        (at_120_m["id"], "submitted", 110),
    ]
    assert response.json()[0]["category"] == {"code": "lighting", "name": "Chiếu sáng công cộng"}


def test_similar_uses_the_duplicate_radius_setting(
    citizen, other_citizen, ward_with_centre, settings
):
    at_120_m = submit(client_for(citizen), **offset(PLACE, north_m=120))
    settings.REPORT_DUPLICATE_RADIUS_M = 100

    assert similar(other_citizen, PLACE).json() == []
    settings.REPORT_DUPLICATE_RADIUS_M = 150
    assert [r["id"] for r in similar(other_citizen, PLACE).json()] == [at_120_m["id"]]


def test_similar_refuses_a_missing_place_or_an_unknown_category(other_citizen, ward):
    missing = client_for(other_citizen).get(SIMILAR_URL, {"category": "lighting"})
    unknown = similar(other_citizen, PLACE, category="nope")

    assert missing.status_code == 400
    assert sorted(missing.json()["fields"]) == ["latitude", "longitude"]
    assert unknown.status_code == 400
    assert list(unknown.json()["fields"]) == ["category"]


def test_the_submission_answer_offers_the_report_nearby_which_the_citizen_then_follows(
    citizen, other_citizen, official, ward_with_centre
):
    first = submit(client_for(citizen))
    step(client_for(official), first["id"], "accept")

    mine = post(other_citizen, body_with(**NEAR_PLACE))

    assert mine.status_code == 201, mine.content
    offered = [(r["id"], r["distance_m"]) for r in mine.json()["similar"]]
    assert offered == [(first["id"], 50)]
    followed = client_for(other_citizen).post(f"{URL}{first['id']}/follow/")
    assert followed.status_code == 200, followed.content
    assert (followed.json()["following"], followed.json()["followers_count"]) == (True, 1)
    assert list(ReportFollower.objects.values_list("report_id", "user_id")) == [
        (first["id"], other_citizen.pk)
    ]


def test_a_submitted_report_offered_as_similar_can_be_followed(
    citizen, other_citizen, ward_with_centre
):
    first = submit(client_for(citizen))

    mine = post(other_citizen, body_with(**NEAR_PLACE))
    assert [r["id"] for r in mine.json()["similar"]] == [first["id"]]

    followed = client_for(other_citizen).post(f"{URL}{first['id']}/follow/")

    assert followed.status_code == 200, followed.content
    assert ReportFollower.objects.filter(report_id=first["id"], user=other_citizen).exists()


# --- 8. my lists ----------------------------------------------------------------------------------


def test_my_reports_newest_first_and_those_i_follow(
    citizen, other_citizen, official, ward_with_centre, clock
):
    c, o = client_for(citizen), client_for(other_citizen)
    clock(at(2, 9))
    one = submit(c)
    clock(at(2, 10))
    two = submit(c, category="roads")
    theirs = submit(o)
    clock(at(3, 9))
    three = submit(c, anonymous="true")
    step(client_for(official), theirs["id"], "accept")
    assert c.post(f"{URL}{theirs['id']}/follow/").status_code == 200

    mine = c.get(URL)
    following = c.get(URL, {"following": "true"})
    theirs_list = o.get(URL)

    assert mine.status_code == 200, mine.content
    assert [r["id"] for r in mine.json()["results"]] == [three["id"], two["id"], one["id"]]
    assert [r["anonymous"] for r in mine.json()["results"]] == [True, False, False]
    assert mine.json()["next"] is None
    assert [r["id"] for r in following.json()["results"]] == [theirs["id"]]
    assert [r["id"] for r in theirs_list.json()["results"]] == [theirs["id"]]
    assert o.get(URL, {"following": "true"}).json()["results"] == []


def test_my_reports_in_a_fixed_number_of_queries(
    citizen, other_citizen, official, ward_with_centre, django_assert_num_queries
):
    c = client_for(citizen)
    household = register(citizen)
    submit(c, address_code=household["code"], photos=2)
    followed = submit(client_for(other_citizen))
    step(client_for(official), followed["id"], "accept")
    c.post(f"{URL}{followed['id']}/follow/")

    def count(following: bool) -> int:
        # The token's user (1), the page of reports with their category, unit and household
        # (1), their photos (1).
        with django_assert_num_queries(3):
            response = c.get(URL, {"following": "true"} if following else {})
        assert response.status_code == 200
        return len(response.json()["results"])

    assert (count(False), count(True)) == (1, 1)
    for _ in range(3):
        submit(c, address_code=household["code"], photos=2)
    assert count(False) == 4


def test_my_reports_need_a_login(api_client):
    response = api_client.get(URL)

    assert response.status_code == 401
