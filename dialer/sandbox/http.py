"""HTTP/1.1 over asyncio streams with h11: one task per connection, keep-alive, and the two
ways the sandbox misbehaves on purpose.

A handler receives a complete :class:`Request` and returns a :class:`Response` or a
:class:`Misbehaviour`: ``HANG`` reads on and never answers (until the client gives up and closes),
``DROP`` closes the connection without a byte of answer, after the whole request was read — so
the client knows its request left and cannot know what became of it.
"""

from __future__ import annotations

import asyncio
import contextlib
import enum
import json
import sys
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field, replace
from http import HTTPStatus
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import h11

MAX_BODY_BYTES = 1 << 20
_READ_CHUNK = 1 << 16


@dataclass(frozen=True, slots=True)
class Request:
    """One complete request. Header names are lower-case; repeated headers are joined by ", ".

    ``content_type`` is the media type alone, lower-case, without parameters such as charset.
    """

    method: str
    target: str
    headers: Mapping[str, str]
    body: bytes
    path: str = field(init=False)
    content_type: str = field(init=False)

    def __post_init__(self) -> None:
        media_type = self.headers.get("content-type", "").split(";")[0].strip().lower()
        object.__setattr__(self, "path", urlsplit(self.target).path)
        object.__setattr__(self, "content_type", media_type)

    @property
    def query(self) -> dict[str, str]:
        return dict(parse_qsl(urlsplit(self.target).query))


Body = tuple[str, Any]
"""A decoded request body: ``("json", value)``, ``("form", dict)`` or ``("body", text)``."""

_MAX_TEXT = 10_000


def decode_body(request: Request) -> Body:
    """Decode by Content-Type; an empty body is JSON ``None``, anything undecodable is text
    (the first 10 000 characters of it)."""
    if not request.body:
        return ("json", None)
    text = request.body.decode("utf-8", errors="replace")
    if request.content_type == "application/json":
        try:
            return ("json", json.loads(text))
        except (ValueError, RecursionError):  # RecursionError: absurdly deep nesting
            pass
    elif request.content_type == "application/x-www-form-urlencoded":
        return ("form", dict(parse_qsl(text, keep_blank_values=True)))
    return ("body", text[:_MAX_TEXT])


@dataclass(frozen=True, slots=True)
class Response:
    status: int
    body: bytes = b""
    headers: tuple[tuple[str, str], ...] = ()

    @classmethod
    def json(cls, status: int, payload: Any) -> Response:
        body = json.dumps(payload, separators=(",", ":")).encode()
        return cls(status, body, (("content-type", "application/json"),))

    def with_header(self, name: str, value: str) -> Response:
        return replace(self, headers=(*self.headers, (name, value)))


class Misbehaviour(enum.Enum):
    HANG = "hang"
    DROP = "drop"


Reply = Response | Misbehaviour
Handler = Callable[[Request], Awaitable[Reply]]


class _BodyTooLarge(Exception):
    pass


async def serve_connection(
    reader: asyncio.StreamReader, writer: asyncio.StreamWriter, handler: Handler
) -> None:
    """Answer requests on one connection until either side closes it or a handler misbehaves."""
    conn = h11.Connection(h11.SERVER)
    try:
        while True:
            try:
                request = await _read_request(conn, reader)
            except h11.RemoteProtocolError as exc:
                await _send_error(conn, writer, exc.error_status_hint)
                return
            except _BodyTooLarge:
                await _send_error(conn, writer, HTTPStatus.REQUEST_ENTITY_TOO_LARGE)
                return
            if request is None:
                return
            reply = await handler(request)
            if reply is Misbehaviour.DROP:
                return
            if reply is Misbehaviour.HANG:
                await _read_until_eof(reader)
                return
            await _send(conn, writer, reply)
            if conn.our_state is not h11.DONE or conn.their_state is not h11.DONE:
                return  # the client asked to close (HTTP/1.0, Connection: close)
            conn.start_next_cycle()
    except ConnectionError:
        return
    finally:
        writer.close()
        with contextlib.suppress(ConnectionError):
            await writer.wait_closed()


async def _read_request(conn: h11.Connection, reader: asyncio.StreamReader) -> Request | None:
    """The next complete request, or None when the client closed the connection between requests."""
    head: h11.Request | None = None
    body = bytearray()
    while True:
        event = conn.next_event()
        if event is h11.NEED_DATA:
            conn.receive_data(await reader.read(_READ_CHUNK))
        elif isinstance(event, h11.Request):
            head = event
        elif isinstance(event, h11.Data):
            body += event.data
            if len(body) > MAX_BODY_BYTES:
                raise _BodyTooLarge
        elif isinstance(event, h11.EndOfMessage) and head is not None:
            headers: dict[str, str] = {}
            for name, value in head.headers:
                # Interned: the names repeat in every request, and the journal keeps many.
                key, text = sys.intern(name.decode("latin-1")), value.decode("latin-1")
                headers[key] = f"{headers[key]}, {text}" if key in headers else text
            return Request(
                head.method.decode("ascii"), head.target.decode("latin-1"), headers, bytes(body)
            )
        else:  # ConnectionClosed; PAUSED cannot happen as each cycle ends before the next read
            return None


async def _send(conn: h11.Connection, writer: asyncio.StreamWriter, response: Response) -> None:
    headers = [("content-length", str(len(response.body))), *response.headers]
    reason = HTTPStatus(response.status).phrase.encode() if response.status in _KNOWN else b""
    head = h11.Response(status_code=response.status, headers=headers, reason=reason)
    events = (head, h11.Data(data=response.body), h11.EndOfMessage())
    # One write, one segment: a head and body sent apart cost twice the syscalls (dear on a VM).
    writer.write(b"".join(conn.send(event) or b"" for event in events))
    await writer.drain()


_KNOWN = frozenset(status.value for status in HTTPStatus)


async def _send_error(conn: h11.Connection, writer: asyncio.StreamWriter, status: int) -> None:
    """Answer a request h11 could not parse, when the connection state still allows it."""
    if conn.our_state not in {h11.IDLE, h11.SEND_RESPONSE}:
        return
    response = Response.json(status, {"error": HTTPStatus(status).phrase})
    with contextlib.suppress(h11.LocalProtocolError):
        await _send(conn, writer, response.with_header("connection", "close"))


async def _read_until_eof(reader: asyncio.StreamReader) -> None:
    while await reader.read(_READ_CHUNK):
        pass
