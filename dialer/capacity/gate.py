"""The account gate: how many calls an account may start now, and what its answers say about it.

Three things, per account, checked together with the rate limit when a batch reserves:

- **Places** (``concurrent_calls``). A call takes a place, named by its attempt key, before
  its request leaves, and holds it until its lease (``call_lease``) runs out unless it is
  given back first: when the answer proves nothing was placed, or a final outcome arrives.
  Expired places are pruned before every count, so a killed worker's places come back by
  lease expiry alone.
- **Hold**. A ``429`` with ``Retry-After`` holds the whole account until then: no place is
  granted meanwhile.
- **Breaker**. :data:`BREAKER_FAILURES` retryable failures in a row (5xx, 429, connection
  refused; any success resets the count) open it. While open, one *probe* request is let
  through when due; the next one is due :data:`FIRST_PROBE` seconds after opening, doubling
  after each failed probe up to :data:`LAST_PROBE`. The first success closes it.

:class:`LocalGate` keeps this in the process, on the service's clock; :mod:`.redis_gate`
keeps it in Redis on the server's clock, global. Both follow the functions here.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:  # status reads the gate without importing Redis's client
    from dialer.ratelimit import RateLimiter

BREAKER_FAILURES = 5
"""Retryable failures in a row, across the account's calls, that open its breaker."""
FIRST_PROBE = 2.0
"""Seconds from the breaker opening to its first probe."""
LAST_PROBE = 60.0
"""The longest wait between two probes, in seconds."""


@dataclass(frozen=True, slots=True)
class Limits:
    """What bounds one account: ``cap`` calls at once (None: no cap), each holding its place
    at most ``lease`` seconds, and ``rate`` requests per second as the limiter paces them
    (None: no rate limit)."""

    cap: int | None
    lease: float
    rate: float | None


@dataclass(frozen=True, slots=True)
class Admission:
    """What a reservation got: a rate-limit wait (seconds from now) for each call granted, in
    order (the first ``len(waits)`` keys asked for hold places); ``probe`` when the account's
    breaker is open and this one call is its probe."""

    waits: list[float]
    probe: bool = False


@dataclass(frozen=True, slots=True)
class Verdict:
    """What an answer showed about the account: its breaker is open, or it is held."""

    breaker_open: bool
    held: bool

    @property
    def account_wide(self) -> bool:
        """The account cannot take calls now."""
        return self.breaker_open or self.held


@dataclass(frozen=True, slots=True)
class AccountState:
    """One account's capacity now, for status, the API and metrics. Durations in seconds;
    None where they do not apply."""

    in_progress: int
    cap: int | None
    open_for: float | None = None
    next_probe_in: float | None = None
    held_for: float | None = None
    held_seconds_total: float = 0.0
    outage_for: float | None = None
    """How long the breaker has been open since it opened or last paused the campaigns."""

    @property
    def startable(self) -> int | None:
        """How many calls may start now (None: as many as the rate allows)."""
        if self.held_for is not None:
            return 0
        if self.open_for is not None:
            return 1 if (self.next_probe_in or 0.0) <= 0 else 0
        return None if self.cap is None else max(0, self.cap - self.in_progress)


class Gate(Protocol):
    """An account gate (see the module docstring). Methods raise ServiceUnavailable when the
    gate's store cannot be reached."""

    def admit(self, account: str, keys: Sequence[str], limits: Limits) -> Admission:
        """Places for as many of ``keys`` as may start now, and their rate slots, in one step."""
        ...

    def give_back(self, account: str, keys: Sequence[str]) -> None:
        """The calls named by ``keys`` are over (or never began): their places are free."""
        ...

    def report(
        self, account: str, *, ok: bool, probe: bool = False, hold_for: float | None = None
    ) -> Verdict:
        """One answer: ``ok`` (placed), or a retryable failure, held ``hold_for`` seconds by
        Retry-After when given."""
        ...

    def state(self, account: str, limits: Limits) -> AccountState:
        """The account's capacity now."""
        ...

    def note_pause(self, account: str) -> None:
        """The account's campaigns were paused for its outage: ``outage_for`` counts anew, so
        campaigns resumed while it lasts pause again only after another full wait."""
        ...


@dataclass
class _Account:
    places: dict[str, float] = field(default_factory=dict)  # key -> lease expiry
    failures: int = 0
    open_since: float | None = None
    next_probe: float = 0.0
    probe_every: float = FIRST_PROBE
    held_until: float = 0.0
    held_total: float = 0.0
    paused_at: float = 0.0


class LocalGate:
    """The gate of one process (embedded mode), on ``monotonic`` time; rate slots come from
    ``limiter``; an open breaker's first probe is due ``first_probe`` seconds after it opens
    (a test against a real server sets it shorter to see several probes in little time).
    Safe to share between threads."""

    def __init__(
        self,
        limiter: RateLimiter,
        monotonic: Callable[[], float],
        *,
        first_probe: float = FIRST_PROBE,
    ) -> None:
        self._limiter = limiter
        self._monotonic = monotonic
        self._first_probe = first_probe
        self._lock = threading.Lock()
        self._accounts: dict[str, _Account] = {}

    def admit(self, account: str, keys: Sequence[str], limits: Limits) -> Admission:
        with self._lock:
            now = self._monotonic()
            record = self._accounts.setdefault(account, _Account())
            granted, probe = _grantable(record, now, len(keys), limits)
            for key in keys[:granted]:
                if limits.cap is not None:
                    record.places[key] = now + limits.lease
        if granted == 0:
            return Admission([], probe)
        if limits.rate is None:
            return Admission([0.0] * granted, probe)
        return Admission(self._limiter.reserve_many(account, limits.rate, granted), probe)

    def give_back(self, account: str, keys: Sequence[str]) -> None:
        with self._lock:
            record = self._accounts.setdefault(account, _Account())
            for key in keys:
                record.places.pop(key, None)

    def report(
        self, account: str, *, ok: bool, probe: bool = False, hold_for: float | None = None
    ) -> Verdict:
        with self._lock:
            now = self._monotonic()
            record = self._accounts.setdefault(account, _Account())
            if ok:
                record.failures, record.open_since = 0, None
                record.probe_every = self._first_probe
                return Verdict(breaker_open=False, held=now < record.held_until)
            record.failures += 1
            if hold_for is not None and now + hold_for > record.held_until:
                record.held_total += now + hold_for - max(record.held_until, now)
                record.held_until = now + hold_for
            if record.open_since is not None:
                if probe:
                    record.probe_every = min(record.probe_every * 2, LAST_PROBE)
                    record.next_probe = now + record.probe_every
            elif record.failures >= BREAKER_FAILURES:
                record.open_since, record.probe_every = now, self._first_probe
                record.next_probe = now + self._first_probe
            return Verdict(record.open_since is not None, now < record.held_until)

    def state(self, account: str, limits: Limits) -> AccountState:
        with self._lock:
            now = self._monotonic()
            record = self._accounts.setdefault(account, _Account())
            _prune(record, now)
            return AccountState(
                in_progress=len(record.places),
                cap=limits.cap,
                open_for=None if record.open_since is None else now - record.open_since,
                next_probe_in=None if record.open_since is None else record.next_probe - now,
                held_for=record.held_until - now if now < record.held_until else None,
                held_seconds_total=record.held_total,
                outage_for=(
                    None
                    if record.open_since is None
                    else now - max(record.open_since, record.paused_at)
                ),
            )

    def note_pause(self, account: str) -> None:
        with self._lock:
            self._accounts.setdefault(account, _Account()).paused_at = self._monotonic()


def _prune(record: _Account, now: float) -> None:
    for key in [key for key, expiry in record.places.items() if expiry <= now]:
        del record.places[key]


def _grantable(record: _Account, now: float, count: int, limits: Limits) -> tuple[int, bool]:
    """How many of ``count`` calls may start now, and whether the one granted is a probe
    (then the next probe is pushed back)."""
    if now < record.held_until:
        return 0, False
    probe = record.open_since is not None
    if probe:
        if now < record.next_probe:
            return 0, False
        count = min(count, 1)
        record.next_probe = now + record.probe_every
    _prune(record, now)
    if limits.cap is not None:
        count = max(0, min(count, limits.cap - len(record.places)))
    return count, probe and count > 0
