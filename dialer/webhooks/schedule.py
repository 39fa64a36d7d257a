"""When to try an event again, and when to give up: pure functions of the answer and ``now``.

An endpoint's answer is one of three verdicts: delivered (2xx); worth another try
(connection error, timeout, 408, 429, 5xx); never going to work (any other status: 3xx, 4xx).
Tries go on with exponential backoff and jitter for at least :data:`RETRY_FOR` after the
first; then the event is ``dead`` (an operator may resend it).
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

RETRY_FOR = timedelta(hours=24)
"""How long after its first try an event is still tried again."""
FIRST_DELAY = timedelta(seconds=5)
MAX_DELAY = timedelta(hours=1)
MAX_RETRY_AFTER = timedelta(hours=6)
"""The longest ``Retry-After`` honoured as given; longer ones wait this long."""
JITTER = 0.2
"""Each delay is drawn from ±20 % of the nominal one, so a burst of failures spreads out."""


class Verdict(StrEnum):
    DELIVERED = "delivered"
    RETRY = "retry"
    REFUSED = "refused"


_RETRYABLE_STATUSES = frozenset({408, 429})


def verdict_for(status: int | None) -> Verdict:
    """What an answer means; ``None``: no answer (connection error or timeout)."""
    if status is None or status in _RETRYABLE_STATUSES or status >= 500:
        return Verdict.RETRY
    if 200 <= status < 300:
        return Verdict.DELIVERED
    return Verdict.REFUSED


@dataclass(frozen=True, slots=True)
class Next:
    """After a failed try: try again at ``at``, or give up (``at`` is None)."""

    at: datetime | None

    @property
    def dead(self) -> bool:
        return self.at is None


def after_failure(
    *,
    tries: int,
    first_tried_at: datetime | None,
    now: datetime,
    retry_at: datetime | None = None,
    rng: random.Random,
) -> Next:
    """When to try again after the ``tries``-th try (1 for the first) failed at ``now``.

    The delay doubles from :data:`FIRST_DELAY` up to :data:`MAX_DELAY`, ±:data:`JITTER`; an
    endpoint's ``Retry-After`` (``retry_at``: :func:`dialer.backoff.parse_retry_after`) replaces
    it, up to :data:`MAX_RETRY_AFTER` from now. Once ``now`` is
    :data:`RETRY_FOR` past the first try, no next try: dead.
    """
    first = first_tried_at or now
    if now - first >= RETRY_FOR:
        return Next(None)
    if retry_at is not None:
        return Next(min(max(retry_at, now), now + MAX_RETRY_AFTER))
    nominal = min(FIRST_DELAY * 2 ** max(tries - 1, 0), MAX_DELAY)
    return Next(now + nominal * rng.uniform(1 - JITTER, 1 + JITTER))
