"""A real Celery worker for the integration tests: a subprocess on the real Redis and the
pytest-django PostgreSQL test database, sending SMS with the file provider.

Isolation: the worker and this process use this run's own Redis database (REDIS_URL's number,
plus the pytest-xdist worker index), flushed before every test; the worker is started per test
and always killed afterwards. Without PostgreSQL or Redis the tests skip (in CI they fail: see
``pytest_runtest_makereport`` in tests/conftest.py).
"""

from __future__ import annotations

import functools
import json
import os
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar
from urllib.parse import quote, urlsplit, urlunsplit

import pytest
import redis
from django.conf import settings
from django.db import connection

from config.celery import Queues, app
from tests.conftest import celery_broker_at

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


@pytest.fixture
def celery_worker(transactional_db, tmp_path) -> Iterator[CeleryWorker]:
    """A running worker consuming every queue (prefork, one process), and this process publishing
    to the same Redis database, emptied first (leftovers of earlier tests would be consumed).
    Tests using it get the transactional database: what they write is committed, so the worker
    sees it."""
    broker_url = redis_url_for_this_run()
    with redis.Redis.from_url(broker_url) as client:
        client.flushdb()

    nodename = f"integration-{uuid.uuid4().hex[:12]}@localhost"
    outbox = tmp_path / "sms-outbox.jsonl"
    log = tmp_path / "worker.log"
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
        worker = CeleryWorker(process, nodename, broker_url, outbox, log)
        try:
            deadline = time.monotonic() + WORKER_START_SECONDS
            while not _ping(nodename):
                if process.poll() is not None or time.monotonic() > deadline:
                    pytest.fail(f"the Celery worker did not start:\n{worker.log_text()}")
            yield worker
        finally:
            _stop(process)
            # Its database sessions must be gone before pytest-django empties or drops the
            # database; a killed client's backend notices within moments.
            wait_until(lambda: _other_database_sessions() == 0, "the worker's sessions to end")
            # Shown by pytest when the test failed.
            sys.stdout.write(f"--- Celery worker log ({log}) ---\n{worker.log_text()}\n")
