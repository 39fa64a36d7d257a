"""A campaign's calling window in words, and how much of it is open right now.

For people watching a campaign: "09:00-20:00 in each recipient's own time zone,
Monday-Saturday; now open for 72 % of pending contacts; the rest from 14:00 UTC". Pure: the
caller gives the pending contacts by zone key and ``now``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime

from dialer.errors import InputError
from dialer.windows import DEFAULT_DAYS, DEFAULT_WINDOW, CallingWindow, zones_from_key

_DAY_WORDS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")


@dataclass(frozen=True)
class WindowNow:
    """``hours``: the window in words. ``pending``: contacts waiting to be dialed;
    ``open_now``: how many of them are inside the window at this moment. ``next_opening``:
    the earliest moment the window opens for one of the others (None when all are open, or
    none opens within 14 days). ``summary``: the whole in one line."""

    hours: str
    is_default: bool
    fallback_zone: str
    pending: int
    open_now: int
    next_opening: datetime | None
    summary: str

    @property
    def open_percent(self) -> int | None:
        """Rounded down, so "100 %" always means every pending contact."""
        return None if not self.pending else self.open_now * 100 // self.pending


def window_now(
    window: CallingWindow,
    *,
    fallback_zone: str,
    pending_by_zone_key: Mapping[str, int],
    now: datetime,
) -> WindowNow:
    """The window described, and its state at ``now`` for ``pending_by_zone_key``."""
    hours = f"{window.window_text} in each recipient's own time zone, {days_in_words(window)}"
    is_default = window == CallingWindow.parse(DEFAULT_WINDOW, DEFAULT_DAYS)
    pending = sum(pending_by_zone_key.values())
    open_keys = set(window.open_zone_keys(pending_by_zone_key, fallback_zone, now))
    open_now = sum(count for key, count in pending_by_zone_key.items() if key in open_keys)
    openings = [
        opening
        for key in pending_by_zone_key
        if key not in open_keys and (opening := _next_opening(window, key, fallback_zone, now))
    ]
    next_opening = min(openings, default=None)
    parts = [hours]
    if is_default:
        parts[0] += " (the default, stricter than the U.S. TCPA's 08:00-21:00)"
    if pending:
        parts.append(f"now open for {open_now * 100 // pending} % of pending contacts")
        if next_opening is not None:
            parts.append(f"next opening {next_opening:%a %H:%M} UTC")
        elif open_now < pending:
            parts.append("the others never open in the next 14 days")
    return WindowNow(
        hours=hours,
        is_default=is_default,
        fallback_zone=fallback_zone,
        pending=pending,
        open_now=open_now,
        next_opening=next_opening,
        summary="; ".join(parts),
    )


def days_in_words(window: CallingWindow) -> str:
    """``"every day"``, ``"Monday-Saturday"``, ``"Monday, Wednesday and Friday"``..."""
    if len(window.days) == 7:
        return "every day"
    runs: list[list[int]] = []
    for day in sorted(window.days):
        if runs and runs[-1][-1] == day - 1:
            runs[-1].append(day)
        else:
            runs.append([day])
    words: list[str] = []
    for run in runs:
        if len(run) >= 3:
            words.append(f"{_DAY_WORDS[run[0]]}-{_DAY_WORDS[run[-1]]}")
        else:
            words.extend(_DAY_WORDS[day] for day in run)
    return words[0] if len(words) == 1 else f"{', '.join(words[:-1])} and {words[-1]}"


def _next_opening(
    window: CallingWindow, key: str, fallback_zone: str, now: datetime
) -> datetime | None:
    try:
        return window.next_opening(zones_from_key(key, fallback_zone), now)
    except InputError:
        return None  # a zone this machine does not know is never open (as in open_zone_keys)
