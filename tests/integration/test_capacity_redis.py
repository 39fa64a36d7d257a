"""The Redis account gate against a real server: places shared across processes, a killed
process's places back by lease expiry, the hold and the breaker, Redis down."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

import pytest
import redis

from dialer.capacity.gate import BREAKER_FAILURES, Limits
from dialer.capacity.redis_gate import RedisGate
from dialer.errors import ServiceUnavailable

pytestmark = pytest.mark.redis

_HOLDER = """
import sys, time, redis
from dialer.capacity.gate import Limits
from dialer.capacity.redis_gate import RedisGate
gate = RedisGate(redis.Redis.from_url(sys.argv[1]))
granted = gate.admit("acct", ["w1", "w2", "w3"], Limits(cap=3, lease=float(sys.argv[2]), rate=None))
print(len(granted.waits), flush=True)
time.sleep(600)
"""


@pytest.fixture
def gate(redis_url: str) -> RedisGate:
    return RedisGate(redis.Redis.from_url(redis_url))


def test_places_are_shared_and_stop_at_the_cap(gate: RedisGate, redis_url: str) -> None:
    other = RedisGate(redis.Redis.from_url(redis_url))
    capped = Limits(cap=4, lease=600.0, rate=None)
    assert len(gate.admit("acct", ["a1", "a2", "a3"], capped).waits) == 3
    assert len(other.admit("acct", ["b1", "b2"], capped).waits) == 1
    assert other.state("acct", capped).in_progress == 4
    gate.give_back("acct", ["a1"])
    assert len(other.admit("acct", ["b2", "b3"], capped).waits) == 1


def test_places_and_rate_in_one_step(gate: RedisGate) -> None:
    waits = gate.admit("acct", ["a", "b", "c"], Limits(cap=2, lease=60.0, rate=10.0)).waits
    assert len(waits) == 2
    assert waits[1] - waits[0] == pytest.approx(0.1, abs=0.001)


def test_a_killed_workers_places_come_back_by_lease_expiry(gate: RedisGate, redis_url: str) -> None:
    lease = 1.5
    holder = subprocess.Popen(
        [sys.executable, "-c", _HOLDER, redis_url, str(lease)],
        stdout=subprocess.PIPE,
        text=True,
        env={**os.environ},
    )
    assert holder.stdout is not None
    assert holder.stdout.readline().strip() == "3"
    holder.send_signal(signal.SIGKILL)
    holder.wait()
    capped = Limits(cap=3, lease=lease, rate=None)
    assert gate.admit("acct", ["mine"], capped).waits == []
    assert gate.state("acct", capped).startable == 0
    time.sleep(lease + 0.1)
    assert gate.state("acct", capped).in_progress == 0
    assert len(gate.admit("acct", ["m1", "m2", "m3"], capped).waits) == 3


def test_hold_and_breaker(gate: RedisGate) -> None:
    capped = Limits(cap=5, lease=60.0, rate=None)
    assert gate.report("acct", ok=False, hold_for=0.5).held
    assert gate.admit("acct", ["k"], capped).waits == []
    assert gate.state("acct", capped).held_for is not None
    time.sleep(0.55)
    assert len(gate.admit("acct", ["k"], capped).waits) == 1
    assert gate.state("acct", capped).held_seconds_total == pytest.approx(0.5, abs=0.01)
    for _ in range(BREAKER_FAILURES - 2):
        assert not gate.report("acct", ok=False).breaker_open
    assert gate.report("acct", ok=False).breaker_open
    state = gate.state("acct", capped)
    assert state.open_for is not None and state.next_probe_in is not None
    assert 0 < state.next_probe_in <= 2.0 and state.startable == 0
    time.sleep(0.05)
    before_pause = time.monotonic()
    gate.note_pause("acct")
    paused = gate.state("acct", capped)
    since_pause = time.monotonic() - before_pause
    assert paused.outage_for is not None and paused.open_for is not None
    # The outage counts from the pause (no longer than the two calls took; 1 ms for
    # rounding), the breaker from its opening, at least the 0.05 s slept before.
    assert paused.outage_for <= since_pause + 0.001 and paused.open_for >= 0.05
    assert gate.admit("acct", ["p"], capped).waits == []
    assert not gate.report("acct", ok=True).account_wide
    assert gate.state("acct", capped).open_for is None
    assert len(gate.admit("acct", ["p", "q"], capped).waits) == 2


def test_redis_down_grants_nothing(unused_redis_url: str) -> None:
    down = RedisGate(redis.Redis.from_url(unused_redis_url, socket_connect_timeout=0.5))
    with pytest.raises(ServiceUnavailable):
        down.admit("acct", ["k"], Limits(cap=1, lease=1.0, rate=None))


@pytest.fixture
def unused_redis_url() -> str:
    return "redis://127.0.0.1:1/0"
