"""The status reads give what the models give, on both databases, whether they run through
SQLAlchemy Core or on a plain DBAPI connection (dialer/ledger/plainread.py): the campaign's
row, its counts by state, outcome and zone key, its account's call length, when its next
waiting contact is due, and so the very report ``dialer campaign status`` printed when it read
through the ORM."""

from __future__ import annotations

import dataclasses
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, timedelta

import pytest
from sqlalchemy import text
from sqlalchemy.engine import Engine
from sqlmodel import select

from campaigns.status import campaign_report, report_from
from dialer.errors import DATABASE_DOWN, ServiceUnavailable
from dialer.ledger import campaigns as ledger_campaigns
from dialer.ledger import overview, sums
from dialer.ledger.engine import read_scope, session_scope
from dialer.ledger.overview import CampaignView, Fetch
from dialer.ledger.plainread import open_ledger
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


@contextmanager
def _plain_ledger(engine: Engine) -> Iterator[Fetch]:
    ledger = open_ledger(engine.url.render_as_string(hide_password=False))
    assert ledger is not None, "a current ledger is read without SQLAlchemy"
    with ledger:
        yield ledger.fetch


def test_plain_reads_equal_the_core_reads(engine: Engine) -> None:
    campaign_id = status_support.arranged(engine)
    status_support.with_recalls_and_accounts(engine, campaign_id)
    with read_scope(engine) as connection:
        core = _reads(core_fetch(connection), campaign_id)
    with _plain_ledger(engine) as fetch:
        plain = _reads(fetch, campaign_id)
    assert plain == core
    view, _found, _seconds, due = plain
    assert isinstance(view, CampaignView) and view.start_at and view.start_at.tzinfo is UTC
    assert view.accounts == [{"name": "sandbox", "weight": 70}, {"name": "other", "weight": 30}]
    assert view.recall_rules == {"no-answer": [3600, 14400], "busy": [900]}
    assert view.failover is True
    assert due == NOW + timedelta(minutes=75, microseconds=250) and due.tzinfo is UTC
    with _plain_ledger(engine) as fetch:
        assert overview.recent_call_seconds(fetch, account="other") == 30.0


def test_plain_and_core_reports_are_the_same(engine: Engine) -> None:
    campaign_id = status_support.arranged(engine)
    status_support.with_recalls_and_accounts(engine, campaign_id)
    settings = fakes.settings(engine, also=["other"], rate="2/s", concurrent_calls=4)
    core = campaign_report(engine, settings, "spring", now=NOW)
    with _plain_ledger(engine) as fetch:
        plain = report_from(fetch, settings, "spring", now=NOW)
    assert plain == core
    assert (plain.recalls_waiting, plain.next_due) == (
        2,
        NOW + timedelta(minutes=75, microseconds=250),
    )
    assert plain.accounts_line() == "sandbox 70 %, other 30 %; failover on, reassigned 3"


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


# Postgres only: a SQLite file does not go away under its reader.
@pytest.mark.parametrize("database_url", ["postgres"], indirect=True)
def test_a_database_gone_mid_read_is_service_unavailable(engine: Engine) -> None:
    status_support.arranged(engine)
    url = engine.url.update_query_dict({"application_name": "status-read"})
    ledger = open_ledger(url.render_as_string(hide_password=False))
    assert ledger is not None
    with ledger:
        with engine.connect() as connection:
            ended = connection.execute(
                text(
                    "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
                    " WHERE application_name = 'status-read'"
                )
            ).scalars()
            assert list(ended) == [True]
        with pytest.raises(ServiceUnavailable, match=f"^{DATABASE_DOWN}$"):
            overview.campaign_view(ledger.fetch, name="spring")
