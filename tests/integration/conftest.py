"""A real Celery worker for the integration tests: a subprocess on the real Redis and the
pytest-django PostgreSQL test database, sending SMS with the file provider.

Isolation: the worker and this process use this run's own Redis database (REDIS_URL's number,
plus the pytest-xdist worker index), flushed before every test; the worker is started per test
and always killed afterwards. Without PostgreSQL or Redis the tests skip (in CI they fail: see
``pytest_runtest_makereport`` in tests/conftest.py).

Fault tests that stop the broker or kill workers use their own: ``redis_server`` is a
redis-server of the test's own on a spare port (stopped and started again at will), and
``start_worker`` starts workers on any broker with extra environment (providers, timeouts), each
in its own process group, so killing one disturbs nothing else.
"""

from __future__ import annotations

import functools
import json
import os
import shutil
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TypeVar
from urllib.parse import quote, urlsplit, urlunsplit

import pytest
import redis
from django.conf import settings
from django.db import connection

from config.celery import Queues, app
from tests.conftest import celery_broker_at, unused_port

T = TypeVar("T")

WORKER_START_SECONDS = 60
WAIT_SECONDS = 30


def wait_until(predicate: Callable[[], T], what: str, timeout: float = WAIT_SECONDS) -> T:
    """Poll ``predicate`` until it returns something truthy (and return that), or fail."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            pytest.fail(f"timed out after {timeout:.0f} s waiting for {what}")
        time.sleep(0.05)


def _alive(pid: int) -> bool:
    """Whether ``pid`` still runs (a zombie has already closed its files and sockets)."""
    try:
        stat = (Path("/proc") / str(pid) / "stat").read_text()
    except OSError:
        return False
    return stat.rsplit(")", 1)[1].split()[0] != "Z"


def _children(pid: int) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:  # the process ended while we looked
            continue
        # The command name (field 2) is in parentheses and may contain spaces.
        parent = int(stat.rsplit(")", 1)[1].split()[1])
        if parent == pid:
            found.append(int(entry.name))
    return sorted(found)


@dataclass
class CeleryWorker:
    process: subprocess.Popen
    nodename: str
    broker_url: str
    outbox: Path
    log: Path
    # What start_worker was given, to start the same worker again.
    extra_env: dict[str, str] = field(default_factory=dict)

    def sent_sms(self) -> list[dict]:
        """What the worker handed to the SMS gateway (the file provider's JSON lines)."""
        if not self.outbox.is_file():
            return []
        return [json.loads(line) for line in self.outbox.read_text(encoding="utf-8").splitlines()]

    def wait_for_sms(self, count: int) -> list[dict]:
        def enough() -> list[dict] | None:
            sent = self.sent_sms()
            return sent if len(sent) >= count else None

        return wait_until(enough, f"{count} SMS in the outbox")

    def pool_processes(self) -> list[int]:
        """The prefork pool's child processes, which run the tasks."""
        return _children(self.process.pid)

    def log_text(self) -> str:
        return self.log.read_text(encoding="utf-8", errors="replace") if self.log.exists() else ""

    def kill(self) -> None:
        """SIGKILL the worker and its pool processes (its process group), and wait until every
        one of them is gone: their sockets (broker, database, a provider's HTTP) are closed."""
        pool = self.pool_processes()
        _stop(self.process)
        wait_until(
            lambda: not any(_alive(pid) for pid in pool), "the pool processes to die", timeout=10
        )

    def wait_idle(self, timeout: float = WAIT_SECONDS) -> None:
        """Wait until the worker runs, holds and waits for no task (countdowns included) and its
        queues are empty: everything published so far has run."""

        def idle() -> bool:
            with redis.Redis.from_url(self.broker_url, socket_timeout=5) as client:
                if any(client.llen(queue) for queue in Queues.ALL):
                    return False
            with celery_broker_at(self.broker_url):
                inspect = app.control.inspect(destination=[self.nodename], timeout=1)
                for tasks in (inspect.active(), inspect.reserved(), inspect.scheduled()):
                    if tasks is None or tasks.get(self.nodename):
                        return False
            return True

        wait_until(idle, f"the worker {self.nodename} to be idle", timeout=timeout)


def _postgresql_missing() -> str | None:
    db = settings.DATABASES["default"]
    if db["ENGINE"] != "django.db.backends.postgresql":
        return (
            "integration tests need PostgreSQL (a worker process shares the test database); "
            "set DATABASE_URL=postgres://..."
        )
    import psycopg

    try:
        psycopg.connect(
            host=db["HOST"] or None,
            port=db["PORT"] or None,
            user=db["USER"] or None,
            password=db["PASSWORD"] or None,
            dbname="postgres",
            connect_timeout=3,
        ).close()
    except psycopg.OperationalError as exc:
        return f"PostgreSQL is unreachable: {exc}"
    return None


def redis_url_for_this_run() -> str | None:
    """This run's Redis database: REDIS_URL's (each concurrent run is given its own), one further
    per pytest-xdist worker."""
    base = os.environ.get("REDIS_URL")
    if not base:
        return None
    parts = urlsplit(base)
    base_db = int(parts.path.strip("/") or 0)
    xdist_worker = os.environ.get("PYTEST_XDIST_WORKER", "gw0")
    return urlunsplit(parts._replace(path=f"/{base_db + int(xdist_worker[2:])}"))


def _redis_missing() -> str | None:
    url = redis_url_for_this_run()
    if url is None:
        return "integration tests need Redis; set REDIS_URL=redis://host:port/<db>"
    try:
        with redis.Redis.from_url(url, socket_connect_timeout=3, socket_timeout=5) as client:
            client.ping()
    except redis.RedisError as exc:
        return f"Redis is unreachable at {url}: {exc}"
    return None


@functools.cache
def _services_missing() -> str | None:
    return _postgresql_missing() or _redis_missing()


def pytest_runtest_setup(item: pytest.Item) -> None:
    # Before any fixture: without PostgreSQL, setting up the test database would error, not skip.
    if item.get_closest_marker("integration") and (reason := _services_missing()):
        pytest.skip(reason)


def _database_url() -> str:
    """The test database pytest-django created, as a URL for the worker's settings."""
    db = connection.settings_dict
    credentials = quote(db["USER"] or "", safe="")
    if db["PASSWORD"]:
        credentials += ":" + quote(db["PASSWORD"], safe="")
    host = db["HOST"] or "127.0.0.1"
    port = f":{db['PORT']}" if db["PORT"] else ""
    return f"postgres://{credentials}@{host}{port}/{quote(db['NAME'], safe='')}"


def _ping(nodename: str) -> bool:
    return bool(app.control.ping(destination=[nodename], timeout=0.5))


def _stop(process: subprocess.Popen) -> None:
    if process.poll() is None:
        # No warm shutdown: nothing is left to finish, and a task a test blocked on purpose would
        # hold it up. The worker leads its own process group (start_new_session), whose id is its
        # pid: killing the group takes its pool processes along.
        os.killpg(process.pid, signal.SIGKILL)
    process.wait(timeout=30)


def _other_database_sessions() -> int:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM pg_stat_activity "
            "WHERE datname = current_database() AND pid <> pg_backend_pid()"
        )
        return cursor.fetchone()[0]


def _launch(broker_url: str, extra_env: dict[str, str], log: Path, outbox: Path) -> CeleryWorker:
    """Start a worker consuming every queue (prefork, one process) on ``broker_url`` and wait
    until it answers a ping."""
    nodename = f"integration-{uuid.uuid4().hex[:12]}@localhost"
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.test_settings",
        "DATABASE_URL": _database_url(),
        "REDIS_URL": broker_url,
        "CELERY_BROKER_URL": broker_url,
        "TEST_SMS_PROVIDER": "file",
        "SMS_FILE_PATH": str(outbox),
        "LOG_LEVEL": "INFO",
        "PYTHONUNBUFFERED": "1",
        **extra_env,
    }
    command = [
        sys.executable,
        "-m",
        "celery",
        "-A",
        "config",
        "worker",
        "--queues",
        ",".join(Queues.ALL),
        "--pool=prefork",
        "--concurrency=1",
        "--without-gossip",
        "--without-mingle",
        "--without-heartbeat",
        f"--hostname={nodename}",
        "--loglevel=INFO",
    ]
    with celery_broker_at(broker_url), log.open("w", encoding="utf-8") as log_file:
        process = subprocess.Popen(
            command,
            cwd=settings.BASE_DIR,
            env=env,
            stdout=log_file,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        worker = CeleryWorker(process, nodename, broker_url, outbox, log, dict(extra_env))
        deadline = time.monotonic() + WORKER_START_SECONDS
        while not _ping(nodename):
            if process.poll() is not None or time.monotonic() > deadline:
                _stop(process)
                pytest.fail(f"the Celery worker did not start:\n{worker.log_text()}")
    return worker


def _finish(workers: list[CeleryWorker]) -> None:
    for worker in workers:
        _stop(worker.process)
    # Their database sessions must be gone before pytest-django empties or drops the database; a
    # killed client's backend notices within moments.
    wait_until(lambda: _other_database_sessions() == 0, "the workers' sessions to end")
    for worker in workers:
        # Shown by pytest when the test failed.
        sys.stdout.write(f"--- Celery worker log ({worker.log}) ---\n{worker.log_text()}\n")


@pytest.fixture
def celery_worker(transactional_db, tmp_path) -> Iterator[CeleryWorker]:
    """A running worker consuming every queue (prefork, one process), and this process publishing
    to the same Redis database, emptied first (leftovers of earlier tests would be consumed).
    Tests using it get the transactional database: what they write is committed, so the worker
    sees it."""
    broker_url = redis_url_for_this_run()
    with redis.Redis.from_url(broker_url) as client:
        client.flushdb()

    outbox = tmp_path / "sms-outbox.jsonl"
    with celery_broker_at(broker_url):
        worker = _launch(broker_url, {}, tmp_path / "worker.log", outbox)
        try:
            yield worker
        finally:
            _finish([worker])


class WorkerStarter:
    """Starts workers on a broker of the test's choosing, with extra environment for them
    (``TEST_PUSH_PROVIDER``, ``SMS_HTTP_URL``, ``NOTIFICATION_SENDING_TIMEOUT``...); every worker
    it started is killed when the test ends."""

    def __init__(self, tmp_path: Path) -> None:
        self.tmp_path = tmp_path
        self.started: list[CeleryWorker] = []

    def __call__(self, broker_url: str, **extra_env: str) -> CeleryWorker:
        n = len(self.started) + 1
        worker = _launch(
            broker_url,
            extra_env,
            self.tmp_path / f"worker-{n}.log",
            self.tmp_path / "sms-outbox.jsonl",
        )
        self.started.append(worker)
        return worker

    def restart(self, worker: CeleryWorker) -> CeleryWorker:
        """The same worker again (same broker, same environment), after it died or was killed."""
        if worker.process.poll() is None:
            worker.kill()
        return self(worker.broker_url, **worker.extra_env)


@pytest.fixture
def start_worker(transactional_db, tmp_path) -> Iterator[WorkerStarter]:
    """``start_worker(broker_url, **env)`` starts a worker; ``start_worker.restart(worker)``
    starts it again. Tests using it get the transactional database, as with ``celery_worker``."""
    starter = WorkerStarter(tmp_path)
    try:
        yield starter
    finally:
        _finish(starter.started)


@dataclass
class RedisServer:
    """A redis-server of the test's own, in memory only (``--save "" --appendonly no``): stopped,
    it loses every message, as a broker that crashed without persistence does."""

    port: int
    log: Path
    process: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        """Start it (again) on its port, and wait until it answers."""
        if self.process is not None and self.process.poll() is None:
            raise RuntimeError("redis-server is already running")
        with self.log.open("a", encoding="utf-8") as log_file:
            self.process = subprocess.Popen(
                [
                    *("redis-server", "--port", str(self.port), "--bind", "127.0.0.1"),
                    *("--save", "", "--appendonly", "no"),
                ],
                stdout=log_file,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )

        def answers() -> bool:
            if self.process.poll() is not None:
                pytest.fail(f"redis-server did not start:\n{self.log.read_text()}")
            try:
                with redis.Redis.from_url(self.url, socket_connect_timeout=1) as client:
                    return bool(client.ping())
            except redis.ConnectionError:
                return False

        wait_until(answers, f"redis-server on port {self.port}", timeout=10)

    def stop(self) -> None:
        """SIGKILL it: what it held (queued messages, bindings) is lost."""
        if self.process is not None and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(timeout=10)


@pytest.fixture
def redis_server(tmp_path) -> Iterator[RedisServer]:
    """A running redis-server of this test's own, on a port nothing listened on."""
    if shutil.which("redis-server") is None:
        pytest.skip("redis-server is not installed")
    server = RedisServer(unused_port(), tmp_path / "redis-server.log")
    try:
        server.start()
        yield server
    finally:
        server.stop()
