"""A real webhook receiver for the tests: an HTTP server in a thread that verifies every request
with ``standardwebhooks`` (the specification's library, not ours), dedupes on ``webhook-id``
like a careful receiver, and misbehaves on purpose.

``modes(message_id, n)`` says how to answer the ``n``-th request (0-based) carrying an id:
``ok`` (200), ``500``, ``400``, ``429`` (``Retry-After: 1``), ``hang`` (process the event, then
answer only after the client gave up) or ``drop`` (close the connection without an answer).
"""

from __future__ import annotations

import random
import socket
import threading
import time
from collections import Counter
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from standardwebhooks.webhooks import Webhook, WebhookVerificationError

SECRET = "whsec_" + "MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSwFz1NdkbqbZQ="


def flaky(message_id: str, n: int) -> str:
    """500 half the time, hangs or drops a tenth of the time each, else 200; the same answers
    for the same id and try, whatever the order the tries arrive in."""
    draw = random.Random(f"{message_id}:{n}").random()
    if draw < 0.5:
        return "500"
    if draw < 0.6:
        return "hang"
    if draw < 0.7:
        return "drop"
    return "ok"


def fails_first(message_id: str, n: int) -> str:
    """The first try of every id fails (500, hang or drop, by the id), every later one works:
    misbehaviour whose retries fit a test run in real time."""
    return ("500", "hang", "drop")[random.Random(message_id).randrange(3)] if n == 0 else "ok"


def always(mode: str) -> Callable[[str, int], str]:
    return lambda _id, _n: mode


class Receiver:
    def __init__(
        self,
        modes: Callable[[str, int], str] = always("ok"),
        *,
        secret: str = SECRET,
        hang_seconds: float = 1.0,
    ) -> None:
        self.modes = modes
        self.hang_seconds = hang_seconds
        self.verifier = Webhook(secret)
        self.lock = threading.Lock()
        self.tries: Counter[str] = Counter()
        self.processed: dict[str, dict[str, Any]] = {}
        self.duplicates: Counter[str] = Counter()
        self.acknowledged: Counter[str] = Counter()
        self.bad_signatures = 0
        self.headers: list[dict[str, str]] = []
        self.hung = threading.Event()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self._server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}/hooks"
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    def __enter__(self) -> Receiver:
        self._thread.start()
        return self

    def __exit__(self, *_exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()

    def _handle(self, handler: BaseHTTPRequestHandler) -> None:
        body = handler.rfile.read(int(handler.headers.get("content-length", "0")))
        headers = {key.lower(): value for key, value in handler.headers.items()}
        try:
            payload = self.verifier.verify(body, headers)
        except WebhookVerificationError:
            with self.lock:
                self.bad_signatures += 1
            self._answer(handler, 401)
            return
        message_id = headers["webhook-id"]
        with self.lock:
            n = self.tries[message_id]
            self.tries[message_id] += 1
            self.headers.append(headers)
        mode = self.modes(message_id, n)
        if mode == "drop":
            handler.close_connection = True
            handler.connection.shutdown(socket.SHUT_RDWR)
            return
        if mode in ("500", "400"):
            self._answer(handler, int(mode))
            return
        if mode == "429":
            self._answer(handler, 429, {"Retry-After": "1"})
            return
        self._process(message_id, payload)
        if mode == "hang":
            self.hung.set()
            time.sleep(self.hang_seconds)
            self._answer(handler, 200)
            return
        with self.lock:
            self.acknowledged[message_id] += 1
        self._answer(handler, 200)

    def _process(self, message_id: str, payload: dict[str, Any]) -> None:
        with self.lock:
            if message_id in self.processed:
                self.duplicates[message_id] += 1
            else:
                self.processed[message_id] = payload

    @staticmethod
    def _answer(
        handler: BaseHTTPRequestHandler, status: int, headers: dict[str, str] | None = None
    ) -> None:
        try:
            handler.send_response(status)
            for key, value in (headers or {}).items():
                handler.send_header(key, value)
            handler.send_header("content-length", "0")
            handler.end_headers()
        except OSError:
            pass  # the client gave up (a hang): nothing to answer

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                receiver._handle(self)

            def log_message(self, format: str, *args: Any) -> None:
                pass

        return Handler
