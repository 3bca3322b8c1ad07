"""Benchmark: the officials' queue (GET /api/v1/official/dossiers/) served by gunicorn under
concurrent load, against a hand-written floor served by the same server. PostgreSQL only.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/bench .venv/bin/python bench/official_queue.py
    DATABASE_URL=... .venv/bin/python bench/official_queue.py --dossiers 300000 --requests 1000

The run never touches a database it did not create: it creates ``congdanso_bench_<pid>`` next to
the database named in DATABASE_URL (through the server's ``postgres`` database), migrates it and
drops it at the end, also on error, Ctrl-C or SIGTERM (the helpers of ``otp_request.py``).

1. Set-up: Lạng Sơn's 65 units (province 20), the roles, the demo procedures, a few announced
   day swaps, 5000 citizens, ``--dossiers`` dossiers (100 000) written with COPY: most in the 4
   phường, every status with realistic weights, appointment dates around today for the open
   ones, codes ``{agency code}-{YYMMDD}-{NNNN}`` numbered per unit and day; then VACUUM ANALYZE.
   The official is the one-stop desk of the busiest phường (reception and processing roles); a
   JWT access token is minted for them.
2. A gunicorn server serves the project's WSGI application, whose URLconf is the project's plus
   one route for the floor: ``--concurrency`` (8) sync workers (gunicorn's default, which
   docker-compose.yml runs), or with ``--server gthread`` ``--workers`` processes sharing as many
   threads; each worker or thread has its own database connection. The client:
   ``--concurrency`` threads in this process, one request per connection, as nginx sends them
   by default.
3. Three queries, each through the API and through the floor: the first page, ``?status=4`` and
   ``?overdue=true``. The floor is a plain Django view: it checks the token's signature, reads the
   official's units, permission and the calendar's swaps in one raw statement, the page (51 rows
   joined to procedure, unit and assignee) in another, computes the deadline fields with the same
   WorkCalendar and answers a JsonResponse of the same shape. Before timing, each floor answer
   must equal the API's, or the run is invalid. ``--requests`` per path, interleaved in rounds
   with a rotating order; throughput, p50 and p99 of each.
4. Where the API's time goes: queries per request (CaptureQueriesContext), EXPLAIN ANALYZE of the
   queue queries, and the API's steps timed one by one in this process.
"""

from __future__ import annotations

import argparse
import base64
import io
import json
import os
import platform
import random
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from datetime import time as clock
from pathlib import Path
from urllib.parse import parse_qs, urlencode, urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parent.parent
BENCH = Path(__file__).resolve().parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(BENCH))

from household_import import PROVINCE, person  # noqa: E402  (after the path set-up)
from otp_request import (  # noqa: E402
    POSTGRES_SCHEMES,
    configure_environment,
    create_postgres_database,
    drop_postgres_database,
)

API_PATH = "/api/v1/official/dossiers/"
FLOOR_PATH = "/floor/official/dossiers/"
VARIANTS = (("first page", ""), ("status=4", "status=4"), ("overdue", "overdue=true"))
PAGE_SIZE = 50  # services.api.views.OfficialDossierPagination
CITIZENS = 5000
DAYS_OF_HISTORY = 540
WARM_UP = 20  # untimed requests of each path first
QUERY_SAMPLES = 20  # in-process requests under CaptureQueriesContext
BREAKDOWN_SAMPLES = 30  # in-process repetitions of each step of the breakdown

# Share of the dossiers of a unit per status (QĐ 766 codes): most dossiers are closed; the open
# ones (1, 2, 4, 5, 6) are the last weeks' and have their appointment around today.
# A unit receiving ~55 dossiers a working day holds ~150 new ones (1), ~450 in processing (4).
STATUS_WEIGHTS = {10: 86.0, 9: 0.8, 3: 4.5, 7: 4.0, 8: 1.5, 1: 0.5, 2: 0.4, 4: 1.5, 5: 0.5, 6: 0.3}
# The 4 phường (Lạng Sơn's city) receive most dossiers; the rest is spread over the communes.
WARD_SHARES = (0.30, 0.14, 0.10, 0.08)
PROCEDURE_WEIGHTS = {
    "2.000815": 30,  # certified copies
    "2.000884": 14,  # certified signatures
    "1.001193": 12,  # birth registration
    "1.004194": 10,  # temporary residence
    "1.004222": 8,  # permanent residence
    "1.004873": 8,  # marital status certificate
    "1.000894": 6,  # marriage
    "1.000656": 6,  # death registration
    "1.000689": 4,
    "1.004884": 2,
}
CHANNEL_WEIGHTS = {1: 55, 2: 40, 3: 5}  # in person, online, postal
ASSIGNEES_PER_PHUONG = 3
LOCAL_TZ = "Asia/Ho_Chi_Minh"


# --- The floor: a plain Django view -----------------------------------------------------------

# The official's right to the queue and their units, as accounts.api.permissions.IsOfficial,
# CanViewDossiers (ModelBackend: the user's or a group's permission) and
# accounts.selectors.official_ward_codes compute them, and the announced day swaps the
# WorkCalendar reads, in one statement. Parameters: the permission's id (twice), the province
# administrators' group, the user's id.
FLOOR_AUTH_SQL = """
SELECT u.is_active, u.is_staff AND p.id IS NOT NULL, u.is_superuser,
  u.is_superuser
  OR EXISTS (
    SELECT 1 FROM accounts_user_user_permissions up
    WHERE up.user_id = u.id AND up.permission_id = %s
  ) OR EXISTS (
    SELECT 1 FROM accounts_user_groups ug
    JOIN auth_group_permissions gp ON gp.group_id = ug.group_id
    WHERE ug.user_id = u.id AND gp.permission_id = %s
  ),
  ARRAY(
    SELECT pu.ward_id FROM accounts_officialprofile_units pu WHERE pu.officialprofile_id = p.id
    UNION
    SELECT w.code FROM digital_address_ward w
    WHERE w.province_id = p.province_id AND EXISTS (
      SELECT 1 FROM accounts_user_groups ug JOIN auth_group g ON g.id = ug.group_id
      WHERE ug.user_id = u.id AND g.name = %s
    )
  ),
  ARRAY(SELECT c.date FROM services_calendarday c ORDER BY c.date),
  ARRAY(SELECT c.is_working_day FROM services_calendarday c ORDER BY c.date)
FROM accounts_user u LEFT JOIN accounts_officialprofile p ON p.user_id = u.id
WHERE u.id = %s
"""
_PERMISSION: list[int] = []


def floor_auth_params(user_id: int) -> list:
    """The auth statement's parameters. The id of ``services.view_dossier`` is read once per
    process (a row migrate creates; Django caches content types per process the same way)."""
    from django.db import connection

    from accounts.models import Role
    from accounts.roles import ROLE_GROUPS

    if not _PERMISSION:
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT ap.id FROM auth_permission ap"
                " JOIN django_content_type ct ON ct.id = ap.content_type_id"
                " WHERE ap.codename = 'view_dossier' AND ct.app_label = 'services'"
            )
            _PERMISSION.append(cursor.fetchone()[0])
    permission = _PERMISSION[0]
    return [permission, permission, ROLE_GROUPS[Role.PROVINCE_ADMIN], user_id]


FLOOR_PAGE_SQL = """
SELECT d.code, pr.code, pr.name, w.code, w.name, d.status, d.channel, d.submitted_at,
  d.appointment_date, a.id, a.full_name
FROM services_dossier d
JOIN services_procedure pr ON pr.id = d.procedure_id
JOIN digital_address_ward w ON w.code = d.unit_id
LEFT JOIN accounts_user a ON a.id = d.assignee_id
WHERE d.unit_id IN ({units}){where}
ORDER BY d.submitted_at DESC, d.id DESC
LIMIT %s
"""


def floor_page_query(units: list[int], status: int | None, overdue_before: date | None):
    """The page's statement and parameters: the filter and order of dossiers_for_official and
    OfficialDossierPagination, one row more than a page (to know whether a next page exists)."""
    where, params = "", list(units)
    if status is not None:
        where += " AND d.status = %s"
        params.append(status)
    if overdue_before is not None:
        where += " AND d.status IN (2, 4) AND d.appointment_date < %s"
        params.append(overdue_before)
    sql = FLOOR_PAGE_SQL.format(units=", ".join(["%s"] * len(units)), where=where)
    return sql, [*params, PAGE_SIZE + 1]


def _refuse(status: int, detail: str):
    from django.http import JsonResponse

    return JsonResponse({"detail": detail}, status=status)


def floor_view(request):
    """The same answer as OfficialDossierListView for a first page, with the least work."""
    import jwt
    from django.conf import settings
    from django.db import connection
    from django.http import JsonResponse
    from django.utils import timezone

    from services.models import FINAL_STATUSES, PAUSED_STATUSES, DossierStatus
    from services.workdays import WorkCalendar

    header = request.META.get("HTTP_AUTHORIZATION", "")
    if not header.startswith("Bearer "):
        return _refuse(401, "no token")
    jwt_settings = settings.SIMPLE_JWT
    try:
        claims = jwt.decode(
            header[7:],
            jwt_settings["SIGNING_KEY"],
            algorithms=[jwt_settings.get("ALGORITHM", "HS256")],
        )
    except jwt.InvalidTokenError:
        return _refuse(401, "invalid token")
    if claims.get("token_type") != "access" or "jti" not in claims:
        return _refuse(401, "not an access token")

    status = None
    if "status" in request.GET:
        try:
            status = int(request.GET["status"])
        except ValueError:
            return _refuse(400, "status")
        if status not in DossierStatus.values:
            return _refuse(400, "status")
    overdue = request.GET.get("overdue", "").lower() in ("true", "1", "yes", "on")

    with connection.cursor() as cursor:
        cursor.execute(FLOOR_AUTH_SQL, floor_auth_params(claims["user_id"]))
        row = cursor.fetchone()
        if row is None or not row[0]:
            return _refuse(401, "no such user")
        _active, official, superuser, allowed, units, swap_days, swap_kinds = row
        if not (official or superuser) or not allowed:
            return _refuse(403, "not an official of a unit")
        if superuser:
            return _refuse(501, "the floor serves officials of units, not superusers")
        now = timezone.now()
        overdue_before = timezone.localdate(now) if overdue else None
        rows = []
        if units:
            sql, params = floor_page_query(units, status, overdue_before)
            cursor.execute(sql, params)
            rows = cursor.fetchall()

    calendar = WorkCalendar(
        swaps=dict(zip(swap_days, swap_kinds, strict=True)), cutoff=settings.INTAKE_CUTOFF
    )
    labels = {value: str(label) for value, label in DossierStatus.choices}
    local = timezone.get_current_timezone()
    decided = DossierStatus.DECIDED
    page = rows[:PAGE_SIZE]
    results = []
    for (code, p_code, p_name, w_code, w_name, st, channel, submitted, appointment, a_id,
         a_name) in page:  # fmt: skip
        is_open = appointment is not None and st not in FINAL_STATUSES and st != decided
        paused = st in PAUSED_STATUSES
        stamp = submitted.astimezone(local).isoformat()
        if stamp.endswith("+00:00"):
            stamp = stamp[:-6] + "Z"
        results.append(
            {
                "code": code,
                "procedure": {"code": p_code, "name": p_name},
                "unit": {"code": w_code, "name": w_name},
                "status": st,
                "status_display": labels[st],
                "channel": channel,
                "submitted_at": stamp,
                "appointment_date": appointment.isoformat() if appointment else None,
                "remaining_working_days": (
                    calendar.remaining_working_days(appointment, now)
                    if is_open and not paused
                    else None
                ),
                "overdue": (not paused) and is_open and calendar.is_overdue(appointment, now),
                "assignee": {"id": a_id, "name": a_name} if a_id is not None else None,
            }
        )
    return JsonResponse(
        {"next": _next_link(request, rows), "previous": None, "results": results},
        json_dumps_params={"ensure_ascii": False, "separators": (",", ":")},
    )


def _next_link(request, rows: list[tuple]) -> str | None:
    """DRF's CursorPagination.get_next_link for a first page: the position is the first
    ordering field (submitted_at) of the last row that differs from the row after the page."""
    if len(rows) <= PAGE_SIZE:
        return None
    compare, offset, position = str(rows[PAGE_SIZE][7]), 0, None
    for row in reversed(rows[:PAGE_SIZE]):
        if str(row[7]) != compare:
            position = str(row[7])
            break
        compare = str(row[7])
        offset += 1
    else:
        offset = PAGE_SIZE
    tokens = {}
    if offset:
        tokens["o"] = str(offset)
    if position is not None:
        tokens["p"] = position
    cursor = base64.b64encode(urlencode(tokens, doseq=True).encode("ascii")).decode("ascii")
    scheme, netloc, path, query, fragment = urlsplit(request.build_absolute_uri())
    params = parse_qs(query, keep_blank_values=True)
    params["cursor"] = [cursor]
    return urlunsplit(
        (scheme, netloc, path, urlencode(sorted(params.items()), doseq=True), fragment)
    )


# The URLconf of the run (ROOT_URLCONF = "official_queue"): the floor's route first, then the
# project's own patterns and error handlers, unchanged.
_URLS: dict[str, object] = {}


def __getattr__(name: str):
    if name == "urlpatterns" or name.startswith("handler"):
        if not _URLS:
            from django.urls import path

            import config.urls

            _URLS["urlpatterns"] = [
                path(FLOOR_PATH.lstrip("/"), floor_view),
                *config.urls.urlpatterns,
            ]
            for handler in ("handler400", "handler403", "handler404", "handler500"):
                _URLS[handler] = getattr(config.urls, handler)
        if name in _URLS:
            return _URLS[name]
    raise AttributeError(name)


def server_app():
    """gunicorn's application factory (``official_queue:server_app()``): the project's WSGI
    application with the run's URLconf; the environment is the parent's."""
    from django.conf import settings
    from django.core.wsgi import get_wsgi_application

    application = get_wsgi_application()
    settings.ROOT_URLCONF = "official_queue"
    return application


# --- The data -----------------------------------------------------------------------------------


@dataclass
class Dataset:
    dossiers: int
    citizens: int
    busy_ward: int
    busy_ward_name: str
    queue: int  # dossiers of the official's unit
    per_status: dict[int, int]  # of the official's unit
    overdue: int  # of the official's unit
    official_id: int
    seconds: float


def add_swaps(today: date) -> None:
    """A few announced day swaps around today (weekdays off, Saturdays worked), so that the
    calendar the deadlines use is read from a table that is not empty."""
    from services.models import CalendarDay

    def weekday_near(day: date) -> date:
        while day.weekday() >= 5:
            day += timedelta(days=1)
        return day

    def saturday_near(day: date) -> date:
        return day + timedelta(days=(5 - day.weekday()) % 7)

    days = {
        weekday_near(today - timedelta(days=9)): (False, "Nghỉ bù"),
        saturday_near(today - timedelta(days=20)): (True, "Làm bù"),
        weekday_near(today + timedelta(days=10)): (False, "Nghỉ bù"),
        saturday_near(today + timedelta(days=24)): (True, "Làm bù"),
        weekday_near(today - timedelta(days=300)): (False, "Nghỉ bù"),
        saturday_near(today - timedelta(days=290)): (True, "Làm bù"),
    }
    CalendarDay.objects.bulk_create(
        CalendarDay(date=day, is_working_day=working, reason=reason)
        for day, (working, reason) in days.items()
    )


def form_data(procedure: str, rng: random.Random) -> dict:
    if procedure == "1.001193":
        return {
            "child_full_name": person(rng),
            "child_date_of_birth": (date.today() - timedelta(days=rng.randint(1, 60))).isoformat(),
            "child_gender": rng.choice(("nam", "nu")),
            "ethnicity": rng.choice(("Tày", "Nùng", "Kinh", "Dao")),
            "nationality": "Việt Nam",
            "birth_place": "Bệnh viện Đa khoa tỉnh Lạng Sơn",
            "father_full_name": person(rng),
            "mother_full_name": person(rng),
            "declarant_relationship": rng.choice(("cha", "me")),
        }
    if procedure == "1.004873":
        return {"purpose": rng.choice(("Đăng ký kết hôn", "Bổ sung hồ sơ vay vốn"))}
    if procedure in ("1.004222", "1.004194"):
        return {
            "address": f"Số {rng.randint(1, 200)}, Đường Bà Triệu, Lạng Sơn",
            "reason": "Chuyển đến ở cùng gia đình",
            "owner_consent": True,
        }
    return {}


def load_data(n: int, rng: random.Random) -> Dataset:
    """Wards, roles, procedures, swaps, officials, citizens and ``n`` dossiers; VACUUM ANALYZE."""
    from django.core.management import call_command
    from django.db import connection, transaction
    from django.utils import timezone
    from psycopg.types.json import Jsonb

    from accounts.actions.officials import official_create_or_update
    from accounts.models import Role
    from accounts.roles import roles_ensure
    from digital_address.actions.units import admin_units_load
    from digital_address.models import DivisionType, Ward
    from services.actions import dossier_code
    from services.models import Procedure
    from services.workdays import LOCAL, work_calendar

    started = time.perf_counter()
    admin_units_load(province_code=PROVINCE)
    roles_ensure()
    call_command("load_demo_procedures", stdout=io.StringIO())
    now = timezone.now()
    today = now.astimezone(LOCAL).date()
    add_swaps(today)
    calendar = work_calendar()

    wards = list(Ward.objects.filter(province_id=PROVINCE).order_by("code"))
    if len(wards) != 65:
        raise SystemExit(f"expected Lạng Sơn's 65 wards, found {len(wards)}")
    phuong = [w for w in wards if w.division_type == DivisionType.WARD]
    communes = [w for w in wards if w.division_type != DivisionType.WARD]
    if len(phuong) != len(WARD_SHARES):
        raise SystemExit(f"expected {len(WARD_SHARES)} phường in province 20, found {len(phuong)}")
    rest = 1 - sum(WARD_SHARES)
    commune_weights = [rng.uniform(0.5, 1.5) for _ in communes]
    scale = rest / sum(commune_weights)
    ward_weights = [*WARD_SHARES, *(w * scale for w in commune_weights)]
    ordered_wards = [*phuong, *communes]
    busy = phuong[0]

    # Officials: the one-stop desk of the busiest phường (the benchmark's user), and processing
    # officials in every phường, to whom the dossiers are assigned.
    official = official_create_or_update(
        phone="+84900000001",
        full_name="Lý Thị Cán Bộ",
        password=None,
        roles=[Role.RECEPTION, Role.PROCESSING],
        unit_codes=[busy.code],
        title="Công chức một cửa",
    )
    assignees: dict[int, list[int]] = {}
    for i, ward in enumerate(phuong):
        assignees[ward.code] = [official.pk] if ward is busy else []
        for j in range(ASSIGNEES_PER_PHUONG):
            assignees[ward.code].append(
                official_create_or_update(
                    phone=f"+849000001{i}{j}",
                    full_name=person(rng),
                    password=None,
                    roles=[Role.PROCESSING],
                    unit_codes=[ward.code],
                ).pk
            )

    procedures = {p.code: p for p in Procedure.objects.all()}
    if set(procedures) != set(PROCEDURE_WEIGHTS):
        raise SystemExit(f"the demo catalog changed: {sorted(procedures)}")
    proc_codes = list(PROCEDURE_WEIGHTS)
    proc_weights = list(PROCEDURE_WEIGHTS.values())

    # Working days before today: back[k] is the k-th working day before today.
    back = [today]
    day = today
    while len(back) < 60:
        day -= timedelta(days=1)
        if calendar.is_working_day(day):
            back.append(day)

    with connection.cursor() as cursor:
        cursor.execute("SELECT COALESCE(MAX(id), 0) FROM accounts_user")
        first_citizen = cursor.fetchone()[0] + 1
    citizen_wards = rng.choices([w.code for w in ordered_wards], weights=ward_weights, k=CITIZENS)
    citizens_of: dict[int, list[int]] = {}
    citizen_rows = []
    for i, ward_code in enumerate(citizen_wards):
        pk = first_citizen + i
        citizens_of.setdefault(ward_code, []).append(pk)
        joined = now - timedelta(days=rng.uniform(DAYS_OF_HISTORY, DAYS_OF_HISTORY + 200))
        citizen_rows.append(
            (pk, "!" + f"{rng.getrandbits(160):040x}", False, f"+8491{i:07d}", person(rng),
             date(rng.randint(1950, 2005), rng.randint(1, 12), rng.randint(1, 28)), "", "",
             "vi", True, False, joined, ward_code)
        )  # fmt: skip
    for ward in ordered_wards:  # a unit nobody lives in still gets dossiers
        citizens_of.setdefault(ward.code, [first_citizen])

    local_midnight = datetime.combine(today, clock(0), tzinfo=LOCAL)

    def at_local(day: date, start: clock, end: clock) -> datetime:
        lo = start.hour * 3600 + start.minute * 60
        hi = end.hour * 3600 + end.minute * 60
        moment = datetime.combine(day, clock(0), tzinfo=LOCAL) + timedelta(
            seconds=rng.uniform(lo, hi)
        )
        return min(moment, now - timedelta(minutes=rng.uniform(1, 30)))

    statuses = list(STATUS_WEIGHTS)
    status_weights = list(STATUS_WEIGHTS.values())
    generated = []
    drawn_wards = rng.choices(ordered_wards, weights=ward_weights, k=n)
    drawn_status = rng.choices(statuses, weights=status_weights, k=n)
    drawn_proc = rng.choices(proc_codes, weights=proc_weights, k=n)
    drawn_channel = rng.choices(list(CHANNEL_WEIGHTS), weights=list(CHANNEL_WEIGHTS.values()), k=n)
    for ward, status, proc_code, channel in zip(
        drawn_wards, drawn_status, drawn_proc, drawn_channel, strict=True
    ):
        procedure = procedures[proc_code]
        days = procedure.processing_time
        received = appointment = decided = None
        if status == 1:  # submitted in the last three days, not yet received
            submitted = now - timedelta(hours=rng.uniform(0.1, 72))
        elif status in (2, 4, 5, 6, 9):  # received a few working days ago
            if status == 2:
                k = rng.randint(1, 2)
            elif status == 4 and rng.random() < 0.15:
                k = days + rng.randint(1, 6)  # late
            elif status == 4:
                k = rng.randint(1, days)
            else:
                k = rng.randint(1, days + 5)
            submitted = at_local(back[k], clock(7, 30), clock(15, 30))
            received = submitted + timedelta(minutes=rng.uniform(5, 120))
            appointment = calendar.add_working_days(calendar.receipt_day(received), days)
            if status == 9:
                decided = min(now, received + timedelta(days=rng.uniform(0.2, 1.5 * days + 1)))
        else:  # closed: any time in the last 18 months
            submitted = local_midnight - timedelta(
                days=rng.uniform(2, DAYS_OF_HISTORY), hours=-rng.uniform(7.5, 16)
            )
            if status != 3:
                received = submitted + timedelta(minutes=rng.uniform(5, 240))
                if status != 7 or rng.random() < 0.5:
                    appointment = calendar.add_working_days(calendar.receipt_day(received), days)
                if status == 10:
                    taken = timedelta(days=rng.uniform(0.2, 1.3 * days + 1))
                    decided = min(now, received + taken)
        unit_assignees = assignees.get(ward.code, [])
        assigned = None
        chance = {2: 0.4, 4: 0.9, 5: 0.9, 6: 0.9, 7: 0.5, 8: 0.9, 9: 0.9, 10: 0.9}.get(status, 0)
        if unit_assignees and rng.random() < chance:
            assigned = rng.choice(unit_assignees)
        generated.append(
            (submitted, ward, status, procedure, channel, received, appointment, decided, assigned)
        )

    generated.sort(key=lambda g: g[0])
    counters: dict[tuple[int, date], int] = {}
    dossier_rows = []
    for pk, (submitted, ward, status, procedure, channel, received, appointment, decided,
             assigned) in enumerate(generated, start=1):  # fmt: skip
        day = submitted.astimezone(LOCAL).date()
        number = counters[ward.code, day] = counters.get((ward.code, day), 0) + 1
        code = dossier_code(agency_code=ward.agency_code, day=day, number=number)
        outcome = ""
        if status in (9, 10):
            outcome = "approved" if rng.random() < 0.95 else "rejected"
        on_time = None
        if decided is not None and appointment is not None:
            on_time = decided.astimezone(LOCAL).date() <= appointment
        dossier_rows.append(
            (pk, code, channel, status, Jsonb(form_data(procedure.code, rng)), submitted,
             received, appointment, 1 if status == 5 else 0, decided or received or submitted,
             rng.choice(citizens_of[ward.code]), None, procedure.pk, ward.code,
             50000 if status == 6 else None, 1 if status == 6 else 0, outcome, assigned, decided,
             0, on_time)
        )  # fmt: skip

    user_columns = (
        "id, password, is_superuser, phone, full_name, date_of_birth, gender, email, language,"
        " is_active, is_staff, date_joined, ward_id"
    )
    dossier_columns = (
        "id, code, channel, status, form_data, submitted_at, received_at, appointment_date,"
        " supplement_requests, updated_at, applicant_id, household_id, procedure_id, unit_id,"
        " fee_due, fee_requests, outcome, assignee_id, decided_at, extensions, on_time"
    )
    with transaction.atomic(), connection.cursor() as cursor:
        raw = cursor.cursor
        for table, columns, rows in (
            ("accounts_user", user_columns, citizen_rows),
            ("services_dossier", dossier_columns, dossier_rows),
            (
                "services_dossierdaysequence",
                "ward_id, day, last_value",
                [(w, d, v) for (w, d), v in sorted(counters.items())],
            ),
        ):
            with raw.copy(f"COPY {table} ({columns}) FROM STDIN") as copy:
                for row in rows:
                    copy.write_row(row)
        for table in ("accounts_user", "services_dossier"):
            cursor.execute(
                f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), MAX(id)) FROM {table}"
            )
    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE")  # as autovacuum would have, after a bulk load

    mine = [g for g in generated if g[1] is busy]
    per_status: dict[int, int] = {}
    for g in mine:
        per_status[g[2]] = per_status.get(g[2], 0) + 1
    overdue = sum(1 for g in mine if g[2] in (2, 4) and g[6] is not None and g[6] < today)
    return Dataset(
        dossiers=n,
        citizens=CITIZENS,
        busy_ward=busy.code,
        busy_ward_name=busy.name,
        queue=len(mine),
        per_status=per_status,
        overdue=overdue,
        official_id=official.pk,
        seconds=time.perf_counter() - started,
    )


# --- The server and the client ------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Server:
    """gunicorn serving the project with the run's URLconf, in a child process."""

    def __init__(self, tmp: Path, worker_class: str, workers: int, threads: int) -> None:
        self.port = free_port()
        self.worker_class, self.workers, self.threads = worker_class, workers, threads
        self.log = tmp / "gunicorn.log"
        command = [
            sys.executable, "-m", "gunicorn",
            "--pythonpath", str(BENCH),
            "--bind", f"127.0.0.1:{self.port}",
            "--worker-class", worker_class,
            "--workers", str(workers),
            "--threads", str(threads),
            "--timeout", "120",
            "--no-control-socket",
            "--log-level", "warning",
            "official_queue:server_app()",
        ]  # fmt: skip
        with self.log.open("wb") as log:
            self.process = subprocess.Popen(
                command, cwd=ROOT, stdin=subprocess.DEVNULL, stdout=log, stderr=log
            )

    def describe(self) -> str:
        if self.worker_class == "sync":
            return f"{self.workers} sync workers"
        return f"{self.workers} gthread workers × {self.threads} threads"

    def wait_ready(self, raw: bytes, timeout: float = 60.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                break
            try:
                status, _body = fetch(self.port, raw)
                if status == 200:
                    return
            except OSError:
                pass
            time.sleep(0.2)
        self.stop()
        raise SystemExit(f"gunicorn did not answer:\n{self.log.read_text()[-3000:]}")

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


def request_bytes(port: int, path: str, token: str) -> bytes:
    """One GET, on its own connection (``Connection: close``: what nginx sends by default)."""
    return (
        f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nAuthorization: Bearer {token}\r\n"
        "Accept: application/json\r\nAccept-Language: vi\r\nConnection: close\r\n\r\n"
    ).encode("ascii")


def fetch(port: int, raw: bytes) -> tuple[int, bytes]:
    with socket.create_connection(("127.0.0.1", port), timeout=60) as s:
        s.sendall(raw)
        chunks = []
        while data := s.recv(262144):
            chunks.append(data)
    head, _sep, body = b"".join(chunks).partition(b"\r\n\r\n")
    return int(head[9:12]), body


@dataclass
class Measured:
    label: str
    variant: str
    path: str
    raw: bytes
    n: int
    port: int
    length: int = 0  # the body length of the validated answer: every answer must have it
    seconds: float = 0.0
    done: int = 0
    latencies: list[float] = field(default_factory=list)
    bad: list[str] = field(default_factory=list)

    @property
    def rate(self) -> float:
        return self.done / self.seconds if self.seconds else 0.0

    def percentile(self, p: float) -> float:
        ordered = sorted(self.latencies)
        return 1000 * ordered[min(len(ordered) - 1, int(p / 100 * len(ordered)))]


def run_chunk(p: Measured, count: int, concurrency: int, record: bool = True) -> None:
    """``count`` requests of one path from ``concurrency`` client threads."""
    lock = threading.Lock()
    left = [count]
    latencies: list[float] = []
    bad: list[str] = []

    def client() -> None:
        while True:
            with lock:
                if not left[0]:
                    return
                left[0] -= 1
            start = time.perf_counter()
            try:
                status, body = fetch(p.port, p.raw)
            except OSError as exc:
                status, body = 0, str(exc).encode()
            latencies.append(time.perf_counter() - start)
            if status != 200 or len(body) != p.length:
                bad.append(f"{status} ({len(body)} bytes, expected {p.length}): {body[:300]!r}")

    threads = [threading.Thread(target=client, daemon=True) for _ in range(concurrency)]
    start = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    if record:
        p.seconds += time.perf_counter() - start
        p.done += count
        p.latencies.extend(latencies)
    p.bad.extend(bad)


def split(n: int, parts: int) -> list[int]:
    return [n // parts + (1 if i < n % parts else 0) for i in range(parts)]


def run_interleaved(paths: list[Measured], rounds: int, concurrency: int) -> None:
    """Each round runs a chunk of every path, in an order that rotates from round to round."""
    chunks = {id(p): split(p.n, rounds) for p in paths}
    for r in range(rounds):
        order = paths[r % len(paths) :] + paths[: r % len(paths)]
        for p in order:
            run_chunk(p, chunks[id(p)][r], concurrency)


# --- Checks -------------------------------------------------------------------------------------


def same_answer(api: dict, floor: dict) -> str | None:
    """Why the floor's answer differs from the API's, or None. The floor's next link names the
    floor's path; it is compared with the API's path put in its place."""
    api_codes = [r["code"] for r in api["results"]]
    floor_codes = [r["code"] for r in floor["results"]]
    if api_codes != floor_codes:
        return f"other codes or order ({api_codes[:3]}… vs {floor_codes[:3]}…)"
    for i, (a, f) in enumerate(zip(api["results"], floor["results"], strict=True)):
        if a != f:
            keys = [k for k in a if a.get(k) != f.get(k)] or sorted(set(a) ^ set(f))
            return f"row {i} ({a['code']}) differs in {keys}: {[a.get(k) for k in keys]} vs " + str(
                [f.get(k) for k in keys]
            )
        if list(a) != list(f):
            return f"row {i}: keys in another order ({list(a)} vs {list(f)})"
    floor_next = floor["next"].replace(FLOOR_PATH, API_PATH, 1) if floor["next"] else None
    if api["next"] != floor_next or api["previous"] != floor["previous"]:
        return f"other links: {api['next']} vs {floor_next}"
    if list(api) != list(floor):
        return f"other keys: {list(api)} vs {list(floor)}"
    return None


def check_answers(api_p: Measured, floor_p: Measured, query: str) -> int:
    """The floor must answer what the API answers; return the number of rows."""
    answers = []
    for p in (api_p, floor_p):
        status, body = fetch(p.port, p.raw)
        if status != 200:
            raise SystemExit(f"invalid run: {p.path} answered {status}: {body[:500]!r}")
        p.length = len(body)
        answers.append(json.loads(body))
    api, floor = answers
    why = same_answer(api, floor)
    if why:
        raise SystemExit(f"invalid run: floor and API differ for ?{query}: {why}")
    rows = api["results"]
    if not rows:
        raise SystemExit(f"invalid run: no dossier for ?{query}; raise --dossiers")
    if query.startswith("status=") and any(r["status"] != int(query[7:]) for r in rows):
        raise SystemExit(f"invalid run: ?{query} answered other statuses")
    if query == "overdue=true" and not all(r["overdue"] for r in rows):
        raise SystemExit("invalid run: ?overdue=true answered dossiers that are not overdue")
    return len(rows)


# --- In this process: queries, plans, and the API's steps ----------------------------------------


def mint_token(user_id: int) -> str:
    """An access token as the login issues it, valid for the whole run (the settings cap access
    tokens at 15 minutes; a long run would outlive one)."""
    from rest_framework_simplejwt.tokens import AccessToken

    from accounts.models import User

    token = AccessToken.for_user(User.objects.get(pk=user_id))
    token.set_exp(lifetime=timedelta(hours=12))
    return str(token)


def captured(path: str, token: str, samples: int) -> tuple[float, list[str]]:
    """Statements per request through django.test.Client, and those of the first request
    (after one request not counted: per-process caches filled)."""
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    client = Client()
    client.get(path, HTTP_AUTHORIZATION=f"Bearer {token}")
    with CaptureQueriesContext(connection) as first:
        response = client.get(path, HTTP_AUTHORIZATION=f"Bearer {token}")
    if response.status_code != 200:
        raise SystemExit(f"invalid run: {path} answered {response.status_code} in process")
    with CaptureQueriesContext(connection) as rest:
        for _ in range(samples - 1):
            client.get(path, HTTP_AUTHORIZATION=f"Bearer {token}")
    count = len(first.captured_queries) + len(rest.captured_queries)
    return count / samples, [q["sql"] for q in first.captured_queries]


def plan_nodes(node: dict) -> list[dict]:
    return [node, *(n for child in node.get("Plans", []) for n in plan_nodes(child))]


def explain(sql: str, params: list | None = None) -> str:
    """EXPLAIN ANALYZE, summed up: how services_dossier is read, the sorts, the time."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(f"EXPLAIN (ANALYZE, BUFFERS, FORMAT JSON) {sql}", params)
        plan = cursor.fetchone()[0]
    top = plan[0] if isinstance(plan, list) else json.loads(plan)[0]
    parts = []
    for node in plan_nodes(top["Plan"]):
        kind = node["Node Type"]
        index = node.get("Index Name", "")
        if node.get("Relation Name") == "services_dossier" or "dossier" in index:
            rows = node["Actual Rows"] * node["Actual Loops"]
            on = f" on {index}" if index else ""
            parts.append(f"{kind}{on} ({rows:.0f} rows)")
        elif kind.endswith("Sort"):
            method = node.get("Sort Method") or "/".join(node.get("Sort Methods Used", []))
            parts.append(f"{kind} by {', '.join(node.get('Sort Key', []))} ({method})")
    blocks = top["Plan"].get("Shared Hit Blocks", 0) + top["Plan"].get("Shared Read Blocks", 0)
    return f"{'; '.join(parts)}; {blocks} blocks; {top['Execution Time']:.2f} ms"


def breakdown(
    token: str, query: str, orm_sql: str, floor_sql: tuple[str, list], samples: int
) -> dict[str, float]:
    """The API's steps for one request, each timed alone (median ms over ``samples``), next to
    the whole request and the floor's, in this process on one thread."""
    from types import SimpleNamespace

    from django.db import connection
    from django.test import Client, RequestFactory
    from rest_framework.renderers import JSONRenderer

    from accounts.api.permissions import IsOfficial
    from accounts.authentication import JWTAuthentication
    from services.api.serializers import (
        OfficialDossierQuerySerializer,
        StatusLabelField,
        queue_items,
    )
    from services.api.views import CanViewDossiers
    from services.selectors import official_queue
    from services.workdays import work_calendar

    client, factory = Client(), RequestFactory()
    auth = f"Bearer {token}"
    params = {k: v[0] for k, v in parse_qs(query).items()}
    suffix = f"?{query}" if query else ""
    times: dict[str, list[float]] = {}
    last = [0.0]

    def reset() -> None:
        last[0] = time.perf_counter()

    def lap(name: str) -> None:
        now = time.perf_counter()
        times.setdefault(name, []).append(1000 * (now - last[0]))
        last[0] = now

    for _ in range(samples):
        reset()
        client.get(API_PATH + suffix, HTTP_AUTHORIZATION=auth)
        lap("whole API request")
        client.get(FLOOR_PATH + suffix, HTTP_AUTHORIZATION=auth)
        lap("whole floor request")
        request = factory.get(API_PATH, data=params, HTTP_AUTHORIZATION=auth)
        reset()
        user, _token = JWTAuthentication().authenticate(request)
        lap("JWT check + user")
        holder = SimpleNamespace(user=user)
        allowed = IsOfficial().has_permission(holder, None) and CanViewDossiers().has_permission(
            holder, None
        )
        lap("IsOfficial + has_perm")
        checked = OfficialDossierQuerySerializer(data=params)
        checked.is_valid(raise_exception=True)
        valid = checked.validated_data
        lap("query parameters")
        queryset = official_queue(
            official=user, status=valid.get("status"), overdue=valid.get("overdue", False)
        )
        lap("units + queryset")
        rows = list(queryset.order_by("-submitted_at", "-id")[: PAGE_SIZE + 1])
        lap("queue query (ORM, values)")
        with connection.cursor() as cursor:
            cursor.execute(orm_sql)
            cursor.fetchall()
        lap(ORM_SQL_RAW)
        calendar = work_calendar()
        lap("work_calendar()")
        data = queue_items(rows[:PAGE_SIZE], calendar)
        lap("rows (queue_items), 50 rows")
        {value: str(label) for value, label in StatusLabelField.LABELS.items()}
        lap(STATUS_DISPLAY)
        JSONRenderer().render({"next": None, "previous": None, "results": data})
        lap("JSON render")
        with connection.cursor() as cursor:
            cursor.execute(FLOOR_AUTH_SQL, floor_auth_params(user.pk))
            cursor.fetchall()
            lap(FLOOR_AUTH)
            cursor.execute(*floor_sql)
            cursor.fetchall()
            lap(FLOOR_PAGE)
        if not allowed or len(data) != min(PAGE_SIZE, len(rows)):
            raise SystemExit("the breakdown did not do what the API does")
    return {name: statistics.median(values) for name, values in times.items()}


# --- The run ------------------------------------------------------------------------------------

# Steps of the breakdown that are part of another step, or the floor's: not added to the API's.
ORM_SQL_RAW = "  of which its SQL alone, raw cursor"
STATUS_DISPLAY = "  of which the status labels"
FLOOR_AUTH = "floor: its auth statement, raw"
FLOOR_PAGE = "floor: its page statement, raw"
NOT_SUMMED = {ORM_SQL_RAW, STATUS_DISPLAY, FLOOR_AUTH, FLOOR_PAGE}

SERVERS: list[Server] = []


def benchmark(args: argparse.Namespace, tmp: Path) -> None:
    import logging

    import django

    django.setup()
    logging.getLogger("kombu.connection").setLevel(logging.ERROR)
    from django.conf import settings
    from django.core.management import call_command
    from django.db import connection
    from django.utils import timezone

    started = time.perf_counter()
    call_command("migrate", verbosity=0, interactive=False)
    migrated = time.perf_counter() - started
    data = load_data(args.dossiers, random.Random(args.seed))
    settings.ROOT_URLCONF = "official_queue"  # this module: the floor's route + config.urls
    token = mint_token(data.official_id)

    # In process: the statements of each path, and the SQL of the API's queue query.
    counts, orm_sql = {}, {}
    for _label, query in VARIANTS:
        suffix = f"?{query}" if query else ""
        api_q, api_sql = captured(API_PATH + suffix, token, QUERY_SAMPLES)
        floor_q, _ = captured(FLOOR_PATH + suffix, token, QUERY_SAMPLES)
        counts[query] = (api_q, floor_q)
        orm_sql[query] = next(q for q in api_sql if 'FROM "services_dossier"' in q)
        if args.show_queries and not query:
            print("statements of one API request (first page):")
            for i, sql in enumerate(api_sql, 1):
                print(f"  {i}. {sql[:150]}{'…' if len(sql) > 150 else ''}")
    connection.close()  # the server's threads have their own connections

    if args.server == "sync":  # as docker-compose.yml runs it: one request per process
        server = Server(tmp, "sync", args.concurrency, 1)
    else:
        workers = min(args.workers, args.concurrency)
        server = Server(tmp, "gthread", workers, -(-args.concurrency // workers))
    SERVERS.append(server)
    port = server.port
    server.wait_ready(request_bytes(port, FLOOR_PATH, token))

    paths: list[Measured] = []
    pairs = []
    for label, query in VARIANTS:
        suffix = f"?{query}" if query else ""
        api_p = Measured(
            "API", label, API_PATH + suffix,
            request_bytes(port, API_PATH + suffix, token), args.requests, port,
        )  # fmt: skip
        floor_p = Measured(
            "floor", label, FLOOR_PATH + suffix,
            request_bytes(port, FLOOR_PATH + suffix, token), args.requests, port,
        )  # fmt: skip
        rows = check_answers(api_p, floor_p, query)
        pairs.append((api_p, floor_p, query, rows))
        paths += [api_p, floor_p]
    for p in paths:
        run_chunk(p, WARM_UP, args.concurrency, record=False)
    rounds = max(1, min(args.rounds, args.requests))
    timed_from = time.perf_counter()
    run_interleaved(paths, rounds, args.concurrency)
    timed_for = time.perf_counter() - timed_from
    server.stop()
    for p in paths:
        if p.bad:
            raise SystemExit(
                f"invalid run: {len(p.bad)} of the answers of {p.path} were not the validated "
                f"one; first: {p.bad[0]}"
            )

    import gunicorn

    v = connection.pg_version
    cache_backend = settings.CACHES["default"]["BACKEND"].rsplit(".", 1)[-1]
    print(
        f"Official queue benchmark: PostgreSQL {v // 10000}.{v % 10000} "
        f"({connection.settings_dict['NAME']}), gunicorn {gunicorn.__version__} "
        f"{server.describe()}, {args.concurrency} client threads "
        f"(a connection per request), cache {cache_backend}, Python {platform.python_version()}, "
        f"{os.cpu_count()} CPUs"
    )
    statuses = ", ".join(f"{s}: {data.per_status.get(s, 0)}" for s in sorted(STATUS_WEIGHTS))
    print(
        f"data: {data.dossiers} dossiers over 65 units, {data.citizens} citizens; the official's "
        f"unit {data.busy_ward} ({data.busy_ward_name}): {data.queue} dossiers ({statuses}; "
        f"overdue {data.overdue}); migrate {migrated:.1f} s, load {data.seconds:.1f} s; "
        f"timed {timed_for:.0f} s in {rounds} rounds"
    )
    verdicts = []
    for api_p, floor_p, query, rows in pairs:
        ratio = api_p.rate / floor_p.rate
        p99 = api_p.percentile(99) / floor_p.percentile(99)
        api_q, floor_q = counts[query]
        print(
            f"GET {api_p.path} (n={api_p.done}, {rows} rows): {api_p.rate:.0f} req/s = "
            f"{ratio:.2f} × floor ({floor_p.rate:.0f} req/s); p50 {api_p.percentile(50):.1f} ms "
            f"(floor {floor_p.percentile(50):.1f} ms); p99 {api_p.percentile(99):.1f} ms = "
            f"{p99:.2f} × floor ({floor_p.percentile(99):.1f} ms); {api_q:g} queries vs {floor_q:g}"
        )
        verdicts.append(f"{api_p.variant} {'met' if ratio >= 0.5 else 'NOT met'} ({ratio:.2f})")
    print(
        "queries per request: counted in process with CaptureQueriesContext over "
        f"{QUERY_SAMPLES} requests each; under gunicorn both add a `SELECT 1` (CONN_HEALTH_CHECKS)"
    )
    print(f"aim, API ≥ 0.5 × floor's throughput: {'; '.join(verdicts)}")

    print("where the time goes:")
    units = official_units(data.official_id)
    floor_sql = {}
    for label, query in VARIANTS:
        status = int(query[7:]) if query.startswith("status=") else None
        overdue_before = timezone.localdate() if query == "overdue=true" else None
        floor_sql[query] = floor_page_query(units, status, overdue_before)
        explain(orm_sql[query])  # the first run of a plan may read the blocks
        print(f"  the queue query, {label}: API's: {explain(orm_sql[query])}")
        print(f"  {' ' * len(label)}                 floor's: {explain(*floor_sql[query])}")
    columns = {
        query: breakdown(token, query, orm_sql[query], floor_sql[query], BREAKDOWN_SAMPLES)
        for _label, query in VARIANTS
    }
    print(
        f"  in process, one thread, ms per request (median of {BREAKDOWN_SAMPLES}); each step of "
        "the API timed alone:"
    )
    print(f"    {'':38}" + "".join(f"{label:>12}" for label, _q in VARIANTS))
    for step in next(iter(columns.values())):
        cells = "".join(f"{columns[query][step]:12.2f}" for _label, query in VARIANTS)
        print(f"    {step:38}{cells}")
    rest = {
        query: steps["whole API request"]
        - sum(v for k, v in steps.items() if k not in NOT_SUMMED and not k.startswith("whole"))
        for query, steps in columns.items()
    }
    cells = "".join(f"{rest[query]:12.2f}" for _label, query in VARIANTS)
    print(f"    {'the rest (middleware, DRF, pagination)':38}{cells}")


def official_units(user_id: int) -> list[int]:
    """The official's units, as the API computes them."""
    from accounts.models import User
    from accounts.selectors import official_ward_codes

    return sorted(official_ward_codes(user=User.objects.get(pk=user_id)) or [])


def positive(text: str) -> int:
    value = int(text)
    if not 1 <= value <= 10_000_000:
        raise argparse.ArgumentTypeError("between 1 and 10000000")
    return value


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--dossiers", type=positive, default=100_000, help="dossiers (100000)")
    parser.add_argument(
        "--requests", type=positive, default=500, help="timed requests per path (500)"
    )
    parser.add_argument(
        "--concurrency", type=positive, default=8, help="client threads and server slots (8)"
    )
    parser.add_argument(
        "--server",
        choices=("sync", "gthread"),
        default="sync",
        help="gunicorn's workers: sync, one per concurrent request (as docker-compose.yml), or "
        "gthread, --workers processes sharing the concurrent requests as threads (sync)",
    )
    parser.add_argument("--workers", type=positive, default=2, help="gthread workers (2)")
    parser.add_argument("--rounds", type=positive, default=5, help="interleaved rounds (5)")
    parser.add_argument("--seed", type=int, default=20, help="random seed (20)")
    parser.add_argument(
        "--show-queries", action="store_true", help="print the SQL of one API request"
    )
    args = parser.parse_args()

    url = os.environ.get("DATABASE_URL", "").strip()
    if urlsplit(url).scheme not in POSTGRES_SCHEMES:
        raise SystemExit(
            "DATABASE_URL must name a PostgreSQL server (this benchmark does not run on SQLite): "
            "DATABASE_URL=postgres://postgres@127.0.0.1:5432/bench"
        )

    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    with tempfile.TemporaryDirectory(prefix="congdanso-bench-") as tmp_dir:
        tmp = Path(tmp_dir)
        created: str | None = None
        try:
            bench_url, created = create_postgres_database(url)
            configure_environment(tmp, bench_url)
            os.environ["ALLOWED_HOSTS"] = "testserver,127.0.0.1"
            benchmark(args, tmp)
        finally:
            for server in SERVERS:
                server.stop()
            if "django" in sys.modules:
                from django.db import connections

                connections.close_all()
            if created:
                drop_postgres_database(url, created)


if __name__ == "__main__":
    main()
