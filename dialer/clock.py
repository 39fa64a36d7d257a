"""Time, behind one small seam: the wall clock the ledger reads (``now``) and the monotonic
clock pacing counts on, with its ``sleep`` and the runner's interruptible ``wait``.

Dispatch, the runner and polling read time only through a :class:`Clock`, so tests drive
them with a fake one that never sleeps.
"""

from __future__ import annotations

import threading
import time
from datetime import UTC, datetime
from typing import Protocol


def utcnow() -> datetime:
    """The current instant, aware, in UTC. The only clock read of the ledger's callers."""
    return datetime.now(UTC)


def stored_instant(value: datetime) -> datetime:
    """An instant as the ledger stored it, aware in UTC: SQLite keeps naive UTC, Postgres an
    offset."""
    if value.utcoffset() is None:
        return value.replace(tzinfo=UTC)
    return value.astimezone(UTC)


class Clock(Protocol):
    def now(self) -> datetime:
        """The current instant, timezone-aware UTC (what the ledger records)."""
        ...

    def monotonic(self) -> float:
        """Seconds on a clock that never steps back (what rate-limit slots are counted on)."""
        ...

    def sleep(self, seconds: float) -> None:
        """Block this thread for ``seconds`` of :meth:`monotonic` time."""
        ...

    def wait(self, event: threading.Event, seconds: float) -> bool:
        """Block until ``event`` is set or ``seconds`` pass; whether it is set."""
        ...


class SystemClock:
    """The real clocks."""

    def now(self) -> datetime:
        return utcnow()

    def monotonic(self) -> float:
        return time.monotonic()

    def sleep(self, seconds: float) -> None:
        time.sleep(seconds)

    def wait(self, event: threading.Event, seconds: float) -> bool:
        return event.wait(seconds)
