"""Exports from the admin lists (config.admin_export): the selected rows of the official's
scope, as CSV (UTF-8 with a byte order mark) or as an Excel workbook; CCCD and phone numbers
masked unless the official may see them whole; every citizen a file names in the access log,
in one INSERT; a cap on the rows; the same queries for 5 rows as for 20."""

from __future__ import annotations

import io
from datetime import datetime, timedelta
from io import StringIO
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from django.contrib.messages import get_messages
from django.core.management import call_command
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from openpyxl import load_workbook

from accounts.models import DataAccessLog, User
from digital_address.models import Household
from notifications.actions.broadcasts import broadcast_create
from services.admin import DossierAdmin
from services.models import Dossier, FieldReport
from tests.conftest import client_for
from tests.factories import HouseholdFactory, HouseholdMemberFactory, UserFactory
from tests.services.reports import submit as submit_report

pytestmark = pytest.mark.django_db

LOCAL = ZoneInfo("Asia/Ho_Chi_Minh")
DOSSIERS = "/admin/services/dossier/"
REPORTS = "/admin/services/fieldreport/"
HOUSEHOLDS = "/admin/digital_address/household/"
USERS = "/admin/accounts/user/"
BROADCASTS = "/admin/notifications/broadcast/"
MARRIAGE = "1.004873"  # 3 working days
PROCEDURE = "1.004873 Thủ tục cấp Giấy xác nhận tình trạng hôn nhân"
CCCD = "020090001234"
DOSSIER_HEADER = (
    "dossier code,procedure,receiving unit,status,channel,submitted,appointment date,overdue,"
    "assigned to,applicant,citizen ID number"
)


@pytest.fixture(autouse=True)
def catalog(db) -> None:
    call_command("load_demo_procedures", stdout=StringIO())


@pytest.fixture(autouse=True)
def media(settings, tmp_path) -> Path:
    settings.MEDIA_ROOT = tmp_path
    return tmp_path


@pytest.fixture
def clock(monkeypatch):
    def set_clock(moment: datetime) -> None:
        monkeypatch.setattr(timezone, "now", lambda: moment)

    return set_clock


def at(day: int, hour: int = 9) -> datetime:
    return datetime(2026, 3, day, hour, tzinfo=LOCAL)  # 2 March 2026 is a Monday


@pytest.fixture
def neighbour(ward) -> User:
    """A second citizen of the ``ward`` fixture, without a CCCD on file."""
    return UserFactory(phone="+84912000002", full_name="Lê Thị Cúc", ward=ward)


@pytest.fixture
def citizen_with_id(citizen) -> User:
    User.objects.filter(pk=citizen.pk).update(national_id=CCCD)
    return citizen


def admin_client(user: User) -> Client:
    client = Client(HTTP_ACCEPT_LANGUAGE="en")
    client.force_login(user)
    return client


def submit(user: User, unit: int = 6040) -> Dossier:
    response = client_for(user).post(
        "/api/v1/dossiers/",
        {"procedure": MARRIAGE, "unit": unit, "form_data": {"purpose": "Kết hôn"}},
        format="json",
    )
    assert response.status_code == 201, response.content
    return Dossier.objects.get(code=response.json()["code"])


def export(user: User, changelist: str, action: str, rows: list, *, select_across: bool = False):
    return admin_client(user).post(
        changelist,
        {
            "action": action,
            "_selected_action": [row.pk for row in rows],
            "select_across": "1" if select_across else "0",
            "index": "0",
        },
    )


def csv_text(response) -> str:
    assert response.status_code == 200, response.status_code
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    content = b"".join(response.streaming_content)
    assert content.startswith(b"\xef\xbb\xbf")
    return content[3:].decode("utf-8")


def xlsx_rows(response) -> tuple[str, list[tuple]]:
    assert response.status_code == 200, response.status_code
    assert response["Content-Type"] == (
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    )
    sheet = load_workbook(io.BytesIO(response.content)).worksheets[0]
    return sheet.title, [tuple(row) for row in sheet.iter_rows(values_only=True)]


def exports_logged() -> list[tuple]:
    return list(
        DataAccessLog.objects.order_by("id").values_list(
            "official_id", "subject_id", "resource", "object_id", "purpose", "channel"
        )
    )


@pytest.fixture
def dossiers(citizen_with_id, neighbour, other_citizen, official, clock) -> dict[str, Dossier]:
    """Of ward A: the citizen's (received, assigned, due 5 March) and the neighbour's (just
    submitted); of ward B: the other citizen's."""
    clock(at(2, 9))
    mine = submit(citizen_with_id)
    desk = admin_client(official)
    assert desk.post(f"{DOSSIERS}{mine.pk}/act/receive/", {}).status_code == 302
    assert desk.post(f"{DOSSIERS}{mine.pk}/act/assign/", {"assignee": official.pk}).status_code == (
        302
    )
    clock(at(2, 10))
    theirs = submit(neighbour)
    elsewhere = submit(other_citizen, unit=6001)
    DataAccessLog.objects.all().delete()
    clock(at(9, 8))  # Monday 9 March: the citizen's dossier is overdue
    return {"mine": mine, "neighbour": theirs, "elsewhere": elsewhere}


# --- the dossiers' export, exactly ---------------------------------------------------------------


def test_the_csv_of_the_selected_dossiers(dossiers, official):
    mine, theirs = dossiers["mine"], dossiers["neighbour"]

    response = export(official, DOSSIERS, "export_csv", [mine, theirs])

    assert response["Content-Disposition"] == 'attachment; filename="dossier-20260309-0800.csv"'
    assert csv_text(response) == (
        f"{DOSSIER_HEADER}\r\n"
        f"H20.6040-260302-0002,{PROCEDURE},Xã Thất Khê,Submitted,Online,2026-03-02 10:00,,No,,"
        "Lê Thị Cúc,\r\n"
        f"H20.6040-260302-0001,{PROCEDURE},Xã Thất Khê,Being processed,Online,2026-03-02 09:00,"
        "2026-03-05,Yes,Lý Thị Cán Bộ,Nguyễn Văn An,020*******34\r\n"
    )


def test_the_workbook_of_the_selected_dossiers(dossiers, official):
    mine, theirs = dossiers["mine"], dossiers["neighbour"]

    response = export(official, DOSSIERS, "export_xlsx", [mine, theirs])

    assert response["Content-Disposition"] == 'attachment; filename="dossier-20260309-0800.xlsx"'
    assert xlsx_rows(response) == (
        "dossiers",
        [
            tuple(DOSSIER_HEADER.split(",")),
            (
                "H20.6040-260302-0002",
                PROCEDURE,
                "Xã Thất Khê",
                "Submitted",
                "Online",
                datetime(2026, 3, 2, 10, 0),
                None,
                "No",
                None,
                "Lê Thị Cúc",
                None,
            ),
            (
                "H20.6040-260302-0001",
                PROCEDURE,
                "Xã Thất Khê",
                "Being processed",
                "Online",
                datetime(2026, 3, 2, 9, 0),
                datetime(2026, 3, 5, 0, 0),
                "Yes",
                "Lý Thị Cán Bộ",
                "Nguyễn Văn An",
                "020*******34",
            ),
        ],
    )


def test_the_export_is_logged_once_per_citizen_named(dossiers, official):
    mine, theirs = dossiers["mine"], dossiers["neighbour"]

    export(official, DOSSIERS, "export_xlsx", [mine, theirs])

    assert exports_logged() == [
        (official.pk, theirs.applicant_id, "dossier", theirs.code, "admin_export", "admin"),
        (official.pk, mine.applicant_id, "dossier", mine.code, "admin_export", "admin"),
    ]


def test_select_all_exports_the_officials_units_only(dossiers, official):
    mine, theirs, elsewhere = dossiers["mine"], dossiers["neighbour"], dossiers["elsewhere"]

    every = export(official, DOSSIERS, "export_csv", [elsewhere], select_across=True)
    b_only = export(official, DOSSIERS, "export_csv", [elsewhere])

    assert [line.split(",")[0] for line in csv_text(every).splitlines()[1:]] == [
        theirs.code,
        mine.code,
    ]
    assert csv_text(b_only) == f"{DOSSIER_HEADER}\r\n"
    assert [row[3] for row in exports_logged()] == [theirs.code, mine.code]


def test_a_province_administrator_with_the_permission_sees_whole_numbers(dossiers, province_admin):
    mine = dossiers["mine"]

    response = export(province_admin, DOSSIERS, "export_csv", [mine])

    assert csv_text(response).splitlines()[1].endswith(",Nguyễn Văn An,020090001234")
    assert exports_logged() == [
        (province_admin.pk, mine.applicant_id, "dossier", mine.code, "admin_export", "admin")
    ]


def test_more_rows_than_the_cap_are_refused_and_nothing_is_logged(dossiers, official, monkeypatch):
    monkeypatch.setattr(DossierAdmin, "export_max_rows", 2)
    mine, theirs = dossiers["mine"], dossiers["neighbour"]
    # Two rows of the official's units more, beyond the cap of 2.
    submit(mine.applicant)

    refused = export(official, DOSSIERS, "export_csv", [mine], select_across=True)
    two = export(official, DOSSIERS, "export_xlsx", [mine, theirs])

    assert refused.status_code == 302
    assert refused["Location"] == DOSSIERS
    assert [str(m) for m in get_messages(refused.wsgi_request)] == [
        "More than 2 rows are selected: at most 2 can be exported at once. Narrow the list "
        "with the filters or the search, then export again."
    ]
    assert len(xlsx_rows(two)[1]) == 3
    assert [row[3] for row in exports_logged()] == [theirs.code, mine.code]


@pytest.mark.parametrize("rows", [5, 20])
def test_an_export_costs_the_same_queries_for_any_number_of_rows(rows, citizen, official, clock):
    clock(at(2, 9))
    dossiers = [submit(citizen) for _ in range(rows)]
    client = admin_client(official)
    form = {"action": "export_csv", "_selected_action": [d.pk for d in dossiers], "index": "0"}

    with CaptureQueriesContext(connection) as queries:
        response = client.post(DOSSIERS, form)
        content = b"".join(response.streaming_content)

    assert content.count(b"\r\n") == rows + 1
    # Session, user, official profile, units, permissions; the choices of the two related-only
    # filters (Django builds the filters again for the action) and the list's count; the rows
    # with their procedure, unit, assignee and applicant; the access log's one INSERT.
    assert len(queries) == 12, [q["sql"] for q in queries.captured_queries]


# --- citizens, households, reports, broadcasts ----------------------------------------------


def test_the_citizens_export_masks_their_numbers_for_a_ward_official(
    citizen_with_id, neighbour, official
):
    response = export(official, USERS, "export_csv", [citizen_with_id, neighbour])

    assert csv_text(response) == (
        "full name,phone number,citizen ID number\r\n"
        # A cell starting with "+" would be a formula to a spreadsheet.
        "Lê Thị Cúc,'+849*****002,\r\n"
        "Nguyễn Văn An,'+849*****678,020*******34\r\n"
    )
    assert exports_logged() == [
        (official.pk, neighbour.pk, "profile", str(neighbour.pk), "admin_export", "admin"),
        (
            official.pk,
            citizen_with_id.pk,
            "profile",
            str(citizen_with_id.pk),
            "admin_export",
            "admin",
        ),
    ]


def test_the_citizens_export_shows_whole_numbers_to_a_province_administrator(
    citizen_with_id, province_admin
):
    response = export(province_admin, USERS, "export_xlsx", [citizen_with_id])

    assert xlsx_rows(response) == (
        "users",
        [
            ("full name", "phone number", "citizen ID number"),
            ("Nguyễn Văn An", "+84912345678", CCCD),
        ],
    )
    assert exports_logged() == [
        (
            province_admin.pk,
            citizen_with_id.pk,
            "profile",
            str(citizen_with_id.pk),
            "admin_export",
            "admin",
        )
    ]


def test_the_households_export_names_nobody(citizen, ward, official, clock):
    clock(at(2, 9))
    home = HouseholdFactory(
        ward=ward, house_number="12", street="Đường Hoàng Văn Thụ", hamlet="Khối 3", head=citizen
    )
    HouseholdMemberFactory(household=home, full_name="Nguyễn Văn Bé")
    HouseholdMemberFactory(household=home, full_name="Nguyễn Văn Cũ", ended_at=at(2, 8))
    # What a citizen typed is never a formula in the official's spreadsheet.
    trap = HouseholdFactory(ward=ward, street='=HYPERLINK("http://x.example","Bấm")', hamlet="")

    csv_response = export(official, HOUSEHOLDS, "export_csv", [home, trap])
    xlsx_response = export(official, HOUSEHOLDS, "export_xlsx", [home, trap])

    trap_code, home_code = (
        Household.objects.get(pk=pk).formatted_code for pk in (trap.pk, home.pk)
    )
    assert csv_text(csv_response) == (
        "digital address code,ward,address,verification,current members\r\n"
        f'{trap_code},Xã Thất Khê,"\'=HYPERLINK(""http://x.example"",""Bấm"")",'
        "Pending verification,0\r\n"
        f'{home_code},Xã Thất Khê,"12, Đường Hoàng Văn Thụ, Khối 3",Pending verification,2\r\n'
    )
    _title, rows = xlsx_rows(xlsx_response)
    assert rows[1] == (
        trap_code,
        "Xã Thất Khê",
        '=HYPERLINK("http://x.example","Bấm")',
        "Pending verification",
        0,
    )
    sheet = load_workbook(io.BytesIO(xlsx_response.content)).worksheets[0]
    assert sheet["C2"].data_type == "s"
    assert exports_logged() == []


def test_the_reports_export_never_names_a_reporter(citizen, official, province_admin, clock):
    clock(at(2, 9))
    named = submit_report(client_for(citizen), ward=6040)["id"]
    clock(at(2, 10))
    anonymous = submit_report(client_for(citizen), ward=6040, anonymous=True)["id"]
    DataAccessLog.objects.all().delete()
    clock(at(9, 8))

    for user in (official, province_admin):
        csv_response = admin_client(user).post(
            REPORTS,
            {"action": "export_csv", "_selected_action": [named, anonymous], "index": "0"},
        )
        xlsx_response = admin_client(user).post(
            REPORTS,
            {"action": "export_xlsx", "_selected_action": [named, anonymous], "index": "0"},
        )
        text = csv_text(csv_response)
        cells = " ".join(str(cell) for row in xlsx_rows(xlsx_response)[1] for cell in row)

        assert text == (
            "ID,category,responsible unit,status,submitted,acknowledge by,resolve by,overdue,"
            "anonymous\r\n"
            f"{anonymous},Chiếu sáng công cộng,Xã Thất Khê,Submitted,2026-03-02 10:00,"
            "2026-03-04,2026-03-23,Yes,Yes\r\n"
            f"{named},Chiếu sáng công cộng,Xã Thất Khê,Submitted,2026-03-02 09:00,"
            "2026-03-04,2026-03-23,Yes,No\r\n"
        )
        for trace in ("Nguyễn Văn An", "+84912345678", "912345678", "849*****678"):
            assert trace not in text
            assert trace not in cells
    assert exports_logged() == []


def test_the_broadcasts_export(broadcaster, ward, clock):
    clock(at(9, 8))
    notice = broadcast_create(
        official=broadcaster,
        title="Tiêm chủng mở rộng",
        body="Thứ Bảy tại trạm y tế.",
        kind="information",
        ward_codes=[ward.code],
        scheduled_at=at(9, 15),
    )

    response = export(broadcaster, BROADCASTS, "export_csv", [notice])

    assert csv_text(response) == (
        "title,kind,status,send at,recipients\r\n"
        "Tiêm chủng mở rộng,Information,Scheduled,2026-03-09 15:00,0\r\n"
    )
    assert exports_logged() == []


def test_the_export_actions_are_offered_with_the_view_permission(dossiers, official):
    form = admin_client(official).get(DOSSIERS).context["action_form"]

    assert [name for name, _label in form.fields["action"].choices if name] == [
        "export_csv",
        "export_xlsx",
    ]


def _citizens(ward, count: int) -> list:
    return [UserFactory(ward=ward) for _ in range(count)]


def _households(ward, count: int) -> list:
    homes = [HouseholdFactory(ward=ward, head=UserFactory(ward=ward)) for _ in range(count)]
    for home in homes:
        HouseholdMemberFactory(household=home)
    return homes


def _reports(ward, count: int) -> list:
    ids = [
        submit_report(client_for(UserFactory(ward=ward)), ward=ward.code)["id"]
        for _ in range(count)
    ]
    return list(FieldReport.objects.filter(pk__in=ids))


def _broadcasts(ward, count: int) -> list:
    superuser = User.objects.filter(is_superuser=True).first() or User.objects.create_superuser(
        phone="+84900000097", password="Mat-khau-9", full_name="Quản Trị"
    )
    return [
        broadcast_create(
            official=superuser,
            title=f"Thông báo {n}",
            body="Nội dung.",
            kind="information",
            ward_codes=[ward.code],
            scheduled_at=timezone.now() + timedelta(hours=1),
        )
        for n in range(count)
    ]


@pytest.mark.parametrize(
    ("changelist", "make", "reader"),
    [
        (USERS, _citizens, "official"),
        (HOUSEHOLDS, _households, "official"),
        (REPORTS, _reports, "official"),
        (BROADCASTS, _broadcasts, "broadcaster"),
    ],
)
def test_every_export_costs_the_same_queries_for_2_rows_as_for_6(
    changelist, make, reader, ward, request
):
    user = request.getfixturevalue(reader)
    client = admin_client(user)

    def queries_of_export(rows: list) -> int:
        form = {"action": "export_csv", "_selected_action": [r.pk for r in rows], "index": "0"}
        with CaptureQueriesContext(connection) as queries:
            content = b"".join(client.post(changelist, form).streaming_content)
        assert content.count(b"\r\n") == len(rows) + 1
        return len(queries)

    rows = make(ward, 2)
    two = queries_of_export(rows)
    six = queries_of_export(rows + make(ward, 4))

    assert six == two
