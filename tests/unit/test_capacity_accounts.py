"""An account's capacity as status reads it: the sustainable rate, and the one-line state."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy.engine import Engine

from campaigns.status import campaign_report
from dialer.capacity import accounts as capacity
from dialer.capacity.gate import BREAKER_FAILURES, LocalGate
from dialer.ratelimit import LocalRateLimiter
from dialer.settings import AccountConfig
from tests import fakes
from tests.fakes import FakeClock

NOON = datetime(2026, 12, 4, 12, 0, tzinfo=UTC)


def _account(**fields: object) -> AccountConfig:
    return AccountConfig.model_validate({"name": "a", "provider": "sandbox", **fields})


def test_the_tighter_of_rate_and_cap_over_call_length() -> None:
    assert capacity.calls_per_second(_account(rate="50/s"), 2.0) == 50
    capped = _account(rate="50/s", concurrent_calls=10)
    assert capacity.calls_per_second(capped, 2.0) == 5
    # No outcome yet: the lease is the only length known.
    assert capacity.calls_per_second(capped, None) == pytest.approx(10 / 600)
    assert capacity.calls_per_second(_account(rate="2/s", concurrent_calls=10), 2.0) == 2


def test_one_line_for_status(engine: Engine, clock: FakeClock) -> None:
    gate = LocalGate(LocalRateLimiter(), clock.monotonic)
    account = _account(concurrent_calls=10)
    found = capacity.capacity_of(gate, account, NOON)
    assert found is not None
    assert capacity.describe(found) == "0 of 10 calls in progress; breaker closed"
    for _ in range(BREAKER_FAILURES):
        gate.report("a", ok=False)
    gate.report("a", ok=False, hold_for=30)
    clock.advance(1.0)
    found = capacity.capacity_of(gate, account, NOON)
    assert found is not None
    assert capacity.describe(found) == (
        "0 of 10 calls in progress; breaker open since 11:59:59 UTC, next probe "
        "12:00:01 UTC; held until 12:00:29 UTC (Retry-After)"
    )


def test_status_shows_the_accounts_capacity_and_estimates_with_the_cap(
    engine: Engine, clock: FakeClock
) -> None:
    settings = fakes.settings(engine, rate="50/s", concurrent_calls=2, call_lease=60)
    fakes.campaign(engine, clock.now(), [f"+1212555{5000 + i:04d}" for i in range(240)])
    gate = LocalGate(LocalRateLimiter(), clock.monotonic)
    report = campaign_report(engine, settings, "spring", now=clock.now(), gate=gate)
    assert report.capacity == "0 of 2 calls in progress; breaker closed"
    # 2 calls held up to 60 s each: 2/m, so 240 contacts need 2 hours.
    assert "at 2/m" in report.estimate and "2.0 hours" in report.estimate
    assert report.to_json()["capacity"] == report.capacity
