"""Benchmark: asking for an OTP (accounts.actions.otp.otp_request), against its SQL floor.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/bench .venv/bin/python bench/otp_request.py
    .venv/bin/python bench/otp_request.py            # SQLite, in a temporary file
    .venv/bin/python bench/otp_request.py --n 500 --http-n 100 --show-queries

The run never touches a database it did not create: for PostgreSQL it creates
``congdanso_bench_<pid>`` next to the database named in DATABASE_URL (through the server's
``postgres`` database), migrates it, and drops it at the end, also on error or Ctrl-C; for SQLite
it uses a file in a temporary directory. Celery publishes to kombu's in-process ``memory://``
broker, the SMS provider is the file outbox in that temporary directory, and the throttle rates
are raised so that no request is refused. The cache is whatever the environment configures
(REDIS_CACHE_URL / REDIS_URL, else the file cache in the temporary directory); it is printed.

Figures (see bench/README.md for why the floor is what it is):
- ``otp_request`` called directly, in autocommit like a request, its on_commit publish executed;
- ``POST /api/v1/auth/otp/`` through django.test.Client (parsing, throttle, view, action);
- the SQL floor: per request one transaction with the reads the cool-down and caps need and one
  INSERT of an equivalent accounts_otpchallenge row, through connection.cursor(), no ORM;
- a bare Celery publish of deliver_otp, the other thing the request must do.
The three paths run interleaved in rounds, so they see the same table size and machine noise.
"""

from __future__ import annotations

import argparse
import hashlib
import hmac
import logging
import os
import platform
import secrets
import signal
import sys
import tempfile
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

POSTGRES_SCHEMES = ("postgres", "postgresql", "pgsql", "psql")
PURPOSE = "register"
LANGUAGE = "vi"
WARM_UP = 20  # untimed calls of each path first
QUERY_SAMPLES = 20  # untimed calls of each path under CaptureQueriesContext


# --- The throwaway database -----------------------------------------------------------------


def _libpq_url(url: str, dbname: str) -> str:
    parts = urlsplit(url)
    return urlunsplit(parts._replace(scheme="postgresql", path=f"/{dbname}", query=""))


def create_postgres_database(url: str) -> tuple[str, str]:
    """Create an empty database next to the one ``url`` names; return (its URL, its name)."""
    import psycopg
    from psycopg import sql

    name = f"congdanso_bench_{os.getpid()}"
    with psycopg.connect(_libpq_url(url, "postgres"), autocommit=True, connect_timeout=5) as conn:
        conn.execute(sql.SQL("DROP DATABASE IF EXISTS {}").format(sql.Identifier(name)))
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    parts = urlsplit(url)
    return urlunsplit(parts._replace(path=f"/{name}")), name


def drop_postgres_database(url: str, name: str) -> None:
    import psycopg
    from psycopg import sql

    with psycopg.connect(_libpq_url(url, "postgres"), autocommit=True, connect_timeout=5) as conn:
        # FORCE: a connection left open by a failed run must not keep the database alive.
        conn.execute(
            sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
        )


def configure_environment(tmp: Path, database_url: str) -> None:
    """Settings for the run, set before Django reads them (they win over a .env file)."""
    os.environ["DJANGO_SETTINGS_MODULE"] = "config.settings"
    # DEBUG off, as in production: with DEBUG on every cursor records its SQL, which would tax
    # the path with more queries more than the floor. So the run gets its own secret.
    os.environ["DEBUG"] = "false"
    os.environ["SECRET_KEY"] = secrets.token_urlsafe(50)
    os.environ.pop("JWT_SIGNING_KEY", None)
    os.environ["DATABASE_URL"] = database_url
    os.environ["VAR_DIR"] = str(tmp / "var")
    (tmp / "var" / "static").mkdir(parents=True)  # WhiteNoise warns when STATIC_ROOT is missing
    os.environ["MEDIA_ROOT"] = str(tmp / "var" / "media")
    os.environ["SMS_PROVIDER"] = "file"
    os.environ["SMS_FILE_PATH"] = str(tmp / "sms-outbox.jsonl")
    os.environ["CELERY_BROKER_URL"] = "memory://"
    os.environ["ALLOWED_HOSTS"] = "testserver"
    os.environ["NUM_PROXIES"] = "0"  # the client's address is REMOTE_ADDR
    # Throttling off in effect: REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"] is read from these.
    # Per second, so the throttle's cache keys expire after a second.
    for name in ("THROTTLE_AUTH", "THROTTLE_OTP", "THROTTLE_PUBLIC"):
        os.environ[name] = "1000000/s"


# --- Inputs: a fresh phone number and client address per request ------------------------------


class Numbers:
    """Distinct Vietnamese mobile numbers (+8490xxxxxxx) and client addresses (10.x.y.z), so no
    request meets a cool-down, a daily cap or a lock."""

    def __init__(self) -> None:
        self._next = 0

    def take(self) -> tuple[str, str]:
        i = self._next
        self._next += 1
        if i >= 10**7:
            raise SystemExit("out of distinct phone numbers; lower --n")
        return f"+8490{i:07d}", f"10.{(i >> 16) & 255}.{(i >> 8) & 255}.{i & 255}"


# --- The three paths --------------------------------------------------------------------------


def make_action(numbers: Numbers) -> Callable[[], None]:
    from accounts.actions.otp import otp_request

    def call() -> None:
        phone, ip = numbers.take()
        otp_request(phone=phone, purpose=PURPOSE, ip=ip, language=LANGUAGE)

    return call


def make_http(numbers: Numbers) -> Callable[[], None]:
    from django.test import Client

    client = Client()

    def call() -> None:
        phone, ip = numbers.take()
        national = "0" + phone.removeprefix("+84")  # typed as people type it: 090xxxxxxx
        response = client.post(
            "/api/v1/auth/otp/",
            {"phone": national, "purpose": PURPOSE},
            content_type="application/json",
            REMOTE_ADDR=ip,
            HTTP_ACCEPT_LANGUAGE=LANGUAGE,
        )
        if response.status_code != 202:
            raise SystemExit(f"POST /api/v1/auth/otp/ answered {response.status_code}: {response}")

    return call


def make_floor(numbers: Numbers) -> tuple[Callable[[], None], int]:
    """The least the database must do per request: in one transaction, one read of the number's
    last day (cool-down, daily cap and failure lock in one aggregate), the per-IP count, and one
    INSERT of the challenge row; on
    PostgreSQL also the advisory lock that serialises requests for one number. Values are
    computed as the action computes them; SQL through connection.cursor(), no ORM."""
    from django.conf import settings
    from django.db import connection, transaction

    postgres = connection.vendor == "postgresql"
    native_uuid = connection.features.has_native_uuid_field
    table = "accounts_otpchallenge"
    insert = (
        f"INSERT INTO {table} (id, phone, purpose, code_hash, code_sealed, language,"
        " dispatched_at, ip, created_at, expires_at, checks, failures, consumed_at)"
        " VALUES (%s, %s, %s, %s, %s, %s, NULL, %s, %s, %s, 0, 0, NULL)"
    )
    recent = (
        f"SELECT MAX(created_at), COUNT(*),"
        f" SUM(CASE WHEN created_at >= %s THEN failures ELSE 0 END)"
        f" FROM {table} WHERE phone = %s AND created_at >= %s"
    )
    per_ip = f"SELECT COUNT(*) FROM {table} WHERE ip = %s AND created_at >= %s"
    key = hashlib.sha256(b"otp:" + settings.SECRET_KEY.encode()).digest()
    ttl = timedelta(seconds=settings.OTP_TTL_SECONDS)
    lock_window = timedelta(minutes=settings.OTP_LOCK_MINUTES)
    when = connection.ops.adapt_datetimefield_value  # aware on PostgreSQL, naive UTC on SQLite

    def call() -> None:
        phone, ip = numbers.take()
        now = datetime.now(UTC)
        pk = uuid.uuid4()
        code = f"{secrets.randbelow(10**6):06d}"
        code_hash = hmac.new(key, f"{pk}:{code}".encode(), hashlib.sha256).hexdigest()
        with transaction.atomic(), connection.cursor() as cursor:
            if postgres:
                digest = hashlib.sha256(phone.encode()).digest()
                lock = int.from_bytes(digest[:8], "big", signed=True)
                cursor.execute("SELECT pg_advisory_xact_lock(%s)", [lock])
            day_ago = when(now - timedelta(days=1))
            cursor.execute(recent, [when(now - lock_window), phone, day_ago])
            cursor.fetchone()
            cursor.execute(per_ip, [ip, day_ago])
            cursor.fetchone()
            cursor.execute(
                insert,
                [
                    pk if native_uuid else pk.hex,
                    phone,
                    PURPOSE,
                    code_hash,
                    code,  # stands for the sealed code: same width
                    LANGUAGE,
                    ip,
                    when(now),
                    when(now + ttl),
                ],
            )

    return call, 4 if postgres else 3


def make_publish() -> Callable[[], None]:
    from accounts.tasks import deliver_otp

    def call() -> None:
        deliver_otp.apply_async(args=[str(uuid.uuid4())])

    return call


# --- Measuring --------------------------------------------------------------------------------


@dataclass
class Measured:
    label: str
    call: Callable[[], None]
    n: int
    seconds: float = 0.0
    done: int = 0
    chunks: list[int] = field(default_factory=list)

    @property
    def rate(self) -> float:
        return self.done / self.seconds if self.seconds else 0.0

    @property
    def micros(self) -> float:
        return 1e6 * self.seconds / self.done if self.done else 0.0


def split(n: int, parts: int) -> list[int]:
    return [n // parts + (1 if i < n % parts else 0) for i in range(parts)]


def run_interleaved(paths: list[Measured], rounds: int) -> None:
    """Each round runs a chunk of every path, in an order that rotates from round to round."""
    for p in paths:
        p.chunks = split(p.n, rounds)
    for r in range(rounds):
        order = paths[r % len(paths) :] + paths[: r % len(paths)]
        for p in order:
            call, count = p.call, p.chunks[r]
            start = time.perf_counter()
            for _ in range(count):
                call()
            p.seconds += time.perf_counter() - start
            p.done += count


# Transaction control, which CaptureQueriesContext sees on SQLite (Django runs BEGIN IMMEDIATE and
# COMMIT as statements) but not on PostgreSQL (psycopg begins implicitly, commits by a call):
# left out of the counts so that they compare across databases. Savepoints stay in.
TRANSACTION_CONTROL = ("BEGIN", "BEGIN IMMEDIATE", "COMMIT")


def queries_per_call(call: Callable[[], None], samples: int) -> tuple[float, list[str]]:
    """Statements per call, without BEGIN/COMMIT; and the full SQL of the first call."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as first:
        call()
    with CaptureQueriesContext(connection) as ctx:
        for _ in range(samples - 1):
            call()
    captured = first.captured_queries + ctx.captured_queries
    counted = [q for q in captured if q["sql"] not in TRANSACTION_CONTROL]
    return len(counted) / samples, [q["sql"] for q in first.captured_queries]


def challenge_rows() -> int:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SELECT COUNT(*) FROM accounts_otpchallenge")
        return cursor.fetchone()[0]


def published(queue: str) -> int:
    from kombu.transport.memory import Channel

    q = Channel.queues.get(queue)
    return q.qsize() if q is not None else 0


def describe_database() -> str:
    from django.db import connection

    if connection.vendor == "postgresql":
        v = connection.pg_version
        return f"PostgreSQL {v // 10000}.{v % 10000} ({connection.settings_dict['NAME']})"
    import sqlite3

    return f"SQLite {sqlite3.sqlite_version} (temporary file)"


def benchmark(args: argparse.Namespace) -> None:
    import django

    django.setup()
    # memory:// has no host; kombu says so once per connection.
    logging.getLogger("kombu.connection").setLevel(logging.ERROR)
    from django.conf import settings
    from django.core.cache import cache
    from django.core.management import call_command

    started = time.perf_counter()
    call_command("migrate", verbosity=0, interactive=False)
    migrated = time.perf_counter() - started

    numbers = Numbers()
    action = make_action(numbers)
    http = make_http(numbers)
    floor, floor_statements = make_floor(numbers)
    publish = make_publish()

    # Warm up: connections, imports, the broker's queue declaration, translations.
    for call in (action, http, floor, publish):
        for _ in range(WARM_UP):
            call()

    samples = QUERY_SAMPLES
    action_q, action_sql = queries_per_call(action, samples)
    http_q, _ = queries_per_call(http, samples)
    floor_q, _ = queries_per_call(floor, samples)

    paths = [
        Measured("otp_request action", action, args.n),
        Measured("POST /api/v1/auth/otp/", http, args.http_n),
        Measured("SQL floor", floor, args.n),
        Measured("celery publish alone", publish, args.publish_n),
    ]
    rows_before, messages_before = challenge_rows(), published("sms")
    rounds = max(1, min(args.rounds, min(p.n for p in paths)))
    run_interleaved(paths, rounds)
    action_p, http_p, floor_p, publish_p = paths

    # The figures mean something only if no request stopped at a cool-down or cap: every
    # action and HTTP request wrote its row and published its task (on commit).
    rows = challenge_rows() - rows_before
    messages = published("sms") - messages_before
    expected_rows = action_p.done + http_p.done + floor_p.done
    expected_messages = action_p.done + http_p.done + publish_p.done
    if rows != expected_rows or messages != expected_messages:
        raise SystemExit(
            f"invalid run: {rows} rows written (expected {expected_rows}), {messages} tasks "
            f"published (expected {expected_messages}): some requests short-circuited"
        )

    cache_backend = settings.CACHES["default"]["BACKEND"].rsplit(".", 1)[-1]
    print(
        f"OTP request benchmark: {describe_database()}, cache {cache_backend}, broker memory://, "
        f"Python {platform.python_version()}, {os.cpu_count()} CPUs; migrate took {migrated:.1f} s"
    )
    floor_rate = floor_p.rate
    for p in (action_p, http_p):
        print(
            f"{p.label}: {p.rate:.0f} req/s ({p.micros:.0f} µs/req, n={p.done}) "
            f"= {p.rate / floor_rate:.2f} × SQL floor ({floor_rate:.0f} req/s)"
        )
    print(
        f"SQL floor: {floor_rate:.0f} req/s ({floor_p.micros:.0f} µs/req, n={floor_p.done}): "
        f"{floor_statements} statements in one transaction, raw cursor"
    )
    print(
        f"celery publish alone (memory://): {publish_p.rate:.0f} /s "
        f"({publish_p.micros:.0f} µs each, n={publish_p.done})"
    )
    print(
        f"queries per request: action {action_q:g}, HTTP {http_q:g} vs SQL floor {floor_q:g} "
        f"(CaptureQueriesContext, {samples} calls each; BEGIN/COMMIT not counted)"
    )
    if args.show_queries:
        print("queries of one otp_request call:")
        for i, sql in enumerate(action_sql, 1):
            print(f"  {i:2}. {sql[:160]}{'…' if len(sql) > 160 else ''}")
    cache.close()


def positive(text: str) -> int:
    value = int(text)
    if not 1 <= value <= 1_000_000:
        raise argparse.ArgumentTypeError("between 1 and 1000000")
    return value


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--n", type=positive, default=2000, help="action and floor calls (2000)")
    parser.add_argument("--http-n", type=positive, default=500, help="HTTP requests (500)")
    parser.add_argument("--publish-n", type=positive, default=500, help="bare publishes (500)")
    parser.add_argument("--rounds", type=positive, default=10, help="interleaved rounds (10)")
    parser.add_argument(
        "--show-queries", action="store_true", help="print the SQL of one otp_request call"
    )
    args = parser.parse_args()

    url = os.environ.get("DATABASE_URL", "").strip()
    scheme = urlsplit(url).scheme if url else "sqlite"
    if scheme not in (*POSTGRES_SCHEMES, "sqlite"):
        raise SystemExit(f"DATABASE_URL: PostgreSQL or nothing (SQLite), not {scheme}://")

    # SIGTERM ends the run through the finally below, so the database is still dropped.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    with tempfile.TemporaryDirectory(prefix="congdanso-bench-") as tmp_dir:
        tmp = Path(tmp_dir)
        created: str | None = None
        try:
            if scheme in POSTGRES_SCHEMES:
                bench_url, created = create_postgres_database(url)
            else:
                # Never the file a sqlite:// DATABASE_URL names: always a fresh one.
                bench_url = f"sqlite:///{tmp / 'bench.sqlite3'}"
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
