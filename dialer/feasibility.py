"""Will a campaign finish in time? One line for the user, e.g. "at 5/s inside 09:00-20:00
mon-sat, 180,000 contacts need 10.0 hours of dialing; done in about 3.4 days (2026-03-12 14:00
UTC); the campaign ends in 2.0 days: about 52,000 would be left".

A coarse simulation of what the scheduler does: in each step, the contacts whose zones are all
inside the window share the account's rate. Retries, failures and provider slowness are ignored,
so the estimate is a lower bound on the time needed.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from dialer.errors import InputError
from dialer.windows import CallingWindow, zones_from_key

STEP = timedelta(minutes=15)
"""Simulation step. Steps fall on UTC quarter hours and every zone's offset is a multiple of
15 minutes, so windows with quarter-hour boundaries are simulated exactly."""

HORIZON = timedelta(days=120)
"""How far ahead the simulation looks before giving up."""


@dataclass(frozen=True)
class Estimate:
    """When the pending contacts would all have been dialed, if nothing fails.

    ``finish_at`` ignores the campaign's end, so a campaign that does not fit still says how
    long it would need. It is ``None`` when some contacts would not be dialed within
    :data:`HORIZON`, or never are inside the window in all their zones at once.
    ``left_at_end`` is how many would still be pending at the campaign's end (0 without one).
    """

    finish_at: datetime | None
    contacts: int
    open_hours_needed: float
    fits_before_end: bool
    message: str
    left_at_end: int


def estimate_finish(
    *,
    pending_by_zone_key: Mapping[str, int],
    window: CallingWindow,
    fallback_zone: str,
    rate_per_second: float,
    now: datetime,
    start: datetime | None,
    end: datetime | None,
) -> Estimate:
    """Simulate dialing ``pending_by_zone_key`` (zone key -> pending contacts) from
    ``max(now, start)``, the keys open in ``window`` sharing ``rate_per_second``.

    ``open_hours_needed`` is the dialing time at the full rate (contacts / rate). A key whose
    zones share no open minute in the next 14 days (see :meth:`CallingWindow.next_opening`)
    counts as never callable; ``message`` says how many contacts that is.
    """
    if not rate_per_second > 0:
        raise ValueError(f"rate_per_second must be positive, got {rate_per_second}")
    begin = (max(now, start) if start is not None else now).astimezone(UTC)
    pending = {key: count for key, count in pending_by_zone_key.items() if count > 0}
    contacts = sum(pending.values())
    hours = contacts / rate_per_second / 3600
    if not contacts:
        return Estimate(
            finish_at=begin,
            contacts=0,
            open_hours_needed=0.0,
            fits_before_end=True,
            message="nothing left to dial",
            left_at_end=0,
        )

    never = {key for key in pending if not _ever_open(window, key, fallback_zone, begin)}
    never_count = sum(pending[key] for key in never)
    reachable = {key: float(count) for key, count in pending.items() if key not in never}
    done_at, left = _simulate(reachable, window, fallback_zone, rate_per_second, begin, end)
    finish_at = done_at if not never else None
    fits = finish_at is not None and (end is None or finish_at <= end)

    parts = [
        f"{_rate_text(rate_per_second)} inside {window.describe()},"
        f" {contacts:,} contacts need {_span(hours * 3600)} of dialing"
    ]
    if never:
        parts.append(f"{never_count:,} are never inside the window in all their zones at once")
    rest = "the rest " if never else ""
    if done_at is None:
        parts.append(f"{rest}not done within {HORIZON.days} days")
    elif len(never) < len(pending):
        parts.append(
            f"{rest}done in about {_span((done_at - now).total_seconds())}"
            f" ({done_at:%Y-%m-%d %H:%M} UTC)"
        )
    left_at_end = 0
    if end is not None:
        left_at_end = round(left) + never_count
        ends = (
            f"the campaign ends in {_span((end - now).total_seconds())}"
            if end > now
            else "the campaign's end has passed"
        )
        parts.append(ends if fits else f"{ends}: about {left_at_end:,} would be left")
    return Estimate(
        finish_at=finish_at,
        contacts=contacts,
        open_hours_needed=hours,
        fits_before_end=fits,
        message="; ".join(parts),
        left_at_end=left_at_end,
    )


def _ever_open(window: CallingWindow, key: str, fallback: str, begin: datetime) -> bool:
    try:
        return window.next_opening(zones_from_key(key, fallback), begin) is not None
    except InputError:
        return False  # a zone this machine does not know is never open (as in open_zone_keys)


def _simulate(
    remaining: dict[str, float],
    window: CallingWindow,
    fallback: str,
    rate: float,
    begin: datetime,
    end: datetime | None,
) -> tuple[datetime | None, float]:
    """Dial ``remaining`` down in place from ``begin``.

    Returns when the last contact is dialed (``None`` past :data:`HORIZON`) and how many were
    still pending at ``end`` (or at the horizon, if that comes first).
    """
    at_end: float | None = None
    now = begin
    while remaining and now < begin + HORIZON:
        if end is not None and at_end is None and now >= end:
            at_end = sum(remaining.values())
        step_end = now.replace(minute=now.minute // 15 * 15, second=0, microsecond=0) + STEP
        if end is not None and now < end < step_end:
            step_end = end  # so that at_end is the count at `end`, not a step later
        open_keys = window.open_zone_keys(remaining, fallback, now)
        capacity = rate * (step_end - now).total_seconds()
        open_total = sum(remaining[key] for key in open_keys)
        if open_keys and capacity >= open_total:
            for key in open_keys:
                del remaining[key]
            if not remaining:
                return now + timedelta(seconds=open_total / rate), at_end or 0.0
        elif open_keys:
            # Due contacts are claimed in no particular zone order, so each open key gets a
            # share of the rate proportional to its size.
            for key in open_keys:
                remaining[key] -= remaining[key] * capacity / open_total
        now = step_end
    left = sum(remaining.values())
    return (None if remaining else begin), (at_end if at_end is not None else left)


def _rate_text(rate_per_second: float) -> str:
    if math.isinf(rate_per_second):
        return "with no rate limit"
    if rate_per_second >= 1:
        return f"at {rate_per_second:g}/s"
    return f"at {rate_per_second * 60:g}/m"


def _span(seconds: float) -> str:
    if seconds < 120:
        return f"{seconds:.0f} seconds"
    if seconds < 2 * 3600:
        return f"{seconds / 60:.0f} minutes"
    if seconds < 2 * 86400:
        return f"{seconds / 3600:.1f} hours"
    return f"{seconds / 86400:,.1f} days"
