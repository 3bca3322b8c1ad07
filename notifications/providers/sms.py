"""SMS providers behind one interface, chosen by ``settings.SMS_PROVIDER``.

Backends now: ``file`` (JSON lines in ``SMS_FILE_PATH``, the development default, so a newcomer
can read their OTP), ``console`` and ``memory`` (tests). The HTTP gateway arrives with the
notifications issue.
"""

from __future__ import annotations

import fcntl
import json
import sys
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import ClassVar

from django.conf import settings
from django.utils import timezone

from notifications.phone_display import mask_phone


class ProviderError(Exception):
    """A provider refused or failed. ``permanent`` errors are not retried."""

    def __init__(self, message: str, *, permanent: bool = False) -> None:
        super().__init__(message)
        self.permanent = permanent


@dataclass(frozen=True)
class SmsResult:
    provider_reference: str


class SmsProvider:
    name: ClassVar[str]

    def send(self, *, phone: str, body: str, reference: str) -> SmsResult:
        raise NotImplementedError


class FileSmsProvider(SmsProvider):
    """Appends each message as one JSON line; several worker processes may append at once."""

    name = "file"

    def __init__(self, path: Path | None = None) -> None:
        self.path = Path(path or settings.SMS_FILE_PATH)

    def send(self, *, phone: str, body: str, reference: str) -> SmsResult:
        line = json.dumps(
            {"id": reference, "to": phone, "body": body, "at": timezone.now().isoformat()},
            ensure_ascii=False,
        )
        try:
            # Inside the try: a parent that cannot be created is the same outage as a file that
            # cannot be written, and must not escape as a bare OSError (the row would hang).
            self.path.parent.mkdir(parents=True, exist_ok=True)
            with self.path.open("a", encoding="utf-8") as fh:
                fcntl.flock(fh, fcntl.LOCK_EX)
                fh.write(line + "\n")
                fh.flush()
        except OSError as exc:
            raise ProviderError(f"cannot write the outbox: {exc.strerror or exc}") from exc
        return SmsResult(provider_reference=reference)


class ConsoleSmsProvider(SmsProvider):
    name = "console"

    def send(self, *, phone: str, body: str, reference: str) -> SmsResult:
        # The number is personal data: the console (a log) shows it masked.
        sys.stdout.write(f"[SMS {reference}] to {mask_phone(phone)}: {body}\n")
        sys.stdout.flush()
        return SmsResult(provider_reference=reference)


@dataclass(frozen=True)
class SentSms:
    phone: str
    body: str
    reference: str


class MemorySmsProvider(SmsProvider):
    """Keeps messages in this process (tests). ``fail_next`` simulates gateway errors."""

    name = "memory"
    outbox: ClassVar[list[SentSms]] = []
    fail_next: ClassVar[list[ProviderError]] = []
    _lock = threading.Lock()

    def send(self, *, phone: str, body: str, reference: str) -> SmsResult:
        with self._lock:
            if self.fail_next:
                raise self.fail_next.pop(0)
            self.outbox.append(SentSms(phone=phone, body=body, reference=reference))
        return SmsResult(provider_reference=reference)

    @classmethod
    def reset(cls) -> None:
        with cls._lock:
            cls.outbox.clear()
            cls.fail_next.clear()


SMS_PROVIDERS: dict[str, type[SmsProvider]] = {
    p.name: p for p in (FileSmsProvider, ConsoleSmsProvider, MemorySmsProvider)
}


def get_sms_provider(name: str | None = None) -> SmsProvider:
    key = name or settings.SMS_PROVIDER
    try:
        return SMS_PROVIDERS[key]()
    except KeyError:
        raise ValueError(
            f"Unknown SMS_PROVIDER {key!r}; choose from {sorted(SMS_PROVIDERS)}"
        ) from None
