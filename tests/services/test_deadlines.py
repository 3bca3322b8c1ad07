"""The periodic deadline warnings: an overdue or due-soon dossier is told to its assignee and to
its unit's leaders, once per appointment date; a new appointment date is warned about again;
the Celery task and its beat entry; two workers at once on PostgreSQL send each message once."""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import date, datetime
from io import StringIO
from zoneinfo import ZoneInfo

import pytest
from celery.schedules import crontab
from django.core.management import call_command
from django.db import connection, connections
from django.utils import timezone

from accounts.actions.officials import official_create_or_update
from accounts.models import Role, User
from config.celery import app
from digital_address.models import Ward
from notifications.models import Notification
from services.deadlines import dossiers_warn_due
from services.dossier_flow import dossier_extend
from services.models import Dossier, DossierStatus, Procedure
from services.tasks import warn_due_dossiers
from tests.factories import PASSWORD

pytestmark = pytest.mark.django_db

LOCAL = ZoneInfo("Asia/Ho_Chi_Minh")
MARRIAGE = "1.004873"
MARRIAGE_NAME = "Thủ tục cấp Giấy xác nhận tình trạng hôn nhân"
NOTHING = {"overdue": 0, "due_soon": 0}


@pytest.fixture(autouse=True)
def catalog(db) -> None:
    call_command("load_demo_procedures", stdout=StringIO())


def at(day: int, hour: int, minute: int = 0) -> datetime:
    """A moment of March 2026, local time (2 March is a Monday; no holiday that fortnight)."""
    return datetime(2026, 3, day, hour, minute, tzinfo=LOCAL)


@pytest.fixture
def clock(monkeypatch) -> Callable[[datetime], None]:
    """Set the outside world's clock (timezone.now) to a fixed moment."""

    def set_clock(moment: datetime) -> None:
        monkeypatch.setattr(timezone, "now", lambda: moment)

    return set_clock


def official_of(unit: int, roles: list[str], phone: str, name: str, active: bool = True) -> User:
    user = official_create_or_update(
        phone=phone, full_name=name, password=PASSWORD, roles=roles, unit_codes=[unit]
    )
    if not active:
        User.objects.filter(pk=user.pk).update(is_active=False)
        user.refresh_from_db()
    return user


@pytest.fixture
def leader(ward) -> User:
    return official_of(6040, [Role.APPROVAL], "+84900000071", "Lãnh Đạo Một")


@pytest.fixture
def deputy(ward) -> User:
    return official_of(6040, [Role.APPROVAL], "+84900000072", "Lãnh Đạo Hai")


@pytest.fixture
def retired_leader(ward) -> User:
    return official_of(6040, [Role.APPROVAL], "+84900000073", "Lãnh Đạo Nghỉ", active=False)


@pytest.fixture
def other_leader(other_ward) -> User:
    return official_of(6001, [Role.APPROVAL], "+84900000074", "Lãnh Đạo Khác")


@pytest.fixture
def processor(ward) -> User:
    return official_of(6040, [Role.PROCESSING], "+84900000075", "Chuyên Viên Xử Lý")


@pytest.fixture
def retired_processor(ward) -> User:
    return official_of(6040, [Role.PROCESSING], "+84900000076", "Chuyên Viên Nghỉ", active=False)


_numbers: dict[int, int] = {}


@pytest.fixture(autouse=True)
def _fresh_numbers():
    _numbers.clear()


def due(
    unit: Ward,
    applicant: User,
    appointment: date,
    *,
    status: int = DossierStatus.PROCESSING,
    assignee: User | None = None,
) -> Dossier:
    """A dossier received on Monday 2 March, with its appointment date."""
    number = _numbers[unit.code] = _numbers.get(unit.code, 0) + 1
    return Dossier.objects.create(
        code=f"{unit.agency_code}-260302-{number:04d}",
        procedure=Procedure.objects.get(code=MARRIAGE),
        applicant=applicant,
        unit=unit,
        status=status,
        submitted_at=at(2, 8),
        received_at=at(2, 9),
        updated_at=at(2, 9),
        appointment_date=appointment,
        assignee=assignee,
    )


def overdue(code: str, day: str) -> tuple[str, str, dict]:
    return (
        f"Hồ sơ {code} đã quá hạn",
        f"{MARRIAGE_NAME}: ngày hẹn trả kết quả là {day}.",
        {"dossier": code, "official": True},
    )


def due_soon(code: str, day: str) -> tuple[str, str, dict]:
    return (
        f"Hồ sơ {code} sắp đến hạn",
        f"{MARRIAGE_NAME}: ngày hẹn trả kết quả là {day}.",
        {"dossier": code, "official": True},
    )


def messages() -> list[tuple]:
    """The officials' inbox messages, oldest first: (user, category, title, body, data)."""
    return [
        (n.user_id, n.category, n.title, n.body, n.data)
        for n in Notification.objects.filter(user__is_staff=True).order_by("id")
    ]


def inbox(user: User) -> list[tuple]:
    return [
        (n.title, n.body, n.data) for n in Notification.objects.filter(user=user).order_by("id")
    ]


# --- who is warned about what --------------------------------------------------------------------


@pytest.fixture
def due_dossiers(
    ward, other_ward, citizen, other_citizen, processor, retired_processor, official
) -> dict[str, Dossier]:
    """On Friday 6 March: due yesterday, today, on Monday (the next working day), on Tuesday
    and in 5 working days; waiting on the citizen since before its date; decided; and one of
    the other unit, overdue."""
    return {
        "yesterday": due(ward, citizen, date(2026, 3, 5), assignee=processor),
        "today": due(ward, citizen, date(2026, 3, 6)),
        "monday": due(ward, citizen, date(2026, 3, 9), assignee=retired_processor),
        "tuesday": due(ward, citizen, date(2026, 3, 10), assignee=processor),
        "in_five": due(ward, citizen, date(2026, 3, 13), assignee=official),
        "waiting": due(
            ward, citizen, date(2026, 3, 2), status=DossierStatus.SUPPLEMENT_REQUESTED,
            assignee=processor,
        ),
        "decided": due(ward, citizen, date(2026, 3, 3), status=DossierStatus.DECIDED),
        "elsewhere": due(other_ward, other_citizen, date(2026, 3, 4)),
    }  # fmt: skip


def test_the_assignee_and_the_leaders_are_warned(
    due_dossiers, leader, deputy, retired_leader, other_leader, processor, retired_processor,
    official, other_official, province_admin, clock,
):  # fmt: skip
    clock(at(6, 10))
    d = {key: row.code for key, row in due_dossiers.items()}

    counts = dossiers_warn_due()

    assert counts == {"overdue": 2, "due_soon": 2}
    assert sorted(messages(), key=lambda m: (m[3], m[0])) == sorted(
        [
            (leader.pk, "dossier", *overdue(d["yesterday"], "05/03/2026")),
            (deputy.pk, "dossier", *overdue(d["yesterday"], "05/03/2026")),
            (processor.pk, "dossier", *overdue(d["yesterday"], "05/03/2026")),
            (other_leader.pk, "dossier", *overdue(d["elsewhere"], "04/03/2026")),
            (leader.pk, "dossier", *due_soon(d["today"], "06/03/2026")),
            (deputy.pk, "dossier", *due_soon(d["today"], "06/03/2026")),
            (leader.pk, "dossier", *due_soon(d["monday"], "09/03/2026")),
            (deputy.pk, "dossier", *due_soon(d["monday"], "09/03/2026")),
        ],
        key=lambda m: (m[3], m[0]),
    )
    for nobody in (retired_leader, retired_processor, official, other_official, province_admin):
        assert inbox(nobody) == []
    assert inbox(other_leader) == [overdue(d["elsewhere"], "04/03/2026")]
    assert Notification.objects.filter(user__is_staff=False).count() == 0
    assert {
        key: (row.overdue_warned_for, row.due_soon_warned_for)
        for key, row in ((k, Dossier.objects.get(pk=v.pk)) for k, v in due_dossiers.items())
    } == {
        "yesterday": (date(2026, 3, 5), None),
        "today": (None, date(2026, 3, 6)),
        "monday": (None, date(2026, 3, 9)),
        "tuesday": (None, None),
        "in_five": (None, None),
        "waiting": (None, None),
        "decided": (None, None),
        "elsewhere": (date(2026, 3, 4), None),
    }


def test_running_again_sends_nothing_more(due_dossiers, leader, processor, clock):
    clock(at(6, 10))
    first = dossiers_warn_due()
    sent = messages()

    clock(at(6, 10, 15))
    second = dossiers_warn_due()

    assert first == {"overdue": 2, "due_soon": 2}
    assert second == NOTHING
    assert messages() == sent
    assert len(sent) == 4  # the leader: 3 dossiers; the assignee: 1 (the other unit: no leader)


def test_a_dossier_due_soon_is_warned_again_when_it_becomes_overdue(ward, citizen, leader, clock):
    row = due(ward, citizen, date(2026, 3, 6))
    clock(at(6, 10))
    assert dossiers_warn_due() == {"overdue": 0, "due_soon": 1}

    clock(at(9, 8))
    assert dossiers_warn_due() == {"overdue": 1, "due_soon": 0}
    assert dossiers_warn_due() == NOTHING

    assert inbox(leader) == [due_soon(row.code, "06/03/2026"), overdue(row.code, "06/03/2026")]


def test_the_assignee_who_leads_the_unit_gets_one_message(ward, citizen, clock):
    both = official_of(6040, [Role.PROCESSING, Role.APPROVAL], "+84900000078", "Vừa Xử Lý")
    row = due(ward, citizen, date(2026, 3, 5), assignee=both)
    clock(at(6, 10))

    assert dossiers_warn_due() == {"overdue": 1, "due_soon": 0}
    assert inbox(both) == [overdue(row.code, "05/03/2026")]


def test_a_unit_without_leaders_warns_the_assignee_only(ward, citizen, processor, clock):
    row = due(ward, citizen, date(2026, 3, 5), assignee=processor)
    clock(at(6, 10))

    assert dossiers_warn_due() == {"overdue": 1, "due_soon": 0}
    assert messages() == [(processor.pk, "dossier", *overdue(row.code, "05/03/2026"))]


def test_a_dossier_nobody_is_told_of_is_still_marked(ward, citizen, clock):
    row = due(ward, citizen, date(2026, 3, 5))
    clock(at(6, 10))

    assert dossiers_warn_due() == {"overdue": 1, "due_soon": 0}
    assert dossiers_warn_due() == NOTHING
    assert Notification.objects.count() == 0
    assert Dossier.objects.get(pk=row.pk).overdue_warned_for == date(2026, 3, 5)


def test_an_english_reader_is_warned_in_english(ward, citizen, leader, clock):
    User.objects.filter(pk=leader.pk).update(language="en")
    row = due(ward, citizen, date(2026, 3, 5))
    clock(at(6, 10))

    dossiers_warn_due()

    assert inbox(leader) == [
        (
            f"Dossier {row.code} is overdue",
            f"{MARRIAGE_NAME}: the appointment date was 05/03/2026.",
            {"dossier": row.code, "official": True},
        )
    ]


@pytest.mark.parametrize(
    ("working_days", "warned"),
    [(0, ["today"]), (1, ["today", "monday"]), (2, ["today", "monday", "tuesday"])],
)
def test_due_soon_counts_working_days(ward, citizen, leader, clock, settings, working_days, warned):
    settings.DOSSIER_DUE_SOON_WORKING_DAYS = working_days
    rows = {
        "today": due(ward, citizen, date(2026, 3, 6)),
        "monday": due(ward, citizen, date(2026, 3, 9)),
        "tuesday": due(ward, citizen, date(2026, 3, 10)),
    }
    clock(at(6, 10))

    assert dossiers_warn_due() == {"overdue": 0, "due_soon": len(warned)}
    assert [m[2]["dossier"] for m in inbox(leader)] == [rows[key].code for key in warned]


def test_a_received_dossier_runs_the_clock_too(ward, citizen, leader, clock):
    row = due(ward, citizen, date(2026, 3, 5), status=DossierStatus.RECEIVED)
    clock(at(6, 10))

    assert dossiers_warn_due() == {"overdue": 1, "due_soon": 0}
    assert inbox(leader) == [overdue(row.code, "05/03/2026")]


# --- a new appointment date ----------------------------------------------------------------------


def test_an_extension_is_warned_about_for_its_new_date(ward, citizen, leader, processor, clock):
    row = due(ward, citizen, date(2026, 3, 6))
    clock(at(6, 10))
    assert dossiers_warn_due() == {"overdue": 0, "due_soon": 1}

    dossier_extend(actor=processor, dossier=row, new_date=date(2026, 3, 9), reason="Chờ xác minh")

    assert dossiers_warn_due() == {"overdue": 0, "due_soon": 1}
    assert dossiers_warn_due() == NOTHING
    clock(at(10, 8))
    assert dossiers_warn_due() == {"overdue": 1, "due_soon": 0}
    assert dossiers_warn_due() == NOTHING
    assert inbox(leader) == [
        due_soon(row.code, "06/03/2026"),
        due_soon(row.code, "09/03/2026"),
        overdue(row.code, "09/03/2026"),
    ]
    assert inbox(processor) == []  # not the assignee


def test_a_later_appointment_that_passes_is_warned_overdue_again(
    ward, citizen, leader, processor, clock
):
    row = due(ward, citizen, date(2026, 3, 5), assignee=processor)
    clock(at(6, 10))
    assert dossiers_warn_due() == {"overdue": 1, "due_soon": 0}

    # a wait on the citizen moved the appointment on to Thursday 12
    Dossier.objects.filter(pk=row.pk).update(appointment_date=date(2026, 3, 12))
    assert dossiers_warn_due() == NOTHING
    clock(at(11, 10))
    assert dossiers_warn_due() == {"overdue": 0, "due_soon": 1}
    clock(at(13, 10))
    assert dossiers_warn_due() == {"overdue": 1, "due_soon": 0}
    assert dossiers_warn_due() == NOTHING

    expected = [
        overdue(row.code, "05/03/2026"),
        due_soon(row.code, "12/03/2026"),
        overdue(row.code, "12/03/2026"),
    ]
    assert inbox(leader) == expected
    assert inbox(processor) == expected


def test_going_back_to_a_date_already_warned_about_warns_again_without_a_duplicate(
    ward, citizen, leader, clock
):
    row = due(ward, citizen, date(2026, 3, 5))
    clock(at(6, 10))
    dossiers_warn_due()
    Dossier.objects.filter(pk=row.pk).update(appointment_date=date(2026, 3, 4))
    assert dossiers_warn_due() == {"overdue": 1, "due_soon": 0}
    Dossier.objects.filter(pk=row.pk).update(appointment_date=date(2026, 3, 5))

    # the row is claimed again, but the message for 5 March exists already: one message each
    assert dossiers_warn_due() == {"overdue": 1, "due_soon": 0}
    assert inbox(leader) == [overdue(row.code, "05/03/2026"), overdue(row.code, "04/03/2026")]


# --- the Celery task -----------------------------------------------------------------------------


def test_the_task_warns_the_same_way(due_dossiers, leader, deputy, processor, clock):
    clock(at(6, 10))

    first = warn_due_dossiers.apply().get()
    after_first = messages()
    second = warn_due_dossiers.run()

    assert first == {"overdue": 2, "due_soon": 2}
    assert second == NOTHING
    assert len(after_first) == 7  # 2 leaders × 3 dossiers, and the assignee of the overdue one
    assert messages() == after_first
    assert inbox(processor) == [overdue(due_dossiers["yesterday"].code, "05/03/2026")]


def test_the_beat_runs_the_task_on_the_maintenance_queue():
    entry = app.conf.beat_schedule["warn-due-dossiers"]
    route = app.amqp.router.route({}, "services.warn_due_dossiers")

    assert entry["task"] == "services.warn_due_dossiers" == warn_due_dossiers.name
    assert entry["schedule"] == crontab(minute="*/15")
    assert route["queue"].name == "maintenance"
    assert app.conf.task_routes["services.warn_due_dossiers"] == {"queue": "maintenance"}


# --- two workers at once (PostgreSQL) ------------------------------------------------------------


@pytest.mark.postgresql
@pytest.mark.django_db(transaction=True)
def test_two_workers_at_once_warn_each_leader_once_per_dossier(
    ward, citizen, leader, deputy, clock
):
    if connection.vendor != "postgresql":
        pytest.skip("concurrent workers need PostgreSQL (SQLite serialises every transaction)")
    rows = [due(ward, citizen, date(2026, 3, 5 + n % 2)) for n in range(50)]
    clock(at(6, 10))
    results: list[dict] = []
    errors: list[BaseException] = []
    barrier = threading.Barrier(2)

    def work() -> None:
        try:
            barrier.wait(10)
            results.append(dossiers_warn_due())
        except BaseException as exc:
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=work) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)

    assert not any(thread.is_alive() for thread in threads)
    assert errors == []
    assert len(results) == 2
    assert sum(r["overdue"] for r in results) == 25
    assert sum(r["due_soon"] for r in results) == 25
    assert sum(r["overdue"] + r["due_soon"] for r in results) == 50
    for official in (leader, deputy):
        received = [m[2]["dossier"] for m in inbox(official)]
        assert sorted(received) == sorted(row.code for row in rows)
    assert Notification.objects.count() == 100
    assert dossiers_warn_due() == NOTHING


def test_an_assignee_who_left_the_unit_is_not_warned(ward, other_ward, citizen, leader, clock):
    mover = official_of(ward.code, [Role.PROCESSING], "+84900000077", "Lý Văn Chuyển")
    dossier = due(ward, citizen, date(2026, 3, 5), assignee=mover)
    official_create_or_update(
        phone=mover.phone,
        full_name=mover.full_name,
        password=PASSWORD,
        roles=[Role.PROCESSING],
        unit_codes=[other_ward.code],
    )
    clock(at(6, 10))

    assert dossiers_warn_due() == {"overdue": 1, "due_soon": 0}

    assert inbox(mover) == []
    assert inbox(leader) == [overdue(dossier.code, "05/03/2026")]


@pytest.mark.parametrize("count", [3, 12])
def test_a_run_costs_the_same_queries_for_any_number_of_dossiers(
    ward, citizen, leader, processor, clock, count
):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    for _ in range(count):
        due(ward, citizen, date(2026, 3, 5), assignee=processor)
    clock(at(6, 10))

    with CaptureQueriesContext(connection) as run:
        assert dossiers_warn_due() == {"overdue": count, "due_soon": 0}

    # Fixed: the swaps, the batches (and the empty ones that end each kind), the unit's leaders
    # and processing officials once, one UPDATE per batch; per batch, the messages already
    # written, the administrators' templates, one INSERT of all the messages, reading them back,
    # the recipients' preferences and devices. Nothing grows with the number of dossiers.
    queries = [q["sql"] for q in run.captured_queries if "SAVEPOINT" not in q["sql"]]
    inserts = [
        sql for sql in queries if sql.startswith("INSERT") and '"notifications_notification"' in sql
    ]
    assert (len(queries) - len(inserts), len(inserts)) == (12, 1)
