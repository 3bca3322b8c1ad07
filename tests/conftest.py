"""Shared fixtures: the actors (citizen, other citizen, official of the ward, official of another
ward, province administrator), an API client, and a clean in-memory SMS outbox and cache."""

from __future__ import annotations

import os
import re
import socket
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import pytest
from celery.signals import after_task_publish
from django.core.cache import cache
from django.db import connection
from rest_framework.test import APIClient
from rest_framework_simplejwt.tokens import RefreshToken

from accounts.actions.officials import official_create_or_update
from accounts.actions.otp import otp_deliver
from accounts.models import OtpChallenge, Role, User
from notifications.actions import sms_send
from notifications.models import DeliveryStatus, SmsMessage
from notifications.providers.sms import MemorySmsProvider, SentSms
from tests.factories import PASSWORD, ProvinceFactory, UserFactory, WardFactory


@pytest.fixture(autouse=True)
def _clean_outbox_and_cache():
    MemorySmsProvider.reset()
    cache.clear()
    yield
    MemorySmsProvider.reset()
    cache.clear()


@pytest.fixture
def password() -> str:
    return PASSWORD


@pytest.fixture
def province(db):
    return ProvinceFactory()


@pytest.fixture
def ward(province):
    return WardFactory(code=6040, name="Xã Thất Khê", agency_code="H20.6040")


@pytest.fixture
def other_ward(province):
    return WardFactory(code=6001, name="Xã Đoàn Kết", agency_code="H20.6001")


@pytest.fixture
def citizen(ward) -> User:
    return UserFactory(phone="+84912345678", full_name="Nguyễn Văn An", ward=ward)


@pytest.fixture
def other_citizen(other_ward) -> User:
    return UserFactory(phone="+84987654321", full_name="Trần Thị Bình", ward=other_ward)


@pytest.fixture
def official(ward) -> User:
    return official_create_or_update(
        phone="+84900000011",
        full_name="Lý Thị Cán Bộ",
        password=PASSWORD,
        roles=[Role.RECEPTION, Role.PROCESSING],
        unit_codes=[ward.code],
        title="Công chức một cửa",
    )


@pytest.fixture
def other_official(other_ward) -> User:
    return official_create_or_update(
        phone="+84900000012",
        full_name="Hoàng Văn Khác",
        password=PASSWORD,
        roles=[Role.RECEPTION, Role.PROCESSING],
        unit_codes=[other_ward.code],
    )


def with_units_query(queries: int) -> int:
    """A pinned count for the officials' API, counted with a query of its own for the
    official's units: on PostgreSQL the authentication reads them with the user
    (accounts.authentication), one query fewer."""
    return queries - 1 if connection.vendor == "postgresql" else queries


@pytest.fixture
def broadcaster(ward) -> User:
    """The ward's official who sends notices (Role.BROADCASTING); no household role."""
    return official_create_or_update(
        phone="+84900000021",
        full_name="Đinh Văn Phát",
        password=PASSWORD,
        roles=[Role.BROADCASTING],
        unit_codes=[ward.code],
        title="Cán bộ phát thông báo",
    )


@pytest.fixture
def province_admin(province) -> User:
    return official_create_or_update(
        phone="+84900000013",
        full_name="Vi Văn Tỉnh",
        password=PASSWORD,
        roles=[Role.PROVINCE_ADMIN],
        province_code=province.code,
    )


@pytest.fixture
def api_client() -> APIClient:
    return APIClient()


def client_for(user: User) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {RefreshToken.for_user(user).access_token}")
    return client


@pytest.fixture
def citizen_client(citizen) -> APIClient:
    return client_for(citizen)


@pytest.fixture
def other_citizen_client(other_citizen) -> APIClient:
    return client_for(other_citizen)


@pytest.fixture
def sms_outbox() -> list:
    return MemorySmsProvider.outbox


@dataclass(frozen=True)
class PublishedTask:
    name: str
    args: list
    queue: str


@pytest.fixture
def published_tasks() -> list[PublishedTask]:
    """Every Celery message published during the test (to the in-process broker), in order:
    what a worker would receive. Observes Celery's ``after_task_publish`` signal; mocks nothing."""
    published: list[PublishedTask] = []

    def record(sender=None, body=None, routing_key=None, **kwargs) -> None:
        args, _kwargs, _embed = body
        published.append(PublishedTask(name=sender, args=list(args), queue=routing_key))

    after_task_publish.connect(record, weak=False)
    yield published
    after_task_publish.disconnect(record)


@pytest.fixture
def deliver_sms(sms_outbox) -> Callable[[], list[SentSms]]:
    """Do what the worker would: run the OTP delivery task's body for every challenge not yet
    dispatched, then the send task's body for every SMS still waiting. (In unit
    tests the on-commit hook only publishes to the in-process broker.) Returns what reached the
    gateway."""

    def deliver() -> list[SentSms]:
        already = len(sms_outbox)
        for challenge_id in list(
            OtpChallenge.objects.filter(dispatched_at__isnull=True)
            .order_by("created_at")
            .values_list("id", flat=True)
        ):
            otp_deliver(challenge_id=str(challenge_id))
        waiting = SmsMessage.objects.filter(status=DeliveryStatus.CREATED).order_by("created_at")
        for message_id in list(waiting.values_list("id", flat=True)):
            sms_send(message_id=str(message_id))
        return sms_outbox[already:]

    return deliver


OTP_IN_SMS = re.compile(r"\b(\d{6})\b")


@pytest.fixture
def request_otp(django_capture_on_commit_callbacks, deliver_sms) -> Callable[..., str | None]:
    """POST auth/otp/ (202 expected), deliver the SMS and return the code it carried: None when no
    code was texted (unknown number, cool-down, cap...). ``extra`` goes to the request (headers,
    REMOTE_ADDR)."""

    def request(phone: str, purpose: str, **extra) -> str | None:
        with django_capture_on_commit_callbacks(execute=True):
            response = APIClient().post(
                "/api/v1/auth/otp/", {"phone": phone, "purpose": purpose}, **extra
            )
        assert response.status_code == 202, response.content
        codes = [m.group(1) for sms in deliver_sms() if (m := OTP_IN_SMS.search(sms.body))]
        assert len(codes) <= 1, codes
        return codes[0] if codes else None

    return request


# --- Integration tests and the broker ---------------------------------------------------------


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    """In CI (CI=true) an integration test that skips (Redis or PostgreSQL missing), a test
    marked ``postgresql`` that skips, or an ``e2e`` test that skips (Chromium or Playwright
    missing) fails: CI must never go green without having run them."""
    outcome = yield
    report = outcome.get_result()
    if (
        report.skipped
        and not hasattr(report, "wasxfail")
        and os.environ.get("CI") == "true"
        and any(item.get_closest_marker(name) for name in ("integration", "postgresql", "e2e"))
    ):
        reason = report.longrepr[2] if isinstance(report.longrepr, tuple) else report.longrepr
        report.outcome = "failed"
        report.longrepr = f"test skipped in CI (CI=true), which is a failure: {reason}"


def unused_port() -> int:
    """A local TCP port nothing listens on (the OS just handed it out and it was closed)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _drop_broker_pools() -> None:
    from config.celery import app

    # Celery caches the connection and producer pools of its first broker URL and has no public
    # way to forget them; the next publish builds new ones for the URL now configured.
    app._pool = None
    app.amqp._producer_pool = None


@contextmanager
def celery_broker_at(url: str) -> Iterator[str]:
    """Make this process's Celery app talk to the broker at ``url`` (publishing and /readyz).
    Celery reads CELERY_BROKER_URL from the environment before its settings."""
    previous = os.environ.get("CELERY_BROKER_URL")
    os.environ["CELERY_BROKER_URL"] = url
    _drop_broker_pools()
    try:
        yield url
    finally:
        if previous is None:
            os.environ.pop("CELERY_BROKER_URL", None)
        else:
            os.environ["CELERY_BROKER_URL"] = previous
        _drop_broker_pools()


@pytest.fixture
def dead_broker() -> Iterator[str]:
    """The broker is down: this process's Celery app points at a port where nothing listens."""
    with celery_broker_at(f"redis://127.0.0.1:{unused_port()}/0") as url:
        yield url
