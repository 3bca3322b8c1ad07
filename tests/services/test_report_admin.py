"""Field reports in the admin: an official lists and reads only their units' reports (read
only: no add, change or delete), the filters, an anonymous report's page that names nobody and
logs no read, a named one's page in the access log; the report categories (province
administrators add and change, nobody deletes); the Open311 applications, whose key is shown
once and kept hashed; and the list's queries, the same for any number of reports."""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from django.contrib.admin.models import LogEntry
from django.contrib.messages import get_messages
from django.test import Client
from django.utils import timezone
from rest_framework.test import APIClient

from accounts.models import DataAccessLog, User
from services.models import FieldReport, Open311Client, ReportCategory, ReportSource
from tests.conftest import client_for
from tests.services.reports import URL, resolve, step, submit

pytestmark = pytest.mark.django_db

LOCAL = ZoneInfo("Asia/Ho_Chi_Minh")
REPORTS = "/admin/services/fieldreport/"
CATEGORIES = "/admin/services/reportcategory/"
APPLICATIONS = "/admin/services/open311client/"
OPEN311_REQUESTS = "/open311/v2/requests.json"
# The ``citizen`` fixture (Nguyễn Văn An, +84912345678) in every form a page could show.
CITIZEN_TRACES = ("Nguyễn Văn An", "+84912345678", "0912345678", "912345678")
# What ``token_urlsafe(32)`` makes: 43 URL-safe characters.
KEY = re.compile(r"[A-Za-z0-9_-]{43}")


@pytest.fixture(autouse=True)
def media(settings, tmp_path) -> Path:
    settings.MEDIA_ROOT = tmp_path
    return tmp_path


@pytest.fixture
def clock(monkeypatch) -> Callable[[datetime], None]:
    """Set the outside world's clock (timezone.now) to a fixed moment."""

    def set_clock(moment: datetime) -> None:
        monkeypatch.setattr(timezone, "now", lambda: moment)

    return set_clock


def at(day: int, hour: int = 9) -> datetime:
    return datetime(2026, 3, day, hour, tzinfo=LOCAL)  # 2 March 2026 is a Monday


def admin_client(user: User, language: str = "en") -> Client:
    client = Client(HTTP_ACCEPT_LANGUAGE=language)
    client.force_login(user)
    return client


def new(user: User, *, ward: int = 6040, **fields) -> int:
    """POST reports/ as ``user``: a lighting report in the commune ``ward``; its id."""
    description = f"Đèn đường hỏng ở xã {ward}, báo bởi {user.pk}."
    return submit(client_for(user), ward=ward, description=description, **fields)["id"]


def act(official: User, report_id: int, name: str, body: dict | None = None) -> None:
    response = step(client_for(official), report_id, name, body)
    assert response.status_code == 200, (name, response.content)


def listed(user: User, params: dict | None = None) -> list[int]:
    response = admin_client(user).get(REPORTS, params or {})
    assert response.status_code == 200, response.content
    return sorted(r.pk for r in response.context["cl"].result_list)


def page(user: User, report_id: int) -> str:
    response = admin_client(user).get(f"{REPORTS}{report_id}/change/")
    assert response.status_code == 200
    return response.content.decode()


def access_rows() -> list[tuple]:
    return list(
        DataAccessLog.objects.order_by("id").values_list(
            "official_id", "subject_id", "resource", "object_id", "purpose", "channel"
        )
    )


# --- the officials' units -------------------------------------------------------------------------


def test_the_list_shows_only_the_officials_units(
    citizen, other_citizen, official, other_official, province_admin
):
    mine, theirs = new(citizen), new(other_citizen, ward=6001)

    response = admin_client(official).get(REPORTS)

    assert [r.pk for r in response.context["cl"].result_list] == [mine]
    assert f"{REPORTS}{theirs}/change/" not in response.content.decode()
    assert listed(other_official) == [theirs]
    assert listed(province_admin) == sorted([mine, theirs])
    assert DataAccessLog.objects.count() == 0  # a list names nobody


def test_another_units_report_is_not_opened(citizen, other_citizen, official):
    theirs = new(other_citizen, ward=6001)

    opened = admin_client(official).get(f"{REPORTS}{theirs}/change/")
    history = admin_client(official).get(f"{REPORTS}{theirs}/history/")
    followed = admin_client(official).get(f"{REPORTS}{theirs}/change/", follow=True)

    # What Django's admin does with an object outside get_queryset: back to the index.
    assert (opened.status_code, opened["Location"]) == (302, "/admin/")
    assert (history.status_code, history["Location"]) == (302, "/admin/")
    text = followed.content.decode()
    assert [str(m) for m in followed.context["messages"]] == [
        f"field report with ID “{theirs}” doesn’t exist. Perhaps it was deleted?"
    ]
    for trace in ("Trần Thị Bình", "+84987654321", f"báo bởi {other_citizen.pk}", "Đoàn Kết"):
        assert trace not in text
    assert DataAccessLog.objects.count() == 0


def test_the_filters(citizen, other_citizen, official, clock):
    clock(at(2))
    waiting_long = new(citizen)  # acknowledgement due Wednesday 4
    accepted = new(citizen)  # resolution due Monday 23
    act(official, accepted, "accept")
    escalated = new(citizen)
    act(official, escalated, "accept")
    clock(at(3))
    assert resolve(client_for(official), escalated).status_code == 200
    clock(at(4))
    disputed = client_for(citizen).post(
        f"{URL}{escalated}/dispute/", {"reason": "Đèn vẫn chưa sáng."}, format="json"
    )
    assert disputed.status_code == 200, disputed.content
    done = new(citizen)
    act(official, done, "accept")
    assert resolve(client_for(official), done).status_code == 200
    elsewhere = new(other_citizen, ward=6001)  # overdue too, but not the official's
    clock(at(23))
    fresh = new(citizen)  # acknowledgement due Wednesday 25
    clock(at(24))  # Tuesday: the resolutions due on Monday 23 are overdue

    assert listed(official, {"status": "submitted"}) == sorted([waiting_long, fresh])
    assert listed(official, {"status": "in_progress"}) == [escalated]
    assert listed(official, {"overdue": "yes"}) == sorted([waiting_long, accepted, escalated])
    assert listed(official, {"escalated__exact": "1"}) == [escalated]
    assert listed(official, {"escalated__exact": "0"}) == sorted(
        [waiting_long, accepted, done, fresh]
    )
    assert elsewhere not in listed(official)


def test_the_overdue_filter_spares_what_is_not_yet_due(citizen, official, clock):
    clock(at(2))
    report_id = new(citizen)

    clock(at(4, 15))  # the acknowledgement's own due day: not late yet
    on_due_day = listed(official, {"overdue": "yes"})
    clock(at(5))
    next_day = listed(official, {"overdue": "yes"})

    assert (on_due_day, next_day) == ([], [report_id])


# --- anonymity and the access log ---------------------------------------------------------------


@pytest.mark.parametrize("reader", ["official", "province_admin"])
def test_an_anonymous_reports_page_names_nobody_and_logs_nothing(
    citizen, official, reader, request
):
    report_id = new(citizen, anonymous=True)
    act(official, report_id, "accept")
    user = request.getfixturevalue(reader)

    response = admin_client(user).get(f"{REPORTS}{report_id}/change/")

    assert response.status_code == 200
    text = response.content.decode()
    for trace in CITIZEN_TRACES:
        assert trace not in text
    assert f"/admin/accounts/user/{citizen.pk}/" not in text
    assert "field-reporter" not in text
    fields = [f for fieldset in response.context["adminform"] for line in fieldset for f in line]
    assert "reporter" not in [f.field["name"] for f in fields]
    # The timeline is on the page, with the role of who acted and no actor.
    assert "Accepted" in text
    assert "Citizen" in text
    assert DataAccessLog.objects.count() == 0


def test_a_named_reports_page_shows_the_reporter_and_is_logged(citizen, official):
    report_id = new(citizen)

    text = page(official, report_id)

    assert "Nguyễn Văn An" in text
    assert "field-reporter" in text
    assert access_rows() == [
        (official.pk, citizen.pk, "report", str(report_id), "admin_view", "admin")
    ]


def test_a_refused_post_is_not_logged_as_a_read(citizen, official):
    report_id = new(citizen)

    response = admin_client(official).post(f"{REPORTS}{report_id}/change/", {"status": "closed"})

    assert response.status_code == 403
    assert access_rows() == []


# --- read only ------------------------------------------------------------------------------------


def test_no_report_is_added_changed_or_deleted_in_the_admin(citizen, official, province_admin):
    report_id = new(citizen)
    before = FieldReport.objects.filter(pk=report_id).values().get()

    for user in (official, province_admin):
        client = admin_client(user)
        assert client.get(f"{REPORTS}add/").status_code == 403
        added = client.post(
            f"{REPORTS}add/", {"category": "lighting", "unit": 6040, "description": "x"}
        )
        assert added.status_code == 403
        changed = client.post(
            f"{REPORTS}{report_id}/change/",
            {"status": "closed", "escalated": "on", "description": "Đã sửa trong admin"},
        )
        assert changed.status_code == 403
        assert client.get(f"{REPORTS}{report_id}/delete/").status_code == 403
        assert client.post(f"{REPORTS}{report_id}/delete/", {"post": "yes"}).status_code == 403
        bulk = client.post(
            REPORTS, {"action": "delete_selected", "_selected_action": [report_id], "post": "yes"}
        )
        # The list's only actions are the exports: delete_selected is unknown, the list again.
        assert bulk.status_code == 302
        listed = client.get(REPORTS)
        assert [name for name, _label in listed.context["action_form"].fields["action"].choices][
            1:
        ] == ["export_csv", "export_xlsx"]

    assert FieldReport.objects.count() == 1
    assert FieldReport.objects.filter(pk=report_id).values().get() == before
    response = admin_client(official).get(f"{REPORTS}{report_id}/change/")
    assert response.context["has_change_permission"] is False
    assert 'name="status"' not in response.content.decode()
    assert 'name="description"' not in response.content.decode()


# --- report categories ----------------------------------------------------------------------------


CATEGORY_FORM = {
    "code": "trees",
    "name": "Cây xanh",
    "name_en": "Trees",
    "description": "Cây đổ, cành gãy.",
    "group": "Hạ tầng",
    "handled_by": "Công chức Địa chính – Xây dựng",
    "acknowledge_days": "2",
    "information_days": "5",
    "resolve_days": "10",
    "active": "on",
    "position": "9",
}


def test_the_province_administrator_adds_and_changes_a_category(province_admin):
    client = admin_client(province_admin)

    added = client.post(f"{CATEGORIES}add/", CATEGORY_FORM)

    assert added.status_code == 302, added.context["adminform"].form.errors if added.context else ""
    trees = ReportCategory.objects.get(code="trees")
    assert (trees.name, trees.resolve_days, trees.active) == ("Cây xanh", 10, True)

    changed = client.post(
        f"{CATEGORIES}{trees.pk}/change/",
        {**CATEGORY_FORM, "name": "Cây xanh đô thị", "resolve_days": "12", "active": ""},
    )

    assert changed.status_code == 302
    trees.refresh_from_db()
    assert (trees.name, trees.resolve_days, trees.active) == ("Cây xanh đô thị", 12, False)


def test_a_category_with_a_deadline_out_of_order_is_refused(province_admin):
    response = admin_client(province_admin).post(
        f"{CATEGORIES}add/", {**CATEGORY_FORM, "acknowledge_days": "5", "resolve_days": "3"}
    )

    assert response.status_code == 200
    assert response.context["adminform"].form.errors
    assert not ReportCategory.objects.filter(code="trees").exists()


def test_the_ward_official_cannot_add_or_change_a_category(official):
    lighting = ReportCategory.objects.get(code="lighting")
    client = admin_client(official)

    assert client.get(f"{CATEGORIES}add/").status_code == 403
    assert client.post(f"{CATEGORIES}add/", CATEGORY_FORM).status_code == 403
    assert client.get(f"{CATEGORIES}{lighting.pk}/change/").status_code == 403
    changed = client.post(
        f"{CATEGORIES}{lighting.pk}/change/", {**CATEGORY_FORM, "code": "lighting"}
    )
    assert changed.status_code == 403

    assert not ReportCategory.objects.filter(code="trees").exists()
    lighting.refresh_from_db()
    assert (lighting.name, lighting.resolve_days) == ("Chiếu sáng công cộng", 15)


def test_nobody_deletes_a_category(province_admin, official):
    lighting = ReportCategory.objects.get(code="lighting")
    count = ReportCategory.objects.count()

    for user in (province_admin, official):
        client = admin_client(user)
        assert client.get(f"{CATEGORIES}{lighting.pk}/delete/").status_code == 403
        assert client.post(f"{CATEGORIES}{lighting.pk}/delete/", {"post": "yes"}).status_code == 403

    listing = admin_client(province_admin).get(CATEGORIES)
    assert listing.context["action_form"] is None  # no delete_selected, the only action
    assert ReportCategory.objects.count() == count
    assert ReportCategory.objects.filter(pk=lighting.pk).exists()


# --- Open311 applications -------------------------------------------------------------------------


APPLICATION_FORM = {"name": "Bản đồ số Lạng Sơn", "contact": "it@langson.gov.vn", "active": "on"}


def add_application(user: User, form: dict | None = None) -> tuple[list[str], str]:
    """POST the add form, following the redirect: the messages and the page's text."""
    response = admin_client(user).post(f"{APPLICATIONS}add/", form or APPLICATION_FORM, follow=True)
    assert response.status_code == 200
    assert response.redirect_chain == [(APPLICATIONS, 302)]
    return [str(m) for m in response.context["messages"]], response.content.decode()


def issued_key(messages: list[str]) -> str:
    keys = [key for message in messages for key in KEY.findall(message)]
    assert len(keys) == 1, messages
    return keys[0]


def open311_post(key: str) -> object:
    return APIClient().post(
        OPEN311_REQUESTS,
        {
            "api_key": key,
            "service_code": "lighting",
            "lat": "22.257",
            "long": "106.474",
            "description": "Đèn đường hỏng trước chợ Thất Khê.",
        },
        format="multipart",
    )


def test_adding_an_application_shows_its_key_once_and_keeps_its_hash(
    province_admin, ward_with_centre
):
    messages, text = add_application(province_admin)

    key = issued_key(messages)
    assert messages.count(f"The api_key of Bản đồ số Lạng Sơn, shown only now: {key}") == 1
    assert text.count(key) == 1
    client = Open311Client.objects.get()
    assert (client.name, client.contact, client.active) == (
        "Bản đồ số Lạng Sơn",
        "it@langson.gov.vn",
        True,
    )
    assert len(client.key_hash) == 64
    assert client.key_hash == hashlib.sha256(key.encode()).hexdigest()
    assert client.key_prefix == key[:8]
    # Nowhere in plain text: not in the row, not in its account, not in the admin's log.
    for value in Open311Client.objects.filter(pk=client.pk).values().get().values():
        assert key not in str(value)
    for value in User.objects.filter(pk=client.account_id).values().get().values():
        assert key not in str(value)
    for entry in LogEntry.objects.values_list("object_repr", "change_message"):
        assert key not in " ".join(entry)
    # Not on the application's page afterwards, nor in the list.
    again = admin_client(province_admin)
    assert key not in again.get(f"{APPLICATIONS}{client.pk}/change/").content.decode()
    assert key not in again.get(APPLICATIONS).content.decode()

    response = open311_post(key)

    assert response.status_code == 201, response.content
    report = FieldReport.objects.get(pk=int(response.json()[0]["service_request_id"]))
    assert (report.source, report.open311_client_id, report.reporter_id, report.unit_id) == (
        ReportSource.OPEN311,
        client.pk,
        client.account_id,
        6040,
    )


def test_a_wrong_key_posts_nothing(province_admin, ward_with_centre):
    messages, _text = add_application(province_admin)
    key = issued_key(messages)

    response = open311_post(key[:-1] + ("A" if key[-1] != "A" else "B"))

    assert response.status_code == 403
    assert FieldReport.objects.count() == 0


def test_an_application_added_inactive_is_inactive(province_admin, ward_with_centre):
    messages, _text = add_application(province_admin, {**APPLICATION_FORM, "active": ""})
    key = issued_key(messages)

    assert Open311Client.objects.get().active is False
    assert open311_post(key).status_code == 403
    assert FieldReport.objects.count() == 0


def test_the_ward_official_cannot_add_an_application(official):
    client = admin_client(official)

    assert client.get(f"{APPLICATIONS}add/").status_code == 403
    response = client.post(f"{APPLICATIONS}add/", APPLICATION_FORM)

    assert response.status_code == 403
    assert Open311Client.objects.count() == 0
    assert list(get_messages(response.wsgi_request)) == []


def test_nobody_deletes_an_application(province_admin):
    add_application(province_admin)
    client_id = Open311Client.objects.get().pk

    response = admin_client(province_admin).post(
        f"{APPLICATIONS}{client_id}/delete/", {"post": "yes"}
    )

    assert response.status_code == 403
    assert Open311Client.objects.filter(pk=client_id).exists()


# --- what the list costs --------------------------------------------------------------------------


@pytest.mark.parametrize("count", [1, 5])
def test_the_list_costs_the_same_queries_for_any_count(
    citizen, official, count, django_assert_num_queries, clock
):
    clock(at(2))
    for n in range(count):
        report_id = new(citizen, anonymous=n % 2 == 1)
        if n % 3 == 1:
            act(official, report_id, "accept")
    client = admin_client(official)

    # The session; the user; their permissions and their groups' (one query); their official
    # profile; their units from the link table, once for the page (official_units_loaded); the
    # category filter's and the unit filter's rows; the page's count; its rows, category and unit
    # joined; the date drill-down's first and last day, and its days. Nothing per row: the
    # overdue column reads the row.
    with django_assert_num_queries(11):
        response = client.get(REPORTS)

    assert sorted(r.pk for r in response.context["cl"].result_list) == list(
        FieldReport.objects.order_by("pk").values_list("pk", flat=True)
    )
    assert len(response.context["cl"].result_list) == count
