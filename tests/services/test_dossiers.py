"""Online dossiers: submitting (codes per unit and local day, the form checked per field, the
household, the receiving unit, Idempotency-Key), my list and detail, public tracking and the
deadline fields."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from io import StringIO

import pytest
from django.core.management import call_command
from django.db.models import Sum
from django.utils import timezone
from rest_framework.test import APIClient

from digital_address.actions.households import Address, household_create
from services.actions import dossier_submit
from services.models import (
    Dossier,
    DossierDaySequence,
    DossierEvent,
    DossierStatus,
    Procedure,
    ProcedureLevel,
    SubmissionKey,
)
from services.workdays import WorkCalendar
from tests.conftest import client_for
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

URL = "/api/v1/dossiers/"
MARRIAGE = "1.004873"  # form {"purpose"}, no household
BIRTH = "1.001193"  # needs a household, a birth form
PURPOSE = {"purpose": "Đăng ký kết hôn với người nước ngoài"}
BIRTH_FORM = {
    "child_full_name": "Nguyễn Văn Bé",
    "child_date_of_birth": "2026-01-15",
    "child_gender": "nam",
    "birth_place": "Bệnh viện đa khoa tỉnh Lạng Sơn",
    "mother_full_name": "Hoàng Thị Mẹ",
    "declarant_relationship": "me",
}
INVALID = "Dữ liệu không hợp lệ."
NOT_FOUND = {"code": "not_found", "message": "Không tìm thấy.", "fields": {}}


@pytest.fixture(autouse=True)
def catalog(db) -> None:
    call_command("load_demo_procedures", stdout=StringIO())


def ymd(day: date | None = None) -> str:
    return f"{day or timezone.localdate():%y%m%d}"


def post(client: APIClient, body: dict, key: str | None = None, **extra):
    if key is not None:
        extra["HTTP_IDEMPOTENCY_KEY"] = key
    return client.post(URL, body, format="json", **extra)


def written() -> tuple[int, int, int, int, int]:
    """Everything a submission writes: dossiers, events, keys, day counters and their values."""
    taken = DossierDaySequence.objects.aggregate(total=Sum("last_value"))["total"] or 0
    return (
        Dossier.objects.count(),
        DossierEvent.objects.count(),
        SubmissionKey.objects.count(),
        DossierDaySequence.objects.count(),
        taken,
    )


NOTHING = (0, 0, 0, 0, 0)


def submitted(user, ward, **kwargs) -> Dossier:
    dossier, created = dossier_submit(
        applicant=user,
        procedure=Procedure.objects.get(code=MARRIAGE),
        form_data=PURPOSE,
        unit=ward,
        **kwargs,
    )
    assert created
    return dossier


def iso(value: str) -> datetime:
    return datetime.fromisoformat(value)


# --- submitting ----------------------------------------------------------------------------------


def test_a_citizen_submits_a_dossier_online(citizen, ward):
    response = post(
        client_for(citizen), {"procedure": MARRIAGE, "unit": ward.code, "form_data": PURPOSE}
    )

    assert response.status_code == 201, response.content
    dossier = Dossier.objects.get()
    event = DossierEvent.objects.get()
    body = response.json()
    assert iso(body.pop("submitted_at")) == dossier.submitted_at
    assert iso(body["timeline"][0].pop("created_at")) == event.created_at
    assert body == {
        "code": f"H20.6040-{ymd()}-0001",
        "procedure": {
            "code": MARRIAGE,
            "name": Procedure.objects.get(code=MARRIAGE).name,
        },
        "unit": {"code": 6040, "name": "Xã Thất Khê"},
        "status": 1,
        "status_display": "Mới đăng ký",
        "channel": 2,
        "appointment_date": None,
        "remaining_working_days": None,
        "overdue": False,
        "household": None,
        "form_data": PURPOSE,
        "fee_due": None,
        "outcome": "",
        "attachments": [],
        "extensions": [],
        "rating": None,
        "timeline": [{"status": 1, "status_display": "Mới đăng ký", "note": ""}],
    }
    assert (dossier.applicant, dossier.unit, dossier.household) == (citizen, ward, None)
    assert (event.actor, event.from_status, event.to_status) == (citizen, None, 1)
    assert SubmissionKey.objects.count() == 0
    sequence = DossierDaySequence.objects.get()
    assert (sequence.ward_id, sequence.day, sequence.last_value) == (
        6040,
        timezone.localdate(),
        1,
    )


def test_codes_count_per_unit_and_day(citizen, other_citizen, ward, other_ward):
    first = post(
        client_for(citizen), {"procedure": MARRIAGE, "unit": ward.code, "form_data": PURPOSE}
    )
    second = post(
        client_for(citizen), {"procedure": MARRIAGE, "unit": ward.code, "form_data": PURPOSE}
    )
    elsewhere = post(
        client_for(other_citizen),
        {"procedure": MARRIAGE, "unit": other_ward.code, "form_data": PURPOSE},
    )
    third = post(
        client_for(other_citizen), {"procedure": MARRIAGE, "unit": ward.code, "form_data": PURPOSE}
    )

    assert [r.status_code for r in (first, second, elsewhere, third)] == [201, 201, 201, 201]
    assert [r.json()["code"] for r in (first, second, elsewhere, third)] == [
        f"H20.6040-{ymd()}-0001",
        f"H20.6040-{ymd()}-0002",
        f"H20.6001-{ymd()}-0001",
        f"H20.6040-{ymd()}-0003",
    ]
    assert dict(DossierDaySequence.objects.values_list("ward_id", "last_value")) == {
        6040: 3,
        6001: 1,
    }


def test_the_day_of_a_code_is_the_local_day_and_each_day_starts_at_one(citizen, ward, monkeypatch):
    def submit_at(moment: datetime) -> str:
        monkeypatch.setattr(timezone, "now", lambda: moment)
        return submitted(citizen, ward).code

    codes = [
        # 23:00 in Hà Nội on 9 March
        submit_at(datetime(2026, 3, 9, 16, 0, tzinfo=UTC)),
        # 23:30 UTC on 9 March is 06:30 on 10 March in Hà Nội: the next local day
        submit_at(datetime(2026, 3, 9, 23, 30, tzinfo=UTC)),
        # 23:59:59 on 10 March in Hà Nội
        submit_at(datetime(2026, 3, 10, 16, 59, 59, tzinfo=UTC)),
        # local midnight: 11 March starts again at 0001
        submit_at(datetime(2026, 3, 10, 17, 0, tzinfo=UTC)),
    ]

    assert codes == [
        "H20.6040-260309-0001",
        "H20.6040-260310-0001",
        "H20.6040-260310-0002",
        "H20.6040-260311-0001",
    ]
    assert sorted(DossierDaySequence.objects.values_list("day", "last_value")) == [
        (date(2026, 3, 9), 1),
        (date(2026, 3, 10), 2),
        (date(2026, 3, 11), 1),
    ]
    assert Dossier.objects.get(code="H20.6040-260310-0001").submitted_at == datetime(
        2026, 3, 9, 23, 30, tzinfo=UTC
    )


# --- the form ------------------------------------------------------------------------------------

VI = {
    "required": "Trường này là bắt buộc.",
    "enum": "Hãy chọn một giá trị hợp lệ.",
    "blank": "Trường này không được để trống.",
    "extra": "Trường này không có trong biểu mẫu.",
    "type": "Hãy nhập giá trị hợp lệ.",
    "date": "Hãy nhập ngày theo dạng YYYY-MM-DD.",
}
EN = {
    "required": "This field is required.",
    "enum": "Select a valid choice.",
    "blank": "This field may not be blank.",
    "extra": "This field is not part of the form.",
    "type": "Enter a valid value.",
    "date": "Enter a date as YYYY-MM-DD.",
}


@pytest.mark.parametrize(
    ("form", "expected"),
    [
        ({}, {"purpose": ["required"]}),
        ({"purpose": ""}, {"purpose": ["blank"]}),
        ({"purpose": 12}, {"purpose": ["type"]}),
        ({"purpose": None}, {"purpose": ["type"]}),
        ({**PURPOSE, "extra": "x", "another": 1}, {"another": ["extra"], "extra": ["extra"]}),
        ({"extra": "x"}, {"purpose": ["required"], "extra": ["extra"]}),
        ({"purpose": "x" * 301}, {"purpose": ["maxLength"]}),
        ([1], {"non_field_errors": ["type"]}),
        ("purpose", {"non_field_errors": ["type"]}),
    ],
)
@pytest.mark.parametrize(("language", "messages"), [(None, VI), ("en", EN)])
def test_form_problems_come_back_per_field_in_the_readers_language(
    citizen, ward, form, expected, language, messages
):
    extra = {"HTTP_ACCEPT_LANGUAGE": language} if language else {}
    messages = {
        **messages,
        "maxLength": "Trường này không được quá 300 ký tự."
        if language is None
        else "Ensure this field has no more than 300 characters.",
    }

    response = post(
        client_for(citizen),
        {"procedure": MARRIAGE, "unit": ward.code, "form_data": form},
        **extra,
    )

    assert response.status_code == 400, response.content
    assert response.json() == {
        "code": "invalid",
        "message": INVALID if language is None else "Invalid input.",
        "fields": {
            "form_data": {field: [messages[k] for k in kinds] for field, kinds in expected.items()}
        },
    }
    assert written() == NOTHING


@pytest.mark.parametrize(("language", "messages"), [(None, VI), ("en", EN)])
def test_the_birth_form_checks_choices_dates_and_missing_fields(citizen, ward, language, messages):
    household_create(actor=citizen, ward=ward, address=Address(hamlet="Khối 1"))
    extra = {"HTTP_ACCEPT_LANGUAGE": language} if language else {}
    form = {
        **BIRTH_FORM,
        "child_gender": "khac",
        "child_date_of_birth": "15/01/2026",
        "father_full_name": "",
        "ethnicity": 7,
    }
    del form["mother_full_name"]

    response = post(client_for(citizen), {"procedure": BIRTH, "form_data": form}, **extra)

    assert response.status_code == 400, response.content
    assert response.json()["fields"] == {
        "form_data": {
            "child_date_of_birth": [messages["date"]],
            "child_gender": [messages["enum"]],
            "ethnicity": [messages["type"]],
            "father_full_name": [messages["blank"]],
            "mother_full_name": [messages["required"]],
        }
    }
    assert Dossier.objects.count() == 0
    assert DossierDaySequence.objects.count() == 0


def test_a_birth_on_an_impossible_date_is_refused(citizen, ward):
    household_create(actor=citizen, ward=ward, address=Address(hamlet="Khối 1"))

    response = post(
        client_for(citizen),
        {"procedure": BIRTH, "form_data": {**BIRTH_FORM, "child_date_of_birth": "2026-02-30"}},
    )

    assert response.status_code == 400
    assert response.json()["fields"] == {
        "form_data": {"child_date_of_birth": ["Hãy nhập ngày theo dạng YYYY-MM-DD."]}
    }
    assert written() == NOTHING


def test_a_nul_character_in_the_form_is_refused_per_field(citizen, ward):
    response = post(
        client_for(citizen),
        {"procedure": MARRIAGE, "unit": ward.code, "form_data": {"purpose": "a\u0000b"}},
    )

    assert response.status_code == 400
    assert list(response.json()["fields"]) == ["form_data"]
    assert list(response.json()["fields"]["form_data"]) == ["purpose"]
    assert written() == NOTHING


def test_form_data_is_required(citizen, ward):
    response = post(client_for(citizen), {"procedure": MARRIAGE, "unit": ward.code})

    assert response.status_code == 400
    assert response.json() == {
        "code": "invalid",
        "message": INVALID,
        "fields": {"form_data": ["Trường này là bắt buộc."]},
    }
    assert written() == NOTHING


# --- the household -------------------------------------------------------------------------------


def test_a_procedure_that_needs_a_household_refuses_a_citizen_without_one(citizen, ward):
    response = post(
        client_for(citizen), {"procedure": BIRTH, "unit": ward.code, "form_data": BIRTH_FORM}
    )

    assert response.status_code == 400
    assert response.json() == {
        "code": "invalid",
        "message": INVALID,
        "fields": {
            "household": [
                "Thủ tục này cần thông tin hộ gia đình của bạn: hãy đăng ký hộ gia đình trong "
                "ứng dụng trước."
            ]
        },
    }
    assert written() == NOTHING


def test_the_household_in_english(citizen, ward):
    response = post(
        client_for(citizen),
        {"procedure": BIRTH, "unit": ward.code, "form_data": BIRTH_FORM},
        HTTP_ACCEPT_LANGUAGE="en",
    )

    assert response.status_code == 400
    assert response.json()["fields"] == {
        "household": ["This procedure needs your household: register it in the app first."]
    }


@pytest.mark.parametrize("give_the_id", [True, False])
def test_with_a_household_the_unit_is_the_households_ward(citizen, ward, other_ward, give_the_id):
    # The household lives in the other ward; the unit sent (or none) does not matter.
    household = household_create(actor=citizen, ward=other_ward, address=Address(hamlet="Khối 1"))
    body = {"procedure": BIRTH, "unit": ward.code, "form_data": BIRTH_FORM}
    if give_the_id:
        body["household"] = household.pk

    response = post(client_for(citizen), body)

    assert response.status_code == 201, response.content
    assert response.json()["code"] == f"H20.6001-{ymd()}-0001"
    assert response.json()["unit"] == {"code": 6001, "name": "Xã Đoàn Kết"}
    assert response.json()["household"] == household.pk
    dossier = Dossier.objects.get()
    assert (dossier.unit_id, dossier.household_id) == (6001, household.pk)
    assert list(DossierDaySequence.objects.values_list("ward_id", "last_value")) == [(6001, 1)]


def test_a_household_given_for_a_procedure_that_does_not_need_one_decides_the_unit(
    citizen, ward, other_ward
):
    household = household_create(actor=citizen, ward=other_ward, address=Address(hamlet="Khối 1"))

    response = post(
        client_for(citizen),
        {"procedure": MARRIAGE, "household": household.pk, "form_data": PURPOSE},
    )

    assert response.status_code == 201, response.content
    assert (response.json()["unit"]["code"], response.json()["household"]) == (
        6001,
        household.pk,
    )


def test_the_household_of_another_citizen_is_not_found(citizen, other_citizen, ward, other_ward):
    theirs = household_create(
        actor=other_citizen, ward=other_ward, address=Address(hamlet="Khối 2")
    )

    response = post(
        client_for(citizen),
        {"procedure": BIRTH, "household": theirs.pk, "form_data": BIRTH_FORM},
    )

    assert response.status_code == 404
    assert response.json() == NOT_FOUND
    assert written() == NOTHING


# --- the procedure and the unit ------------------------------------------------------------------


def test_a_procedure_without_household_needs_a_unit(citizen):
    response = post(client_for(citizen), {"procedure": MARRIAGE, "form_data": PURPOSE})

    assert response.status_code == 400
    assert response.json() == {
        "code": "invalid",
        "message": INVALID,
        "fields": {"unit": ["Hãy chọn xã/phường tiếp nhận hồ sơ."]},
    }
    assert written() == NOTHING


def test_an_unknown_unit_is_refused(citizen, ward):
    response = post(
        client_for(citizen), {"procedure": MARRIAGE, "unit": 99999, "form_data": PURPOSE}
    )

    assert response.status_code == 400
    assert response.json() == {
        "code": "invalid",
        "message": INVALID,
        "fields": {"unit": ['Mã "99999" không hợp lệ - đối tượng không tồn tại.']},
    }
    assert written() == NOTHING


def test_an_unknown_or_inactive_procedure_is_refused(citizen, ward):
    Procedure.objects.filter(code=MARRIAGE).update(active=False)
    client = client_for(citizen)

    inactive = post(client, {"procedure": MARRIAGE, "unit": ward.code, "form_data": PURPOSE})
    unknown = post(client, {"procedure": "9.999999", "unit": ward.code, "form_data": PURPOSE})

    english = post(
        client,
        {"procedure": MARRIAGE, "unit": ward.code, "form_data": PURPOSE},
        HTTP_ACCEPT_LANGUAGE="en",
    )

    assert (inactive.status_code, unknown.status_code) == (400, 400)
    assert list(inactive.json()["fields"]) == ["procedure"]
    assert list(unknown.json()["fields"]) == ["procedure"]
    assert english.json() == {
        "code": "invalid",
        "message": "Invalid input.",
        "fields": {"procedure": ["No active procedure has this code."]},
    }
    assert written() == NOTHING


def test_an_inactive_procedure_is_refused_in_vietnamese(citizen, ward):
    Procedure.objects.filter(code=MARRIAGE).update(active=False)

    response = post(
        client_for(citizen), {"procedure": MARRIAGE, "unit": ward.code, "form_data": PURPOSE}
    )

    assert response.json()["fields"]["procedure"] == [
        "Không có thủ tục đang áp dụng nào mang mã này."
    ]


def test_a_province_level_procedure_cannot_be_submitted(citizen, ward):
    Procedure.objects.filter(code=MARRIAGE).update(level=ProcedureLevel.PROVINCE)

    response = post(
        client_for(citizen), {"procedure": MARRIAGE, "unit": ward.code, "form_data": PURPOSE}
    )
    english = post(
        client_for(citizen),
        {"procedure": MARRIAGE, "unit": ward.code, "form_data": PURPOSE},
        HTTP_ACCEPT_LANGUAGE="en",
    )

    assert response.status_code == 400
    assert response.json() == {
        "code": "invalid",
        "message": INVALID,
        "fields": {"procedure": ["Chưa thể nộp hồ sơ thủ tục cấp tỉnh tại đây."]},
    }
    assert english.json()["fields"] == {
        "procedure": ["Province-level procedures cannot be submitted here yet."]
    }
    assert written() == NOTHING


def test_submitting_needs_a_login(api_client, ward):
    response = post(api_client, {"procedure": MARRIAGE, "unit": ward.code, "form_data": PURPOSE})

    assert response.status_code == 401
    assert response.json()["code"] == "not_authenticated"
    assert written() == NOTHING


# --- Idempotency-Key -----------------------------------------------------------------------------


def body_for(ward, form=PURPOSE) -> dict:
    return {"procedure": MARRIAGE, "unit": ward.code, "form_data": form}


def test_the_same_key_and_body_answer_the_same_dossier(citizen, ward):
    client = client_for(citizen)

    first = post(client, body_for(ward), key="5b0c7a4e-0000-4000-8000-000000000001")
    again = post(client, body_for(ward), key="5b0c7a4e-0000-4000-8000-000000000001")

    assert (first.status_code, again.status_code) == (201, 200)
    assert again.json() == first.json()
    assert written() == (1, 1, 1, 1, 1)
    key = SubmissionKey.objects.get()
    assert (key.user, key.key, key.dossier.code) == (
        citizen,
        "5b0c7a4e-0000-4000-8000-000000000001",
        first.json()["code"],
    )


def test_the_same_key_with_another_body_is_refused(citizen, ward):
    client = client_for(citizen)
    first = post(client, body_for(ward), key="k-1")

    other = post(client, body_for(ward, {"purpose": "Khác"}), key="k-1")
    english = post(
        client, body_for(ward, {"purpose": "Khác"}), key="k-1", HTTP_ACCEPT_LANGUAGE="en"
    )

    assert first.status_code == 201
    assert other.status_code == 422
    assert other.json() == {
        "code": "idempotency_key_reused",
        "message": "Idempotency-Key này đã được dùng cho một lần nộp khác: hãy dùng khóa mới cho "
        "hồ sơ mới.",
        "fields": {},
    }
    assert english.json()["message"] == (
        "This Idempotency-Key was already used for a different submission: use a new key for "
        "a new dossier."
    )
    assert written() == (1, 1, 1, 1, 1)


def test_different_users_use_the_same_key_independently(citizen, other_citizen, ward, other_ward):
    mine = post(client_for(citizen), body_for(ward), key="same")
    theirs = post(client_for(other_citizen), body_for(ward), key="same")

    assert (mine.status_code, theirs.status_code) == (201, 201)
    assert [mine.json()["code"], theirs.json()["code"]] == [
        f"H20.6040-{ymd()}-0001",
        f"H20.6040-{ymd()}-0002",
    ]
    assert sorted(SubmissionKey.objects.values_list("user_id", "dossier__code")) == sorted(
        [(citizen.pk, mine.json()["code"]), (other_citizen.pk, theirs.json()["code"])]
    )


def test_without_a_key_every_submission_is_a_new_dossier(citizen, ward):
    client = client_for(citizen)

    first = post(client, body_for(ward))
    second = post(client, body_for(ward))
    blank = post(client, body_for(ward), key="   ")

    assert [r.status_code for r in (first, second, blank)] == [201, 201, 201]
    assert written() == (3, 3, 0, 1, 3)


# --- my dossiers ---------------------------------------------------------------------------------


def test_my_dossiers_newest_first_and_nobody_elses(citizen, other_citizen, ward, other_ward):
    older = submitted(citizen, ward)
    submitted(other_citizen, other_ward)
    newer = submitted(citizen, other_ward)

    mine = client_for(citizen).get(URL)
    theirs = client_for(UserFactory(phone="+84911000001", ward=ward)).get(URL)

    assert mine.status_code == 200
    assert [d["code"] for d in mine.json()["results"]] == [newer.code, older.code]
    first = mine.json()["results"][1]
    assert iso(first.pop("submitted_at")) == older.submitted_at
    assert first == {
        "code": older.code,
        "procedure": {"code": MARRIAGE, "name": older.procedure.name},
        "unit": {"code": 6040, "name": "Xã Thất Khê"},
        "status": 1,
        "status_display": "Mới đăng ký",
        "channel": 2,
        "appointment_date": None,
        "remaining_working_days": None,
        "overdue": False,
    }
    assert (mine.json()["next"], mine.json()["previous"]) == (None, None)
    assert theirs.json() == {"next": None, "previous": None, "results": []}


def test_my_dossiers_come_by_pages_of_twenty(citizen, ward):
    codes = [submitted(citizen, ward).code for _ in range(23)]
    client = client_for(citizen)

    first = client.get(URL)
    second = client.get(first.json()["next"])

    assert [d["code"] for d in first.json()["results"]] == codes[::-1][:20]
    assert [d["code"] for d in second.json()["results"]] == codes[::-1][20:]
    assert second.json()["next"] is None
    assert second.json()["previous"] is not None


def test_the_same_submitted_at_keeps_a_stable_order(citizen, ward, monkeypatch):
    moment = timezone.now()
    monkeypatch.setattr(timezone, "now", lambda: moment)
    codes = [submitted(citizen, ward).code for _ in range(3)]
    monkeypatch.undo()

    response = client_for(citizen).get(URL)

    assert [d["code"] for d in response.json()["results"]] == codes[::-1]


@pytest.mark.parametrize("count", [2, 6])
def test_listing_my_dossiers_costs_the_same_queries_for_any_count(
    citizen, ward, other_ward, count, django_assert_num_queries
):
    for i in range(count):
        submitted(citizen, ward if i % 2 else other_ward)
    client = client_for(citizen)

    # the user (JWT), the announced day swaps, the page
    with django_assert_num_queries(3):
        response = client.get(URL)

    assert len(response.json()["results"]) == count


def test_listing_needs_a_login(api_client):
    assert api_client.get(URL).status_code == 401


# --- a dossier -----------------------------------------------------------------------------------


def test_my_dossier(citizen, ward):
    dossier = submitted(citizen, ward)

    response = client_for(citizen).get(f"{URL}{dossier.code}/")

    assert response.status_code == 200
    body = response.json()
    assert iso(body.pop("submitted_at")) == dossier.submitted_at
    assert [iso(e.pop("created_at")) for e in body["timeline"]] == [dossier.events.get().created_at]
    assert body == {
        "code": dossier.code,
        "procedure": {"code": MARRIAGE, "name": dossier.procedure.name},
        "unit": {"code": 6040, "name": "Xã Thất Khê"},
        "status": 1,
        "status_display": "Mới đăng ký",
        "channel": 2,
        "appointment_date": None,
        "remaining_working_days": None,
        "overdue": False,
        "household": None,
        "form_data": PURPOSE,
        "fee_due": None,
        "outcome": "",
        "attachments": [],
        "extensions": [],
        "rating": None,
        "timeline": [{"status": 1, "status_display": "Mới đăng ký", "note": ""}],
    }


def test_nobody_else_sees_my_dossier(citizen, other_citizen, other_official, ward, api_client):
    dossier = submitted(citizen, ward)
    url = f"{URL}{dossier.code}/"

    theirs = client_for(other_citizen).get(url)
    official_elsewhere = client_for(other_official).get(url)
    anonymous = api_client.get(url)
    unknown = client_for(citizen).get(f"{URL}H20.6040-000000-0001/")

    assert (theirs.status_code, theirs.json()) == (404, NOT_FOUND)
    assert (official_elsewhere.status_code, official_elsewhere.json()) == (404, NOT_FOUND)
    assert anonymous.status_code == 401
    assert anonymous.json()["code"] == "not_authenticated"
    assert (unknown.status_code, unknown.json()) == (404, NOT_FOUND)


# --- public tracking -----------------------------------------------------------------------------

TRACKED = {
    "code",
    "procedure",
    "unit",
    "status",
    "status_display",
    "submitted_at",
    "appointment_date",
    "remaining_working_days",
    "overdue",
    "timeline",
}


def test_anyone_tracks_a_dossier_by_its_code_without_personal_data(citizen, ward, api_client):
    household = household_create(actor=citizen, ward=ward, address=Address(hamlet="Khối 1"))
    dossier, _ = dossier_submit(
        applicant=citizen,
        procedure=Procedure.objects.get(code=BIRTH),
        form_data=BIRTH_FORM,
        household=household,
    )

    response = api_client.get(f"/api/v1/track/{dossier.code}/")

    assert response.status_code == 200
    body = response.json()
    assert set(body) == TRACKED
    assert body["code"] == dossier.code
    assert body["procedure"] == {"code": BIRTH, "name": "Thủ tục đăng ký khai sinh"}
    assert body["unit"] == {"code": 6040, "name": "Xã Thất Khê"}
    assert (body["status"], body["status_display"]) == (1, "Mới đăng ký")
    assert [set(e) for e in body["timeline"]] == [{"status", "status_display", "created_at"}]
    text = response.content.decode()
    for private in [
        citizen.full_name,
        citizen.phone,
        citizen.phone.removeprefix("+84"),
        "Khối 1",
        *(value for value in BIRTH_FORM.values() if len(value) > 3),  # not "nam", "me"
        '"household"',
        '"form_data"',
    ]:
        assert private not in text, private


def test_tracking_ignores_case_but_not_what_is_not_a_code(citizen, ward, api_client):
    dossier = submitted(citizen, ward)

    lower = api_client.get(f"/api/v1/track/{dossier.code.lower()}/")
    spaced = api_client.get(f"/api/v1/track/%20{dossier.code}%20/")
    nul = api_client.get("/api/v1/track/a%00b/")

    assert (lower.status_code, lower.json()["code"]) == (200, dossier.code)
    # Only the shape of a dossier code reaches the database: anything else is a JSON 404.
    assert (spaced.status_code, spaced.json()["code"]) == (404, "not_found")
    assert (nul.status_code, nul.json()["code"]) == (404, "not_found")


def test_tracking_an_unknown_code(api_client, citizen, ward):
    submitted(citizen, ward)

    response = api_client.get(f"/api/v1/track/H20.6040-{ymd()}-0002/")
    english = api_client.get("/api/v1/track/NOPE/", HTTP_ACCEPT_LANGUAGE="en")

    assert response.status_code == 404
    assert response["Content-Type"] == "application/json"
    assert response.json() == NOT_FOUND
    assert english.json() == {"code": "not_found", "message": "Not found.", "fields": {}}


def test_tracking_ignores_a_bad_token(citizen, ward):
    # A public page: an expired or broken token must not turn it into a 401.
    dossier = submitted(citizen, ward)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION="Bearer not-a-token")

    assert client.get(f"/api/v1/track/{dossier.code}/").status_code == 200


# --- deadlines -----------------------------------------------------------------------------------


def _deadline_views(citizen, dossier) -> list[dict]:
    client = client_for(citizen)
    return [
        client.get(f"{URL}{dossier.code}/").json(),
        client.get(URL).json()["results"][0],
        APIClient().get(f"/api/v1/track/{dossier.code}/").json(),
    ]


@pytest.mark.parametrize("days", [-10, -1, 0, 1, 10])
def test_an_open_dossier_shows_working_days_left_and_whether_it_is_overdue(citizen, ward, days):
    dossier = submitted(citizen, ward)
    appointment = timezone.localdate() + timedelta(days=days)
    Dossier.objects.filter(pk=dossier.pk).update(
        status=DossierStatus.PROCESSING, appointment_date=appointment
    )
    calendar = WorkCalendar()
    remaining = calendar.remaining_working_days(appointment)
    overdue = calendar.is_overdue(appointment)
    assert overdue is (days < 0)

    for body in _deadline_views(citizen, dossier):
        assert (
            body["status"],
            body["appointment_date"],
            body["remaining_working_days"],
            body["overdue"],
        ) == (4, appointment.isoformat(), remaining, overdue)


@pytest.mark.parametrize("status", [DossierStatus.DECIDED, DossierStatus.RETURNED])
def test_a_decided_dossier_has_no_running_deadline(citizen, ward, status):
    dossier = submitted(citizen, ward)
    Dossier.objects.filter(pk=dossier.pk).update(
        status=status, appointment_date=timezone.localdate() - timedelta(days=10)
    )

    for body in _deadline_views(citizen, dossier):
        assert (body["status"], body["remaining_working_days"], body["overdue"]) == (
            status,
            None,
            False,
        )
