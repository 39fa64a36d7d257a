"""Calls the sandbox has "placed", so status polls and webhooks can tell how they went.

A call is ``calling`` for the configured duration after it was placed, then ends in its
outcome (the configured outcome for its number, else ``completed``). Status is computed from the
clock when asked, so no timer runs per call. The book is bounded like a real provider's
retention: the oldest calls are forgotten first.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, Literal

from dialer.sandbox.config import Outcome, SandboxConfig

CallStatus = Literal["calling"] | Outcome
MAX_CALLS = 100_000


@dataclass(frozen=True, slots=True)
class PlacedCall:
    """``started``/``ends`` are monotonic seconds; ``started_at`` is the wall clock (UTC)."""

    kind: str
    call_id: str
    phone: str
    outcome: Outcome
    started: float
    ends: float
    started_at: datetime
    details: Mapping[str, Any] = field(default_factory=dict)

    def status(self, now: float) -> CallStatus:
        return "calling" if now < self.ends else self.outcome

    def ended_at(self, now: float) -> datetime | None:
        if now < self.ends:
            return None
        return self.started_at + timedelta(seconds=self.ends - self.started)


def new_call(
    *,
    kind: str,
    call_id: str,
    phone: str,
    config: SandboxConfig,
    now: float,
    details: Mapping[str, Any] | None = None,
) -> PlacedCall:
    """A call placed at monotonic ``now``, lasting and ending as ``config`` says for ``phone``."""
    return PlacedCall(
        kind=kind,
        call_id=call_id,
        phone=phone,
        outcome=config.outcomes.get(phone, "completed"),
        started=now,
        ends=now + config.call_duration_ms / 1000,
        started_at=datetime.now(UTC),
        details=details or {},
    )


class CallBook:
    def __init__(self, limit: int = MAX_CALLS) -> None:
        self._calls: OrderedDict[str, PlacedCall] = OrderedDict()
        self._limit = limit

    def add(self, call: PlacedCall) -> None:
        self._calls[call.call_id] = call
        while len(self._calls) > self._limit:
            self._calls.popitem(last=False)

    def get(self, kind: str, call_id: str) -> PlacedCall | None:
        """The call ``call_id`` if this provider kind placed it."""
        call = self._calls.get(call_id)
        return call if call is not None and call.kind == kind else None
