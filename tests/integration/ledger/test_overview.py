"""The status reads on SQLAlchemy Core alone give what the models give, on both databases:
the campaign's row, its counts by state, outcome and zone key, its account's call length, and
so the very report ``dialer campaign status`` printed when it read through the ORM."""

from __future__ import annotations

import dataclasses
from collections import Counter
from datetime import timedelta

from sqlalchemy.engine import Engine
from sqlmodel import select

from campaigns.status import campaign_report
from dialer.ledger import campaigns as ledger_campaigns
from dialer.ledger import overview, sums
from dialer.ledger.engine import read_scope, session_scope
from dialer.ledger.overview import CampaignView, Fetch
from dialer.ledger.statements import core_fetch
from dialer.models import Attempt, Campaign, Contact
from dialer.windows import CallingWindow
from tests import fakes, status_support
from tests.status_support import CHICAGO, NOW


def test_core_reads_equal_the_models(engine: Engine) -> None:
    campaign_id = status_support.arranged(engine)
    with session_scope(engine) as session:
        model = ledger_campaigns.get_campaign(session, name="spring")
        contacts = list(session.exec(select(Contact)))
        attempts = list(session.exec(select(Attempt)))
    with read_scope(engine) as connection:
        view, found, seconds, _due = _reads(core_fetch(connection), campaign_id)
    states = sums.by_state(found, [campaign_id])[campaign_id]
    outcomes = sums.by_outcome(found)
    pending = sums.by_zone_key(found, states=["pending"])
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


def _reads(fetch: Fetch, campaign_id: int) -> tuple[object, ...]:
    """Every status read of "spring", by ``fetch``."""
    return (
        overview.campaign_view(fetch, name="spring"),
        overview.campaign_counts(fetch, campaign_id=campaign_id),
        overview.recent_call_seconds(fetch, account="sandbox"),
        overview.next_due(fetch, campaign_id=campaign_id, zone_keys=[fakes.NEW_YORK, CHICAGO]),
    )


def test_the_status_report_is_the_one_read_through_the_models(engine: Engine) -> None:
    campaign_id = status_support.arranged(engine)
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
