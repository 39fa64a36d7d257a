"""Capacity end to end in process (embedded runner, fake clock, MockTransport provider):
the concurrent-call cap, an outage that opens the breaker, and one long enough to pause."""

from __future__ import annotations

import itertools

import httpx
import pytest
from sqlalchemy.engine import Engine

from campaigns import lifecycle
from dialer.capacity.gate import FIRST_PROBE, LAST_PROBE, AccountState, Limits, LocalGate
from dialer.ledger import campaigns as ledger_campaigns
from dialer.ledger.engine import session_scope
from dialer.polling import poll_outcomes
from dialer.ratelimit import LocalRateLimiter
from dialer.service import CallService
from tests import fakes
from tests.draining import drain
from tests.fakes import FakeClock, FakeProvider

PHONES = [f"+1212555{2600 + i:04d}" for i in range(12)]


class WatchedGate(LocalGate):
    """The in-process gate, remembering the most places it ever held at once."""

    def __init__(self, clock: FakeClock) -> None:
        super().__init__(LocalRateLimiter(), clock.monotonic)
        self.most = 0

    def admit(self, account: str, keys: list[str], limits: Limits):  # type: ignore[no-untyped-def,override]
        admission = super().admit(account, keys, limits)
        self.most = max(self.most, self.state(account, limits).in_progress)
        return admission


class Outage:
    """The fake provider behind an account-wide outage: every call request is answered 503
    until ``until`` (the fake clock's monotonic time)."""

    def __init__(self, provider: FakeProvider, clock: FakeClock, seconds: float) -> None:
        self._inner = provider.transport()
        self._clock = clock
        self.until = clock.monotonic() + seconds
        self.refused: list[float] = []

    def transport(self) -> httpx.BaseTransport:
        return httpx.MockTransport(self._handle)

    def _handle(self, request: httpx.Request) -> httpx.Response:
        now = self._clock.monotonic()
        if request.method == "POST" and now < self.until:
            self.refused.append(now)
            return httpx.Response(503, json={"error": "down"})
        return self._inner.handle_request(request)


def _service(
    engine: Engine,
    clock: FakeClock,
    transport: object,
    gate: LocalGate,
    tick_seconds: float = 0.1,
    **account: object,
) -> CallService:
    settings = fakes.settings(engine, **account).model_copy(update={"tick_seconds": tick_seconds})
    return CallService(
        engine,
        settings,
        LocalRateLimiter(),
        transport=transport,  # type: ignore[arg-type]
        clock=clock,
        gate=gate,
    )


def test_calls_in_progress_never_exceed_the_cap_and_places_come_back_by_outcome(
    engine: Engine, clock: FakeClock, provider: FakeProvider
) -> None:
    gate = WatchedGate(clock)
    service = _service(engine, clock, provider.transport, gate, concurrent_calls=3)
    fakes.campaign(engine, clock.now(), PHONES)
    limits = Limits(cap=3, lease=600.0, rate=None)
    try:
        drain(service, threads=8, poll_seconds=1.0)
        contacts = fakes.contacts(engine)
        assert {c.state for c in contacts.values()} == {"placed"}
        assert provider.calls == dict.fromkeys(PHONES, 1)
        assert gate.most == 3
        # The drain ends with the last calls in progress; their outcomes give the places back.
        assert gate.state("sandbox", limits).in_progress == 3
        poll_outcomes(service, clock.now())
        assert gate.state("sandbox", limits).in_progress == 0
    finally:
        service.close()


def test_an_outage_opens_the_breaker_probes_sparingly_and_fails_nobody(
    engine: Engine, clock: FakeClock, provider: FakeProvider
) -> None:
    outage = Outage(provider, clock, seconds=30)
    gate = LocalGate(LocalRateLimiter(), clock.monotonic)
    # max_attempts 3: without the breaker, the outage would fail every contact.
    service = _service(engine, clock, outage.transport, gate, concurrent_calls=4)
    fakes.campaign(engine, clock.now(), PHONES)
    try:
        drain(service, threads=8, poll_seconds=1.0)
    finally:
        service.close()
    contacts = fakes.contacts(engine)
    assert {c.state for c in contacts.values()} == {"placed"}
    assert provider.calls == dict.fromkeys(PHONES, 1)  # each placed once, after the outage
    # Before the breaker opened: at most the failures that open it (and those in flight).
    opened_at = sorted(outage.refused)[4]
    probes = [t for t in outage.refused if t >= opened_at + FIRST_PROBE - 0.01]
    gaps = [b - a for a, b in itertools.pairwise(probes)]
    assert probes and min(gaps) >= FIRST_PROBE - 0.01
    assert len(outage.refused) <= 5 + 4 + 30 / FIRST_PROBE
    # No contact spent its budget on the outage beyond the failures before it opened.
    assert max(c.attempts for c in contacts.values()) <= 2


def test_a_long_outage_pauses_the_campaign_with_the_reason_and_resume_finishes_it(
    engine: Engine, clock: FakeClock, provider: FakeProvider
) -> None:
    outage = Outage(provider, clock, seconds=20 * 60)
    gate = LocalGate(LocalRateLimiter(), clock.monotonic)
    # Ticks of 5 s of fake time: 15 minutes of outage in a few hundred ticks.
    service = _service(engine, clock, outage.transport, gate, 5.0, outage_pause=15 * 60)
    fakes.campaign(engine, clock.now(), PHONES[:4])
    try:
        drain(service, threads=4, poll_seconds=1.0)
        with session_scope(engine) as session:
            campaign = ledger_campaigns.get_campaign(session, name="spring")
        assert campaign.status == "paused"
        assert "provider outage" in campaign.status_reason
        assert {c.state for c in fakes.contacts(engine).values()} == {"pending"}
        # Probes kept coming, at most one a minute once the interval has grown.
        late = [t for t in outage.refused if t > outage.refused[0] + 300]
        assert late and len(late) <= 600 / LAST_PROBE + 2
        clock.advance(outage.until - clock.monotonic())
        lifecycle.change(engine, "spring", "resume", now=clock.now())
        drain(service, threads=4, poll_seconds=1.0)
    finally:
        service.close()
    assert {c.state for c in fakes.contacts(engine).values()} == {"placed"}
    assert provider.calls == dict.fromkeys(PHONES[:4], 1)


def test_a_healthy_account_still_ends_a_number_that_keeps_failing(
    engine: Engine, clock: FakeClock, provider: FakeProvider
) -> None:
    gate = LocalGate(LocalRateLimiter(), clock.monotonic)
    service = _service(engine, clock, provider.transport, gate, concurrent_calls=2)
    provider.answer(PHONES[0], always="503")
    fakes.campaign(engine, clock.now(), PHONES[:6])
    try:
        drain(service, threads=4, poll_seconds=1.0)
    finally:
        service.close()
    contacts = fakes.contacts(engine)
    assert contacts[PHONES[0]].state == "failed"
    assert contacts[PHONES[0]].last_error.startswith("gave up after 3 attempts")
    assert all(contacts[p].state == "placed" for p in PHONES[1:6])


def test_account_state_startable() -> None:
    assert AccountState(in_progress=2, cap=3).startable == 1
    assert AccountState(in_progress=0, cap=None).startable is None
    assert AccountState(in_progress=0, cap=3, held_for=2.0).startable == 0
    assert AccountState(in_progress=0, cap=3, open_for=5.0, next_probe_in=1.0).startable == 0
    assert AccountState(in_progress=0, cap=3, open_for=5.0, next_probe_in=0.0).startable == 1


@pytest.fixture(autouse=True)
def _quiet_clock(clock: FakeClock) -> None:
    assert clock.monotonic() >= 1000.0
