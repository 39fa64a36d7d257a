"""Campaign lifecycle through real ticks: start time, end time, cancel, completion, retry."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy.engine import Engine

from campaigns import lifecycle
from campaigns.importer import import_campaign
from campaigns.spec import CampaignSpec
from dialer.errors import InputError, InvalidTransition
from dialer.ledger import campaigns as ledger_campaigns
from dialer.ledger import dispatch as ledger_dispatch
from dialer.ledger.engine import session_scope, utcnow
from dialer.models import Campaign, ContactState
from dialer.scheduler import tick
from dialer.settings import AccountConfig, Settings

PHONES = ["+12125552671", "+12125552672", "+12125552673"]


@pytest.fixture
def settings(database_url: str) -> Settings:
    return Settings(
        database_url=database_url,
        accounts={"sandbox": AccountConfig(name="sandbox", provider="sandbox", rate="100/s")},
    )


def _create(engine: Engine, settings: Settings, tmp_path: Path, **options: object) -> None:
    leads = tmp_path / "leads.csv"
    leads.write_text("phone\n" + "\n".join(PHONES) + "\n", encoding="utf-8")
    fields: dict[str, object] = {
        "name": "spring",
        "account": "sandbox",
        "csv_path": leads,
        "rejects_path": tmp_path / "rejects.csv",
        "window": "00:00-24:00",
        "days": "all",
        **options,
    }
    import_campaign(engine, settings, CampaignSpec(**fields), now=utcnow())  # type: ignore[arg-type]


def _campaign(engine: Engine) -> Campaign:
    with session_scope(engine) as session:
        return ledger_campaigns.get_campaign(session, name="spring")


def _counts(engine: Engine) -> dict[str, int]:
    with session_scope(engine) as session:
        counts = ledger_campaigns.state_counts(session, campaign_id=1)
    return {state: n for state, n in counts.items() if n}


def test_draft_until_started_and_nothing_claimed_before_start_time(
    engine: Engine, settings: Settings, tmp_path: Path
) -> None:
    start = utcnow() + timedelta(hours=2)
    _create(engine, settings, tmp_path, start=start.isoformat())
    claimed: list[int] = []
    tick(engine, settings, now=utcnow(), enqueue=claimed.extend)
    assert _campaign(engine).status == "draft" and claimed == []
    lifecycle.change(engine, "spring", "start", now=utcnow())
    tick(engine, settings, now=utcnow(), enqueue=claimed.extend)
    assert claimed == []
    tick(engine, settings, now=start + timedelta(seconds=1), enqueue=claimed.extend)
    assert claimed == [1, 2, 3]


def test_end_time_stops_dialing_and_reports_what_was_not_reached(
    engine: Engine, settings: Settings, tmp_path: Path
) -> None:
    end = utcnow() + timedelta(hours=1)
    _create(engine, settings, tmp_path, end=end.isoformat())
    lifecycle.change(engine, "spring", "start", now=utcnow())
    claimed: list[int] = []
    report = tick(engine, settings, now=end, enqueue=claimed.extend)
    assert claimed == [] and report.ended == ["spring"]
    campaign = _campaign(engine)
    assert campaign.status == "completed" and campaign.status_reason == "end time reached"
    assert _counts(engine) == {"cancelled": 3}


def test_cancel_turns_every_open_contact_cancelled_and_cannot_be_undone(
    engine: Engine, settings: Settings, tmp_path: Path
) -> None:
    _create(engine, settings, tmp_path)
    lifecycle.change(engine, "spring", "start", now=utcnow())
    claimed: list[int] = []
    tick(engine, settings, now=utcnow(), enqueue=claimed.extend)
    assert _counts(engine) == {"queued": 3}
    lifecycle.change(engine, "spring", "cancel", now=utcnow())
    assert _counts(engine) == {"cancelled": 3}
    with pytest.raises(InvalidTransition, match="it is cancelled"):
        lifecycle.change(engine, "spring", "resume", now=utcnow())


def test_pause_stops_claims_and_a_finished_campaign_completes_by_itself(
    engine: Engine, settings: Settings, tmp_path: Path
) -> None:
    _create(engine, settings, tmp_path)
    lifecycle.change(engine, "spring", "start", now=utcnow())
    lifecycle.change(engine, "spring", "pause", now=utcnow())
    claimed: list[int] = []
    tick(engine, settings, now=utcnow(), enqueue=claimed.extend)
    assert claimed == []
    lifecycle.change(engine, "spring", "resume", now=utcnow())
    tick(engine, settings, now=utcnow(), enqueue=claimed.extend)
    assert claimed == [1, 2, 3]
    with session_scope(engine) as session:
        begins = [ledger_dispatch.Begin(contact_id, f"k{contact_id}") for contact_id in claimed]
        won = ledger_dispatch.begin_attempts(
            session, begins=begins, account="sandbox", now=utcnow()
        )
        assert sorted(won) == claimed
        result = ledger_dispatch.AttemptResult(state=ContactState.FAILED, error="400 no")
        finishes = [ledger_dispatch.Finish(won[i], i, result) for i in claimed]
        ledger_dispatch.finish_attempts(session, finishes=finishes, now=utcnow())
    report = tick(engine, settings, now=utcnow(), enqueue=claimed.extend)
    assert report.completed == ["spring"] and _campaign(engine).status == "completed"
    assert lifecycle.retry(engine, "spring", ["failed"], now=utcnow()) == 3
    assert _campaign(engine).status == "paused" and _counts(engine) == {"pending": 3}
    with pytest.raises(InputError):
        lifecycle.retry(engine, "spring", ["placed"], now=utcnow())
