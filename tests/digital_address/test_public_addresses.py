"""What anyone may read without personal data: a household's place from any of its codes, the QR
code of its plate, households near a point, and the coverage statistics per ward."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from datetime import date
from decimal import Decimal

import png
import pytest
from django.test import RequestFactory
from rest_framework.test import APIClient
from rest_framework.throttling import ScopedRateThrottle

from accounts.models import User
from digital_address.actions.households import (
    Address,
    external_code_attach,
    household_create,
    household_reject,
    household_verify,
)
from digital_address.address_codes import compose, format_code
from digital_address.api.views import plate_url
from digital_address.locations import distance_m
from digital_address.models import Household
from digital_address.plates import qr_png, qr_svg
from tests.conftest import client_for
from tests.factories import HouseholdFactory, UserFactory, WardFactory

pytestmark = pytest.mark.django_db

ADDRESSES = "/api/v1/addresses/"
NEARBY = "/api/v1/addresses/nearby/"
STATS = "/api/v1/stats/units/"
OFFICIAL_STATS = "/api/v1/official/stats/"
CENTRE = (Decimal("22.257000"), Decimal("106.474000"))
PUBLIC_KEYS = {"code", "plus_code", "ward", "address_line", "latitude", "longitude", "verified"}
WRONG_CHECK_DIGIT = {
    "code": "wrong_check_digit",
    "message": "The last digit of this address code does not match the others: "
    "a digit was probably mistyped or two digits swapped. Please check the code.",
    "fields": {},
}
NOT_FOUND = {"code": "not_found", "message": "Not found.", "fields": {}}


def english() -> APIClient:
    return APIClient(HTTP_ACCEPT_LANGUAGE="en")


def english_client(user: User) -> APIClient:
    client = client_for(user)
    client.defaults["HTTP_ACCEPT_LANGUAGE"] = "en"
    return client


def register(user: User, ward, *, point=CENTRE, **address) -> Household:
    latitude, longitude = point if point else (None, None)
    return household_create(
        actor=user,
        ward=ward,
        address=Address(
            house_number=address.get("house_number", "12"),
            street=address.get("street", "Đường Hoàng Văn Thụ"),
            hamlet=address.get("hamlet", "Khối 3"),
            latitude=latitude,
            longitude=longitude,
        ),
    )


@pytest.fixture
def household(citizen, ward, official) -> Household:
    """The citizen's verified household, with a national code attached."""
    User.objects.filter(pk=citizen.pk).update(date_of_birth=date(1990, 5, 1))
    citizen.refresh_from_db()
    household = register(citizen, ward)
    household_verify(actor=official, household=household)
    external_code_attach(actor=official, household=household, scheme="national", code="VN LS 77")
    household.refresh_from_db()
    return household


def resolve(code: str, client: APIClient | None = None, **params):
    return (client or APIClient()).get(f"{ADDRESSES}{code}/", params)


# --- resolving codes --------------------------------------------------------------------------


def test_a_formatted_code_resolves_to_the_place_only(household, api_client):
    response = api_client.get(f"{ADDRESSES}{household.formatted_code}/")

    assert response.status_code == 200, response.content
    assert response.json() == {
        "code": format_code(compose(6040, 1)),
        "plus_code": household.plus_code,
        "ward": {"code": 6040, "name": "Xã Thất Khê", "province": "Lạng Sơn"},
        "address_line": "12, Đường Hoàng Văn Thụ, Khối 3",
        "latitude": 22.257,
        "longitude": 106.474,
        "verified": True,
    }
    assert set(response.json()) == PUBLIC_KEYS


def test_the_answer_holds_no_personal_data(household, citizen):
    body = resolve(household.formatted_code).content

    head = household.members.get(relationship="head")
    assert head.date_of_birth == date(1990, 5, 1)
    for personal in (
        "Nguyễn Văn An",
        "+84912345678",
        "0912345678",
        "912345678",
        "1990-05-01",
        "01/05/1990",
    ):
        assert personal.encode() not in body
        assert json.dumps(personal).encode() not in body


@pytest.mark.parametrize(
    "spelling",
    [
        pytest.param(lambda h: h.code, id="bare-digits"),
        pytest.param(lambda h: h.formatted_code.replace("-", " "), id="spaces"),
        pytest.param(lambda h: h.formatted_code.replace("-", "."), id="dots"),
        pytest.param(lambda h: f" {h.code[:5]} {h.code[5:10]}-{h.code[10]} ", id="mixed"),
    ],
)
def test_the_native_code_resolves_however_it_is_typed(household, spelling):
    response = resolve(spelling(household))

    assert (response.status_code, response.json()["code"]) == (200, household.formatted_code)


@pytest.mark.parametrize("case", [str.upper, str.lower])
def test_the_plus_code_resolves(household, case):
    assert "+" in household.plus_code

    response = resolve(case(household.plus_code))
    encoded = resolve(case(household.plus_code).replace("+", "%2B"))

    assert (response.status_code, response.json()["code"]) == (200, household.formatted_code)
    assert (encoded.status_code, encoded.json()["code"]) == (200, household.formatted_code)


@pytest.mark.parametrize(
    ("code", "params"),
    [
        ("VNLS77", {}),
        ("vnls77", {}),
        ("VN%20LS%2077", {}),
        ("VNLS77", {"scheme": "national"}),
        ("vn%20ls77", {"scheme": "national"}),
    ],
)
def test_an_external_code_resolves(household, code, params):
    response = resolve(code, **params)

    assert (response.status_code, response.json()["code"]) == (200, household.formatted_code)


def test_an_external_code_of_another_scheme_is_not_found(household):
    response = resolve("VNLS77", english(), scheme="vpostcode")

    assert (response.status_code, response.json()) == (404, NOT_FOUND)


def test_an_unknown_scheme_is_bad_input(household):
    response = resolve("VNLS77", english(), scheme="what3words")

    assert (response.status_code, response.json()["code"]) == (400, "invalid")
    assert list(response.json()["fields"]) == ["scheme"]


def test_a_wrong_check_digit_is_its_own_error(household):
    good = household.code
    typo = good[:-1] + str((int(good[-1]) + 1) % 10)
    i = next(i for i in range(len(good) - 1) if good[i] != good[i + 1])
    swapped = good[:i] + good[i + 1] + good[i] + good[i + 2 :]

    for code in (typo, format_code(typo), swapped):
        response = resolve(code, english())
        assert (response.status_code, response.json()) == (400, WRONG_CHECK_DIGIT)


def test_a_valid_code_nobody_has_is_not_found(household):
    response = resolve(format_code(compose(6040, 999)), english())

    assert (response.status_code, response.json()) == (404, NOT_FOUND)


def test_a_rejected_household_does_not_resolve(citizen, ward, official):
    household = register(citizen, ward)
    external_code_attach(actor=official, household=household, scheme="national", code="VNLS77")
    household_reject(actor=official, household=household, reason="Không có thật")

    for code in (household.formatted_code, household.plus_code, "VNLS77"):
        response = resolve(code, english())
        assert (response.status_code, response.json()) == (404, NOT_FOUND)
    qr = english().get(f"{ADDRESSES}{household.formatted_code}/qr.svg")
    assert (qr.status_code, qr.json()) == (404, NOT_FOUND)


def test_a_pending_household_resolves_as_not_verified(citizen, ward):
    household = register(citizen, ward, point=None)

    response = resolve(household.formatted_code)

    assert response.json() == {
        "code": household.formatted_code,
        "plus_code": "",
        "ward": {"code": 6040, "name": "Xã Thất Khê", "province": "Lạng Sơn"},
        "address_line": "12, Đường Hoàng Văn Thụ, Khối 3",
        "latitude": None,
        "longitude": None,
        "verified": False,
    }


def test_a_signed_in_client_gets_the_same_answer(household, citizen):
    anonymous = resolve(household.formatted_code)
    signed_in = resolve(household.formatted_code, client_for(citizen))

    assert signed_in.status_code == 200
    assert signed_in.content == anonymous.content


def test_the_public_lookup_is_throttled(household, monkeypatch):
    # Patched on the class: DRF copies the rates there when rest_framework.throttling is first
    # imported, so overriding settings.REST_FRAMEWORK only works if no earlier test imported it.
    monkeypatch.setattr(ScopedRateThrottle, "THROTTLE_RATES", {"public": "3/min"})
    client = english()

    statuses = [resolve(household.formatted_code, client).status_code for _ in range(3)]
    throttled = resolve(household.formatted_code, client)

    assert statuses == [200, 200, 200]
    assert (throttled.status_code, throttled.json()) == (
        429,
        {
            "code": "throttled",
            "message": "Request was throttled. Expected available in 60 seconds.",
            "fields": {},
        },
    )
    # The QR codes and the statistics share the budget of the client.
    assert client.get(f"{ADDRESSES}{household.code}/qr.svg").status_code == 429
    assert client.get(STATS).status_code == 429
    # Another client has its own.
    assert resolve(household.formatted_code, APIClient(REMOTE_ADDR="192.0.2.7")).status_code == 200


# --- QR codes --------------------------------------------------------------------------------


def test_the_svg_plate_is_a_cacheable_svg_of_the_address_url(household, settings):
    settings.PUBLIC_BASE_URL = "https://diachi.langson.gov.vn"
    url = plate_url(RequestFactory().get("/"), household)

    response = APIClient().get(f"{ADDRESSES}{household.code}/qr.svg")

    assert url == f"https://diachi.langson.gov.vn/a/{household.formatted_code}"
    assert response.status_code == 200
    assert response["Content-Type"] == "image/svg+xml"
    assert response["Content-Disposition"] == f'inline; filename="{household.code}.svg"'
    assert set(response["Cache-Control"].split(", ")) == {"public", "max-age=86400"}
    root = ET.fromstring(response.content)  # noqa: S314 (our own answer, not untrusted)
    assert root.tag == "{http://www.w3.org/2000/svg}svg"
    assert response.content == qr_svg(url)


def test_the_png_plate_is_a_square_image_of_the_address_url(household, settings):
    settings.PUBLIC_BASE_URL = "https://diachi.langson.gov.vn"
    url = plate_url(RequestFactory().get("/"), household)

    response = APIClient().get(f"{ADDRESSES}{household.formatted_code}/qr.png")

    assert response.status_code == 200
    assert response["Content-Type"] == "image/png"
    assert set(response["Cache-Control"].split(", ")) == {"public", "max-age=86400"}
    width, height, rows, _info = png.Reader(bytes=response.content).read()
    assert width == height
    assert width > 0
    assert len(list(rows)) == height
    assert response.content == qr_png(url)


def test_without_a_public_base_url_the_plate_points_at_the_requested_host(household, settings):
    settings.PUBLIC_BASE_URL = ""

    url = plate_url(RequestFactory().get("/"), household)
    response = APIClient().get(f"{ADDRESSES}{household.code}/qr.svg")

    assert url == f"http://testserver/a/{household.formatted_code}"
    assert response.content == qr_svg(url)


@pytest.mark.parametrize("fmt", ["svg", "png"])
def test_a_plate_with_a_wrong_check_digit_is_a_json_error(household, fmt):
    typo = household.code[:-1] + str((int(household.code[-1]) + 1) % 10)

    response = english().get(f"{ADDRESSES}{typo}/qr.{fmt}")

    assert response.status_code == 400
    assert response["Content-Type"] == "application/json"
    assert response.json() == WRONG_CHECK_DIGIT


# --- nearby ----------------------------------------------------------------------------------


@pytest.fixture
def around(ward) -> dict[int, Household]:
    """Households about 50 m north, 150 m east and 400 m south-west of the centre."""
    points = {
        50: (Decimal("22.257450"), Decimal("106.474000")),
        150: (Decimal("22.257000"), Decimal("106.475458")),
        400: (Decimal("22.254500"), Decimal("106.471300")),
    }
    found = {}
    for metres, point in points.items():
        household = register(UserFactory(ward=ward), ward, point=point, house_number=str(metres))
        found[metres] = household
        assert abs(distance_m(*map(float, CENTRE), *map(float, point)) - metres) < 10
    return found


def _expected(household: Household) -> dict:
    distance = distance_m(
        float(CENTRE[0]),
        float(CENTRE[1]),
        float(household.latitude),
        float(household.longitude),
    )
    return {
        "code": household.formatted_code,
        "plus_code": household.plus_code,
        "ward": {"code": 6040, "name": "Xã Thất Khê", "province": "Lạng Sơn"},
        "address_line": household.address_line,
        "latitude": float(household.latitude),
        "longitude": float(household.longitude),
        "verified": False,
        "distance_m": round(distance, 1),
    }


def nearby(client: APIClient, **params):
    return client.get(NEARBY, {"lat": "22.257", "lng": "106.474", **params})


def test_nearby_lists_the_households_within_the_radius_nearest_first(around, citizen):
    response = nearby(client_for(citizen), radius=200)

    assert response.status_code == 200, response.content
    assert response.json() == [_expected(around[50]), _expected(around[150])]


def test_nearby_uses_200_metres_by_default_and_honours_the_limit(around, citizen):
    client = client_for(citizen)

    assert [h["code"] for h in nearby(client).json()] == [
        around[50].formatted_code,
        around[150].formatted_code,
    ]
    assert nearby(client, radius=1000, limit=1).json() == [_expected(around[50])]
    assert [h["distance_m"] for h in nearby(client, radius=1000).json()] == [
        _expected(around[m])["distance_m"] for m in (50, 150, 400)
    ]


def test_nearby_leaves_out_rejected_households(around, citizen, official):
    household_reject(actor=official, household=around[50], reason="Trùng")

    response = nearby(client_for(citizen), radius=200)

    assert response.json() == [_expected(around[150])]


@pytest.mark.parametrize(
    ("params", "fields"),
    [
        ({"radius": 1001}, {"radius": ["Ensure this value is less than or equal to 1000."]}),
        ({"radius": 0}, {"radius": ["Ensure this value is greater than or equal to 1."]}),
        ({"limit": 51}, {"limit": ["Ensure this value is less than or equal to 50."]}),
        ({"lat": ""}, {"lat": ["A valid number is required."]}),
    ],
)
def test_nearby_refuses_bad_parameters(citizen, params, fields):
    response = nearby(english_client(citizen), **params)

    assert (response.status_code, response.json()) == (
        400,
        {"code": "invalid", "message": "Invalid input.", "fields": fields},
    )


def test_nearby_needs_both_coordinates(citizen):
    response = english_client(citizen).get(NEARBY, {"lng": "106.474"})

    assert (response.status_code, response.json()) == (
        400,
        {
            "code": "invalid",
            "message": "Invalid input.",
            "fields": {"lat": ["This field is required."]},
        },
    )


def test_nearby_is_for_signed_in_users(around, api_client):
    response = nearby(api_client)

    assert (response.status_code, response.json()["code"]) == (401, "not_authenticated")


# --- statistics ------------------------------------------------------------------------------


@pytest.fixture
def coverage_data(ward, other_ward, citizen) -> None:
    """Ward 6040 (4 households expected): one verified and located, one verified without a
    location, one pending, one rejected. Ward 6001 (no estimate): one pending."""
    ward.estimated_households = 4
    ward.save(update_fields=["estimated_households"])
    HouseholdFactory(
        ward=ward, status="verified", latitude=CENTRE[0], longitude=CENTRE[1], head=citizen
    )
    HouseholdFactory(ward=ward, status="verified")
    HouseholdFactory(ward=ward, status="pending", latitude=CENTRE[0], longitude=CENTRE[1])
    HouseholdFactory(ward=ward, status="rejected", latitude=CENTRE[0], longitude=CENTRE[1])
    HouseholdFactory(ward=other_ward, status="pending")


THAT_KHE = {
    "ward": 6040,
    "name": "Xã Thất Khê",
    "estimated_households": 4,
    "registered": 3,
    "verified": 2,
    "with_digital_address": 1,
    "percent": 25.0,
    "verified_percent": 50.0,
}
DOAN_KET = {
    "ward": 6001,
    "name": "Xã Đoàn Kết",
    "estimated_households": None,
    "registered": 1,
    "verified": 0,
    "with_digital_address": 0,
    "percent": None,
    "verified_percent": None,
}


def test_public_statistics_count_per_ward(coverage_data, api_client):
    response = api_client.get(STATS, {"province": 20})

    assert response.status_code == 200, response.content
    assert {k: v for k, v in response.json().items() if k not in ("dossiers", "reports")} == {
        "total": {
            "ward": None,
            "name": "",
            "estimated_households": None,
            "registered": 4,
            "verified": 2,
            "with_digital_address": 1,
            "percent": None,
            "verified_percent": None,
        },
        "wards": [DOAN_KET, THAT_KHE],
    }
    assert api_client.get(STATS).json() == response.json()  # the deployment's province
    assert "Nguyễn Văn An".encode() not in response.content
    assert b"+8491" not in response.content


def test_a_ward_without_households_counts_zero(ward, api_client):
    response = api_client.get(STATS, {"province": 20})

    assert response.json()["wards"] == [
        {
            "ward": 6040,
            "name": "Xã Thất Khê",
            "estimated_households": None,
            "registered": 0,
            "verified": 0,
            "with_digital_address": 0,
            "percent": None,
            "verified_percent": None,
        }
    ]


def test_statistics_of_an_unknown_province_are_not_found(ward):
    response = english().get(STATS, {"province": 99})

    assert (response.status_code, response.json()) == (404, NOT_FOUND)


def test_an_official_sees_the_statistics_of_their_wards(coverage_data, official):
    response = client_for(official).get(OFFICIAL_STATS)

    assert response.status_code == 200, response.content
    assert {k: v for k, v in response.json().items() if k not in ("dossiers", "reports")} == {
        "total": {**THAT_KHE, "ward": None, "name": ""},
        "wards": [THAT_KHE],
    }


def test_the_province_administrator_sees_every_ward_of_the_province(coverage_data, province_admin):
    WardFactory(code=1, name="Phường Hoàn Kiếm", province__code=1, province__name="Hà Nội")

    response = client_for(province_admin).get(OFFICIAL_STATS)

    assert [w["ward"] for w in response.json()["wards"]] == [6001, 6040]
    assert response.json()["wards"] == [DOAN_KET, THAT_KHE]


def test_official_statistics_are_for_officials(coverage_data, citizen, api_client):
    assert client_for(citizen).get(OFFICIAL_STATS).status_code == 403
    assert api_client.get(OFFICIAL_STATS).status_code == 401


# --- the plate's page ------------------------------------------------------------------------


def test_the_plate_page_names_the_place_and_links_the_maps(api_client, household):
    response = api_client.get(f"/a/{household.formatted_code}", HTTP_ACCEPT_LANGUAGE="en")

    assert response.status_code == 200
    assert response["Content-Type"] == "text/html; charset=utf-8"
    assert response["Cache-Control"] == "public, max-age=3600"
    page = response.content.decode()
    assert household.formatted_code in page
    assert "Xã Thất Khê, Lạng Sơn" in page
    assert household.plus_code in page
    assert "Verified by the commune" in page
    assert (
        f"https://www.openstreetmap.org/?mlat={household.latitude}&amp;mlon={household.longitude}"
        in page
    )


def test_the_plate_page_shows_no_personal_data(api_client, household):
    head = household.members.get(relationship="head")
    page = api_client.get(f"/a/{household.code}").content.decode()

    assert head.full_name not in page
    assert head.user.phone not in page
    assert head.user.phone[3:] not in page


def test_the_plate_page_of_a_mistyped_code_says_so_in_vietnamese(api_client, household):
    wrong = household.code[:-1] + str((int(household.code[-1]) + 1) % 10)

    response = api_client.get(f"/a/{wrong}")

    assert response.status_code == 400
    assert "Chữ số cuối của mã địa chỉ này không khớp" in response.content.decode()


def test_the_plate_page_of_an_unknown_code_is_a_404(api_client, ward):
    assert api_client.get("/a/06040-99999-" + compose(6040, 99999)[-1]).status_code == 404
