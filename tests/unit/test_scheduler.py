"""The scheduler tick at chosen instants, on a SQLite file: what it claims, how it batches,
when it starts, ends and completes campaigns, and what the reaper returns."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import update
from sqlalchemy.engine import Engine
from sqlmodel import col

from dialer.ledger import campaigns as ledger_campaigns
from dialer.ledger import counts as ledger_counts
from dialer.ledger.engine import session_scope
from dialer.models import CampaignStatus, Contact, ContactState
from dialer.scheduler import TickReport, dispatch_batches, tick
from dialer.settings import Settings
from tests import fakes

NOW = datetime(2026, 3, 2, 15, 0, tzinfo=UTC)  # Monday, 10:00 in New York
PHONES = [f"+1212555{n:04d}" for n in range(30)]


def _tick(
    engine: Engine,
    settings: Settings,
    now: datetime = NOW,
    capacity: Callable[[str], int] | None = None,
) -> tuple[list[list[int]], TickReport]:
    batches: list[list[int]] = []
    report = tick(engine, settings, now=now, enqueue=batches.append, capacity=capacity)
    return batches, report


def _states(engine: Engine) -> dict[str, int]:
    counts: dict[str, int] = {}
    for contact in fakes.contacts(engine).values():
        counts[contact.state] = counts.get(contact.state, 0) + 1
    return counts


def _status(engine: Engine, name: str = "spring") -> str:
    with session_scope(engine) as session:
        return ledger_campaigns.get_campaign(session, name=name).status


def test_a_tick_claims_what_the_rate_sends_until_the_next_one_in_rate_sized_batches(
    engine: Engine,
) -> None:
    settings = fakes.settings(engine, rate="10/s")  # tick_seconds 0.1
    ids = fakes.campaign(engine, NOW, PHONES)
    batches, report = _tick(engine, settings)
    # 10/s for the tick and a second after, plus one: 12 contacts, in batches of 1 s of rate.
    assert [len(batch) for batch in batches] == [10, 2]
    assert [i for batch in batches for i in batch] == ids[:12]
    assert report.claimed == 12
    assert _states(engine) == {"queued": 12, "pending": 18}
    # Claimed and not yet dialed count against the account: the next tick tops up only.
    batches, _ = _tick(engine, settings)
    assert batches == []


def test_capacity_caps_what_a_tick_claims(engine: Engine) -> None:
    settings = fakes.settings(engine)
    fakes.campaign(engine, NOW, PHONES)
    batches, _ = _tick(engine, settings, capacity=lambda _account: 5)
    assert sum(len(batch) for batch in batches) == 5


def test_a_campaign_is_left_alone_before_its_start_and_ended_at_its_end(engine: Engine) -> None:
    settings = fakes.settings(engine)
    fakes.campaign(engine, NOW, PHONES[:3], end_at=NOW + timedelta(hours=1))
    with session_scope(engine) as session:
        campaign = ledger_campaigns.get_campaign(session, name="spring")
        campaign.start_at = NOW + timedelta(minutes=30)
        session.add(campaign)
    batches, _ = _tick(engine, settings)
    assert batches == []
    batches, report = _tick(engine, settings, now=NOW + timedelta(hours=1))
    assert batches == []
    assert report.ended == ["spring"]
    assert _status(engine) == CampaignStatus.COMPLETED
    contacts = fakes.contacts(engine).values()
    assert {(c.state, c.last_error) for c in contacts} == {
        ("cancelled", "not reached before the end time")
    }


def test_a_campaign_with_every_contact_final_completes(engine: Engine) -> None:
    settings = fakes.settings(engine)
    fakes.campaign(engine, NOW, PHONES[:2])
    with session_scope(engine) as session:
        session.execute(update(Contact).values(state=ContactState.PLACED))
        ledger_counts.recount(session, campaign_ids=[1])  # moved behind the ledger's back
    batches, report = _tick(engine, settings)
    assert batches == []
    assert report.completed == ["spring"]
    assert _status(engine) == CampaignStatus.COMPLETED


def test_the_reaper_returns_lost_claims_and_gives_up_on_stuck_calls(
    engine: Engine, caplog: pytest.LogCaptureFixture
) -> None:
    settings = fakes.settings(engine).model_copy(
        update={"queued_timeout": 60.0, "dialing_timeout": 600.0}
    )
    ids = fakes.campaign(engine, NOW, PHONES[:3], status=CampaignStatus.PAUSED)
    long_ago = NOW - timedelta(hours=1)
    with session_scope(engine) as session:
        for contact_id, state in zip(ids, ["queued", "dialing", "dialing"], strict=True):
            session.execute(
                update(Contact)
                .where(col(Contact.id) == contact_id)
                .values(state=state, state_changed_at=NOW if contact_id == ids[2] else long_ago)
            )
        ledger_counts.recount(session, campaign_ids=[1])  # moved behind the ledger's back
    with caplog.at_level("WARNING", logger="dialer.scheduler"):
        _tick(engine, settings)
    states = [fakes.contacts(engine)[phone].state for phone in PHONES[:3]]
    assert states == ["pending", "unknown", "dialing"]
    assert "1 lost claims back to pending, 1 stuck calls unknown" in caplog.text


def test_dispatch_batches_hold_a_second_of_the_accounts_rate(engine: Engine) -> None:
    ids = list(range(1, 26))
    slow = fakes.settings(engine, rate="4/s")
    assert [len(b) for b in dispatch_batches(ids, slow, slow.account("sandbox"))] == [4] * 6 + [1]
    fast = fakes.settings(engine)
    (batch,) = dispatch_batches(ids, fast, fast.account("sandbox"))
    assert batch == ids
