"""Pacing on a fake clock: slots reserved in one step, a late send taking a fresh slot, and
an unlimited account never asking the limiter."""

from __future__ import annotations

import pytest

from dialer.dispatch.pacing import SEND_JITTER, Pacer, Slot, pace
from dialer.ratelimit import LocalRateLimiter, Reservation
from dialer.settings import AccountConfig
from tests.fakes import FakeClock


def _account(rate: str) -> AccountConfig:
    return AccountConfig.model_validate({"name": "acme", "provider": "sandbox", "rate": rate})


class _CountingLimiter(LocalRateLimiter):
    def __init__(self) -> None:
        super().__init__()
        self.asked: list[str] = []

    def reserve(self, key: str, rate_per_second: float, *, max_wait: float | None) -> Reservation:
        self.asked.append("reserve")
        return super().reserve(key, rate_per_second, max_wait=max_wait)

    def reserve_many(self, key: str, rate_per_second: float, count: int) -> list[float]:
        self.asked.append("reserve_many")
        return super().reserve_many(key, rate_per_second, count)


def test_the_limiter_paces_send_jitter_slower_than_the_account() -> None:
    assert pace(_account("10/s")) == pytest.approx(10 / (1 + SEND_JITTER))
    assert pace(_account("unlimited")) is None


def test_a_batch_reserves_its_slots_in_one_step_on_the_clock() -> None:
    clock, limiter = FakeClock(), _CountingLimiter()
    slots = Pacer(limiter, clock, _account("4/s")).reserve(4)
    assert limiter.asked == ["reserve_many"]
    start = clock.monotonic()
    # 4/s paced SEND_JITTER slower: one slot every 256.25 ms, counted from the reservation.
    for k, slot in enumerate(slots):
        assert slot.at - start == pytest.approx(k * 0.25625, abs=2e-6)
        assert abs(slot.wait_ms - k * 256.25) <= 1


def test_an_unlimited_account_never_asks_the_limiter() -> None:
    clock, limiter = FakeClock(), _CountingLimiter()
    pacer = Pacer(limiter, clock, _account("unlimited"))
    slots = pacer.reserve(3)
    assert [slot.wait_ms for slot in slots] == [0, 0, 0]
    pacer.await_slot(Slot(at=clock.monotonic() - 5, wait_ms=0))  # late, and no matter
    assert limiter.asked == []


def test_a_send_waits_for_its_slot_and_only_that() -> None:
    clock, limiter = FakeClock(), _CountingLimiter()
    pacer = Pacer(limiter, clock, _account("4/s"))
    pacer.await_slot(Slot(at=clock.monotonic() + 0.5, wait_ms=500))
    assert clock.slept == pytest.approx(0.5)
    assert limiter.asked == []


def test_a_send_later_than_the_jitter_takes_a_fresh_slot() -> None:
    clock, limiter = FakeClock(), _CountingLimiter()
    pacer = Pacer(limiter, clock, _account("4/s"))
    pacer.await_slot(Slot(at=clock.monotonic() - SEND_JITTER / 2, wait_ms=0))
    assert limiter.asked == []
    pacer.await_slot(Slot(at=clock.monotonic() - SEND_JITTER * 2, wait_ms=0))
    assert limiter.asked == ["reserve"]
