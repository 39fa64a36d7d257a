"""The status reads on SQLAlchemy Core alone give what the models give, on both databases:
the campaign's row, its counts by state, outcome and zone key, its account's call length, and
so the very report ``dialer campaign status`` printed when it read through the ORM."""

from __future__ import annotations

import dataclasses
import uuid
from collections import Counter
from datetime import UTC, datetime, timedelta

from sqlalchemy import update
from sqlalchemy.engine import Engine
from sqlmodel import col, select

from campaigns.status import campaign_report
from dialer.ledger import campaigns as ledger_campaigns
from dialer.ledger import counts, overview, tallies
from dialer.ledger.engine import read_scope, session_scope
from dialer.ledger.overview import CampaignView
from dialer.models import Attempt, Campaign, Contact
from dialer.windows import CallingWindow
from tests import fakes

NOW = datetime(2026, 12, 4, 15, 0, 30, tzinfo=UTC)
CHICAGO = "America/Chicago"


def _arranged(engine: Engine) -> int:
    """A campaign with contacts in several states, zone keys and outcomes, a start and an
    end, and attempts with outcomes on its account; its id."""
    phones = [f"+1212555{1000 + i:04d}" for i in range(12)]
    keys = [fakes.NEW_YORK] * 8 + [CHICAGO] * 4
    ids = fakes.campaign(
        engine, NOW, phones, zone_keys=keys, end_at=NOW + timedelta(days=3), window="09:00-20:00"
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
            session.add(
                Attempt(
                    key=str(uuid.uuid4()),
                    contact_id=contact_id,
                    campaign_id=campaign.id,
                    account="sandbox",
                    phone=phones[i],
                    started_at=NOW,
                    outcome_at=NOW + timedelta(seconds=30 * (i + 1)),
                    result="placed",
                )
            )
        counts.recount(session, campaign_ids=[campaign.id])
        return campaign.id


def test_core_reads_equal_the_models(engine: Engine) -> None:
    campaign_id = _arranged(engine)
    with session_scope(engine) as session:
        model = ledger_campaigns.get_campaign(session, name="spring")
        contacts = list(session.exec(select(Contact)))
        attempts = list(session.exec(select(Attempt)))
    with read_scope(engine) as connection:
        view = overview.campaign_view(connection, name="spring")
        states = tallies.state_counts(connection, campaign_id=campaign_id)
        outcomes = tallies.outcome_counts(connection, campaign_id=campaign_id)
        pending = tallies.zone_key_counts(connection, campaign_id=campaign_id, states=["pending"])
        seconds = overview.recent_call_seconds(connection, account="sandbox")
    assert view == CampaignView(
        **{field.name: getattr(model, field.name) for field in dataclasses.fields(CampaignView)}
    )
    assert view.start_at == NOW + timedelta(hours=1, seconds=7)
    assert view.start_at.tzinfo is not None and view.end_at is not None
    assert states == {
        "pending": 5,
        "queued": 1,
        "dialing": 0,
        "placed": 3,
        "failed": 1,
        "unknown": 1,
        "cancelled": 1,
    }
    assert states == {s: sum(c.state == s for c in contacts) for s in states}
    assert outcomes == dict(Counter(c.outcome for c in contacts if c.outcome))
    assert pending == {fakes.NEW_YORK: 2, CHICAGO: 3}
    assert (
        seconds
        == 60.0
        == sum((a.outcome_at - a.started_at).total_seconds() for a in attempts if a.outcome_at)
        / len(attempts)
    )


def test_the_status_report_is_the_one_read_through_the_models(engine: Engine) -> None:
    campaign_id = _arranged(engine)
    settings = fakes.settings(engine, rate="2/s", concurrent_calls=4)
    report = campaign_report(engine, settings, "spring", now=NOW)
    with session_scope(engine) as session:
        model: Campaign = ledger_campaigns.get_campaign(session, name="spring")
        by_state = ledger_campaigns.state_counts(session, campaign_id=campaign_id)
    assert (report.name, report.account, report.status, report.status_reason) == (
        model.name,
        model.account,
        model.status,
        model.status_reason,
    )
    assert (report.start_at, report.end_at, report.timezone) == (
        model.start_at,
        model.end_at,
        model.timezone,
    )
    assert report.window == CallingWindow.parse(model.window, model.days).describe()
    assert report.contacts == by_state
    assert report.outcomes == {"voicemail": 1, "completed": 2}
    assert (report.total, report.done) == (12, 6)
    # 5 pending at min(2/s, 4 places / 60 s a call) = 4/m, from the start an hour ahead.
    assert "at 4/m" in report.estimate and "5 contacts" in report.estimate
