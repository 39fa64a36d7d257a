"""When to try a contact again after a retryable provider error (5xx, 429, connect failure).

Pure functions of ``now``: the result is stored as the contact's ``next_attempt_at`` and picked
up by the scheduler tick (DESIGN.md §2.5), never slept on.
"""

from __future__ import annotations

import math
import random
import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from email.utils import parsedate_to_datetime

from dialer.errors import InputError

RETRY_AFTER_CAP = timedelta(days=1)
"""The longest ``Retry-After`` honoured: a larger one is read as this (a provider's typo or a
maintenance page must not park a campaign for a year)."""

_DELAY_SECONDS_RE = re.compile(r"-?[0-9]+(?:\.[0-9]+)?")
# Whitespace only after a unit letter: no two adjacent optional \s* to backtrack between.
_DURATION_RE = re.compile(
    r"(?:([0-9]{1,9})d\s*)?(?:([0-9]{1,9})h\s*)?(?:([0-9]{1,9})m\s*)?(?:([0-9]{1,9})s)?",
    re.IGNORECASE,
)

# Jitter spreads retries apart; nobody gains by predicting it, so no CSPRNG is needed.
_RNG = random.Random()  # noqa: S311


@dataclass(frozen=True)
class RetryPolicy:
    """How often and how patiently a contact is retried.

    ``max_attempts`` counts every HTTP attempt, the first included: with 5, a contact gets at
    most 4 retries before it is failed. The n-th retry waits ``base_seconds * factor**(n-1)``
    capped at ``cap_seconds``, then spread by ``+/- jitter`` (a fraction) so contacts that
    failed together do not come back together.

    Raises :class:`InputError` for values that make no sense (they come from the user).
    """

    max_attempts: int = 5
    base_seconds: float = 30.0
    factor: float = 2.0
    cap_seconds: float = 3600.0
    jitter: float = 0.2

    def __post_init__(self) -> None:
        if self.max_attempts < 1:
            raise InputError(f"max attempts must be at least 1, got {self.max_attempts}")
        if not 0 < self.base_seconds <= self.cap_seconds:
            raise InputError(
                f"retry delays need 0 < base <= cap, got base {self.base_seconds:g}s"
                f" and cap {self.cap_seconds:g}s"
            )
        if not self.factor >= 1:
            raise InputError(f"the backoff factor must be at least 1, got {self.factor:g}")
        if not 0 <= self.jitter < 1:
            raise InputError(f"jitter must be a fraction in [0, 1), got {self.jitter:g}")


def retries_left(policy: RetryPolicy, attempts_made: int) -> bool:
    """Whether a contact that has had ``attempts_made`` HTTP attempts may have another."""
    return attempts_made < policy.max_attempts


def nominal_delay(policy: RetryPolicy, attempts_made: int) -> timedelta:
    """The un-jittered wait after ``attempts_made`` (>= 1) attempts: non-decreasing, <= cap."""
    if attempts_made < 1:
        raise ValueError(f"attempts_made must be >= 1 after a failed attempt, got {attempts_made}")
    if policy.factor == 1:
        return timedelta(seconds=policy.base_seconds)
    # Stop the exponent once the cap is reached, so huge attempt counts cannot overflow a float.
    steps_to_cap = math.ceil(math.log(policy.cap_seconds / policy.base_seconds, policy.factor))
    exponent = min(attempts_made - 1, steps_to_cap)
    return timedelta(seconds=min(policy.cap_seconds, policy.base_seconds * policy.factor**exponent))


def next_attempt_at(
    policy: RetryPolicy,
    attempts_made: int,
    now: datetime,
    *,
    retry_at: datetime | None = None,
    rng: random.Random | None = None,
) -> datetime:
    """When to try again after ``attempts_made`` (>= 1) attempts, the last one failed at ``now``.

    The provider's own ``retry_at`` (from ``Retry-After``) wins when given, but never lands
    before ``now``. Otherwise the wait is :func:`nominal_delay` times a uniform factor in
    ``[1 - jitter, 1 + jitter]`` drawn from ``rng`` (tests pass a seeded one).

    Whether another attempt is allowed at all is :func:`retries_left`'s question, not this one's.
    """
    _require_aware(now, "now")
    if retry_at is not None:
        _require_aware(retry_at, "retry_at")
        return max(retry_at, now).astimezone(UTC)
    spread = (rng or _RNG).uniform(1 - policy.jitter, 1 + policy.jitter)
    return (now + nominal_delay(policy, attempts_made) * spread).astimezone(UTC)


def parse_retry_after(value: str | None, now: datetime) -> datetime | None:
    """The instant an HTTP ``Retry-After`` header value names (RFC 9110 §10.2.3).

    Accepts delay-seconds (leniently, a decimal too) or an HTTP-date. A negative delay or a past
    date means ``now``; anything beyond :data:`RETRY_AFTER_CAP` is read as the cap. ``None``,
    empty or unreadable values give ``None`` (use the normal backoff).
    """
    _require_aware(now, "now")
    if value is None or not value.strip():
        return None
    text = value.strip()
    if _DELAY_SECONDS_RE.fullmatch(text):
        # float() gives inf, not an error, for absurdly long digit strings: min() clamps it.
        seconds = min(max(float(text), 0.0), RETRY_AFTER_CAP.total_seconds())
        return (now + timedelta(seconds=seconds)).astimezone(UTC)
    try:
        when = parsedate_to_datetime(text)
    except (ValueError, TypeError, IndexError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)  # HTTP-dates are GMT; asctime's form carries no zone
    return min(max(when, now), now + RETRY_AFTER_CAP).astimezone(UTC)


def parse_duration(text: str) -> timedelta:
    """A user-given duration: ``30s``, ``15m``, ``2h``, ``1d``, ``1h30m`` (units in d-h-m-s order).

    Raises :class:`InputError` (one line) for anything else, including a bare number.
    """
    match = _DURATION_RE.fullmatch(text.strip())
    if match is None or not any(match.groups()):
        raise InputError(f"invalid duration {text[:40]!r}: use e.g. 30s, 15m, 2h, 1d or 1h30m")
    days, hours, minutes, seconds = (int(group or 0) for group in match.groups())
    try:
        return timedelta(days=days, hours=hours, minutes=minutes, seconds=seconds)
    except OverflowError:
        raise InputError(f"duration {text[:40]!r} is too long") from None


def _require_aware(value: datetime, name: str) -> None:
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError(f"{name} must be a timezone-aware datetime")
