"""The ledger's side of a campaign over several accounts, on SQLite and Postgres: a contact's
account is fixed by its first begin and never changes while a call may have been placed;
the claim takes only the accounts that can dial; a refused account fails over; migration
0010 keeps existing campaigns on their account, up and down."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from alembic import command
from sqlalchemy import text
from sqlalchemy.engine import Engine

from dialer import split
from dialer.ledger import campaigns as ledger_campaigns
from dialer.ledger import dispatch as ledger_dispatch
from dialer.ledger.dispatch import AttemptResult, Begin, Finish
from dialer.ledger.engine import session_scope
from dialer.models import Campaign, CampaignStatus, Contact, ContactState
from tests.integration.test_ledger import _contacts, _phones
from tests.integration.test_migrations import _config

NOW = datetime(2026, 12, 4, 15, 0, tzinfo=UTC)
SHARES = split.parse_shares(["a=50", "b=50"])


def _campaign(engine: Engine, *, failover: bool = False, name: str = "duo") -> int:
    with session_scope(engine) as session:
        campaign = ledger_campaigns.create_campaign(
            session,
            campaign=Campaign(
                name=name,
                account="a",
                accounts=[share.to_json() for share in SHARES],
                failover=failover,
                created_at=NOW,
                status=CampaignStatus.RUNNING,
            ),
        )
        assert campaign.id is not None
        return campaign.id


def _claim(
    engine: Engine, cid: int, accounts: ledger_dispatch.AccountFilter | None = None
) -> list[int]:
    with session_scope(engine) as session:
        return ledger_dispatch.claim_due(
            session, campaign_id=cid, zone_keys=[""], now=NOW, limit=100, accounts=accounts
        )


def _begin(engine: Engine, contact_id: int, account: str, key: str) -> dict[int, int]:
    with session_scope(engine) as session:
        return ledger_dispatch.begin_attempts(
            session, begins=[Begin(contact_id, key)], account=account, now=NOW
        )


def _finish(engine: Engine, attempt_id: int, contact_id: int, result: AttemptResult) -> None:
    with session_scope(engine) as session:
        ledger_dispatch.finish_attempts(
            session, finishes=[Finish(attempt_id, contact_id, result)], now=NOW
        )


def _contact(engine: Engine, contact_id: int) -> Contact:
    with session_scope(engine) as session:
        found = session.get(Contact, contact_id)
        assert found is not None
        session.expunge(found)
        return found


def _requeue(engine: Engine, contact_id: int) -> None:
    with session_scope(engine) as session:
        session.execute(
            text("UPDATE contact SET state = 'queued', next_attempt_at = NULL WHERE id = :id"),
            {"id": contact_id},
        )


def test_a_contact_that_may_have_been_called_never_goes_to_another_account(
    engine: Engine,
) -> None:
    cid = _campaign(engine, failover=True)
    _contacts(engine, cid, _phones(3))
    assert _claim(engine, cid) == [1, 2, 3]
    # 1: unknown on a. 2: placed on a. 3: a 503 on a, nothing placed.
    for contact_id in (1, 2, 3):
        (attempt,) = _begin(engine, contact_id, "a", f"k{contact_id}").values()
        result = {
            1: AttemptResult(state=ContactState.UNKNOWN, error="timed out"),
            2: AttemptResult(state=ContactState.PLACED, provider_call_id="X2"),
            3: AttemptResult(state=ContactState.PENDING, http_status=503),
        }[contact_id]
        _finish(engine, attempt, contact_id, result)
    assert [_contact(engine, i).account for i in (1, 2, 3)] == ["a", "a", None]
    for contact_id in (1, 2, 3):
        _requeue(engine, contact_id)
    # Another account loses the begin of a contact that may have been called on a...
    assert _begin(engine, 1, "b", "k1b") == {}
    assert _begin(engine, 2, "b", "k2b") == {}
    # ...and wins one whose every attempt provably placed nothing.
    assert list(_begin(engine, 3, "b", "k3b")) == [3]
    assert _contact(engine, 3).account == "b"
    # Its own account still may (a recall of a placed contact).
    assert list(_begin(engine, 2, "a", "k2a")) == [2]


def test_the_claim_takes_only_what_the_accounts_that_can_dial_may_take(engine: Engine) -> None:
    cid = _campaign(engine)
    _contacts(engine, cid, _phones(40))
    cut = split.intervals(SHARES)
    only_b = ledger_dispatch.AccountFilter(frozenset({"b"}), (cut["b"],))
    claimed = _claim(engine, cid, only_b)
    assert claimed and all(split.weighted_account(SHARES, i) == "b" for i in claimed)
    assert len(claimed) == sum(split.weighted_account(SHARES, i) == "b" for i in range(1, 41))
    # Failing over: every unassigned contact may go to b.
    assert len(_claim(engine, cid, ledger_dispatch.AccountFilter(frozenset({"b"}), None))) == (
        40 - len(claimed)
    )


def test_refused_credentials_fail_over_instead_of_pausing(engine: Engine) -> None:
    over = _campaign(engine, failover=True)
    stays = _campaign(engine, name="solo")
    with session_scope(engine) as session:
        paused = ledger_campaigns.pause_account(
            session, account="a", reason="account refused: HTTP 401", now=NOW
        )
    assert paused == 1  # "solo" (no failover) pauses as before
    with session_scope(engine) as session:
        duo = session.get(Campaign, over)
        solo = session.get(Campaign, stays)
        assert duo is not None and solo is not None
        assert duo.status == CampaignStatus.RUNNING and solo.status == CampaignStatus.PAUSED
        shares = split.shares_from_json(duo.accounts, duo.account)
        assert [s.out for s in shares] == ["account refused: HTTP 401", ""]
        # b refused too: nothing left to fail over to, so it pauses.
        assert ledger_campaigns.pause_account(session, account="b", reason="401", now=NOW) == 1
    with session_scope(engine) as session:
        duo = session.get(Campaign, over)
        assert duo is not None
        ledger_campaigns.reinstate_accounts(duo)
        assert [s.out for s in split.shares_from_json(duo.accounts, duo.account)] == ["", ""]


def test_0010_keeps_existing_campaigns_on_their_account_both_ways(engine: Engine) -> None:
    with engine.connect() as connection:
        command.downgrade(_config(connection), "0007")
    with engine.begin() as connection:
        connection.execute(
            text(
                'INSERT INTO campaign (name, name_key, account, status, status_reason, "window",'
                " days, timezone, region, max_attempts, templates, columns, source_file,"
                " source_checksum, rows_read, rows_accepted, rows_rejected, callback_token,"
                " created_at) VALUES ('old', 'old', 'gym', 'running', '', '09:00-20:00', 'mon',"
                " 'UTC', 'US', 1, '{}', '[]', '', '', 0, 0, 0, '', '2026-11-23 12:00:00')"
            )
        )
    with engine.connect() as connection:
        command.upgrade(_config(connection), "head")
    with session_scope(engine) as session:
        old = ledger_campaigns.get_campaign(session, name="old")
        assert old.accounts == [{"name": "gym", "weight": 100}]
        assert old.failover is False and old.reassigned == 0
    with engine.connect() as connection:
        command.downgrade(_config(connection), "0007")
    with engine.connect() as connection:
        names = connection.execute(text("SELECT account FROM campaign")).scalars().all()
        assert names == ["gym"]
        with pytest.raises(Exception, match="accounts"):
            connection.execute(text("SELECT accounts FROM campaign")).all()
    with engine.connect() as connection:
        command.upgrade(_config(connection), "head")
