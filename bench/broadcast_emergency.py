"""Benchmark: a province-wide emergency broadcast at Lạng Sơn's scale, fanned out by
``broadcast_fan_out`` and pushed by processes looping ``deliveries_send`` to a fake FCM, against
a raw COPY of the same inbox rows and the bare provider calls. PostgreSQL only.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/bench_bcast \
        .venv/bin/python bench/broadcast_emergency.py
    DATABASE_URL=... .venv/bin/python bench/broadcast_emergency.py --households 23000

The run never touches a database it did not create: it creates ``congdanso_bench_<pid>`` next to
the database named in DATABASE_URL (through the server's ``postgres`` database), migrates it and
drops it at the end, also on error, Ctrl-C or SIGTERM (the helpers of ``otp_request.py``).

1. Set-up: Lạng Sơn's 65 wards (``admin_units_load(province_code=20)``), ``--households``
   (230 000) households, their members (with an account: ``--users-per-household`` on average;
   without one: ``--members-without-account``), users with only a profile ward
   (``--ward-only-users``), users outside the audience (``--outsiders``: no ward, half of them
   with a household they left), inactive users, and devices (``--device-share`` of the users with
   an active one, ``--second-device`` of those with two, some old inactive ones), all written
   with COPY. A province administrator (``official_create_or_update``) creates the emergency with
   ``broadcast_create(whole_province=True)``.
2. The inbox floor: one COPY of the same notification rows (the audience's, precomputed) into
   the emptied table, in one transaction; best of ``--floor-runs``.
3. The fan-out: ``broadcast_fan_out`` called until it is done (each call is one run of the
   ``notifications.fan_out_broadcast`` task: 20 chunks of ``BROADCAST_FANOUT_CHUNK``), in a child
   process of its own (a fresh interpreter), whose peak RSS (VmHWM) it reports. First for a
   broadcast to a ``--small`` share of the province's wards, then for the whole province.
4. Sending, after the fan-out: ``--senders`` processes loop ``deliveries_send(channel="push")``
   until a claim comes back empty. The floor: the same messages (token, texts, data, reference),
   built before the clock, straight to the same fake FCM in 500-message calls by as many
   processes.
5. Concurrently (a new broadcast, on emptied tables): the fan-out child and the senders started
   together, the senders polling while the fan-out writes: the time to the last push call.

Every run is checked: the inbox rows must be exactly the audience's, the push deliveries those
of the audience with an active device, every message must reach the fake FCM exactly once and
every delivery end "sent", or the run stops with "invalid run".
"""

from __future__ import annotations

import argparse
import base64
import bisect
import json
import multiprocessing
import os
import platform
import random
import signal
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path
from urllib.parse import urlsplit

ROOT = Path(__file__).resolve().parent.parent
BENCH = Path(__file__).resolve().parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(BENCH))

from household_import import HAMLET_NAMES, STREETS, person  # noqa: E402  (after the path set-up)
from otp_request import (  # noqa: E402
    POSTGRES_SCHEMES,
    configure_environment,
    create_postgres_database,
    drop_postgres_database,
)
from push_notifications import TOKEN_LENGTH, _timed  # noqa: E402

PROVINCE = 20  # Lạng Sơn
PROVIDER = "fake-fcm"
FORK = multiprocessing.get_context("fork")
ALERT = {
    "title": "Cảnh báo lũ quét và sạt lở đất",
    "body": "Mưa lớn kéo dài, nguy cơ lũ quét và sạt lở đất rất cao tại các xã vùng núi. Bà con "
    "ven suối, chân đồi di chuyển ngay đến nơi an toàn theo hướng dẫn của chính quyền thôn, bản. "
    "Gọi 112 khi cần cứu hộ. Trả lời An toàn hoặc Cần giúp đỡ trong ứng dụng.",
}
INACTIVE_USERS = 0.01  # accounts closed or blocked: never in an audience
PROFILE_WARD_SAME = 0.70  # of members: a profile ward, their household's
PROFILE_WARD_NONE = 0.25  # of members: no profile ward (the rest: another ward of the province)
OLD_DEVICE = 0.03  # users with an inactive device (an old phone)
IOS = 0.2
ASSISTANCE = 0.02
RELATIONSHIPS = ("spouse", "child", "child", "parent", "grandparent", "other")


# --- The fake FCM -------------------------------------------------------------------------------


def install_fake_fcm(latency: float) -> type:
    """A fake FCM: ``latency`` seconds a call of at most 500 messages, every message sent. As
    push_notifications.py's, registered under its own name (the settings refuse ``memory`` with
    DEBUG off), but keeping only the references (not 300 000 messages) and when the last call
    ended, on the system-wide monotonic clock (comparable across processes)."""
    from django.conf import settings

    from notifications.providers import push

    class FakeFcm(push.MemoryPushProvider):
        name = PROVIDER
        outbox: list = []
        calls: list = []
        results: dict = {}
        fail_calls: list = []
        references: list = []
        busy: list = [0.0]
        last_end: list = [0.0]
        _lock = threading.Lock()

        def send(self, messages):
            if len(messages) > self.batch_limit:
                raise ValueError(f"at most {self.batch_limit} messages a call")
            started = time.monotonic()
            time.sleep(self.latency)
            with self._lock:
                self.calls.append(len(messages))
                self.references.extend(m.reference for m in messages)
                answers = [push.PushResult(push.PushOutcome.SENT, m.reference) for m in messages]
                ended = time.monotonic()
                self.busy[0] += ended - started
                self.last_end[0] = ended
            return answers

    FakeFcm.latency = latency
    push.PUSH_PROVIDERS[PROVIDER] = FakeFcm
    settings.PUSH_PROVIDER = PROVIDER
    return FakeFcm


# --- The population -----------------------------------------------------------------------------


@dataclass
class Population:
    households: int = 0
    members: int = 0
    users: int = 0
    devices: int = 0
    active_devices: int = 0
    audience: int = 0  # province-wide, as generated
    seconds: float = 0.0


def binomial(rng: random.Random, mean: float, trials: int) -> int:
    trials = max(trials, int(mean + 0.999))
    p = mean / trials if trials else 0.0
    return sum(rng.random() < p for _ in range(trials))


def token(rng: random.Random) -> str:
    return base64.urlsafe_b64encode(rng.randbytes(123)).decode()[:TOKEN_LENGTH]


def copy_rows(cursor, table: str, columns: str, rows) -> None:
    with cursor.copy(f"COPY {table} ({columns}) FROM STDIN") as copy:
        for row in rows:
            copy.write_row(row)


def load_population(args: argparse.Namespace, rng: random.Random) -> Population:
    """Households, members, users and devices, generated in memory and written with COPY."""
    from django.contrib.auth.hashers import make_password
    from django.db import connection, transaction
    from django.utils import timezone

    from digital_address.address_codes import compose
    from digital_address.models import DivisionType, Ward

    started = time.perf_counter()
    wards = list(
        Ward.objects.filter(province_id=PROVINCE)
        .order_by("code")
        .values_list("code", "division_type")
    )
    if len(wards) != 65:
        raise SystemExit(f"expected Lạng Sơn's 65 wards, found {len(wards)}")
    codes = [code for code, _kind in wards]
    urban = {code for code, kind in wards if kind == DivisionType.WARD}
    weights = [rng.uniform(0.4, 1.6) * (2.5 if code in urban else 1.0) for code in codes]
    cumulative = []
    for w in weights:
        cumulative.append((cumulative[-1] if cumulative else 0.0) + w)

    def a_ward() -> int:
        return codes[bisect.bisect(cumulative, rng.random() * cumulative[-1])]

    now = timezone.now()
    n = args.households
    household_ward = [a_ward() for _ in range(n)]
    households, last = [], Counter()
    for pk, ward in enumerate(household_ward, start=1):
        last[ward] += 1
        if ward in urban:
            house, street, hamlet = str(rng.randint(1, 250)), rng.choice(STREETS), ""
        else:
            house, street = "", ""
            hamlet = f"Thôn {rng.choice(HAMLET_NAMES)}"
        households.append(
            (pk, ward, house, street, hamlet, "", compose(ward, last[ward]), "verified", "",
             "app", now, now)
        )  # fmt: skip

    # People: (household or 0, profile ward or None, active, left the household). Shuffled
    # before the ids are given, as people register in no order.
    people: list[tuple[int, int | None, bool, bool]] = []
    for h in range(1, n + 1):
        for _ in range(binomial(rng, args.users_per_household, 4)):
            r = rng.random()
            if r < PROFILE_WARD_SAME:
                ward = household_ward[h - 1]
            elif r < PROFILE_WARD_SAME + PROFILE_WARD_NONE:
                ward = None
            else:
                ward = a_ward()
            people.append((h, ward, rng.random() >= INACTIVE_USERS, False))
    for _ in range(args.ward_only_users):
        people.append((0, a_ward(), rng.random() >= INACTIVE_USERS, False))
    for i in range(args.outsiders):  # no ward; half of them left a household of the province
        people.append((rng.randint(1, n) if i % 2 else 0, None, True, bool(i % 2)))
    rng.shuffle(people)

    password = make_password(None)
    joined = now - timedelta(days=90)
    users, devices = [], []
    current: dict[int, list[int]] = defaultdict(list)
    left: list[tuple[int, int]] = []
    audience = 0
    for uid, (h, ward, active, gone) in enumerate(people, start=1):
        users.append(
            (uid, password, False, f"+849{uid:08d}", person(rng), "", "", "vi", active, False,
             joined, ward)
        )  # fmt: skip
        if h and gone:
            left.append((h, uid))
        elif h:
            current[h].append(uid)
        audience += bool(active and (ward is not None or (h and not gone)))
        if rng.random() < args.device_share:
            platform_ = "ios" if rng.random() < IOS else "android"
            devices.append((uid, platform_, token(rng), "2.4.0", True, now, now))
            if rng.random() < args.second_device:
                devices.append((uid, "android", token(rng), "2.4.0", True, now, now))
        if rng.random() < OLD_DEVICE:
            devices.append((uid, "android", token(rng), "2.1.3", False, joined, joined))

    members = []
    for h in range(1, n + 1):
        accounts = current.get(h, [])
        without = binomial(rng, args.members_without_account, 3)
        slots = [*accounts, *([None] * without)]
        for i, uid in enumerate(slots):
            born = date(rng.randint(1930, 2024), rng.randint(1, 12), rng.randint(1, 28))
            relationship = "head" if i == 0 else rng.choice(RELATIONSHIPS)
            members.append(
                (h, uid, person(rng), born, relationship, joined, None,
                 rng.random() < ASSISTANCE)
            )  # fmt: skip
    for h, uid in left:
        moved = now - timedelta(days=30)
        members.append((h, uid, person(rng), None, "other", joined, moved, False))

    with transaction.atomic(), connection.cursor() as cursor:
        raw = cursor.cursor
        copy_rows(
            raw,
            "digital_address_household",
            "id, ward_id, house_number, street, hamlet, plus_code, code, status, "
            "rejection_reason, source, created_at, updated_at",
            households,
        )
        copy_rows(
            raw,
            "accounts_user",
            "id, password, is_superuser, phone, full_name, gender, email, language, is_active, "
            "is_staff, date_joined, ward_id",
            users,
        )
        copy_rows(
            raw,
            "digital_address_householdmember",
            "household_id, user_id, full_name, date_of_birth, relationship, joined_at, "
            "ended_at, needs_assistance",
            members,
        )
        copy_rows(
            raw,
            "accounts_device",
            "user_id, platform, token, app_version, is_active, created_at, updated_at",
            devices,
        )
        cursor.execute(
            "INSERT INTO digital_address_wardaddresssequence (ward_id, last_value) "
            "SELECT * FROM unnest(%s::int[], %s::int[])",
            [list(last), list(last.values())],
        )
        for table, count in (("accounts_user", len(users)), ("digital_address_household", n)):
            cursor.execute(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), %s)", [count])
    with connection.cursor() as cursor:
        for table in (
            "digital_address_household",
            "digital_address_householdmember",
            "accounts_user",
            "accounts_device",
        ):
            cursor.execute(f"VACUUM ANALYZE {table}")
        # Every table's statistics, the wards' included, as autovacuum would have them long
        # before a broadcast (this server may run without it): without them PostgreSQL takes
        # the province for one ward and plans the audience for a handful of rows.
        cursor.execute("ANALYZE")
    return Population(
        households=n,
        members=len(members),
        users=len(users),
        devices=len(devices),
        active_devices=sum(d[4] for d in devices),
        audience=audience,
        seconds=time.perf_counter() - started,
    )


# --- The broadcasts and their audiences ---------------------------------------------------------


def province_admin():
    from accounts.actions.officials import official_create_or_update
    from accounts.models import Role

    return official_create_or_update(
        phone="+84205000001",
        full_name="Nông Văn Tỉnh",
        password=None,
        roles=[Role.PROVINCE_ADMIN],
        province_code=PROVINCE,
        title="Quản trị cấp tỉnh",
    )


def create_broadcast(official, wards: list[int] | None, sms: bool):
    """An emergency, created as the API does; due now, so it starts "sending" (its fan-out task
    is published to the in-process broker and never runs: the child does the fan-out)."""
    from notifications.actions.broadcasts import broadcast_create
    from notifications.models import BroadcastKind, BroadcastStatus

    broadcast = broadcast_create(
        official=official,
        title=ALERT["title"],
        body=ALERT["body"],
        kind=BroadcastKind.EMERGENCY,
        ward_codes=wards or (),
        whole_province=wards is None,
        send_sms=sms,
    )
    if broadcast.status != BroadcastStatus.SENDING:
        raise SystemExit(f"invalid run: the broadcast is {broadcast.status}, not sending")
    return broadcast


AUDIENCE_SQL = """
SELECT u.id FROM accounts_user u
WHERE u.is_active AND (u.ward_id = ANY(%(wards)s) OR EXISTS (
  SELECT 1 FROM digital_address_householdmember m
  JOIN digital_address_household h ON h.id = m.household_id
  WHERE m.user_id = u.id AND m.ended_at IS NULL AND h.ward_id = ANY(%(wards)s)))
ORDER BY u.id
"""


@dataclass
class Audience:
    ids: list[int]
    with_device: set[int]


def audience_of(wards: list[int]) -> Audience:
    """Who must receive it, in raw SQL of our own (not the selector under test)."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(AUDIENCE_SQL, {"wards": wards})
        ids = [row[0] for row in cursor.fetchall()]
        cursor.execute("SELECT DISTINCT user_id FROM accounts_device WHERE is_active")
        devices = {row[0] for row in cursor.fetchall()}
    return Audience(ids, {i for i in ids if i in devices})


def province_wards() -> list[int]:
    from digital_address.models import Ward

    return list(Ward.objects.filter(province_id=PROVINCE).values_list("code", flat=True))


def small_wards(share: float, rng: random.Random) -> list[int]:
    """Wards of the province, in random order, until they hold ``share`` of its households."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT ward_id, count(*) FROM digital_address_household GROUP BY ward_id ORDER BY 1"
        )
        counts = cursor.fetchall()
    rng.shuffle(counts)
    total, chosen, held = sum(c for _w, c in counts), [], 0
    for ward, count in counts:
        if held >= share * total:
            break
        chosen.append(ward)
        held += count
    return sorted(chosen)


def empty_notifications() -> None:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("TRUNCATE notifications_delivery, notifications_notification CASCADE")
        cursor.execute("VACUUM ANALYZE notifications_notification")
        cursor.execute("VACUUM ANALYZE notifications_delivery")
        cursor.execute("CHECKPOINT")  # no checkpoint of the previous run's writes in the next


def check_fan_out(broadcast_id: int, audience: Audience, what: str) -> None:
    from django.db import connection

    from notifications.models import Broadcast

    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT user_id FROM notifications_notification WHERE broadcast_id = %s "
            "ORDER BY user_id",
            [broadcast_id],
        )
        inbox = [row[0] for row in cursor.fetchall()]
        cursor.execute(
            "SELECT n.user_id FROM notifications_delivery d JOIN notifications_notification n "
            "ON n.id = d.notification_id WHERE n.broadcast_id = %s AND d.channel = 'push'",
            [broadcast_id],
        )
        pushed = [row[0] for row in cursor.fetchall()]
    if inbox != audience.ids:
        raise SystemExit(
            f"invalid run: {what} wrote {len(inbox)} inbox rows for an audience of "
            f"{len(audience.ids)}"
        )
    if len(pushed) != len(audience.with_device) or set(pushed) != audience.with_device:
        raise SystemExit(
            f"invalid run: {what} wrote {len(pushed)} push deliveries for "
            f"{len(audience.with_device)} recipients with a device"
        )
    b = Broadcast.objects.get(pk=broadcast_id)
    if (b.status, b.recipients, b.inbox_written) != ("sent", len(inbox), len(inbox)):
        raise SystemExit(
            f"invalid run: after {what} the broadcast is {b.status}, {b.recipients} recipients, "
            f"{b.inbox_written} inbox rows"
        )


def sms_counts(broadcast_id: int) -> str:
    from notifications.models import Delivery

    statuses = Counter(
        Delivery.objects.filter(notification__broadcast_id=broadcast_id, channel="sms").values_list(
            "status", flat=True
        )
    )
    return ", ".join(f"{n} {status}" for status, n in sorted(statuses.items())) or "none"


# --- The inbox floor: COPY of the same notification rows ---------------------------------------


NOTIFICATION_COLUMNS = (
    "user_id, category, event, key, title, body, data, created_at, read_at, fallback_text, "
    "fallback_due_at, broadcast_id"
)
DELIVERY_COLUMNS = (
    "id, notification_id, channel, status, title, body, due_at, is_fallback, attempts, claim, "
    "provider, provider_message_id, error, created_at, updated_at, sent_at, delivered_at"
)


def inbox_rows(broadcast, audience: Audience) -> list[tuple]:
    """The rows broadcast_fan_out writes for this broadcast, in its order (not timed)."""
    from django.utils import timezone

    from notifications.models import BroadcastKind, Category

    emergency = broadcast.kind == BroadcastKind.EMERGENCY
    category = Category.EMERGENCY if emergency else Category.BROADCAST
    data = json.dumps({"broadcast": broadcast.pk, "kind": broadcast.kind})
    key, event, now = f"broadcast:{broadcast.pk}", f"broadcast.{broadcast.kind}", timezone.now()
    title, body = broadcast.title[:200], broadcast.body[:2000]
    return [
        (uid, category, event, key, title, body, data, now, None, "", None, broadcast.pk)
        for uid in audience.ids
    ]


def floor_inbox(rows: list[tuple]) -> float:
    """One COPY of the notification rows, one transaction."""
    from django.db import connection, transaction

    started = time.perf_counter()
    with transaction.atomic(), connection.cursor() as cursor:
        copy_rows(cursor.cursor, "notifications_notification", NOTIFICATION_COLUMNS, rows)
    return time.perf_counter() - started


def floor_everything(broadcast, rows: list[tuple], audience: Audience) -> float:
    """For reading the figures: a COPY of every row the fan-out writes, the notifications (with
    their ids, given here) and the push deliveries of those with a device."""
    from django.db import connection, transaction
    from django.utils import timezone

    from notifications.actions.broadcasts import _texts

    texts, now = _texts(broadcast), timezone.now()
    deliveries = [
        (uuid.uuid4(), pk, "push", "created", texts["push_title"], texts["push_body"], now, False,
         0, None, "", "", "", now, now, None, None)
        for pk, row in enumerate(rows, start=1)
        if row[0] in audience.with_device
    ]  # fmt: skip
    started = time.perf_counter()
    with transaction.atomic(), connection.cursor() as cursor:
        copy_rows(
            cursor.cursor,
            "notifications_notification",
            f"id, {NOTIFICATION_COLUMNS}",
            ((pk, *row) for pk, row in enumerate(rows, start=1)),
        )
        copy_rows(cursor.cursor, "notifications_delivery", DELIVERY_COLUMNS, deliveries)
    return time.perf_counter() - started


# --- The fan-out, in a child process of its own ------------------------------------------------


@dataclass
class FanOut:
    started: float  # monotonic, when the parent gave the signal
    finished: float  # monotonic, when broadcast_fan_out returned True
    task_runs: int
    setup_kb: int
    peak_kb: int
    statements: dict[str, float]
    commits: float
    lanes: int = 1  # processes, one per fan-out lane: statements and commits are their sums

    @property
    def seconds(self) -> float:
        return self.finished - self.started


def high_water_kb() -> int:
    """The process's peak resident set (VmHWM). Not getrusage's ru_maxrss, which a child
    starts from its parent's RSS at the fork (and keeps across exec)."""
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    raise SystemExit("no VmHWM in /proc/self/status: the memory figure needs Linux")


def statement_kind(sql: str) -> str:
    head = sql.lstrip()[:120]
    if "INSERT INTO notifications_notification" in head:
        return "inbox INSERT"
    if "INSERT INTO notifications_delivery" in head:
        return "delivery INSERT"
    if '"notifications_broadcast"' in sql[:400]:
        return "broadcast row"
    if head.startswith("SELECT") and (
        '"accounts_user"' in sql[:200] or '"digital_address_householdmember"' in sql[:200]
    ):
        return "audience SELECT"
    return "other"


def fan_out_child(broadcast_id: int, lane: int) -> None:
    """broadcast_fan_out of one lane until it is done, each call one task run; the statements
    timed by kind; the peak RSS at the end. Talks to the parent over stdin/stdout."""
    import logging

    import django

    django.setup()
    logging.getLogger("kombu.connection").setLevel(logging.ERROR)
    logging.getLogger("notifications").setLevel(logging.WARNING)
    from django.db import connection

    from notifications.actions.broadcasts import broadcast_fan_out

    spent: dict[str, float] = defaultdict(float)
    commits = [0.0]

    def timer(execute, sql, params, many, context):
        started = time.perf_counter()
        try:
            return execute(sql, params, many, context)
        finally:
            spent[statement_kind(sql)] += time.perf_counter() - started

    connection.ensure_connection()
    connection.commit = _timed(connection.commit, commits)
    setup_kb = high_water_kb()
    print("ready", flush=True)
    sys.stdin.readline()
    started = time.monotonic()
    runs = 1
    with connection.execute_wrapper(timer):
        while not broadcast_fan_out(broadcast_id=broadcast_id, lane=lane):
            runs += 1
    finished = time.monotonic()
    result = FanOut(started, finished, runs, setup_kb, high_water_kb(), dict(spent), commits[0])
    print(json.dumps(result.__dict__), flush=True)


class FanOutProcess:
    """The child of one lane, started and connected, waiting for ``go``."""

    def __init__(self, broadcast_id: int, lane: int) -> None:
        command = [sys.executable, __file__, "--fan-out-child", str(broadcast_id), str(lane)]
        self.process = subprocess.Popen(
            command, stdin=subprocess.PIPE, stdout=subprocess.PIPE, cwd=ROOT, text=True
        )
        line = self.process.stdout.readline()
        if line.strip() != "ready":
            self.process.kill()
            raise SystemExit(f"the fan-out process did not start: {line!r}")

    def go(self) -> float:
        started = time.monotonic()
        self.process.stdin.write("go\n")
        self.process.stdin.flush()
        return started

    def result(self, started: float) -> FanOut:
        out, _err = self.process.communicate(timeout=1800)
        if self.process.returncode != 0:
            raise SystemExit(f"the fan-out failed ({self.process.returncode}):\n{out}")
        fields = json.loads(out.strip().splitlines()[-1])
        fields["started"] = started  # the parent's signal, not the child's read of it
        return FanOut(**fields)


class FanOutLanes:
    """One child per lane of the broadcast (as many fan-out tasks on as many workers), started
    by one signal; done when the last lane is."""

    def __init__(self, broadcast_id: int) -> None:
        from notifications.models import Broadcast

        lanes = Broadcast.objects.get(pk=broadcast_id).fanout_lanes
        self.children = [FanOutProcess(broadcast_id, lane) for lane in range(lanes)]

    def go(self) -> float:
        started = time.monotonic()
        for child in self.children:
            child.process.stdin.write("go\n")
            child.process.stdin.flush()
        return started

    def result(self, started: float) -> FanOut:
        parts = [child.result(started) for child in self.children]
        statements: dict[str, float] = defaultdict(float)
        for part in parts:
            for kind, seconds in part.statements.items():
                statements[kind] += seconds
        return FanOut(
            started=started,
            finished=max(p.finished for p in parts),
            task_runs=sum(p.task_runs for p in parts),
            setup_kb=max(p.setup_kb for p in parts),
            peak_kb=max(p.peak_kb for p in parts),
            statements=dict(statements),
            commits=sum(p.commits for p in parts),
            lanes=len(parts),
        )


def run_fan_out(broadcast_id: int) -> FanOut:
    lanes = FanOutLanes(broadcast_id)
    return lanes.result(lanes.go())


# --- Sending: senders and the floor -------------------------------------------------------------


@dataclass
class ChildResult:
    last_call: float  # monotonic end of the process's last provider call (0: none)
    references: list[str]
    calls: list[int]
    batches: int = 0
    idle_polls: int = 0
    claim: float = 0.0
    send: float = 0.0
    provider: float = 0.0
    total: float = 0.0


@dataclass
class Run:
    started: float
    results: list[ChildResult] = field(default_factory=list)

    @property
    def last_call(self) -> float:
        return max(r.last_call for r in self.results)

    @property
    def seconds(self) -> float:
        return self.last_call - self.started

    @property
    def references(self) -> list[str]:
        return [ref for r in self.results for ref in r.references]

    @property
    def calls(self) -> list[int]:
        return [c for r in self.results for c in r.calls]


def sender_child(fake: type, broadcast_id: int, follow: bool, ready, go, out) -> None:
    """One worker: loop deliveries_send(channel="push"). ``follow``: the fan-out is running, so
    an empty claim waits 20 ms and claims again, until the broadcast is sent and a claim after
    that comes back empty."""
    from django.db import connection, connections

    from notifications.actions import deliveries
    from notifications.models import Broadcast, BroadcastStatus, Channel

    claim, send = [0.0], [0.0]
    deliveries._claim = _timed(deliveries._claim, claim)
    deliveries.SENDERS[Channel.PUSH] = _timed(deliveries.SENDERS[Channel.PUSH], send)
    connection.ensure_connection()
    ready.wait()
    go.wait()
    started = time.monotonic()
    batches = idle = 0
    fan_out_done = not follow
    while True:
        if deliveries.deliveries_send(channel=Channel.PUSH).claimed:
            batches += 1
            continue
        if fan_out_done:
            break
        # Sent: every chunk is committed; one more claim takes the last one's rows.
        fan_out_done = Broadcast.objects.filter(
            pk=broadcast_id, status=BroadcastStatus.SENT
        ).exists()
        if not fan_out_done:
            idle += 1
            time.sleep(0.02)
    finished = time.monotonic()
    connections.close_all()
    out.put(
        ChildResult(
            fake.last_end[0],
            list(fake.references),
            list(fake.calls),
            batches,
            idle,
            claim[0],
            send[0],
            fake.busy[0],
            finished - started,
        )
    )


def floor_child(fake: type, messages: list, next_chunk, ready, go, out) -> None:
    """The same messages straight to the provider, 500 a call, chunks taken in turn."""
    provider = fake()
    size = provider.batch_limit
    ready.wait()
    go.wait()
    while True:
        with next_chunk.get_lock():
            start = next_chunk.value * size
            next_chunk.value += 1
        if start >= len(messages):
            break
        provider.send(messages[start : start + size])
    out.put(ChildResult(fake.last_end[0], list(fake.references), list(fake.calls)))


def start_children(target, args: tuple, count: int):
    """Fork ``count`` processes, each ready (connected) and waiting for the signal."""
    from django.db import connections

    connections.close_all()  # never share a connection with a child
    ready, go, out = FORK.Barrier(count + 1), FORK.Event(), FORK.Queue()
    children = [FORK.Process(target=target, args=(*args, ready, go, out)) for _ in range(count)]
    for child in children:
        child.start()
    ready.wait(timeout=120)
    return children, go, out


def collect(children, out, started: float) -> Run:
    results = [out.get(timeout=1800) for _ in children]
    for child in children:
        child.join(timeout=60)
        if child.exitcode != 0:
            raise SystemExit(f"invalid run: a process ended with {child.exitcode}")
    return Run(started, results)


def run_senders(fake: type, broadcast_id: int, count: int) -> Run:
    children, go, out = start_children(sender_child, (fake, broadcast_id, False), count)
    started = time.monotonic()
    go.set()
    return collect(children, out, started)


def run_floor(fake: type, messages: list, count: int) -> Run:
    children, go, out = start_children(floor_child, (fake, messages, FORK.Value("i", 0)), count)
    started = time.monotonic()
    go.set()
    return collect(children, out, started)


def run_concurrently(fake: type, broadcast_id: int, count: int) -> tuple[FanOut, Run]:
    """The fan-out child and the senders, started by the same signal."""
    fan_out = FanOutLanes(broadcast_id)
    children, go, out = start_children(sender_child, (fake, broadcast_id, True), count)
    started = fan_out.go()
    go.set()
    run = collect(children, out, started)
    return fan_out.result(started), run


def push_messages(broadcast_id: int) -> list:
    """The messages _send_push builds for the broadcast's push deliveries: one per active
    token, with the notification's data, the delivery's id as reference."""
    from django.db import connection

    from notifications.providers.push import PushMessage

    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT t.token, d.title, d.body, n.data, n.id, n.category, d.id "
            "FROM notifications_delivery d "
            "JOIN notifications_notification n ON n.id = d.notification_id "
            "JOIN accounts_device t ON t.user_id = n.user_id AND t.is_active "
            "WHERE n.broadcast_id = %s AND d.channel = 'push' ORDER BY d.id, t.id",
            [broadcast_id],
        )
        messages = []
        for tok, title, body, data, pk, category, ref in cursor.fetchall():
            data = {k: str(v) for k, v in json.loads(data).items()}  # Django reads jsonb as text
            data.update({"notification": str(pk), "category": category})
            messages.append(PushMessage(tok, title, body, data, str(ref)))
    return messages


def check_sent(run: Run, expected: Counter, what: str, broadcast_id: int | None = None) -> None:
    from notifications.models import Delivery

    got = Counter(run.references)
    if got != expected:
        twice = sum(1 for ref, k in got.items() if k > expected.get(ref, 0))
        raise SystemExit(
            f"invalid run: {what} sent {sum(got.values())} messages, expected "
            f"{sum(expected.values())} ({twice} references too often)"
        )
    if broadcast_id is not None:
        statuses = Counter(
            Delivery.objects.filter(
                notification__broadcast_id=broadcast_id, channel="push"
            ).values_list("status", flat=True)
        )
        if set(statuses) != {"sent"}:
            raise SystemExit(f"invalid run: deliveries after {what}: {dict(statuses)}")


# --- The run ------------------------------------------------------------------------------------


def mb(kb: int) -> str:
    return f"{kb / 1024:.0f} MB"


def verdict(met: bool) -> str:
    return "met" if met else "MISSED"


def breakdown(f: FanOut) -> str:
    s = dict(f.statements)
    if "inbox INSERT" in s and "delivery INSERT" not in s:  # both tables in one statement
        s["inbox and push INSERT"] = s.pop("inbox INSERT")
    named = (
        "audience SELECT",
        "inbox INSERT",
        "delivery INSERT",
        "inbox and push INSERT",
        "broadcast row",
        "other",
    )
    parts = [f"{name} {s[name]:.1f} s" for name in named if s.get(name, 0.0) >= 0.05]
    rest = f.lanes * f.seconds - sum(s.values()) - f.commits
    summed = f" (summed over the {f.lanes} lanes' processes)" if f.lanes > 1 else ""
    return ", ".join(
        [*parts, f"commits {f.commits:.1f} s", f"the rest (Python) {rest:.1f} s{summed}"]
    )


def sender_breakdown(run: Run) -> str:
    batches = sum(r.batches for r in run.results) or 1
    claim = sum(r.claim for r in run.results)
    send = sum(r.send for r in run.results)
    provider = sum(r.provider for r in run.results)
    total = sum(r.total for r in run.results)
    idle = sum(r.idle_polls for r in run.results)
    busy = total - idle * 0.02
    per = 1000 / batches
    return (
        f"{batches} batches, a batch {busy * per:.0f} ms in its process = claim "
        f"{claim * per:.0f} + tokens and messages {(send - provider) * per:.0f} + provider "
        f"{provider * per:.0f} + record {(busy - claim - send) * per:.0f} ms"
        + (f"; {idle} empty polls while the fan-out wrote" if idle else "")
    )


def benchmark(args: argparse.Namespace) -> None:
    import logging

    import django

    django.setup()
    logging.getLogger("kombu.connection").setLevel(logging.ERROR)
    logging.getLogger("notifications").setLevel(logging.WARNING)
    from django.conf import settings
    from django.core.management import call_command
    from django.db import connection

    from digital_address.actions.units import admin_units_load
    from notifications.actions.broadcasts import CHUNKS_PER_TASK

    rng = random.Random(args.seed)
    started = time.perf_counter()
    call_command("migrate", verbosity=0, interactive=False)
    admin_units_load(province_code=PROVINCE)
    migrated = time.perf_counter() - started
    fake = install_fake_fcm(args.latency)
    population = load_population(args, rng)
    official = province_admin()
    everywhere = province_wards()
    audience = audience_of(everywhere)
    if len(audience.ids) != population.audience:
        raise SystemExit(
            f"invalid run: the audience is {len(audience.ids)}, generated {population.audience}"
        )
    n, pushes = len(audience.ids), len(audience.with_device)

    v = connection.pg_version
    print(
        f"Emergency broadcast benchmark: PostgreSQL {v // 10000}.{v % 10000} "
        f"({connection.settings_dict['NAME']}), Python {platform.python_version()}, "
        f"{os.cpu_count()} CPUs; fake FCM {args.latency * 1000:.0f} ms a call, "
        f"{fake.batch_limit} messages a call; fan-out chunks of "
        f"{settings.BROADCAST_FANOUT_CHUNK} recipients, {CHUNKS_PER_TASK} a task run, "
        f"{settings.BROADCAST_FANOUT_LANES} lanes side by side; "
        f"{args.senders} sending processes; migrate + 65 wards {migrated:.1f} s",
        flush=True,
    )
    print(
        f"population: {population.households} households in 65 wards, {population.members} "
        f"members, {population.users} users, {population.active_devices} active devices (of "
        f"{population.devices}); audience of the province: {n} users, {pushes} of them with an "
        f"active device; written with COPY in {population.seconds:.1f} s",
        flush=True,
    )

    # 1. The inbox floor, on the emptied table: best of --floor-runs.
    full = create_broadcast(official, None, args.sms)
    rows = inbox_rows(full, audience)
    floors = []
    for _ in range(args.floor_runs):
        empty_notifications()
        floors.append(floor_inbox(rows))
    empty_notifications()
    everything = floor_everything(full, rows, audience)
    inbox_floor = min(floors)

    # 2. The fan-out at a smaller audience, then the whole province, each in a fresh process.
    small_codes = small_wards(args.small, rng)
    small_audience = audience_of(small_codes)
    empty_notifications()
    small = create_broadcast(official, small_codes, args.sms)
    small_run = run_fan_out(small.pk)
    check_fan_out(small.pk, small_audience, "the small fan-out")
    empty_notifications()
    sequential = run_fan_out(full.pk)
    check_fan_out(full.pk, audience, "the fan-out")

    # 3. Sending after the fan-out; the floor with the same messages.
    messages = push_messages(full.pk)
    expected = Counter(m.reference for m in messages)
    send_run = run_senders(fake, full.pk, args.senders)
    check_sent(send_run, expected, "the senders", full.pk)
    floor_runs = []
    for _ in range(args.floor_runs):
        floor_runs.append(run_floor(fake, messages, args.senders))
        check_sent(floor_runs[-1], expected, "the floor")
    push_floor = min(r.seconds for r in floor_runs)
    del messages

    # 4. Concurrently: a new broadcast on emptied tables, fan-out and senders together.
    concurrent = together = None
    if not args.no_concurrent:
        empty_notifications()
        again = create_broadcast(official, None, args.sms)
        concurrent, together = run_concurrently(fake, again.pk, args.senders)
        check_fan_out(again.pk, audience, "the concurrent fan-out")
        expected_again = Counter(m.reference for m in push_messages(again.pk))
        check_sent(together, expected_again, "the concurrent senders", again.pk)

    # --- Figures ---
    ratio = sequential.seconds / inbox_floor
    print(
        f"inbox: broadcast_fan_out wrote {n} inbox rows and {pushes} push deliveries in "
        f"{sequential.seconds:.1f} s ({sequential.task_runs} task run"
        f"{'s' if sequential.task_runs > 1 else ''}, "
        f"{n / sequential.seconds:.0f} recipients/s) = {ratio:.2f} × the floor's time "
        f"({inbox_floor:.1f} s: one COPY of the same {n} notification rows into the emptied "
        "table, one transaction; best of "
        f"{', '.join(f'{t:.1f}' for t in floors)} s); aim ≤ 2×: {verdict(ratio <= 2)}"
    )
    print(
        f"  for reading it: a COPY of every row the fan-out writes (the {n} notifications and "
        f"{pushes} push deliveries) {everything:.1f} s = {sequential.seconds / everything:.2f} × "
        "that"
    )
    print(f"  the fan-out's time, by statement: {breakdown(sequential)}")
    if args.sms:
        print(f"  SMS deliveries of those without a device: {sms_counts(full.pk)}")
    calls = Counter(send_run.calls)
    sequential_push = sequential.seconds + send_run.seconds
    print(
        f"push, fan-out then {args.senders} processes looping deliveries_send(channel='push'): "
        f"fan-out {sequential.seconds:.1f} s + sending {send_run.seconds:.1f} s = "
        f"{sequential_push:.1f} s to the last call = {sequential_push / push_floor:.1f} × the "
        f"floor's time ({push_floor:.2f} s: the same {sum(expected.values())} messages in "
        f"{len(floor_runs[0].calls)} calls straight to the fake FCM, {args.senders} processes; "
        f"best of {', '.join(f'{r.seconds:.2f}' for r in floor_runs)} s); sending alone "
        f"{send_run.seconds / push_floor:.1f} × the floor; aim ≤ 60 s: "
        f"{verdict(sequential_push <= 60)}"
    )
    smaller = sorted(c for c in send_run.calls if c < fake.batch_limit)
    print(
        f"  senders: {sender_breakdown(send_run)}; {len(send_run.calls)} provider calls: "
        f"{calls[fake.batch_limit]} of {fake.batch_limit} messages, {len(smaller)} smaller"
        + (f" (median {smaller[len(smaller) // 2]})" if smaller else "")
    )
    if concurrent and together:
        print(
            f"push, concurrently (the fan-out and {args.senders} senders started together): "
            f"inbox written in {concurrent.seconds:.1f} s, every push handed over in "
            f"{together.seconds:.1f} s = {together.seconds / push_floor:.1f} × the floor's time "
            f"({push_floor:.2f} s); aim ≤ 60 s: {verdict(together.seconds <= 60)}"
        )
        print(f"  the fan-out's time, by statement: {breakdown(concurrent)}")
        print(f"  senders: {sender_breakdown(together)}")
    peak = max(sequential.peak_kb, small_run.peak_kb, concurrent.peak_kb if concurrent else 0)
    print(
        "peak RSS of a fan-out process (the largest lane): "
        f"{mb(sequential.peak_kb)} for {n} recipients "
        f"({sequential.seconds:.1f} s), {mb(small_run.peak_kb)} for {len(small_audience.ids)} "
        f"({len(small_codes)} wards, {small_run.seconds:.1f} s)"
        + (f", {mb(concurrent.peak_kb)} concurrently" if concurrent else "")
        + f"; after django.setup() {mb(sequential.setup_kb)}; aim ≤ 300 MB: "
        f"{verdict(peak <= 300 * 1024)}"
    )


def positive(text: str) -> int:
    value = int(text)
    if not 1 <= value <= 10_000_000:
        raise argparse.ArgumentTypeError("between 1 and 10000000")
    return value


def share(text: str) -> float:
    value = float(text)
    if not 0 <= value <= 1:
        raise argparse.ArgumentTypeError("between 0 and 1")
    return value


def main() -> None:
    if len(sys.argv) == 4 and sys.argv[1] == "--fan-out-child":
        fan_out_child(int(sys.argv[2]), int(sys.argv[3]))
        return
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--households", type=positive, default=230_000, help="(230000)")
    parser.add_argument(
        "--users-per-household",
        type=float,
        default=2.0,
        help="members with an account per household, on average (2.0)",
    )
    parser.add_argument(
        "--members-without-account",
        type=float,
        default=1.5,
        help="members without an account per household, on average (1.5)",
    )
    parser.add_argument(
        "--ward-only-users",
        type=int,
        default=40_000,
        help="users with a profile ward and no household (40000)",
    )
    parser.add_argument(
        "--outsiders",
        type=int,
        default=10_000,
        help="users with no ward, half of them having left a household (10000)",
    )
    parser.add_argument(
        "--device-share", type=share, default=0.56, help="users with an active device (0.56)"
    )
    parser.add_argument(
        "--second-device", type=share, default=0.05, help="of those, with two (0.05)"
    )
    parser.add_argument(
        "--small",
        type=share,
        default=0.1,
        help="the smaller broadcast: wards holding this share of the households (0.1)",
    )
    parser.add_argument("--senders", type=positive, default=4, help="sending processes (4)")
    parser.add_argument(
        "--latency", type=float, default=0.02, help="fake FCM seconds per call (0.02)"
    )
    parser.add_argument("--floor-runs", type=positive, default=2, help="floor runs, best of (2)")
    parser.add_argument(
        "--chunk", type=positive, default=None, help="BROADCAST_FANOUT_CHUNK (the setting's)"
    )
    parser.add_argument(
        "--lanes", type=positive, default=None, help="BROADCAST_FANOUT_LANES (the setting's)"
    )
    parser.add_argument(
        "--sms", action="store_true", help="the emergency also texts those without a device"
    )
    parser.add_argument(
        "--no-concurrent", action="store_true", help="skip the concurrent fan-out and sending"
    )
    parser.add_argument("--seed", type=int, default=20)
    args = parser.parse_args()

    url = os.environ.get("DATABASE_URL", "").strip()
    if urlsplit(url).scheme not in POSTGRES_SCHEMES:
        raise SystemExit(
            "DATABASE_URL must name a PostgreSQL server (this benchmark does not run on SQLite): "
            "DATABASE_URL=postgres://postgres@127.0.0.1:5432/bench"
        )
    os.environ["BROADCAST_EMERGENCY_APPROVAL"] = "false"  # due at once, as created
    if args.chunk:
        os.environ["BROADCAST_FANOUT_CHUNK"] = str(args.chunk)  # the fan-out child reads it
    if args.lanes:
        os.environ["BROADCAST_FANOUT_LANES"] = str(args.lanes)

    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    with tempfile.TemporaryDirectory(prefix="congdanso-bench-") as tmp_dir:
        tmp = Path(tmp_dir)
        created: str | None = None
        try:
            bench_url, created = create_postgres_database(url)
            configure_environment(tmp, bench_url)
            benchmark(args)
        finally:
            if "django" in sys.modules:
                from django.db import connections

                connections.close_all()
            if created:
                drop_postgres_database(url, created)


if __name__ == "__main__":
    main()
