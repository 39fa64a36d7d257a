"""The in-process account gate on a fake clock: places and leases, the hold, the breaker."""

from __future__ import annotations

import pytest

from dialer.capacity.gate import (
    BREAKER_FAILURES,
    FIRST_PROBE,
    LAST_PROBE,
    Limits,
    LocalGate,
)
from dialer.ratelimit import LocalRateLimiter
from tests.fakes import FakeClock

CAPPED = Limits(cap=3, lease=600.0, rate=None)


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def gate(clock: FakeClock) -> LocalGate:
    return LocalGate(LocalRateLimiter(), clock.monotonic)


def test_places_stop_at_the_cap_and_come_back_when_given(gate: LocalGate) -> None:
    assert len(gate.admit("a", ["k1", "k2"], CAPPED).waits) == 2
    assert len(gate.admit("a", ["k3", "k4", "k5"], CAPPED).waits) == 1
    assert gate.admit("a", ["k6"], CAPPED).waits == []
    assert gate.state("a", CAPPED).in_progress == 3
    assert gate.state("a", CAPPED).startable == 0
    gate.give_back("a", ["k1", "k3"])
    assert len(gate.admit("a", ["k6", "k7", "k8"], CAPPED).waits) == 2
    # Accounts are apart.
    assert len(gate.admit("b", ["k1", "k2", "k3"], CAPPED).waits) == 3


def test_a_place_never_given_back_comes_back_at_its_lease(
    gate: LocalGate, clock: FakeClock
) -> None:
    short = Limits(cap=2, lease=30.0, rate=None)
    assert len(gate.admit("a", ["k1", "k2"], short).waits) == 2
    clock.advance(29.0)
    assert gate.admit("a", ["k3"], short).waits == []
    clock.advance(1.0)
    assert gate.state("a", short).in_progress == 0
    assert len(gate.admit("a", ["k3", "k4"], short).waits) == 2


def test_no_cap_grants_everything_and_keeps_no_places(gate: LocalGate) -> None:
    free = Limits(cap=None, lease=600.0, rate=None)
    assert len(gate.admit("a", [f"k{i}" for i in range(50)], free).waits) == 50
    assert gate.state("a", free).in_progress == 0
    assert gate.state("a", free).startable is None


def test_places_and_rate_slots_together(gate: LocalGate) -> None:
    waits = gate.admit("a", ["k1", "k2", "k3", "k4"], Limits(cap=3, lease=600.0, rate=10.0)).waits
    assert len(waits) == 3
    assert waits[1] - waits[0] == pytest.approx(0.1, abs=0.01)


def test_retry_after_holds_the_whole_account(gate: LocalGate, clock: FakeClock) -> None:
    verdict = gate.report("a", ok=False, hold_for=10.0)
    assert verdict.held and verdict.account_wide and not verdict.breaker_open
    assert gate.admit("a", ["k1"], CAPPED).waits == []
    held = gate.state("a", CAPPED)
    assert held.held_for == pytest.approx(10.0) and held.startable == 0
    clock.advance(10.0)
    assert len(gate.admit("a", ["k1"], CAPPED).waits) == 1
    assert gate.state("a", CAPPED).held_seconds_total == pytest.approx(10.0)


def test_the_breaker_opens_probes_at_growing_intervals_and_closes_on_success(
    gate: LocalGate, clock: FakeClock
) -> None:
    for _ in range(BREAKER_FAILURES - 1):
        assert not gate.report("a", ok=False).account_wide
    assert gate.report("a", ok=False).breaker_open
    assert gate.admit("a", ["k1", "k2"], CAPPED).waits == []
    intervals = []
    for _ in range(8):
        waited = 0.0
        while not (admission := gate.admit("a", ["p1", "p2"], CAPPED)).waits:
            clock.advance(0.5)
            waited += 0.5
        assert admission.probe and len(admission.waits) == 1
        # One probe at a time: nothing more until the next one is due.
        assert gate.admit("a", ["p3"], CAPPED).waits == []
        gate.give_back("a", ["p1"])
        assert gate.report("a", ok=False, probe=True).breaker_open
        intervals.append(waited)
    assert intervals[0] == pytest.approx(FIRST_PROBE)
    assert intervals == sorted(intervals) and max(intervals) == pytest.approx(LAST_PROBE)
    state = gate.state("a", CAPPED)
    assert state.open_for is not None and state.open_for > 100
    clock.advance(LAST_PROBE)
    assert gate.admit("a", ["p4"], CAPPED).probe
    assert not gate.report("a", ok=True, probe=True).account_wide
    assert len(gate.admit("a", ["k5", "k6"], CAPPED).waits) == 2
    assert gate.state("a", CAPPED).open_for is None


def test_the_first_probe_is_due_after_the_gates_own_interval(clock: FakeClock) -> None:
    gate = LocalGate(LocalRateLimiter(), clock.monotonic, first_probe=0.5)
    for _ in range(BREAKER_FAILURES):
        gate.report("a", ok=False)
    clock.advance(0.4)
    assert gate.admit("a", ["p1"], CAPPED).waits == []
    clock.advance(0.1)
    assert gate.admit("a", ["p1"], CAPPED).probe
    # A failed probe doubles the gate's interval, and a success starts from it again.
    gate.report("a", ok=False, probe=True)
    clock.advance(0.9)
    assert gate.admit("a", ["p2"], CAPPED).waits == []
    clock.advance(0.1)
    assert gate.admit("a", ["p2"], CAPPED).probe
    gate.report("a", ok=True, probe=True)
    gate.give_back("a", ["p1", "p2"])
    for _ in range(BREAKER_FAILURES):
        gate.report("a", ok=False)
    clock.advance(0.5)
    assert gate.admit("a", ["p3"], CAPPED).probe


def test_a_success_between_failures_keeps_the_breaker_closed(gate: LocalGate) -> None:
    for _ in range(3):
        for _ in range(BREAKER_FAILURES - 1):
            gate.report("a", ok=False)
        gate.report("a", ok=True)
    assert gate.state("a", CAPPED).open_for is None
