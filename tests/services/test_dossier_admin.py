"""Dossiers in the admin: the officials' queue of their units with the deadline filters, a
read-only page (status included) whose buttons call the same actions as the API, and every
opened dossier in the access log."""

from __future__ import annotations

from datetime import date, datetime
from io import StringIO
from zoneinfo import ZoneInfo

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.test import Client
from django.utils import timezone

from accounts.actions.officials import official_create_or_update
from accounts.models import DataAccessLog, Role, User
from notifications.models import Notification
from services.models import Dossier, DossierEvent, DossierExtension
from tests.conftest import client_for
from tests.factories import PASSWORD

pytestmark = pytest.mark.django_db

CHANGELIST = "/admin/services/dossier/"
LOCAL = ZoneInfo("Asia/Ho_Chi_Minh")
MARRIAGE = "1.004873"  # 3 working days
PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


@pytest.fixture(autouse=True)
def catalog(db) -> None:
    call_command("load_demo_procedures", stdout=StringIO())


@pytest.fixture
def clock(monkeypatch):
    def set_clock(moment: datetime) -> None:
        monkeypatch.setattr(timezone, "now", lambda: moment)

    return set_clock


def at(day: int, hour: int = 9) -> datetime:
    return datetime(2026, 3, day, hour, tzinfo=LOCAL)  # 2 March 2026 is a Monday


def official_with(roles: list[str], phone: str, units: list[int] | None = None) -> User:
    return official_create_or_update(
        phone=phone,
        full_name=f"Cán bộ {phone[-2:]}",
        password=PASSWORD,
        roles=roles,
        unit_codes=units or [6040],
    )


@pytest.fixture
def desk() -> User:
    return official_with([Role.RECEPTION], "+84900000081")


@pytest.fixture
def processor() -> User:
    return official_with([Role.PROCESSING], "+84900000082")


@pytest.fixture
def leader() -> User:
    return official_with([Role.APPROVAL], "+84900000083")


def admin_client(user: User, language: str = "en") -> Client:
    client = Client(HTTP_ACCEPT_LANGUAGE=language)
    client.force_login(user)
    return client


def submit(user: User) -> Dossier:
    response = client_for(user).post(
        "/api/v1/dossiers/",
        {"procedure": MARRIAGE, "unit": 6040, "form_data": {"purpose": "x"}},
        format="json",
    )
    assert response.status_code == 201, response.content
    return Dossier.objects.get(code=response.json()["code"])


def act(user: User, dossier: Dossier, action: str, data: dict | None = None):
    return admin_client(user).post(f"{CHANGELIST}{dossier.pk}/act/{action}/", data or {})


def buttons(user: User, dossier: Dossier) -> list[str]:
    response = admin_client(user).get(f"{CHANGELIST}{dossier.pk}/change/")
    assert response.status_code == 200
    return [name for name, _label in response.context["transitions"]]


def test_the_queue_shows_only_the_officials_units(citizen, desk, other_official):
    dossier = submit(citizen)

    mine = admin_client(desk).get(CHANGELIST)
    theirs = admin_client(other_official).get(CHANGELIST)

    assert [d.pk for d in mine.context["cl"].result_list] == [dossier.pk]
    assert list(theirs.context["cl"].result_list) == []
    assert admin_client(other_official).get(f"{CHANGELIST}{dossier.pk}/change/").status_code == 302
    assert act(other_official, dossier, "receive").status_code == 404
    assert Dossier.objects.get(pk=dossier.pk).status == 1


def test_the_status_cannot_be_edited_in_a_form(citizen, desk):
    dossier = submit(citizen)

    page = admin_client(desk).get(f"{CHANGELIST}{dossier.pk}/change/")
    posted = admin_client(desk).post(f"{CHANGELIST}{dossier.pk}/change/", {"status": 10})

    assert page.context["has_change_permission"] is False
    assert 'name="status"' not in page.content.decode()
    assert posted.status_code == 403
    assert Dossier.objects.get(pk=dossier.pk).status == 1


def test_the_buttons_follow_the_status_and_the_role(citizen, desk, processor, leader, clock):
    clock(at(2))
    dossier = submit(citizen)
    assert buttons(desk, dossier) == ["receive", "refuse", "assign"]
    assert buttons(processor, dossier) == []

    assert act(desk, dossier, "receive", {"note": "Đủ"}).status_code == 302

    dossier.refresh_from_db()
    assert buttons(desk, dossier) == ["assign"]
    assert buttons(processor, dossier) == [
        "request-supplement",
        "request-fee",
        "extend",
        "stop",
    ]
    assert buttons(leader, dossier) == ["assign", "decide"]


def test_a_whole_lifecycle_through_the_buttons(citizen, desk, processor, leader, clock):
    clock(at(2))
    dossier = submit(citizen)

    assert act(desk, dossier, "receive").status_code == 302
    assert act(leader, dossier, "assign", {"assignee": processor.pk}).status_code == 302
    clock(at(3))
    extended = act(
        processor, dossier, "extend", {"new_date": "10/03/2026", "reason": "Chờ xác minh"}
    )
    assert extended.status_code == 302
    clock(at(4))
    decided = admin_client(leader).post(
        f"{CHANGELIST}{dossier.pk}/act/decide/",
        {"outcome": "approved", "note": "", "result": SimpleUploadedFile("kq.pdf", PDF)},
    )
    assert decided.status_code == 302
    assert act(desk, dossier, "return").status_code == 302

    dossier.refresh_from_db()
    assert (dossier.status, dossier.assignee, dossier.extensions, dossier.on_time) == (
        10,
        processor,
        1,
        False,
    )
    assert DossierExtension.objects.get(dossier=dossier).new_date == date(2026, 3, 10)
    assert list(dossier.events.order_by("id").values_list("to_status", flat=True)) == [
        1,
        2,
        4,
        9,
        10,
    ]
    assert dossier.attachments.get().kind == "result"
    # The leader's page shows the timeline, the apology letter and the files (the inlines).
    page = admin_client(leader).get(f"{CHANGELIST}{dossier.pk}/change/").content.decode()
    assert page.count('class="js-inline-admin-formset inline-group"') == 3
    assert "Chờ xác minh" in page
    assert "kq.pdf" in page
    # The citizen heard of each step they care about; the assignee of the assignment.
    assert Notification.objects.filter(user=citizen).count() == 4
    assert Notification.objects.filter(user=processor).count() == 1


def test_a_refused_move_shows_the_reason_and_changes_nothing(citizen, desk):
    dossier = submit(citizen)

    response = act(desk, dossier, "return")

    assert response.status_code == 200
    assert response.context["form"].non_field_errors() == [
        "This cannot be done in the dossier's current status."
    ]
    assert Dossier.objects.get(pk=dossier.pk).status == 1
    assert DossierEvent.objects.filter(dossier=dossier).count() == 1


def test_a_missing_reason_is_shown_on_its_field(citizen, desk):
    dossier = submit(citizen)

    response = act(desk, dossier, "refuse", {"reason": ""})

    assert response.status_code == 200
    assert response.context["form"].errors == {"reason": ["This field is required."]}
    assert Dossier.objects.get(pk=dossier.pk).status == 1


def test_an_official_without_the_role_cannot_act(citizen, processor):
    dossier = submit(citizen)

    assert act(processor, dossier, "receive").status_code == 403
    assert Dossier.objects.get(pk=dossier.pk).status == 1


def test_an_unknown_action_is_a_404(citizen, desk):
    dossier = submit(citizen)

    assert act(desk, dossier, "approve-everything").status_code == 404


def test_the_assignee_must_process_dossiers_of_the_unit(citizen, desk, other_ward):
    dossier = submit(citizen)
    elsewhere = official_with([Role.PROCESSING], "+84900000084", units=[other_ward.code])

    response = act(desk, dossier, "assign", {"assignee": elsewhere.pk})

    assert response.status_code == 200
    assert list(response.context["form"].errors) == ["assignee"]
    assert Dossier.objects.get(pk=dossier.pk).assignee is None


def test_the_deadline_filter(citizen, desk, clock):
    clock(at(2))
    late, soon, later = submit(citizen), submit(citizen), submit(citizen)
    Dossier.objects.filter(pk=late.pk).update(status=4, appointment_date=date(2026, 3, 4))
    Dossier.objects.filter(pk=soon.pk).update(status=4, appointment_date=date(2026, 3, 6))
    Dossier.objects.filter(pk=later.pk).update(status=4, appointment_date=date(2026, 3, 20))
    clock(at(5))  # Thursday: the next working day is Friday 6

    overdue = admin_client(desk).get(CHANGELIST, {"deadline": "overdue"})
    due_soon = admin_client(desk).get(CHANGELIST, {"deadline": "due_soon"})

    assert [d.pk for d in overdue.context["cl"].result_list] == [late.pk]
    assert [d.pk for d in due_soon.context["cl"].result_list] == [soon.pk]


def test_opening_a_dossier_is_in_the_access_log(citizen, desk):
    dossier = submit(citizen)

    admin_client(desk).get(f"{CHANGELIST}{dossier.pk}/change/")

    log = DataAccessLog.objects.get()
    assert (log.official, log.subject, log.channel, log.object_id) == (
        desk,
        citizen,
        "admin",
        dossier.code,
    )


def test_the_admin_speaks_vietnamese(citizen, desk):
    dossier = submit(citizen)

    page = admin_client(desk, "vi").get(f"{CHANGELIST}{dossier.pk}/act/refuse/")

    assert "Từ chối tiếp nhận" in page.content.decode()


def test_the_apology_letter_is_printed_from_the_dossier_page(citizen, desk, processor, clock):
    clock(at(2))
    dossier = submit(citizen)
    act(desk, dossier, "receive")
    act(processor, dossier, "extend", {"new_date": "10/03/2026", "reason": "Chờ xác minh"})
    letter = DossierExtension.objects.get(dossier=dossier)
    url = f"{CHANGELIST}{dossier.pk}/letter/{letter.pk}/"
    logged = DataAccessLog.objects.count()

    page = admin_client(processor).get(f"{CHANGELIST}{dossier.pk}/change/").content.decode()
    printed = admin_client(processor).get(url)

    assert f'href="{url}"' in page
    assert printed.status_code == 200
    # The admin adds its own never-cache directives to ours.
    assert printed["Cache-Control"].startswith("private, no-store")
    assert "PHIẾU XIN LỖI VÀ HẸN LẠI NGÀY TRẢ KẾT QUẢ" in printed.content.decode()
    assert list(DataAccessLog.objects.order_by("id").values_list("official", "subject", "channel"))[
        logged:
    ] == [(processor.pk, citizen.pk, "admin"), (processor.pk, citizen.pk, "admin")]


def test_the_letter_is_not_printed_for_another_unit_or_another_dossier(
    citizen, desk, processor, other_official, clock
):
    clock(at(2))
    dossier, other = submit(citizen), submit(citizen)
    act(desk, dossier, "receive")
    act(processor, dossier, "extend", {"new_date": "10/03/2026", "reason": "Chờ xác minh"})
    letter = DossierExtension.objects.get(dossier=dossier)
    logged = DataAccessLog.objects.count()

    elsewhere = admin_client(other_official).get(f"{CHANGELIST}{dossier.pk}/letter/{letter.pk}/")
    wrong = admin_client(processor).get(f"{CHANGELIST}{other.pk}/letter/{letter.pk}/")

    assert (elsewhere.status_code, wrong.status_code) == (404, 404)
    assert DataAccessLog.objects.count() == logged
