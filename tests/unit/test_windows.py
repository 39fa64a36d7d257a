"""Calling windows judged in the recipient's local time, at chosen instants (never the clock)."""

from __future__ import annotations

import zoneinfo
from datetime import UTC, datetime, time, timedelta, timezone

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from dialer.errors import InputError
from dialer.windows import (
    DEFAULT_DAYS,
    DEFAULT_WINDOW,
    CallingWindow,
    validate_timezone,
    zones_from_key,
)

NY = "America/New_York"
LA = "America/Los_Angeles"
ANCHORAGE = "America/Anchorage"
BERLIN = "Europe/Berlin"
LONDON = "Europe/London"


def utc(
    year: int, month: int, day: int, hour: int = 0, minute: int = 0, second: int = 0, us: int = 0
) -> datetime:
    return datetime(year, month, day, hour, minute, second, us, tzinfo=UTC)


def window(text: str, days: str = "daily") -> CallingWindow:
    return CallingWindow.parse(text, days)


# --- parsing -------------------------------------------------------------------------------


def test_defaults_are_9_to_20_monday_to_saturday() -> None:
    default = CallingWindow.parse()
    assert (DEFAULT_WINDOW, DEFAULT_DAYS) == ("09:00-20:00", "mon,tue,wed,thu,fri,sat")
    assert default == CallingWindow(start=time(9), end=time(20), days=frozenset(range(6)))
    assert default.describe() == "09:00-20:00 mon-sat"


@pytest.mark.parametrize(
    ("text", "start", "end"),
    [
        ("09:00-20:00", time(9), time(20)),
        ("9:00-20:00", time(9), time(20)),
        (" 08:30 - 21:15 ", time(8, 30), time(21, 15)),
        ("09:00\u201320:00", time(9), time(20)),  # en dash from a word processor
        ("22:00-02:00", time(22), time(2)),
        ("20:00-24:00", time(20), time(0)),
        ("00:00-24:00", time(0), time(0)),
        ("23:59-00:00", time(23, 59), time(0)),
    ],
)
def test_parse_window(text: str, start: time, end: time) -> None:
    parsed = window(text)
    assert (parsed.start, parsed.end) == (start, end)


@pytest.mark.parametrize(
    "text",
    [
        "",
        "09:00",
        "9-20",
        "09:00-20:00-21:00",
        "24:00-08:00",
        "25:00-26:00",
        "09:60-10:00",
        "09:00-24:30",
        "09:00-09:00",
        "00:00-00:00",
        "nine to five",
        "\u0660\u0669:\u0660\u0660-\u0662\u0660:\u0660\u0660",  # Arabic-Indic digits
        "09:00-20:00\nrm -rf /",
    ],
)
def test_parse_window_rejects_with_one_line(text: str) -> None:
    with pytest.raises(InputError, match="calling window") as caught:
        window(text)
    assert "\n" not in str(caught.value)


@pytest.mark.parametrize(
    ("text", "days"),
    [
        ("mon,tue", {0, 1}),
        ("mon-fri", {0, 1, 2, 3, 4}),
        ("MON-Fri", {0, 1, 2, 3, 4}),
        ("monday, Wednesday ,FRI", {0, 2, 4}),
        ("fri-mon", {4, 5, 6, 0}),
        ("sun-sun", {6}),
        ("all", set(range(7))),
        ("Daily", set(range(7))),
        ("weekdays", {0, 1, 2, 3, 4}),
        ("weekends", {5, 6}),
        ("weekdays,sat", {0, 1, 2, 3, 4, 5}),
    ],
)
def test_parse_days(text: str, days: set[int]) -> None:
    assert window("09:00-20:00", text).days == days


@pytest.mark.parametrize(
    "text", ["", " ", "mon,,tue", "mon,", "funday", "mon-", "mon-tue-wed", "1,2", "mo", "week"]
)
def test_parse_days_rejects_with_one_line(text: str) -> None:
    with pytest.raises(InputError, match="calling days") as caught:
        window("09:00-20:00", text)
    assert "\n" not in str(caught.value)


@pytest.mark.parametrize(
    ("text", "days", "described"),
    [
        ("22:00-02:00", "mon,wed,fri", "22:00-02:00 mon,wed,fri"),
        ("00:00-24:00", "all", "00:00-24:00 daily"),
        ("20:00-24:00", "weekends", "20:00-24:00 sat,sun"),
        ("08:00-21:00", "fri-mon", "08:00-21:00 mon,fri-sun"),
        ("08:00-21:00", "tue-thu,sun", "08:00-21:00 tue-thu,sun"),
    ],
)
def test_describe(text: str, days: str, described: str) -> None:
    assert window(text, days).describe() == described


def test_constructor_refuses_windows_parse_would_never_make() -> None:
    with pytest.raises(ValueError, match="days"):
        CallingWindow(start=time(9), end=time(20), days=frozenset())
    with pytest.raises(ValueError, match="days"):
        CallingWindow(start=time(9), end=time(20), days=frozenset({7}))
    with pytest.raises(ValueError, match="empty window"):
        CallingWindow(start=time(9), end=time(9), days=frozenset({0}))


messy_window_text = st.one_of(
    st.text(),
    st.text(alphabet="0123456789:-\u2013 4", max_size=15),
    st.lists(st.integers(0, 100), min_size=4, max_size=4).map(
        lambda n: f"{n[0]}:{n[1]:02}-{n[2]}:{n[3]:02}"
    ),
)
day_token = st.sampled_from(
    ["mon", "TUE", "wednesday", "sun", "all", "weekdays", "weekends", "x", "", " ", "-", "fri-"]
)
messy_days_text = st.one_of(
    st.text(),
    st.lists(day_token, max_size=5).map(",".join),
    st.lists(day_token, min_size=2, max_size=3).map("-".join),
)


@given(messy_window_text, messy_days_text)
def test_messy_input_raises_only_input_error(text: str, days: str) -> None:
    try:
        parsed = CallingWindow.parse(text, days)
    except InputError as exc:
        assert "\n" not in str(exc)
    else:
        assert parsed.days


minutes_of_day = st.integers(0, 24 * 60 - 1).map(lambda m: time(m // 60, m % 60))


@given(minutes_of_day, minutes_of_day, st.frozensets(st.integers(0, 6), min_size=1))
def test_texts_parse_back_to_the_same_window(start: time, end: time, days: frozenset[int]) -> None:
    if start == end and start != time(0):
        return
    original = CallingWindow(start=start, end=end, days=days)
    assert CallingWindow.parse(original.window_text, original.days_text) == original


# --- one zone ------------------------------------------------------------------------------

# 2026-01-05 is a Monday; New York is on EST (UTC-5) in January.
WEEKDAY_CASES = [
    (utc(2026, 1, 5, 13, 59), False),  # Monday 08:59
    (utc(2026, 1, 5, 14, 0), True),  # Monday 09:00
    (utc(2026, 1, 6, 0, 59, 59, 999999), True),  # Monday 19:59:59.999999
    (utc(2026, 1, 6, 1, 0), False),  # Monday 20:00
    (utc(2026, 1, 10, 15, 0), True),  # Saturday 10:00
    (utc(2026, 1, 11, 15, 0), False),  # Sunday 10:00
]


@pytest.mark.parametrize(("now", "is_open"), WEEKDAY_CASES)
def test_default_window_in_new_york(now: datetime, is_open: bool) -> None:
    assert CallingWindow.parse().is_open_in(NY, now) is is_open


def test_the_instant_is_judged_not_the_zone_it_was_written_in() -> None:
    tokyo = zoneinfo.ZoneInfo("Asia/Tokyo")
    for now, is_open in WEEKDAY_CASES:
        assert CallingWindow.parse().is_open_in(NY, now.astimezone(tokyo)) is is_open
        fixed = now.astimezone(timezone(timedelta(hours=-3)))
        assert CallingWindow.parse().is_open_in(NY, fixed) is is_open


@pytest.mark.parametrize(
    ("now", "is_open"),
    [
        (utc(2026, 1, 9, 21, 59), False),  # Friday 21:59
        (utc(2026, 1, 9, 22, 0), True),  # Friday 22:00: opens on the listed day
        (utc(2026, 1, 10, 1, 59), True),  # Saturday 01:59: still Friday's window
        (utc(2026, 1, 10, 2, 0), False),  # Saturday 02:00
        (utc(2026, 1, 10, 23, 0), False),  # Saturday night: Saturday is not listed
        (utc(2026, 1, 9, 1, 0), False),  # Friday 01:00: Thursday's window, not listed
        (utc(2026, 1, 8, 23, 0), False),  # Thursday night
    ],
)
def test_window_crossing_midnight_belongs_to_the_day_it_opens(now: datetime, is_open: bool) -> None:
    assert window("22:00-02:00", "fri").is_open_in("UTC", now) is is_open


@pytest.mark.parametrize(
    ("now", "is_open"),
    [
        (utc(2026, 1, 9, 23, 59, 59), False),  # Friday
        (utc(2026, 1, 10, 0, 0), True),  # Saturday starts
        (utc(2026, 1, 10, 23, 59, 59), True),
        (utc(2026, 1, 11, 0, 0), False),  # Sunday
    ],
)
def test_all_day_window(now: datetime, is_open: bool) -> None:
    assert window("00:00-24:00", "sat").is_open_in("UTC", now) is is_open


@pytest.mark.parametrize(
    ("now", "is_open"),
    [
        (utc(2026, 1, 5, 19, 59), False),
        (utc(2026, 1, 5, 20, 0), True),
        (utc(2026, 1, 5, 23, 59, 59), True),
        (utc(2026, 1, 6, 0, 0), False),
    ],
)
def test_window_ending_at_24(now: datetime, is_open: bool) -> None:
    assert window("20:00-24:00", "mon").is_open_in("UTC", now) is is_open


def test_naive_now_is_refused() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        CallingWindow.parse().is_open_in(NY, datetime(2026, 1, 5, 15))


def test_unknown_zone_is_an_input_error() -> None:
    with pytest.raises(InputError, match="unknown time zone"):
        CallingWindow.parse().is_open_in("Mars/Olympus_Mons", utc(2026, 1, 5, 15))


# --- DST -----------------------------------------------------------------------------------
# Transitions: US 2026-03-08 07:00Z (02:00 EST -> 03:00 EDT) and 2026-11-01 06:00Z
# (02:00 EDT -> 01:00 EST); EU 2026-03-29 01:00Z and 2026-10-25 01:00Z. All are Sundays.

DST_CASES = [
    # US spring forward: the window follows the local clock across the change.
    ("09:00-20:00", NY, utc(2026, 3, 7, 14, 0), True),  # Sat 09:00 EST
    ("09:00-20:00", NY, utc(2026, 3, 8, 12, 59), False),  # Sun 08:59 EDT
    ("09:00-20:00", NY, utc(2026, 3, 8, 13, 0), True),  # Sun 09:00 EDT
    ("09:00-20:00", NY, utc(2026, 3, 8, 23, 59), True),  # Sun 19:59 EDT
    ("09:00-20:00", NY, utc(2026, 3, 9, 0, 0), False),  # Sun 20:00 EDT
    # A start in the skipped hour takes effect when the clock jumps past it.
    ("02:30-20:00", NY, utc(2026, 3, 8, 6, 59, 59), False),  # 01:59:59 EST
    ("02:30-20:00", NY, utc(2026, 3, 8, 7, 0), True),  # 03:00 EDT
    # An end in the skipped hour closes the window at the jump.
    ("22:00-02:30", NY, utc(2026, 3, 8, 6, 59, 59), True),  # 01:59:59 EST
    ("22:00-02:30", NY, utc(2026, 3, 8, 7, 0), False),  # 03:00 EDT
    # US fall back: the repeated 01:00-02:00 is judged by its clock reading both times.
    ("09:00-20:00", NY, utc(2026, 10, 31, 13, 0), True),  # Sat 09:00 EDT
    ("09:00-20:00", NY, utc(2026, 11, 1, 13, 59), False),  # Sun 08:59 EST
    ("09:00-20:00", NY, utc(2026, 11, 1, 14, 0), True),  # Sun 09:00 EST
    ("22:00-01:30", NY, utc(2026, 11, 1, 5, 29), True),  # 01:29 EDT
    ("22:00-01:30", NY, utc(2026, 11, 1, 5, 30), False),  # 01:30 EDT
    ("22:00-01:30", NY, utc(2026, 11, 1, 6, 0), True),  # 01:00 EST, the repeat: reopens
    ("22:00-01:30", NY, utc(2026, 11, 1, 6, 30), False),  # 01:30 EST
    ("01:30-20:00", NY, utc(2026, 11, 1, 5, 30), True),  # 01:30 EDT
    ("01:30-20:00", NY, utc(2026, 11, 1, 6, 0), False),  # 01:00 EST: the clock is before 01:30
    ("01:30-20:00", NY, utc(2026, 11, 1, 6, 30), True),  # 01:30 EST
    # EU spring forward.
    ("09:00-20:00", BERLIN, utc(2026, 3, 28, 8, 0), True),  # Sat 09:00 CET
    ("09:00-20:00", BERLIN, utc(2026, 3, 29, 6, 59), False),  # Sun 08:59 CEST
    ("09:00-20:00", BERLIN, utc(2026, 3, 29, 7, 0), True),  # Sun 09:00 CEST
    ("02:30-20:00", BERLIN, utc(2026, 3, 29, 0, 59, 59), False),  # 01:59:59 CET
    ("02:30-20:00", BERLIN, utc(2026, 3, 29, 1, 0), True),  # 03:00 CEST
    ("01:30-20:00", LONDON, utc(2026, 3, 29, 0, 59, 59), False),  # 00:59:59 GMT
    ("01:30-20:00", LONDON, utc(2026, 3, 29, 1, 0), True),  # 02:00 BST
    # EU fall back.
    ("09:00-20:00", BERLIN, utc(2026, 10, 25, 7, 59), False),  # Sun 08:59 CET
    ("09:00-20:00", BERLIN, utc(2026, 10, 25, 8, 0), True),  # Sun 09:00 CET
    ("22:00-02:30", BERLIN, utc(2026, 10, 25, 0, 29), True),  # 02:29 CEST
    ("22:00-02:30", BERLIN, utc(2026, 10, 25, 0, 30), False),  # 02:30 CEST
    ("22:00-02:30", BERLIN, utc(2026, 10, 25, 1, 0), True),  # 02:00 CET, the repeat
    ("22:00-02:30", BERLIN, utc(2026, 10, 25, 1, 30), False),  # 02:30 CET
    ("01:30-20:00", LONDON, utc(2026, 10, 25, 0, 30), True),  # 01:30 BST
    ("01:30-20:00", LONDON, utc(2026, 10, 25, 1, 0), False),  # 01:00 GMT
    ("01:30-20:00", LONDON, utc(2026, 10, 25, 1, 30), True),  # 01:30 GMT
]


@pytest.mark.parametrize(("text", "zone", "now", "is_open"), DST_CASES)
def test_dst_days_follow_the_local_clock(
    text: str, zone: str, now: datetime, is_open: bool
) -> None:
    assert window(text).is_open_in(zone, now) is is_open


@pytest.mark.parametrize(
    ("text", "zone", "now", "opening"),
    [
        ("02:30-20:00", NY, utc(2026, 3, 8, 5, 0), utc(2026, 3, 8, 7, 0)),  # the jump
        ("09:00-20:00", NY, utc(2026, 3, 8, 1, 0), utc(2026, 3, 8, 13, 0)),
        ("22:00-01:30", NY, utc(2026, 11, 1, 5, 30), utc(2026, 11, 1, 6, 0)),  # the repeat
        ("01:30-20:00", NY, utc(2026, 11, 1, 5, 0), utc(2026, 11, 1, 5, 30)),  # first 01:30
        ("01:30-20:00", NY, utc(2026, 11, 1, 6, 0), utc(2026, 11, 1, 6, 30)),  # second 01:30
        ("02:30-20:00", BERLIN, utc(2026, 3, 29, 0, 0), utc(2026, 3, 29, 1, 0)),
        ("09:00-20:00", BERLIN, utc(2026, 10, 25, 1, 0), utc(2026, 10, 25, 8, 0)),
        ("01:30-20:00", LONDON, utc(2026, 10, 25, 1, 0), utc(2026, 10, 25, 1, 30)),
    ],
)
def test_next_opening_on_dst_days(text: str, zone: str, now: datetime, opening: datetime) -> None:
    assert window(text).next_opening([zone], now) == opening


# --- several zones -------------------------------------------------------------------------

ALASKA_AND_NY = (ANCHORAGE, NY)


@pytest.mark.parametrize(
    ("now", "is_open"),
    [
        (utc(2026, 1, 5, 17, 59), False),  # NY 12:59 open, Anchorage 08:59 not yet
        (utc(2026, 1, 5, 18, 0), True),  # Anchorage 09:00
        (utc(2026, 1, 6, 0, 59), True),  # NY 19:59
        (utc(2026, 1, 6, 1, 0), False),  # NY 20:00 closed, Anchorage 16:00 open
    ],
)
def test_a_number_in_several_zones_needs_all_of_them_open(now: datetime, is_open: bool) -> None:
    default = CallingWindow.parse()
    assert default.is_open_for(ALASKA_AND_NY, now) is is_open
    assert default.is_open_for(ALASKA_AND_NY[::-1], now) is is_open


def test_zones_disagreeing_on_the_day() -> None:
    # Monday 03:00Z is Monday noon in Tokyo but Sunday 17:00 in Honolulu (not a calling day).
    default = CallingWindow.parse()
    zones = ("Pacific/Honolulu", "Asia/Tokyo")
    assert default.is_open_in("Asia/Tokyo", utc(2026, 1, 5, 3, 0))
    assert not default.is_open_for(zones, utc(2026, 1, 5, 3, 0))
    assert default.next_opening(zones, utc(2026, 1, 5, 3, 0)) == utc(2026, 1, 6, 0, 0)


def test_zones_whose_windows_never_meet() -> None:
    zones = ("Pacific/Honolulu", "Asia/Tokyo")
    assert window("09:00-10:00").next_opening(zones, utc(2026, 1, 5)) is None
    all_day = window("00:00-24:00")
    assert all_day.next_opening(zones, utc(2026, 1, 5, 3, 7)) == utc(2026, 1, 5, 3, 7)


def test_no_zones_is_refused_rather_than_vacuously_open() -> None:
    with pytest.raises(ValueError, match="time zone"):
        CallingWindow.parse().is_open_for([], utc(2026, 1, 5, 15))


# --- next_opening --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("zones", "now", "opening"),
    [
        ((NY,), utc(2026, 1, 5, 15, 7, 3, 42), utc(2026, 1, 5, 15, 7, 3, 42)),  # open: now
        ((NY,), utc(2026, 1, 5, 2, 0), utc(2026, 1, 5, 14, 0)),  # overnight
        ((NY,), utc(2026, 1, 10, 1, 0), utc(2026, 1, 10, 14, 0)),  # Fri 20:00 -> Sat 09:00
        ((NY,), utc(2026, 1, 11, 1, 0), utc(2026, 1, 12, 14, 0)),  # Sat 20:00 -> Mon
        (ALASKA_AND_NY, utc(2026, 1, 5, 12, 0), utc(2026, 1, 5, 18, 0)),
        (ALASKA_AND_NY, utc(2026, 1, 11, 1, 0), utc(2026, 1, 12, 18, 0)),
        (("Asia/Kathmandu",), utc(2026, 1, 5, 0, 0), utc(2026, 1, 5, 3, 15)),  # UTC+05:45
    ],
)
def test_next_opening(zones: tuple[str, ...], now: datetime, opening: datetime) -> None:
    found = CallingWindow.parse().next_opening(zones, now)
    assert found == opening
    assert found is not None and found.tzinfo is UTC


def test_next_opening_stops_at_the_horizon() -> None:
    mondays = window("09:00-20:00", "mon")
    tuesday = utc(2026, 1, 6, 12, 0)
    assert mondays.next_opening(["UTC"], tuesday, horizon_days=3) is None
    assert mondays.next_opening(["UTC"], tuesday, horizon_days=7) == utc(2026, 1, 12, 9, 0)


def minute_by_minute(w: CallingWindow, zones: tuple[str, ...], now: datetime) -> datetime | None:
    for minute in range(14 * 24 * 60 + 1):
        instant = now + timedelta(minutes=minute)
        if w.is_open_for(zones, instant):
            return instant
    return None


@pytest.mark.parametrize(
    ("text", "days", "zones", "now"),
    [
        ("09:00-20:00", "mon-sat", (NY, LONDON), utc(2026, 3, 7, 21, 0)),  # US DST, EU not yet
        ("09:00-13:30", "daily", (NY, LONDON), utc(2026, 3, 5, 0, 0)),  # meet after US DST only
        ("22:00-01:30", "daily", (NY, "America/Chicago"), utc(2026, 11, 1, 5, 30)),
        # Both leave DST on 2026-04-05, Lord Howe by half an hour, Chatham at 03:45 local.
        ("05:00-08:00", "sun", ("Australia/Lord_Howe", "Pacific/Chatham"), utc(2026, 4, 1)),
        ("05:00-07:00", "sun", ("Australia/Lord_Howe", "Pacific/Chatham"), utc(2026, 4, 1)),
    ],
)
def test_next_opening_matches_a_minute_by_minute_scan(
    text: str, days: str, zones: tuple[str, ...], now: datetime
) -> None:
    w = window(text, days)
    assert w.next_opening(zones, now) == minute_by_minute(w, zones, now)


ZONES = [
    "UTC",
    NY,
    LA,
    ANCHORAGE,
    BERLIN,
    LONDON,
    "Asia/Kolkata",
    "Asia/Kathmandu",
    "Australia/Sydney",
    "Australia/Lord_Howe",
    "America/Santiago",
    "Pacific/Chatham",
    "Asia/Tehran",
]
instants = st.datetimes(
    min_value=datetime(2026, 1, 1), max_value=datetime(2027, 1, 1), timezones=st.just(UTC)
)


@settings(max_examples=60, deadline=None)
@given(
    minutes_of_day,
    minutes_of_day,
    st.frozensets(st.integers(0, 6), min_size=1),
    st.lists(st.sampled_from(ZONES), min_size=1, max_size=3, unique=True),
    instants,
)
def test_next_opening_is_open_and_nothing_earlier_is(
    start: time, end: time, days: frozenset[int], zones: list[str], now: datetime
) -> None:
    if start == end and start != time(0):
        return
    w = CallingWindow(start=start, end=end, days=days)
    found = w.next_opening(zones, now)
    until = found if found is not None else now + timedelta(days=14)
    assert found is None or (found >= now and w.is_open_for(zones, found))
    if found is not None and found > now:
        assert not w.is_open_for(zones, found - timedelta(seconds=1))
    probe = now
    while probe < until:
        assert not w.is_open_for(zones, probe)
        probe += timedelta(minutes=7)


# --- zone keys -----------------------------------------------------------------------------


def test_open_zone_keys() -> None:
    keys = [NY, LA, "", f"{ANCHORAGE}|{NY}", NY, "Mars/Olympus_Mons"]
    monday_10_in_ny = utc(2026, 1, 5, 15, 0)
    opened = CallingWindow.parse().open_zone_keys(iter(keys), LONDON, monday_10_in_ny)
    assert opened == [NY, ""]  # LA is at 07:00, Anchorage at 06:00; Mars fails closed


def test_open_zone_keys_with_an_unknown_fallback_fails_closed() -> None:
    opened = CallingWindow.parse().open_zone_keys(["", NY], "Nowhere/City", utc(2026, 1, 5, 15))
    assert opened == [NY]


def test_zones_from_key() -> None:
    assert zones_from_key(f"{ANCHORAGE}|{NY}", "UTC") == (ANCHORAGE, NY)
    assert zones_from_key(NY, "UTC") == (NY,)
    assert zones_from_key("", BERLIN) == (BERLIN,)


# --- time zone names -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "canonical"),
    [(NY, NY), (" america/new_york ", NY), ("utc", "UTC"), ("US/Eastern", "US/Eastern")],
)
def test_validate_timezone(name: str, canonical: str) -> None:
    assert validate_timezone(name) == canonical


@pytest.mark.parametrize(
    "name",
    ["", "Mars/Olympus_Mons", "America", "localtime", "Factory", "../etc/passwd", "/etc/localtime"],
)
def test_validate_timezone_rejects(name: str) -> None:
    with pytest.raises(InputError, match="unknown time zone"):
        validate_timezone(name)


@given(st.text())
def test_validate_timezone_raises_only_input_error(name: str) -> None:
    try:
        canonical = validate_timezone(name)
    except InputError:
        return
    assert canonical in zoneinfo.available_timezones()
