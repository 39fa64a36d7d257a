"""Campaigns arranged for the status tests: contacts in several states, zone keys and
outcomes, recalls waiting, attempts with outcomes, a start and an end, several accounts."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

from sqlalchemy import update
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from dialer.ledger import campaigns as ledger_campaigns
from dialer.ledger import counts
from dialer.ledger.engine import session_scope
from dialer.models import Attempt, Contact
from tests import fakes

NOW = datetime(2026, 12, 4, 15, 0, 30, tzinfo=UTC)
CHICAGO = "America/Chicago"
PHONES = [f"+1212555{1000 + i:04d}" for i in range(12)]


def arranged(engine: Engine) -> int:
    """Campaign "spring" on the sandbox account, with contacts in several states, zone keys
    and outcomes, a start and an end, and attempts with outcomes on its account; its id."""
    keys = [fakes.NEW_YORK] * 8 + [CHICAGO] * 4
    ids = fakes.campaign(
        engine, NOW, PHONES, zone_keys=keys, end_at=NOW + timedelta(days=3), window="09:00-20:00"
    )
    moves = {
        ids[0]: ("placed", "voicemail"),
        ids[1]: ("placed", "completed"),
        ids[2]: ("placed", "completed"),
        ids[3]: ("failed", None),
        ids[4]: ("unknown", None),
        ids[5]: ("queued", None),
        ids[9]: ("cancelled", None),
    }
    with session_scope(engine) as session:
        campaign = ledger_campaigns.get_campaign(session, name="spring")
        assert campaign.id is not None
        campaign.start_at = NOW + timedelta(hours=1, seconds=7)
        campaign.status_reason = "a reason, with ünïcode"
        for contact_id, (state, outcome) in moves.items():
            session.execute(
                update(Contact)
                .where(col(Contact.id) == contact_id)
                .values(state=state, outcome=outcome)
            )
        for i, contact_id in enumerate(ids[:3]):
            _attempt(session, campaign.id, contact_id, "sandbox", i, seconds=30 * (i + 1))
        counts.recount(session, campaign_ids=[campaign.id])
        return campaign.id


def with_recalls_and_accounts(engine: Engine, campaign_id: int) -> None:
    """:func:`arranged`'s campaign split 70/30 over "sandbox" and "other" with failover, its
    own recall ladders and order, two pending contacts waiting for a recall and one put off,
    and calls of both accounts (one still without an outcome)."""
    with session_scope(engine) as session:
        campaign = ledger_campaigns.get_campaign(session, name="spring")
        campaign.accounts = [{"name": "sandbox", "weight": 70}, {"name": "other", "weight": 30}]
        campaign.failover = True
        campaign.reassigned = 3
        campaign.recall_rules = {"no-answer": [3600, 14400], "busy": [900]}
        campaign.claim_order = "recalls-first"
        pending = sorted(
            session.exec(
                select(Contact.id).where(
                    col(Contact.campaign_id) == campaign_id, col(Contact.state) == "pending"
                )
            )
        )
        waits = {  # the first is in New York, the last in Chicago
            pending[0]: ("no-answer", NOW + timedelta(hours=2)),
            pending[-1]: ("busy", NOW + timedelta(minutes=75, microseconds=250)),
            pending[1]: (None, NOW + timedelta(hours=5)),
        }
        for contact_id, (outcome, due) in waits.items():
            session.execute(
                update(Contact)
                .where(col(Contact.id) == contact_id)
                .values(outcome=outcome, next_attempt_at=due, attempts=1)
            )
        for i, seconds in enumerate((20, 40, None)):
            _attempt(session, campaign_id, pending[0], "other", 3 + i, seconds=seconds)
        counts.recount(session, campaign_ids=[campaign_id])


def _attempt(
    session: Session, campaign_id: int, contact_id: int, account: str, i: int, seconds: int | None
) -> None:
    session.add(
        Attempt(
            key=str(uuid.uuid4()),
            contact_id=contact_id,
            campaign_id=campaign_id,
            account=account,
            phone=PHONES[i],
            started_at=NOW,
            outcome_at=None if seconds is None else NOW + timedelta(seconds=seconds),
            result="placed",
        )
    )
