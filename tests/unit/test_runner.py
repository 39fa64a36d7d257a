"""The embedded runner in process: MockTransport provider, fake clock, SQLite file.

Backoffs and ticks pass on the fake clock, so retries are waited out in milliseconds.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy.engine import Engine

from campaigns import lifecycle
from campaigns.export import export_rows
from dialer.capacity.gate import BREAKER_FAILURES
from dialer.ledger import campaigns as ledger_campaigns
from dialer.ledger import dispatch as ledger_dispatch
from dialer.ledger.engine import session_scope
from dialer.models import CampaignStatus
from dialer.runner import EmbeddedRunner
from dialer.service import CallService
from tests import fakes
from tests.draining import drain
from tests.fakes import FakeClock, FakeProvider

NY = ["+12125552671", "+12125552672", "+12125552673", "+12125552674", "+12125552675"]
MORE = ["+12125552676", "+12125552677"]


@pytest.fixture
def service_for(
    engine: Engine, clock: FakeClock, provider: FakeProvider
) -> Iterator[Callable[..., CallService]]:
    made: list[CallService] = []

    def make(**account: object) -> CallService:
        made.append(fakes.service(engine, clock, provider, **account))
        return made[-1]

    yield make
    for service in made:
        service.close()


def _wait(condition: Callable[[], bool], timeout: float = 10) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError("condition not met in time")
        time.sleep(0.01)


def test_every_answer_class_ends_in_the_right_state_with_exact_request_counts(
    engine: Engine,
    clock: FakeClock,
    provider: FakeProvider,
    service_for: Callable[..., CallService],
) -> None:
    # Fewer retryable answers in all than open the account's breaker: while it is open a
    # retryable failure is refunded and its contact asked again (README), so with more the
    # request counts would hang on the order in which parallel answers reach the gate.
    service = service_for(max_attempts=2)
    fakes.campaign(engine, clock.now(), [*NY, *MORE])
    ok, flaky, rejected, dropped, throttled = NY
    always_down, hung = MORE
    provider.answer(flaky, "503")
    provider.answer(rejected, "400")
    provider.answer(dropped, "drop")
    provider.answer(throttled, "429:1")
    provider.answer(always_down, always="500")
    provider.answer(hung, "timeout")
    retryable_answers = 1 + 1 + 2  # flaky's 503, throttled's 429, always_down's two 500s
    assert retryable_answers < BREAKER_FAILURES

    drain(service, threads=8)

    contacts = fakes.contacts(engine)
    assert {phone: c.state for phone, c in contacts.items()} == {
        ok: "placed",
        flaky: "placed",
        rejected: "failed",
        dropped: "unknown",
        throttled: "placed",
        always_down: "failed",
        hung: "unknown",
    }
    assert provider.calls == {
        ok: 1,
        flaky: 2,
        rejected: 1,
        dropped: 1,
        throttled: 2,
        always_down: 2,
        hung: 1,
    }
    assert contacts[always_down].last_error.startswith("gave up after 2 attempts")
    assert contacts[flaky].attempts == 2
    with session_scope(engine) as session:
        assert ledger_dispatch.backlog(session, campaign_ids=[1], now=clock.now()).in_flight == 0
        # --drain ends only after a tick that found everything final: that tick completed it.
        assert ledger_campaigns.get_campaign(session, name="spring").status == "completed"


def test_pause_holds_retries_waiting_for_backoff_until_resume(
    engine: Engine,
    clock: FakeClock,
    provider: FakeProvider,
    service_for: Callable[..., CallService],
) -> None:
    service = service_for(backoff_seconds=1.0)
    fakes.campaign(engine, clock.now(), NY[:2])
    provider.answer(NY[0], "503")
    runner = EmbeddedRunner(service, threads=4)
    thread = threading.Thread(target=runner.run, kwargs={"drain": False})
    thread.start()
    try:
        _wait(lambda: provider.calls.total() == 2)
        lifecycle.change(engine, "spring", "pause", now=clock.now())
        # Well past the 1 s (+20% jitter) backoff on the clock, ticking all the while: a
        # retry would have gone out.
        paused_at = clock.now()
        _wait(lambda: (clock.now() - paused_at).total_seconds() > 5)
        assert provider.calls == {NY[0]: 1, NY[1]: 1}
        lifecycle.change(engine, "spring", "resume", now=clock.now())
        _wait(lambda: provider.calls[NY[0]] == 2)
    finally:
        runner.stop()
        thread.join(timeout=30)
    assert fakes.contacts(engine)[NY[0]].state == "placed"


def test_drain_leaves_contacts_outside_their_window_pending(engine: Engine) -> None:
    # Monday 15:00 UTC: 10:00 in New York, midnight in Tokyo.
    clock = FakeClock(datetime(2026, 3, 2, 15, 0, tzinfo=UTC))
    provider = FakeProvider(clock)
    keys = ["America/New_York", "Asia/Tokyo"]
    fakes.campaign(engine, clock.now(), NY[:2], window="09:00-20:00", zone_keys=keys)
    service = fakes.service(engine, clock, provider)
    drain(service)
    assert provider.calls == {NY[0]: 1}
    assert {p: c.state for p, c in fakes.contacts(engine).items()} == {
        NY[0]: "placed",
        NY[1]: "pending",
    }
    with session_scope(engine) as session:
        assert ledger_campaigns.get_campaign(session, name="spring").status == (
            CampaignStatus.RUNNING
        )


def test_refused_credentials_pause_every_campaign_on_the_account(
    engine: Engine,
    clock: FakeClock,
    provider: FakeProvider,
    service_for: Callable[..., CallService],
) -> None:
    service = service_for()
    fakes.campaign(engine, clock.now(), NY[:1])
    fakes.campaign(engine, clock.now(), MORE[:1], name="other")
    provider.answer(NY[0], "401")
    runner = EmbeddedRunner(service, names=["spring"], threads=2)
    runner.run(drain=True)
    with session_scope(engine) as session:
        spring = ledger_campaigns.get_campaign(session, name="spring")
        other = ledger_campaigns.get_campaign(session, name="other")
    assert spring.status == "paused" and "account refused" in spring.status_reason
    assert other.status == "paused"
    assert fakes.contacts(engine)[NY[0]].state == "pending"
    assert provider.calls == {NY[0]: 1}


def test_a_no_answer_contact_is_called_again_until_max_attempts_placed_calls(
    engine: Engine,
    clock: FakeClock,
    provider: FakeProvider,
    service_for: Callable[..., CallService],
) -> None:
    no_answer, busy, fine = NY[:3]
    service = service_for()
    # Re-called after a second: no minimum gap between two calls to a number here.
    service.settings = service.settings.model_copy(update={"min_call_gap": timedelta(0)})
    fakes.campaign(
        engine, clock.now(), [no_answer, busy, fine], max_attempts=2, retry_after_seconds=1
    )
    provider.outcomes.update({no_answer: "no-answer", busy: "busy"})
    runner = EmbeddedRunner(service, threads=4, poll_seconds=0.1)
    thread = threading.Thread(target=runner.run, kwargs={"drain": False})
    thread.start()
    try:
        _wait(lambda: _settled(engine))
        settled_at = clock.now()
        # Past the re-call wait on the clock, ticking and polling all the while: any extra
        # call would have left by now.
        _wait(lambda: (clock.now() - settled_at).total_seconds() > 3)
    finally:
        runner.stop()
        thread.join(timeout=30)

    assert provider.calls == {no_answer: 2, busy: 2, fine: 1}
    by_phone: dict[str, list[str | None]] = {}
    for attempt in fakes.attempts(engine):
        by_phone.setdefault(attempt.phone, []).append(attempt.outcome)
    assert by_phone == {
        no_answer: ["no-answer", "no-answer"],
        busy: ["busy", "busy"],
        fine: ["completed"],
    }
    rows = list(export_rows(engine, "spring"))
    header = rows[0]
    final = {
        row[header.index("phone")]: (row[header.index("status")], row[header.index("attempts")])
        for row in rows[1:]
    }
    assert final == {no_answer: ("no-answer", 2), busy: ("busy", 2), fine: ("completed", 1)}


def _settled(engine: Engine) -> bool:
    """Five calls placed, every one's outcome known, and the campaign completed."""
    with session_scope(engine) as session:
        campaign = ledger_campaigns.get_campaign(session, name="spring")
    made = fakes.attempts(engine)
    return (
        campaign.status == CampaignStatus.COMPLETED
        and len(made) == 5
        and all(a.outcome is not None for a in made)
    )
