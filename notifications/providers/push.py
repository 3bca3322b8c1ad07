"""Push providers behind one interface, chosen by ``settings.PUSH_PROVIDER``.

- ``fcm``: Firebase Cloud Messaging through ``firebase-admin`` (``messaging.send_each``, at most
  500 messages a call). Credentials: ``FCM_CREDENTIALS_FILE`` (a service account's JSON), or
  Google's application default credentials.
- ``file``: one JSON line per message in ``PUSH_FILE_PATH`` (the development default, and what
  the integration tests read across processes).
- ``memory``: kept in this process (tests), with scripted failures and an optional latency per
  call (the benchmark's fake FCM).

A provider sends a batch of messages and answers one result per message, in order: sent (with
the provider's message id), a token that is gone (the device is deactivated), a temporary error
(retried) or a permanent one.
"""

from __future__ import annotations

import enum
import fcntl
import json
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import ClassVar

from django.conf import settings
from django.utils import timezone

# FCM's limit for one send_each / multicast call.
FCM_BATCH_LIMIT = 500


@dataclass(frozen=True)
class PushMessage:
    token: str
    title: str
    body: str
    data: dict[str, str]
    # Our delivery id: the reference, and the collapse key so that a message sent twice (a
    # worker died between the provider's answer and our record) shows once on the phone.
    reference: str


class PushOutcome(enum.StrEnum):
    SENT = "sent"
    TOKEN_GONE = "token-gone"  # noqa: S105 (not a password)
    TEMPORARY = "temporary"
    PERMANENT = "permanent"


@dataclass(frozen=True)
class PushResult:
    outcome: PushOutcome
    message_id: str = ""
    error: str = ""


class PushProviderError(Exception):
    """The whole call failed (no answer per message): retried as a temporary error unless
    ``permanent`` (bad credentials, a broken configuration)."""

    def __init__(self, message: str, *, permanent: bool = False) -> None:
        super().__init__(message)
        self.permanent = permanent


class PushProvider:
    name: ClassVar[str]
    batch_limit: ClassVar[int] = FCM_BATCH_LIMIT

    def send(self, messages: list[PushMessage]) -> list[PushResult]:
        raise NotImplementedError


class FcmPushProvider(PushProvider):
    name = "fcm"
    _app = None
    _app_lock = threading.Lock()

    @classmethod
    def _firebase_app(cls):
        import firebase_admin
        from firebase_admin import credentials

        with cls._app_lock:
            if cls._app is None:
                path = settings.FCM_CREDENTIALS_FILE
                cred = credentials.Certificate(path) if path else None
                options = (
                    {"projectId": settings.FCM_PROJECT_ID} if settings.FCM_PROJECT_ID else None
                )
                cls._app = firebase_admin.initialize_app(cred, options, name="congdanso")
            return cls._app

    @staticmethod
    def _message(m: PushMessage):
        from firebase_admin import messaging

        return messaging.Message(
            token=m.token,
            notification=messaging.Notification(title=m.title, body=m.body),
            data={**m.data, "delivery": m.reference},
            android=messaging.AndroidConfig(
                collapse_key=m.reference,
                notification=messaging.AndroidNotification(tag=m.reference),
            ),
            apns=messaging.APNSConfig(headers={"apns-collapse-id": m.reference[:64]}),
        )

    @staticmethod
    def _result(response) -> PushResult:
        from firebase_admin import exceptions, messaging

        if response.success:
            return PushResult(PushOutcome.SENT, message_id=response.message_id or "")
        exc = response.exception
        error = f"{type(exc).__name__}: {exc}"[:255]
        # The token is not (or no longer) valid for this app: the device is deactivated.
        if isinstance(exc, messaging.UnregisteredError | messaging.SenderIdMismatchError):
            return PushResult(PushOutcome.TOKEN_GONE, error=error)
        if isinstance(
            exc,
            messaging.QuotaExceededError
            | messaging.ThirdPartyAuthError
            | exceptions.UnavailableError
            | exceptions.InternalError
            | exceptions.DeadlineExceededError,
        ):
            return PushResult(PushOutcome.TEMPORARY, error=error)
        if isinstance(exc, exceptions.InvalidArgumentError) and "token" in str(exc).lower():
            return PushResult(PushOutcome.TOKEN_GONE, error=error)
        return PushResult(PushOutcome.PERMANENT, error=error)

    def send(self, messages: list[PushMessage]) -> list[PushResult]:
        from firebase_admin import exceptions, messaging

        if len(messages) > self.batch_limit:
            raise ValueError(f"FCM takes at most {self.batch_limit} messages a call")
        try:
            app = self._firebase_app()
        except (OSError, ValueError) as exc:
            # No credentials file, a broken one, no project id: configuration, not an outage.
            raise PushProviderError(f"FCM is not configured: {exc}", permanent=True) from exc
        try:
            batch = messaging.send_each([self._message(m) for m in messages], app=app)
        except (exceptions.UnauthenticatedError, exceptions.PermissionDeniedError) as exc:
            raise PushProviderError(str(exc), permanent=True) from exc
        except (exceptions.FirebaseError, OSError) as exc:
            raise PushProviderError(str(exc)) from exc
        except ValueError as exc:  # no credentials, no project id
            raise PushProviderError(str(exc), permanent=True) from exc
        return [self._result(r) for r in batch.responses]


class FilePushProvider(PushProvider):
    """Appends each message as one JSON line; several worker processes may append at once."""

    name = "file"

    def __init__(self, path: Path | None = None) -> None:
        self.path = Path(path or settings.PUSH_FILE_PATH)

    def send(self, messages: list[PushMessage]) -> list[PushResult]:
        at = timezone.now().isoformat()
        lines = "".join(
            json.dumps(
                {
                    "id": m.reference,
                    "token": m.token[-6:],
                    "title": m.title,
                    "body": m.body,
                    "data": m.data,
                    "at": at,
                },
                ensure_ascii=False,
            )
            + "\n"
            for m in messages
        )
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            with self.path.open("a", encoding="utf-8") as fh:
                fcntl.flock(fh, fcntl.LOCK_EX)
                fh.write(lines)
                fh.flush()
        except OSError as exc:
            raise PushProviderError(f"cannot write the outbox: {exc.strerror or exc}") from exc
        return [PushResult(PushOutcome.SENT, message_id=m.reference) for m in messages]


class MemoryPushProvider(PushProvider):
    """Keeps messages in this process. ``results`` scripts the next answers per token (an
    outcome, used once each); ``fail_calls`` scripts whole failed calls; ``latency`` seconds
    are spent on each call (the benchmark's fake FCM)."""

    name = "memory"
    outbox: ClassVar[list[PushMessage]] = []
    calls: ClassVar[list[int]] = []
    results: ClassVar[dict[str, list[PushResult]]] = {}
    fail_calls: ClassVar[list[PushProviderError]] = []
    latency: ClassVar[float] = 0.0
    _lock = threading.Lock()

    def send(self, messages: list[PushMessage]) -> list[PushResult]:
        if len(messages) > self.batch_limit:
            raise ValueError(f"at most {self.batch_limit} messages a call")
        if self.latency:
            time.sleep(self.latency)
        with self._lock:
            self.calls.append(len(messages))
            if self.fail_calls:
                raise self.fail_calls.pop(0)
            answers = []
            for m in messages:
                scripted = self.results.get(m.token)
                result = scripted.pop(0) if scripted else PushResult(PushOutcome.SENT, m.reference)
                if result.outcome is PushOutcome.SENT:
                    self.outbox.append(m)
                answers.append(result)
            return answers

    @classmethod
    def reset(cls) -> None:
        with cls._lock:
            cls.outbox.clear()
            cls.calls.clear()
            cls.results.clear()
            cls.fail_calls.clear()
            cls.latency = 0.0


PUSH_PROVIDERS: dict[str, type[PushProvider]] = {
    p.name: p for p in (FcmPushProvider, FilePushProvider, MemoryPushProvider)
}


def get_push_provider(name: str | None = None) -> PushProvider:
    key = name or settings.PUSH_PROVIDER
    try:
        return PUSH_PROVIDERS[key]()
    except KeyError:
        raise ValueError(
            f"Unknown PUSH_PROVIDER {key!r}; choose from {sorted(PUSH_PROVIDERS)}"
        ) from None
