"""Finish-time estimates: simulated dialing against the window, at chosen instants."""

from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from dialer.feasibility import HORIZON, Estimate, estimate_finish
from dialer.windows import CallingWindow

NY = "America/New_York"
LA = "America/Los_Angeles"
MONDAY_7_IN_NY = datetime(2026, 3, 2, 12, 0, tzinfo=UTC)  # EST: New York opens at 14:00Z


def estimate(
    pending: dict[str, int],
    *,
    rate: float = 5.0,
    now: datetime = MONDAY_7_IN_NY,
    start: datetime | None = None,
    end: datetime | None = None,
    window: CallingWindow | None = None,
    fallback: str = NY,
) -> Estimate:
    return estimate_finish(
        pending_by_zone_key=pending,
        window=window or CallingWindow.parse(),
        fallback_zone=fallback,
        rate_per_second=rate,
        now=now,
        start=start,
        end=end,
    )


def close_to(found: datetime | None, expected: datetime) -> bool:
    return found is not None and abs(found - expected) < timedelta(seconds=1)


def test_one_day_of_dialing_that_fits() -> None:
    result = estimate({NY: 180_000}, end=MONDAY_7_IN_NY + timedelta(days=2))
    # 180,000 at 5/s is 10 hours: 09:00 to 19:00 New York time.
    assert result.finish_at == datetime(2026, 3, 3, 0, 0, tzinfo=UTC)
    assert (result.contacts, result.open_hours_needed, result.fits_before_end) == (
        180_000,
        10,
        True,
    )
    assert result.left_at_end == 0
    assert result.message == (
        "at 5/s inside 09:00-20:00 mon-sat, 180,000 contacts need 10.0 hours of dialing;"
        " done in about 12.0 hours (2026-03-03 00:00 UTC); the campaign ends in 2.0 days"
    )


def test_three_days_of_dialing_for_a_two_day_campaign() -> None:
    # 11 open hours a day at 5/s is 198,000 a day: Monday, Tuesday, then 104,000 on Wednesday.
    result = estimate({NY: 500_000}, end=MONDAY_7_IN_NY + timedelta(days=2))
    assert close_to(result.finish_at, datetime(2026, 3, 4, 19, 46, 40, tzinfo=UTC))
    assert not result.fits_before_end
    assert result.left_at_end == 104_000
    assert result.message == (
        "at 5/s inside 09:00-20:00 mon-sat, 500,000 contacts need 27.8 hours of dialing;"
        " done in about 2.3 days (2026-03-04 19:46 UTC);"
        " the campaign ends in 2.0 days: about 104,000 would be left"
    )


def test_sunday_is_skipped_and_monday_opens_an_hour_earlier_in_utc_after_dst() -> None:
    saturday_18_in_ny = datetime(2026, 3, 7, 23, 0, tzinfo=UTC)
    # Two hours on Saturday evening; Sunday is not a calling day (and New York moves to EDT);
    # Monday opens at 09:00 EDT = 13:00Z for the last hour.
    result = estimate({NY: 54_000}, now=saturday_18_in_ny)
    assert close_to(result.finish_at, datetime(2026, 3, 9, 14, 0, tzinfo=UTC))
    assert result.fits_before_end  # no end: fits when it finishes at all


def test_a_future_start_delays_everything() -> None:
    start = MONDAY_7_IN_NY + timedelta(days=1)  # Tuesday 12:00Z, before the window opens
    result = estimate({NY: 18_000}, start=start)
    assert close_to(result.finish_at, datetime(2026, 3, 3, 15, 0, tzinfo=UTC))
    assert "done in about 27.0 hours" in result.message  # counted from now, not from the start


def test_open_zones_share_the_rate() -> None:
    monday_9_in_ny = datetime(2026, 1, 5, 14, 0, tzinfo=UTC)
    # New York alone until Los Angeles opens at 17:00Z (3 hours, 10,800 at 1/s); then the
    # remaining 7,200 + 18,000 share 1/s for 7 hours, before New York closes at 01:00Z.
    result = estimate({NY: 18_000, LA: 18_000}, rate=1, now=monday_9_in_ny)
    assert close_to(result.finish_at, datetime(2026, 1, 6, 0, 0, tzinfo=UTC))
    assert result.message.startswith("at 1/s inside")


def test_slow_rates_are_shown_per_minute() -> None:
    assert estimate({NY: 10}, rate=0.5).message.startswith("at 30/m inside")


def test_unknown_zone_key_uses_the_fallback() -> None:
    monday_9_in_tokyo = datetime(2026, 1, 5, 0, 0, tzinfo=UTC)
    result = estimate({"": 3_600}, rate=1, now=monday_9_in_tokyo, fallback="Asia/Tokyo")
    assert close_to(result.finish_at, datetime(2026, 1, 5, 1, 0, tzinfo=UTC))


def test_quarter_hour_zones_are_simulated_exactly() -> None:
    # Kathmandu is UTC+05:45: 09:00-10:00 there is 03:15Z-04:15Z.
    result = estimate(
        {"Asia/Kathmandu": 1_800},
        rate=1,
        now=datetime(2026, 1, 5, 0, 0, tzinfo=UTC),
        window=CallingWindow.parse("09:00-10:00"),
    )
    assert close_to(result.finish_at, datetime(2026, 1, 5, 3, 45, tzinfo=UTC))


def test_keys_whose_zones_never_meet_in_the_window_are_reported() -> None:
    never = "Asia/Tokyo|Pacific/Honolulu"
    result = estimate(
        {never: 10, NY: 3_600, "Mars/Base": 5},
        rate=1,
        window=CallingWindow.parse("09:00-10:00"),
        end=MONDAY_7_IN_NY + timedelta(days=3),
    )
    assert result.finish_at is None
    assert not result.fits_before_end
    assert result.left_at_end == 15
    assert result.message == (
        "at 1/s inside 09:00-10:00 mon-sat, 3,615 contacts need 60 minutes of dialing;"
        " 15 are never inside the window in all their zones at once;"
        " the rest done in about 3.0 hours (2026-03-02 15:00 UTC);"
        " the campaign ends in 3.0 days: about 15 would be left"
    )


def test_nothing_to_dial() -> None:
    result = estimate({NY: 0}, end=MONDAY_7_IN_NY - timedelta(days=1))
    assert result == Estimate(
        finish_at=MONDAY_7_IN_NY,
        contacts=0,
        open_hours_needed=0.0,
        fits_before_end=True,
        message="nothing left to dial",
        left_at_end=0,
    )


def test_an_end_in_the_past() -> None:
    result = estimate({NY: 100}, end=MONDAY_7_IN_NY - timedelta(hours=1))
    assert not result.fits_before_end
    assert result.left_at_end == 100
    assert result.message.endswith("the campaign's end has passed: about 100 would be left")


def test_an_end_in_the_middle_of_a_step_counts_what_is_left_then() -> None:
    end = datetime(2026, 3, 2, 14, 7, 30, tzinfo=UTC)  # 7.5 minutes into the window
    result = estimate({NY: 10_000}, rate=10, end=end)
    assert result.left_at_end == 10_000 - 4_500


def test_more_than_the_horizon() -> None:
    result = estimate({NY: 10**9}, rate=1)
    assert result.finish_at is None
    assert result.message.endswith(f"; not done within {HORIZON.days} days")


def test_rate_must_be_positive() -> None:
    with pytest.raises(ValueError, match="rate_per_second"):
        estimate({NY: 1}, rate=0)


ZONE_KEYS = ["", NY, LA, "America/Anchorage|America/New_York", "Europe/Berlin", "Asia/Tokyo"]


@settings(max_examples=25, deadline=None)
@given(
    st.dictionaries(st.sampled_from(ZONE_KEYS), st.integers(-5, 50_000), max_size=4),
    st.floats(0.5, 50),
    st.datetimes(
        min_value=datetime(2026, 1, 1), max_value=datetime(2027, 1, 1), timezones=st.just(UTC)
    ),
    st.none() | st.timedeltas(timedelta(days=-2), timedelta(days=20)),
)
def test_estimates_are_consistent(
    pending: dict[str, int], rate: float, now: datetime, end_in: timedelta | None
) -> None:
    end = None if end_in is None else now + end_in
    result = estimate(pending, rate=rate, now=now, end=end)
    assert result.contacts == sum(count for count in pending.values() if count > 0)
    assert 0 <= result.left_at_end <= result.contacts
    assert "\n" not in result.message
    if result.finish_at is not None:
        # Nobody dials faster than the rate.
        assert result.finish_at - now >= timedelta(seconds=result.contacts / rate - 1)
    if result.contacts == 0:
        # Nothing left to dial fits any end, even one already past.
        assert result.fits_before_end and result.left_at_end == 0
        return
    assert result.fits_before_end == (
        result.finish_at is not None and (end is None or result.finish_at <= end)
    )


def test_an_unlimited_account_is_done_when_the_window_opens() -> None:
    result = estimate({NY: 180_000}, rate=math.inf)
    # 07:00 in New York: nothing is dialed before 09:00, then everything at once.
    assert result.finish_at == datetime(2026, 3, 2, 14, 0, tzinfo=UTC)
    assert result.open_hours_needed == 0 and result.fits_before_end
    assert result.message.startswith("with no rate limit inside 09:00-20:00 mon-sat, 180,000")
