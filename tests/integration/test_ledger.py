"""Ledger transitions on SQLite and Postgres: each one conditional, each one won exactly once."""

from __future__ import annotations

import json
import threading
from datetime import UTC, datetime, timedelta

import pandas as pd
import pytest
from sqlalchemy.engine import Engine

from dialer.errors import CampaignError, UnknownCampaign
from dialer.ledger import campaigns as ledger_campaigns
from dialer.ledger import contacts as ledger_contacts
from dialer.ledger import dispatch as ledger_dispatch
from dialer.ledger.engine import session_scope
from dialer.models import Attempt, Campaign, CampaignStatus, ContactState

NOW = datetime(2026, 11, 23, 15, 0, tzinfo=UTC)


def _campaign(engine: Engine, name: str = "spring", status: str = "running") -> int:
    with session_scope(engine) as session:
        campaign = ledger_campaigns.create_campaign(
            session, campaign=Campaign(name=name, account="sandbox", created_at=NOW, status=status)
        )
        assert campaign.id is not None
        return campaign.id


def _contacts(engine: Engine, campaign_id: int, phones: list[str], zone: str = "") -> None:
    frame = pd.DataFrame(
        {
            "row": range(1, len(phones) + 1),
            "phone": phones,
            "raw_phone": phones,
            "extension": [None] * len(phones),
            "number_type": "mobile",
            "zone_key": zone,
            "first_name": "",
            "last_name": "Doe",
            "email": "",
            "variables": [json.dumps({"city": 'Zoë\'s "town", NY'})] * len(phones),
        }
    )
    with engine.begin() as conn:
        assert ledger_contacts.insert_contacts(conn, campaign_id=campaign_id, frame=frame) == len(
            phones
        )


def _phones(n: int) -> list[str]:
    return [f"+1212555{1000 + i:04d}" for i in range(n)]


def test_bulk_insert_keeps_text_and_json(engine: Engine) -> None:
    cid = _campaign(engine)
    _contacts(engine, cid, _phones(3), zone="America/New_York")
    with session_scope(engine) as session:
        [loaded] = ledger_dispatch.load_for_dispatch(session, contact_ids=[1])
        assert loaded.contact.first_name == ""
        assert loaded.contact.extension is None
        assert loaded.contact.variables == {"city": 'Zoë\'s "town", NY'}
        assert loaded.contact.state == ContactState.PENDING
        assert ledger_campaigns.state_counts(session, campaign_id=cid)["pending"] == 3


def test_duplicate_campaign_name_is_refused(engine: Engine) -> None:
    _campaign(engine)
    with pytest.raises(CampaignError, match="already exists"):
        _campaign(engine)
    with session_scope(engine) as session, pytest.raises(UnknownCampaign):
        ledger_campaigns.get_campaign(session, name="nope")


def test_claim_selects_only_due_open_unsuppressed(engine: Engine) -> None:
    cid = _campaign(engine)
    _contacts(engine, cid, _phones(4), zone="America/New_York")
    _contacts_other = ["+13105550100"]
    frame_zone = "America/Los_Angeles"
    _contacts(engine, cid, _contacts_other, zone=frame_zone)
    with session_scope(engine) as session:
        ledger_contacts.add_suppressions(session, phones=[_phones(4)[0]], source="t", now=NOW)
    with session_scope(engine) as session:
        claimed = ledger_dispatch.claim_due(
            session, campaign_id=cid, zone_keys=["America/New_York"], now=NOW, limit=10
        )
    assert claimed == [2, 3, 4]
    with session_scope(engine) as session:
        again = ledger_dispatch.claim_due(
            session, campaign_id=cid, zone_keys=["America/New_York"], now=NOW, limit=10
        )
        [listed] = ledger_dispatch.load_for_dispatch(session, contact_ids=[1])
    assert again == []
    # Found when its turn came, not by a sweep: final, with the reason.
    assert listed.contact.state == ContactState.CANCELLED
    assert listed.contact.last_error == ledger_dispatch.SUPPRESSED_REASON


def test_listing_a_number_cancels_its_pending_contacts_in_scope(engine: Engine) -> None:
    spring, autumn = _campaign(engine), _campaign(engine, name="autumn")
    _contacts(engine, spring, _phones(3))
    _contacts(engine, autumn, _phones(2))
    with session_scope(engine) as session:
        ledger_dispatch.claim_due(session, campaign_id=spring, zone_keys=[""], now=NOW, limit=1)
        own = ledger_dispatch.cancel_listed(
            session, phones=[_phones(3)[2]], now=NOW, campaign_id=autumn
        )
        everywhere = ledger_dispatch.cancel_listed(session, phones=_phones(2), now=NOW)
        contacts = ledger_dispatch.load_for_dispatch(session, contact_ids=range(1, 6))
    assert (own, everywhere) == (0, 3)  # autumn has no third number; spring's first is queued
    assert [(d.contact.state, d.contact.last_error) for d in contacts] == [
        ("queued", ""),
        ("cancelled", ledger_dispatch.SUPPRESSED_REASON),
        ("pending", ""),
        ("cancelled", ledger_dispatch.SUPPRESSED_REASON),
        ("cancelled", ledger_dispatch.SUPPRESSED_REASON),
    ]


def test_claim_respects_campaign_status_and_limit(engine: Engine) -> None:
    cid = _campaign(engine, status="paused")
    _contacts(engine, cid, _phones(5))
    with session_scope(engine) as session:
        assert (
            ledger_dispatch.claim_due(session, campaign_id=cid, zone_keys=[""], now=NOW, limit=9)
            == []
        )
        assert ledger_campaigns.set_status(
            session, campaign_id=cid, expected=["paused"], new=CampaignStatus.RUNNING, now=NOW
        )
    with session_scope(engine) as session:
        assert (
            len(
                ledger_dispatch.claim_due(
                    session, campaign_id=cid, zone_keys=[""], now=NOW, limit=2
                )
            )
            == 2
        )


def test_begin_is_won_once(engine: Engine) -> None:
    cid = _campaign(engine)
    _contacts(engine, cid, _phones(1))
    with session_scope(engine) as session:
        assert ledger_dispatch.claim_due(
            session, campaign_id=cid, zone_keys=[""], now=NOW, limit=1
        ) == [1]
    winners: list[bool] = []
    barrier = threading.Barrier(4)

    def race(i: int) -> None:
        barrier.wait()
        with session_scope(engine) as session:
            won = ledger_dispatch.begin_attempts(
                session, begins=[ledger_dispatch.Begin(1, f"k{i}")], account="sandbox", now=NOW
            )
            winners.append(won != {})

    threads = [threading.Thread(target=race, args=(i,)) for i in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(winners) == [False, False, False, True]


def test_finish_and_reaper(engine: Engine) -> None:
    cid = _campaign(engine)
    _contacts(engine, cid, _phones(3))
    with session_scope(engine) as session:
        ledger_dispatch.claim_due(session, campaign_id=cid, zone_keys=[""], now=NOW, limit=3)
        begins = [ledger_dispatch.Begin(1, "a1", 250), ledger_dispatch.Begin(2, "a2")]
        won = ledger_dispatch.begin_attempts(session, begins=begins, account="s", now=NOW)
        assert sorted(won) == [1, 2]
        done = ledger_dispatch.AttemptResult(
            state=ContactState.PLACED, http_status=200, provider_call_id="X1"
        )
        ledger_dispatch.finish_attempts(
            session, finishes=[ledger_dispatch.Finish(won[1], 1, done)], now=NOW
        )
        first = session.get(Attempt, won[1])
        assert first is not None and first.rate_wait_ms == 250 and first.result == "placed"
        assert first.provider_call_id == "X1" and first.http_status == 200
    later = NOW + timedelta(hours=1)
    with session_scope(engine) as session:
        returned, unknown = ledger_dispatch.reap(
            session, now=later, queued_timeout=60, dialing_timeout=600
        )
    assert (returned, unknown) == (1, 1)
    with session_scope(engine) as session:
        counts = ledger_campaigns.state_counts(session, campaign_id=cid)
        assert counts["placed"] == 1 and counts["unknown"] == 1 and counts["pending"] == 1
