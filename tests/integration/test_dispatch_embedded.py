"""Dispatch in one process against the sandbox over real HTTP, on SQLite and Postgres.

Each test counts the requests the sandbox actually received per number: that count is what
"nobody is called twice by mistake" means. What only tests logic (the result of every kind
of claim, the limiter being down, pause against a backoff, the log line) runs in process
in tests/unit/dispatch/test_protocol.py and tests/unit/test_runner.py.
"""

from __future__ import annotations

import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import httpx
import pytest
from sqlalchemy.engine import Engine
from sqlmodel import col, select

from campaigns import lifecycle
from dialer.capacity.gate import BREAKER_FAILURES
from dialer.dispatch.protocol import place_call, place_calls
from dialer.dispatch.results import DispatchResult
from dialer.ledger import campaigns as ledger_campaigns
from dialer.ledger import contacts as ledger_contacts
from dialer.ledger import dispatch as ledger_dispatch
from dialer.ledger.engine import session_scope, utcnow
from dialer.models import Attempt, Contact
from dialer.service import CallService
from dialer.wiring import build_service
from tests.campaign_support import sandbox_campaign, sandbox_settings
from tests.draining import drain

NY = ["+12125552671", "+12125552672", "+12125552673", "+12125552674", "+12125552675"]
MORE = ["+12125552676", "+12125552677"]


def _rule(sandbox_url: str, phone: str, action: str, **extra: object) -> None:
    httpx.post(f"{sandbox_url}/_sandbox/rules", json={"phone": phone, "action": action, **extra})


def _requests(sandbox_url: str) -> Counter[str]:
    records = httpx.get(f"{sandbox_url}/_sandbox/requests").json()
    return Counter(r["phone"] for r in records if r["path"] == "/sandbox/call")


def _contacts(engine: Engine, name: str = "spring") -> dict[str, Contact]:
    with session_scope(engine) as session:
        campaign = ledger_campaigns.get_campaign(session, name=name)
        assert campaign.id is not None
        return {c.phone: c for c in ledger_contacts.iter_contacts(session, campaign_id=campaign.id)}


def _drain(dialer: CallService) -> None:
    drain(dialer, threads=8)


@pytest.fixture
def dialer_for(
    engine: Engine, database_url: str, sandbox_url: str
) -> Iterator[Callable[..., CallService]]:
    made: list[CallService] = []

    def make(**account: object) -> CallService:
        dialer = build_service(sandbox_settings(database_url, sandbox_url, **account), engine)
        made.append(dialer)
        return dialer

    yield make
    for dialer in made:
        dialer.providers.close()


def test_every_answer_class_ends_in_the_right_state_with_exact_request_counts(
    engine: Engine, sandbox_url: str, dialer_for: Callable[..., CallService], tmp_path: Path
) -> None:
    # Fewer retryable answers in all than open the account's breaker: while it is open a
    # retryable failure is refunded and its contact asked again (README), so with more the
    # request counts would hang on the order in which parallel answers reach the gate.
    # A 5 s timeout: on a loaded machine the sandbox's thread (in this process) has answered
    # a 500 more than 2 s late, and the call honestly ended unknown.
    dialer = dialer_for(max_attempts=2, timeout=5)
    sandbox_campaign(engine, dialer.settings, tmp_path, [*NY, *MORE])
    ok, flaky, rejected, dropped, throttled = NY
    always_down, hung = MORE
    _rule(sandbox_url, flaky, "503", times=1)
    _rule(sandbox_url, rejected, "400")
    _rule(sandbox_url, dropped, "drop")
    _rule(sandbox_url, throttled, "429", times=1, retry_after="1")
    _rule(sandbox_url, always_down, "500")
    _rule(sandbox_url, hung, "hang")
    retryable_answers = 1 + 1 + 2  # flaky's 503, throttled's 429, always_down's two 500s
    assert retryable_answers < BREAKER_FAILURES

    _drain(dialer)

    contacts = _contacts(engine)
    assert {phone: c.state for phone, c in contacts.items()} == {
        ok: "placed",
        flaky: "placed",
        rejected: "failed",
        dropped: "unknown",
        throttled: "placed",
        always_down: "failed",
        hung: "unknown",
    }
    assert _requests(sandbox_url) == {
        ok: 1,
        flaky: 2,
        rejected: 1,
        dropped: 1,
        throttled: 2,
        always_down: 2,
        hung: 1,
    }
    # Each request carried the key of its own attempt, committed before it left.
    sent = [r["json"]["attempt"] for r in httpx.get(f"{sandbox_url}/_sandbox/requests").json()]
    with session_scope(engine) as session:
        committed = session.execute(select(col(Attempt.key))).scalars().all()
    assert sorted(sent) == sorted(committed)
    assert len(set(sent)) == len(sent)
    assert contacts[ok].provider_call_id and contacts[ok].provider_call_id.startswith("SBX-")
    assert contacts[always_down].last_error.startswith("gave up after 2 attempts")
    assert contacts[flaky].attempts == 2
    with session_scope(engine) as session:
        assert ledger_dispatch.backlog(session, campaign_ids=[1], now=utcnow()).in_flight == 0
        # --drain ends only after a tick that found everything final: that tick completed it.
        assert ledger_campaigns.get_campaign(session, name="spring").status == "completed"


def test_retry_after_is_honoured(
    engine: Engine, sandbox_url: str, dialer_for: Callable[..., CallService], tmp_path: Path
) -> None:
    dialer = dialer_for()
    sandbox_campaign(engine, dialer.settings, tmp_path, NY[:1])
    _rule(sandbox_url, NY[0], "429", times=1, retry_after="2")
    _drain(dialer)
    records = httpx.get(f"{sandbox_url}/_sandbox/requests").json()
    sent = [datetime.fromisoformat(r["received_at"]) for r in records]
    assert len(sent) == 2
    assert sent[1] - sent[0] >= timedelta(seconds=1.9)


def test_same_contact_dialed_from_many_threads_sends_one_request(
    engine: Engine, sandbox_url: str, dialer_for: Callable[..., CallService], tmp_path: Path
) -> None:
    dialer = dialer_for()
    sandbox_campaign(engine, dialer.settings, tmp_path, NY[:1])
    with session_scope(engine) as session:
        claimed = ledger_dispatch.claim_due(
            session, campaign_id=1, zone_keys=["America/New_York"], now=utcnow(), limit=1
        )
    assert len(claimed) == 1
    barrier = threading.Barrier(6)
    results: list[DispatchResult] = []

    def deliver() -> None:
        barrier.wait()
        results.append(place_call(dialer, claimed[0]))

    threads = [threading.Thread(target=deliver) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert results.count(DispatchResult.PLACED) == 1
    assert _requests(sandbox_url) == {NY[0]: 1}


def _claim_all(engine: Engine, count: int) -> list[int]:
    with session_scope(engine) as session:
        claimed = ledger_dispatch.claim_due(
            session, campaign_id=1, zone_keys=["America/New_York"], now=utcnow(), limit=count
        )
    assert len(claimed) == count
    return claimed


def test_a_pause_stops_the_rest_of_a_paced_batch(
    engine: Engine, sandbox_url: str, dialer_for: Callable[..., CallService], tmp_path: Path
) -> None:
    dialer = dialer_for(rate="4/s")  # slots ~255 ms apart: the batch lasts over two seconds
    numbers = [f"+1212555{2671 + i}" for i in range(10)]
    sandbox_campaign(engine, dialer.settings, tmp_path, numbers)
    claimed = _claim_all(engine, len(numbers))
    outcomes: dict[int, DispatchResult] = {}
    batch = threading.Thread(target=lambda: outcomes.update(place_calls(dialer, claimed)))
    batch.start()
    with httpx.Client(base_url=sandbox_url) as control:
        _wait(lambda: any(r["phone"] for r in control.get("/_sandbox/requests").json()))
    lifecycle.change(engine, "spring", "pause", now=utcnow())
    paused_at = utcnow()
    batch.join(timeout=30)
    assert not batch.is_alive()

    # Nothing began once the pause was committed (a begin reads the time before its
    # transaction, so one that won began before the pause), each begun call was sent once,
    # and the rest of the batch, in slot order, went back untouched. How many began first
    # depends on how soon this thread ran; that some did not is what the test is about.
    with session_scope(engine) as session:
        began = session.execute(select(col(Attempt.phone), col(Attempt.started_at))).all()
    assert all(_aware(started) <= paused_at for _, started in began)
    assert _requests(sandbox_url) == Counter(phone for phone, _ in began)
    assert 1 <= len(began) < len(numbers)
    assert [outcomes[i] for i in claimed[len(began) :]] == [DispatchResult.RELEASED] * (
        len(numbers) - len(began)
    )
    states = Counter(c.state for c in _contacts(engine).values())
    assert states == {"placed": len(began), "pending": len(numbers) - len(began)}


def _aware(moment: datetime) -> datetime:
    """``moment`` as the ledger gave it back, in UTC (SQLite keeps no zone)."""
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def test_number_suppressed_after_import_is_never_called(
    engine: Engine, sandbox_url: str, dialer_for: Callable[..., CallService], tmp_path: Path
) -> None:
    dialer = dialer_for()
    sandbox_campaign(engine, dialer.settings, tmp_path, NY[:2])
    with session_scope(engine) as session:
        ledger_contacts.add_suppressions(session, phones=[NY[0]], source="test", now=utcnow())
    _drain(dialer)
    assert _requests(sandbox_url) == {NY[1]: 1}
    assert _contacts(engine)[NY[0]].state == "cancelled"
    assert _contacts(engine)[NY[0]].last_error == "suppressed (do-not-call list)"


def test_window_is_checked_in_each_recipients_own_zone(
    engine: Engine, sandbox_url: str, dialer_for: Callable[..., CallService], tmp_path: Path
) -> None:
    dialer = dialer_for()
    new_york, los_angeles, tokyo = NY[0], "+13105551234", "+81312345678"
    toll_free = "+18003569377"  # phonenumbers places it in every US zone: all must be open
    # A one-hour window around New York's current time: open there, closed three hours west,
    # in Tokyo, and in at least one of a toll-free number's zones.
    now_in_ny = utcnow().astimezone(ZoneInfo("America/New_York"))
    opens = now_in_ny - timedelta(minutes=5)
    window = f"{opens:%H:%M}-{(opens + timedelta(hours=1)):%H:%M}"
    sandbox_campaign(
        engine, dialer.settings, tmp_path, [new_york, los_angeles, tokyo, toll_free], window=window
    )
    _drain(dialer)
    assert _requests(sandbox_url) == {new_york: 1}
    states = {phone: c.state for phone, c in _contacts(engine).items()}
    assert states == {
        new_york: "placed",
        los_angeles: "pending",
        tokyo: "pending",
        toll_free: "pending",
    }


def _wait(condition: Callable[[], bool], timeout: float = 20) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError("condition not met in time")
        time.sleep(0.05)
