"""Each account's capacity in ``GET /accounts`` and ``/metrics``, read from the Redis gate the
workers share (a broker is configured)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
import redis
from fastapi.testclient import TestClient
from sqlalchemy.engine import Engine

from dialer.api.app import create_app
from dialer.capacity.gate import BREAKER_FAILURES, Limits
from dialer.capacity.redis_gate import RedisGate
from dialer.settings import AccountConfig
from tests.api.conftest import API_KEY, api_settings

pytestmark = pytest.mark.redis


@pytest.fixture
def capped_client(
    sqlite_url: str, sqlite_engine: Engine, tmp_path: Path, redis_url: str
) -> Iterator[TestClient]:
    settings = api_settings(sqlite_url, broker_url=redis_url)
    capped = AccountConfig.model_validate(
        {"name": "capped", "provider": "sandbox", "concurrent_calls": 3}
    )
    settings = settings.model_copy(update={"accounts": {**settings.accounts, "capped": capped}})
    app = create_app(settings, sqlite_engine, tmp_path / "files")
    with TestClient(app, headers={"X-API-Key": API_KEY}) as client:
        yield client


def test_accounts_and_metrics_show_places_breaker_and_hold(
    capped_client: TestClient, redis_url: str
) -> None:
    gate = RedisGate(redis.Redis.from_url(redis_url))
    gate.admit("capped", ["a", "b"], Limits(cap=3, lease=60.0, rate=None))
    for _ in range(BREAKER_FAILURES):
        gate.report("sandbox", ok=False)
    gate.report("sandbox", ok=False, hold_for=30.0)

    accounts = {a["name"]: a for a in capped_client.get("/accounts").json()}
    capped = accounts["capped"]["capacity"]
    assert capped == {"in_progress": 2, "cap": 3, "breaker": "closed"}
    sandbox = accounts["sandbox"]["capacity"]
    assert sandbox["breaker"] == "open" and "cap" not in sandbox
    assert sandbox["open_since"] and sandbox["next_probe_at"] and sandbox["held_until"]

    text = capped_client.get("/metrics").text
    assert 'dialer_calls_in_progress{account="capped"} 2.0' in text
    assert 'dialer_call_cap{account="capped"} 3.0' in text
    assert 'dialer_call_cap{account="sandbox"}' not in text
    assert 'dialer_account_breaker_open{account="sandbox"} 1.0' in text
    assert 'dialer_account_breaker_open{account="capped"} 0.0' in text
    assert 'dialer_account_held_seconds_total{account="sandbox"} 30.0' in text


def test_one_account_shows_its_capacity_as_the_list_does(
    capped_client: TestClient, redis_url: str
) -> None:
    gate = RedisGate(redis.Redis.from_url(redis_url))
    gate.admit("capped", ["a"], Limits(cap=3, lease=60.0, rate=None))
    gate.report("capped", ok=False, hold_for=20.0)

    one = capped_client.get("/accounts/capped").json()
    listed = {a["name"]: a for a in capped_client.get("/accounts").json()}["capped"]
    # The same fields; held_until is read anew by each request, so it moves by the gap.
    assert one["capacity"].keys() == listed["capacity"].keys()
    assert one["capacity"] | {"held_until": None} == listed["capacity"] | {"held_until": None}
    assert (one["capacity"]["in_progress"], one["capacity"]["cap"]) == (1, 3)
    held = datetime.fromisoformat(one["capacity"]["held_until"]) - datetime.now(UTC)
    assert one["capacity"]["breaker"] == "closed" and 15 < held.total_seconds() <= 20
    assert (
        one["messages"]
        == listed["messages"]
        == [
            "intro",
            "voicemail",
            "instructions",
            "intro_notes",
            "questions",
            "rules",
        ]
    )
