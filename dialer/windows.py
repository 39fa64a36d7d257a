"""Calling windows: may this number be called now, in its own local time (DESIGN.md §2.3)?

A window is a local time-of-day range and the weekdays it opens on. It is judged in the
*recipient's* zones: a number that may be in several zones is callable only when the window is
open in all of them, and a number of unknown zone uses the campaign's fallback zone.

Every function takes ``now`` (an aware datetime) and never reads the clock.

DST rule: the window is open exactly when the recipient's wall clock reads inside it, which is
what calling-hour laws (TCPA: "local time at the called party's location") test. So no call is
ever placed while the local clock reads outside the window, and every instant has one answer:

- spring forward: a boundary in the skipped hour takes effect when the clock jumps past it
  (``02:30-20:00`` opens at 03:00 that day; ``22:00-02:30`` closes at the jump);
- fall back: the repeated hour is judged by its clock reading both times, so a boundary inside
  it (e.g. ``22:00-01:30``) ends the window at the first 01:30 and opens it again for 01:00-01:30
  of the repeated hour. Most zones change between 00:00 and 03:00 local, so daytime windows
  only shift in UTC.
"""

from __future__ import annotations

import functools
import re
import zoneinfo
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

from dialer.errors import InputError
from dialer.zone_keys import zones_of_key

DEFAULT_WINDOW = "09:00-20:00"
DEFAULT_DAYS = "mon,tue,wed,thu,fri,sat"  # stricter than the TCPA's 08:00-21:00 every day

_DAY_NAMES = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_FULL_DAY_NAMES = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
_DAY_ALIASES = {
    "all": frozenset(range(7)),
    "daily": frozenset(range(7)),
    "weekdays": frozenset(range(5)),
    "weekends": frozenset({5, 6}),
}
# \u2013: the en dash word processors substitute for "-" in pasted "09:00-20:00".
_WINDOW_RE = re.compile(r"([0-9]{1,2}):([0-9]{2})\s*[-\u2013]\s*([0-9]{1,2}):([0-9]{2})")

# A zone's offset is sampled this often when looking for DST transitions; real transitions are
# months apart, so none is missed.
_TRANSITION_PROBE = timedelta(hours=1)


@dataclass(frozen=True)
class CallingWindow:
    """Local hours ``[start, end)`` on the weekdays in ``days`` (0 = Monday).

    ``end <= start`` means the window crosses midnight: it belongs to the day it *opens*, so
    ``22:00-02:00`` on ``fri`` is Friday 22:00 to Saturday 02:00. ``start == end == 00:00`` is
    the whole day (written ``00:00-24:00``).
    """

    start: time
    end: time
    days: frozenset[int]

    def __post_init__(self) -> None:
        if not self.days or not self.days <= frozenset(range(7)):
            raise ValueError(f"days must be a non-empty subset of 0..6, got {sorted(self.days)}")
        if self.start.tzinfo is not None or self.end.tzinfo is not None:
            raise ValueError("window times are local wall-clock times: give naive times")
        if self.start == self.end and self.start != time(0):
            raise ValueError("an empty window: only 00:00-24:00 may start where it ends")

    @classmethod
    def parse(cls, window: str = DEFAULT_WINDOW, days: str = DEFAULT_DAYS) -> CallingWindow:
        """Read user text such as ``"09:00-20:00"`` and ``"mon-fri"``.

        ``window``: ``HH:MM-HH:MM``; an end at or before the start crosses midnight, ``24:00``
        is accepted as an end, ``00:00-24:00`` is all day. ``days``: comma-separated day
        names (``mon`` or ``monday``), ranges (``mon-fri``; ``fri-mon`` wraps) and the aliases
        ``all``/``daily``, ``weekdays``, ``weekends``; case-insensitive.

        Raises :class:`InputError` (one line) for anything else.
        """
        start, end = _parse_window(window)
        return cls(start=start, end=end, days=_parse_days(days))

    @property
    def window_text(self) -> str:
        """The hours in the form :meth:`parse` reads, e.g. ``"09:00-20:00"``."""
        end = "24:00" if self.end == time(0) else f"{self.end:%H:%M}"
        return f"{self.start:%H:%M}-{end}"

    @property
    def days_text(self) -> str:
        """The days in the form :meth:`parse` reads, e.g. ``"mon-sat"`` or ``"daily"``."""
        if len(self.days) == 7:
            return "daily"
        runs: list[list[int]] = []
        for day in sorted(self.days):
            if runs and runs[-1][-1] == day - 1:
                runs[-1].append(day)
            else:
                runs.append([day])
        parts: list[str] = []
        for run in runs:
            if len(run) >= 3:
                parts.append(f"{_DAY_NAMES[run[0]]}-{_DAY_NAMES[run[-1]]}")
            else:
                parts.extend(_DAY_NAMES[day] for day in run)
        return ",".join(parts)

    def describe(self) -> str:
        """One phrase for status output, e.g. ``"09:00-20:00 mon-sat"``."""
        return f"{self.window_text} {self.days_text}"

    def is_open_in(self, zone: str, now: datetime) -> bool:
        """Whether the wall clock in IANA ``zone`` reads inside the window at ``now``.

        Raises :class:`InputError` if ``zone`` is not a known time zone.
        """
        _require_aware(now)
        return self._open_at(now.astimezone(_zone(zone)))

    def is_open_for(self, zones: Sequence[str], now: datetime) -> bool:
        """Whether the window is open in every one of ``zones`` (a number may be in several)."""
        _require_aware(now)
        return self._open_in_all(_zones(zones), now)

    def next_opening(
        self, zones: Sequence[str], now: datetime, *, horizon_days: int = 14
    ) -> datetime | None:
        """The earliest instant ``>= now`` (UTC) at which :meth:`is_open_for` holds.

        ``now`` itself when open already; ``None`` when the window is not open in all zones at
        once within ``horizon_days`` (e.g. a narrow window in zones 19 hours apart).
        """
        _require_aware(now)
        tzs = _zones(zones)
        now = now.astimezone(UTC)
        if self._open_in_all(tzs, now):
            return now
        until = now + timedelta(days=horizon_days)
        # The zones are open together from the moment the last of them opens, and a zone opens
        # only when its clock reaches `start` or jumps (DST): those instants are the candidates.
        candidates: set[datetime] = set()
        for tz in tzs:
            candidates.update(self._start_instants(tz, now, until))
            candidates.update(_offset_changes(tz, now, until))
        return next((c for c in sorted(candidates) if self._open_in_all(tzs, c)), None)

    def open_zone_keys(self, keys: Iterable[str], fallback: str, now: datetime) -> list[str]:
        """The distinct ``keys`` (see :func:`zones_from_key`) whose zones are all open at ``now``.

        ``""`` stands for ``fallback``. A key naming a zone this machine's tz database lacks
        is never open: tzdata may differ between the importing machine and a worker, and a
        number we cannot place in time must not be called (nor stop the other keys).
        """
        _require_aware(now)
        zone_is_open: dict[str, bool] = {}

        def zone_open(zone: str) -> bool:
            if zone not in zone_is_open:
                try:
                    zone_is_open[zone] = self.is_open_in(zone, now)
                except InputError:
                    zone_is_open[zone] = False
            return zone_is_open[zone]

        open_keys: dict[str, None] = {}  # a dict keeps the callers' order and drops repeats
        for key in keys:
            if key not in open_keys and all(map(zone_open, zones_from_key(key, fallback))):
                open_keys[key] = None
        return list(open_keys)

    def _open_at(self, local: datetime) -> bool:
        clock = local.time()
        weekday = local.weekday()
        if self.start < self.end:
            return weekday in self.days and self.start <= clock < self.end
        # Crossing midnight, or all day: before `end` the window is the one opened yesterday.
        if clock >= self.start:
            return weekday in self.days
        return clock < self.end and (weekday - 1) % 7 in self.days

    def _open_in_all(self, tzs: Sequence[zoneinfo.ZoneInfo], now: datetime) -> bool:
        return all(self._open_at(now.astimezone(tz)) for tz in tzs)

    def _start_instants(
        self, tz: zoneinfo.ZoneInfo, after: datetime, until: datetime
    ) -> Iterator[datetime]:
        """Instants in ``(after, until]`` at which ``tz``'s clock reads ``start`` on an open day.

        Both readings of a repeated (fall-back) hour count; a start in a skipped hour is never
        read, and its opening is the DST jump found by :func:`_offset_changes`.
        """
        day = after.astimezone(tz).date()
        last = until.astimezone(tz).date()
        while day <= last:
            if day.weekday() in self.days:
                for fold in (0, 1):
                    local = datetime.combine(day, self.start, tzinfo=tz).replace(fold=fold)
                    instant = local.astimezone(UTC)
                    if after < instant <= until and _reads(instant, tz, day, self.start):
                        yield instant
            day += timedelta(days=1)


def zones_from_key(key: str, fallback: str) -> tuple[str, ...]:
    """The zones a contact's zone key stands for (:mod:`dialer.zone_keys`); ``""``, unknown,
    means ``(fallback,)``."""
    return zones_of_key(key) or (fallback,)


def validate_timezone(name: str) -> str:
    """The canonical IANA name for ``name`` (matched case-insensitively, e.g. ``utc`` -> ``UTC``).

    Raises :class:`InputError` for anything that is not an IANA zone, including the
    machine-dependent ``localtime``.
    """
    canonical = _known_zones().get(name.strip().lower())
    if canonical is None:
        raise InputError(
            f"unknown time zone {_shown(name)}: use an IANA name such as America/New_York"
        )
    return canonical


@functools.cache
def _known_zones() -> dict[str, str]:
    # `localtime` is this machine's zone and `Factory` a "-00" placeholder: neither says where
    # a recipient is.
    names = zoneinfo.available_timezones() - {"localtime", "Factory"}
    return {name.lower(): name for name in names}


@functools.lru_cache(maxsize=1024)
def _zone(name: str) -> zoneinfo.ZoneInfo:
    return zoneinfo.ZoneInfo(validate_timezone(name))


def _zones(names: Sequence[str]) -> list[zoneinfo.ZoneInfo]:
    if not names:
        # "Open in all of no zones" would be vacuously true: refuse rather than call anyone.
        raise ValueError("at least one time zone is needed")
    return [_zone(name) for name in names]


def _reads(instant: datetime, tz: zoneinfo.ZoneInfo, day: date, clock: time) -> bool:
    local = instant.astimezone(tz)
    return local.date() == day and local.time() == clock


def _offset_changes(tz: zoneinfo.ZoneInfo, after: datetime, until: datetime) -> Iterator[datetime]:
    """The instants in ``(after, until]`` at which ``tz`` changes its UTC offset."""
    lo = after
    lo_offset = lo.astimezone(tz).utcoffset()
    while lo < until:
        hi = min(lo + _TRANSITION_PROBE, until)
        hi_offset = hi.astimezone(tz).utcoffset()
        if hi_offset != lo_offset:
            yield _first_changed(tz, lo, hi)
        lo, lo_offset = hi, hi_offset


def _first_changed(tz: zoneinfo.ZoneInfo, lo: datetime, hi: datetime) -> datetime:
    """The transition in ``(lo, hi]``, given that ``hi`` has a different offset than ``lo``."""
    old_offset = lo.astimezone(tz).utcoffset()
    while hi - lo > timedelta(seconds=1):
        mid = lo + (hi - lo) / 2
        if mid.astimezone(tz).utcoffset() == old_offset:
            lo = mid
        else:
            hi = mid
    # tz database transitions fall on whole seconds: the one left in (lo, hi] is it.
    whole = hi.replace(microsecond=0)
    return whole if whole > lo else hi


def _parse_window(text: str) -> tuple[time, time]:
    match = _WINDOW_RE.fullmatch(text.strip())
    if match is None:
        raise InputError(f"invalid calling window {_shown(text)}: expected HH:MM-HH:MM")
    start_h, start_m, end_h, end_m = (int(group) for group in match.groups())
    if start_h > 23 or start_m > 59 or end_m > 59 or end_h > 24 or (end_h == 24 and end_m):
        raise InputError(f"invalid calling window {_shown(text)}: no such time of day")
    if (start_h, start_m) == (end_h, end_m):
        raise InputError(f"invalid calling window {_shown(text)}: it opens and closes at once")
    # 24:00 is stored as 00:00: the window then ends at midnight after the day it opened.
    return time(start_h, start_m), time(0) if end_h == 24 else time(end_h, end_m)


def _parse_days(text: str) -> frozenset[int]:
    days: set[int] = set()
    for item in text.lower().split(","):
        item = item.strip()
        if item in _DAY_ALIASES:
            days |= _DAY_ALIASES[item]
        elif "-" in item:
            first_text, _, last_text = item.partition("-")
            first, last = _day(first_text, text), _day(last_text, text)
            days.update((first + offset) % 7 for offset in range((last - first) % 7 + 1))
        else:
            days.add(_day(item, text))
    return frozenset(days)


def _day(name: str, text: str) -> int:
    name = name.strip()
    for names in (_DAY_NAMES, _FULL_DAY_NAMES):
        if name in names:
            return names.index(name)
    raise InputError(
        f"invalid calling days {_shown(text)}: use e.g. mon-fri, mon,wed,fri, weekdays or daily"
    )


def _require_aware(now: datetime) -> None:
    # A naive datetime would be read in this machine's zone: exactly the bug windows exist to stop.
    if now.tzinfo is None or now.utcoffset() is None:
        raise ValueError("now must be a timezone-aware datetime")


def _shown(text: str) -> str:
    return repr(text if len(text) <= 40 else text[:40] + "...")
