"""The virtual assistant: what it reads in a question (a procedure, with or without diacritics or
abbreviated; a dossier's status; the asker's digital address; a commune's one-stop desk; an FAQ
entry; or nothing it knows), the answers it composes from the database only, the masked log of
every turn and its feedback, the index and its task, and the admin where officials read it."""

from __future__ import annotations

import uuid

import pytest
from celery.schedules import crontab
from django.test import Client
from django.utils import timezone, translation
from rest_framework.test import APIClient

from accounts.models import User
from assistant.actions import masked
from assistant.engine import DESK as DESK_WORDS
from assistant.language import spell_out
from assistant.models import Conversation, FaqEntry, SearchIndex, Turn
from assistant.search_index import current_engine, search_index_rebuild
from assistant.tasks import rebuild_index
from config.celery import app
from digital_address.actions.households import household_reject
from digital_address.actions.units import admin_units_load
from digital_address.models import Household, Ward
from services.demo_catalog import PROCEDURES
from services.models import Dossier, Procedure
from tests.assistant.conftest import DESK, answer_of, ask
from tests.conftest import PublishedTask, client_for
from tests.digital_address.households import register
from tests.factories import ProvinceFactory, WardFactory

pytestmark = pytest.mark.django_db

EN = {"HTTP_ACCEPT_LANGUAGE": "en"}
MARRIAGE = "1.000894"  # Thủ tục đăng ký kết hôn: partly online, free, 5 working days
MARRIAGE_STATUS = "1.004873"  # the certificate of marital status: form {"purpose"}, no household
SIGNATURE = "2.000884"  # Chứng thực chữ ký: 10.000 đồng
TEMPORARY_RESIDENCE = "1.004194"  # Đăng ký tạm trú: entirely online
FEEDBACK_URL = "/api/v1/assistant/turns/{}/feedback/"
NOT_FOUND = {"code": "not_found", "message": "Not found.", "fields": {}}
NOT_KNOWN = "Sorry, I am not sure I understood. I only answer from the procedure catalog."
PARTLY = "Partly: submit online in the app, then bring the originals to the desk."
ENTIRELY = "Yes, entirely online in the app."
FAQ_QUESTIONS = "giờ làm việc của bộ phận một cửa\nmột cửa làm việc mấy giờ"
FAQ_ANSWER = "Bộ phận một cửa làm việc từ thứ Hai đến thứ Sáu: sáng 7:30–11:30, chiều 13:30–17:00."
FAQ_PARAPHRASE = "bộ phận một cửa làm việc mấy giờ"
DESK_QUESTION = "bộ phận một cửa xã thất khê ở đâu"
NO_DESK_EN = (
    "The contact details of the one-stop desk of Xã Thất Khê are not recorded yet: please ask "
    "at the People's Committee of Xã Thất Khê."
)
DESK_EN = (
    "One-stop desk of Xã Thất Khê:\n"
    f"Address: {DESK['desk_address']}\n"
    f"Phone: {DESK['desk_phone']}\n"
    f"Opening hours: {DESK['desk_hours']}"
)


def demo(code: str) -> dict:
    return next(p for p in PROCEDURES if p["code"] == code)


def link(code: str) -> str:
    return f"congdanso://dossiers/new?procedure={code}"


def procedure_text(code: str, *, fee: str, online: str, language: str) -> str:
    """The answer to a question about a commune-level procedure in working days, from the demo
    catalog's values; the labels as the compiled catalog of ``language`` says them."""
    entry = demo(code)
    # A fee with its note; no fee: the note alone says why (else "free of charge").
    note = entry["fee_note"].strip().rstrip(".")
    with translation.override(language):
        _ = translation.gettext
        shown = (f"{fee} ({note})" if note else fee) if entry["fee"] else (note or _(fee))
        papers = "\n".join(
            f"- {name}" + ("" if mandatory else _(" (if any)"))
            for name, mandatory in entry["documents"]
        )
        return "\n".join(
            [
                f"{entry['name']} ({entry['field']}).",
                _("Papers:") + "\n" + papers,
                _("Fee: %(fee)s.") % {"fee": shown},
                _("Processing time: %(n)d %(unit)s.")
                % {"n": entry["processing_time"], "unit": _("working days")},
                _("Where to file: %(where)s.")
                % {
                    "where": _(
                        "the one-stop desk of the People's Committee of your commune or ward"
                    )
                },
                _("Online: %(online)s") % {"online": _(online)},
            ]
        )


MARRIAGE_EN = (
    "Thủ tục đăng ký kết hôn (Hộ tịch).\n"
    "Papers:\n"
    "- Tờ khai đăng ký kết hôn theo mẫu\n"
    "- Giấy xác nhận tình trạng hôn nhân (khi đăng ký ở nơi không thường trú) (if any)\n"
    "Fee: Hai bên cùng có mặt khi đăng ký; lệ phí theo nghị quyết của HĐND tỉnh.\n"
    "Processing time: 5 working days.\n"
    "Where to file: the one-stop desk of the People's Committee of your commune or ward.\n"
    f"Online: {PARTLY}"
)


def turns() -> list[tuple]:
    return list(
        Turn.objects.order_by("id").values_list(
            "conversation_id", "question", "intent", "procedures", "feedback"
        )
    )


def submit(user: User, ward: Ward) -> str:
    response = client_for(user).post(
        "/api/v1/dossiers/",
        {"procedure": MARRIAGE_STATUS, "unit": ward.code, "form_data": {"purpose": "Kết hôn"}},
        format="json",
    )
    assert response.status_code == 201, response.content
    return response.json()["code"]


def receive(official: User, code: str) -> Dossier:
    response = client_for(official).post(
        f"/api/v1/official/dossiers/{code}/receive/", {"note": "Đủ thành phần"}, format="json"
    )
    assert response.status_code == 200, response.content
    dossier = Dossier.objects.get(code=code)
    assert dossier.status == 4 and dossier.appointment_date is not None
    return dossier


# --- 1. a procedure ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "question",
    [
        "thủ tục đăng ký kết hôn cần gì",
        "dang ky ket hon can gi",
        "DKKH",
        "đăng kí kết hôn mất bao lâu vậy",
        "dk ket hon can giay to j",
    ],
)
def test_a_procedure_question_however_it_is_typed(catalog, api_client, question):
    body = answer_of(api_client, question, **EN)

    assert body["intent"] == "procedure"
    assert body["confidence"] >= 0.5
    assert body["data"] == {"procedure": MARRIAGE, "deep_link": link(MARRIAGE)}
    assert body["answer"] == MARRIAGE_EN
    assert body["answer"] == procedure_text(
        MARRIAGE, fee="free of charge", online=PARTLY, language="en"
    )
    assert body["procedures"][0] == {
        "code": MARRIAGE,
        "name": "Thủ tục đăng ký kết hôn",
        "confidence": body["confidence"],
        "deep_link": link(MARRIAGE),
    }
    assert 1 <= len(body["procedures"]) <= 3
    assert [p["deep_link"] for p in body["procedures"]] == [
        link(p["code"]) for p in body["procedures"]
    ]
    # Each runner-up offered has a suggestion of its own.
    assert body["suggestions"] == [
        "How do I file it online?",
        "What is the status of my dossier?",
        *(f"And {p['name']}?" for p in body["procedures"][1:]),
    ]


def test_the_procedure_answer_is_in_vietnamese_by_default(catalog, api_client):
    vietnamese = answer_of(api_client, "thủ tục đăng ký kết hôn cần gì")
    english = answer_of(api_client, "thủ tục đăng ký kết hôn cần gì", **EN)

    assert vietnamese["answer"] == procedure_text(
        MARRIAGE, fee="free of charge", online=PARTLY, language="vi"
    )
    assert vietnamese["answer"] != english["answer"]
    assert vietnamese["suggestions"][0] != "How do I file it online?"
    assert (vietnamese["data"], vietnamese["procedures"]) == (
        english["data"],
        english["procedures"],
    )


@pytest.mark.parametrize(
    ("question", "code", "fee", "online"),
    [
        ("chứng thực chữ ký", SIGNATURE, "10.000 đ", PARTLY),
        ("đăng ký tạm trú", TEMPORARY_RESIDENCE, "free of charge", ENTIRELY),
    ],
)
def test_the_fee_and_the_online_service_come_from_the_catalog(
    catalog, api_client, question, code, fee, online
):
    body = answer_of(api_client, question, **EN)

    assert (body["intent"], body["data"]["procedure"]) == ("procedure", code)
    assert body["answer"] == procedure_text(code, fee=fee, online=online, language="en")


def test_a_province_procedure_in_hours_without_papers(catalog, api_client):
    """What the catalog says now is answered (the index only chooses the procedure)."""
    procedure = Procedure.objects.get(code=MARRIAGE)
    procedure.level, procedure.processing_unit, procedure.processing_time = "province", "hours", 8
    procedure.fee, procedure.fee_note = 50000, ""
    procedure.save()
    procedure.documents.all().delete()

    body = answer_of(api_client, "dkkh", **EN)

    assert body["answer"] == (
        "Thủ tục đăng ký kết hôn (Hộ tịch).\n"
        "Papers: none listed.\n"
        "Fee: 50.000 đ.\n"
        "Processing time: 8 working hours.\n"
        "Where to file: the province's Public Administration Service Centre.\n"
        f"Online: {PARTLY}"
    )


def test_the_deep_link_follows_the_setting(catalog, api_client, settings):
    settings.ASSISTANT_DEEP_LINK_BASE = "https://app.congdanso.example/"

    body = answer_of(api_client, "dkkh")

    expected = f"https://app.congdanso.example/dossiers/new?procedure={MARRIAGE}"
    assert body["data"]["deep_link"] == expected == body["procedures"][0]["deep_link"]


def test_a_procedure_retired_is_not_described(catalog, api_client):
    answer_of(api_client, "dkkh")  # the index is built with it
    Procedure.objects.filter(code=MARRIAGE).update(active=False)

    body = answer_of(api_client, "dkkh", **EN)

    assert body["answer"] == "Sorry, I am not sure I understood."
    assert (body["procedures"], body["data"]) == ([], {})


def test_only_procedures_are_offered_beside_a_procedure(catalog, api_client):
    FaqEntry.objects.create(
        questions="đăng ký kết hôn có cần hai người cùng đến không", answer="Có, cả hai."
    )
    search_index_rebuild()
    question = "thủ tục đăng ký kết hôn cần gì"
    # The entry is among the engine's best matches, right behind the procedure.
    assert [m.kind for m in current_engine().read(question).matches[:2]] == ["procedure", "faq"]

    body = answer_of(api_client, question, **EN)

    assert body["intent"] == "procedure"
    codes = [p["code"] for p in body["procedures"]]
    assert codes[0] == MARRIAGE
    assert all(code in {p["code"] for p in PROCEDURES} for code in codes)
    assert len(body["suggestions"]) == 2 + len(codes) - 1


# --- 2. nothing it knows -------------------------------------------------------------------------


@pytest.mark.parametrize("question", ["giá xăng hôm nay", "làm hộ chiếu", "xyzqw", "là gì"])
def test_a_question_it_cannot_answer(catalog, ward, api_client, question):
    body = answer_of(api_client, question, **EN)

    assert body["intent"] == "none"
    assert body["confidence"] < 0.5
    assert len(body["procedures"]) <= 3
    offered = [f"- {p['name']}" for p in body["procedures"]]
    expected = [NOT_KNOWN] + (["The closest procedures:", *offered] if offered else [])
    assert body["answer"].split("\n") == expected
    assert all(p["deep_link"] == link(p["code"]) for p in body["procedures"])
    assert (body["data"], body["suggestions"]) == ({}, [])


def test_a_logged_in_citizen_not_answered_gets_their_desk(catalog, desk, citizen):
    body = answer_of(client_for(citizen), "giá xăng hôm nay", **EN)

    assert body["intent"] == "none"
    assert body["answer"].endswith("\n" + DESK_EN)
    assert body["answer"].startswith(NOT_KNOWN + "\n")
    assert body["data"] == {"ward": 6040}


def test_a_logged_in_citizen_whose_desk_is_not_recorded(catalog, ward, citizen):
    body = answer_of(client_for(citizen), "làm hộ chiếu", **EN)

    assert body["intent"] == "none"
    assert body["answer"].endswith("\n" + NO_DESK_EN)
    assert body["data"] == {"ward": 6040}


def test_an_anonymous_asker_not_answered_gets_no_desk(catalog, desk, api_client):
    body = answer_of(api_client, "giá xăng hôm nay", **EN)

    assert "One-stop desk" not in body["answer"]
    assert DESK["desk_phone"] not in body["answer"]
    assert body["data"] == {}


# --- 3. a dossier's status -----------------------------------------------------------------------


def test_anyone_with_the_code_reads_its_public_status(catalog, ward, citizen, official, api_client):
    code = submit(citizen, ward)
    dossier = receive(official, code)

    body = answer_of(api_client, f"hồ sơ {code.lower()} đến đâu rồi", **EN)

    assert (body["intent"], body["confidence"]) == ("dossier_status", 1.0)
    assert body["answer"] == (
        f"Dossier {code} (Thủ tục cấp Giấy xác nhận tình trạng hôn nhân): Being processed. "
        f"Appointment date: {dossier.appointment_date:%d/%m/%Y}."
    )
    assert body["data"] == {"dossier": code, "status": 4}
    assert "Nguyễn Văn An" not in body["answer"] and "912345678" not in body["answer"]
    assert body["procedures"] == []


def test_the_applicant_reads_their_dossier(catalog, ward, citizen, official):
    code = submit(citizen, ward)
    dossier = receive(official, code)

    body = answer_of(client_for(citizen), f"hồ sơ {code} của tôi xử lý chưa", **EN)

    assert body["intent"] == "dossier_status"
    assert body["answer"] == (
        f"Dossier {code} (Thủ tục cấp Giấy xác nhận tình trạng hôn nhân): Being processed. "
        f"Appointment date: {dossier.appointment_date:%d/%m/%Y}."
    )
    assert body["data"] == {"dossier": code, "status": 4}


def test_another_citizen_reads_only_the_public_status(catalog, ward, citizen, other_citizen):
    code = submit(citizen, ward)

    body = answer_of(client_for(other_citizen), f"hồ sơ {code}", **EN)

    assert body["answer"] == (
        f"Dossier {code} (Thủ tục cấp Giấy xác nhận tình trạng hôn nhân): Submitted."
    )
    assert "Nguyễn Văn An" not in body["answer"]
    assert body["data"] == {"dossier": code, "status": 1}


def test_a_withdrawn_dossier_has_no_appointment_date(catalog, ward, citizen, official):
    code = submit(citizen, ward)
    receive(official, code)
    withdrawn = client_for(citizen).post(
        f"/api/v1/dossiers/{code}/withdraw/", {"note": "Không cần nữa"}, format="json"
    )
    assert withdrawn.status_code == 200, withdrawn.content
    assert Dossier.objects.get(code=code).appointment_date is not None

    body = answer_of(client_for(citizen), f"hồ sơ {code}", **EN)

    assert body["answer"] == (
        f"Dossier {code} (Thủ tục cấp Giấy xác nhận tình trạng hôn nhân): Withdrawn by the citizen."
    )
    assert body["data"] == {"dossier": code, "status": 7}


def test_an_unknown_code(catalog, ward, citizen, api_client):
    question = "hồ sơ H20.6040-260302-9999 đến đâu rồi"

    english = answer_of(api_client, question, **EN)
    vietnamese = answer_of(client_for(citizen), question)

    message = "No dossier has the code %(code)s. Please check it on your receipt."
    assert english["answer"] == message % {"code": "H20.6040-260302-9999"}
    with translation.override("vi"):
        expected = translation.gettext(message) % {"code": "H20.6040-260302-9999"}
    assert vietnamese["answer"] == expected != english["answer"]
    assert english["intent"] == vietnamese["intent"] == "dossier_status"
    assert english["data"] == vietnamese["data"] == {}


# --- 4. the asker's digital address --------------------------------------------------------------


def test_my_address_needs_a_login(catalog, ward, citizen, api_client):
    register(citizen)

    body = answer_of(api_client, "địa chỉ số nhà tôi là gì", **EN)

    assert (body["intent"], body["confidence"]) == ("my_address", 1.0)
    assert body["answer"] == "Log in to see your household's digital address."
    assert body["data"] == {}


def test_my_address_without_a_household(catalog, ward, citizen, other_citizen):
    register(citizen)  # someone else's household: not theirs

    body = answer_of(client_for(other_citizen), "ma dia chi cua toi", **EN)

    assert body["intent"] == "my_address"
    assert body["answer"] == (
        "You have no household registered yet: register it in the app to get its digital address."
    )
    assert body["data"] == {}


def test_my_address_with_a_household(catalog, ward, citizen):
    household = register(citizen)

    body = answer_of(client_for(citizen), "địa chỉ số của nhà tôi", **EN)

    assert body["intent"] == "my_address"
    assert body["answer"] == f"Your household's digital address: {household['code']} (Xã Thất Khê)."
    assert body["data"] == {"household": household["id"], "code": household["code"]}


def test_asking_how_to_get_an_address_is_not_my_address(catalog, ward, citizen):
    register(citizen)

    body = answer_of(client_for(citizen), "làm sao để xin mã địa chỉ cho nhà tôi", **EN)

    assert body["intent"] != "my_address"
    assert "household" not in body["data"]


def test_a_rejected_household_is_not_told_as_the_address(catalog, ward, citizen, official):
    registered = register(citizen)
    household_reject(
        actor=official, household=Household.objects.get(pk=registered["id"]), reason="Sai địa chỉ"
    )
    assert APIClient().get(f"/api/v1/addresses/{registered['code']}/").status_code == 404

    body = answer_of(client_for(citizen), "địa chỉ số của nhà tôi", **EN)

    assert body["intent"] == "my_address"
    assert body["answer"] == (
        "The commune refused your household's registration, so it has no digital address: "
        "see the reason in the app."
    )
    assert registered["code"] not in body["answer"]
    assert body["data"] == {}


@pytest.mark.parametrize("question", ["địa chỉ nhà tôi là gì", "dia chi cua ho em"])
def test_my_address_asked_plainly(catalog, ward, citizen, question):
    household = register(citizen)

    body = answer_of(client_for(citizen), question, **EN)

    assert body["intent"] == "my_address"
    assert body["data"] == {"household": household["id"], "code": household["code"]}


# --- 5. a commune's one-stop desk ----------------------------------------------------------------


@pytest.mark.parametrize(
    "question", [DESK_QUESTION, "bo phan mot cua xa that khe o dau", "UBND Thất Khê ở đâu"]
)
def test_a_desk_not_recorded(catalog, ward, api_client, question):
    body = answer_of(api_client, question, **EN)

    assert (body["intent"], body["confidence"]) == ("ward_desk", 1.0)
    assert body["data"] == {"ward": 6040}
    assert body["answer"] == NO_DESK_EN


def test_a_desk_recorded(catalog, desk, api_client):
    body = answer_of(api_client, DESK_QUESTION, **EN)

    assert body["intent"] == "ward_desk"
    assert body["answer"] == DESK_EN
    assert body["data"] == {"ward": 6040}


def test_a_desk_with_only_its_phone(catalog, ward, other_ward, api_client):
    other_ward.desk_phone = "0205 3777 888"
    other_ward.save(update_fields=["desk_phone"])

    body = answer_of(api_client, "số điện thoại một cửa xã đoàn kết", **EN)

    assert body["intent"] == "ward_desk"
    assert body["answer"] == "One-stop desk of Xã Đoàn Kết:\nPhone: 0205 3777 888"
    assert body["data"] == {"ward": 6001}


def test_a_commune_of_another_province_is_not_known(catalog, ward, api_client):
    WardFactory(
        code=1234, name="Xã Bản Ngoài", province=ProvinceFactory(code=19, name="Thái Nguyên")
    )

    body = answer_of(api_client, "bộ phận một cửa xã bản ngoài ở đâu", **EN)

    assert body["intent"] == "none"
    assert body["data"] == {}


def test_a_procedure_clearly_asked_in_a_commune_stays_a_procedure(catalog, desk, api_client):
    body = answer_of(api_client, "thủ tục đăng ký kết hôn ở xã thất khê cần gì", **EN)

    assert body["intent"] == "procedure"
    assert body["data"]["procedure"] == MARRIAGE


def test_a_commune_named_with_where_is_its_desk(catalog, desk, api_client):
    question = "nơi đăng ký tạm trú xã thất khê ở đâu"
    assert DESK_WORDS.search(spell_out(question))  # "o dau": the desk is asked about

    body = answer_of(api_client, question, **EN)

    assert (body["intent"], body["data"]) == ("ward_desk", {"ward": 6040})
    assert body["answer"] == DESK_EN


# --- 6. FAQ --------------------------------------------------------------------------------------


@pytest.fixture
def faq(catalog) -> FaqEntry:
    entry = FaqEntry.objects.create(questions=FAQ_QUESTIONS, answer=FAQ_ANSWER)
    search_index_rebuild()
    return entry


@pytest.mark.parametrize(
    "question", [FAQ_PARAPHRASE, "gio lam viec cua mot cua", "một cửa làm việc mấy giờ vậy ạ"]
)
def test_an_faq_entry_answers_its_paraphrases(faq, api_client, question):
    body = answer_of(api_client, question, **EN)

    assert body["intent"] == "faq"
    assert body["confidence"] >= 0.5
    assert body["answer"] == FAQ_ANSWER
    assert body["data"] == {"faq": faq.pk}
    assert body["procedures"] == []


def test_an_faq_entry_unknown_until_the_index_is_rebuilt(catalog, api_client):
    assert answer_of(api_client, FAQ_PARAPHRASE)["intent"] == "none"
    entry = FaqEntry.objects.create(questions=FAQ_QUESTIONS, answer=FAQ_ANSWER)
    assert answer_of(api_client, FAQ_PARAPHRASE)["intent"] == "none"

    search_index_rebuild()

    body = answer_of(api_client, FAQ_PARAPHRASE)
    assert (body["intent"], body["answer"], body["data"]) == ("faq", FAQ_ANSWER, {"faq": entry.pk})


def test_an_inactive_entry_is_not_answered_after_the_rebuild(faq, api_client):
    faq.active = False
    faq.save()
    search_index_rebuild()

    body = answer_of(api_client, FAQ_PARAPHRASE, **EN)

    assert body["intent"] == "none"
    assert body["answer"] != FAQ_ANSWER
    assert body["answer"].startswith(NOT_KNOWN)
    assert "faq" not in body["data"]


@pytest.mark.parametrize("retired", ["faq", "procedure"])
def test_something_retired_before_the_rebuild_is_not_answered(faq, api_client, retired):
    question = FAQ_PARAPHRASE if retired == "faq" else "dkkh"
    if retired == "faq":
        faq.active = False
        faq.save()
    else:
        Procedure.objects.filter(code=MARRIAGE).update(active=False)

    body = answer_of(api_client, question, **EN)

    assert body["answer"].startswith("Sorry, I am not sure I understood.")
    assert body["intent"] == "none"
    assert "faq" not in body["data"] and "procedure" not in body["data"]
    # So the officials see it among the questions not answered.
    assert Turn.objects.get().intent == "none"


def admin_client(user: User) -> Client:
    client = Client(HTTP_ACCEPT_LANGUAGE="en")
    client.force_login(user)
    return client


def test_saving_an_entry_in_the_admin_rebuilds_the_index_after_commit(
    catalog, province_admin, published_tasks, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        response = admin_client(province_admin).post(
            "/admin/assistant/faqentry/add/",
            {"questions": FAQ_QUESTIONS, "answer": FAQ_ANSWER, "active": "on", "_save": "Save"},
        )
        assert published_tasks == []  # not before the commit

    assert response.status_code == 302, response.content
    entry = FaqEntry.objects.get()
    assert (entry.questions, entry.answer, entry.active) == (FAQ_QUESTIONS, FAQ_ANSWER, True)
    assert len(callbacks) == 1
    assert published_tasks == [PublishedTask("assistant.rebuild_index", [True], "maintenance")]


def test_deleting_an_entry_in_the_admin_rebuilds_the_index(
    faq, province_admin, published_tasks, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        response = admin_client(province_admin).post(
            f"/admin/assistant/faqentry/{faq.pk}/delete/", {"post": "yes"}
        )

    assert response.status_code == 302
    assert not FaqEntry.objects.exists()
    assert published_tasks == [PublishedTask("assistant.rebuild_index", [True], "maintenance")]


def test_a_ward_official_cannot_write_the_faq(
    catalog, official, published_tasks, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        response = admin_client(official).post(
            "/admin/assistant/faqentry/add/",
            {"questions": FAQ_QUESTIONS, "answer": FAQ_ANSWER, "active": "on"},
        )

    assert response.status_code == 403
    assert not FaqEntry.objects.exists()
    assert published_tasks == []


# --- 7. the log and the feedback -----------------------------------------------------------------


def test_the_question_is_logged_masked(catalog, ward, citizen):
    question = "hồ sơ H20.6040-260302-0001 của tôi, sđt 0912 345 678, cccd 001203004567"

    body = answer_of(client_for(citizen), question)

    turn = Turn.objects.get()
    assert turn.pk == body["turn"]
    assert turn.question == "hồ sơ H20.6040-260302-0001 của tôi, sđt •••, cccd •••"
    assert (turn.intent, turn.confidence, turn.procedures) == ("dossier_status", 1.0, [])
    assert turn.answer == body["answer"]
    assert (str(turn.conversation_id), turn.conversation.user) == (body["conversation"], citizen)
    assert turn.feedback == ""


def test_masking_keeps_every_dossier_code_and_hides_the_numbers():
    assert masked("H20.6040-260302-0001 và H20.6001-260303-0012, gọi +84 912.345.678") == (
        "H20.6040-260302-0001 và H20.6001-260303-0012, gọi •••"
    )
    assert masked("CCCD001203004567 số 0912345678") == "CCCD••• số •••"
    assert masked("thủ tục đăng ký kết hôn") == "thủ tục đăng ký kết hôn"


def test_a_procedure_turn_is_logged_with_what_was_offered(catalog, api_client):
    body = answer_of(api_client, "  dang   ky ket hon\n can gi ")

    turn = Turn.objects.get()
    assert turn.question == "dang ky ket hon can gi"
    assert turn.intent == "procedure"
    assert turn.confidence == body["confidence"]
    assert turn.procedures == [p["code"] for p in body["procedures"]]
    assert turn.procedures[0] == MARRIAGE
    assert turn.conversation.user is None


def test_the_conversation_continues(catalog, ward, citizen):
    client = client_for(citizen)
    first = answer_of(client, "dkkh")

    second = ask(client, "còn đăng ký khai tử thì sao", conversation=first["conversation"])

    assert second.status_code == 200
    assert second.json()["conversation"] == first["conversation"]
    assert second.json()["turn"] != first["turn"]
    assert Conversation.objects.count() == 1
    assert [t[0] for t in turns()] == [uuid.UUID(first["conversation"])] * 2


def test_an_anonymous_conversation_continues_anonymously(catalog, api_client):
    first = answer_of(api_client, "dkkh")

    second = ask(APIClient(), "dkks", conversation=first["conversation"])

    assert second.status_code == 200
    assert second.json()["conversation"] == first["conversation"]
    assert Conversation.objects.count() == 1 and Turn.objects.count() == 2


@pytest.mark.parametrize("who", ["other_citizen", "anonymous"])
def test_a_citizens_conversation_is_theirs_alone(catalog, ward, citizen, other_citizen, who):
    first = answer_of(client_for(citizen), "dkkh")
    before = turns()
    client = client_for(other_citizen) if who == "other_citizen" else APIClient()

    response = ask(client, "dkkh", conversation=first["conversation"], **EN)

    assert response.status_code == 404
    assert response.json() == NOT_FOUND
    assert turns() == before
    assert Conversation.objects.count() == 1


def test_an_unknown_conversation(catalog, api_client):
    response = ask(api_client, "dkkh", conversation=str(uuid.uuid4()), **EN)

    assert response.status_code == 404
    assert response.json() == NOT_FOUND
    assert (Conversation.objects.count(), Turn.objects.count()) == (0, 0)


def feedback(client: APIClient, turn: int, conversation: str, helpful: object):
    return client.post(
        FEEDBACK_URL.format(turn),
        {"conversation": conversation, "helpful": helpful},
        format="json",
        **EN,
    )


def test_feedback_up_then_down(catalog, ward, citizen):
    client = client_for(citizen)
    body = answer_of(client, "dkkh")

    up = feedback(client, body["turn"], body["conversation"], True)
    after_up = Turn.objects.get().feedback
    down = feedback(client, body["turn"], body["conversation"], False)

    assert (up.status_code, down.status_code) == (204, 204)
    assert (after_up, Turn.objects.get().feedback) == ("up", "down")


def test_anonymous_feedback_with_the_conversation_id(catalog, api_client):
    body = answer_of(api_client, "dkkh")

    response = feedback(APIClient(), body["turn"], body["conversation"], False)

    assert response.status_code == 204
    assert Turn.objects.get().feedback == "down"


def test_feedback_with_the_wrong_conversation_changes_nothing(catalog, ward, citizen):
    client = client_for(citizen)
    body = answer_of(client, "dkkh")
    other = answer_of(client, "dkks")  # the asker's own other conversation

    for conversation in (str(uuid.uuid4()), other["conversation"]):
        response = feedback(client, body["turn"], conversation, True)
        assert response.status_code == 404
        assert response.json() == NOT_FOUND
    unknown_turn = feedback(client, other["turn"] + 100, other["conversation"], True)

    assert unknown_turn.status_code == 404
    assert list(Turn.objects.values_list("feedback", flat=True)) == ["", ""]


@pytest.mark.parametrize("who", ["other_citizen", "anonymous"])
def test_feedback_on_a_citizens_turn_by_someone_else(catalog, ward, citizen, other_citizen, who):
    body = answer_of(client_for(citizen), "dkkh")
    client = client_for(other_citizen) if who == "other_citizen" else APIClient()

    response = feedback(client, body["turn"], body["conversation"], False)

    assert response.status_code == 404
    assert response.json() == NOT_FOUND
    assert Turn.objects.get().feedback == ""


def test_feedback_needs_a_yes_or_no(catalog, api_client):
    body = answer_of(api_client, "dkkh")

    response = feedback(api_client, body["turn"], body["conversation"], "maybe")

    assert response.status_code == 400
    assert list(response.json()["fields"]) == ["helpful"]
    assert Turn.objects.get().feedback == ""


def test_my_questions_are_in_my_export(catalog, ward, citizen, other_citizen, api_client):
    client = client_for(citizen)
    first = answer_of(client, "dkkh, gọi tôi 0912 345 678")
    second = answer_of(client, "giá xăng hôm nay")
    feedback(client, first["turn"], first["conversation"], True)
    answer_of(client_for(other_citizen), "dkks")
    answer_of(api_client, "dkkh")

    response = client.get("/api/v1/me/export/")

    assert response.status_code == 200
    mine = Turn.objects.filter(pk__in=[first["turn"], second["turn"]]).order_by("id")
    assert response.json()["assistant"] == [
        {
            "conversation": str(turn.conversation_id),
            "question": turn.question,
            "answer": turn.answer,
            "intent": turn.intent,
            "feedback": turn.feedback,
            "at": timezone.localtime(turn.created_at).isoformat(),
        }
        for turn in mine
    ]
    assert [t.question for t in mine] == ["dkkh, gọi tôi •••", "giá xăng hôm nay"]
    assert [t.feedback for t in mine] == ["up", ""]


def test_erasing_my_account_erases_my_questions(
    catalog, ward, citizen, other_citizen, api_client, password
):
    answer_of(client_for(citizen), "dkkh")
    theirs = answer_of(client_for(other_citizen), "dkks")
    anonymous = answer_of(api_client, "dkkh")

    response = client_for(citizen).delete("/api/v1/me/", {"password": password})

    assert response.status_code == 204
    assert sorted(str(c) for c in Conversation.objects.values_list("id", flat=True)) == sorted(
        [theirs["conversation"], anonymous["conversation"]]
    )
    assert sorted(Turn.objects.values_list("id", flat=True)) == sorted(
        [theirs["turn"], anonymous["turn"]]
    )


# --- 8. validation -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("body", "field", "message"),
    [
        ({"question": ""}, "question", "This field may not be blank."),
        ({"question": "   "}, "question", "This field may not be blank."),
        ({}, "question", "This field is required."),
        (
            {"question": "kết hôn " + "a" * 994},
            "question",
            "Ensure this field has no more than 1000 characters.",
        ),
        (
            {"question": "dkkh", "conversation": "not-a-uuid"},
            "conversation",
            "Must be a valid UUID.",
        ),
    ],
)
def test_an_invalid_question(catalog, api_client, body, field, message):
    response = api_client.post("/api/v1/assistant/ask/", body, format="json", **EN)

    assert response.status_code == 400
    assert response.json() == {
        "code": "invalid",
        "message": "Invalid input.",
        "fields": {field: [message]},
    }
    assert (Conversation.objects.count(), Turn.objects.count()) == (0, 0)


def test_a_question_of_exactly_1000_characters(catalog, api_client):
    question = ("đăng ký kết hôn " * 70)[:1000]
    assert len(question) == 1000

    body = answer_of(api_client, question)

    assert body["intent"] == "procedure"
    assert len(Turn.objects.get().question) <= 1000


def test_asking_is_throttled(catalog, api_client):
    for _ in range(30):
        assert ask(api_client, "dkkh").status_code == 200

    response = ask(api_client, "dkkh")

    assert response.status_code == 429
    assert Turn.objects.count() == 30


# --- 9. the index and its task -------------------------------------------------------------------


def test_the_task_rebuilds_only_when_something_changed(catalog, ward):
    first = rebuild_index.run()
    built = SearchIndex.objects.get()
    again = rebuild_index.run()

    assert first == again == 1
    assert SearchIndex.objects.get().built_at == built.built_at

    procedure = Procedure.objects.get(code=MARRIAGE)
    procedure.name = "Thủ tục đăng ký kết hôn trong nước"
    procedure.save()
    changed = rebuild_index.run()

    assert changed == 2
    index = SearchIndex.objects.get()
    assert index.version == 2
    titles = {d["key"]: d["title"] for d in index.documents if d["kind"] == "procedure"}
    assert titles[MARRIAGE] == "Thủ tục đăng ký kết hôn trong nước"
    assert rebuild_index.run() == 2


def test_the_task_forced_rebuilds_anyway(catalog):
    assert rebuild_index.run() == 1
    assert rebuild_index.run(False) == 2


@pytest.mark.parametrize("change", ["faq", "ward"])
def test_an_faq_entry_or_a_commune_added_makes_the_index_stale(catalog, ward, change):
    assert rebuild_index.run() == 1
    if change == "faq":
        FaqEntry.objects.create(questions=FAQ_QUESTIONS, answer=FAQ_ANSWER)
    else:
        WardFactory(code=6100, name="Xã Mới Lập")

    assert rebuild_index.run() == 2


def test_the_index_holds_the_active_catalog_faq_and_communes(catalog, ward, other_ward):
    Procedure.objects.filter(code=SIGNATURE).update(active=False)
    FaqEntry.objects.create(questions=FAQ_QUESTIONS, answer=FAQ_ANSWER)
    FaqEntry.objects.create(questions="cũ", answer="cũ", active=False)

    documents = search_index_rebuild().documents

    assert sorted((d["kind"], d["key"]) for d in documents if d["kind"] != "procedure") == [
        ("faq", str(FaqEntry.objects.get(active=True).pk)),
        ("ward", "6001"),
        ("ward", "6040"),
    ]
    procedures = [d["key"] for d in documents if d["kind"] == "procedure"]
    assert procedures == sorted(p["code"] for p in PROCEDURES if p["code"] != SIGNATURE)
    thatkhe = next(d for d in documents if d["key"] == "6040")
    assert thatkhe["names"] == ["that khe", "xa that khe"]


def test_the_engine_follows_a_new_version_in_the_same_process(catalog, api_client):
    assert answer_of(api_client, "dkkh")["procedures"][0]["name"] == "Thủ tục đăng ký kết hôn"
    procedure = Procedure.objects.get(code=MARRIAGE)
    procedure.name = "Thủ tục đăng ký kết hôn trong nước"
    procedure.save()

    rebuild_index.run()

    body = answer_of(api_client, "dkkh")
    assert body["procedures"][0]["name"] == "Thủ tục đăng ký kết hôn trong nước"


def test_a_commune_renamed_by_the_units_loader_is_known_by_its_new_name(catalog, api_client):
    admin_units_load(province_code=20)
    Ward.objects.filter(code=6040).update(name="Xã Tràng Định", search_name="xa trang dinh")
    assert rebuild_index.run() == 1

    admin_units_load(province_code=20)  # the source's name again: "Xã Thất Khê"
    assert Ward.objects.get(code=6040).name == "Xã Thất Khê"
    version = rebuild_index.run()

    body = answer_of(api_client, DESK_QUESTION, **EN)
    assert (body["intent"], body["data"]) == ("ward_desk", {"ward": 6040})
    assert version == 2


def test_the_beat_rebuilds_the_index_on_the_maintenance_queue():
    entry = app.conf.beat_schedule["refresh-assistant-index"]
    route = app.amqp.router.route({}, "assistant.rebuild_index")

    assert entry["task"] == "assistant.rebuild_index" == rebuild_index.name
    assert entry["schedule"] == crontab(minute="*/10")
    assert route["queue"].name == "maintenance"
    assert app.conf.task_routes["assistant.rebuild_index"] == {"queue": "maintenance"}


# --- 10. the admin -------------------------------------------------------------------------------


@pytest.fixture
def logged_turns(db) -> dict[str, Turn]:
    conversation = Conversation.objects.create()

    def turn(question: str, intent: str, feedback: str) -> Turn:
        return Turn.objects.create(
            conversation=conversation,
            question=question,
            answer="…",
            intent=intent,
            confidence=0.9 if intent != "none" else 0.1,
            feedback=feedback,
        )

    return {
        "unanswered": turn("giá xăng hôm nay", "none", ""),
        "disliked": turn("dkkh", "procedure", "down"),
        "liked": turn("dkks", "procedure", "up"),
        "both": turn("làm hộ chiếu", "none", "down"),
        "plain": turn("giờ làm việc", "faq", ""),
    }


@pytest.mark.parametrize(
    ("needs", "expected"),
    [
        ("unanswered", ["unanswered", "both"]),
        ("disliked", ["disliked", "both"]),
        ("either", ["unanswered", "disliked", "both"]),
        (None, ["unanswered", "disliked", "liked", "both", "plain"]),
    ],
)
def test_the_turns_to_look_at(logged_turns, province_admin, needs, expected):
    query = {"needs": needs} if needs else {}

    response = admin_client(province_admin).get("/admin/assistant/turn/", query)

    assert response.status_code == 200
    shown = {t.pk for t in response.context["cl"].result_list}
    assert shown == {logged_turns[name].pk for name in expected}


def test_the_turns_are_read_only(logged_turns, province_admin):
    client = admin_client(province_admin)
    turn = logged_turns["unanswered"]

    detail = client.get(f"/admin/assistant/turn/{turn.pk}/change/")
    add = client.get("/admin/assistant/turn/add/")
    change = client.post(f"/admin/assistant/turn/{turn.pk}/change/", {"question": "sửa"})

    assert (detail.status_code, add.status_code) == (200, 403)
    assert change.status_code == 403
    assert Turn.objects.get(pk=turn.pk).question == "giá xăng hôm nay"


def test_a_ward_official_cannot_read_the_turns(logged_turns, official):
    client = admin_client(official)

    responses = [
        client.get("/admin/assistant/turn/"),
        client.get(f"/admin/assistant/turn/{logged_turns['unanswered'].pk}/change/"),
        client.get("/admin/assistant/faqentry/"),
    ]

    assert [r.status_code for r in responses] == [403, 403, 403]
    assert official.is_staff and not official.has_perm("assistant.view_turn")


# --- 11. the queries of a question ---------------------------------------------------------------


def test_the_queries_of_an_anonymous_procedure_question(
    catalog, api_client, django_assert_num_queries
):
    answer_of(api_client, "dkkh")  # builds the index and this process's engine

    # 1 the index's version (the engine is this process's, built for it)
    # 2 the procedure, 3 its papers (prefetched)
    # 4 SAVEPOINT, 5 the conversation, 6 the turn, 7 RELEASE SAVEPOINT (the log's transaction,
    #   a savepoint inside the test's)
    with django_assert_num_queries(7):
        body = answer_of(api_client, "thủ tục đăng ký kết hôn cần gì")

    assert body["data"]["procedure"] == MARRIAGE
