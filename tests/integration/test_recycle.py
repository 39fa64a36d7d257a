"""``campaign recycle``: contacts whose call ended with chosen outcomes are called again, in
the same campaign or in a new one, never an unknown, listed or bad number; dialed against the
sandbox, on SQLite and Postgres."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import httpx
import pytest
from sqlalchemy import func, select
from sqlalchemy.engine import Engine
from sqlmodel import col

from campaigns import lifecycle
from campaigns.importer import import_campaign
from campaigns.spec import CampaignSpec
from dialer.errors import CampaignError, InputError
from dialer.ledger import campaigns as ledger_campaigns
from dialer.ledger import contacts as ledger_contacts
from dialer.ledger import outcomes as ledger_outcomes
from dialer.ledger.engine import session_scope, utcnow
from dialer.models import Attempt, Contact, ContactState
from dialer.outcomes import Outcome
from dialer.runner import EmbeddedRunner
from dialer.settings import AccountConfig, Settings
from dialer.wiring import build_service

NO_ANSWER, BUSY, DONE, LISTED, LOST, BAD = (f"+1212555267{i}" for i in range(1, 7))
OUTCOMES = {NO_ANSWER: Outcome.NO_ANSWER, BUSY: Outcome.BUSY, DONE: Outcome.COMPLETED}


def _settings(database_url: str, sandbox_url: str) -> Settings:
    account = AccountConfig.model_validate(
        {"name": "acct", "provider": "sandbox", "base_url": sandbox_url, "timeout": 2}
    )
    # Recycling calls the same numbers again seconds later: without the minimum gap between
    # calls to one number (tested in test_recalls.py), not an hour later.
    return Settings(
        database_url=database_url,
        accounts={"acct": account},
        tick_seconds=0.1,
        min_call_gap=timedelta(0),
    )


def _dial(engine: Engine, settings: Settings) -> None:
    EmbeddedRunner(build_service(settings, engine), threads=2).run(drain=True)


def _contacts(engine: Engine, name: str) -> dict[str, Contact]:
    with session_scope(engine) as session:
        campaign = ledger_campaigns.get_campaign(session, name=name)
        assert campaign.id is not None
        return {c.phone: c for c in ledger_contacts.iter_contacts(session, campaign_id=campaign.id)}


def _counts_are_exact(engine: Engine, name: str) -> dict[str, int]:
    with session_scope(engine) as session:
        campaign = ledger_campaigns.get_campaign(session, name=name)
        assert campaign.id is not None
        kept = ledger_campaigns.state_counts(session, campaign_id=campaign.id)
        counted = dict(
            session.execute(
                select(col(Contact.state), func.count())
                .where(col(Contact.campaign_id) == campaign.id)
                .group_by(col(Contact.state))
            ).all()
        )
    assert {s: n for s, n in kept.items() if n} == counted
    return counted


@pytest.fixture
def finished(engine: Engine, database_url: str, sandbox_url: str, tmp_path: Path) -> Settings:
    """Campaign ``src`` dialed once: no-answer, busy, completed, a no-answer whose number was
    listed afterwards, an unknown (the connection dropped) and a bad number."""
    settings = _settings(database_url, sandbox_url)
    leads = tmp_path / "leads.csv"
    phones = [NO_ANSWER, BUSY, DONE, LISTED, LOST, BAD]
    rows = [f"Lead {i},{phone},goal {i}" for i, phone in enumerate(phones, start=1)]
    leads.write_text("First Name,Phone,Goal\n" + "\n".join(rows) + "\n", encoding="utf-8")
    spec = CampaignSpec(
        name="src",
        account="acct",
        csv_path=leads,
        rejects_path=tmp_path / "rejects.csv",
        window="00:00-24:00",
        days="all",
    )
    assert import_campaign(engine, settings, spec, now=utcnow()).accepted == 6
    for phone, action in ((LOST, "drop"), (BAD, "invalid-number")):
        rule = {"phone": phone, "action": action}
        httpx.post(f"{sandbox_url}/_sandbox/rules", json=rule).raise_for_status()
    lifecycle.change(engine, "src", "start", now=utcnow())
    _dial(engine, settings)
    with session_scope(engine) as session:
        for phone, outcome in {**OUTCOMES, LISTED: Outcome.NO_ANSWER}.items():
            attempt = session.execute(
                select(Attempt).where(col(Attempt.phone) == phone)
            ).scalar_one()
            assert attempt.id is not None
            ledger_outcomes.record_outcome(
                session, attempt_id=attempt.id, outcome=outcome, payload={}, now=utcnow()
            )
        ledger_contacts.add_suppressions(session, phones=[LISTED], source="t", now=utcnow())
    httpx.delete(f"{sandbox_url}/_sandbox/requests").raise_for_status()
    states = {phone: c.state for phone, c in _contacts(engine, "src").items()}
    assert states == {
        NO_ANSWER: "placed",
        BUSY: "placed",
        DONE: "placed",
        LISTED: "placed",
        LOST: "unknown",
        BAD: "failed",
    }
    return settings


def test_recycle_reopens_in_the_same_campaign_with_a_fresh_budget(
    engine: Engine, finished: Settings, sandbox_url: str
) -> None:
    with session_scope(engine) as session:
        campaign = ledger_campaigns.get_campaign(session, name="src")
        assert campaign.status == "completed"
        campaign.max_attempts = 2  # two calls per contact: one is spent before the recycle
    done = lifecycle.recycle(engine, "src", ["no-answer", "busy"], into=None, now=utcnow())
    assert (done.campaign, done.contacts, done.created) == ("src", 2, False)
    contacts = _contacts(engine, "src")
    for phone in (NO_ANSWER, BUSY):
        contact = contacts[phone]
        assert (contact.state, contact.attempts, contact.recycled_at is not None) == (
            "pending",
            0,
            True,
        )
        assert contact.outcome == OUTCOMES[phone]  # its history stays
    assert {p: contacts[p].state for p in (DONE, LISTED, LOST, BAD)} == {
        DONE: "placed",
        LISTED: "placed",
        LOST: "unknown",
        BAD: "failed",
    }
    assert _counts_are_exact(engine, "src") == {
        "pending": 2,
        "placed": 2,
        "unknown": 1,
        "failed": 1,
    }
    with session_scope(engine) as session:
        campaign = ledger_campaigns.get_campaign(session, name="src")
        assert campaign.status == "paused"
        assert "2 contacts recycled" in campaign.status_reason

    lifecycle.change(engine, "src", "start", now=utcnow())
    _dial(engine, finished)
    calls = httpx.get(f"{sandbox_url}/_sandbox/requests").json()
    assert sorted(r["phone"] for r in calls if r["path"] == "/sandbox/call") == [
        NO_ANSWER,
        BUSY,
    ]
    with session_scope(engine) as session:
        attempts = session.execute(
            select(col(Attempt.phone), func.count()).group_by(col(Attempt.phone))
        ).all()
    assert dict(attempts)[NO_ANSWER] == 2  # the first call is kept
    # Its budget counts from the recycle: after one more no-answer it is recalled (two calls
    # in all would have spent a budget of two counted from the start).
    with session_scope(engine) as session:
        latest = session.execute(
            select(func.max(col(Attempt.id))).where(col(Attempt.phone) == NO_ANSWER)
        ).scalar_one()
        recorded = ledger_outcomes.record_outcome(
            session, attempt_id=latest, outcome=Outcome.NO_ANSWER, payload={}, now=utcnow()
        )
    assert recorded == ledger_outcomes.Recorded.RECALLED
    assert _contacts(engine, "src")[NO_ANSWER].state == "pending"


def test_recycle_into_a_new_campaign_copies_the_leads_and_links_them(
    engine: Engine, finished: Settings, sandbox_url: str
) -> None:
    done = lifecycle.recycle(engine, "src", ["no-answer", "busy"], into=" again ", now=utcnow())
    assert (done.campaign, done.contacts, done.created) == ("again", 2, True)
    source = _contacts(engine, "src")
    copies = _contacts(engine, "again")
    assert sorted(copies) == sorted([NO_ANSWER, BUSY])
    for phone, copy in copies.items():
        original = source[phone]
        assert copy.recycled_from == original.id
        assert (copy.row, copy.variables, copy.first_name, copy.zone_key) == (
            original.row,
            original.variables,
            original.first_name,
            original.zone_key,
        )
        assert (copy.state, copy.attempts, copy.outcome, copy.provider_call_id) == (
            "pending",
            0,
            None,
            None,
        )
        assert original.state == "placed"  # the source is left as it was
    assert _counts_are_exact(engine, "again") == {"pending": 2}
    with session_scope(engine) as session:
        new = ledger_campaigns.get_campaign(session, name="again")
        old = ledger_campaigns.get_campaign(session, name="src")
        assert new.status == "draft"
        assert (new.account, new.window, new.days, new.columns, new.templates) == (
            old.account,
            old.window,
            old.days,
            old.columns,
            old.templates,
        )
        assert new.callback_token and new.callback_token != old.callback_token
        assert old.status == "completed"
        # The copies' numbers are the new campaign's: found by number, refused twice.
        assert new.id is not None
        assert ledger_contacts.campaign_phones(session, campaign_id=new.id) == {NO_ANSWER, BUSY}

    lifecycle.change(engine, "again", "start", now=utcnow())
    _dial(engine, finished)
    calls = httpx.get(f"{sandbox_url}/_sandbox/requests").json()
    assert sorted(r["phone"] for r in calls if r["path"] == "/sandbox/call") == [
        NO_ANSWER,
        BUSY,
    ]
    with pytest.raises(CampaignError, match="already exists"):
        lifecycle.recycle(engine, "src", ["busy"], into="again", now=utcnow())


def test_recycle_refuses_what_is_not_an_outcome(engine: Engine, finished: Settings) -> None:
    with pytest.raises(InputError, match="--outcome takes completed, no-answer"):
        lifecycle.recycle(engine, "src", ["unknown"], into=None, now=utcnow())
    assert _contacts(engine, "src")[LOST].state == ContactState.UNKNOWN
