"""place_calls in process: a provider behind httpx.MockTransport, a fake clock, a SQLite file.

What happened to each contact (the DispatchResult), what the ledger says and how many
requests the provider received: all three, for every way a batch can go.
"""

from __future__ import annotations

import itertools
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy.engine import Engine

from dialer.dispatch.protocol import place_call, place_calls
from dialer.dispatch.results import DispatchResult
from dialer.errors import ServiceUnavailable
from dialer.ledger import campaigns as ledger_campaigns
from dialer.ledger import dispatch as ledger_dispatch
from dialer.ledger.engine import session_scope
from dialer.models import GLOBAL_SCOPE, CampaignStatus, Suppression
from dialer.ratelimit import Reservation
from dialer.service import CallService
from tests import fakes
from tests.fakes import NEW_YORK, FakeClock, FakeProvider

NY = ["+12125552671", "+12125552672", "+12125552673", "+12125552674", "+12125552675"]
MORE = ["+12125552676", "+12125552677", "+12125552678"]


@pytest.fixture
def service(engine: Engine, clock: FakeClock, provider: FakeProvider) -> CallService:
    made = fakes.service(engine, clock, provider)
    yield made  # type: ignore[misc]
    made.close()


def _claim(engine: Engine, now: datetime, count: int, keys: list[str] | None = None) -> list[int]:
    with session_scope(engine) as session:
        claimed = ledger_dispatch.claim_due(
            session, campaign_id=1, zone_keys=keys or [NEW_YORK], now=now, limit=count
        )
    assert len(claimed) == count
    return claimed


def test_one_batch_sorts_out_every_contact_on_its_own(
    engine: Engine, clock: FakeClock, provider: FakeProvider, service: CallService
) -> None:
    fakes.campaign(engine, clock.now(), NY)
    claimed = _claim(engine, clock.now(), len(NY))
    with session_scope(engine) as session:
        session.add(Suppression(phone=NY[1], campaign_id=GLOBAL_SCOPE, created_at=clock.now()))
        ledger_dispatch.release_claims(session, contact_ids=[claimed[2]], now=clock.now())
    provider.answer(NY[4], always="503")

    results = place_calls(service, claimed)

    assert results == dict(
        zip(
            claimed,
            [
                DispatchResult.PLACED,
                DispatchResult.SUPPRESSED,
                DispatchResult.NOT_QUEUED,
                DispatchResult.PLACED,
                DispatchResult.PENDING,
            ],
            strict=True,
        )
    )
    assert all(type(result) is DispatchResult for result in results.values())
    assert provider.calls == {NY[0]: 1, NY[3]: 1, NY[4]: 1}
    states = {phone: c.state for phone, c in fakes.contacts(engine).items()}
    assert states == dict(
        zip(NY, ["placed", "cancelled", "pending", "placed", "pending"], strict=True)
    )
    # A redelivered batch finds nothing queued: no request.
    assert set(place_calls(service, claimed).values()) == {DispatchResult.NOT_QUEUED}
    assert provider.calls.total() == 3


def test_each_answer_leads_to_the_contacts_next_state(
    engine: Engine, clock: FakeClock, provider: FakeProvider, service: CallService
) -> None:
    phones = [*NY, *MORE]
    ok, down, rejected, dropped, hung, refused, throttled, refused_creds = phones
    fakes.campaign(engine, clock.now(), phones)
    for phone, answer in [
        (down, "503"),
        (rejected, "400"),
        (dropped, "drop"),
        (hung, "timeout"),
        (refused, "refused"),
        (throttled, "429:30"),
        (refused_creds, "401"),
    ]:
        provider.answer(phone, answer)
    claimed = _claim(engine, clock.now(), len(phones))
    before = clock.now()

    results = place_calls(service, claimed)

    assert [results[i] for i in claimed] == [
        DispatchResult.PLACED,
        DispatchResult.PENDING,
        DispatchResult.FAILED,
        DispatchResult.UNKNOWN,
        DispatchResult.UNKNOWN,
        DispatchResult.PENDING,
        DispatchResult.PENDING,
        DispatchResult.PENDING,
    ]
    assert provider.calls == dict.fromkeys(phones, 1)
    contacts = fakes.contacts(engine)
    assert contacts[ok].provider_call_id is not None
    assert contacts[ok].provider_call_id.startswith("SBX-")
    assert contacts[rejected].last_error == "sandbox: HTTP 400: sandbox 400"
    assert contacts[dropped].last_error.startswith("sandbox: no answer after sending")
    assert contacts[refused].last_error.startswith("sandbox: could not connect")
    # Backoff 0.2 s (+ jitter) for a 5xx; the provider's Retry-After wins over it.
    down_at = contacts[down].next_attempt_at
    throttled_at = contacts[throttled].next_attempt_at
    assert down_at is not None and throttled_at is not None
    assert before < down_at < before + timedelta(seconds=5)
    assert throttled_at >= before + timedelta(seconds=29)
    # Refused credentials: not the contact's fault. It waits; every campaign on the account stops.
    assert contacts[refused_creds].state == "pending"
    assert contacts[refused_creds].last_error.startswith("account refused: ")
    with session_scope(engine) as session:
        spring = ledger_campaigns.get_campaign(session, name="spring")
    assert spring.status == CampaignStatus.PAUSED
    assert "account refused" in spring.status_reason
    assert len(fakes.attempts(engine)) == len(phones)


def test_a_retryable_answer_on_the_last_attempt_fails_the_contact(
    engine: Engine, clock: FakeClock, provider: FakeProvider, service: CallService
) -> None:
    fakes.campaign(engine, clock.now(), NY[:1])
    provider.answer(NY[0], always="503")
    for attempt in (1, 2, 3):
        (contact_id,) = _claim(engine, clock.now() + timedelta(hours=attempt), 1)
        result = place_call(service, contact_id)
        assert result == (DispatchResult.PENDING if attempt < 3 else DispatchResult.FAILED)
    contact = fakes.contacts(engine)[NY[0]]
    assert contact.state == "failed" and contact.attempts == 3
    assert contact.last_error == "gave up after 3 attempts: sandbox: HTTP 503: sandbox 503"
    assert provider.calls == {NY[0]: 3}


class _DownLimiter:
    """A rate limiter whose store cannot be reached."""

    def reserve(self, key: str, rate_per_second: float, *, max_wait: float | None) -> Reservation:
        raise ServiceUnavailable("redis down")

    def reserve_many(self, key: str, rate_per_second: float, count: int) -> list[float]:
        raise ServiceUnavailable("redis down")

    def acquire(self, key: str, rate_per_second: float, *, timeout: float | None = None) -> float:
        raise ServiceUnavailable("redis down")

    def try_acquire(self, key: str, rate_per_second: float) -> float:
        raise ServiceUnavailable("redis down")


@pytest.mark.parametrize(("rate", "placed"), [("unlimited", True), ("200/s", False)])
def test_an_unlimited_account_never_asks_the_limiter(
    engine: Engine, clock: FakeClock, provider: FakeProvider, rate: str, placed: bool
) -> None:
    # Asking a limiter that is down at all hands the batch back undialed.
    service = fakes.service(engine, clock, provider, limiter=_DownLimiter(), rate=rate)
    try:
        fakes.campaign(engine, clock.now(), NY[:3])
        results = place_calls(service, _claim(engine, clock.now(), 3))
    finally:
        service.close()
    if placed:
        assert set(results.values()) == {DispatchResult.PLACED}
        assert provider.calls == dict.fromkeys(NY[:3], 1)
    else:
        assert set(results.values()) == {DispatchResult.LIMITER_UNAVAILABLE}
        assert provider.calls == {}
        assert {c.state for c in fakes.contacts(engine).values()} == {"pending"}


def test_dispatch_checks_the_window_again_whatever_the_claim_let_through(
    engine: Engine, provider: FakeProvider, tmp_path: Path
) -> None:
    # Monday 15:00 UTC: 10:00 in New York, 07:00 in Los Angeles.
    clock = FakeClock(datetime(2026, 3, 2, 15, 0, tzinfo=UTC))
    service = fakes.service(engine, clock, FakeProvider(clock))
    keys = [NEW_YORK, "America/Los_Angeles"]
    fakes.campaign(engine, clock.now(), NY[:2], window="09:00-20:00", zone_keys=keys)
    # As a claim made just before the window closed there would.
    claimed = _claim(engine, clock.now(), 2, keys)
    try:
        results = place_calls(service, claimed)
    finally:
        service.close()
    assert [results[i] for i in claimed] == [
        DispatchResult.PLACED,
        DispatchResult.WINDOW_CLOSED,
    ]
    assert {p: c.state for p, c in fakes.contacts(engine).items()} == {
        NY[0]: "placed",
        NY[1]: "pending",
    }


@pytest.mark.parametrize(
    ("status", "result", "state"),
    [
        (CampaignStatus.PAUSED, DispatchResult.CAMPAIGN_NOT_RUNNING, "pending"),
        (CampaignStatus.CANCELLED, DispatchResult.CANCELLED, "cancelled"),
    ],
)
def test_a_campaign_that_stopped_after_the_claim_gets_no_call(
    engine: Engine,
    clock: FakeClock,
    provider: FakeProvider,
    service: CallService,
    status: CampaignStatus,
    result: DispatchResult,
    state: str,
) -> None:
    fakes.campaign(engine, clock.now(), NY[:2])
    claimed = _claim(engine, clock.now(), 2)
    with session_scope(engine) as session:
        ledger_campaigns.set_status(
            session,
            campaign_id=1,
            expected=[CampaignStatus.RUNNING],
            new=status,
            now=clock.now(),
            reason="test",
        )
    assert set(place_calls(service, claimed).values()) == {result}
    assert provider.calls == {}
    assert {c.state for c in fakes.contacts(engine).values()} == {state}


def test_a_stopping_service_hands_every_claim_back(
    engine: Engine, clock: FakeClock, provider: FakeProvider, service: CallService
) -> None:
    fakes.campaign(engine, clock.now(), NY[:3])
    claimed = _claim(engine, clock.now(), 3)
    service.stopping.set()
    assert set(place_calls(service, claimed).values()) == {DispatchResult.STOPPED}
    assert provider.calls == {}
    assert {c.state for c in fakes.contacts(engine).values()} == {"pending"}


def test_a_paced_batch_waits_for_its_slots_on_the_clock(
    engine: Engine, clock: FakeClock, provider: FakeProvider
) -> None:
    service = fakes.service(engine, clock, provider, rate="4/s")
    fakes.campaign(engine, clock.now(), NY)
    try:
        results = place_calls(service, _claim(engine, clock.now(), len(NY)))
    finally:
        service.close()
    assert set(results.values()) == {DispatchResult.PLACED}
    assert provider.calls == dict.fromkeys(NY, 1)
    waits = [attempt.rate_wait_ms or 0 for attempt in fakes.attempts(engine)]
    # 4/s paced SEND_JITTER slower: a slot every ~256 ms, waited out on the fake clock.
    assert waits[0] == 0
    assert all(250 <= later - earlier <= 260 for earlier, later in itertools.pairwise(waits))
    assert clock.slept >= 0.9


def test_one_log_line_per_attempt_without_the_number(
    engine: Engine,
    clock: FakeClock,
    provider: FakeProvider,
    service: CallService,
    caplog: pytest.LogCaptureFixture,
) -> None:
    fakes.campaign(engine, clock.now(), NY[:2])
    provider.answer(NY[1], "400")
    with caplog.at_level("INFO", logger="dialer"):
        place_calls(service, _claim(engine, clock.now(), 2))
    lines = [r.getMessage() for r in caplog.records if r.getMessage().startswith("attempt ")]
    assert len(lines) == 2
    for line in lines:
        assert "campaign=spring" in line and "account=sandbox" in line and "latency_ms=" in line
        assert not any(phone[2:] in line for phone in NY)
    assert sorted(line.split("result=")[1].split()[0] for line in lines) == ["failed", "placed"]
