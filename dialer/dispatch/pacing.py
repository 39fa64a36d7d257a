"""Pacing: an account's rate-limit slots for a batch, and waiting for one.

Each request gets a *slot* of the account's global rate limiter (:mod:`dialer.ratelimit`), the
instant it may leave, counted here on the clock's monotonic time. :data:`BEGIN_LEAD` and
:data:`SEND_JITTER` are what the protocol's order rests on (see
:mod:`dialer.dispatch.protocol`).

Capacity (concurrent-call places, issue 12) belongs here too: a reservation will take the
account's places together with its slots, in one round trip, and a :class:`Slot` will carry
the place its answer gives back. Only rate is paced today.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from dialer.clock import Clock
from dialer.ratelimit import RateLimiter
from dialer.settings import AccountConfig

SEND_JITTER = 0.025
"""How much later than its rate-limit slot a request may leave, in seconds."""
BEGIN_LEAD = 0.1
"""How long before its slot a call begins, in seconds: enough for the begin's commit."""


@dataclass(frozen=True, slots=True)
class Slot:
    """When one request may leave (``at``, on the clock's monotonic time) and how long it
    waited for the rate limit when reserved."""

    at: float
    wait_ms: int


def pace(account: AccountConfig) -> float | None:
    """The rate the limiter paces ``account`` at: :data:`SEND_JITTER` slower than its own, so
    a request up to that late still never puts more than the rate into any one-second
    window. None when the account has no rate limit and the limiter is never asked."""
    if math.isinf(account.rate_per_second):
        return None
    return account.rate_per_second / (1 + SEND_JITTER)


class Pacer:
    """One account's slots, from the process's limiter, on the process's clock."""

    def __init__(self, limiter: RateLimiter, clock: Clock, account: AccountConfig) -> None:
        self._limiter = limiter
        self._clock = clock
        self._key = account.name
        self._rate = pace(account)

    def reserve(self, count: int) -> list[Slot]:
        """The next ``count`` slots, in order, all in one step. Raises ServiceUnavailable when
        the limiter cannot be reached (nothing reserved)."""
        if self._rate is None:
            waits = [0.0] * count
        else:
            waits = self._limiter.reserve_many(self._key, self._rate, count)
        # Counted from the answer, not the question: slots estimated late by the round trip
        # at worst, never early.
        reserved = self._clock.monotonic()
        return [Slot(reserved + wait, round(wait * 1000)) for wait in waits]

    def await_slot(self, slot: Slot) -> None:
        """Return at ``slot``; past it by more than :data:`SEND_JITTER` (a busy machine), only
        at a fresh slot, so a late request cannot crowd the next one's. Raises
        ServiceUnavailable when a fresh slot is needed and the limiter cannot be reached."""
        sleep_until(self._clock, slot.at)
        if self._rate is not None and self._clock.monotonic() - slot.at > SEND_JITTER:
            fresh = self._limiter.reserve(self._key, self._rate, max_wait=None)
            sleep_until(self._clock, self._clock.monotonic() + fresh.wait)


def sleep_until(clock: Clock, moment: float) -> None:
    """Sleep until ``moment`` on ``clock``'s monotonic time (at once if it has passed)."""
    delay = moment - clock.monotonic()
    if delay > 0:
        clock.sleep(delay)
