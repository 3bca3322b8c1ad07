"""SMS providers behind one interface, chosen by ``settings.SMS_PROVIDER``.

Backends: ``file`` (JSON lines in ``SMS_FILE_PATH``, the development default, so a newcomer
can read their OTP), ``console`` and ``memory`` (tests), and ``http``: a generic brandname-SMS
gateway over HTTP (URL, credentials, a JSON request template, timeouts, and the gateway's result
codes mapped to success, temporary and permanent errors), configured by the ``SMS_HTTP_*``
settings (README, "Configuration").
"""

from __future__ import annotations

import fcntl
import json
import re
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


def _phone_for_gateway(phone: str, style: str) -> str:
    """``phone`` is E.164 (+84912345678); gateways want it as they were written for."""
    digits = phone.lstrip("+")
    if style == "digits":  # 84912345678
        return digits
    if style == "national" and digits.startswith("84"):  # 0912345678
        return "0" + digits[2:]
    return phone


_PLACEHOLDER = re.compile(r"\{(\w+)\}")


def _fill(template: object, values: dict[str, str]) -> object:
    """Put the values into every string of a JSON template ("{phone}", "{text}", ...): the
    template is parsed first, so a text with quotes or newlines stays valid JSON. One pass: a
    value (the text) is never read again for placeholders, so a "{password}" in it stays."""
    if isinstance(template, str):
        return _PLACEHOLDER.sub(lambda m: values.get(m.group(1), m.group(0)), template)
    if isinstance(template, list):
        return [_fill(item, values) for item in template]
    if isinstance(template, dict):
        return {key: _fill(item, values) for key, item in template.items()}
    return template


def _dig(document: object, path: str) -> object:
    for part in path.split(".") if path else []:
        if isinstance(document, dict):
            document = document.get(part)
        elif isinstance(document, list) and part.isdigit() and int(part) < len(document):
            document = document[int(part)]
        else:
            return None
    return document


class HttpSmsProvider(SmsProvider):
    """A brandname-SMS gateway over HTTP, as Vietnamese carriers' resellers offer them: one
    request per message, built from ``SMS_HTTP_BODY`` (JSON, with {phone}, {text},
    {reference}, {brandname}, {username}, {password}, {api_key}); the answer's
    ``SMS_HTTP_RESULT_FIELD`` is looked up in the success and temporary code lists, any other
    code is a permanent error. No answer, HTTP 408/429/5xx are temporary; other 4xx permanent.
    Our reference goes with every message, so a gateway that deduplicates on it never sends a
    retried message twice."""

    name = "http"
    _local = threading.local()

    @classmethod
    def _session(cls):
        import requests

        session = getattr(cls._local, "session", None)
        if session is None:
            session = cls._local.session = requests.Session()
        return session

    def send(self, *, phone: str, body: str, reference: str) -> SmsResult:
        import requests

        if not settings.SMS_HTTP_URL:
            raise ProviderError("SMS_HTTP_URL is not set", permanent=True)
        values = {
            "phone": _phone_for_gateway(phone, settings.SMS_HTTP_PHONE_FORMAT),
            "text": body,
            "reference": reference,
            "brandname": settings.SMS_HTTP_BRANDNAME,
            "username": settings.SMS_HTTP_USERNAME,
            "password": settings.SMS_HTTP_PASSWORD,
            "api_key": settings.SMS_HTTP_API_KEY,
        }
        try:
            template = json.loads(settings.SMS_HTTP_BODY)
        except ValueError as exc:
            raise ProviderError(f"SMS_HTTP_BODY is not JSON: {exc}", permanent=True) from exc
        payload = _fill(template, values)
        auth = None
        if settings.SMS_HTTP_AUTH == "basic":
            # As UTF-8 bytes: requests would encode str credentials as Latin-1 and fail on others.
            auth = (settings.SMS_HTTP_USERNAME.encode(), settings.SMS_HTTP_PASSWORD.encode())
        headers = {k: str(_fill(v, values)) for k, v in settings.SMS_HTTP_HEADERS.items()}
        try:
            response = self._session().request(
                settings.SMS_HTTP_METHOD,
                settings.SMS_HTTP_URL,
                json=payload,
                headers=headers,
                auth=auth,
                timeout=(settings.SMS_HTTP_CONNECT_TIMEOUT, settings.SMS_HTTP_READ_TIMEOUT),
            )
        except requests.RequestException as exc:
            # Never the number or the text: only what kind of failure it was.
            raise ProviderError(f"gateway unreachable: {type(exc).__name__}") from exc
        status = response.status_code
        if status in (408, 429) or status >= 500:
            raise ProviderError(f"gateway HTTP {status}")
        if status >= 400:
            raise ProviderError(f"gateway HTTP {status}", permanent=True)
        try:
            answer = response.json()
        except ValueError:
            answer = None
        code = _dig(answer, settings.SMS_HTTP_RESULT_FIELD)
        code = "" if code is None else str(code)
        if settings.SMS_HTTP_RESULT_FIELD and code not in settings.SMS_HTTP_SUCCESS_CODES:
            permanent = code not in settings.SMS_HTTP_TEMPORARY_CODES
            raise ProviderError(f"gateway code {code or '(none)'}", permanent=permanent)
        id_field = settings.SMS_HTTP_MESSAGE_ID_FIELD
        # No id field: _dig("") would answer the whole document.
        message_id = _dig(answer, id_field) if id_field else None
        return SmsResult(provider_reference=str(message_id) if message_id else reference)


SMS_PROVIDERS: dict[str, type[SmsProvider]] = {
    p.name: p for p in (FileSmsProvider, ConsoleSmsProvider, MemorySmsProvider, HttpSmsProvider)
}


def get_sms_provider(name: str | None = None) -> SmsProvider:
    key = name or settings.SMS_PROVIDER
    try:
        return SMS_PROVIDERS[key]()
    except KeyError:
        raise ValueError(
            f"Unknown SMS_PROVIDER {key!r}; choose from {sorted(SMS_PROVIDERS)}"
        ) from None
