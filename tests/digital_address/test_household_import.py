"""CSV import of households (digital_address.actions.imports): valid rows are imported whole,
invalid ones come back per row and are not written; the file-level errors write nothing; the
API's permissions and scoping; chunking; the management command's output and report; values
the database could not store (a NUL, a huge number, a row it refuses all the same) and an
unexpected error in the middle of an import."""

from __future__ import annotations

import csv
import io
import re
import sqlite3
import threading
import time
from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.core.management import CommandError, call_command
from django.db import DatabaseError, connection, connections, transaction
from django.test import override_settings
from django.utils import timezone, translation

from accounts.actions.officials import official_create_or_update
from accounts.models import Role
from digital_address.actions.imports import ImportSummary, households_import
from digital_address.errors import ImportFileInvalid
from digital_address.household_csv import RowError
from digital_address.models import (
    ExternalAddressCode,
    Household,
    HouseholdEvent,
    HouseholdMember,
    WardAddressSequence,
)
from tests.conftest import client_for
from tests.factories import PASSWORD, WardFactory

pytestmark = pytest.mark.django_db

URL = "/api/v1/official/households/import/"
HEADER = (
    "ward_code,import_ref,house_number,street,hamlet,latitude,longitude,"
    "head_full_name,head_date_of_birth,external_scheme,external_code"
)
THAT_KHE = ("22.256", "106.463")  # inside ward 6040 (Thất Khê, Lạng Sơn)


def csv_text(*lines: str, header: str = HEADER) -> str:
    return "\r\n".join([header, *lines]) + "\r\n"


def run(
    text: str, *, actor=None, allowed=None, chunk_size: int = 2000
) -> tuple[ImportSummary, list[RowError], list[ImportSummary]]:
    errors: list[RowError] = []
    progress: list[ImportSummary] = []
    with translation.override("en"):
        summary = households_import(
            lines=io.StringIO(text, newline=""),
            actor=actor,
            allowed_wards=allowed,
            on_error=errors.append,
            progress=progress.append,
            chunk_size=chunk_size,
        )
    return summary, errors, progress


def counts() -> tuple[int, int, int, int]:
    return (
        Household.objects.count(),
        HouseholdMember.objects.count(),
        HouseholdEvent.objects.count(),
        ExternalAddressCode.objects.count(),
    )


def good_row(ref: str, *, ward: int = 6040, code: str = "", name: str = "Hoàng Văn Lục") -> str:
    scheme = "national" if code else ""
    return f"{ward},{ref},12,Đường Hoàng Văn Thụ,Khối 3,,,{name},,{scheme},{code}"


# --- A good file ------------------------------------------------------------------------------


def test_a_good_file_imports_every_row_whole(ward, official):
    text = csv_text(
        f"6040,SH-001,12,Phố Thất Khê,Khối 3,{THAT_KHE[0]},{THAT_KHE[1]},Hoàng Văn Lục,"
        "1961-03-07,national, vn 0604 0123 ",
        "06040,,,,Bản Piềng,,,Nông Thị Mai,07/03/1975,,",
        '6040,SH-003,"5, ngõ 2",,,,,"Lý Văn ""Ba"" Tư",,,',
    )

    summary, errors, progress = run(text, actor=official)

    assert summary == ImportSummary(rows_read=3, imported=3, skipped_existing=0, failed=0)
    assert errors == []
    assert progress == [summary]
    households = list(Household.objects.order_by("id"))
    assert [h.code for h in households] == ["06040000019", "06040000024", "06040000035"]
    assert [h.formatted_code for h in households] == [
        "06040-00001-9",
        "06040-00002-4",
        "06040-00003-5",
    ]
    first, second, third = households
    assert (first.ward_id, first.house_number, first.street, first.hamlet) == (
        6040,
        "12",
        "Phố Thất Khê",
        "Khối 3",
    )
    assert (first.latitude, first.longitude) == (Decimal("22.256000"), Decimal("106.463000"))
    assert first.plus_code == "7PJ87F47+C62"
    assert (first.import_ref, first.source, first.status) == ("SH-001", "import", "pending")
    assert first.created_by == official
    assert (second.hamlet, second.latitude, second.plus_code, second.import_ref) == (
        "Bản Piềng",
        None,
        "",
        None,
    )
    assert (third.house_number, third.import_ref) == ("5, ngõ 2", "SH-003")
    members = list(
        HouseholdMember.objects.order_by("id").values_list(
            "household_id", "user_id", "full_name", "date_of_birth", "relationship", "ended_at"
        )
    )
    assert members == [
        (first.pk, None, "Hoàng Văn Lục", date(1961, 3, 7), "head", None),
        (second.pk, None, "Nông Thị Mai", date(1975, 3, 7), "head", None),
        (third.pk, None, 'Lý Văn "Ba" Tư', None, "head", None),
    ]
    events = list(
        HouseholdEvent.objects.order_by("id").values_list(
            "household_id", "actor_id", "kind", "data"
        )
    )
    assert events == [
        (first.pk, official.pk, "imported", {"import_ref": "SH-001"}),
        (second.pk, official.pk, "imported", {}),
        (third.pk, official.pk, "imported", {"import_ref": "SH-003"}),
    ]
    assert list(
        ExternalAddressCode.objects.values_list("household_id", "scheme", "code", "attached_by_id")
    ) == [(first.pk, "national", "VN06040123", official.pk)]
    assert WardAddressSequence.objects.get(ward_id=6040).last_value == 3


def test_the_excel_byte_order_mark_and_empty_lines_are_accepted(ward):
    text = "\ufeff" + csv_text(good_row("A1"), "", ",,,,,,,,,,", good_row("A2"))

    summary, errors, _progress = run(text)

    assert summary == ImportSummary(rows_read=2, imported=2, skipped_existing=0, failed=0)
    assert errors == []


def test_columns_may_come_in_any_order_and_the_optional_ones_may_be_left_out(ward):
    text = csv_text("Nguyễn Thị Hoa, 6040 ,Thôn Nà Pàn", header=" Head_Full_Name ,WARD_CODE,hamlet")

    summary, errors, _progress = run(text)

    assert (summary.imported, errors) == (1, [])
    household = Household.objects.get()
    assert (household.hamlet, household.members.get().full_name) == (
        "Thôn Nà Pàn",
        "Nguyễn Thị Hoa",
    )


# --- Bad rows ---------------------------------------------------------------------------------


def test_each_bad_row_is_reported_with_its_line_and_column_and_not_written(ward, other_ward):
    tomorrow = (timezone.localdate() + timedelta(days=1)).isoformat()
    text = csv_text(
        good_row("R02", code="VN-1"),  # line 2: imported
        ",R03,1,,,,,Ma Văn A,,,",  # missing ward
        "99999,R04,1,,,,,Ma Văn A,,,",  # unknown ward
        "60a,R05,1,,,,,Ma Văn A,,,",  # not a ward code
        "6040,R06,,,,,,Ma Văn A,,,",  # no address part
        "6040,R07,1,,,22.256,,Ma Văn A,,,",  # latitude without longitude
        "6040,R08,1,,,48.8566,2.3522,Ma Văn A,,,",  # outside Vietnam
        "6040,R09,1,,,abc,106.4,Ma Văn A,,,",  # not a number
        "6040,R10,1,,,,,Ma Văn A,31/02/1990,,",  # no such date
        "6040,R11,1,,,,,Ma Văn A,1990.01.02,,",  # another date format
        f"6040,R12,1,,,,,Ma Văn A,{tomorrow},,",  # born tomorrow
        f"6040,R13,1,,,,,{'A' * 151},,,",  # name too long
        "6040,R14,1,,,,,,,,",  # no name
        good_row("R15", code="vn-1"),  # the code of line 2 again
        "6040,R16,1,,,,,Ma Văn A,,galaxy,X1",  # unknown scheme
        "6040,R17,1,,,,,Ma Văn A,,national,",  # scheme without code
        "6040,R18,1,,,,,Ma Văn A",  # too few values
        f"6040,{'R' * 65},{'9' * 51},,,,,Ma Văn A,,,",  # ref and house number too long
    )

    summary, errors, _progress = run(text)

    assert summary == ImportSummary(rows_read=18, imported=1, skipped_existing=0, failed=17)
    assert errors == [
        RowError(3, {"ward_code": ["This field is required."]}),
        RowError(4, {"ward_code": ["No commune-level unit has this code."]}),
        RowError(5, {"ward_code": ["A ward code is 1 to 5 digits."]}),
        RowError(6, {"row": ["Give a house number, a street or a hamlet."]}),
        RowError(7, {"longitude": ["Give both the latitude and the longitude, or neither."]}),
        RowError(
            8,
            {
                "latitude": ["This location is outside Vietnam."],
                "longitude": ["This location is outside Vietnam."],
            },
        ),
        RowError(9, {"latitude": ["Enter a number."]}),
        RowError(10, {"head_date_of_birth": ["Enter a date as YYYY-MM-DD or DD/MM/YYYY."]}),
        RowError(11, {"head_date_of_birth": ["Enter a date as YYYY-MM-DD or DD/MM/YYYY."]}),
        RowError(12, {"head_date_of_birth": ["A date of birth cannot be in the future."]}),
        RowError(
            13,
            {"head_full_name": ["Ensure this value has at most 150 characters (it has 151)."]},
        ),
        RowError(14, {"head_full_name": ["This field is required."]}),
        RowError(15, {"external_code": ["This code is also on line 2 of the file."]}),
        RowError(
            16,
            {
                "external_scheme": [
                    "Select a valid choice. galaxy is not one of the available choices."
                ]
            },
        ),
        RowError(17, {"external_code": ["Give both the scheme and the code, or neither."]}),
        RowError(18, {"row": ["This row has 8 values but the header names 11 columns."]}),
        RowError(
            19,
            {
                "import_ref": ["Ensure this value has at most 64 characters (it has 65)."],
                "house_number": ["Ensure this value has at most 50 characters (it has 51)."],
            },
        ),
    ]
    assert counts() == (1, 1, 1, 1)
    assert Household.objects.get().import_ref == "R02"
    assert WardAddressSequence.objects.get(ward_id=6040).last_value == 1


def test_an_external_code_already_attached_to_a_household_is_refused(ward):
    run(csv_text(good_row("OLD", code="VP 123")))

    summary, errors, _progress = run(csv_text(good_row("NEW", code="vp123"), good_row("NEW2")))

    assert summary == ImportSummary(rows_read=2, imported=1, skipped_existing=0, failed=1)
    assert errors == [
        RowError(2, {"external_code": ["This code is already attached to another household."]})
    ]
    assert counts() == (2, 2, 2, 1)
    assert not Household.objects.filter(import_ref="NEW").exists()


def test_rows_of_a_ward_the_importer_is_not_an_official_of_fail(ward, other_ward):
    text = csv_text(good_row("A", ward=6040), good_row("B", ward=6001))

    summary, errors, _progress = run(text, allowed=frozenset({6001}))

    assert summary == ImportSummary(rows_read=2, imported=1, skipped_existing=0, failed=1)
    assert errors == [RowError(2, {"ward_code": ["You are not an official of this ward."]})]
    assert list(Household.objects.values_list("ward_id", "code")) == [(6001, "06001000017")]


# --- Importing again --------------------------------------------------------------------------


def test_importing_the_same_file_again_skips_the_rows_already_imported(ward):
    text = csv_text(good_row("SH-1", code="N1"), good_row("SH-2"))
    run(text)
    before = counts()

    summary, errors, _progress = run(text)

    assert summary == ImportSummary(rows_read=2, imported=0, skipped_existing=2, failed=0)
    message = "Already imported: this ward has a household from this paper record."
    assert errors == [
        RowError(2, {"import_ref": [message]}),
        RowError(3, {"import_ref": [message]}),
    ]
    assert counts() == before == (2, 2, 2, 1)


def test_the_same_import_ref_in_another_ward_is_another_record(ward, other_ward):
    run(csv_text(good_row("SH-1", ward=6040)))

    summary, errors, _progress = run(csv_text(good_row("SH-1", ward=6001)))

    assert (summary.imported, errors) == (1, [])
    assert counts() == (2, 2, 2, 0)


def test_a_row_without_import_ref_is_imported_again(ward):
    text = csv_text(good_row(""))
    run(text)

    summary, errors, _progress = run(text)

    assert (summary.imported, errors) == (1, [])
    assert list(Household.objects.order_by("id").values_list("code", flat=True)) == [
        "06040000019",
        "06040000024",
    ]


# --- Chunks -----------------------------------------------------------------------------------


def test_rows_are_written_in_chunks_and_duplicates_are_caught_across_chunks(ward):
    text = csv_text(
        good_row("C1", code="X1"),  # line 2 ┐ chunk 1
        good_row("C2"),  # line 3           ┘
        good_row("C2"),  # line 4           ┐ chunk 2: C2 is in the database by now
        good_row("C4", code="x1"),  # line 5 ┘ X1 too
        good_row("C5"),  # line 6           ] chunk 3
    )

    summary, errors, progress = run(text, chunk_size=2)

    assert summary == ImportSummary(rows_read=5, imported=3, skipped_existing=1, failed=1)
    assert progress == [
        ImportSummary(rows_read=2, imported=2, skipped_existing=0, failed=0),
        ImportSummary(rows_read=4, imported=2, skipped_existing=1, failed=1),
        ImportSummary(rows_read=5, imported=3, skipped_existing=1, failed=1),
    ]
    assert errors == [
        RowError(
            4,
            {"import_ref": ["Already imported: this ward has a household from this paper record."]},
        ),
        RowError(5, {"external_code": ["This code is already attached to another household."]}),
    ]
    assert list(Household.objects.order_by("id").values_list("import_ref", "code")) == [
        ("C1", "06040000019"),
        ("C2", "06040000024"),
        ("C5", "06040000035"),
    ]
    assert counts() == (3, 3, 3, 1)


def test_within_a_chunk_the_first_row_of_an_import_ref_wins(ward):
    summary, errors, _progress = run(csv_text(good_row("D"), good_row("D", name="Người Khác")))

    assert summary == ImportSummary(rows_read=2, imported=1, skipped_existing=1, failed=0)
    assert [e.row for e in errors] == [3]
    assert HouseholdMember.objects.get().full_name == "Hoàng Văn Lục"


# --- File-level errors ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("header", "message"),
    [
        ("", "The file is empty: the first line must name the columns."),
        (
            "ward_code,hamlet",
            "Missing columns: head_full_name.",
        ),
        (
            "ward_code,head_full_name",
            "Missing columns: house_number / street / hamlet.",
        ),
        (
            "ward_code,hamlet,head_full_name,latitude",
            "Missing columns: longitude.",
        ),
        (
            "ward_code,hamlet,head_full_name,phone",
            'Unknown columns: "phone". The columns are: ward_code, import_ref, house_number, '
            "street, hamlet, latitude, longitude, head_full_name, head_date_of_birth, "
            "external_scheme, external_code.",
        ),
        (
            "ward_code,hamlet,head_full_name,Hamlet",
            "Columns named more than once: hamlet.",
        ),
        (
            "ward_code;hamlet;head_full_name",
            "The columns are separated by semicolons: the file must use commas (CSV UTF-8).",
        ),
    ],
)
def test_a_bad_header_is_a_file_error_and_nothing_is_written(ward, header, message):
    text = header + "\r\n6040,Bản A,Ma Văn A\r\n"

    with pytest.raises(ImportFileInvalid) as raised:
        run(text)

    assert (raised.value.status_code, raised.value.message) == (400, message)
    assert raised.value.fields == {"file": [message]}
    assert counts() == (0, 0, 0, 0)


# --- The API ----------------------------------------------------------------------------------


def upload(client, content: bytes | str, **extra):
    data = content.encode("utf-8") if isinstance(content, str) else content
    file = io.BytesIO(data)
    file.name = "ho-gia-dinh.csv"
    return client.post(URL, {"file": file}, format="multipart", HTTP_ACCEPT_LANGUAGE="en", **extra)


def test_an_official_imports_a_file_of_their_ward(ward, official):
    content = "\ufeff" + csv_text(good_row("A1"), good_row("A2"), ",A3,1,,,,,Ma Văn A,,,")

    response = upload(client_for(official), content)

    assert response.status_code == 200, response.content
    assert response.json() == {
        "rows_read": 3,
        "imported": 2,
        "skipped_existing": 0,
        "failed": 1,
        "errors": [{"row": 4, "fields": {"ward_code": ["This field is required."]}}],
    }
    assert counts() == (2, 2, 2, 0)
    assert set(Household.objects.values_list("created_by", flat=True)) == {official.pk}
    assert set(HouseholdEvent.objects.values_list("actor", flat=True)) == {official.pk}


def test_messages_are_vietnamese_by_default(ward, official):
    content = csv_text(",A3,1,,,,,Ma Văn A,,,")

    response = client_for(official).post(
        URL, {"file": io.BytesIO(content.encode())}, format="multipart"
    )

    assert response.json()["errors"] == [
        {"row": 2, "fields": {"ward_code": ["Trường này là bắt buộc."]}}
    ]


def test_an_official_of_another_ward_gets_row_errors_for_that_ward(
    ward, other_ward, other_official
):
    content = csv_text(good_row("A1", ward=6040), good_row("B1", ward=6001))

    response = upload(client_for(other_official), content)

    assert response.status_code == 200
    assert response.json() == {
        "rows_read": 2,
        "imported": 1,
        "skipped_existing": 0,
        "failed": 1,
        "errors": [{"row": 2, "fields": {"ward_code": ["You are not an official of this ward."]}}],
    }
    assert list(Household.objects.values_list("ward_id", flat=True)) == [6001]


def test_a_citizen_may_not_import(ward, citizen):
    response = upload(client_for(citizen), csv_text(good_row("A1")))

    assert response.status_code == 403
    assert response.json()["code"] == "permission_denied"
    assert counts() == (0, 0, 0, 0)


def test_an_official_without_the_import_permission_may_not_import(ward):
    broadcaster = official_create_or_update(
        phone="+84900000019",
        full_name="Đinh Văn Loa",
        password=PASSWORD,
        roles=[Role.BROADCASTING],
        unit_codes=[ward.code],
    )

    response = upload(client_for(broadcaster), csv_text(good_row("A1")))

    assert response.status_code == 403
    assert counts() == (0, 0, 0, 0)


def test_without_a_token_the_answer_is_401(api_client, ward):
    response = upload(api_client, csv_text(good_row("A1")))

    assert response.status_code == 401
    assert counts() == (0, 0, 0, 0)


def test_a_missing_column_is_a_400_and_nothing_is_written(ward, official):
    content = "ward_code,hamlet\r\n6040,Bản A\r\n"

    response = upload(client_for(official), content)

    assert response.status_code == 400
    assert response.json() == {
        "code": "invalid_import_file",
        "message": "Missing columns: head_full_name.",
        "fields": {"file": ["Missing columns: head_full_name."]},
    }
    assert counts() == (0, 0, 0, 0)


def test_a_file_that_is_not_utf8_is_a_400(ward, official):
    content = b"ward_code,hamlet,head_full_name\r\n6040,B\xe1n A,H\xe0 V\xe3n B\xe9\r\n"  # cp1258

    response = upload(client_for(official), content)

    assert response.status_code == 400
    message = "The file is not UTF-8 text. Save it as “CSV UTF-8” and import it again."
    assert response.json()["fields"] == {"file": [message]}
    assert counts() == (0, 0, 0, 0)


def test_a_broken_row_late_in_the_file_writes_nothing(ward, official):
    content = csv_text(good_row("A1"), good_row("A2"), '6040,A3,"unterminated')

    response = upload(client_for(official), content)

    assert response.status_code == 400
    assert response.json()["fields"] == {"file": ["The file is not valid CSV from line 4 on."]}
    assert counts() == (0, 0, 0, 0)


@override_settings(HOUSEHOLD_IMPORT_MAX_ROWS=2)
def test_more_rows_than_allowed_is_a_400_and_nothing_is_written(ward, official):
    content = csv_text(good_row("A1"), good_row("A2"), good_row("A3"))

    response = upload(client_for(official), content)

    assert response.status_code == 400
    assert response.json()["fields"] == {
        "file": ["The file has more than 2 rows: import it in parts."]
    }
    assert counts() == (0, 0, 0, 0)


def test_a_file_over_10_mb_is_a_400(ward, official):
    line = good_row("X") + "\r\n"
    content = csv_text() + line * (10 * 1024 * 1024 // len(line.encode()) + 1)

    response = upload(client_for(official), content)

    assert response.status_code == 400
    assert response.json()["fields"] == {
        "file": ["The file is larger than 10 MB: import it in parts."]
    }
    assert counts() == (0, 0, 0, 0)


def test_no_file_is_a_400(ward, official):
    response = client_for(official).post(URL, {}, format="multipart", HTTP_ACCEPT_LANGUAGE="en")

    assert response.status_code == 400
    assert response.json()["fields"] == {"file": ["No file was submitted."]}


# --- The management command -------------------------------------------------------------------


def test_the_command_prints_progress_and_a_summary_and_writes_the_error_report(ward, tmp_path):
    source = tmp_path / "thatkhe.csv"
    lines = [good_row(f"P{i}") for i in range(1, 6)]
    lines[2] = "6040,P3,,,,,,Ma Văn A,,,"
    lines.append("99999,P6,1,,,22.256,,Ma Văn B,,,")
    source.write_text("\ufeff" + csv_text(*lines), encoding="utf-8")
    out = io.StringIO()

    with translation.override("en"):
        call_command("import_households", str(source), chunk_size=2, progress_every=4, stdout=out)

    printed = out.getvalue().splitlines()
    assert printed[0] == "4 rows read, 3 imported so far"
    assert re.fullmatch(
        r"Done in \d+\.\d s: 6 rows read, 4 imported, 0 already imported, 2 failed\.", printed[1]
    )
    report = tmp_path / "thatkhe.errors.csv"
    assert printed[2:] == [f"Error report: {report}"]
    with report.open(encoding="utf-8-sig", newline="") as f:
        assert list(csv.reader(f)) == [
            ["row", "column", "message"],
            ["4", "", "Give a house number, a street or a hamlet."],
            ["7", "ward_code", "No commune-level unit has this code."],
            ["7", "longitude", "Give both the latitude and the longitude, or neither."],
        ]
    assert counts() == (4, 4, 4, 0)


def test_the_command_reports_rows_already_imported(ward, tmp_path):
    source = tmp_path / "a.csv"
    source.write_text(csv_text(good_row("P1")), encoding="utf-8")
    report = tmp_path / "report.csv"
    call_command("import_households", str(source), stdout=io.StringIO())

    out = io.StringIO()
    with translation.override("en"):
        call_command("import_households", str(source), errors=str(report), stdout=out)

    assert "1 rows read, 0 imported, 1 already imported, 0 failed." in out.getvalue()
    assert report.read_text(encoding="utf-8-sig").splitlines() == [
        "row,column,message",
        "2,import_ref,Already imported: this ward has a household from this paper record.",
    ]
    assert counts() == (1, 1, 1, 0)


def test_the_command_refuses_a_file_with_a_missing_column(ward, tmp_path):
    source = tmp_path / "a.csv"
    source.write_text("ward_code,hamlet\n6040,Bản A\n", encoding="utf-8")

    with translation.override("en"), pytest.raises(CommandError, match="Missing columns"):
        call_command("import_households", str(source), stdout=io.StringIO())

    assert counts() == (0, 0, 0, 0)


def test_the_command_refuses_a_file_that_is_not_utf8_before_writing_anything(ward, tmp_path):
    source = tmp_path / "a.csv"
    good = csv_text(*(good_row(f"P{i}") for i in range(5))).encode()
    source.write_bytes(good + b"6040,P9,1,,,,,H\xe0 V\xe3n B\xe9,,,\r\n")  # cp1258

    with translation.override("en"), pytest.raises(CommandError, match="not UTF-8"):
        call_command("import_households", str(source), chunk_size=2, stdout=io.StringIO())

    assert counts() == (0, 0, 0, 0)


# --- Values the database could not store ------------------------------------------------------

NUL = "This value contains an invisible NUL character (\\0): type the value again."
REFUSED = "This row could not be saved: the database refused one of its values."


def test_a_nul_character_in_a_cell_fails_its_row_and_the_others_are_imported(ward):
    """Python's csv reads a NUL (since 3.11); PostgreSQL would refuse it when writing."""
    text = csv_text(
        good_row("N1"),
        good_row("N2", name="Hoàng\x00Văn Lục"),  # in a name
        "60\x0040,N3,12,,Khối 3,,,Ma Văn A,,,",  # in the ward code
        "6040,N4\x00,12,,\x00,,,Ma Văn A,,national,\x00",  # in three cells
        good_row("N5", code="X5"),
    )

    summary, errors, _progress = run(text)

    assert summary == ImportSummary(rows_read=5, imported=2, skipped_existing=0, failed=3)
    assert errors == [
        RowError(3, {"head_full_name": [NUL]}),
        RowError(4, {"ward_code": [NUL]}),
        RowError(5, {"import_ref": [NUL], "hamlet": [NUL], "external_code": [NUL]}),
    ]
    assert list(Household.objects.order_by("id").values_list("import_ref", "code")) == [
        ("N1", "06040000019"),
        ("N5", "06040000024"),
    ]
    assert counts() == (2, 2, 2, 1)


def test_a_nul_character_after_the_first_chunk_is_a_row_error_in_the_api(ward, official):
    lines = [f"6040,,,,Thôn {i},,,An {i},,," for i in range(2000)]
    lines.append("6040,,,,Thôn\x00X,,,An,,,")  # line 2002: the second chunk

    response = upload(client_for(official), csv_text(*lines))

    assert response.status_code == 200, response.content
    assert response.json() == {
        "rows_read": 2001,
        "imported": 2000,
        "skipped_existing": 0,
        "failed": 1,
        "errors": [{"row": 2002, "fields": {"hamlet": [NUL]}}],
    }
    assert counts() == (2000, 2000, 2000, 0)


def test_the_command_reports_a_nul_character_and_imports_the_other_rows(ward, tmp_path):
    source = tmp_path / "nul.csv"
    source.write_text(csv_text(good_row("P1"), good_row("P2", name="Ma\x00")), encoding="utf-8")
    out = io.StringIO()

    with translation.override("en"):
        call_command("import_households", str(source), stdout=out)

    assert "2 rows read, 1 imported, 0 already imported, 1 failed." in out.getvalue()
    with (tmp_path / "nul.errors.csv").open(encoding="utf-8-sig", newline="") as f:
        assert list(csv.reader(f)) == [["row", "column", "message"], ["3", "head_full_name", NUL]]
    assert counts() == (1, 1, 1, 0)


@pytest.mark.parametrize(
    "latitude",
    [
        "1e1000000",  # Decimal reads it, then overflows
        "-0E+99999999",  # zero, but quantizing it overflows
        "1e999999999",
        "NaN",
        "-nan",
        "sNaN",
        "Infinity",
        "-inf",
        "2_2.256",  # Decimal reads underscores
        "２２.２５６",  # and other scripts' digits
        "22.256e",
        "e5",
        ".",
        "22.2560000000000000000000000000000000000001",  # over 40 characters
    ],
)
def test_a_latitude_that_is_not_a_bounded_decimal_number_fails_its_row(ward, latitude):
    text = csv_text(
        good_row("L1"), f"6040,L2,12,,Khối 3,{latitude},{THAT_KHE[1]},Ma Văn A,,,", good_row("L3")
    )

    summary, errors, _progress = run(text)

    assert summary == ImportSummary(rows_read=3, imported=2, skipped_existing=0, failed=1)
    assert errors == [RowError(3, {"latitude": ["Enter a number."]})]
    assert counts() == (2, 2, 2, 0)


@pytest.mark.parametrize(
    ("latitude", "stored"),
    [
        ("22.256", "22.256000"),
        ("+22.256", "22.256000"),
        ("2.2256E1", "22.256000"),
        ("22.2560004999999999999999999999999999999", "22.256000"),  # 40 characters
        ("22.", "22.000000"),
    ],
)
def test_a_latitude_with_an_exponent_or_many_digits_is_read(ward, latitude, stored):
    summary, errors, _progress = run(
        csv_text(f"6040,L1,12,,Khối 3,{latitude},{THAT_KHE[1]},Ma Văn A,,,")
    )

    assert (summary.imported, errors) == (1, [])
    assert Household.objects.get().latitude == Decimal(stored)


@pytest.mark.parametrize(
    ("latitude", "message"),
    [
        ("1e999", "A latitude is between -90 and 90."),
        ("-1E+3", "A latitude is between -90 and 90."),
        ("1e-999", "This location is outside Vietnam."),  # 0.000000
        ("0e999", "This location is outside Vietnam."),
    ],
)
def test_a_latitude_with_a_large_exponent_is_checked_without_overflowing(ward, latitude, message):
    text = csv_text(f"6040,L1,12,,Khối 3,{latitude},{THAT_KHE[1]},Ma Văn A,,,")

    summary, errors, _progress = run(text)

    assert summary.failed == 1
    assert errors[0].fields["latitude"] == [message]
    assert counts() == (0, 0, 0, 0)


LONG_NAME = "Ữ" * 150  # 150 characters (the limit), 450 bytes in UTF-8


@pytest.fixture
def database_refusing_long_names():
    """The database itself refuses a text of more than 400 bytes with a DataError: SQLite through
    its length limit, PostgreSQL through a trigger on the members' table raising a data
    exception. So the row parser, which counts characters, lets LONG_NAME through to the write.
    Both are undone after the test (the limit here, the trigger with the test's transaction)."""
    if connection.vendor == "sqlite":
        connection.ensure_connection()
        raw = connection.connection
        before = raw.setlimit(sqlite3.SQLITE_LIMIT_LENGTH, 400)
        try:
            yield
        finally:
            raw.setlimit(sqlite3.SQLITE_LIMIT_LENGTH, before)
        return
    member = HouseholdMember._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(
            "CREATE FUNCTION test_refuse_long_names() RETURNS trigger LANGUAGE plpgsql AS $$"
            " BEGIN IF octet_length(NEW.full_name) > 400 THEN"
            "  RAISE EXCEPTION 'too long' USING ERRCODE = 'string_data_right_truncation';"
            " END IF; RETURN NEW; END $$"
        )
        cursor.execute(
            f"CREATE TRIGGER test_refuse_long_names BEFORE INSERT ON {member}"
            " FOR EACH ROW EXECUTE FUNCTION test_refuse_long_names()"
        )
    yield


def test_a_row_the_database_refuses_fails_and_the_others_of_its_chunk_are_imported(
    ward, database_refusing_long_names
):
    text = csv_text(
        good_row("D1", code="X1"),  # ┐ chunk 1: refused as a whole, then written row by row
        good_row("D2", name=LONG_NAME),  # │
        good_row("D3", code="X3"),  # ┘
        good_row("D4"),  # ┐ chunk 2: written whole
        good_row("D4"),  # │ skipped (within the chunk)
        good_row("D6"),  # ┘
        good_row("D7", name=LONG_NAME, code="X7"),  # chunk 3: its only row refused
    )

    summary, errors, progress = run(text, chunk_size=3)

    assert summary == ImportSummary(rows_read=7, imported=4, skipped_existing=1, failed=2)
    assert errors == [
        RowError(3, {"row": [REFUSED]}),
        RowError(
            6,
            {"import_ref": ["Already imported: this ward has a household from this paper record."]},
        ),
        RowError(8, {"row": [REFUSED]}),
    ]
    assert [p.imported for p in progress] == [2, 4, 4]
    # The refused rows left nothing behind, not even a code number.
    assert list(Household.objects.order_by("id").values_list("import_ref", "code")) == [
        ("D1", "06040000019"),
        ("D3", "06040000024"),
        ("D4", "06040000035"),
        ("D6", "06040000043"),
    ]
    assert counts() == (4, 4, 4, 2)
    assert WardAddressSequence.objects.get(ward_id=6040).last_value == 4


def test_a_refused_row_is_a_row_error_in_the_api_and_in_the_command(
    ward, official, tmp_path, database_refusing_long_names
):
    content = csv_text(good_row("A1"), good_row("A2", name=LONG_NAME), good_row("A3"))

    response = upload(client_for(official), content)

    assert response.status_code == 200, response.content
    assert response.json() == {
        "rows_read": 3,
        "imported": 2,
        "skipped_existing": 0,
        "failed": 1,
        "errors": [{"row": 3, "fields": {"row": [REFUSED]}}],
    }

    source = tmp_path / "a.csv"
    source.write_text(csv_text(good_row("C1", name=LONG_NAME), good_row("C2")), encoding="utf-8")
    with translation.override("en"):
        call_command("import_households", str(source), stdout=io.StringIO())
    with (tmp_path / "a.errors.csv").open(encoding="utf-8-sig", newline="") as f:
        assert list(csv.reader(f)) == [["row", "column", "message"], ["2", "", REFUSED]]
    assert counts() == (3, 3, 3, 0)


def test_text_the_database_driver_cannot_encode_fails_its_row(ward):
    """A lone surrogate: only a caller that decoded the file with "surrogateescape" can pass one,
    but then the driver (psycopg, sqlite3) cannot encode it, in a write or in a look-up."""
    text = csv_text(
        good_row("S1"),
        good_row("S2", name="B\udce1n"),
        good_row("S3\udce1"),  # the look-up of the import ref fails too
        good_row("S4", code="N\udce1"),
        good_row("S5", code="N5"),
    )

    summary, errors, _progress = run(text)

    assert summary == ImportSummary(rows_read=5, imported=2, skipped_existing=0, failed=3)
    assert errors == [RowError(line, {"row": [REFUSED]}) for line in (3, 4, 5)]
    assert list(Household.objects.order_by("id").values_list("import_ref", flat=True)) == [
        "S1",
        "S5",
    ]
    assert counts() == (2, 2, 2, 1)


@pytest.fixture
def database_failing_on_boom():
    """Inserting a member called "Boom" fails with an error that is nobody's row error (an
    OperationalError on SQLite, from a function the trigger calls; an InternalError on
    PostgreSQL): what a bug or a lost connection would raise in the middle of an import."""
    member = HouseholdMember._meta.db_table
    with connection.cursor() as cursor:
        if connection.vendor == "sqlite":

            def boom() -> None:
                raise RuntimeError("boom")

            connection.connection.create_function("test_boom", 0, boom)
            cursor.execute(
                f"CREATE TRIGGER test_boom BEFORE INSERT ON {member}"
                " WHEN NEW.full_name = 'Boom' BEGIN SELECT test_boom(); END"
            )
        else:
            cursor.execute(
                "CREATE FUNCTION test_boom() RETURNS trigger LANGUAGE plpgsql AS $$"
                " BEGIN IF NEW.full_name = 'Boom' THEN RAISE EXCEPTION 'boom'; END IF;"
                " RETURN NEW; END $$"
            )
            cursor.execute(
                f"CREATE TRIGGER test_boom BEFORE INSERT ON {member}"
                " FOR EACH ROW EXECUTE FUNCTION test_boom()"
            )
    yield


def test_an_unexpected_error_in_a_later_chunk_of_an_upload_writes_nothing(
    ward, official, database_failing_on_boom
):
    """The API imports in one transaction: a 500 comes with no report, so nothing stays."""
    lines = [good_row(f"U{i}") for i in range(2000)]
    lines.append(good_row("U-BOOM", name="Boom"))  # the second chunk

    response = upload(client_for(official), csv_text(*lines))

    assert response.status_code == 500
    assert counts() == (0, 0, 0, 0)
    assert not WardAddressSequence.objects.filter(ward_id=6040).exists()


def test_the_command_says_how_far_it_got_when_an_unexpected_error_stops_it(
    ward, tmp_path, database_failing_on_boom
):
    source = tmp_path / "a.csv"
    source.write_text(
        csv_text(
            good_row("B1"), ",B2,1,,,,,Ma Văn A,,,", good_row("B3"), good_row("B4", name="Boom")
        ),
        encoding="utf-8",
    )
    err = io.StringIO()

    with translation.override("en"), pytest.raises(DatabaseError):
        call_command(
            "import_households", str(source), chunk_size=2, stdout=io.StringIO(), stderr=err
        )

    assert err.getvalue().splitlines() == [
        "Stopped. Written before: 2 rows read, 1 imported, 0 already imported, 1 failed "
        "(in the error report). Importing the file again skips the rows already imported that "
        "have an import_ref."
    ]
    with (tmp_path / "a.errors.csv").open(encoding="utf-8-sig", newline="") as f:
        assert list(csv.reader(f)) == [
            ["row", "column", "message"],
            ["3", "ward_code", "This field is required."],
        ]
    assert list(Household.objects.values_list("import_ref", flat=True)) == ["B1"]


# --- Two imports at the same time -------------------------------------------------------------


def hold_import(text: str, seconds: float, written: threading.Event) -> threading.Thread:
    """Another import in another connection: its rows are written, then its transaction stays
    open for ``seconds`` before it commits."""

    def other_import() -> None:
        try:
            with transaction.atomic():
                run(text)
                written.set()
                time.sleep(seconds)
        finally:
            connections.close_all()

    thread = threading.Thread(target=other_import)
    thread.start()
    return thread


@pytest.mark.postgresql
@pytest.mark.django_db(transaction=True)
def test_a_row_another_import_writes_meanwhile_is_reported_and_the_rest_imported(ward):
    """The other import commits after this chunk began: the chunk meets a unique violation and
    is written again after looking the import refs and external codes up."""
    if connection.vendor != "postgresql":
        pytest.skip("needs concurrent writers (PostgreSQL)")
    written = threading.Event()
    other = hold_import(csv_text(good_row("SAME", code="CODE-1")), 1.0, written)
    assert written.wait(10)

    summary, errors, _progress = run(
        csv_text(good_row("MINE-1"), good_row("SAME"), good_row("MINE-2", code="code-1"))
    )
    other.join()

    assert summary == ImportSummary(rows_read=3, imported=1, skipped_existing=1, failed=1)
    assert errors == [
        RowError(
            3,
            {"import_ref": ["Already imported: this ward has a household from this paper record."]},
        ),
        RowError(4, {"external_code": ["This code is already attached to another household."]}),
    ]
    assert sorted(Household.objects.values_list("import_ref", flat=True)) == ["MINE-1", "SAME"]
    assert counts() == (2, 2, 2, 1)


@pytest.mark.postgresql
@pytest.mark.django_db(transaction=True)
def test_conflicts_after_the_look_up_are_found_row_by_row(ward, other_ward):
    """Three other imports commit one after the other (after 1, 2 and 3 s), each taking an
    external code of this chunk: the first spoils the first attempt, the second the attempt after
    the look-up, the third a row of the row-by-row attempt. Every other row is imported."""
    if connection.vendor != "postgresql":
        pytest.skip("needs concurrent writers (PostgreSQL)")
    WardFactory(code=6046, name="Xã Tràng Định")
    WardFactory(code=6058, name="Xã Quốc Việt")
    others = []
    for seconds, ward_code, code in ((1.0, 6001, "C1"), (2.0, 6046, "C2"), (3.0, 6058, "C3")):
        written = threading.Event()
        others.append(
            hold_import(
                csv_text(good_row(f"O-{code}", ward=ward_code, code=code)), seconds, written
            )
        )
        assert written.wait(10)

    summary, errors, _progress = run(
        csv_text(
            good_row("M1"),
            good_row("M2", code="C1"),
            good_row("M3", code="C2"),
            good_row("M4", code="C3"),
            good_row("M5"),
        )
    )
    for other in others:
        other.join()

    assert summary == ImportSummary(rows_read=5, imported=2, skipped_existing=0, failed=3)
    taken = {"external_code": ["This code is already attached to another household."]}
    assert errors == [RowError(3, taken), RowError(4, taken), RowError(5, taken)]
    mine = Household.objects.filter(ward_id=6040).order_by("id")
    assert list(mine.values_list("import_ref", "code")) == [
        ("M1", "06040000019"),
        ("M5", "06040000024"),
    ]
    assert counts() == (5, 5, 5, 3)


def test_rows_of_a_ward_out_of_code_numbers_fail_and_the_others_are_imported(ward, other_ward):
    WardAddressSequence.objects.create(ward=ward, last_value=99_998)
    text = csv_text(good_row("A", ward=6040), good_row("B", ward=6001), good_row("C", ward=6040))

    summary, errors, _progress = run(text)

    assert summary == ImportSummary(rows_read=3, imported=1, skipped_existing=0, failed=2)
    message = "This ward has used all its address code numbers."
    assert errors == [
        RowError(2, {"ward_code": [message]}),
        RowError(4, {"ward_code": [message]}),
    ]
    assert list(Household.objects.values_list("code", flat=True)) == ["06001000017"]
    assert WardAddressSequence.objects.get(ward=ward).last_value == 99_998
    assert counts() == (1, 1, 1, 0)
