"""Field reports: who may do what, and what each list costs.

The officials' endpoints refuse everybody but an official of the report's unit (or of its
province): no login 401, a citizen 403, an official of another unit 404, and nothing changes. The
queue lists the reports of the official's units, filtered by status, category, lateness and
escalation. A role without a permission is refused (a processing official does not moderate, a
broadcaster does not see reports, only a province administrator sees who sent a report). A
citizen sees another's report only once it is public, and never answers a fix they did not
report. The lists read a pinned number of queries, whatever the number of reports."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta

import pytest
from django.utils import timezone
from rest_framework.response import Response
from rest_framework.test import APIClient

from accounts.actions.officials import official_create_or_update
from accounts.models import AccessPurpose, DataAccessLog, Role, User
from digital_address.address_codes import format_code
from notifications.models import Notification
from services.models import (
    FieldReport,
    ReportEvent,
    ReportFollower,
    ReportPhoto,
    ReportStatus,
)
from tests.conftest import client_for, with_units_query
from tests.factories import PASSWORD, HouseholdFactory, ProvinceFactory, UserFactory
from tests.services.reports import (
    OFFICIAL_URL,
    PUBLIC_URL,
    URL,
    reload,
    resolve,
    step,
    submit,
)

pytestmark = pytest.mark.django_db

R = ReportStatus
CATEGORIES_URL = "/api/v1/report-categories/"
NOT_LOGGED_IN = {
    "code": "not_authenticated",
    "message": "Bạn chưa đăng nhập (thiếu thông tin xác thực).",
    "fields": {},
}
FORBIDDEN = {
    "code": "permission_denied",
    "message": "Bạn không có quyền thực hiện thao tác này.",
    "fields": {},
}
NOT_FOUND = {"code": "not_found", "message": "Không tìm thấy.", "fields": {}}


# --- actors and set-up ----------------------------------------------------------------------


@pytest.fixture
def other_province_admin(db) -> User:
    """The administrator of another province (Cao Bằng): every permission, none of our wards."""
    ProvinceFactory(code=4, name="Cao Bằng")
    return official_create_or_update(
        phone="+84900000051",
        full_name="Bế Văn Tỉnh Khác",
        password=PASSWORD,
        roles=[Role.PROVINCE_ADMIN],
        province_code=4,
    )


@pytest.fixture
def processor(ward) -> User:
    """An official of the ward with the processing role alone (no moderation)."""
    return official_create_or_update(
        phone="+84900000041",
        full_name="Lường Văn Xử Lý",
        password=PASSWORD,
        roles=[Role.PROCESSING],
        unit_codes=[ward.code],
    )


def client_as(request: pytest.FixtureRequest, actor: str) -> APIClient:
    """A client with no token for ``anonymous``, else for the fixture of that name."""
    if actor == "anonymous":
        return APIClient()
    return client_for(request.getfixturevalue(actor))


def ok(response: Response) -> dict:
    assert response.status_code == 200, response.content
    return response.json()


def state() -> dict:
    """Everything a refused request could have changed."""
    return {
        "reports": list(
            FieldReport.objects.order_by("pk").values_list(
                "pk",
                "status",
                "updated_at",
                "unit_id",
                "hidden",
                "text_hidden",
                "escalated",
                "satisfied",
                "followers_count",
                "merged_into_id",
            )
        ),
        "events": ReportEvent.objects.count(),
        "photos": list(ReportPhoto.objects.order_by("pk").values_list("pk", "hidden")),
        "followers": list(
            ReportFollower.objects.order_by("pk").values_list("report_id", "user_id")
        ),
        "notifications": Notification.objects.count(),
        "access_log": DataAccessLog.objects.count(),
    }


def ids(response: Response) -> list[int]:
    return [row["id"] for row in ok(response)["results"]]


# --- 1. every official endpoint, refused to everybody but the report's unit ----------------------


@dataclass(frozen=True)
class Target:
    report: int
    other: int  # another open report of the ward: what ``merge`` merges into
    photo: int  # the report's first photo


@dataclass(frozen=True)
class Case:
    name: str
    # The report's status first: one in which the ward's official may do it.
    status: str
    request: Callable[[APIClient, Target], Response]
    # The report's status after the ward's official did it.
    done: str


CASES = [
    Case("detail", R.SUBMITTED, lambda c, t: c.get(f"{OFFICIAL_URL}{t.report}/"), R.SUBMITTED),
    Case(
        "accept",
        R.SUBMITTED,
        lambda c, t: step(c, t.report, "accept", {"note": "Đã tiếp nhận."}),
        R.ACCEPTED,
    ),
    Case(
        "refuse",
        R.SUBMITTED,
        lambda c, t: step(
            c,
            t.report,
            "refuse",
            {"reason": "Không thuộc thẩm quyền của xã.", "referral": "Điện lực Lạng Sơn"},
        ),
        R.REFUSED,
    ),
    Case("start", R.ACCEPTED, lambda c, t: step(c, t.report, "start", {}), R.IN_PROGRESS),
    Case("resolve", R.ACCEPTED, lambda c, t: resolve(c, t.report), R.RESOLVED),
    Case(
        "close",
        R.ACCEPTED,
        lambda c, t: step(c, t.report, "close", {"reason": "planned"}),
        R.CLOSED_NOT_FIXED,
    ),
    Case(
        "transfer",
        R.SUBMITTED,
        lambda c, t: step(
            c, t.report, "transfer", {"unit": 6001, "reason": "Thuộc địa bàn xã Đoàn Kết."}
        ),
        R.SUBMITTED,
    ),
    Case(
        "merge",
        R.SUBMITTED,
        lambda c, t: step(c, t.report, "merge", {"into": t.other, "note": "Trùng phản ánh."}),
        R.MERGED,
    ),
    Case(
        "moderate",
        R.SUBMITTED,
        lambda c, t: step(c, t.report, "moderate", {"hidden": True, "photos_hidden": [t.photo]}),
        R.SUBMITTED,
    ),
    Case(
        "photo",
        R.SUBMITTED,
        lambda c, t: c.get(f"{OFFICIAL_URL}{t.report}/photos/{t.photo}/"),
        R.SUBMITTED,
    ),
    Case("reporter", R.SUBMITTED, lambda c, t: c.get(f"{OFFICIAL_URL}{t.report}/reporter/"), ""),
]
ENDPOINTS = [pytest.param(case, id=case.name) for case in CASES]


def target_for(case: Case, citizen: User, official: User) -> Target:
    """Two reports of the citizen at the ward; the first in the status the step needs."""
    client = client_for(citizen)
    report = submit(client, ward=6040)
    other = submit(client, ward=6040, description="Đèn đường ở đầu thôn cũng hỏng.")
    if case.status == R.ACCEPTED:
        ok(step(client_for(official), report["id"], "accept"))
    return Target(report["id"], other["id"], report["photos"][0]["id"])


def refusal(actor: str, case: Case) -> tuple[int, dict]:
    if actor == "anonymous":
        return 401, NOT_LOGGED_IN
    if actor in ("citizen", "other_citizen"):
        return 403, FORBIDDEN
    if actor == "other_official" and case.name == "reporter":
        # No official of a ward may see who sent a report: refused before the report is read.
        return 403, FORBIDDEN
    return 404, NOT_FOUND


@pytest.mark.parametrize(
    "actor", ["anonymous", "citizen", "other_citizen", "other_official", "other_province_admin"]
)
@pytest.mark.parametrize("case", ENDPOINTS)
def test_an_official_endpoint_refuses_anyone_outside_the_reports_unit_and_changes_nothing(
    request, case, actor, citizen, official, other_ward
):
    target = target_for(case, citizen, official)
    before = state()

    response = case.request(client_as(request, actor), target)

    assert (response.status_code, response.json()) == refusal(actor, case)
    assert state() == before


# The transfer's own: test_the_official_who_transfers_a_report_is_answered_with_it.
@pytest.mark.parametrize("case", [p for p in ENDPOINTS if p.id != "transfer"])
def test_the_same_requests_succeed_for_an_official_of_the_reports_unit(
    case, citizen, official, province_admin, other_ward
):
    target = target_for(case, citizen, official)
    actor = province_admin if case.name == "reporter" else official

    response = case.request(client_for(actor), target)

    assert response.status_code == 200
    if case.name == "reporter":
        assert response.json() == {
            "id": citizen.pk,
            "full_name": "Nguyễn Văn An",
            "phone": "+84912345678",
        }
    elif case.name == "photo":
        assert response["Content-Type"] == "image/jpeg"
    else:
        assert response.json()["status"] == case.done
    assert reload(target.report).status == (case.done or R.SUBMITTED)


def test_the_official_who_transfers_a_report_is_answered_with_it(citizen, official, other_ward):
    report = submit(client_for(citizen), ward=6040)["id"]

    response = step(
        client_for(official), report, "transfer", {"unit": 6001, "reason": "Thuộc xã Đoàn Kết."}
    )

    moved = reload(report)
    assert (moved.unit_id, moved.status) == (6001, R.SUBMITTED)
    assert response.status_code == 200, response.json()
    assert response.json()["unit"] == {"code": 6001, "name": "Xã Đoàn Kết"}


def test_an_official_cannot_reach_another_units_photo_through_a_report_of_theirs(
    citizen, other_citizen, official, other_ward
):
    mine = submit(client_for(citizen), ward=6040)["id"]
    theirs = submit(client_for(other_citizen), ward=6001)["photos"][0]["id"]
    client = client_for(official)

    photo = client.get(f"{OFFICIAL_URL}{mine}/photos/{theirs}/")
    hide = step(client, mine, "moderate", {"photos_hidden": [theirs]}, HTTP_ACCEPT_LANGUAGE="en")

    assert (photo.status_code, photo.json()) == (404, NOT_FOUND)
    assert (hide.status_code, hide.json()) == (
        400,
        {
            "code": "invalid",
            "message": "Invalid input.",
            "fields": {"photos": [f"Not a photo of this report: {theirs}."]},
        },
    )
    assert ReportPhoto.objects.get(pk=theirs).hidden is False
    assert ReportEvent.objects.filter(kind="moderated").exists() is False


def test_an_official_cannot_merge_a_report_into_another_units_report(
    citizen, other_citizen, official, other_ward
):
    mine = submit(client_for(citizen), ward=6040)["id"]
    theirs = submit(client_for(other_citizen), ward=6001)["id"]
    before = state()

    response = step(
        client_for(official), mine, "merge", {"into": theirs}, HTTP_ACCEPT_LANGUAGE="en"
    )

    assert (response.status_code, response.json()) == (
        400,
        {
            "code": "invalid",
            "message": "Invalid input.",
            "fields": {"into": ["No open report of your units has this number."]},
        },
    )
    assert state() == before


# --- 2. the officials' queue ----------------------------------------------------------------


# In the order they are made: the queue lists the newest first.
QUEUE = [
    "submitted_late",
    "submitted_due_today",
    "accepted_late",
    "accepted_due_today",
    "in_progress_late",
    "resolved_late",
    "refused_late",
    "escalated",
    "roads",
    "elsewhere_late",  # at the other ward (6001)
]
OURS = [name for name in QUEUE if name != "elsewhere_late"]


@pytest.fixture
def queue(citizen, other_citizen, official, other_ward) -> dict[str, int]:
    """Reports in every state at the ward, one of another category and one at the other ward;
    "late" ones past the date that matters in their status, "due_today" ones due today."""
    reporter, ours = client_for(citizen), client_for(official)
    made: dict[str, int] = {}
    for name in QUEUE:
        if name == "elsewhere_late":
            made[name] = submit(client_for(other_citizen), ward=6001)["id"]
        elif name == "roads":
            made[name] = submit(reporter, ward=6040, category="roads")["id"]
        else:
            made[name] = submit(reporter, ward=6040)["id"]
    for name in ("accepted_late", "accepted_due_today", "in_progress_late", "resolved_late"):
        ok(step(ours, made[name], "accept"))
    ok(step(ours, made["in_progress_late"], "start"))
    ok(resolve(ours, made["resolved_late"]))
    ok(step(ours, made["refused_late"], "refuse", {"reason": "Không thuộc thẩm quyền."}))
    ok(step(ours, made["escalated"], "accept"))
    ok(resolve(ours, made["escalated"]))
    ok(reporter.post(f"{URL}{made['escalated']}/dispute/", {"reason": "Đèn vẫn hỏng."}))

    today = timezone.localdate()
    yesterday = today - timedelta(days=1)

    def dates(names: list[str], **fields) -> None:
        FieldReport.objects.filter(pk__in=[made[n] for n in names]).update(**fields)

    dates(["submitted_late", "refused_late", "elsewhere_late"], acknowledge_due=yesterday)
    dates(["submitted_due_today"], acknowledge_due=today)
    dates(["accepted_late", "in_progress_late", "resolved_late"], resolve_due=yesterday)
    # Its acknowledgement date has passed too, which no longer matters once accepted.
    dates(["accepted_due_today"], acknowledge_due=yesterday, resolve_due=today)
    return made


def newest_first(queue: dict[str, int], names: list[str]) -> list[int]:
    return sorted((queue[name] for name in names), reverse=True)


def test_the_queue_of_a_ward_official_is_their_wards_and_says_which_are_overdue(queue, official):
    rows = ok(client_for(official).get(OFFICIAL_URL))["results"]

    assert [row["id"] for row in rows] == newest_first(queue, OURS)
    overdue = {name: row["overdue"] for row in rows for name in OURS if queue[name] == row["id"]}
    assert overdue == {
        "submitted_late": True,
        "submitted_due_today": False,
        "accepted_late": True,
        "accepted_due_today": False,
        "in_progress_late": True,
        "resolved_late": False,
        "refused_late": False,
        "escalated": False,
        "roads": False,
    }
    assert "reporter" not in rows[0]


def test_an_official_of_another_ward_sees_none_of_the_wards_reports(queue, other_official):
    assert ids(client_for(other_official).get(OFFICIAL_URL)) == [queue["elsewhere_late"]]


def test_a_province_administrator_sees_every_ward_of_the_province(queue, province_admin):
    assert ids(client_for(province_admin).get(OFFICIAL_URL)) == newest_first(queue, QUEUE)


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ({"status": "submitted"}, ["submitted_late", "submitted_due_today", "roads"]),
        ({"status": "accepted"}, ["accepted_late", "accepted_due_today"]),
        ({"status": "in_progress"}, ["in_progress_late", "escalated"]),
        ({"status": "merged"}, []),
        ({"category": "roads"}, ["roads"]),
        ({"category": "unknown"}, []),
        ({"overdue": "true"}, ["submitted_late", "accepted_late", "in_progress_late"]),
        ({"overdue": "false"}, OURS),
        ({"escalated": "true"}, ["escalated"]),
        ({"status": "submitted", "overdue": "true"}, ["submitted_late"]),
        ({"status": "in_progress", "escalated": "true"}, ["escalated"]),
    ],
)
def test_the_queue_filters(queue, official, query, expected):
    assert ids(client_for(official).get(OFFICIAL_URL, query)) == newest_first(queue, expected)


def test_the_queue_filters_within_the_officials_units_only(queue, other_official):
    response = client_for(other_official).get(OFFICIAL_URL, {"overdue": "true"})

    assert ids(response) == [queue["elsewhere_late"]]


@pytest.mark.parametrize(
    ("query", "fields"),
    [
        ({"status": "bogus"}, {"status": ['"bogus" không phải là lựa chọn hợp lệ.']}),
        ({"overdue": "maybe"}, {"overdue": ["Phải là giá trị đúng/sai hợp lệ."]}),
    ],
)
def test_the_queue_refuses_an_invalid_filter(citizen, official, query, fields):
    submit(client_for(citizen), ward=6040)
    before = state()

    response = client_for(official).get(OFFICIAL_URL, query)

    assert (response.status_code, response.json()) == (
        400,
        {"code": "invalid", "message": "Dữ liệu không hợp lệ.", "fields": fields},
    )
    assert state() == before


def test_the_queue_refuses_anonymous_requests_and_citizens(api_client, citizen):
    submit(client_for(citizen), ward=6040)

    anonymous = api_client.get(OFFICIAL_URL)
    mine = client_for(citizen).get(OFFICIAL_URL)

    assert (anonymous.status_code, anonymous.json()) == (401, NOT_LOGGED_IN)
    assert (mine.status_code, mine.json()) == (403, FORBIDDEN)


# --- 3. roles -------------------------------------------------------------------------------


def test_a_processing_official_handles_a_report_but_cannot_moderate_it(citizen, processor):
    report = submit(client_for(citizen), ward=6040)
    client = client_for(processor)

    accepted = step(client, report["id"], "accept")
    resolved = resolve(client, report["id"])
    before = state()
    moderated = step(
        client,
        report["id"],
        "moderate",
        {"hidden": True, "text_hidden": True, "photos_hidden": [report["photos"][0]["id"]]},
    )

    assert (accepted.status_code, accepted.json()["status"]) == (200, R.ACCEPTED)
    assert (resolved.status_code, resolved.json()["status"]) == (200, R.RESOLVED)
    assert (moderated.status_code, moderated.json()) == (404, NOT_FOUND)
    assert state() == before
    assert ReportEvent.objects.filter(kind="moderated").exists() is False


def test_the_desk_official_of_the_ward_moderates(citizen, official):
    report = submit(client_for(citizen), ward=6040)

    response = step(client_for(official), report["id"], "moderate", {"text_hidden": True})

    assert (response.status_code, response.json()["text_hidden"]) == (200, True)
    assert ReportEvent.objects.filter(kind="moderated", actor=official).count() == 1


def test_a_broadcasting_official_does_not_see_field_reports(citizen, broadcaster):
    report = submit(client_for(citizen), ward=6040)["id"]
    client = client_for(broadcaster)
    before = state()

    responses = [
        client.get(OFFICIAL_URL),
        client.get(f"{OFFICIAL_URL}{report}/"),
        step(client, report, "accept"),
        client.get(f"{OFFICIAL_URL}{report}/reporter/"),
    ]

    assert [(r.status_code, r.json()) for r in responses] == [(403, FORBIDDEN)] * 4
    assert state() == before


@pytest.mark.parametrize("anonymous", [False, True])
def test_only_a_province_administrator_sees_who_sent_a_report_and_the_read_is_logged(
    citizen, official, leader, province_admin, anonymous
):
    report = submit(client_for(citizen), ward=6040, anonymous=anonymous)["id"]
    before = state()

    refused = [client_for(u).get(f"{OFFICIAL_URL}{report}/reporter/") for u in (official, leader)]

    assert [(r.status_code, r.json()) for r in refused] == [(403, FORBIDDEN)] * 2
    assert state() == before

    response = client_for(province_admin).get(f"{OFFICIAL_URL}{report}/reporter/")

    assert (response.status_code, response.json()) == (
        200,
        {"id": citizen.pk, "full_name": "Nguyễn Văn An", "phone": "+84912345678"},
    )
    assert list(
        DataAccessLog.objects.values_list("official", "subject", "purpose", "object_id")
    ) == [(province_admin.pk, citizen.pk, AccessPurpose.ABUSE_CONTROL, str(report))]


def test_the_ward_official_and_the_leader_see_an_anonymous_report_without_its_reporter(
    citizen, official, leader
):
    report = submit(client_for(citizen), ward=6040, anonymous=True)["id"]

    bodies = [ok(client_for(u).get(f"{OFFICIAL_URL}{report}/")) for u in (official, leader)]

    assert [(b["anonymous"], b["reporter"], b["address_code"]) for b in bodies] == [
        (True, None, None)
    ] * 2
    assert DataAccessLog.objects.exists() is False


# --- 4. the citizen's endpoints, with another citizen ----------------------------------------


def test_another_citizen_sees_a_report_only_once_it_is_public(
    api_client, citizen, other_citizen, official
):
    report = submit(client_for(citizen), ward=6040)["id"]
    url = f"{URL}{report}/"

    before = [client_for(other_citizen).get(url), api_client.get(url)]
    ok(step(client_for(official), report, "accept"))
    after = ok(client_for(other_citizen).get(url))

    assert [(r.status_code, r.json()) for r in before] == [(404, NOT_FOUND)] * 2
    assert (after["id"], after["is_mine"], after["following"]) == (report, False, False)
    assert "reporter" not in after and "anonymous" not in after


def test_another_citizen_does_not_see_a_hidden_report(citizen, other_citizen, official):
    report = submit(client_for(citizen), ward=6040)["id"]
    ok(step(client_for(official), report, "accept"))
    ok(step(client_for(official), report, "moderate", {"hidden": True}))

    response = client_for(other_citizen).get(f"{URL}{report}/")

    assert (response.status_code, response.json()) == (404, NOT_FOUND)
    assert ok(client_for(citizen).get(f"{URL}{report}/"))["is_mine"] is True


@pytest.fixture
def resolved_and_followed(citizen, other_citizen, official) -> int:
    """The citizen's report, followed by the other citizen, then resolved."""
    report = submit(client_for(citizen), ward=6040)["id"]
    ok(step(client_for(official), report, "accept"))
    ok(client_for(other_citizen).post(f"{URL}{report}/follow/"))
    ok(resolve(client_for(official), report))
    return report


ANSWERS = [
    pytest.param("confirm", {"note": "Đèn đã sáng."}, R.CLOSED, id="confirm"),
    pytest.param("dispute", {"reason": "Đèn vẫn không sáng."}, R.IN_PROGRESS, id="dispute"),
]


@pytest.mark.parametrize("actor", ["other_citizen", "stranger"])
@pytest.mark.parametrize(("answer", "body", "done"), ANSWERS)
def test_only_the_reporter_answers_a_fix(
    request, resolved_and_followed, citizen, answer, body, done, actor
):
    report = resolved_and_followed
    someone = (
        client_for(UserFactory(phone="+84911111111", full_name="Hà Thị Lạ"))
        if actor == "stranger"
        else client_as(request, actor)
    )
    before = state()

    refused = someone.post(f"{URL}{report}/{answer}/", body)

    assert (refused.status_code, refused.json()) == (404, NOT_FOUND)
    assert state() == before
    # The same request, by the reporter.
    answered = client_for(citizen).post(f"{URL}{report}/{answer}/", body)
    assert (answered.status_code, reload(report).status) == (200, done)


def test_a_citizen_cannot_follow_a_report_they_cannot_see(citizen, other_citizen, official):
    # A submitted report may be followed (reports/similar/ offers it): a hidden one may not.
    report = submit(client_for(citizen), ward=6040)["id"]
    ok(step(client_for(official), report, "accept"))
    ok(step(client_for(official), report, "moderate", {"hidden": True}))
    client = client_for(other_citizen)
    before = state()

    responses = [client.post(f"{URL}{report}/follow/"), client.delete(f"{URL}{report}/follow/")]

    assert [(r.status_code, r.json()) for r in responses] == [(404, NOT_FOUND)] * 2
    assert state() == before


def test_a_citizen_follows_a_public_report(citizen, other_citizen, official):
    report = submit(client_for(citizen), ward=6040)["id"]
    ok(step(client_for(official), report, "accept"))

    body = ok(client_for(other_citizen).post(f"{URL}{report}/follow/"))

    assert (body["following"], body["followers_count"]) == (True, 1)
    assert list(ReportFollower.objects.values_list("report", "user")) == [
        (report, other_citizen.pk)
    ]


def test_a_photo_of_a_report_not_yet_public_is_only_for_its_reporter(
    api_client, citizen, other_citizen, official
):
    report = submit(client_for(citizen), ward=6040)
    url = f"{URL}{report['id']}/photos/{report['photos'][0]['id']}/"

    refused = [client_for(other_citizen).get(url), api_client.get(url)]
    mine = client_for(citizen).get(url)
    ok(step(client_for(official), report["id"], "accept"))
    public = client_for(other_citizen).get(url)

    assert [(r.status_code, r.json()) for r in refused] == [(404, NOT_FOUND)] * 2
    assert (mine.status_code, mine["Cache-Control"]) == (200, "public, max-age=3600")
    assert (public.status_code, public["Content-Type"]) == (200, "image/jpeg")


def test_a_hidden_photo_of_a_public_report_is_only_for_its_reporter(
    api_client, citizen, other_citizen, official
):
    report = submit(client_for(citizen), ward=6040, photos=2)
    first, second = (p["id"] for p in report["photos"])
    ok(step(client_for(official), report["id"], "accept"))
    ok(step(client_for(official), report["id"], "moderate", {"photos_hidden": [first]}))
    url = f"{URL}{report['id']}/photos/{first}/"

    refused = [client_for(other_citizen).get(url), api_client.get(url)]
    mine = client_for(citizen).get(url)
    shown = client_for(other_citizen).get(f"{URL}{report['id']}/photos/{second}/")

    assert [(r.status_code, r.json()) for r in refused] == [(404, NOT_FOUND)] * 2
    assert (mine.status_code, mine["Cache-Control"]) == (200, "private, no-store")
    assert shown.status_code == 200


def test_a_public_report_does_not_lend_its_url_to_another_reports_photo(
    citizen, other_citizen, official, other_ward
):
    public = submit(client_for(citizen), ward=6040)["id"]
    ok(step(client_for(official), public, "accept"))
    hidden_photo = submit(client_for(other_citizen), ward=6001)["photos"][0]["id"]

    response = client_for(citizen).get(f"{URL}{public}/photos/{hidden_photo}/")

    assert (response.status_code, response.json()) == (404, NOT_FOUND)


def test_my_reports_never_list_another_citizens(citizen, other_citizen, official, other_ward):
    mine = [submit(client_for(citizen), ward=6040)["id"] for _ in range(2)]
    theirs = submit(client_for(other_citizen), ward=6001)["id"]
    # Public now, on the map: still not in the other citizen's list.
    ok(step(client_for(official), mine[0], "accept"))

    assert ids(client_for(citizen).get(URL)) == mine[::-1]
    assert ids(client_for(other_citizen).get(URL)) == [theirs]
    assert ids(client_for(other_citizen).get(URL, {"following": "true"})) == []


def test_a_follower_sees_a_followed_report_de_identified_in_the_list(
    citizen, other_citizen, official, ward
):
    household = HouseholdFactory(ward=ward, head=citizen)
    report = submit(
        client_for(citizen),
        photos=2,
        address_code=format_code(household.code),
        latitude="22.257449",
        longitude="106.474351",
        description="Đèn hỏng, gọi tôi 0912345678.",
    )
    ok(step(client_for(official), report["id"], "accept"))
    hidden = report["photos"][0]["id"]
    ok(step(client_for(official), report["id"], "moderate", {"photos_hidden": [hidden]}))
    follower = client_for(other_citizen)
    ok(follower.post(f"{URL}{report['id']}/follow/"))

    [row] = ok(follower.get(URL, {"following": "true"}))["results"]

    assert {
        "description": row["description"],
        "place": row["place"],
        "address_code": row.get("address_code"),
        "photos": [p["id"] for p in row["photos"]],
    } == {
        "description": "Đèn hỏng, gọi tôi •••.",
        "place": {"latitude": 22.257, "longitude": 106.474},
        "address_code": None,
        "photos": [report["photos"][1]["id"]],
    }


# --- 5. pinned query counts -----------------------------------------------------------------


@pytest.fixture
def public_reports(request, citizen, official) -> list[int]:
    """``count`` reports of the citizen at the ward, two photos each, accepted (public)."""
    reports = []
    for _ in range(request.param):
        report = submit(client_for(citizen), ward=6040, photos=2)["id"]
        ok(step(client_for(official), report, "accept"))
        reports.append(report)
    return reports


COUNTS = pytest.mark.parametrize("public_reports", [1, 5], indirect=True)


@COUNTS
def test_the_queue_reads_a_fixed_number_of_queries(
    public_reports, official, django_assert_num_queries
):
    client = client_for(official)

    # 1 the token's user with their official profile; 2 their permissions (view_fieldreport),
    # one statement; 3 their wards (the link table; no province to check); 4 the page of reports
    # with their categories and units (cursor pagination: no COUNT).
    with django_assert_num_queries(with_units_query(4)):
        response = client.get(OFFICIAL_URL)

    assert ids(response) == public_reports[::-1]


@COUNTS
def test_the_officials_detail_reads_a_fixed_number_of_queries(
    public_reports, official, django_assert_num_queries
):
    client = client_for(official)
    logged = DataAccessLog.objects.count()

    # 1 the token's user with their official profile; 2 their permissions; 3 their wards; 4 the
    # report with its category, unit, household and reporter; 5 its photos; 6 its timeline with
    # the events' units; 7 the access-log row of the reporter's read.
    with django_assert_num_queries(with_units_query(7)):
        response = client.get(f"{OFFICIAL_URL}{public_reports[-1]}/")

    body = ok(response)
    assert (len(body["photos"]), len(body["timeline"])) == (2, 2)
    assert DataAccessLog.objects.count() == logged + 1


@COUNTS
def test_the_public_map_reads_a_fixed_number_of_queries(
    public_reports, api_client, django_assert_num_queries
):
    # 1 the page of public reports with their categories, units and households; 2 their photos.
    # No authentication on the public map.
    with django_assert_num_queries(2):
        response = api_client.get(PUBLIC_URL)

    rows = ok(response)["results"]
    assert [(row["id"], len(row["photos"])) for row in rows] == [
        (pk, 2) for pk in public_reports[::-1]
    ]


@COUNTS
def test_my_reports_read_a_fixed_number_of_queries(
    public_reports, citizen, django_assert_num_queries
):
    client = client_for(citizen)

    # 1 the token's user; 2 the page of their reports with categories, units and households;
    # 3 their photos.
    with django_assert_num_queries(3):
        response = client.get(URL)

    rows = ok(response)["results"]
    assert [(row["id"], len(row["photos"])) for row in rows] == [
        (pk, 2) for pk in public_reports[::-1]
    ]


@COUNTS
def test_the_categories_read_one_query(public_reports, api_client, django_assert_num_queries):
    # 1 the active categories, in order. No authentication.
    with django_assert_num_queries(1):
        response = api_client.get(CATEGORIES_URL)

    assert [row["code"] for row in ok(response)] == [
        "roads",
        "lighting",
        "waste",
        "water",
        "security",
        "environment",
    ]
