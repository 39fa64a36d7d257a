"""Retry timing: exponential backoff with jitter, Retry-After, user durations."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from dialer.backoff import (
    RETRY_AFTER_CAP,
    RetryPolicy,
    next_attempt_at,
    nominal_delay,
    parse_duration,
    parse_retry_after,
    retries_left,
)
from dialer.errors import InputError

NOW = datetime(2026, 3, 8, 6, 59, 30, tzinfo=UTC)


def seconds(value: float) -> timedelta:
    return timedelta(seconds=value)


# --- the policy ----------------------------------------------------------------------------


def test_default_policy() -> None:
    assert RetryPolicy() == RetryPolicy(
        max_attempts=5, base_seconds=30.0, factor=2.0, cap_seconds=3600.0, jitter=0.2
    )


@pytest.mark.parametrize(
    "kwargs",
    [
        {"max_attempts": 0},
        {"base_seconds": 0},
        {"base_seconds": 7200},  # above the cap
        {"factor": 0.5},
        {"factor": float("nan")},
        {"jitter": 1.0},
        {"jitter": -0.1},
    ],
)
def test_nonsense_policies_are_input_errors(kwargs: dict[str, Any]) -> None:
    with pytest.raises(InputError) as caught:
        RetryPolicy(**kwargs)
    assert "\n" not in str(caught.value)


@pytest.mark.parametrize(("attempts", "allowed"), [(0, True), (1, True), (4, True), (5, False)])
def test_retries_left_counts_every_attempt(attempts: int, allowed: bool) -> None:
    assert retries_left(RetryPolicy(max_attempts=5), attempts) is allowed


# --- backoff -------------------------------------------------------------------------------


def test_nominal_delay_doubles_up_to_the_cap() -> None:
    delays = [nominal_delay(RetryPolicy(), n).total_seconds() for n in range(1, 10)]
    assert delays == [30, 60, 120, 240, 480, 960, 1920, 3600, 3600]


def test_nominal_delay_is_monotonic_and_capped_even_for_absurd_counts() -> None:
    policy = RetryPolicy(base_seconds=1.5, factor=3.0, cap_seconds=1000)
    delays = [nominal_delay(policy, n) for n in [*range(1, 200), 10**6, 10**12]]
    assert delays == sorted(delays)
    assert delays[-1] == seconds(1000)


def test_factor_one_is_a_constant_delay() -> None:
    policy = RetryPolicy(factor=1.0)
    assert {nominal_delay(policy, n) for n in range(1, 50)} == {seconds(30)}


def test_attempts_made_starts_at_one() -> None:
    with pytest.raises(ValueError, match="attempts_made"):
        next_attempt_at(RetryPolicy(), 0, NOW)


def test_without_jitter_the_delay_is_exact() -> None:
    policy = RetryPolicy(jitter=0)
    assert next_attempt_at(policy, 3, NOW) == NOW + seconds(120)


def test_jitter_spreads_within_its_bounds() -> None:
    rng = random.Random(7)
    policy = RetryPolicy()
    for attempts in range(1, 12):
        nominal = nominal_delay(policy, attempts)
        waits = {next_attempt_at(policy, attempts, NOW, rng=rng) - NOW for _ in range(200)}
        assert len(waits) > 100  # contacts failing together come back apart
        assert all(nominal * 0.8 <= wait <= nominal * 1.2 for wait in waits)


def test_a_seeded_rng_repeats() -> None:
    first = next_attempt_at(RetryPolicy(), 2, NOW, rng=random.Random(1))
    assert next_attempt_at(RetryPolicy(), 2, NOW, rng=random.Random(1)) == first


@given(
    st.integers(1, 10_000),
    st.floats(0.1, 600),
    st.floats(1, 10),
    st.floats(0, 0.99),
    st.integers(0, 2**32),
)
def test_jittered_delay_bounds(
    attempts: int, base: float, factor: float, jitter: float, seed: int
) -> None:
    policy = RetryPolicy(base_seconds=base, factor=factor, cap_seconds=base * 100, jitter=jitter)
    wait = next_attempt_at(policy, attempts, NOW, rng=random.Random(seed)) - NOW
    nominal = nominal_delay(policy, attempts)
    tolerance = timedelta(microseconds=1)  # timedelta arithmetic rounds to microseconds
    assert nominal * (1 - jitter) - tolerance <= wait <= nominal * (1 + jitter) + tolerance
    assert nominal <= seconds(policy.cap_seconds)
    assert nominal_delay(policy, attempts + 1) >= nominal


def test_retry_after_wins_over_backoff_either_way() -> None:
    policy = RetryPolicy(jitter=0)
    assert next_attempt_at(policy, 1, NOW, retry_at=NOW + seconds(5)) == NOW + seconds(5)
    assert next_attempt_at(policy, 1, NOW, retry_at=NOW + seconds(7200)) == NOW + seconds(7200)


def test_retry_after_is_never_earlier_than_now() -> None:
    assert next_attempt_at(RetryPolicy(), 3, NOW, retry_at=NOW - seconds(60)) == NOW


def test_results_are_utc_whatever_zone_now_was_given_in() -> None:
    eastern = NOW.astimezone(timezone(timedelta(hours=-5)))
    found = next_attempt_at(RetryPolicy(jitter=0), 1, eastern)
    assert found == NOW + seconds(30)
    assert found.tzinfo is UTC


def test_naive_times_are_refused() -> None:
    with pytest.raises(ValueError, match="now"):
        next_attempt_at(RetryPolicy(), 1, datetime(2026, 1, 1))
    with pytest.raises(ValueError, match="retry_at"):
        next_attempt_at(RetryPolicy(), 1, NOW, retry_at=datetime(2026, 1, 1))


# --- Retry-After ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("120", NOW + seconds(120)),
        (" 0 ", NOW),
        ("-5", NOW),
        ("1.5", NOW + seconds(1.5)),
        ("99999999", NOW + RETRY_AFTER_CAP),
        ("9" * 5000, NOW + RETRY_AFTER_CAP),
        ("Sun, 08 Mar 2026 07:30:00 GMT", datetime(2026, 3, 8, 7, 30, tzinfo=UTC)),
        ("Sunday, 08-Mar-26 07:30:00 GMT", datetime(2026, 3, 8, 7, 30, tzinfo=UTC)),  # RFC 850
        ("Sun Mar  8 07:30:00 2026", datetime(2026, 3, 8, 7, 30, tzinfo=UTC)),  # asctime
        ("Sun, 08 Mar 2026 02:30:00 -0500", datetime(2026, 3, 8, 7, 30, tzinfo=UTC)),
        ("Sat, 07 Mar 2026 07:30:00 GMT", NOW),  # in the past
        ("Fri, 01 Jan 2027 00:00:00 GMT", NOW + RETRY_AFTER_CAP),
    ],
)
def test_parse_retry_after(value: str, expected: datetime) -> None:
    parsed = parse_retry_after(value, NOW)
    assert parsed == expected
    assert parsed is not None and parsed.tzinfo is UTC


@pytest.mark.parametrize(
    "value", [None, "", "   ", "soon", "12abc", "1e5", "0x10", "Sun, 99 Foo 2026 07:30:00 GMT"]
)
def test_unreadable_retry_after_is_none(value: str | None) -> None:
    assert parse_retry_after(value, NOW) is None


@given(
    st.one_of(
        st.text(),
        st.integers(-(10**30), 10**30).map(str),
        st.floats(-1e6, 1e12).map(lambda value: f"{value:f}"),
    )
)
def test_any_retry_after_lands_between_now_and_the_cap(value: str) -> None:
    parsed = parse_retry_after(value, NOW)
    assert parsed is None or NOW <= parsed <= NOW + RETRY_AFTER_CAP


# --- durations -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("30s", seconds(30)),
        ("15m", timedelta(minutes=15)),
        ("2h", timedelta(hours=2)),
        ("1d", timedelta(days=1)),
        ("1h30m", timedelta(hours=1, minutes=30)),
        (" 1H 30M ", timedelta(hours=1, minutes=30)),
        ("2d3h4m5s", timedelta(days=2, hours=3, minutes=4, seconds=5)),
        ("0s", timedelta(0)),
        ("90m", timedelta(minutes=90)),
    ],
)
def test_parse_duration(text: str, expected: timedelta) -> None:
    assert parse_duration(text) == expected


@pytest.mark.parametrize(
    "text",
    ["", "30", "abc", "1x", "m", "30m1h", "-5m", "1.5h", "9999999999d", "999999999d99h", "x\ny"],
)
def test_parse_duration_rejects_with_one_line(text: str) -> None:
    with pytest.raises(InputError, match="duration") as caught:
        parse_duration(text)
    assert "\n" not in str(caught.value)


duration_parts = st.tuples(
    st.integers(0, 10**10), st.sampled_from("dhmsDHMS x"), st.sampled_from(["", " "])
)
messy_durations = st.lists(duration_parts, max_size=5).map(
    lambda parts: "".join(f"{number}{unit}{space}" for number, unit, space in parts)
)


@given(st.one_of(st.text(), messy_durations))
def test_parse_duration_raises_only_input_error(text: str) -> None:
    try:
        parsed = parse_duration(text)
    except InputError:
        return
    assert parsed >= timedelta(0)
