"""Account rate limits that hold across threads, processes and machines (DESIGN.md §2.4).

Algorithm: GCRA, the generic cell rate algorithm. Per key the limiter stores one number, the
theoretical arrival time (TAT). A request is given a *slot*, the instant it may be sent::

    slot    = max(now, TAT - tolerance)
    TAT'    = max(TAT, now) + interval

Guarantee. The TAT grows by at least ``interval`` per grant and no slot precedes the TAT
before it minus ``tolerance``, so ``n`` slots inside a half-open window of length ``L`` need
``(n - 1)·interval - tolerance < L``.
With burst ``B`` (``tolerance = (B - 1)·interval``) and ``interval = 1 / (R - B + 1)`` that
gives ``n ≤ L·R`` whenever ``L·R`` is whole: at rate ``R`` per second no 1-second window
``[t, t + 1)`` ever holds more than ``R`` slots, at the window edges included. The price of a
burst is sustained rate: ``R - B + 1`` per second. The default ``B = 1`` is strict spacing at
the full rate, which is what a provider's own per-second counter wants to see.

Waiting. ``acquire`` does not poll: one atomic step *reserves* the next slot (taking the token)
and returns how long to sleep until it. That is one Redis round trip per grant, waiters are
served in order, and no slot is lost to a sleeper waking late. ``try_acquire`` takes a token
only when one is free now.

Clocks. :class:`RedisRateLimiter` runs the step as one Lua script on the Redis server's clock
(``TIME``), so machines whose clocks drift still share one timeline; its keys expire once their
TAT has passed. :class:`LocalRateLimiter` runs the same step on ``time.monotonic`` in one
process (embedded mode). Both count in whole microseconds so the bound above is exact. If the
Redis server's clock steps back, grants are only delayed; a step forward lets the next ones
through early by the size of the step.

Errors (both in :mod:`dialer.errors`): ServiceUnavailable, Redis cannot be reached (do not
send, retry later); RateLimitTimeout, no slot within the caller's timeout (nothing reserved).
"""

from __future__ import annotations

import math
import threading
import time
from abc import ABC, abstractmethod
from typing import NamedTuple, Protocol, cast

import redis

from dialer.errors import RateLimitTimeout, ServiceUnavailable

_US = 1_000_000  # microseconds per second: the unit of every GCRA quantity below


class RateLimiter(Protocol):
    """Paces requests per key (an account name) under a rate in requests per second."""

    def acquire(self, key: str, rate_per_second: float, *, timeout: float | None = None) -> float:
        """Block until one request may be sent; return the seconds spent here.

        Raises RateLimitTimeout at once, without taking a token, when the next slot is more
        than ``timeout`` seconds away.
        """
        ...

    def try_acquire(self, key: str, rate_per_second: float) -> float:
        """Take a token if one is free now (return 0.0); else return the seconds until one is,
        taking nothing."""
        ...

    def reserve(self, key: str, rate_per_second: float, *, max_wait: float | None) -> Reservation:
        """Take the next slot for ``key`` if it is at most ``max_wait`` seconds away (None:
        however far); otherwise take nothing. Never sleeps."""
        ...

    def reserve_many(self, key: str, rate_per_second: float, count: int) -> list[float]:
        """Take the next ``count`` slots for ``key`` at once, however far; return the seconds
        from now until each, in order. The same slots as ``count`` calls of ``reserve`` made
        at one instant, in one step. Never sleeps."""
        ...


def gcra_params(rate_per_second: float, burst: int = 1) -> tuple[int, int]:
    """``(interval, tolerance)`` in microseconds for ``rate_per_second`` and ``burst``.

    The interval is rounded up so the bound in the module docstring survives the rounding.
    ValueError unless ``burst >= 1`` and ``rate_per_second > burst - 1`` (finite).
    """
    if burst < 1:
        raise ValueError(f"burst must be at least 1, not {burst}")
    sustained = rate_per_second - (burst - 1)
    if not (math.isfinite(rate_per_second) and sustained > 0):
        raise ValueError(f"rate {rate_per_second!r}/s cannot carry a burst of {burst}")
    interval = max(1, math.ceil(_US / sustained))
    return interval, (burst - 1) * interval


class GcraStep(NamedTuple):
    """The outcome of one GCRA step, in microseconds."""

    granted: bool
    wait: int  # from now until the slot (when refused: the slot that was not taken)
    tat: int  # the TAT to store; the one passed in when refused


def gcra_step(
    tat: int, now: int, *, interval: int, tolerance: int, max_wait: int | None
) -> GcraStep:
    """Reserve the next slot if it is at most ``max_wait`` after ``now`` (None: any slot).

    ``tat`` is the stored TAT, 0 for a key never seen. The Lua script in
    :class:`RedisRateLimiter` is this function, line for line.
    """
    due = max(tat, now)
    wait = max(due - tolerance - now, 0)
    if max_wait is not None and wait > max_wait:
        return GcraStep(granted=False, wait=wait, tat=tat)
    return GcraStep(granted=True, wait=wait, tat=due + interval)


def gcra_steps(tat: int, now: int, *, interval: int, tolerance: int, count: int) -> GcraStep:
    """``count`` granted :func:`gcra_step` calls at one ``now``, in closed form: the returned
    ``wait`` is the first slot's; slot ``i`` (from 0) comes ``i * interval`` after it (never
    before ``now``). The Lua script of :meth:`RedisRateLimiter.reserve_many` is this function.
    """
    due = max(tat, now)
    return GcraStep(granted=True, wait=max(due - tolerance - now, 0), tat=due + count * interval)


def slot_waits(now: int, step: GcraStep, *, interval: int, tolerance: int, count: int) -> list[int]:
    """The wait until each of the ``count`` slots that ``step`` (from :func:`gcra_steps`) took."""
    first = step.tat - count * interval - tolerance
    return [max(first + i * interval - now, 0) for i in range(count)]


class Reservation(NamedTuple):
    """What a limiter decided for one request."""

    granted: bool  # True: the slot is taken and the caller must send at ``at``, not before
    wait: float  # seconds from the decision to the slot
    at: float  # the slot on the limiter's clock: Redis server Unix time, or time.monotonic()


def _max_wait_us(max_wait: float | None) -> int | None:
    return None if max_wait is None else max(0, math.floor(max_wait * _US))


class _Pacer(ABC):
    """``acquire`` and ``try_acquire`` on top of one primitive, :meth:`reserve`."""

    def __init__(self, *, burst: int) -> None:
        if burst < 1:
            raise ValueError(f"burst must be at least 1, not {burst}")
        self._burst = burst

    @abstractmethod
    def reserve(self, key: str, rate_per_second: float, *, max_wait: float | None) -> Reservation:
        """Take the next slot for ``key`` if it is at most ``max_wait`` seconds away
        (None: however far); otherwise take nothing. Never sleeps."""

    @abstractmethod
    def reserve_many(self, key: str, rate_per_second: float, count: int) -> list[float]:
        """See :meth:`RateLimiter.reserve_many`."""

    def acquire(self, key: str, rate_per_second: float, *, timeout: float | None = None) -> float:
        """See :meth:`RateLimiter.acquire`. Sleeps without holding any lock or connection."""
        started = time.monotonic()
        reservation = self.reserve(key, rate_per_second, max_wait=timeout)
        if not reservation.granted:
            assert timeout is not None  # only a bounded wait can be refused
            raise RateLimitTimeout(key, reservation.wait, timeout)
        if reservation.wait > 0:
            time.sleep(reservation.wait)
        return time.monotonic() - started

    def try_acquire(self, key: str, rate_per_second: float) -> float:
        """See :meth:`RateLimiter.try_acquire`."""
        return self.reserve(key, rate_per_second, max_wait=0.0).wait


class LocalRateLimiter(_Pacer):
    """An in-process limiter (embedded mode), safe to share between threads.

    One TAT per key, kept for the limiter's lifetime: keys are account names, so few.
    """

    def __init__(self, *, burst: int = 1) -> None:
        super().__init__(burst=burst)
        self._lock = threading.Lock()
        self._tats: dict[str, int] = {}

    def reserve(self, key: str, rate_per_second: float, *, max_wait: float | None) -> Reservation:
        interval, tolerance = gcra_params(rate_per_second, self._burst)
        limit = _max_wait_us(max_wait)
        with self._lock:
            now = time.monotonic_ns() // 1000
            step = gcra_step(
                self._tats.get(key, 0), now, interval=interval, tolerance=tolerance, max_wait=limit
            )
            if step.granted:
                self._tats[key] = step.tat
        return Reservation(step.granted, step.wait / _US, (now + step.wait) / _US)

    def reserve_many(self, key: str, rate_per_second: float, count: int) -> list[float]:
        interval, tolerance = gcra_params(rate_per_second, self._burst)
        with self._lock:
            now = time.monotonic_ns() // 1000
            step = gcra_steps(
                self._tats.get(key, 0), now, interval=interval, tolerance=tolerance, count=count
            )
            self._tats[key] = step.tat
        waits = slot_waits(now, step, interval=interval, tolerance=tolerance, count=count)
        return [wait / _US for wait in waits]


# gcra_step on the server's clock. Numbers are Lua doubles: exact for integers below 2^53
# (Unix microseconds are ~2^51). SET gets strings because Lua would print 1.7e+15.
# KEYS[1]: the key. ARGV: interval, tolerance, max wait (-1: none), all microseconds.
# Reply: {granted 0/1, wait, now}, microseconds.
_GCRA_LUA = """
local clock = redis.call('TIME')
local now = tonumber(clock[1]) * 1000000 + tonumber(clock[2])
local interval = tonumber(ARGV[1])
local tolerance = tonumber(ARGV[2])
local max_wait = tonumber(ARGV[3])
local due = math.max(tonumber(redis.call('GET', KEYS[1])) or 0, now)
local wait = math.max(due - tolerance - now, 0)
if max_wait >= 0 and wait > max_wait then
  return {0, wait, now}
end
local tat = due + interval
local ttl = math.ceil((tat - now) / 1000)
redis.call('SET', KEYS[1], string.format('%d', tat), 'PX', string.format('%d', ttl))
return {1, wait, now}
"""


# gcra_steps on the server's clock, as _GCRA_LUA. ARGV: interval, tolerance, count.
# Reply: {tat, now}, microseconds, as strings (Lua would turn them into floats).
_GCRA_MANY_LUA = """
local clock = redis.call('TIME')
local now = tonumber(clock[1]) * 1000000 + tonumber(clock[2])
local interval = tonumber(ARGV[1])
local count = tonumber(ARGV[3])
local due = math.max(tonumber(redis.call('GET', KEYS[1])) or 0, now)
local tat = due + count * interval
local ttl = math.ceil((tat - now) / 1000)
redis.call('SET', KEYS[1], string.format('%d', tat), 'PX', string.format('%d', ttl))
return {string.format('%d', tat), string.format('%d', now)}
"""


class RedisRateLimiter(_Pacer):
    """The distributed limiter: every process and machine sharing ``client``'s server and
    ``prefix`` shares each key's pace.

    One EVALSHA per call; needs Redis 5 or later (the script writes after reading ``TIME``).
    Give ``client`` a socket timeout: a hung server otherwise blocks ``acquire`` forever. Any
    Redis error becomes ServiceUnavailable: do not send. (A reply lost after the script ran
    wastes that slot, which only slows the account down.)
    """

    def __init__(
        self,
        client: redis.Redis[bytes] | redis.Redis[str],
        *,
        prefix: str = "dialer:rate:",
        burst: int = 1,
    ) -> None:
        super().__init__(burst=burst)
        self._prefix = prefix
        self._script = client.register_script(_GCRA_LUA)
        self._many = client.register_script(_GCRA_MANY_LUA)

    def reserve(self, key: str, rate_per_second: float, *, max_wait: float | None) -> Reservation:
        interval, tolerance = gcra_params(rate_per_second, self._burst)
        limit = _max_wait_us(max_wait)
        try:
            reply = self._script(
                keys=[self._prefix + key],
                args=[interval, tolerance, -1 if limit is None else limit],
            )
        except redis.RedisError as exc:
            raise ServiceUnavailable(_redis_failure(exc)) from exc
        granted, wait, now = cast(list[int], reply)
        return Reservation(bool(granted), wait / _US, (now + wait) / _US)

    def reserve_many(self, key: str, rate_per_second: float, count: int) -> list[float]:
        interval, tolerance = gcra_params(rate_per_second, self._burst)
        try:
            reply = self._many(keys=[self._prefix + key], args=[interval, tolerance, count])
        except redis.RedisError as exc:
            raise ServiceUnavailable(_redis_failure(exc)) from exc
        tat, now = (int(value) for value in cast(list[bytes], reply))
        step = GcraStep(granted=True, wait=0, tat=tat)
        waits = slot_waits(now, step, interval=interval, tolerance=tolerance, count=count)
        return [wait / _US for wait in waits]


def _redis_failure(exc: redis.RedisError) -> str:
    # redis-py messages name host and port, never the password; keep the first line.
    detail = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
    return f"rate limiter: Redis failed: {detail}"
