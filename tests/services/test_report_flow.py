"""Moving a field report: the officials accept, refuse, start, resolve, close without a fix,
transfer and merge; the reporter confirms or disputes the fix within REPORT_CONFIRM_DAYS; the
fixes nobody answered close by themselves. One guard (409) over the declared moves, the evidence
a fix needs, the deadlines in working days, following, and who is told of each step."""

from __future__ import annotations

import io
from collections.abc import Callable
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from celery.schedules import crontab
from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone
from rest_framework.response import Response

from accounts.actions.officials import official_create_or_update
from accounts.models import Role, User
from config.celery import app
from notifications.models import Notification
from services import report_flow as flow
from services.errors import InvalidForm, ReportTransitionRefused
from services.models import (
    FieldReport,
    PhotoKind,
    ReportCategory,
    ReportEvent,
    ReportFollower,
    ReportPhoto,
    ReportStatus,
)
from services.tasks import close_unconfirmed_reports
from tests.conftest import client_for
from tests.factories import PASSWORD, UserFactory
from tests.services.reports import OFFICIAL_URL, URL, photo, reload, step, submit

pytestmark = pytest.mark.django_db

R = ReportStatus
LOCAL = ZoneInfo("Asia/Ho_Chi_Minh")
NOT_FOUND = {"code": "not_found", "message": "Không tìm thấy.", "fields": {}}
FORBIDDEN = {
    "code": "permission_denied",
    "message": "Bạn không có quyền thực hiện thao tác này.",
    "fields": {},
}
REFUSED_MOVE = {
    "code": "invalid_transition",
    "message": "Không thể thực hiện việc này ở trạng thái hiện tại của phản ánh.",
    "fields": {},
}
REFUSED_MOVE_EN = {
    "code": "invalid_transition",
    "message": "This cannot be done in the report's current status.",
    "fields": {},
}
PERIOD_OVER = {
    "code": "confirmation_period_over",
    "message": "Đã hết thời hạn xác nhận hoặc phản đối kết quả xử lý này.",
    "fields": {},
}
REQUIRED = "Trường này là bắt buộc."
NO_EVIDENCE = "Hãy thêm ít nhất một ảnh hoặc tài liệu minh chứng kết quả xử lý."
NOT_EVIDENCE = "Chỉ chấp nhận ảnh JPEG, PNG hoặc tài liệu PDF."
THAT_KHE = {"code": 6040, "name": "Xã Thất Khê"}
DOAN_KET = {"code": 6001, "name": "Xã Đoàn Kết"}
LIGHTING = "Chiếu sáng công cộng"
FIXED = "Đã thay bóng đèn mới."


def invalid(**fields: list[str]) -> dict:
    return {"code": "invalid", "message": "Dữ liệu không hợp lệ.", "fields": fields}


def at(day: int, hour: int, minute: int = 0, second: int = 0) -> datetime:
    """A moment of March 2026, local time (2 March is a Monday; no holiday that month)."""
    return datetime(2026, 3, day, hour, minute, second, tzinfo=LOCAL)


def iso(moment: datetime) -> str:
    return moment.isoformat()


@pytest.fixture
def clock(monkeypatch) -> Callable[[datetime], None]:
    """Set the outside world's clock (timezone.now) to a fixed moment."""

    def set_clock(moment: datetime) -> None:
        monkeypatch.setattr(timezone, "now", lambda: moment)

    return set_clock


@pytest.fixture
def neighbour(ward) -> User:
    """A third citizen of the ward, who follows reports."""
    return UserFactory(phone="+84911111111", full_name="Phạm Thị Hàng Xóm", ward=ward)


# --- through the API -----------------------------------------------------------------------------

BODIES: dict[str, dict] = {
    "accept": {"note": "Đã ghi nhận."},
    "refuse": {"reason": "Không thuộc thẩm quyền của xã.", "referral": "Điện lực Lạng Sơn"},
    "start": {"note": "Đội điện đang thay bóng."},
    "close": {"reason": "planned"},
    "transfer": {"unit": 6001, "reason": "Thuộc địa bàn xã Đoàn Kết."},
    "confirm": {"note": "Đèn đã sáng."},
    "dispute": {"reason": "Đèn vẫn chưa sáng."},
}
# The moves through the API that bring a new report to each status.
PATHS: dict[str, list[str]] = {
    R.SUBMITTED: [],
    R.ACCEPTED: ["accept"],
    R.IN_PROGRESS: ["accept", "start"],
    R.RESOLVED: ["accept", "start", "resolve"],
    R.CLOSED: ["accept", "start", "resolve", "confirm"],
    R.REFUSED: ["refuse"],
    R.CLOSED_NOT_FIXED: ["accept", "close"],
}


def new(reporter: User, ward: int = 6040) -> int:
    """POST reports/ as ``reporter``: a lighting report in the commune ``ward``; its id."""
    return submit(client_for(reporter), ward=ward)["id"]


def evidence(count: int = 1) -> list[io.BytesIO]:
    return [photo(name=f"ket-qua-{n}.jpg") for n in range(count)]


def perform(move: str, report_id: int, *, reporter: User, official: User, **extra) -> Response:
    """One move through the API with a valid body: the reporter's (confirm, dispute) or the
    official's."""
    if move in ("confirm", "dispute"):
        return client_for(reporter).post(
            f"{URL}{report_id}/{move}/", BODIES[move], format="json", **extra
        )
    if move == "resolve":
        body = {"note": FIXED, "files": evidence()}
        return step(client_for(official), report_id, "resolve", body, format="multipart", **extra)
    return step(client_for(official), report_id, move, BODIES[move], **extra)


def advance(report_id: int, moves: list[str], *, reporter: User, official: User) -> None:
    for move in moves:
        response = perform(move, report_id, reporter=reporter, official=official)
        assert response.status_code == 200, (move, response.content)


def reported(status: str, *, reporter: User, official: User) -> int:
    """A report of ``reporter`` in the ward 6040 brought to ``status`` through the API."""
    report_id = new(reporter)
    if status == R.MERGED:
        target = new(reporter)
        response = step(client_for(official), report_id, "merge", {"into": target})
        assert response.status_code == 200, response.content
        return report_id
    advance(report_id, PATHS[status], reporter=reporter, official=official)
    assert reload(report_id).status == status
    return report_id


def snapshot(report_id: int) -> tuple:
    """Everything a step writes: the report's row, its timeline, its files, its followers, and
    every inbox."""
    return (
        FieldReport.objects.filter(pk=report_id).values().get(),
        list(ReportEvent.objects.filter(report_id=report_id).values_list("id", "kind")),
        list(ReportPhoto.objects.filter(report_id=report_id).values_list("id", "kind")),
        list(ReportFollower.objects.filter(report_id=report_id).values_list("user_id", flat=True)),
        list(Notification.objects.order_by("id").values_list("id", "user_id", "event")),
    )


def kinds(report_id: int) -> list[str]:
    return list(
        ReportEvent.objects.filter(report_id=report_id)
        .order_by("id")
        .values_list("kind", flat=True)
    )


def last_event(report_id: int) -> ReportEvent:
    return ReportEvent.objects.filter(report_id=report_id).order_by("id").last()


def inbox(user: User) -> list[str]:
    """The events of the user's messages, oldest first."""
    return list(
        Notification.objects.filter(user=user).order_by("id").values_list("event", flat=True)
    )


def messages(user: User) -> list[tuple[str, str, str]]:
    return list(
        Notification.objects.filter(user=user).order_by("id").values_list("event", "title", "body")
    )


def evidence_rows(report_id: int) -> int:
    return ReportPhoto.objects.filter(report_id=report_id, kind=PhotoKind.EVIDENCE).count()


# --- 1. the happy path ---------------------------------------------------------------------------


def test_accepted_started_resolved_with_evidence_and_confirmed(citizen, official, clock):
    clock(at(6, 10))
    created = submit(client_for(citizen), ward=6040)
    report_id = created["id"]
    assert (created["status"], created["unit"], created["satisfied"]) == (
        "submitted",
        THAT_KHE,
        None,
    )

    clock(at(9, 8))
    accepted = step(client_for(official), report_id, "accept", {"note": " Đã ghi nhận. "})

    assert accepted.status_code == 200
    body = accepted.json()
    assert (body["status"], body["acknowledged_at"], body["acknowledged_on_time"]) == (
        "accepted",
        "2026-03-09T08:00:00+07:00",
        True,
    )

    clock(at(10, 9))
    started = step(client_for(official), report_id, "start", {"note": "Đội điện đang thay bóng."})

    assert (started.status_code, started.json()["status"]) == (200, "in_progress")

    clock(at(11, 14))
    resolved = step(
        client_for(official),
        report_id,
        "resolve",
        {"note": FIXED, "files": evidence(2)},
        format="multipart",
    )

    assert resolved.status_code == 200
    body = resolved.json()
    assert (body["status"], body["resolved_at"], body["resolved_on_time"]) == (
        "resolved",
        "2026-03-11T14:00:00+07:00",
        True,
    )
    assert body["confirm_until"] == "2026-03-18T14:00:00+07:00"
    assert [(p["kind"], p["content_type"]) for p in body["photos"]] == [
        ("report", "image/jpeg"),
        ("evidence", "image/jpeg"),
        ("evidence", "image/jpeg"),
    ]

    clock(at(12, 9))
    confirmed = client_for(citizen).post(
        f"{URL}{report_id}/confirm/", {"note": "Đèn đã sáng."}, format="json"
    )

    assert confirmed.status_code == 200
    body = confirmed.json()
    assert (body["status"], body["satisfied"], body["confirm_until"]) == ("closed", True, None)
    assert [e["kind"] for e in body["timeline"]] == [
        "submitted",
        "accepted",
        "started",
        "resolved",
        "confirmed",
    ]
    assert [(e["status"], e["actor_role"], e["note"], e["at"]) for e in body["timeline"]] == [
        ("submitted", "citizen", "", "2026-03-06T10:00:00+07:00"),
        ("accepted", "official", "Đã ghi nhận.", "2026-03-09T08:00:00+07:00"),
        ("in_progress", "official", "Đội điện đang thay bóng.", "2026-03-10T09:00:00+07:00"),
        ("resolved", "official", FIXED, "2026-03-11T14:00:00+07:00"),
        ("closed", "citizen", "Đèn đã sáng.", "2026-03-12T09:00:00+07:00"),
    ]
    report = reload(report_id)
    assert (report.status, report.satisfied, report.closed_at, report.resolved_at) == (
        R.CLOSED,
        True,
        at(12, 9),
        at(11, 14),
    )
    assert list(
        ReportEvent.objects.filter(report_id=report_id)
        .order_by("id")
        .values_list("from_status", "to_status", "actor_id", "unit_id")
    ) == [
        ("", R.SUBMITTED, citizen.pk, 6040),
        (R.SUBMITTED, R.ACCEPTED, official.pk, 6040),
        (R.ACCEPTED, R.IN_PROGRESS, official.pk, 6040),
        (R.IN_PROGRESS, R.RESOLVED, official.pk, 6040),
        (R.RESOLVED, R.CLOSED, citizen.pk, 6040),
    ]
    assert evidence_rows(report_id) == 2
    assert inbox(citizen) == ["report.accepted", "report.started", "report.resolved"]


def test_an_accepted_report_may_be_resolved_without_being_started(citizen, official):
    report_id = reported(R.ACCEPTED, reporter=citizen, official=official)

    response = perform("resolve", report_id, reporter=citizen, official=official)

    assert (response.status_code, response.json()["status"]) == (200, "resolved")
    assert kinds(report_id) == ["submitted", "accepted", "resolved"]
    assert last_event(report_id).from_status == R.ACCEPTED


# --- 2. one guard over the declared moves --------------------------------------------------------


@pytest.mark.parametrize(
    ("status", "move"),
    [
        (R.SUBMITTED, "start"),
        (R.SUBMITTED, "resolve"),
        (R.SUBMITTED, "close"),
        (R.SUBMITTED, "confirm"),
        (R.SUBMITTED, "dispute"),
        (R.ACCEPTED, "accept"),
        (R.ACCEPTED, "refuse"),
        (R.ACCEPTED, "confirm"),
        (R.IN_PROGRESS, "start"),
        (R.IN_PROGRESS, "accept"),
        (R.IN_PROGRESS, "dispute"),
        (R.RESOLVED, "accept"),
        (R.RESOLVED, "resolve"),
        (R.RESOLVED, "close"),
        (R.RESOLVED, "transfer"),
        (R.REFUSED, "accept"),
        (R.REFUSED, "resolve"),
        (R.REFUSED, "transfer"),
        (R.CLOSED, "accept"),
        (R.CLOSED, "confirm"),
        (R.CLOSED, "dispute"),
        (R.CLOSED, "close"),
        (R.CLOSED_NOT_FIXED, "start"),
        (R.CLOSED_NOT_FIXED, "transfer"),
        (R.MERGED, "accept"),
        (R.MERGED, "refuse"),
    ],
)
def test_an_undeclared_move_is_refused_and_changes_nothing(
    citizen, official, other_ward, status, move
):
    report_id = reported(status, reporter=citizen, official=official)
    before = snapshot(report_id)

    response = perform(move, report_id, reporter=citizen, official=official)

    assert (response.status_code, response.json()) == (409, REFUSED_MOVE)
    assert snapshot(report_id) == before
    assert reload(report_id).status == status


def test_the_refusal_speaks_the_readers_language(citizen, official):
    report_id = reported(R.SUBMITTED, reporter=citizen, official=official)
    before = snapshot(report_id)

    by_official = perform(
        "start", report_id, reporter=citizen, official=official, HTTP_ACCEPT_LANGUAGE="en"
    )
    by_citizen = perform(
        "confirm", report_id, reporter=citizen, official=official, HTTP_ACCEPT_LANGUAGE="en"
    )

    assert (by_official.status_code, by_official.json()) == (409, REFUSED_MOVE_EN)
    assert (by_citizen.status_code, by_citizen.json()) == (409, REFUSED_MOVE_EN)
    assert snapshot(report_id) == before


def test_an_official_cannot_start_work_again_on_a_resolved_report(citizen, official):
    report_id = reported(R.RESOLVED, reporter=citizen, official=official)
    before = snapshot(report_id)

    response = perform("start", report_id, reporter=citizen, official=official)

    # Only the citizen's dispute takes a fix back: the 7 days to confirm stay theirs.
    assert (response.status_code, response.json()) == (409, REFUSED_MOVE)
    assert snapshot(report_id) == before


# --- the guard, action by action (every status × every action) -----------------------------------

# What each action does, and the only statuses it may start from.
RESULT = {
    "accept": R.ACCEPTED,
    "refuse": R.REFUSED,
    "start": R.IN_PROGRESS,
    "resolve": R.RESOLVED,
    "close": R.CLOSED_NOT_FIXED,
    "confirm": R.CLOSED,
    "dispute": R.IN_PROGRESS,
    "transfer": R.SUBMITTED,
    "merge": R.MERGED,
}
ALLOWED: dict[str, set[str]] = {
    R.SUBMITTED: {"accept", "refuse", "transfer", "merge"},
    R.ACCEPTED: {"start", "resolve", "close", "transfer", "merge"},
    R.IN_PROGRESS: {"resolve", "close", "transfer", "merge"},
    R.RESOLVED: {"confirm", "dispute"},
    R.REFUSED: set(),
    R.CLOSED: set(),
    R.CLOSED_NOT_FIXED: set(),
    R.MERGED: set(),
}
TABLE = [
    pytest.param(status, action, id=f"{status}-{action}") for status in ALLOWED for action in RESULT
]


def upload(name: str = "anh.jpg") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, photo().getvalue(), content_type="image/jpeg")


def filed(reporter: User, ward_code: int = 6040) -> FieldReport:
    report, created = flow.report_submit(
        reporter=reporter,
        category=ReportCategory.objects.get(code="lighting"),
        description="Đèn đường hỏng.",
        photos=[upload()],
        ward_code=ward_code,
    )
    assert created
    return report


def act(action: str, report: FieldReport, *, reporter: User, official: User, into: int = 0):
    match action:
        case "accept":
            return flow.report_accept(actor=official, report=report)
        case "refuse":
            return flow.report_refuse(actor=official, report=report, reason="Không thuộc xã.")
        case "start":
            return flow.report_start(actor=official, report=report)
        case "resolve":
            return flow.report_resolve(actor=official, report=report, note=FIXED, files=[upload()])
        case "close":
            return flow.report_close_not_fixed(actor=official, report=report, reason="planned")
        case "confirm":
            return flow.report_confirm(actor=reporter, report=report)
        case "dispute":
            return flow.report_dispute(actor=reporter, report=report, reason="Chưa sửa.")
        case "transfer":
            return flow.report_transfer(
                actor=official, report=report, unit_code=6001, reason="Sai địa bàn."
            )
        case "merge":
            return flow.report_merge(actor=official, report=report, into_id=into)
    raise AssertionError(action)


def brought(status: str, *, reporter: User, official: User) -> FieldReport:
    """A report brought to ``status`` by the actions themselves."""
    report = filed(reporter)
    if status == R.MERGED:
        return flow.report_merge(actor=official, report=report, into_id=filed(reporter).pk)
    for action in PATHS[status]:
        report = act(action, report, reporter=reporter, official=official)
    return report


@pytest.mark.parametrize(("status", "action"), TABLE)
def test_each_action_moves_only_from_the_statuses_declared_for_it(
    citizen, official, other_ward, status, action
):
    report = brought(status, reporter=citizen, official=official)
    assert report.status == status
    into = filed(citizen).pk
    before = snapshot(report.pk)

    if action in ALLOWED[status]:
        act(action, report, reporter=citizen, official=official, into=into)
        assert reload(report.pk).status == RESULT[action]
        assert len(kinds(report.pk)) == len(before[1]) + 1
    else:
        with pytest.raises(ReportTransitionRefused):
            act(action, report, reporter=citizen, official=official, into=into)
        assert snapshot(report.pk) == before


# --- 3. the evidence of a fix --------------------------------------------------------------------


def text_as_jpg() -> io.BytesIO:
    buffer = io.BytesIO(b"Day khong phai la anh, chi la chu.\n" * 20)
    buffer.name = "anh.jpg"
    return buffer


def pdf() -> io.BytesIO:
    buffer = io.BytesIO(b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer\n%%EOF\n")
    buffer.name = "bien-ban.pdf"
    return buffer


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        pytest.param(lambda: {"files": evidence()}, invalid(note=[REQUIRED]), id="no note"),
        pytest.param(lambda: {"note": FIXED}, invalid(files=[NO_EVIDENCE]), id="no file"),
        pytest.param(
            lambda: {"note": FIXED, "files": [photo(), text_as_jpg()]},
            invalid(files=[NOT_EVIDENCE]),
            id="text named .jpg",
        ),
        pytest.param(
            lambda: {"note": FIXED, "files": evidence(6)},
            invalid(files=["Tối đa 5 tệp."]),
            id="six files",
        ),
    ],
)
def test_a_fix_without_its_evidence_is_refused_and_changes_nothing(
    citizen, official, body: Callable[[], dict], expected
):
    report_id = reported(R.IN_PROGRESS, reporter=citizen, official=official)
    before = snapshot(report_id)

    response = step(client_for(official), report_id, "resolve", body(), format="multipart")

    assert (response.status_code, response.json()) == (400, expected)
    assert snapshot(report_id) == before
    assert reload(report_id).status == R.IN_PROGRESS
    assert evidence_rows(report_id) == 0


def test_a_pdf_document_is_evidence_of_a_fix(citizen, official):
    report_id = reported(R.IN_PROGRESS, reporter=citizen, official=official)

    response = step(
        client_for(official),
        report_id,
        "resolve",
        {"note": "Biên bản nghiệm thu kèm theo.", "files": [pdf()]},
        format="multipart",
    )

    assert response.status_code == 200
    assert response.json()["status"] == "resolved"
    stored = ReportPhoto.objects.get(report_id=report_id, kind=PhotoKind.EVIDENCE)
    assert (stored.content_type, stored.uploaded_by_id) == ("application/pdf", official.pk)
    with stored.file.open("rb") as handle:
        assert handle.read().startswith(b"%PDF-1.4")


def test_the_resolve_action_refuses_a_blank_note_or_no_file(citizen, official):
    report = brought(R.ACCEPTED, reporter=citizen, official=official)
    before = snapshot(report.pk)

    with pytest.raises(InvalidForm) as blank:
        flow.report_resolve(actor=official, report=report, note="   ", files=[upload()])
    with pytest.raises(InvalidForm) as empty:
        flow.report_resolve(actor=official, report=report, note=FIXED, files=[])

    assert blank.value.fields == {"note": [REQUIRED]}
    assert empty.value.fields == {"files": [NO_EVIDENCE]}
    assert snapshot(report.pk) == before


# --- 4. refusal ----------------------------------------------------------------------------------


def test_a_refusal_needs_its_reason(citizen, official):
    report_id = reported(R.SUBMITTED, reporter=citizen, official=official)
    before = snapshot(report_id)

    response = step(client_for(official), report_id, "refuse", {"referral": "Điện lực"})

    assert (response.status_code, response.json()) == (400, invalid(reason=[REQUIRED]))
    assert snapshot(report_id) == before
    with pytest.raises(InvalidForm) as blank:
        flow.report_refuse(actor=official, report=reload(report_id), reason="  ")
    assert blank.value.fields == {"reason": [REQUIRED]}
    assert snapshot(report_id) == before


def test_a_refusal_tells_the_citizen_where_to_turn_and_is_final(citizen, official, clock):
    clock(at(6, 10))
    report_id = new(citizen)
    clock(at(9, 9))

    response = step(
        client_for(official),
        report_id,
        "refuse",
        {
            "reason": "Không thuộc thẩm quyền của xã.",
            "referral": " Điện lực Lạng Sơn, 1900 1234 ",
        },
    )

    assert response.status_code == 200
    report = reload(report_id)
    assert (report.status, report.closed_at, report.acknowledged_at) == (
        R.REFUSED,
        at(9, 9),
        at(9, 9),
    )
    assert report.acknowledged_on_time is True
    mine = client_for(citizen).get(f"{URL}{report_id}/").json()
    assert mine["status"] == "refused"
    refusal = mine["timeline"][-1]
    assert (refusal["kind"], refusal["note"], refusal["referral"], refusal["actor_role"]) == (
        "refused",
        "Không thuộc thẩm quyền của xã.",
        "Điện lực Lạng Sơn, 1900 1234",
        "official",
    )
    assert messages(citizen) == [
        (
            "report.refused",
            f"Phản ánh #{report_id} bị từ chối",
            "Xã Thất Khê: Không thuộc thẩm quyền của xã. "
            "Đề nghị liên hệ: Điện lực Lạng Sơn, 1900 1234",
        )
    ]
    assert inbox(official) == ["report.new"]
    # Final: nothing moves it any more.
    before = snapshot(report_id)
    for move in ("accept", "refuse", "start", "transfer"):
        again = perform(move, report_id, reporter=citizen, official=official)
        assert (move, again.status_code, again.json()) == (move, 409, REFUSED_MOVE)
    assert snapshot(report_id) == before


# --- 5. the citizen disputes the fix -------------------------------------------------------------


def test_only_the_reporter_answers_a_fix(citizen, other_citizen, official):
    report_id = reported(R.RESOLVED, reporter=citizen, official=official)
    stranger = client_for(other_citizen)
    before = snapshot(report_id)

    disputed = stranger.post(f"{URL}{report_id}/dispute/", BODIES["dispute"], format="json")
    confirmed = stranger.post(f"{URL}{report_id}/confirm/", {}, format="json")

    assert (disputed.status_code, disputed.json()) == (404, NOT_FOUND)
    assert (confirmed.status_code, confirmed.json()) == (404, NOT_FOUND)
    assert snapshot(report_id) == before

    # Following it gives no say over the fix either.
    assert stranger.post(f"{URL}{report_id}/follow/").status_code == 200
    before = snapshot(report_id)

    disputed = stranger.post(f"{URL}{report_id}/dispute/", BODIES["dispute"], format="json")
    confirmed = stranger.post(f"{URL}{report_id}/confirm/", {}, format="json")

    assert (disputed.status_code, disputed.json()) == (404, NOT_FOUND)
    assert (confirmed.status_code, confirmed.json()) == (404, NOT_FOUND)
    assert snapshot(report_id) == before
    assert reload(report_id).status == R.RESOLVED


def test_a_dispute_needs_its_reason(citizen, official):
    report_id = reported(R.RESOLVED, reporter=citizen, official=official)
    before = snapshot(report_id)

    response = client_for(citizen).post(f"{URL}{report_id}/dispute/", {}, format="json")

    assert (response.status_code, response.json()) == (400, invalid(reason=[REQUIRED]))
    assert snapshot(report_id) == before
    with pytest.raises(InvalidForm) as blank:
        flow.report_dispute(actor=citizen, report=reload(report_id), reason=" ")
    assert blank.value.fields == {"reason": [REQUIRED]}
    assert snapshot(report_id) == before


def test_a_dispute_reopens_the_report_before_the_leaders(
    citizen, official, leader, neighbour, clock
):
    clock(at(2, 9))
    report_id = new(citizen)
    advance(report_id, ["accept", "start"], reporter=citizen, official=official)
    assert client_for(neighbour).post(f"{URL}{report_id}/follow/").status_code == 200
    clock(at(3, 10))
    advance(report_id, ["resolve"], reporter=citizen, official=official)
    officials_before = inbox(official)
    reporter_before = inbox(citizen)
    clock(at(4, 11))

    response = client_for(citizen).post(
        f"{URL}{report_id}/dispute/", {"reason": "Đèn vẫn chưa sáng."}, format="json"
    )

    assert response.status_code == 200
    body = response.json()
    assert (body["status"], body["escalated"], body["satisfied"], body["resolved_at"]) == (
        "in_progress",
        True,
        False,
        None,
    )
    report = reload(report_id)
    assert (report.status, report.escalated, report.satisfied) == (R.IN_PROGRESS, True, False)
    assert (report.resolved_at, report.resolved_on_time, report.closed_at) == (None, None, None)
    event = last_event(report_id)
    assert (event.kind, event.from_status, event.to_status, event.actor_id, event.actor_role) == (
        "disputed",
        R.RESOLVED,
        R.IN_PROGRESS,
        citizen.pk,
        "citizen",
    )
    assert (event.note, event.created_at) == ("Đèn vẫn chưa sáng.", at(4, 11))
    assert messages(leader)[-1] == (
        "report.escalated",
        f"Phản ánh #{report_id}: kết quả bị phản đối",
        f"Người dân phản đối kết quả xử lý phản ánh ({LIGHTING}): Đèn vẫn chưa sáng.",
    )
    assert inbox(leader) == ["report.new", "report.escalated"]
    # The ordinary official (no supervise permission) is not told; nor is the reporter, who
    # disputed; the follower is told it is reopened.
    assert inbox(official) == officials_before
    assert "report.escalated" not in inbox(official)
    assert inbox(citizen) == reporter_before
    assert inbox(neighbour)[-1] == "report.reopened"
    listed = client_for(official).get(OFFICIAL_URL, {"escalated": "true"}).json()["results"]
    assert [r["id"] for r in listed] == [report_id]

    # The officials fix it again, and the citizen confirms this time.
    clock(at(5, 15))
    again = perform("resolve", report_id, reporter=citizen, official=official)
    assert (again.status_code, again.json()["resolved_at"]) == (200, "2026-03-05T15:00:00+07:00")
    clock(at(6, 8))
    confirmed = perform("confirm", report_id, reporter=citizen, official=official)
    assert (confirmed.status_code, confirmed.json()["satisfied"]) == (200, True)
    assert kinds(report_id) == [
        "submitted",
        "accepted",
        "started",
        "resolved",
        "disputed",
        "resolved",
        "confirmed",
    ]
    assert reload(report_id).status == R.CLOSED


# --- 6. the window to answer a fix ---------------------------------------------------------------


@pytest.mark.parametrize("move", ["confirm", "dispute"])
def test_after_the_confirmation_period_the_citizen_can_no_longer_answer(
    citizen, official, clock, move
):
    clock(at(2, 9))
    report_id = reported(R.RESOLVED, reporter=citizen, official=official)
    resolved_at = reload(report_id).resolved_at
    assert resolved_at == at(2, 9)
    clock(resolved_at + timedelta(days=settings.REPORT_CONFIRM_DAYS, seconds=1))
    before = snapshot(report_id)

    response = perform(move, report_id, reporter=citizen, official=official)

    assert (response.status_code, response.json()) == (409, PERIOD_OVER)
    assert snapshot(report_id) == before


@pytest.mark.parametrize(("move", "status"), [("confirm", R.CLOSED), ("dispute", R.IN_PROGRESS)])
def test_the_last_moment_of_the_confirmation_period_still_counts(
    citizen, official, clock, move, status
):
    clock(at(2, 9))
    report_id = reported(R.RESOLVED, reporter=citizen, official=official)
    clock(at(2, 9) + timedelta(days=settings.REPORT_CONFIRM_DAYS))

    response = perform(move, report_id, reporter=citizen, official=official)

    assert (response.status_code, response.json()["status"]) == (200, status)


# --- 7. the fixes nobody answered close by themselves --------------------------------------------


@pytest.fixture
def resolved_reports(citizen, official, neighbour, clock) -> dict[str, int]:
    """A fix of 2 March 09:00 the neighbour follows, one of 3 March 10:00, work still going on
    since 2 March, and a fix of 2 March disputed."""
    clock(at(2, 8))
    ids = {name: new(citizen) for name in ("old", "recent", "in_progress", "disputed")}
    for report_id in ids.values():
        advance(report_id, ["accept", "start"], reporter=citizen, official=official)
    assert client_for(neighbour).post(f"{URL}{ids['old']}/follow/").status_code == 200
    clock(at(2, 9))
    advance(ids["old"], ["resolve"], reporter=citizen, official=official)
    advance(ids["disputed"], ["resolve", "dispute"], reporter=citizen, official=official)
    clock(at(3, 10))
    advance(ids["recent"], ["resolve"], reporter=citizen, official=official)
    return ids


def test_fixes_unanswered_for_seven_days_are_closed_by_the_system(
    resolved_reports, citizen, neighbour, official
):
    old = resolved_reports["old"]
    untouched = [resolved_reports[k] for k in ("recent", "in_progress", "disputed")]
    states = {report_id: snapshot(report_id)[:4] for report_id in untouched}
    citizen_before, neighbour_before = len(inbox(citizen)), len(inbox(neighbour))
    now = at(9, 10)  # 7 days and 1 hour after the old fix, 6 days after the recent one

    closed = flow.reports_close_unconfirmed(now=now)

    assert closed == 1
    report = reload(old)
    assert (report.status, report.closed_at, report.satisfied, report.updated_at) == (
        R.CLOSED,
        now,
        None,
        now,
    )
    event = last_event(old)
    assert (event.kind, event.from_status, event.to_status) == ("auto_closed", "resolved", "closed")
    assert (event.actor_id, event.actor_role, event.unit_id, event.created_at) == (
        None,
        "system",
        6040,
        now,
    )
    assert messages(citizen)[citizen_before:] == [
        ("report.closed", f"Phản ánh #{old} đã đóng", f"Phản ánh ({LIGHTING}) đã đóng.")
    ]
    assert inbox(neighbour)[neighbour_before:] == ["report.closed"]
    assert reload(resolved_reports["recent"]).status == R.RESOLVED
    assert {report_id: snapshot(report_id)[:4] for report_id in untouched} == states
    assert "report.closed" not in inbox(official)

    # Run again (a second worker, a redelivered task): nothing more, no second message.
    everything = Notification.objects.count()
    events = ReportEvent.objects.count()

    assert flow.reports_close_unconfirmed(now=now + timedelta(minutes=5)) == 0
    assert (Notification.objects.count(), ReportEvent.objects.count()) == (everything, events)
    assert reload(old).closed_at == now


def test_the_task_closes_them_by_the_clock(resolved_reports, citizen, clock):
    clock(at(9, 10))

    first = close_unconfirmed_reports.run()
    after_first = (Notification.objects.count(), ReportEvent.objects.count())
    second = close_unconfirmed_reports.run()

    assert (first, second) == (1, 0)
    assert (Notification.objects.count(), ReportEvent.objects.count()) == after_first
    assert {r: reload(i).status for r, i in resolved_reports.items()} == {
        "old": R.CLOSED,
        "recent": R.RESOLVED,
        "in_progress": R.IN_PROGRESS,
        "disputed": R.IN_PROGRESS,
    }
    assert reload(resolved_reports["old"]).closed_at == at(9, 10)
    assert inbox(citizen).count("report.closed") == 1


def test_the_beat_closes_unconfirmed_reports_on_the_maintenance_queue():
    entry = app.conf.beat_schedule["close-unconfirmed-reports"]
    route = app.amqp.router.route({}, "services.close_unconfirmed_reports")

    assert entry["task"] == "services.close_unconfirmed_reports" == close_unconfirmed_reports.name
    assert entry["schedule"] == crontab(minute=23)
    assert route["queue"].name == "maintenance"
    assert app.conf.task_routes["services.close_unconfirmed_reports"] == {"queue": "maintenance"}


# --- 8. closing without a fix --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        pytest.param({}, invalid(reason=[REQUIRED]), id="no reason"),
        pytest.param({"note": "Không có kinh phí."}, invalid(reason=[REQUIRED]), id="note only"),
        pytest.param(
            {"reason": "budget"},
            invalid(reason=['"budget" không phải là lựa chọn hợp lệ.']),
            id="unknown reason",
        ),
        pytest.param({"reason": "other"}, invalid(note=[REQUIRED]), id="other without note"),
        pytest.param(
            {"reason": "other", "note": "   "}, invalid(note=[REQUIRED]), id="other blank note"
        ),
    ],
)
def test_closing_without_a_fix_needs_a_reason_code(citizen, official, body, expected):
    report_id = reported(R.IN_PROGRESS, reporter=citizen, official=official)
    before = snapshot(report_id)

    response = step(client_for(official), report_id, "close", body)

    assert (response.status_code, response.json()) == (400, expected)
    assert snapshot(report_id) == before


def test_the_close_action_refuses_a_reason_not_in_the_list(citizen, official):
    report = brought(R.ACCEPTED, reporter=citizen, official=official)
    before = snapshot(report.pk)

    with pytest.raises(InvalidForm) as refused:
        flow.report_close_not_fixed(actor=official, report=report, reason="budget")

    assert refused.value.fields == {"reason": ["Hãy chọn một trong các lý do."]}
    assert snapshot(report.pk) == before


@pytest.mark.parametrize(
    ("body", "label", "note"),
    [
        ({"reason": "planned"}, "Đưa vào kế hoạch, dự toán sau", ""),
        ({"reason": "other", "note": "Chờ dự án nâng cấp lưới điện."}, "Lý do khác", None),
    ],
)
def test_closing_without_a_fix_records_the_reason_and_tells_the_citizen(
    citizen, official, clock, body, label, note
):
    clock(at(2, 9))
    report_id = reported(R.IN_PROGRESS, reporter=citizen, official=official)
    clock(at(4, 15))

    response = step(client_for(official), report_id, "close", body)

    assert response.status_code == 200
    assert (response.json()["status"], response.json()["close_reason"]) == (
        "closed_not_fixed",
        body["reason"],
    )
    report = reload(report_id)
    assert (report.status, report.close_reason, report.closed_at) == (
        R.CLOSED_NOT_FIXED,
        body["reason"],
        at(4, 15),
    )
    event = last_event(report_id)
    assert (event.kind, event.reason, event.note, event.actor_id) == (
        "closed_not_fixed",
        body["reason"],
        body.get("note", ""),
        official.pk,
    )
    said = f"Xã Thất Khê: {label}." + (f" {body['note']}" if note is None else "")
    assert messages(citizen)[-1] == (
        "report.closed_not_fixed",
        f"Phản ánh #{report_id} đã đóng, chưa khắc phục",
        said,
    )
    assert "report.closed_not_fixed" not in inbox(official)
    mine = client_for(citizen).get(f"{URL}{report_id}/").json()
    assert (mine["timeline"][-1]["reason"], mine["timeline"][-1]["reason_label"]) == (
        body["reason"],
        label,
    )


# --- 9. transfer ---------------------------------------------------------------------------------


def test_a_transfer_sends_the_report_to_the_other_unit_as_new(
    citizen, official, other_official, other_ward, clock
):
    clock(at(6, 10))
    report_id = new(citizen)
    clock(at(9, 9))
    advance(report_id, ["accept"], reporter=citizen, official=official)
    clock(at(10, 17))  # Tuesday after the cut-off: received on Wednesday 11 March

    response = step(client_for(official), report_id, "transfer", BODIES["transfer"])

    # Answered with the report as it arrived at the other unit.
    assert response.status_code == 200
    assert (response.json()["status"], response.json()["unit"]) == ("submitted", DOAN_KET)

    report = reload(report_id)
    assert (report.status, report.unit_id, report.received_at) == (R.SUBMITTED, 6001, at(10, 17))
    assert (report.acknowledge_due, report.resolve_due) == (date(2026, 3, 13), date(2026, 4, 1))
    assert (report.acknowledged_at, report.acknowledged_on_time) == (None, None)
    event = last_event(report_id)
    assert (event.kind, event.from_status, event.to_status, event.unit_id, event.to_unit_id) == (
        "transferred",
        R.ACCEPTED,
        R.SUBMITTED,
        6040,
        6001,
    )
    mine = client_for(citizen).get(f"{URL}{report_id}/").json()
    assert (mine["status"], mine["unit"]) == ("submitted", DOAN_KET)
    assert (mine["acknowledge_due"], mine["resolve_due"]) == ("2026-03-13", "2026-04-01")
    assert mine["transfers"] == [
        {
            "from_unit": THAT_KHE,
            "to_unit": DOAN_KET,
            "reason": "Thuộc địa bàn xã Đoàn Kết.",
            "at": "2026-03-10T17:00:00+07:00",
        }
    ]
    assert [e["kind"] for e in mine["timeline"]] == ["submitted", "accepted", "transferred"]
    theirs = client_for(other_official).get(OFFICIAL_URL).json()["results"]
    ours = client_for(official).get(OFFICIAL_URL).json()["results"]
    assert ([r["id"] for r in theirs], ours) == ([report_id], [])
    detail = client_for(official).get(f"{OFFICIAL_URL}{report_id}/")
    assert (detail.status_code, detail.json()) == (404, NOT_FOUND)
    assert messages(other_official) == [
        (
            "report.new",
            f"Phản ánh mới #{report_id}: {LIGHTING}",
            "Tiếp nhận hoặc từ chối trước ngày 13/03/2026.",
        )
    ]
    assert messages(citizen)[-1] == (
        "report.transferred",
        f"Phản ánh #{report_id} được chuyển đơn vị",
        "Nay do Xã Đoàn Kết xử lý: Thuộc địa bàn xã Đoàn Kết.",
    )
    assert inbox(official) == ["report.new"]

    # The new unit handles it from there; the old one can no longer touch it.
    before = snapshot(report_id)
    refused = perform("refuse", report_id, reporter=citizen, official=official)
    assert (refused.status_code, refused.json()) == (404, NOT_FOUND)
    assert snapshot(report_id) == before
    clock(at(11, 8))
    accepted = perform("accept", report_id, reporter=citizen, official=other_official)
    assert (accepted.status_code, accepted.json()["acknowledged_on_time"]) == (200, True)


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        pytest.param(
            {"unit": 6040, "reason": "Nhầm."},
            invalid(unit=["Phản ánh đang thuộc đơn vị này."]),
            id="same unit",
        ),
        pytest.param(
            {"unit": 99999, "reason": "Nhầm."},
            invalid(unit=["Không có đơn vị hành chính cấp xã nào mang mã này."]),
            id="unknown unit",
        ),
        pytest.param({"unit": 6001}, invalid(reason=[REQUIRED]), id="no reason"),
    ],
)
def test_a_transfer_needs_another_known_unit_and_a_reason(
    citizen, official, other_official, body, expected
):
    report_id = reported(R.ACCEPTED, reporter=citizen, official=official)
    before = snapshot(report_id)

    response = step(client_for(official), report_id, "transfer", body)

    assert (response.status_code, response.json()) == (400, expected)
    assert snapshot(report_id) == before
    assert inbox(other_official) == []


# --- 10. merge -----------------------------------------------------------------------------------


def test_a_duplicate_is_merged_and_its_people_follow_the_other_report(
    citizen, other_citizen, neighbour, official, clock
):
    clock(at(2, 9))
    first = new(citizen)
    duplicate = new(other_citizen, ward=6040)
    advance(duplicate, ["accept"], reporter=other_citizen, official=official)
    assert client_for(neighbour).post(f"{URL}{duplicate}/follow/").status_code == 200
    citizen_before = inbox(citizen)
    clock(at(3, 10))

    response = step(client_for(official), duplicate, "merge", {"into": first, "note": "Trùng."})

    assert response.status_code == 200
    assert (response.json()["status"], response.json()["merged_into"]) == ("merged", first)
    merged = reload(duplicate)
    assert (merged.status, merged.merged_into_id, merged.closed_at) == (R.MERGED, first, at(3, 10))
    event = last_event(duplicate)
    assert (event.kind, event.from_status, event.to_status, event.note) == (
        "merged",
        R.ACCEPTED,
        R.MERGED,
        "Trùng.",
    )
    assert reload(first).followers_count == 2
    assert sorted(
        ReportFollower.objects.filter(report_id=first).values_list("user_id", flat=True)
    ) == sorted([other_citizen.pk, neighbour.pk])
    said = (
        "report.merged",
        f"Phản ánh #{duplicate} được gộp",
        f"Đây là cùng vấn đề với phản ánh #{first}, bạn đã được theo dõi phản ánh đó và sẽ "
        "được thông báo tiến độ.",
    )
    assert messages(other_citizen)[-1] == said
    assert messages(neighbour)[-1] == said
    assert inbox(citizen) == citizen_before
    followed = client_for(other_citizen).get(f"{URL}{first}/").json()
    assert (followed["following"], followed["followers_count"]) == (True, 2)

    # The report it joined tells them of its steps from now on.
    advance(first, ["accept"], reporter=citizen, official=official)
    assert inbox(other_citizen)[-1] == "report.accepted"
    assert inbox(neighbour)[-1] == "report.accepted"
    assert inbox(citizen)[-1] == "report.accepted"


def test_merging_a_report_of_the_reporter_of_the_target_adds_no_follower(citizen, official):
    first = new(citizen)
    duplicate = new(citizen)

    response = step(client_for(official), duplicate, "merge", {"into": first})

    assert response.status_code == 200
    assert reload(first).followers_count == 0
    assert not ReportFollower.objects.filter(report_id=first).exists()
    assert inbox(citizen) == ["report.merged"]


@pytest.mark.parametrize(
    ("target", "message"),
    [
        ("itself", {"into": ["Không thể gộp một phản ánh vào chính nó."]}),
        ("closed", {"into": ["Phản ánh đó đã đóng: hãy gộp vào một phản ánh đang mở."]}),
        ("refused", {"into": ["Phản ánh đó đã đóng: hãy gộp vào một phản ánh đang mở."]}),
        ("other unit", {"into": ["Không có phản ánh đang mở nào của đơn vị bạn mang số này."]}),
        ("unknown", {"into": ["Không có phản ánh đang mở nào của đơn vị bạn mang số này."]}),
    ],
)
def test_a_merge_needs_another_open_report_of_the_unit(
    citizen, other_citizen, official, other_official, target, message
):
    duplicate = new(other_citizen, ward=6040)
    match target:
        case "itself":
            into = duplicate
        case "closed":
            into = reported(R.CLOSED_NOT_FIXED, reporter=citizen, official=official)
        case "refused":
            into = reported(R.REFUSED, reporter=citizen, official=official)
        case "other unit":
            into = new(citizen, ward=6001)
        case _:
            into = duplicate + 1000
    before = snapshot(duplicate), snapshot(into) if target != "unknown" else None

    response = step(client_for(official), duplicate, "merge", {"into": into})

    assert (response.status_code, response.json()) == (400, invalid(**message))
    assert (snapshot(duplicate), snapshot(into) if target != "unknown" else None) == before
    assert reload(duplicate).status == R.SUBMITTED
    assert not ReportFollower.objects.exists()


# --- 11. following -------------------------------------------------------------------------------


def test_a_citizen_follows_a_public_report_and_is_told_of_its_steps(
    citizen, other_citizen, official
):
    report_id = reported(R.ACCEPTED, reporter=citizen, official=official)
    me_too = client_for(other_citizen)

    first = me_too.post(f"{URL}{report_id}/follow/")
    second = me_too.post(f"{URL}{report_id}/follow/")

    assert first.status_code == second.status_code == 200
    assert (first.json()["following"], first.json()["followers_count"]) == (True, 1)
    assert (second.json()["following"], second.json()["followers_count"]) == (True, 1)
    assert list(
        ReportFollower.objects.filter(report_id=report_id).values_list("user_id", flat=True)
    ) == [other_citizen.pk]
    assert reload(report_id).followers_count == 1
    assert inbox(other_citizen) == []

    advance(report_id, ["resolve"], reporter=citizen, official=official)

    assert messages(other_citizen) == [
        (
            "report.resolved",
            f"Phản ánh #{report_id} đã được xử lý",
            f"Xã Thất Khê: {FIXED} Đề nghị xác nhận hoặc phản đối kết quả trong 7 ngày; quá "
            "hạn không phản hồi, phản ánh sẽ được đóng.",
        )
    ]

    stopped = me_too.delete(f"{URL}{report_id}/follow/")

    assert stopped.status_code == 200
    assert (stopped.json()["following"], stopped.json()["followers_count"]) == (False, 0)
    assert not ReportFollower.objects.filter(report_id=report_id).exists()
    assert reload(report_id).followers_count == 0
    advance(report_id, ["confirm"], reporter=citizen, official=official)
    assert inbox(other_citizen) == ["report.resolved"]


def test_a_closed_report_cannot_be_followed(citizen, other_citizen, official):
    report_id = reported(R.CLOSED, reporter=citizen, official=official)
    before = snapshot(report_id)

    response = client_for(other_citizen).post(f"{URL}{report_id}/follow/")

    assert (response.status_code, response.json()) == (409, REFUSED_MOVE)
    assert snapshot(report_id) == before


def test_a_report_still_waiting_for_its_unit_may_be_followed(citizen, other_citizen, official):
    # As reports/similar/ offers it to a citizen about to report the same problem.
    report_id = reported(R.SUBMITTED, reporter=citizen, official=official)

    response = client_for(other_citizen).post(f"{URL}{report_id}/follow/")

    assert response.status_code == 200
    assert (response.json()["following"], response.json()["followers_count"]) == (True, 1)
    assert list(
        ReportFollower.objects.filter(report_id=report_id).values_list("user_id", flat=True)
    ) == [other_citizen.pk]
    advance(report_id, ["accept"], reporter=citizen, official=official)
    assert inbox(other_citizen) == ["report.accepted"]


@pytest.mark.parametrize("status", [R.REFUSED, R.MERGED, "hidden"])
def test_a_report_neither_public_nor_open_cannot_be_followed(
    citizen, other_citizen, official, status
):
    if status == "hidden":
        report_id = reported(R.ACCEPTED, reporter=citizen, official=official)
        flow.report_moderate(actor=official, report=reload(report_id), hidden=True)
    else:
        report_id = reported(status, reporter=citizen, official=official)
    before = snapshot(report_id)

    response = client_for(other_citizen).post(f"{URL}{report_id}/follow/")

    assert (response.status_code, response.json()) == (404, NOT_FOUND)
    assert snapshot(report_id) == before


def test_the_reporter_does_not_follow_their_own_report(citizen, official):
    report_id = reported(R.ACCEPTED, reporter=citizen, official=official)
    before = snapshot(report_id)

    response = client_for(citizen).post(f"{URL}{report_id}/follow/")

    assert response.status_code == 200
    assert (response.json()["is_mine"], response.json()["followers_count"]) == (True, 0)
    assert snapshot(report_id) == before


# --- 12. who is told ----------------------------------------------------------------------------


def test_a_new_report_is_announced_to_the_officials_who_handle_it(
    citizen, official, other_official, leader, clock
):
    clock(at(6, 10))
    report_id = new(citizen)

    new_report = (
        "report.new",
        f"Phản ánh mới #{report_id}: {LIGHTING}",
        "Tiếp nhận hoặc từ chối trước ngày 10/03/2026.",
    )
    assert messages(official) == [new_report]
    assert messages(leader) == [new_report]
    assert inbox(other_official) == []
    assert inbox(citizen) == []
    key = f"report:{report_id}:new:{last_event(report_id).pk}"
    assert (
        list(Notification.objects.values_list("key", "data"))
        == [(key, {"report": report_id, "official": True})] * 2
    )


@pytest.mark.parametrize(
    ("status", "move", "event", "title", "body"),
    [
        (
            R.SUBMITTED,
            "accept",
            "report.accepted",
            "Phản ánh #{n} đã được tiếp nhận",
            f"Xã Thất Khê đã tiếp nhận phản ánh của bạn ({LIGHTING}). Đã ghi nhận.",
        ),
        (
            R.SUBMITTED,
            "refuse",
            "report.refused",
            "Phản ánh #{n} bị từ chối",
            "Xã Thất Khê: Không thuộc thẩm quyền của xã. Đề nghị liên hệ: Điện lực Lạng Sơn",
        ),
        (
            R.ACCEPTED,
            "start",
            "report.started",
            "Phản ánh #{n}: bắt đầu xử lý",
            "Xã Thất Khê đang xử lý. Đội điện đang thay bóng.",
        ),
        (
            R.IN_PROGRESS,
            "resolve",
            "report.resolved",
            "Phản ánh #{n} đã được xử lý",
            f"Xã Thất Khê: {FIXED} Đề nghị xác nhận hoặc phản đối kết quả trong 7 ngày; quá "
            "hạn không phản hồi, phản ánh sẽ được đóng.",
        ),
        (
            R.IN_PROGRESS,
            "close",
            "report.closed_not_fixed",
            "Phản ánh #{n} đã đóng, chưa khắc phục",
            "Xã Thất Khê: Đưa vào kế hoạch, dự toán sau.",
        ),
        (
            R.ACCEPTED,
            "transfer",
            "report.transferred",
            "Phản ánh #{n} được chuyển đơn vị",
            "Nay do Xã Đoàn Kết xử lý: Thuộc địa bàn xã Đoàn Kết.",
        ),
    ],
)
def test_each_official_step_tells_the_reporter_once_and_not_the_official(
    citizen, official, other_ward, status, move, event, title, body
):
    report_id = reported(status, reporter=citizen, official=official)
    before = Notification.objects.filter(user=citizen).count()

    response = perform(move, report_id, reporter=citizen, official=official)

    assert response.status_code == 200
    assert reload(report_id).status == RESULT[move]
    told = list(
        Notification.objects.filter(user=citizen)
        .order_by("id")
        .values_list("event", "title", "body", "key", "data")
    )[before:]
    step_event = last_event(report_id)
    assert told == [
        (
            event,
            title.format(n=report_id),
            body,
            f"report:{report_id}:event:{step_event.pk}",
            {"report": report_id, "status": reload(report_id).status},
        )
    ]
    assert inbox(official) == ["report.new"]


@pytest.mark.parametrize("move", ["confirm", "dispute"])
def test_the_citizen_is_not_told_of_their_own_answer(citizen, official, move):
    report_id = reported(R.RESOLVED, reporter=citizen, official=official)
    before = inbox(citizen)

    response = perform(move, report_id, reporter=citizen, official=official)

    assert response.status_code == 200
    assert inbox(citizen) == before
    assert inbox(official) == ["report.new"]


@pytest.mark.parametrize("move", ["accept", "refuse", "start", "resolve", "close", "transfer"])
def test_an_official_of_another_unit_cannot_move_the_report(
    citizen, official, other_official, move
):
    status = R.ACCEPTED if move in ("start", "resolve", "close") else R.SUBMITTED
    report_id = reported(status, reporter=citizen, official=official)
    before = snapshot(report_id)

    response = perform(move, report_id, reporter=citizen, official=other_official)

    assert (response.status_code, response.json()) == (404, NOT_FOUND)
    assert snapshot(report_id) == before


@pytest.mark.parametrize("move", ["accept", "refuse", "start", "resolve", "close", "transfer"])
def test_a_citizen_cannot_take_an_officials_step(citizen, other_citizen, official, move):
    status = R.ACCEPTED if move in ("start", "resolve", "close") else R.SUBMITTED
    report_id = reported(status, reporter=citizen, official=official)
    before = snapshot(report_id)

    for user in (citizen, other_citizen):
        response = perform(move, report_id, reporter=citizen, official=user)
        assert (response.status_code, response.json()) == (403, FORBIDDEN)
    assert snapshot(report_id) == before


def test_an_official_without_the_report_permission_cannot_move_it(citizen, official, ward):
    broadcaster = official_create_or_update(
        phone="+84900000077",
        full_name="Đinh Văn Phát",
        password=PASSWORD,
        roles=[Role.BROADCASTING],
        unit_codes=[ward.code],
    )
    report_id = reported(R.SUBMITTED, reporter=citizen, official=official)
    before = snapshot(report_id)

    response = perform("accept", report_id, reporter=citizen, official=broadcaster)

    assert (response.status_code, response.json()) == (403, FORBIDDEN)
    assert snapshot(report_id) == before


# --- 13. deadlines in working days ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("moment", "acknowledge", "resolve_by"),
    [
        # Friday before the cut-off: Friday is day 0.
        (at(6, 10), "2026-03-10", "2026-03-27"),
        (at(6, 15, 59), "2026-03-10", "2026-03-27"),
        # At or after the cut-off (16:00), or on a Saturday: counted from Monday 9 March.
        (at(6, 16), "2026-03-11", "2026-03-30"),
        (at(6, 16, 30), "2026-03-11", "2026-03-30"),
        (at(7, 10), "2026-03-11", "2026-03-30"),
    ],
)
def test_the_deadlines_count_working_days_from_receipt(
    citizen, clock, moment, acknowledge, resolve_by
):
    clock(moment)

    body = submit(client_for(citizen), ward=6040)

    assert (body["acknowledge_due"], body["resolve_due"]) == (acknowledge, resolve_by)
    report = reload(body["id"])
    assert (report.received_at, str(report.acknowledge_due), str(report.resolve_due)) == (
        moment,
        acknowledge,
        resolve_by,
    )


@pytest.mark.parametrize(
    ("moment", "on_time"),
    [(at(10, 23, 59), True), (at(11, 0, 0), False), (at(11, 9), False)],
)
def test_an_acknowledgement_after_its_date_is_late(citizen, official, clock, moment, on_time):
    clock(at(6, 10))  # acknowledge by Tuesday 10 March
    report_id = new(citizen)
    clock(moment)

    response = perform("accept", report_id, reporter=citizen, official=official)

    assert (response.status_code, response.json()["acknowledged_on_time"]) == (200, on_time)
    assert reload(report_id).acknowledged_on_time is on_time


def test_a_late_refusal_is_late_too(citizen, official, clock):
    clock(at(6, 10))
    report_id = new(citizen)
    clock(at(12, 9))

    perform("refuse", report_id, reporter=citizen, official=official)

    assert (reload(report_id).status, reload(report_id).acknowledged_on_time) == (
        R.REFUSED,
        False,
    )


@pytest.mark.parametrize(
    ("moment", "on_time"),
    [(at(27, 23, 59), True), (at(28, 0, 0), False), (at(30, 9), False)],
)
def test_a_fix_after_its_date_is_late(citizen, official, clock, moment, on_time):
    clock(at(6, 10))  # resolve by Friday 27 March
    report_id = new(citizen)
    clock(at(9, 9))
    advance(report_id, ["accept", "start"], reporter=citizen, official=official)
    clock(moment)

    response = perform("resolve", report_id, reporter=citizen, official=official)

    assert response.status_code == 200
    body = response.json()
    assert (body["resolved_on_time"], body["acknowledged_on_time"]) == (on_time, True)
    assert reload(report_id).resolved_on_time is on_time
