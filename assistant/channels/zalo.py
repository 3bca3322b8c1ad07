"""Zalo Official Account (Zalo OA): the webhook's events in, customer-service messages out.

The formats, as Zalo's open API uses them and Chatwoot's Zalo OA channel implements them (they
could not be read from developers.zalo.me itself, which this project cannot reach):

- Each webhook call is a JSON event with ``app_id``, ``event_name``, ``sender.id``,
  ``recipient.id`` (the OA), ``timestamp`` (milliseconds, as a string) and, for
  ``user_send_text``, ``message.text`` and ``message.msg_id``.
- The header ``X-ZEvent-Signature`` is ``mac=`` + SHA-256 (hex) of the app id, the raw body,
  the event's ``timestamp`` and the OA secret key, concatenated in that order.
- A reply is ``POST {ZALO_API_URL}/v3.0/oa/message/cs`` with the ``access_token`` header and
  ``{"recipient": {"user_id": …}, "message": {"text": …}}``; the answer's ``error`` is 0 when
  sent and -216 when the access token is no longer valid.
- Tokens are renewed by ``POST {ZALO_OAUTH_URL}/v4/oa/access_token`` (form ``refresh_token``,
  ``app_id``, ``grant_type=refresh_token``; header ``secret_key`` = the app's secret), which
  answers a new access token, a new refresh token (the old one is spent) and ``expires_in``.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
from collections.abc import Mapping
from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from assistant.channels.base import Channel, ChannelError, Inbound, MalformedEvent

log = logging.getLogger(__name__)

TOKEN_INVALID = -216
# Renew a little before the access token runs out.
RENEW_MARGIN = timedelta(minutes=5)
TIMEOUT = (5, 15)
# When a renewal does not say how long the new token lives (Zalo's last about 25 hours).
DEFAULT_LIFETIME = 3600


class ZaloChannel(Channel):
    name = "zalo"
    max_reply = 2000

    def enabled(self) -> bool:
        return bool(settings.ZALO_APP_ID and settings.ZALO_OA_SECRET_KEY)

    # In

    def verify(self, headers: Mapping[str, str], body: bytes) -> bool:
        supplied = (headers.get("X-ZEvent-Signature") or "").strip().lower()
        supplied = supplied.removeprefix("mac=")
        try:
            event = json.loads(body)
        except ValueError:
            return False
        if not isinstance(event, dict) or str(event.get("app_id", "")) != settings.ZALO_APP_ID:
            return False
        expected = signature(body, str(event.get("timestamp", "")))
        # As bytes: compare_digest refuses a str with characters outside ASCII.
        return bool(supplied) and hmac.compare_digest(supplied.encode(), expected.encode())

    def parse(self, body: bytes) -> list[Inbound]:
        try:
            event = json.loads(body)
            name = event["event_name"]
        except (ValueError, TypeError, KeyError) as exc:
            raise MalformedEvent(str(exc)) from exc
        if name != "user_send_text":
            return []
        try:
            message, sender = event["message"], event["sender"]["id"]
            external_id, text = message["msg_id"], message["text"]
        except (TypeError, KeyError) as exc:
            raise MalformedEvent(f"user_send_text without {exc}") from exc
        if not isinstance(text, str) or not text.strip() or not external_id:
            return []
        return [Inbound(external_id=str(external_id), sender=str(sender), text=text)]

    # Out

    def send(self, recipient: str, text: str) -> None:
        token = self._access_token()
        error = self._post_message(token, recipient, text)
        if error == TOKEN_INVALID:
            error = self._post_message(self._renew(stale=token), recipient, text)
            if error == TOKEN_INVALID:
                raise ChannelError("Zalo error -216 after renewing the access token")

    def _post_message(self, token: str, recipient: str, text: str) -> int:
        answer = _call(
            "post",
            f"{settings.ZALO_API_URL}/v3.0/oa/message/cs",
            headers={"access_token": token},
            json={"recipient": {"user_id": recipient}, "message": {"text": text}},
        )
        if "error" not in answer:
            raise ChannelError("Zalo answered without an error code")
        error = _int(answer["error"])
        if error not in (0, TOKEN_INVALID):
            # Zalo refused this message (the user blocked the OA, too old a conversation…).
            raise ChannelError(f"Zalo error {error}", permanent=True)
        return error

    def _access_token(self) -> str:
        from assistant.models import ChannelToken

        row = ChannelToken.objects.filter(channel=self.name).first()
        if row is None:
            raise ChannelError("no Zalo OA access token: enter one in the admin")
        if row.expires_at > timezone.now() + RENEW_MARGIN:
            return row.access_token
        return self._renew(stale=row.access_token)

    def _renew(self, *, stale: str) -> str:
        """A new access token, from the refresh token, stored before it is used. One process
        at a time (the row is locked): a refresh token works once."""
        from assistant.models import ChannelToken

        with transaction.atomic():
            row = ChannelToken.objects.select_for_update().get(channel=self.name)
            if row.access_token != stale and row.expires_at > timezone.now() + RENEW_MARGIN:
                return row.access_token  # renewed by another process meanwhile
            if not row.refresh_token:
                raise ChannelError("the Zalo OA access token expired and there is no refresh token")
            answer = _call(
                "post",
                f"{settings.ZALO_OAUTH_URL}/v4/oa/access_token",
                headers={"secret_key": settings.ZALO_APP_SECRET},
                data={
                    "refresh_token": row.refresh_token,
                    "app_id": settings.ZALO_APP_ID,
                    "grant_type": "refresh_token",
                },
            )
            if not answer.get("access_token"):
                # Only Zalo's error code: its description may quote the token.
                log.warning("Zalo OA token renewal refused: %s", answer.get("error"))
                raise ChannelError(f"Zalo token renewal refused: {answer.get('error')}")
            row.access_token = answer["access_token"]
            row.refresh_token = answer.get("refresh_token") or row.refresh_token
            lifetime = _int(answer.get("expires_in")) or DEFAULT_LIFETIME
            row.expires_at = timezone.now() + timedelta(seconds=lifetime)
            row.save(update_fields=["access_token", "refresh_token", "expires_at", "updated_at"])
            return row.access_token


def signature(body: bytes, timestamp: str) -> str:
    """X-ZEvent-Signature's value (without ``mac=``) for this deployment's app and OA."""
    signed = (
        settings.ZALO_APP_ID.encode()
        + body
        + timestamp.encode()
        + settings.ZALO_OA_SECRET_KEY.encode()
    )
    return hashlib.sha256(signed).hexdigest()


def _int(value: object) -> int:
    try:
        return int(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return 0


def _call(method: str, url: str, **kwargs) -> dict:
    import requests

    try:
        response = requests.request(method, url, timeout=TIMEOUT, **kwargs)
    except requests.RequestException as exc:
        raise ChannelError(f"Zalo unreachable: {type(exc).__name__}") from exc
    status = response.status_code
    if status in (408, 429) or status >= 500:
        raise ChannelError(f"Zalo HTTP {status}")
    if status >= 400:
        raise ChannelError(f"Zalo HTTP {status}", permanent=True)
    try:
        answer = response.json()
    except ValueError:
        answer = None
    if not isinstance(answer, dict):
        raise ChannelError("Zalo answered something other than a JSON object")
    return answer
