"""Financial obligations (4 → 6 → 4), online payment through the provider interface, and
stopping a dossier (→ 8)."""

from __future__ import annotations

from datetime import date
from io import StringIO

import pytest
from django.core.management import call_command
from django.utils import timezone

from accounts.models import Role
from services.models import Dossier, PaymentReceipt
from services.payments import FakePaymentProvider
from tests.conftest import client_for
from tests.services.test_dossier_flow import (
    act,
    answer,
    at,
    events,
    official_with,
    state,
    submit,
    waits,
)


@pytest.fixture(autouse=True)
def _catalog(db) -> None:
    call_command("load_demo_procedures", stdout=StringIO())


@pytest.fixture
def clock(monkeypatch):
    """The outside world's clock (timezone.now) set to a fixed moment."""

    def set_clock(moment) -> None:
        monkeypatch.setattr(timezone, "now", lambda: moment)

    return set_clock


@pytest.fixture(autouse=True)
def _fresh_provider():
    FakePaymentProvider.reset()
    yield
    FakePaymentProvider.reset()


def received(citizen, official, clock) -> str:
    clock(at(2, 9))
    code = submit(citizen)
    assert act(official, code, "receive").status_code == 200
    return code


def test_a_fee_is_asked_paid_online_and_the_clock_resumes(citizen, official, clock):
    code = received(citizen, official, clock)  # Monday 2 March; 3 working days → Thursday 5
    clock(at(3, 10))

    asked = act(official, code, "request-fee", {"amount": "30000", "note": "Lệ phí cấp bản sao"})

    assert (asked.status_code, asked.json()["status"], asked.json()["fee_due"]) == (200, 6, 30000)
    mine = client_for(citizen).get(f"/api/v1/dossiers/{code}/").json()
    assert (mine["remaining_working_days"], mine["overdue"]) == (None, False)

    clock(at(5, 9))
    paid = answer(citizen, code, "pay")

    assert paid.status_code == 200
    body = paid.json()
    assert body["receipt"]["reference"] == f"{code}-FEE1"
    assert (body["receipt"]["amount"], body["receipt"]["provider"]) == (30000, "fake")
    assert body["receipt"]["transaction_id"].startswith("FAKE-")
    assert (body["dossier"]["status"], body["dossier"]["appointment_date"]) == (4, "2026-03-09")
    assert events(code)[-2:] == [
        (4, 6, official.pk, "Lệ phí cấp bản sao"),
        (6, 4, citizen.pk, f"{code}-FEE1"),
    ]
    assert [(status, end is not None) for status, _start, end in waits(code)] == [(6, True)]


def test_paying_twice_charges_once(citizen, official, clock):
    code = received(citizen, official, clock)
    act(official, code, "request-fee", {"amount": "10000", "note": "Lệ phí"})

    first = answer(citizen, code, "pay")
    second = answer(citizen, code, "pay")

    assert first.status_code == 200
    assert (second.status_code, second.json()["code"]) == (409, "invalid_transition")
    assert PaymentReceipt.objects.count() == 1


def test_without_online_payment_the_citizen_is_sent_to_the_desk(citizen, official, clock, settings):
    code = received(citizen, official, clock)
    act(official, code, "request-fee", {"amount": "10000", "note": "Lệ phí"})
    settings.PAYMENT_PROVIDER = "none"
    before = state(code)

    response = client_for(citizen).post(f"/api/v1/dossiers/{code}/pay/", HTTP_ACCEPT_LANGUAGE="en")

    assert (response.status_code, response.json()["code"]) == (409, "payment_unavailable")
    assert response.json()["message"] == (
        "Online payment is not available now: pay at the one-stop desk of the receiving unit."
    )
    assert state(code) == before
    assert PaymentReceipt.objects.count() == 0


@pytest.mark.parametrize("amount", ["0", "-5", "abc"])
def test_a_fee_needs_a_positive_amount_and_a_note(citizen, official, clock, amount):
    code = received(citizen, official, clock)
    before = state(code)

    bad = act(official, code, "request-fee", {"amount": amount, "note": "Lệ phí"})
    no_note = act(official, code, "request-fee", {"amount": "1000"})

    assert (bad.status_code, list(bad.json()["fields"])) == (400, ["amount"])
    assert (no_note.status_code, list(no_note.json()["fields"])) == (400, ["note"])
    assert state(code) == before


def test_only_processing_officials_of_the_unit_ask_for_fees_or_stop(
    citizen, official, other_official, clock
):
    code = received(citizen, official, clock)
    desk = official_with([Role.RECEPTION])
    before = state(code)

    for who in (other_official, desk):
        fee = act(who, code, "request-fee", {"amount": "1000", "note": "x"})
        stop = act(who, code, "stop", {"reason": "x"})
        assert (fee.status_code, stop.status_code) == (404, 404)
    assert state(code) == before


def test_another_citizen_cannot_pay_my_dossier(citizen, other_citizen, official, clock):
    code = received(citizen, official, clock)
    act(official, code, "request-fee", {"amount": "1000", "note": "x"})

    response = answer(other_citizen, code, "pay")

    assert response.status_code == 404
    assert PaymentReceipt.objects.count() == 0
    assert Dossier.objects.get(code=code).status == 6


def test_stopping_a_dossier_is_final(citizen, official, clock):
    code = received(citizen, official, clock)
    act(official, code, "request-supplement", {"missing": "Bản sao CCCD"})

    stopped = act(official, code, "stop", {"reason": "Quá hạn bổ sung hồ sơ"})

    assert (stopped.status_code, stopped.json()["status"]) == (200, 8)
    assert events(code)[-1] == (5, 8, official.pk, "Quá hạn bổ sung hồ sơ")
    assert [end is not None for _s, _start, end in waits(code)] == [True]
    again = act(official, code, "receive")
    withdraw = answer(citizen, code, "withdraw")
    assert (again.status_code, withdraw.status_code) == (409, 409)
    assert Dossier.objects.get(code=code).appointment_date == date(2026, 3, 5)
