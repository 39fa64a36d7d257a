"""When a number held back by its recent calls may be called again, and when its contact
may be called at all (window, days, zones, DST): pure functions."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from dialer.holds import callable_from, number_free_at
from dialer.models import Campaign

T = datetime(2026, 3, 4, 15, 0, tzinfo=UTC)
HOUR = timedelta(hours=1)


def test_the_gap_counts_from_the_newest_call() -> None:
    calls = [T - 3 * HOUR, T - 10 * timedelta(minutes=1)]
    assert number_free_at(calls, now=T, frequency_cap=0, min_call_gap=HOUR) == T + 50 * (HOUR / 60)
    assert number_free_at([T - HOUR], now=T, frequency_cap=0, min_call_gap=HOUR) is None
    assert number_free_at([], now=T, frequency_cap=0, min_call_gap=HOUR) is None


def test_the_cap_frees_the_number_when_its_capth_newest_call_leaves_the_day() -> None:
    calls = [T - 20 * HOUR, T - 5 * HOUR, T - 1 * HOUR]
    # Cap 3: three in the last 24 h, the oldest of them leaves at T + 4 h.
    assert number_free_at(calls, now=T, frequency_cap=3, min_call_gap=timedelta(0)) == T + 4 * HOUR
    # Cap 2: the 2nd newest (T - 5 h) must leave: T + 19 h.
    assert number_free_at(calls, now=T, frequency_cap=2, min_call_gap=timedelta(0)) == T + 19 * HOUR
    assert number_free_at(calls, now=T, frequency_cap=4, min_call_gap=timedelta(0)) is None
    # Both rules: the later wins.
    assert number_free_at(calls, now=T, frequency_cap=3, min_call_gap=6 * HOUR) == T + 5 * HOUR


def _campaign(**fields: object) -> Campaign:
    values: dict[str, object] = {
        "name": "c",
        "account": "a",
        "created_at": T,
        "window": "09:00-20:00",
        "days": "mon-fri",
        **fields,
    }
    return Campaign.model_validate(values)


def test_callable_from_is_the_next_opening_in_the_contacts_zones_across_dst() -> None:
    campaign = _campaign(days="all")
    ny = "America/New_York"
    # Saturday 7 March 2026 20:30 EST is closed; Sunday 09:00 is EDT (13:00 UTC).
    late = datetime(2026, 3, 8, 1, 30, tzinfo=UTC)
    assert callable_from(campaign, ny, late) == datetime(2026, 3, 8, 13, 0, tzinfo=UTC)
    # Open already: itself.
    assert callable_from(campaign, ny, T) == T
    # A number in two zones: when both are open (Los Angeles opens three hours later).
    both = f"{ny}|America/Los_Angeles"
    early = datetime(2026, 3, 4, 14, 0, tzinfo=UTC)  # 09:00 New York, 06:00 Los Angeles
    assert callable_from(campaign, both, early) == datetime(2026, 3, 4, 17, 0, tzinfo=UTC)


def test_callable_from_skips_the_campaigns_days_and_waits_for_its_start() -> None:
    friday_evening = datetime(2026, 3, 7, 2, 0, tzinfo=UTC)  # Fri 6 March 21:00 EST
    monday_9am = datetime(2026, 3, 9, 13, 0, tzinfo=UTC)  # EDT by then
    assert callable_from(_campaign(), "America/New_York", friday_evening) == monday_9am
    starts = datetime(2026, 3, 11, 15, 0, tzinfo=UTC)
    assert callable_from(_campaign(start_at=starts), "America/New_York", T) == starts
