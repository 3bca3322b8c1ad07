"""What the Zalo OA tests share: the recorded webhook events (zalo_events.json), the signature
as Zalo computes it, and a fake Zalo (open API and OAuth) on a local port, standing in for the
outside world.

The fake answers as Zalo does unless a test scripts its next answers: a customer-service message
sent with the access token it issued last is accepted (error 0 and a message id), any other token
gets error -216; the refresh token it issued last buys a new pair (and is spent), anything else
is refused without an access token."""

from __future__ import annotations

import copy
import hashlib
import json
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs

APP_ID = "1430713391526402517"
APP_SECRET = "Zx9fQp2LmA7cVt4RkW1s"
OA_SECRET_KEY = "oa-Secret-7Hc2Jd9KxQ4mPz"
SENDER = "2512523625412515682"  # sender.id of the events: the user's id in the OA
USER_ID_BY_APP = "5414703565958186958"
MESSAGE_PATH = "/v3.0/oa/message/cs"
TOKEN_PATH = "/v4/oa/access_token"
# How long Zalo says a new access token lasts (it answers the number as a string).
EXPIRES_IN = 90000
# Zalo's OAuth answer to a refresh token it does not take (an error, no access token).
RENEWAL_REFUSED = {
    "error": -14014,
    "error_name": "Invalid parameter",
    "error_reason": "Invalid refresh_token",
    "error_description": "refresh_token is invalid or expired",
}

EVENTS: dict[str, dict] = json.loads(
    (Path(__file__).parent / "zalo_events.json").read_text(encoding="utf-8")
)


def event(name: str, **message: object) -> dict:
    """A recorded event, a copy; ``message`` changes fields of its ``message``."""
    recorded = copy.deepcopy(EVENTS[name])
    recorded.setdefault("message", {}).update(message)
    if not recorded["message"]:
        del recorded["message"]
    return recorded


def body_of(recorded: dict) -> bytes:
    """The event as Zalo posts it: JSON, UTF-8, Vietnamese unescaped."""
    return json.dumps(recorded, ensure_ascii=False).encode()


def zalo_signature(
    body: bytes, timestamp: str, *, app_id: str = APP_ID, key: str = OA_SECRET_KEY
) -> str:
    """X-ZEvent-Signature as Zalo documents it: "mac=" + sha256 hex of the app id, the raw body,
    the event's timestamp and the OA secret key, concatenated."""
    return (
        "mac="
        + hashlib.sha256(app_id.encode() + body + timestamp.encode() + key.encode()).hexdigest()
    )


@dataclass(frozen=True)
class ZaloRequest:
    method: str
    path: str
    headers: dict[str, str]
    json: object  # a JSON body, else None
    form: dict[str, str]  # a form body, else {}


@dataclass(frozen=True)
class Delivered:
    """A customer-service message Zalo accepted."""

    recipient: str
    text: str
    access_token: str
    message_id: str


@dataclass
class FakeZalo:
    url: str = ""
    requests: list[ZaloRequest] = field(default_factory=list)
    delivered: list[Delivered] = field(default_factory=list)
    # The next answers of a path, (HTTP status, JSON object or raw bytes), used once each.
    script: dict[str, list[tuple[int, object]]] = field(
        default_factory=lambda: {MESSAGE_PATH: [], TOKEN_PATH: []}
    )
    access_token: str = ""  # the access token Zalo takes now
    refresh_token: str = ""  # the refresh token it renews now
    # Set ``hold``: the next message request waits (``holding`` set) until ``release()``.
    hold: bool = False
    holding: threading.Event = field(default_factory=threading.Event)
    released: threading.Event = field(default_factory=threading.Event)
    issued: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)

    def knows(self, *, access_token: str, refresh_token: str) -> None:
        self.access_token, self.refresh_token = access_token, refresh_token

    def answer_next(self, path: str, status: int, body: object) -> None:
        self.script[path].append((status, body))

    def release(self) -> None:
        self.released.set()

    def of(self, path: str) -> list[ZaloRequest]:
        with self.lock:
            return [r for r in self.requests if r.path == path]

    def delivered_now(self) -> list[Delivered]:
        with self.lock:
            return list(self.delivered)

    def handle(self, request: ZaloRequest) -> tuple[int, object]:
        with self.lock:
            self.requests.append(request)
            scripted = self.script.get(request.path)
            answer = scripted.pop(0) if scripted else None
            held = request.path == MESSAGE_PATH and self.hold
            if held:
                self.hold = False
        if held:
            self.holding.set()
            self.released.wait(60)
        with self.lock:
            if answer is not None:
                return answer
            if request.path == MESSAGE_PATH:
                return self._message(request)
            if request.path == TOKEN_PATH:
                return self._renewal(request)
            return 404, {"error": 404, "message": "Not found"}

    def _message(self, request: ZaloRequest) -> tuple[int, object]:
        token = request.headers.get("access_token", "")
        if not token or token != self.access_token:
            return 200, {"error": -216, "message": "Access token is invalid"}
        body = request.json
        message_id = f"3b7c{len(self.delivered) + 1:016x}"
        self.delivered.append(
            Delivered(body["recipient"]["user_id"], body["message"]["text"], token, message_id)
        )
        return 200, {
            "error": 0,
            "message": "Success",
            "data": {"message_id": message_id, "user_id": body["recipient"]["user_id"]},
        }

    def _renewal(self, request: ZaloRequest) -> tuple[int, object]:
        form = request.form
        if (
            request.headers.get("secret_key") != APP_SECRET
            or form.get("app_id") != APP_ID
            or form.get("grant_type") != "refresh_token"
            or not form.get("refresh_token")
            or form.get("refresh_token") != self.refresh_token
        ):
            return 200, RENEWAL_REFUSED
        self.issued += 1
        self.access_token = f"zalo-access-{self.issued}"
        self.refresh_token = f"zalo-refresh-{self.issued}"
        return 200, {
            "access_token": self.access_token,
            "refresh_token": self.refresh_token,
            "expires_in": str(EXPIRES_IN),
        }


def serve_fake_zalo() -> Iterator[FakeZalo]:
    """Start a fake Zalo on 127.0.0.1 (a fixture's body: yields it, stops it afterwards)."""
    zalo = FakeZalo()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            raw = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            kind = self.headers.get("Content-Type", "")
            request = ZaloRequest(
                method=self.command,
                path=self.path,
                headers=dict(self.headers.items()),
                json=json.loads(raw) if "json" in kind and raw else None,
                form=(
                    {k: v[0] for k, v in parse_qs(raw.decode(), keep_blank_values=True).items()}
                    if "x-www-form-urlencoded" in kind
                    else {}
                ),
            )
            status, body = zalo.handle(request)
            payload = body if isinstance(body, bytes) else json.dumps(body).encode()
            try:
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)
            except OSError:
                pass  # the client gave up

        do_GET = do_POST

        def log_message(self, format: str, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, args=(0.01,), daemon=True)
    thread.start()
    zalo.url = f"http://127.0.0.1:{server.server_address[1]}"
    try:
        yield zalo
    finally:
        zalo.release()
        server.shutdown()
        server.server_close()
        thread.join(5)
