"""The record of every request the provider routes received, faulted ones included.

Entries keep the request as it arrived and are decoded to JSON only when listed, so each costs
little more than the request itself: about 1.5 KB for a typical call request, some 150 MB at the
default bound of 100 000. Past the bound the oldest go, so a long dry run does not grow memory
forever. Requests are kept whole; when listed, credentials are masked (``Authorization: Bearer
****``, ``x-api-key: ****``, a form's ``client_secret``...) unless the caller asks for them
with ``?credentials=show`` (tests asserting exact requests do), so the request log shows no key.
"""

from __future__ import annotations

import itertools
from collections import deque
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from dialer.sandbox.http import Request, decode_body


@dataclass(slots=True)
class Entry:
    """One request. ``fault`` is the rule action applied, ``status`` the status answered (None
    while unanswered, and for ``hang`` and ``drop``)."""

    seq: int
    received_at: datetime
    route: str | None
    request: Request
    phone: str | None
    fault: str | None = None
    status: int | None = None

    def to_json(self, *, show_credentials: bool = False) -> dict[str, Any]:
        """``json``, ``form`` or ``body`` (text) holds the body, by its Content-Type;
        credentials masked unless ``show_credentials``."""
        key, value = decode_body(self.request)
        headers = dict(self.request.headers)
        if not show_credentials:
            headers = {name: _masked_header(name, text) for name, text in headers.items()}
            if key == "form" and isinstance(value, dict):
                value = {n: MASK if n in CREDENTIAL_FIELDS else v for n, v in value.items()}
        return {
            "seq": self.seq,
            "received_at": self.received_at.isoformat(),
            "route": self.route,
            "method": self.request.method,
            "path": self.request.path,
            "headers": headers,
            key: value,
            "phone": self.phone,
            "fault": self.fault,
            "status": self.status,
        }


MASK = "****"
CREDENTIAL_HEADERS = frozenset(
    {"authorization", "x-api-key", "x-polyai-auth-token", "x-workspace-id"}
)
CREDENTIAL_FIELDS = frozenset({"client_secret"})


def _masked_header(name: str, text: str) -> str:
    if name not in CREDENTIAL_HEADERS:
        return text
    scheme, space, _ = text.partition(" ")
    return f"{scheme} {MASK}" if space and name == "authorization" else MASK


class Journal:
    def __init__(self, limit: int) -> None:
        self._entries: deque[Entry] = deque(maxlen=limit)
        self._seq = itertools.count(1)

    def record(self, request: Request, *, route: str | None, phone: str | None) -> Entry:
        """Append an entry and return it, so the caller can fill in ``fault`` and ``status``."""
        entry = Entry(next(self._seq), datetime.now(UTC), route, request, phone)
        self._entries.append(entry)
        return entry

    def select(self, *, phone: str | None = None, route: str | None = None) -> list[Entry]:
        return [
            entry
            for entry in self._entries
            if (phone is None or entry.phone == phone) and (route is None or entry.route == route)
        ]

    def clear(self) -> int:
        count = len(self._entries)
        self._entries.clear()
        return count

    def resize(self, limit: int) -> None:
        if limit != self._entries.maxlen:
            self._entries = deque(self._entries, maxlen=limit)
