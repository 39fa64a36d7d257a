"""An account's ``rate``: what it accepts, and how it sizes claims and dispatch batches."""

from __future__ import annotations

import math

import pytest

from dialer.errors import ConfigError
from dialer.scheduler import dispatch_batches
from dialer.settings import AccountConfig, Settings, parse_rate


@pytest.mark.parametrize(
    ("text", "per_second"),
    [("10/s", 10.0), ("600/m", 10.0), ("1.5 / second", 1.5), ("7200/h", 2.0)],
)
def test_rates_per_unit(text: str, per_second: float) -> None:
    assert parse_rate(text) == per_second


def test_unlimited_is_infinite() -> None:
    assert parse_rate("unlimited") == math.inf
    assert parse_rate(" Unlimited ") == math.inf


@pytest.mark.parametrize("text", ["", "10", "0/s", "-1/s", "10/d", "fast", "inf/s"])
def test_anything_else_is_one_clear_error(text: str) -> None:
    with pytest.raises(ConfigError, match="'10/s', '600/m' or 'unlimited'"):
        parse_rate(text)


def _account(rate: str) -> AccountConfig:
    return AccountConfig(name="a", provider="sandbox", rate=rate)


def test_a_batch_holds_at_most_a_second_of_the_rate() -> None:
    settings = Settings(dispatch_batch=100)
    ids = list(range(45))
    assert [len(b) for b in dispatch_batches(ids, settings, _account("20/s"))] == [20, 20, 5]
    assert [len(b) for b in dispatch_batches(ids, settings, _account("30/m"))] == [1] * 45
    assert dispatch_batches(ids, settings, _account("unlimited")) == [ids]
    big = list(range(250))
    assert [len(b) for b in dispatch_batches(big, settings, _account("unlimited"))] == [
        100,
        100,
        50,
    ]
