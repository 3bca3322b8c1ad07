"""Benchmark: push notifications through the delivery pipeline to a fake FCM, against the bare
provider calls. PostgreSQL only.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/bench_push \
        .venv/bin/python bench/push_notifications.py
    DATABASE_URL=... .venv/bin/python bench/push_notifications.py --concurrency 8 --messages each

The run never touches a database it did not create: it creates ``congdanso_bench_<pid>`` next to
the database named in DATABASE_URL (through the server's ``postgres`` database), migrates it and
drops it at the end, also on error, Ctrl-C or SIGTERM (the helpers of ``otp_request.py``).

1. Set-up: ``--users`` (10 000) citizens with one phone each (an active device with an FCM-sized
   token), and a notice event of the broadcast category (no SMS fallback, no email), registered
   by this script. The push provider is a fake FCM: ``MemoryPushProvider`` with 20 ms a call
   (``--latency``), at most 500 messages a call, as FCM's ``send_each``.
2. Writing: ``notify_many`` writes one notification and one push delivery per citizen, in one
   transaction, its publish after commit (to kombu's in-process broker); against a floor of one
   SQL statement that inserts the same notifications and deliveries from arrays
   (``INSERT … SELECT FROM unnest(…)`` and ``RETURNING`` into the deliveries' ``INSERT``).
   Interleaved over ``--write-rounds`` rounds on emptied tables; medians.
3. Sending: ``--concurrency`` (4) processes each loop ``deliveries_send(channel="push")`` until
   it claims nothing: the real path (claim with ``FOR UPDATE SKIP LOCKED``, the device tokens,
   the provider call, the outcomes recorded). The floor: the same messages (same tokens, texts,
   data, references), built before the clock, sent straight to the same fake provider in
   500-message calls by as many processes. Every delivery must be sent and every reference
   reach the provider exactly once, or the run is invalid. ``--rounds`` (3) rounds, the
   deliveries put back to "created" before each pipeline run; medians.
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import platform
import secrets
import signal
import statistics
import sys
import tempfile
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

ROOT = Path(__file__).resolve().parent.parent
BENCH = Path(__file__).resolve().parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(BENCH))

from otp_request import (  # noqa: E402  (after the path set-up)
    POSTGRES_SCHEMES,
    configure_environment,
    create_postgres_database,
    drop_postgres_database,
)

EVENT = "bench.area_notice"
PROVIDER = "fake-fcm"
TOKEN_LENGTH = 163  # an FCM registration token's usual length
NOTICE = {
    "title": "Thông báo mất điện",
    "body": "Điện lực Lạng Sơn tạm ngừng cấp điện từ 7 giờ 30 đến 11 giờ 30 ngày mai để bảo "
    "dưỡng đường dây. Mong bà con thông cảm.",
}
FORK = multiprocessing.get_context("fork")


# --- The fake FCM -------------------------------------------------------------------------------


def install_fake_fcm(latency: float) -> type:
    """A fake FCM for the run: the memory provider with its own outbox and ``latency`` seconds
    a call, chosen by ``settings.PUSH_PROVIDER`` (the settings refuse ``memory`` with DEBUG off;
    this one is registered under its own name). It also counts the time spent inside it."""
    from django.conf import settings

    from notifications.providers import push

    class FakeFcm(push.MemoryPushProvider):
        name = PROVIDER
        outbox: list = []
        calls: list = []
        results: dict = {}
        fail_calls: list = []
        busy: list = [0.0]
        _lock = threading.Lock()

        def send(self, messages):
            started = time.perf_counter()
            try:
                return super().send(messages)
            finally:
                self.busy[0] += time.perf_counter() - started

    FakeFcm.latency = latency
    push.PUSH_PROVIDERS[PROVIDER] = FakeFcm
    settings.PUSH_PROVIDER = PROVIDER
    return FakeFcm


# --- Set-up -------------------------------------------------------------------------------------


def register_event() -> None:
    from notifications.events import EventType, register
    from notifications.models import Category

    register(
        EventType(
            name=EVENT,
            category=Category.BROADCAST,
            label="Bench: a notice to an area",
            title="{{ title }}",
            body="{{ body }}",
            sample=NOTICE,
        )
    )


def load_users(count: int) -> None:
    """``count`` citizens, each with one active Android device."""
    from django.contrib.auth.hashers import make_password
    from django.db import connection

    from accounts.models import Device, DevicePlatform, User

    unusable = make_password(None)
    for start in range(0, count, 2000):
        users = User.objects.bulk_create(
            User(
                phone=f"+8490{i:07d}",
                full_name=f"Hoàng Văn Thử {i}",
                password=unusable,
                language="vi",
            )
            for i in range(start, min(start + 2000, count))
        )
        Device.objects.bulk_create(
            Device(
                user=user,
                platform=DevicePlatform.ANDROID,
                token=secrets.token_urlsafe(TOKEN_LENGTH)[:TOKEN_LENGTH],
                app_version="2.3.1",
            )
            for user in users
        )
    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE accounts_user")
        cursor.execute("VACUUM ANALYZE accounts_device")


def empty_notifications() -> None:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("TRUNCATE notifications_delivery, notifications_notification CASCADE")
        cursor.execute("VACUUM ANALYZE notifications_notification")
        cursor.execute("VACUUM ANALYZE notifications_delivery")


def counts() -> tuple[int, int]:
    from notifications.models import Delivery, Notification

    return Notification.objects.count(), Delivery.objects.filter(channel="push").count()


# --- Writing: notify_many and its floor ---------------------------------------------------------


def messages_for(user_ids: list[int], shape: str) -> list:
    """One notice to every citizen (``one``), or one message of the event per citizen
    (``each``: a periodic run's warnings, each with its own key and text)."""
    from accounts.models import User
    from notifications.actions import Message

    if shape == "one":
        # The area's citizens, read by notify_many itself (the bench's only users).
        return [Message(User.objects.order_by("pk"), "notice:20-outage-1", NOTICE)]
    users = User.objects.in_bulk(user_ids)
    return [
        Message([users[pk]], f"notice:{pk}", {**NOTICE, "title": f"{NOTICE['title']} ({pk})"})
        for pk in user_ids
    ]


def run_notify_many(user_ids: list[int], shape: str) -> float:
    from django.db import transaction

    from notifications.actions import notify_many

    messages = messages_for(user_ids, shape)
    started = time.perf_counter()
    with transaction.atomic():
        written = notify_many(event=EVENT, messages=messages)
    elapsed = time.perf_counter() - started
    if written != len(user_ids):
        raise SystemExit(f"invalid run: notify_many wrote {written} of {len(user_ids)}")
    return elapsed


FLOOR_WRITE_SQL = """
WITH wanted AS (
  SELECT * FROM unnest(%s::bigint[], %s::text[], %s::text[], %s::text[], %s::text[], %s::text[])
    AS w(user_id, key, title, body, push_title, push_body)
), written AS (
  INSERT INTO notifications_notification
    (user_id, category, event, key, title, body, data, created_at, fallback_text)
  SELECT w.user_id, %s, %s, w.key, w.title, w.body, '{}'::jsonb, now(), ''
  FROM wanted w
  ON CONFLICT DO NOTHING
  RETURNING id, user_id, key
)
INSERT INTO notifications_delivery
  (id, notification_id, channel, status, title, body, due_at, is_fallback, attempts,
   provider, provider_message_id, error, created_at, updated_at)
SELECT gen_random_uuid(), n.id, 'push', 'created', w.push_title, w.push_body, now(), false, 0,
  '', '', '', now(), now()
FROM written n JOIN wanted w ON w.user_id = n.user_id AND w.key = n.key
WHERE EXISTS (SELECT 1 FROM accounts_device d WHERE d.user_id = n.user_id AND d.is_active)
ON CONFLICT DO NOTHING
"""


def floor_write_params(user_ids: list[int], shape: str) -> list:
    """The rows notify_many writes, rendered before the clock: the same keys and texts."""
    from notifications.events import get_event
    from notifications.models import TemplateChannel
    from notifications.rendering import TemplateSet

    kind = get_event(EVENT)
    templates = TemplateSet([EVENT])
    rows = []
    for message in messages_for(user_ids, shape):
        inbox = templates.render(kind, TemplateChannel.INBOX, "vi", message.context)
        push = templates.render(kind, TemplateChannel.PUSH, "vi", message.context)
        users = list(message.users)
        rows += [(u.pk, message.key, inbox.title, inbox.body, push.title, push.body) for u in users]
    columns = [list(column) for column in zip(*rows, strict=True)]
    return [*columns, kind.category, EVENT]


def run_floor_write(params: list) -> float:
    from django.db import connection, transaction

    started = time.perf_counter()
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(FLOOR_WRITE_SQL, params)
    return time.perf_counter() - started


# --- Sending: the pipeline and its floor --------------------------------------------------------


@dataclass
class ChildResult:
    finished: float
    references: list[str]
    calls: list[int]
    batches: int = 0
    claim: float = 0.0
    send: float = 0.0
    provider: float = 0.0
    total: float = 0.0


@dataclass
class Run:
    seconds: float
    results: list[ChildResult] = field(default_factory=list)

    @property
    def references(self) -> list[str]:
        return [r for result in self.results for r in result.references]

    @property
    def calls(self) -> list[int]:
        return [c for result in self.results for c in result.calls]


def _timed(function, slot: list[float]):
    def wrapper(*args, **kwargs):
        started = time.perf_counter()
        try:
            return function(*args, **kwargs)
        finally:
            slot[0] += time.perf_counter() - started

    return wrapper


def pipeline_child(fake: type, ready, go, out) -> None:
    """One worker process: loop deliveries_send until a claim comes back empty."""
    from django.db import connection, connections

    from notifications.actions import deliveries
    from notifications.models import Channel

    claim, send = [0.0], [0.0]
    deliveries._claim = _timed(deliveries._claim, claim)
    deliveries.SENDERS[Channel.PUSH] = _timed(deliveries.SENDERS[Channel.PUSH], send)
    connection.ensure_connection()
    ready.wait()
    go.wait()
    started = time.perf_counter()
    batches = 0
    while deliveries.deliveries_send(channel=Channel.PUSH).claimed:
        batches += 1
    finished = time.perf_counter()
    connections.close_all()
    out.put(
        ChildResult(
            finished,
            [m.reference for m in fake.outbox],
            list(fake.calls),
            batches,
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
    out.put(ChildResult(time.perf_counter(), [m.reference for m in fake.outbox], list(fake.calls)))


def run_children(target, args: tuple, concurrency: int) -> Run:
    """Fork ``concurrency`` processes, start them together, wait for all; the time is from the
    start signal to the last one's end."""
    from django.db import connections

    connections.close_all()  # never share a connection with a child
    ready, go, out = FORK.Barrier(concurrency + 1), FORK.Event(), FORK.Queue()
    children = [
        FORK.Process(target=target, args=(*args, ready, go, out)) for _ in range(concurrency)
    ]
    for child in children:
        child.start()
    ready.wait(timeout=60)  # each connected to the database, waiting for the signal
    started = time.perf_counter()
    go.set()
    results = [out.get(timeout=600) for _ in children]
    for child in children:
        child.join(timeout=60)
        if child.exitcode != 0:
            raise SystemExit(f"invalid run: a process ended with {child.exitcode}")
    return Run(max(r.finished for r in results) - started, results)


def floor_messages() -> list:
    """The messages _send_push builds from the deliveries: token, texts, data, reference."""
    from accounts.models import Device
    from notifications.models import Delivery
    from notifications.providers.push import PushMessage

    tokens = dict(Device.objects.filter(is_active=True).values_list("user_id", "token"))
    messages = []
    for r in Delivery.objects.filter(channel="push").select_related("notification"):
        n = r.notification
        data = {k: str(v) for k, v in n.data.items()}
        data.update({"notification": str(n.pk), "category": n.category})
        messages.append(PushMessage(tokens[n.user_id], r.title, r.body, data, str(r.id)))
    return messages


def reset_deliveries() -> None:
    """Every push delivery back to "created", due now, and the table vacuumed."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(
            "UPDATE notifications_delivery SET status = 'created', attempts = 0, claim = NULL, "
            "provider = '', provider_message_id = '', error = '', sent_at = NULL, "
            "due_at = now(), updated_at = now()"
        )
        cursor.execute("VACUUM ANALYZE notifications_delivery")


def check_sent(run: Run, ids: list[str], what: str) -> None:
    from notifications.models import Delivery

    twice = [ref for ref, n in Counter(run.references).items() if n > 1]
    if twice or sorted(run.references) != ids:
        raise SystemExit(
            f"invalid run: {what} sent {len(run.references)} messages for {len(ids)} deliveries "
            f"({len(twice)} twice)"
        )
    if what == "pipeline":
        statuses = Counter(Delivery.objects.values_list("status", flat=True))
        if statuses != Counter({"sent": len(ids)}):
            raise SystemExit(f"invalid run: deliveries after the pipeline: {dict(statuses)}")


def statements_per_batch() -> tuple[int, int]:
    """Statements of one deliveries_send call (a full batch), counted in this process."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from notifications.actions.deliveries import deliveries_send

    reset_deliveries()
    with CaptureQueriesContext(connection) as captured:
        result = deliveries_send(channel="push")
    return len(captured.captured_queries), result.claimed


# --- The run ------------------------------------------------------------------------------------


def benchmark(args: argparse.Namespace) -> None:
    import logging

    import django

    django.setup()
    logging.getLogger("kombu.connection").setLevel(logging.ERROR)
    logging.getLogger("notifications").setLevel(logging.WARNING)
    from django.core.management import call_command
    from django.db import connection

    from accounts.models import User
    from notifications.models import Delivery

    started = time.perf_counter()
    call_command("migrate", verbosity=0, interactive=False)
    migrated = time.perf_counter() - started
    register_event()
    fake = install_fake_fcm(args.latency)
    started = time.perf_counter()
    load_users(args.users)
    loaded = time.perf_counter() - started
    user_ids = sorted(User.objects.values_list("pk", flat=True))
    expected = (args.users, args.users)

    # Writing, interleaved: floor, notify_many, rotating which goes first.
    params = floor_write_params(user_ids, args.messages)
    write_times: dict[str, list[float]] = {"floor": [], "notify_many": []}
    for i in range(args.write_rounds):
        order = ["floor", "notify_many"] if i % 2 == 0 else ["notify_many", "floor"]
        if i == args.write_rounds - 1:
            order = ["floor", "notify_many"]  # notify_many's rows are the ones sent below
        for path in order:
            empty_notifications()
            if path == "floor":
                write_times[path].append(run_floor_write(params))
            else:
                write_times[path].append(run_notify_many(user_ids, args.messages))
            if counts() != expected:
                raise SystemExit(f"invalid run: {path} wrote {counts()}, not {expected}")
    ids = sorted(str(pk) for pk in Delivery.objects.values_list("pk", flat=True))
    messages = floor_messages()

    # Sending, interleaved: the pipeline and the floor, rotating which goes first.
    send_runs: dict[str, list[Run]] = {"floor": [], "pipeline": []}
    for i in range(args.rounds):
        for path in ("floor", "pipeline") if i % 2 == 0 else ("pipeline", "floor"):
            if path == "floor":
                run = run_children(
                    floor_child, (fake, messages, FORK.Value("i", 0)), args.concurrency
                )
            else:
                reset_deliveries()
                run = run_children(pipeline_child, (fake,), args.concurrency)
            check_sent(run, ids, path)
            send_runs[path].append(run)
    statements, batch = statements_per_batch()

    v = connection.pg_version
    print(
        f"Push notifications benchmark: PostgreSQL {v // 10000}.{v % 10000} "
        f"({connection.settings_dict['NAME']}), Python {platform.python_version()}, "
        f"{os.cpu_count()} CPUs; fake FCM {args.latency * 1000:.0f} ms a call, "
        f"{fake.batch_limit} messages a call; migrate {migrated:.1f} s, "
        f"{args.users} citizens with a device loaded in {loaded:.1f} s"
    )
    n = args.users
    shape = "one message to every citizen" if args.messages == "one" else "a message each"
    write = statistics.median(write_times["notify_many"])
    write_floor = statistics.median(write_times["floor"])
    print(
        f"notify_many, {n} notifications + {n} push deliveries ({shape}), one transaction: "
        f"{write:.2f} s = {n / write:.0f} notifications/s = {write_floor / write:.2f} × SQL "
        f"floor ({write_floor:.2f} s = {n / write_floor:.0f}/s; one INSERT … RETURNING into "
        f"INSERT); medians of {args.write_rounds}: "
        f"{', '.join(f'{t:.2f}' for t in write_times['notify_many'])} vs "
        f"{', '.join(f'{t:.2f}' for t in write_times['floor'])} s"
    )
    processes = f"{args.concurrency} process{'es' if args.concurrency > 1 else ''}"
    pipe = statistics.median(r.seconds for r in send_runs["pipeline"])
    floor = statistics.median(r.seconds for r in send_runs["floor"])
    print(
        f"sending {n} push deliveries, {processes} looping "
        f"deliveries_send(channel='push'): {pipe:.2f} s = {n / pipe:.0f} notifications/s "
        f"= {floor / pipe:.3f} × floor ({floor:.3f} s = {n / floor:.0f}/s: the same messages "
        f"straight to the fake FCM, {processes}); medians of {args.rounds}: "
        f"{', '.join(f'{r.seconds:.2f}' for r in send_runs['pipeline'])} vs "
        f"{', '.join(f'{r.seconds:.3f}' for r in send_runs['floor'])} s"
    )
    # Where a batch's time goes, over every pipeline round.
    results = [r for run in send_runs["pipeline"] for r in run.results]
    batches = sum(r.batches for r in results)
    claim = sum(r.claim for r in results)
    send = sum(r.send for r in results)
    provider = sum(r.provider for r in results)
    total = sum(r.total for r in results)
    per = 1000 / batches
    print(
        f"a batch, on average over the {batches} batches of the pipeline runs (wall time in "
        "its process): "
        f"{total * per:.0f} ms = claim {claim * per:.0f} ms + device tokens and messages "
        f"{(send - provider) * per:.0f} ms + provider call {provider * per:.0f} ms + record "
        f"{(total - claim - send) * per:.0f} ms; {statements} statements for a batch of {batch} "
        "(CaptureQueriesContext; BEGIN/COMMIT not counted)"
    )
    print(
        "provider calls per pipeline run: "
        f"{', '.join(str(len(r.calls)) for r in send_runs['pipeline'])}; sizes of the last: "
        f"{dict(Counter(send_runs['pipeline'][-1].calls))}"
    )


def positive(text: str) -> int:
    value = int(text)
    if not 1 <= value <= 1_000_000:
        raise argparse.ArgumentTypeError("between 1 and 1000000")
    return value


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--users", type=positive, default=10_000, help="citizens (10000)")
    parser.add_argument(
        "--concurrency", type=positive, default=4, help="sending processes, both paths (4)"
    )
    parser.add_argument(
        "--latency", type=float, default=0.02, help="fake FCM seconds per call (0.02)"
    )
    parser.add_argument(
        "--messages",
        choices=("one", "each"),
        default="one",
        help="one notice to every citizen, or one message each with its own key and text (one)",
    )
    parser.add_argument("--rounds", type=positive, default=3, help="sending rounds (3)")
    parser.add_argument("--write-rounds", type=positive, default=3, help="writing rounds (3)")
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
            benchmark(args)
        finally:
            if "django" in sys.modules:
                from django.db import connections

                connections.close_all()
            if created:
                drop_postgres_database(url, created)


if __name__ == "__main__":
    main()
