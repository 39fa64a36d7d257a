"""Pacing: an account's rate-limit slots for a batch, and waiting for one.

Each request gets a *slot* of the account's global rate limiter (:mod:`dialer.ratelimit`), the
instant it may leave, counted here on the clock's monotonic time. :data:`BEGIN_LEAD` and
:data:`SEND_JITTER` are what the protocol's order rests on (see
:mod:`dialer.dispatch.protocol`).

Capacity (:mod:`dialer.capacity`) is reserved here too: a reservation takes the account's
concurrent-call places together with its slots, in one step of the account gate, and only as
many as the account may start now (none while it is held or its breaker is open, but a due
probe). A :class:`Slot` carries its place, named by the call's attempt key; :meth:`Pacer.settle`
gives it back when the answer proves nothing was placed, and tells the gate what the answer
says about the account.
"""

from __future__ import annotations

import logging
import math
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, replace

from dialer.capacity.gate import Gate, Limits, LocalGate
from dialer.clock import Clock
from dialer.dispatch.answers import Answer
from dialer.errors import ServiceUnavailable
from dialer.models import ContactState
from dialer.ratelimit import RateLimiter
from dialer.settings import AccountConfig

log = logging.getLogger("dialer.dialing")

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
    key: str = ""
    """The call's attempt key, which names its place."""
    probe: bool = False
    """The one request let through while the account's breaker is open."""


def pace(account: AccountConfig) -> float | None:
    """The rate the limiter paces ``account`` at: :data:`SEND_JITTER` slower than its own, so
    a request up to that late still never puts more than the rate into any one-second
    window. None when the account has no rate limit and the limiter is never asked."""
    if math.isinf(account.rate_per_second):
        return None
    return account.rate_per_second / (1 + SEND_JITTER)


def limits(account: AccountConfig) -> Limits:
    """What the account gate holds ``account`` to."""
    return Limits(cap=account.concurrent_calls, lease=account.call_lease, rate=pace(account))


class Pacer:
    """One account's slots and places, from the process's limiter and account gate (by
    default one of its own, in process), on the process's clock."""

    def __init__(
        self, limiter: RateLimiter, clock: Clock, account: AccountConfig, gate: Gate | None = None
    ) -> None:
        self._limiter = limiter
        self._clock = clock
        self._key = account.name
        self._rate = pace(account)
        self._limits = limits(account)
        self._gate = gate or LocalGate(limiter, clock.monotonic)

    def reserve(self, count: int) -> list[Slot]:
        """Slots for the first of ``count`` calls that the account may start now, in order,
        each with its place, all in one step (fewer than ``count``, or none, when places run
        short or the account is held or open). Raises ServiceUnavailable when the gate cannot
        be reached (nothing reserved)."""
        keys = [str(uuid.uuid4()) for _ in range(count)]
        admission = self._gate.admit(self._key, keys, self._limits)
        # Counted from the answer, not the question: slots estimated late by the round trip
        # at worst, never early.
        reserved = self._clock.monotonic()
        return [
            Slot(reserved + wait, round(wait * 1000), key, admission.probe)
            for wait, key in zip(admission.waits, keys, strict=False)
        ]

    def give_back(self, slots: Sequence[Slot]) -> None:
        """The places of calls that never began or were never sent. Never raises: with the
        gate unreachable, the places come back at their lease."""
        if self._limits.cap is not None and slots:
            try:
                self._gate.give_back(self._key, [slot.key for slot in slots])
            except ServiceUnavailable as exc:
                log.warning("%d places not given back, free at their lease: %s", len(slots), exc)

    def settle(self, slot: Slot, answer: Answer) -> Answer:
        """Tell the gate what ``answer`` says about the account and give its place back unless
        a call may be in progress (placed: until its outcome; unknown: until its lease). A
        retryable failure while the account's breaker is open, or a 429 that holds it, is the
        account's, not the contact's: the contact goes back to ``pending`` without spending
        its budget."""
        state = answer.result.state
        if state == ContactState.UNKNOWN:
            return answer
        if state != ContactState.PLACED:
            self.give_back([slot])
        try:
            verdict = self._gate.report(
                self._key, ok=not answer.retryable, probe=slot.probe, hold_for=answer.hold_for
            )
        except ServiceUnavailable as exc:
            # The answer itself must still be recorded as it is.
            log.warning("account gate not told of an answer: %s", exc)
            return answer
        # Another contact's failure during a hold may still be this number's own.
        throttled = verdict.held and answer.result.http_status == 429
        if not (answer.retryable and (verdict.breaker_open or throttled)):
            return answer
        result = replace(
            answer.result,
            state=ContactState.PENDING,
            error=f"account unavailable, not counted: {answer.result.error}",
            refunded=True,
        )
        return replace(answer, result=result)

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
