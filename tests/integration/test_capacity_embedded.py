"""Capacity in embedded mode against the sandbox over real HTTP (SQLite and Postgres): the
cap counted at the sandbox, and a provider outage that fails nobody.

The issue's outage lasts 30 s; here it lasts 3 s (the sandbox's ``POST /_sandbox/outage``
takes any length) and the gate's first probe is due 1 s after the breaker opens (2 s in
production) so the suite stays fast: the breaker opens after five failures either way, and
3 s already spans several probe intervals (1 s, 2 s).
"""

from __future__ import annotations

import itertools
from collections import Counter
from datetime import datetime
from pathlib import Path

import httpx
import pytest
from sqlalchemy.engine import Engine
from sqlmodel import col, select

from dialer.capacity.gate import LocalGate
from dialer.clock import SystemClock
from dialer.ledger.engine import session_scope
from dialer.models import Contact
from dialer.ratelimit import LocalRateLimiter
from dialer.service import CallService
from dialer.wiring import build_service
from tests.campaign_support import sandbox_campaign, sandbox_settings
from tests.draining import drain

PHONES = [f"+1212555{4000 + i:04d}" for i in range(16)]
FIRST_PROBE = 1.0  # seconds from the breaker opening to its first probe, in the outage test


def _states(engine: Engine) -> Counter[str]:
    with session_scope(engine) as session:
        return Counter(session.exec(select(col(Contact.state))).all())


def _placed_requests(sandbox_url: str) -> Counter[str]:
    records = httpx.get(f"{sandbox_url}/_sandbox/requests").json()
    return Counter(r["phone"] for r in records if r["phone"] and r["status"] == 200)


def test_embedded_keeps_within_the_cap(
    engine: Engine, database_url: str, sandbox_url: str, tmp_path: Path
) -> None:
    config = {"max_concurrent_calls": 3, "call_duration_ms": 300}
    httpx.post(f"{sandbox_url}/_sandbox/config", json=config).raise_for_status()
    settings = sandbox_settings(
        database_url, sandbox_url, rate="100/s", poll_seconds=0.2, concurrent_calls=3
    )
    sandbox_campaign(engine, settings, tmp_path, PHONES)
    service = build_service(settings, engine)
    try:
        drain(service, threads=8, poll_seconds=0.2)
    finally:
        service.close()
    assert _states(engine) == {"placed": len(PHONES)}
    assert _placed_requests(sandbox_url) == dict.fromkeys(PHONES, 1)
    load = httpx.get(f"{sandbox_url}/_sandbox/load").json()
    assert load["refused"] == {} and load["most"] == {"sandbox": 3}


@pytest.mark.alone  # times requests at the sandbox
def test_an_outage_fails_nobody_and_is_probed_sparingly(
    engine: Engine, database_url: str, sandbox_url: str, tmp_path: Path
) -> None:
    settings = sandbox_settings(database_url, sandbox_url, rate="100/s", poll_seconds=0.2)
    sandbox_campaign(engine, settings, tmp_path, PHONES)
    httpx.post(f"{sandbox_url}/_sandbox/outage", json={"seconds": 3}).raise_for_status()
    # What build_service makes in embedded mode, with the gate's first probe sooner.
    clock, limiter = SystemClock(), LocalRateLimiter()
    gate = LocalGate(limiter, clock.monotonic, first_probe=FIRST_PROBE)
    service = CallService(engine, settings, limiter, clock=clock, gate=gate)
    try:
        drain(service, threads=8, poll_seconds=0.2)
    finally:
        service.close()
    assert _states(engine) == {"placed": len(PHONES)}
    assert _placed_requests(sandbox_url) == dict.fromkeys(PHONES, 1)
    records = httpx.get(f"{sandbox_url}/_sandbox/requests").json()
    refused = sorted(
        datetime.fromisoformat(r["received_at"]).timestamp()
        for r in records
        if r["phone"] and r["status"] == 503
    )
    # The first burst (every contact's request left before the first answers opened the
    # breaker: at most one each), then probes alone, at least FIRST_PROBE apart: in 3 s,
    # one at 1 s and one at 3 s (the interval doubled), at most one more.
    burst = [t for t in refused if t < refused[0] + FIRST_PROBE / 2]
    probes = refused[len(burst) :]
    assert 5 <= len(burst) <= len(PHONES)
    assert 1 <= len(probes) <= 3
    assert probes[0] - refused[0] >= FIRST_PROBE - 0.2
    assert all(b - a >= FIRST_PROBE - 0.2 for a, b in itertools.pairwise(probes))
