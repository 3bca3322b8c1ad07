"""Anonymity never leaks: officials see no reporter of an anonymous report and their reads of a
named one are logged; only a province administrator learns who sent it (logged, against abuse);
the public map and other citizens see a de-identified report (no reporter, no address code, the
place rounded, personal numbers hidden, no citizen's own words); the officials' messages name
nobody; moderation decides what the public sees."""

from __future__ import annotations

import json
import math
from collections.abc import Iterator
from pathlib import Path

import pytest
from rest_framework.test import APIClient

from accounts.actions.officials import official_create_or_update
from accounts.models import DataAccessLog, Role, User
from notifications.models import Delivery, Notification
from services.models import FieldReport, ReportEvent, ReportFollower, ReportPhoto
from tests.conftest import client_for, with_units_query
from tests.digital_address.households import register
from tests.factories import PASSWORD, DeviceFactory
from tests.services.reports import (
    OFFICIAL_URL,
    PUBLIC_URL,
    SIMILAR_URL,
    URL,
    resolve,
    step,
    submit,
)

pytestmark = pytest.mark.django_db

ACCESS_LOG_URL = "/api/v1/me/access-log/"
NOT_FOUND = {"code": "not_found", "message": "Không tìm thấy.", "fields": {}}
FORBIDDEN = {
    "code": "permission_denied",
    "message": "Bạn không có quyền thực hiện thao tác này.",
    "fields": {},
}
# What must never reach the public or another citizen.
IDENTIFYING_KEYS = {"reporter", "anonymous", "address_code", "household"}
# The ``citizen`` fixture: Nguyễn Văn An, +84912345678.
CITIZEN_TRACES = ("Nguyễn Văn An", "+84912345678", "0912345678", "912345678", "+849*****678")
PUBLIC_STATUSES = ["accepted", "in_progress", "resolved", "closed", "closed_not_fixed"]


# --- helpers --------------------------------------------------------------------------------------


@pytest.fixture(autouse=True)
def media(settings, tmp_path) -> Path:
    settings.MEDIA_ROOT = tmp_path / "media"
    return settings.MEDIA_ROOT / "reports"


def keys(value: object) -> Iterator[str]:
    """Every key anywhere in a JSON document."""
    if isinstance(value, dict):
        for key, item in value.items():
            yield key
            yield from keys(item)
    elif isinstance(value, list):
        for item in value:
            yield from keys(item)


def moderate(official: User, report_id: int, **body):
    return step(client_for(official), report_id, "moderate", body)


def public(**params) -> list[dict]:
    response = APIClient().get(PUBLIC_URL, params)
    assert response.status_code == 200, response.content
    return response.json()["results"]


def reach(status: str, *, reporter: User, official: User, into: int | None = None, **fields) -> int:
    """A report of ``reporter`` moved by ``official`` (and its reporter) to ``status``."""
    c, o = client_for(reporter), client_for(official)
    report_id = submit(c, **fields)["id"]
    moves = {
        "submitted": [],
        "accepted": [("accept", {})],
        "in_progress": [("accept", {}), ("start", {})],
        "resolved": [("accept", {}), ("resolve", None)],
        "closed": [("accept", {}), ("resolve", None), ("confirm", {})],
        "closed_not_fixed": [("accept", {}), ("close", {"reason": "planned"})],
        "refused": [("refuse", {"reason": "Không thuộc thẩm quyền của xã."})],
        "merged": [("merge", {"into": into})],
    }[status]
    for name, body in moves:
        if name == "resolve":
            response = resolve(o, report_id)
        elif name == "confirm":
            response = c.post(f"{URL}{report_id}/confirm/", {}, format="json")
        else:
            response = step(o, report_id, name, body)
        assert response.status_code == 200, (name, response.content)
    assert FieldReport.objects.get(pk=report_id).status == status
    return report_id


def access_rows() -> list[tuple]:
    return list(
        DataAccessLog.objects.order_by("id").values_list(
            "official_id", "subject_id", "resource", "object_id", "purpose", "channel"
        )
    )


def metres(a: dict, b: dict) -> tuple[float, float]:
    """(east, north) metres from ``a`` to ``b``, flat at this scale."""
    lat = math.radians(float(a["latitude"]))
    north = math.radians(float(b["latitude"]) - float(a["latitude"])) * 6_371_008.8
    east = math.radians(float(b["longitude"]) - float(a["longitude"])) * 6_371_008.8 * math.cos(lat)
    return east, north


def moved(place: dict, east_m: float = 0.0, north_m: float = 0.0) -> dict:
    lat = float(place["latitude"])
    dlat = math.degrees(north_m / 6_371_008.8)
    dlng = math.degrees(east_m / (6_371_008.8 * math.cos(math.radians(lat))))
    return {
        "latitude": f"{lat + dlat:.6f}",
        "longitude": f"{float(place['longitude']) + dlng:.6f}",
    }


# --- 1. officials: no reporter of an anonymous report, every read of a named one logged -----------


def test_officials_see_no_reporter_of_an_anonymous_report_and_log_no_read(
    citizen, official, province_admin, ward_with_centre, django_assert_num_queries
):
    report_id = submit(client_for(citizen), anonymous="true")["id"]
    o = client_for(official)

    listed = o.get(OFFICIAL_URL)
    # The token's user, their permissions, their units (folded into the first on PostgreSQL),
    # the report, its photos, its timeline: no INSERT into the access log.
    with django_assert_num_queries(with_units_query(6)):
        detail = o.get(f"{OFFICIAL_URL}{report_id}/")
    by_admin = client_for(province_admin).get(f"{OFFICIAL_URL}{report_id}/")
    accepted = step(o, report_id, "accept")

    assert listed.status_code == 200, listed.content
    (row,) = listed.json()["results"]
    assert (row["id"], row["anonymous"]) == (report_id, True)
    assert IDENTIFYING_KEYS & set(keys(listed.json())) == {"anonymous"}
    for response in (detail, by_admin, accepted):
        assert response.status_code == 200, response.content
        body = response.json()
        assert (body["anonymous"], body["reporter"], body["address_code"]) == (True, None, None)
        text = json.dumps(body, ensure_ascii=False)
        assert not [trace for trace in CITIZEN_TRACES if trace in text]
    assert DataAccessLog.objects.count() == 0
    assert client_for(citizen).get(ACCESS_LOG_URL).json()["results"] == []


def test_each_official_read_of_a_named_report_is_logged_and_shown_to_the_citizen(
    citizen, other_citizen, official, ward_with_centre, django_assert_num_queries
):
    household = register(citizen)
    report_id = submit(client_for(citizen), address_code=household["code"])["id"]
    o = client_for(official)

    o.get(OFFICIAL_URL)  # the list names nobody: not a read of the reporter
    assert DataAccessLog.objects.count() == 0
    # As for an anonymous report, and one INSERT into the access log.
    with django_assert_num_queries(with_units_query(7)):
        first = o.get(f"{OFFICIAL_URL}{report_id}/")
    second = o.get(f"{OFFICIAL_URL}{report_id}/")

    for response in (first, second):
        assert response.status_code == 200, response.content
        body = response.json()
        assert (body["anonymous"], body["reporter"], body["address_code"]) == (
            False,
            {"id": citizen.pk, "full_name": "Nguyễn Văn An", "phone": "+849*****678"},
            household["code"],
        )
    read = (official.pk, citizen.pk, "report", str(report_id), "report_handling", "api")
    assert access_rows() == [read, read]
    log = client_for(citizen).get(ACCESS_LOG_URL)
    assert log.status_code == 200
    assert [
        (e["official_name"], e["resource"], e["purpose"], e["channel"])
        for e in log.json()["results"]
    ] == [("Lý Thị Cán Bộ", "report", "Xử lý phản ánh hiện trường", "api")] * 2
    assert client_for(other_citizen).get(ACCESS_LOG_URL).json()["results"] == []


# --- 2. who sent it: the province administrator only, logged --------------------------------------


def test_a_province_administrator_learns_who_sent_an_anonymous_report_and_it_is_logged(
    citizen, province_admin, ward_with_centre
):
    report_id = submit(client_for(citizen), anonymous="true")["id"]

    response = client_for(province_admin).get(f"{OFFICIAL_URL}{report_id}/reporter/")

    assert response.status_code == 200, response.content
    assert response.json() == {
        "id": citizen.pk,
        "full_name": "Nguyễn Văn An",
        "phone": "+84912345678",
    }
    assert access_rows() == [
        (province_admin.pk, citizen.pk, "report", str(report_id), "abuse_control", "api")
    ]
    log = client_for(citizen).get(ACCESS_LOG_URL).json()["results"]
    assert [(e["official_name"], e["purpose"]) for e in log] == [
        ("Vi Văn Tỉnh", "Chống lạm dụng (người gửi phản ánh ẩn danh)")
    ]


def test_nobody_else_learns_who_sent_a_report(
    citizen, other_citizen, official, other_official, ward_with_centre, api_client
):
    report_id = submit(client_for(citizen), anonymous="true")["id"]
    url = f"{OFFICIAL_URL}{report_id}/reporter/"

    answers = [client_for(u).get(url) for u in (official, other_official, other_citizen, citizen)]
    nobody = api_client.get(url)

    assert [r.status_code for r in answers] == [403, 403, 403, 403]
    assert [r.json() for r in answers] == [FORBIDDEN] * 4
    assert nobody.status_code == 401
    assert DataAccessLog.objects.count() == 0


# --- 3. the public map ----------------------------------------------------------------------------


@pytest.fixture
def every_status(citizen, official, ward_with_centre) -> dict[str, int]:
    """One report in each status, and a hidden accepted one; all at PLACE."""
    ids: dict[str, int] = {}
    for status in ["submitted", *PUBLIC_STATUSES, "refused"]:
        ids[status] = reach(status, reporter=citizen, official=official)
    ids["merged"] = reach("merged", reporter=citizen, official=official, into=ids["accepted"])
    ids["hidden"] = reach("accepted", reporter=citizen, official=official)
    assert moderate(official, ids["hidden"], hidden=True).status_code == 200
    return ids


def test_the_public_map_shows_only_acknowledged_reports_not_hidden_and_names_nobody(
    every_status, django_assert_num_queries
):
    # The page of reports with their category, unit and household, and their photos: no login.
    with django_assert_num_queries(2):
        results = public()

    assert [r["id"] for r in results] == sorted(
        (every_status[s] for s in PUBLIC_STATUSES), reverse=True
    )
    assert {r["status"] for r in results} == set(PUBLIC_STATUSES)
    assert IDENTIFYING_KEYS & set(keys(results)) == set()
    assert public(status="submitted") == public(status="refused") == public(status="merged") == []


def test_the_public_place_is_rounded_and_personal_numbers_hidden(
    citizen, official, ward_with_centre
):
    report_id = reach(
        "accepted",
        reporter=citizen,
        official=official,
        ward=6040,
        latitude="22.257650",
        longitude="106.474449",
        description="Cột đèn số 12 tắt. Gọi tôi 0912 345 678 hoặc +84 987.654.321, "
        "CCCD 001203004567.",
    )

    (shown,) = public()

    assert shown["id"] == report_id
    assert shown["place"] == {"latitude": 22.258, "longitude": 106.474}
    assert shown["description"] == "Cột đèn số 12 tắt. Gọi tôi ••• hoặc •••, CCCD •••."
    text = json.dumps(shown, ensure_ascii=False)
    assert "22.25765" not in text and "106.474449" not in text


def test_a_number_typed_right_after_its_label_is_hidden_too(citizen, official, ward_with_centre):
    reach(
        "accepted",
        reporter=citizen,
        official=official,
        description="Liên hệ SĐT0912345678, cccd001203004567.",
    )

    (shown,) = public()

    assert shown["description"] == "Liên hệ SĐT•••, cccd•••."


def test_hidden_text_and_hidden_photos_are_not_public(citizen, official, ward_with_centre):
    report_id = reach("accepted", reporter=citizen, official=official)
    second = submit(client_for(citizen), photos=2)["id"]
    step(client_for(official), second, "accept")
    kept, hidden = ReportPhoto.objects.filter(report_id=second).order_by("id")

    moderate(official, report_id, text_hidden=True)
    moderate(official, second, photos_hidden=[hidden.pk])

    by_id = {r["id"]: r for r in public()}
    assert by_id[report_id]["description"] is None
    assert [p["id"] for p in by_id[report_id]["photos"]] == list(
        ReportPhoto.objects.filter(report_id=report_id).values_list("id", flat=True)
    )
    assert by_id[second]["description"] == "Đèn đường hỏng trước nhà văn hoá thôn."
    assert [p["id"] for p in by_id[second]["photos"]] == [kept.pk]


def test_the_public_map_filters_by_box_category_and_status(citizen, official, ward_with_centre):
    here = reach("accepted", reporter=citizen, official=official)
    started = reach("in_progress", reporter=citizen, official=official)
    roads = reach("accepted", reporter=citizen, official=official, category="roads")
    farther = reach(
        "accepted", reporter=citizen, official=official, latitude="22.300000", longitude="106.5"
    )

    near_box = public(bbox="106.47,22.25,106.48,22.26")
    far_box = public(bbox="106.49,22.29,106.51,22.31")
    no_box = public()

    assert sorted(r["id"] for r in near_box) == sorted([here, started, roads])
    assert [r["id"] for r in far_box] == [farther]
    assert len(no_box) == 4
    assert [r["id"] for r in public(category="roads")] == [roads]
    assert sorted(r["id"] for r in public(category="lighting")) == sorted([here, started, farther])
    assert [r["id"] for r in public(status="in_progress")] == [started]
    assert public(category="nope") == []


@pytest.mark.parametrize(
    ("bbox", "message"),
    [
        ("106.47,22.25,106.48", "Bốn số: tây,nam,đông,bắc."),
        ("a,b,c,d", "Bốn số: tây,nam,đông,bắc."),
        (
            "106.48,22.25,106.47,22.26",
            "Tây nhỏ hơn đông và nam nhỏ hơn bắc, trong khoảng -180…180 và -90…90.",
        ),
        (
            "106.47,22.25,106.48,91",
            "Tây nhỏ hơn đông và nam nhỏ hơn bắc, trong khoảng -180…180 và -90…90.",
        ),
    ],
    ids=["three numbers", "not numbers", "west after east", "north beyond 90"],
)
def test_a_bad_box_is_refused(ward, api_client, bbox, message):
    response = api_client.get(PUBLIC_URL, {"bbox": bbox})

    assert response.status_code == 400, response.content
    assert response.json() == {
        "code": "invalid",
        "message": "Dữ liệu không hợp lệ.",
        "fields": {"bbox": [message]},
    }


# --- 4. another citizen, or nobody, reading a report ----------------------------------------------


@pytest.fixture
def disputed(citizen, official, ward_with_centre) -> int:
    """A public report (in progress again) whose timeline has an official's note with a phone
    number, and the citizen's own words disputing the fix."""
    c, o = client_for(citizen), client_for(official)
    household = register(citizen)
    report_id = submit(c, address_code=household["code"])["id"]
    assert (
        step(o, report_id, "accept", {"note": "Cán bộ phụ trách: 0987 654 321."}).status_code == 200
    )
    assert resolve(o, report_id).status_code == 200
    reason = {"reason": "Đèn vẫn chưa sáng, nhà tôi số 12, gọi 0912 345 678."}
    assert c.post(f"{URL}{report_id}/dispute/", reason, format="json").status_code == 200
    return report_id


def test_another_citizen_sees_a_public_report_de_identified(
    disputed, citizen, other_citizen, api_client
):
    theirs = client_for(other_citizen).get(f"{URL}{disputed}/")
    nobodys = api_client.get(f"{URL}{disputed}/")
    mine = client_for(citizen).get(f"{URL}{disputed}/")

    assert theirs.status_code == 200, theirs.content
    body = theirs.json()
    assert (body["is_mine"], body["following"], body["status"]) == (False, False, "in_progress")
    assert IDENTIFYING_KEYS & set(keys(body)) == set()
    assert body["place"] == {"latitude": 22.257, "longitude": 106.474}
    assert [(e["kind"], e["actor_role"], e["note"]) for e in body["timeline"]] == [
        ("submitted", "citizen", ""),
        ("accepted", "official", "Cán bộ phụ trách: •••."),
        ("resolved", "official", "Đã thay bóng đèn mới."),
        ("disputed", "citizen", ""),
    ]
    text = json.dumps(body, ensure_ascii=False)
    assert not [t for t in (*CITIZEN_TRACES, "Đèn vẫn chưa sáng", "0987") if t in text]
    assert nobodys.status_code == 200
    assert nobodys.json() == body
    # The reporter sees it whole: their own words and the official's number.
    assert mine.json()["is_mine"] is True
    assert [e["note"] for e in mine.json()["timeline"]] == [
        "",
        "Cán bộ phụ trách: 0987 654 321.",
        "Đã thay bóng đèn mới.",
        "Đèn vẫn chưa sáng, nhà tôi số 12, gọi 0912 345 678.",
    ]


def test_a_submitted_report_is_not_found_for_others_unless_they_follow_it(
    citizen, other_citizen, official, ward_with_centre, api_client
):
    report_id = submit(client_for(citizen))["id"]

    theirs = client_for(other_citizen).get(f"{URL}{report_id}/")
    nobodys = api_client.get(f"{URL}{report_id}/")

    assert (theirs.status_code, theirs.json()) == (404, NOT_FOUND)
    assert (nobodys.status_code, nobodys.json()) == (404, NOT_FOUND)
    # Their own report of the same problem merged into it: they follow it now.
    duplicate = submit(client_for(other_citizen))["id"]
    merged = step(client_for(official), duplicate, "merge", {"into": report_id})
    assert merged.status_code == 200, merged.content
    assert ReportFollower.objects.filter(report_id=report_id, user=other_citizen).exists()
    following = client_for(other_citizen).get(f"{URL}{report_id}/")
    assert following.status_code == 200, following.content
    body = following.json()
    assert (body["status"], body["is_mine"], body["following"]) == ("submitted", False, True)
    assert IDENTIFYING_KEYS & set(keys(body)) == set()
    assert api_client.get(f"{URL}{report_id}/").status_code == 404


def test_a_hidden_report_or_photo_is_found_only_by_its_reporter(
    citizen, other_citizen, official, ward_with_centre, api_client
):
    c = client_for(citizen)
    body = submit(c, photos=2)
    report_id, (shown, hidden) = body["id"], [p["id"] for p in body["photos"]]
    step(client_for(official), report_id, "accept")
    moderate(official, report_id, photos_hidden=[hidden])
    url = f"{URL}{report_id}/photos/"

    others = [client_for(other_citizen).get(f"{url}{hidden}/"), api_client.get(f"{url}{hidden}/")]
    visible = api_client.get(f"{url}{shown}/")
    own = c.get(f"{url}{hidden}/")

    assert [(r.status_code, r.json()) for r in others] == [(404, NOT_FOUND)] * 2
    assert (visible.status_code, visible["Cache-Control"]) == (200, "public, max-age=3600")
    assert (own.status_code, own["Content-Type"], own["Cache-Control"]) == (
        200,
        "image/jpeg",
        "private, no-store",
    )
    assert [p["id"] for p in api_client.get(f"{URL}{report_id}/").json()["photos"]] == [shown]
    assert [p["id"] for p in c.get(f"{URL}{report_id}/").json()["photos"]] == [shown, hidden]

    moderate(official, report_id, hidden=True)
    assert client_for(other_citizen).get(f"{URL}{report_id}/").status_code == 404
    assert api_client.get(f"{URL}{report_id}/").status_code == 404
    assert api_client.get(f"{url}{shown}/").status_code == 404
    assert c.get(f"{URL}{report_id}/").status_code == 200


def test_the_reports_i_follow_are_de_identified(citizen, other_citizen, official, ward_with_centre):
    household = register(citizen)
    report_id = reach(
        "accepted",
        reporter=citizen,
        official=official,
        address_code=household["code"],
        latitude="22.257400",
        longitude="106.474400",
        description="Gọi tôi 0912 345 678.",
    )
    assert client_for(other_citizen).post(f"{URL}{report_id}/follow/").status_code == 200

    response = client_for(other_citizen).get(URL, {"following": "true"})

    assert response.status_code == 200
    (row,) = response.json()["results"]
    assert row["id"] == report_id
    assert IDENTIFYING_KEYS & set(keys(row)) == set()
    assert row["description"] == "Gọi tôi •••."
    assert row["place"] == {"latitude": 22.257, "longitude": 106.474}


def test_a_transfer_reason_is_redacted_for_the_public(
    citizen, official, other_official, ward_with_centre, other_ward, api_client
):
    report_id = reach("accepted", reporter=citizen, official=official)
    reason = "Thuộc xã Đoàn Kết; người báo: 0912 345 678."
    # (Its answer is a 404, another bug: see test_report_submission.py.)
    step(client_for(official), report_id, "transfer", {"unit": 6001, "reason": reason})
    assert FieldReport.objects.filter(pk=report_id, unit_id=6001, status="submitted").exists()
    assert step(client_for(other_official), report_id, "accept").status_code == 200

    body = api_client.get(f"{URL}{report_id}/").json()

    transferred = [e for e in body["timeline"] if e["kind"] == "transferred"]
    assert [e["note"] for e in transferred] == ["Thuộc xã Đoàn Kết; người báo: •••."]
    assert [t["reason"] for t in body["transfers"]] == ["Thuộc xã Đoàn Kết; người báo: •••."]


def test_similar_distances_do_not_locate_a_report_better_than_its_public_place(
    citizen, other_citizen, ward_with_centre
):
    # About 44 m north and 41 m east of its public place (22.257, 106.474).
    exact = {"latitude": "22.257400", "longitude": "106.474400"}
    report_id = submit(client_for(citizen), **exact)["id"]
    rounded = {"latitude": "22.257000", "longitude": "106.474000"}
    probes = [rounded, moved(rounded, north_m=80), moved(rounded, east_m=80)]

    distances = []
    for probe in probes:
        answer = client_for(other_citizen).get(SIMILAR_URL, {"category": "lighting", **probe})
        (found,) = answer.json()
        assert (found["id"], found["place"]) == (
            report_id,
            {"latitude": 22.257, "longitude": 106.474},
        )
        distances.append(found["distance_m"])

    d0, d_north, d_east = distances
    # Trilateration in flat metres around the public place.
    north = (d0**2 - d_north**2 + 80**2) / 160
    east = (d0**2 - d_east**2 + 80**2) / 160
    true_east, true_north = metres(rounded, exact)
    assert math.hypot(east - true_east, north - true_north) > 20


# --- 5. the officials' messages name nobody -------------------------------------------------------


@pytest.mark.parametrize("anonymous", ["true", "false"])
def test_the_officials_are_told_of_a_new_report_without_the_reporters_name_or_phone(
    citizen, official, other_official, ward_with_centre, anonymous
):
    DeviceFactory(user=official)  # a push too: what a locked phone's screen shows
    report_id = submit(
        client_for(citizen),
        anonymous=anonymous,
        description="Đèn hỏng trước nhà ông An.",
    )["id"]

    notes = list(Notification.objects.filter(event="report.new"))

    assert [(n.user_id, n.title) for n in notes] == [
        (official.pk, f"Phản ánh mới #{report_id}: Chiếu sáng công cộng")
    ]
    report = FieldReport.objects.get()
    due = report.acknowledge_due.strftime("%d/%m/%Y")
    assert notes[0].body == f"Tiếp nhận hoặc từ chối trước ngày {due}."
    assert notes[0].data == {"report": report_id, "official": True}
    texts = [n.title + n.body for n in notes] + [
        d.title + d.body for d in Delivery.objects.filter(notification__in=notes)
    ]
    assert len(texts) == 2  # the inbox message and its push
    assert not [t for t in texts for trace in CITIZEN_TRACES if trace in t]
    # The citizen is told nothing of their own submission.
    assert not Notification.objects.filter(user=citizen).exists()


# --- 6. moderation --------------------------------------------------------------------------------


@pytest.fixture
def accepted(citizen, official, ward_with_centre) -> int:
    report_id = submit(client_for(citizen), photos=2)["id"]
    assert step(client_for(official), report_id, "accept").status_code == 200
    return report_id


def moderation_state(report_id: int) -> tuple:
    report = FieldReport.objects.get(pk=report_id)
    return (
        report.hidden,
        report.text_hidden,
        report.updated_at,
        list(ReportPhoto.objects.filter(report_id=report_id).order_by("id").values_list("hidden")),
        ReportEvent.objects.filter(report_id=report_id, kind="moderated").count(),
    )


def test_moderation_decides_what_the_public_map_shows(accepted, citizen, official):
    first, second = ReportPhoto.objects.filter(report_id=accepted).order_by("id")

    response = moderate(
        official,
        accepted,
        text_hidden=True,
        photos_hidden=[first.pk, second.pk],
        note="Ảnh có biển số xe.",
    )

    assert response.status_code == 200, response.content
    body = response.json()
    assert (body["hidden"], body["text_hidden"]) == (False, True)
    assert [p["hidden"] for p in body["photos"]] == [True, True]
    (shown,) = public()
    assert (shown["id"], shown["description"], shown["photos"]) == (accepted, None, [])

    moderate(official, accepted, text_hidden=False, photos_shown=[second.pk])
    (shown,) = public()
    assert shown["description"] == "Đèn đường hỏng trước nhà văn hoá thôn."
    assert [p["id"] for p in shown["photos"]] == [second.pk]

    moderate(official, accepted, hidden=True)
    assert public() == []
    moderate(official, accepted, hidden=False)
    assert [r["id"] for r in public()] == [accepted]


def test_the_moderation_is_in_the_officials_timeline_only(
    accepted, citizen, other_citizen, official, api_client
):
    moderate(official, accepted, text_hidden=True, note="Có số điện thoại riêng.")

    officials = client_for(official).get(f"{OFFICIAL_URL}{accepted}/").json()["timeline"]
    reporters = client_for(citizen).get(f"{URL}{accepted}/").json()["timeline"]
    others = client_for(other_citizen).get(f"{URL}{accepted}/").json()["timeline"]

    assert [(e["kind"], e["note"]) for e in officials] == [
        ("submitted", ""),
        ("accepted", ""),
        ("moderated", "Có số điện thoại riêng."),
    ]
    assert [e["kind"] for e in reporters] == ["submitted", "accepted"]
    assert [e["kind"] for e in others] == ["submitted", "accepted"]
    assert api_client.get(f"{URL}{accepted}/").json()["timeline"] == others


def test_moderating_an_unknown_photo_is_refused_and_changes_nothing(
    accepted, citizen, official, ward_with_centre
):
    other_report = submit(client_for(citizen))["id"]
    foreign = ReportPhoto.objects.get(report_id=other_report).pk
    before = moderation_state(accepted)

    response = moderate(official, accepted, hidden=True, photos_hidden=[foreign, 999_999])

    assert response.status_code == 400, response.content
    assert response.json() == {
        "code": "invalid",
        "message": "Dữ liệu không hợp lệ.",
        "fields": {"photos": [f"Không phải ảnh của phản ánh này: {foreign}, 999999."]},
    }
    assert moderation_state(accepted) == before
    assert ReportPhoto.objects.get(pk=foreign).hidden is False


def test_an_official_of_another_ward_or_without_moderation_cannot_moderate(
    accepted, other_official, ward_with_centre
):
    processing_only = official_create_or_update(
        phone="+84900000041",
        full_name="Mã Văn Xử Lý",
        password=PASSWORD,
        roles=[Role.PROCESSING],
        unit_codes=[6040],
    )
    assert processing_only.has_perm("services.handle_fieldreport")
    assert not processing_only.has_perm("services.moderate_fieldreport")
    photo_id = ReportPhoto.objects.filter(report_id=accepted).values_list("id", flat=True)[0]
    before = moderation_state(accepted)
    logged = DataAccessLog.objects.count()

    answers = [
        moderate(user, accepted, hidden=True, text_hidden=True, photos_hidden=[photo_id])
        for user in (other_official, processing_only)
    ]

    assert [(r.status_code, r.json()) for r in answers] == [(404, NOT_FOUND)] * 2
    assert moderation_state(accepted) == before
    assert DataAccessLog.objects.count() == logged
    assert [r["id"] for r in public()] == [accepted]


def test_a_citizen_cannot_moderate(accepted, citizen):
    response = client_for(citizen).post(
        f"{OFFICIAL_URL}{accepted}/moderate/", {"hidden": True}, format="json"
    )

    assert response.status_code == 403
    assert FieldReport.objects.get(pk=accepted).hidden is False
