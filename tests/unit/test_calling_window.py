"""The calling window in words and its state now (campaigns.calling_window): pure, fixed clock."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from campaigns.calling_window import days_in_words, window_now
from dialer.windows import CallingWindow

# Friday 2026-12-04 14:30 UTC: 09:30 in New York, 06:30 in Los Angeles, 23:30 in Tokyo.
NOW = datetime(2026, 12, 4, 14, 30, tzinfo=UTC)


def test_open_share_and_next_opening_for_the_rest() -> None:
    window = CallingWindow.parse()  # the default: 09:00-20:00 mon-sat
    state = window_now(
        window,
        fallback_zone="America/New_York",
        pending_by_zone_key={"America/New_York": 6, "America/Los_Angeles": 3, "": 1},
        now=NOW,
    )
    assert (state.pending, state.open_now, state.open_percent) == (10, 7, 70)
    assert state.next_opening == datetime(2026, 12, 4, 17, 0, tzinfo=UTC)  # 09:00 in LA
    assert state.is_default
    assert state.summary == (
        "09:00-20:00 in each recipient's own time zone, Monday-Saturday (the default, stricter"
        " than the U.S. TCPA's 08:00-21:00); now open for 70 % of pending contacts;"
        " next opening Fri 17:00 UTC"
    )


def test_a_number_in_zones_never_open_together_has_no_next_opening() -> None:
    window = CallingWindow.parse("09:00-10:00", "daily")
    state = window_now(
        window,
        fallback_zone="UTC",
        pending_by_zone_key={"America/New_York|Asia/Tokyo": 2},
        now=NOW,
    )
    assert (state.open_now, state.open_percent, state.next_opening) == (0, 0, None)
    assert state.summary.endswith("the others never open in the next 14 days")
    assert not state.is_default


def test_nothing_pending_says_only_the_hours() -> None:
    state = window_now(
        CallingWindow.parse("00:00-24:00", "all"),
        fallback_zone="UTC",
        pending_by_zone_key={},
        now=NOW,
    )
    assert state.open_percent is None
    assert state.summary == "00:00-24:00 in each recipient's own time zone, every day"


@pytest.mark.parametrize(
    ("days", "words"),
    [
        ("mon-fri", "Monday-Friday"),
        ("mon,wed,fri", "Monday, Wednesday and Friday"),
        ("sat,sun", "Saturday and Sunday"),
        ("mon,tue,thu-sat", "Monday, Tuesday and Thursday-Saturday"),
        ("daily", "every day"),
        ("wed", "Wednesday"),
    ],
)
def test_days_in_words(days: str, words: str) -> None:
    assert days_in_words(CallingWindow.parse("09:00-17:00", days)) == words
