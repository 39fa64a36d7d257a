"""Outbound webhooks delivered for real: calls dialed at the sandbox, their events sent to a
receiver over HTTP, verified with ``standardwebhooks``; SQLite and Postgres."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy.engine import Engine

from dialer.ledger import deliveries
from dialer.ledger.engine import session_scope
from dialer.service import CallService
from dialer.webhooks.deliver import Courier, deliver_due
from dialer.webhooks.subscriptions import subscribe
from dialer.wiring import build_service
from tests.outcome_support import dial_all, make_campaign, outcome_settings
from tests.procs import wait_until
from tests.sandbox_fixture import SandboxControl
from tests.webhook_receiver import Receiver, always, flaky
from tests.webhook_support import endpoint, events, fake_clock

# The timeout of an endpoint whose receiver never hangs: the default 0.3 s (shorter than the
# receiver's hang) timed a request out on a loaded machine, and left events pending.
ANSWERS_AT_ONCE = 5.0

PHONES = [f"+1212555{n:04d}" for n in range(100, 112)]


@pytest.fixture
def dialer(engine: Engine, database_url: str, sandbox_url: str) -> Iterator[CallService]:
    with SandboxControl(sandbox_url) as control:
        control.configure(call_duration_ms=3_600_000, webhooks=False)
    made = build_service(outcome_settings(database_url, sandbox_url), engine)
    yield made
    made.providers.close()


def _dial(engine: Engine, dialer: CallService, tmp_path: Path, url: str, **fields: object) -> None:
    """Subscribe an endpoint at ``url``, then dial PHONES (the runner itself delivers nothing:
    its settings have no webhooks)."""
    subscribe(engine, [endpoint(url, **fields)])
    make_campaign(engine, dialer.settings, tmp_path, PHONES, name="spring", account="sandbox")
    dial_all(dialer)


def test_every_event_reaches_a_flaky_receiver_exactly_once(
    engine: Engine, dialer: CallService, tmp_path: Path
) -> None:
    with Receiver(flaky, hang_seconds=0.6) as receiver:
        _dial(engine, dialer, tmp_path, receiver.url)
        written = events(engine)
        assert Counter(e.event_type for e in written) == {
            "call.placed": len(PHONES),
            "campaign.completed": 1,
        }
        clock = fake_clock()
        courier = Courier(engine, [endpoint(receiver.url)], clock=clock)
        try:
            passes = 0
            while clock.jump_to_next_due(engine):
                deliver_due(courier)
                passes += 1
                assert passes < 300, "never settled"
        finally:
            courier.close()
    settled = events(engine)
    assert {e.state for e in settled} == {"delivered"}
    assert set(receiver.processed) == {e.message_id for e in written}
    assert max(receiver.acknowledged.values()) == 1  # never sent again after a 200
    assert receiver.bad_signatures == 0
    # The misbehaviour happened: the same ids came again (after 500s, drops and hangs).
    assert sum(receiver.tries.values()) > len(written)
    assert all(e.tries == receiver.tries[e.message_id] for e in settled)
    with session_scope(engine) as session:
        counts = deliveries.delivery_counts(session)
    assert counts[("crm", "delivered")] == len(written)
    assert counts[("crm", "failed")] == sum(receiver.tries.values()) - len(written)


def test_the_runner_delivers_what_it_made_true(
    engine: Engine, database_url: str, sandbox_url: str, tmp_path: Path
) -> None:
    with Receiver() as receiver:
        hook = endpoint(receiver.url, include_lead=True, events=["call.placed"])
        settings = outcome_settings(database_url, sandbox_url, webhooks=[hook])
        dialer = build_service(settings, engine)
        try:
            make_campaign(engine, settings, tmp_path, PHONES[:3], name="spring", account="sandbox")
            dial_all(dialer)
        finally:
            dialer.providers.close()
    assert [e.state for e in events(engine)] == ["delivered"] * 3
    bodies = sorted(receiver.processed.values(), key=lambda b: b["data"]["contact"]["row"])
    assert [b["type"] for b in bodies] == ["call.placed"] * 3
    first = bodies[0]["data"]
    assert first["campaign"]["name"] == "spring"
    assert first["campaign"]["account"] == "sandbox"
    assert first["contact"]["phone"] == PHONES[0]
    assert first["contact"]["lead"] == {"first_name": "Lead0", "phone": PHONES[0]}
    assert first["call"]["status"] == "placed"
    assert first["call"]["provider_call_id"]
    assert receiver.headers[0]["webhook-id"].startswith("msg_")


def test_a_refusing_endpoint_makes_dead_letters_that_resend_delivers(
    engine: Engine, dialer: CallService, tmp_path: Path
) -> None:
    modes = {"now": "400"}
    with Receiver(lambda _id, _n: modes["now"]) as receiver:
        _dial(engine, dialer, tmp_path, receiver.url)
        clock = fake_clock()
        courier = Courier(engine, [endpoint(receiver.url, timeout=ANSWERS_AT_ONCE)], clock=clock)
        try:
            deliver_due(courier)
            dead = events(engine)
            assert {(e.state, e.tries, e.last_status) for e in dead} == {("dead", 1, 400)}
            modes["now"] = "ok"
            deliver_due(courier)
            assert not receiver.processed  # dead stays dead until resent
            with session_scope(engine) as session:
                resent = deliveries.resend(session, dead=True, now=clock())
            assert resent == [e.id for e in dead]
            deliver_due(courier)
        finally:
            courier.close()
    assert {e.state for e in events(engine)} == {"delivered"}
    assert set(receiver.processed) == {e.message_id for e in dead}
    assert all(receiver.tries[e.message_id] == 2 for e in dead)


def test_retry_after_is_honoured(engine: Engine, dialer: CallService, tmp_path: Path) -> None:
    with Receiver(always("429")) as receiver:
        _dial(engine, dialer, tmp_path, receiver.url, events=["campaign.completed"])
        clock = fake_clock()
        courier = Courier(engine, [endpoint(receiver.url, timeout=ANSWERS_AT_ONCE)], clock=clock)
        try:
            deliver_due(courier)
        finally:
            courier.close()
    (event,) = events(engine)
    assert (event.state, event.last_status) == ("pending", 429)
    assert deliveries.aware(event.next_try_at) == clock.now + timedelta(seconds=1)  # type: ignore[arg-type]


_KILLED_SENDER = """
import sys
import time
from dialer.ledger.engine import make_engine
from dialer.webhooks.deliver import Courier, deliver_due
from tests.webhook_support import endpoint
deliver_due(Courier(make_engine(sys.argv[1]), [endpoint(sys.argv[2], timeout=60)]))
"""


def test_a_sender_killed_mid_send_loses_nothing_and_the_retry_has_the_same_id(
    engine: Engine, database_url: str, dialer: CallService, tmp_path: Path
) -> None:
    with Receiver(lambda _id, n: "hang" if n == 0 else "ok", hang_seconds=30) as receiver:
        _dial(engine, dialer, tmp_path, receiver.url, events=["campaign.completed"])
        sender = subprocess.Popen(
            [sys.executable, "-c", _KILLED_SENDER, database_url, receiver.url],
            cwd=Path(__file__).parents[2],
        )
        try:
            wait_until(receiver.hung.is_set, timeout=30, what="the sender's request")
        finally:
            os.kill(sender.pid, signal.SIGKILL)
            sender.wait()
        (event,) = events(engine)
        assert (event.state, event.tries) == ("pending", 0)  # claimed, never settled
        clock = fake_clock()
        clock.jump_to_next_due(engine)  # the dead sender's lease ends
        courier = Courier(engine, [endpoint(receiver.url, timeout=ANSWERS_AT_ONCE)], clock=clock)
        try:
            deliver_due(courier)
        finally:
            courier.close()
    (event,) = events(engine)
    assert event.state == "delivered"
    assert receiver.tries[event.message_id] == 2
    assert list(receiver.processed) == [event.message_id]
    assert receiver.duplicates[event.message_id] == 1


def test_a_hanging_endpoint_holds_up_neither_another_nor_more_than_one_timeout(
    engine: Engine, dialer: CallService, tmp_path: Path
) -> None:
    with Receiver(always("hang"), hang_seconds=5) as slow, Receiver() as fast:
        fast_hook = endpoint(fast.url, name="fast", timeout=ANSWERS_AT_ONCE)
        hooks = [fast_hook, endpoint(slow.url, name="slow", timeout=0.5)]
        subscribe(engine, hooks)
        make_campaign(engine, dialer.settings, tmp_path, PHONES, name="spring", account="sandbox")
        dial_all(dialer)
        courier = Courier(engine, hooks)
        started = time.monotonic()
        try:
            report = deliver_due(courier)
        finally:
            courier.close()
        took = time.monotonic() - started
    by_endpoint = {
        name: sorted((e.state, e.tries) for e in events(engine) if e.endpoint == name)
        for name in ("fast", "slow")
    }
    assert by_endpoint["fast"] == [("delivered", 1)] * (len(PHONES) + 1)
    # One round of the slow endpoint's concurrency timed out; the rest were handed back untried.
    assert by_endpoint["slow"] == [("pending", 0)] * (len(PHONES) + 1 - 4) + [("pending", 1)] * 4
    assert report.delivered == len(PHONES) + 1
    assert took < 0.5 + 1.5, f"the pass took {took:.1f} s"
