"""What the operator console shows about a running campaign, beyond its counters.

Recent attempts, calls over time, the calling window right now, and an account's health.
Each function is one read of the ledger (see :mod:`dialer.ledger.activity`) and plain data
out; the HTTP routes only translate.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy.engine import Engine

from campaigns.calling_window import WindowNow, window_now
from dialer.errors import InputError
from dialer.ledger import activity as ledger_activity
from dialer.ledger import campaigns as ledger_campaigns
from dialer.ledger.activity import AttemptLine
from dialer.ledger.engine import session_scope
from dialer.models import ContactState
from dialer.settings import Settings
from dialer.windows import CallingWindow

BUCKETS = (60, 300, 900, 3600, 4 * 3600, 86400)
"""Bucket sizes (seconds) a calls-over-time series is drawn in, finest first."""

MAX_POINTS = 2000
"""The most buckets one series may have."""

MAX_BUCKET_SECONDS = 7 * 86400

_TARGET_POINTS = 240
HEALTH_WINDOW = timedelta(minutes=5)
"""How far back an account's health looks."""


def recent_attempts(engine: Engine, name: str, *, limit: int) -> list[AttemptLine]:
    """The campaign's latest ``limit`` provider requests, newest first."""
    with session_scope(engine) as session:
        campaign = ledger_campaigns.get_campaign(session, name=name)
        assert campaign.id is not None
        return ledger_activity.recent_attempts(session, campaign_id=campaign.id, limit=limit)


@dataclass(frozen=True)
class CallSeries:
    """Requests in buckets of ``bucket_seconds`` from ``since`` (a bucket's start) to
    ``until``; ``points`` holds every bucket, empty ones as {}, each counting requests by
    result. ``first_attempt_at``: the campaign's first request (None before any)."""

    since: datetime
    until: datetime
    bucket_seconds: int
    first_attempt_at: datetime | None
    points: list[tuple[datetime, dict[str, int]]]


def call_series(
    engine: Engine,
    name: str,
    *,
    now: datetime,
    since: datetime | None = None,
    until: datetime | None = None,
    bucket_seconds: int | None = None,
) -> CallSeries:
    """The campaign's requests over time. By default over its whole life (its first request
    to ``now``) in the finest of :data:`BUCKETS` giving at most about 240 points. InputError
    for a range that is empty, a bucket past :data:`MAX_BUCKET_SECONDS` or a range that
    would need more than :data:`MAX_POINTS` buckets."""
    with session_scope(engine) as session:
        campaign = ledger_campaigns.get_campaign(session, name=name)
        assert campaign.id is not None
        first = ledger_activity.first_attempt_at(session, campaign_id=campaign.id)
        end = until or now
        start = since or first or end - timedelta(hours=1)
        if start >= end:
            raise InputError("since must be before until")
        if start < _EPOCH:
            raise InputError("since must be after 1970-01-01")
        bucket = bucket_seconds or choose_bucket(end - start)
        if not 1 <= bucket <= MAX_BUCKET_SECONDS:
            raise InputError(f"bucket must be 1 to {MAX_BUCKET_SECONDS} seconds")
        start = _floor(start, bucket)
        buckets = math.ceil((end - start).total_seconds() / bucket)
        if buckets > MAX_POINTS:
            raise InputError(
                f"{buckets:,} buckets of {bucket} s: ask for at most {MAX_POINTS} (a larger bucket)"
            )
        counts = ledger_activity.attempts_by_bucket(
            session, campaign_id=campaign.id, since=start, until=end, bucket_seconds=bucket
        )
    step = timedelta(seconds=bucket)
    points = [(start + i * step, counts.get(start + i * step, {})) for i in range(buckets)]
    return CallSeries(
        since=start, until=end, bucket_seconds=bucket, first_attempt_at=first, points=points
    )


def choose_bucket(span: timedelta) -> int:
    """The finest of :data:`BUCKETS` that draws ``span`` in about 240 points or fewer."""
    seconds = span.total_seconds()
    return next((b for b in BUCKETS if seconds / b <= _TARGET_POINTS), BUCKETS[-1])


def calls_last_minute(engine: Engine, campaign_id: int, *, now: datetime) -> int:
    """Requests the campaign sent in the minute before ``now``."""
    with session_scope(engine) as session:
        counts = ledger_activity.attempts_since(
            session, campaign_id=campaign_id, since=now - timedelta(minutes=1)
        )
    return sum(counts.values())


def campaign_window(engine: Engine, name: str, *, now: datetime) -> WindowNow:
    """The campaign's calling window in words and how much of it is open at ``now``."""
    with session_scope(engine) as session:
        campaign = ledger_campaigns.get_campaign(session, name=name)
        assert campaign.id is not None
        pending = ledger_campaigns.zone_key_counts(
            session, campaign_id=campaign.id, states=[ContactState.PENDING]
        )
    return window_now(
        CallingWindow.parse(campaign.window, campaign.days),
        fallback_zone=campaign.timezone,
        pending_by_zone_key=pending,
        now=now,
    )


@dataclass(frozen=True)
class AccountHealth:
    """An account's configured pace and its requests of the last :data:`HEALTH_WINDOW`, by
    result (``placed``, ``pending`` = will be retried after a 5xx/429/connect failure,
    ``failed``, ``unknown``, ``in_flight``)."""

    name: str
    provider: str
    rate: str
    rate_per_second: float | None
    recent_seconds: int
    recent: dict[str, int]


def account_health(
    engine: Engine, settings: Settings, account: str, *, now: datetime
) -> AccountHealth:
    """ConfigError for an account that is not configured."""
    config = settings.account(account)
    with session_scope(engine) as session:
        recent = ledger_activity.attempts_since(session, account=account, since=now - HEALTH_WINDOW)
    rate = config.rate_per_second
    return AccountHealth(
        name=account,
        provider=config.provider,
        rate=config.rate,
        rate_per_second=None if math.isinf(rate) else rate,
        recent_seconds=int(HEALTH_WINDOW.total_seconds()),
        recent=recent,
    )


_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def _floor(moment: datetime, bucket_seconds: int) -> datetime:
    """The start of ``moment``'s bucket (buckets aligned on the Unix epoch), in UTC."""
    seconds = (moment - _EPOCH) // timedelta(seconds=1)
    return _EPOCH + timedelta(seconds=seconds - seconds % bucket_seconds)
