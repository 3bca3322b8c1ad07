"""Payment providers for dossiers' financial obligations (fees, charges).

A provider is called outside any database transaction and must be idempotent by ``reference``:
asked twice with one reference, it charges once and answers the same transaction. No real
gateway (the national portal's payment platform, a bank) is integrated yet: ``fake`` stands in
for development and tests; with ``PAYMENT_PROVIDER=none`` (the default with DEBUG off) online
payment is refused and the citizen pays at the one-stop desk.
"""

from __future__ import annotations

import threading
import uuid
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Protocol

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.utils import timezone


@dataclass(frozen=True)
class Charge:
    transaction_id: str
    paid_at: datetime


class PaymentUnavailable(Exception):
    """Online payment cannot be made now (no provider, or the provider refused)."""


class PaymentProvider(Protocol):
    name: str
    available: bool  # False: online payment is switched off (nothing is written, pay at the desk)

    def charge(self, *, reference: str, amount: Decimal, description: str) -> Charge: ...


class FakePaymentProvider:
    """Always pays, once per reference; remembers in memory (one process)."""

    name = "fake"
    available = True
    _charges: dict[str, Charge] = {}
    _lock = threading.Lock()

    def charge(self, *, reference: str, amount: Decimal, description: str) -> Charge:
        with self._lock:
            if reference not in self._charges:
                self._charges[reference] = Charge(
                    transaction_id=f"FAKE-{uuid.uuid4().hex[:12].upper()}",
                    paid_at=timezone.now(),
                )
            return self._charges[reference]

    @classmethod
    def reset(cls) -> None:
        with cls._lock:
            cls._charges.clear()


class NoPaymentProvider:
    name = "none"
    available = False

    def charge(self, *, reference: str, amount: Decimal, description: str) -> Charge:
        raise PaymentUnavailable()


PROVIDERS: dict[str, type] = {"fake": FakePaymentProvider, "none": NoPaymentProvider}


def payment_provider() -> PaymentProvider:
    try:
        return PROVIDERS[settings.PAYMENT_PROVIDER]()
    except KeyError as exc:
        raise ImproperlyConfigured(f"PAYMENT_PROVIDER must be one of {sorted(PROVIDERS)}") from exc
