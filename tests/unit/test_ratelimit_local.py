"""GCRA step at chosen instants, its window bound as a property, and the in-process limiter."""

from __future__ import annotations

import threading
import time
from itertools import pairwise

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from dialer.errors import RateLimitTimeout
from dialer.ratelimit import (
    LocalRateLimiter,
    Reservation,
    gcra_params,
    gcra_step,
    gcra_steps,
    slot_waits,
)

SECOND = 1_000_000  # µs
T0 = 50 * SECOND  # an arbitrary instant


def test_params_default_to_strict_spacing() -> None:
    assert gcra_params(20) == (50_000, 0)
    assert gcra_params(0.5) == (2 * SECOND, 0)
    assert gcra_params(3) == (333_334, 0)  # rounded up: 3 slots never fit in 1 s + 1 µs


def test_params_pay_for_a_burst_with_sustained_rate() -> None:
    # burst 3 at 20/s: 18/s sustained, so the worst window holds 18 + 3 - 1 = 20
    assert gcra_params(20, burst=3) == (55_556, 111_112)


@pytest.mark.parametrize(
    ("rate", "burst"), [(0, 1), (-1, 1), (float("inf"), 1), (float("nan"), 1), (2, 3), (5, 0)]
)
def test_params_reject_impossible_limits(rate: float, burst: int) -> None:
    with pytest.raises(ValueError):
        gcra_params(rate, burst)


def test_step_grants_a_fresh_key_now() -> None:
    step = gcra_step(0, T0, interval=50_000, tolerance=0, max_wait=0)
    assert step == (True, 0, T0 + 50_000)


def test_step_refuses_without_taking_a_token() -> None:
    step = gcra_step(T0 + 50_000, T0 + 10_000, interval=50_000, tolerance=0, max_wait=0)
    assert step == (False, 40_000, T0 + 50_000)


def test_step_reserves_a_future_slot_within_max_wait() -> None:
    tat = T0 + 50_000
    assert gcra_step(tat, T0, interval=50_000, tolerance=0, max_wait=50_000) == (
        True,
        50_000,
        T0 + 100_000,
    )
    assert gcra_step(tat, T0, interval=50_000, tolerance=0, max_wait=None).granted
    assert not gcra_step(tat, T0, interval=50_000, tolerance=0, max_wait=49_999).granted


def test_step_forgets_an_idle_past() -> None:
    # no credit for idle time beyond the tolerance: the next slot is now, then strict spacing
    step = gcra_step(T0 - 10 * SECOND, T0, interval=50_000, tolerance=0, max_wait=0)
    assert step == (True, 0, T0 + 50_000)


def test_step_tolerance_lets_a_burst_through_then_spaces() -> None:
    interval, tolerance = gcra_params(20, burst=3)
    tat = 0
    waits: list[int] = []
    for _ in range(5):
        step = gcra_step(tat, T0, interval=interval, tolerance=tolerance, max_wait=None)
        tat = step.tat
        waits.append(step.wait)
    assert waits == [0, 0, 0, interval, 2 * interval]


def _assert_window_bound(slots: list[int], per_window: int, window: int = SECOND) -> None:
    """No half-open window [t, t + window) holds more than ``per_window`` of ``slots``."""
    slots = sorted(slots)
    crowded = [
        (slots[i], slots[i + per_window])
        for i in range(len(slots) - per_window)
        if slots[i + per_window] - slots[i] < window
    ]
    assert not crowded, f"{per_window + 1} slots within {window} µs, first at {crowded[0]}"


@settings(max_examples=200, deadline=None)
@given(
    rate=st.integers(1, 40),
    burst=st.integers(1, 4),
    arrivals=st.lists(
        st.tuples(
            st.integers(0, 4 * SECOND),
            st.one_of(st.none(), st.integers(0, 2 * SECOND)),
        ),
        max_size=300,
    ),
)
def test_no_window_ever_holds_more_than_the_rate(
    rate: int, burst: int, arrivals: list[tuple[int, int | None]]
) -> None:
    """Any arrival pattern, any mix of try / bounded / unbounded waits: the bound holds over
    1-s and 2-s windows, and a refused request never moves the TAT."""
    if burst > rate:
        burst = rate
    interval, tolerance = gcra_params(rate, burst)
    tat, slots = 0, []
    for now, max_wait in sorted(arrivals, key=lambda a: a[0]):
        step = gcra_step(tat, T0 + now, interval=interval, tolerance=tolerance, max_wait=max_wait)
        if step.granted:
            slots.append(T0 + now + step.wait)
        else:
            assert step.tat == tat
        tat = step.tat
    _assert_window_bound(slots, rate)
    _assert_window_bound(slots, 2 * rate, 2 * SECOND)


class RecordingLimiter(LocalRateLimiter):
    """The real limiter, remembering the slot of every grant (as whole µs of its clock)."""

    def __init__(self) -> None:
        super().__init__()
        self.slots: list[int] = []
        self.future_slot_taken = threading.Event()

    def reserve(self, key: str, rate_per_second: float, *, max_wait: float | None) -> Reservation:
        reservation = super().reserve(key, rate_per_second, max_wait=max_wait)
        if reservation.granted:
            self.slots.append(round(reservation.at * SECOND))
            if reservation.wait > 0:
                self.future_slot_taken.set()
        return reservation


def test_eight_threads_share_one_pace() -> None:
    rate, seconds = 50.0, 2.0
    limiter = RecordingLimiter()
    returned: list[float] = []
    deadline = time.monotonic() + seconds

    def dial() -> None:
        while (left := deadline - time.monotonic()) > 0:
            try:
                limiter.acquire("acme", rate, timeout=left)
            except RateLimitTimeout:
                return
            returned.append(time.monotonic())

    threads = [threading.Thread(target=dial) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    _assert_window_bound(limiter.slots, int(rate))
    assert len(returned) == len(limiter.slots) >= 0.97 * rate * seconds
    returned.sort()
    achieved = (len(returned) - 1) / (returned[-1] - returned[0])
    assert 0.97 * rate <= achieved <= 1.03 * rate


def test_try_acquire_takes_a_free_token_only() -> None:
    limiter = LocalRateLimiter()
    assert limiter.try_acquire("acme", 1) == 0.0
    first = limiter.try_acquire("acme", 1)
    second = limiter.try_acquire("acme", 1)
    assert 0.9 < second <= first <= 1.0  # the refusals took nothing
    assert limiter.try_acquire("other", 1) == 0.0


def test_acquire_gives_up_at_once_beyond_its_timeout() -> None:
    limiter = LocalRateLimiter()
    limiter.acquire("acme", 1)
    started = time.monotonic()
    with pytest.raises(RateLimitTimeout, match=r"beyond the 0\.5 s timeout") as raised:
        limiter.acquire("acme", 1, timeout=0.5)
    assert time.monotonic() - started < 0.05
    assert raised.value.key == "acme" and 0.9 < raised.value.wait <= 1.0
    assert limiter.try_acquire("acme", 1) <= 1.0  # nothing was reserved


def test_acquire_returns_the_time_it_waited() -> None:
    limiter = LocalRateLimiter()
    assert limiter.acquire("acme", 20) < 0.01
    assert 0.04 <= limiter.acquire("acme", 20) < 0.08


def test_a_sleeping_waiter_holds_no_lock() -> None:
    limiter = RecordingLimiter()
    limiter.acquire("acme", 2)
    waiter = threading.Thread(target=limiter.acquire, args=("acme", 2))
    waiter.start()
    assert limiter.future_slot_taken.wait(1)  # the waiter now sleeps for ~0.5 s
    started = time.monotonic()
    assert limiter.try_acquire("other", 2) == 0.0
    assert limiter.try_acquire("acme", 2) > 0.5  # the waiter's slot is taken: next is after
    assert time.monotonic() - started < 0.05
    waiter.join()


def test_burst_must_be_positive() -> None:
    with pytest.raises(ValueError):
        LocalRateLimiter(burst=0)


@given(
    tat=st.integers(min_value=0, max_value=200 * SECOND),
    rate=st.sampled_from([0.5, 3, 20, 1000, 100_000]),
    burst=st.integers(min_value=1, max_value=3),
    count=st.integers(min_value=1, max_value=50),
)
def test_many_steps_at_once_are_that_many_single_steps(
    tat: int, rate: float, burst: int, count: int
) -> None:
    if rate <= burst - 1:
        return
    interval, tolerance = gcra_params(rate, burst)
    one_by_one: list[int] = []
    stored = tat
    for _ in range(count):
        step = gcra_step(stored, T0, interval=interval, tolerance=tolerance, max_wait=None)
        one_by_one.append(step.wait)
        stored = step.tat
    many = gcra_steps(tat, T0, interval=interval, tolerance=tolerance, count=count)
    assert many.tat == stored
    assert slot_waits(T0, many, interval=interval, tolerance=tolerance, count=count) == one_by_one


def test_reserve_many_continues_the_pace() -> None:
    limiter = LocalRateLimiter()
    waits = limiter.reserve_many("acme", 20, 4)
    assert waits[0] == 0.0
    assert [round(b - a, 3) for a, b in pairwise(waits)] == [0.05] * 3
    assert 0.19 < limiter.reserve("acme", 20, max_wait=None).wait <= 0.2
