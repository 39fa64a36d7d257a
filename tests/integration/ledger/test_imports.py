"""dialer.ledger.imports: an import's writes are committed by ``finish`` and by nothing else."""

from __future__ import annotations

import threading
import time

import pandas as pd
import pytest
from sqlalchemy import text
from sqlalchemy.engine import Engine

from dialer.errors import CampaignError, InputError
from dialer.ledger import campaigns as ledger_campaigns
from dialer.ledger import contacts as ledger_contacts
from dialer.ledger.engine import session_scope, utcnow
from dialer.ledger.imports import import_into
from dialer.models import Campaign, CampaignStatus


def _campaign(**fields: object) -> Campaign:
    values: dict[str, object] = {
        "name": "spring",
        "account": "sandbox",
        "status": CampaignStatus.DRAFT,
        "columns": ["phone"],
        "source_file": "a.csv",
        "source_checksum": "aa",
        "callback_token": "t",
        "created_at": utcnow(),
        **fields,
    }
    return Campaign(**values)


def _contacts(*phones: str) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "row": list(range(1, len(phones) + 1)),
            "phone": list(phones),
            "raw_phone": list(phones),
            "extension": [None] * len(phones),
            "number_type": ["mobile"] * len(phones),
            "zone_key": [""] * len(phones),
            "first_name": [""] * len(phones),
            "last_name": [""] * len(phones),
            "email": [""] * len(phones),
            "variables": ["{}"] * len(phones),
        }
    )


def _phones(engine: Engine, name: str = "spring") -> set[str]:
    with session_scope(engine) as session:
        campaign = ledger_campaigns.get_campaign(session, name=name)
        assert campaign.id is not None
        return ledger_contacts.campaign_phones(session, campaign_id=campaign.id)


def test_finish_commits_the_campaign_its_contacts_suppressions_and_counters(
    engine: Engine,
) -> None:
    with import_into(
        engine,
        campaign=_campaign(),
        append=False,
        suppress={"+12125550000"},
        suppress_source="dnc.csv",
        now=utcnow(),
    ) as target:
        assert target.suppressed == {"+12125550000"}
        assert len(target.seen) == 0
        target.load(_contacts("+12125552671", "+12125552672"))
        target.load(_contacts("+12125552673"))
        target.finish(read=4, accepted=3, rejected=1)
    assert _phones(engine) == {"+12125552671", "+12125552672", "+12125552673"}
    with session_scope(engine) as session:
        campaign = ledger_campaigns.get_campaign(session, name="spring")
        assert (campaign.rows_read, campaign.rows_accepted, campaign.rows_rejected) == (4, 3, 1)
        assert ledger_contacts.suppressed_phones(session, campaign_id=campaign.id) == {
            "+12125550000"
        }


def test_without_finish_nothing_is_written(engine: Engine) -> None:
    with (
        pytest.raises(RuntimeError, match="boom"),
        import_into(
            engine,
            campaign=_campaign(),
            append=False,
            suppress=(),
            suppress_source="",
            now=utcnow(),
        ) as target,
    ):
        target.load(_contacts("+12125552671"))
        raise RuntimeError("boom")
    with session_scope(engine) as session:
        assert ledger_campaigns.list_campaigns(session) == []


def test_append_extends_the_campaign_and_sees_its_phones(engine: Engine) -> None:
    with import_into(
        engine, campaign=_campaign(), append=False, suppress=(), suppress_source="", now=utcnow()
    ) as target:
        target.load(_contacts("+12125552671"))
        target.finish(read=1, accepted=1, rejected=0)
    more = _campaign(columns=["phone", "city"], source_file="b.csv", source_checksum="bb")
    with import_into(
        engine, campaign=more, append=True, suppress=(), suppress_source="", now=utcnow()
    ) as target:
        assert len(target.seen) == 1
        assert target.seen.rows(["+12125552671", "+12125552672"]).tolist() == [0, -1]
        target.finish(read=0, accepted=0, rejected=0)
    with session_scope(engine) as session:
        campaign = ledger_campaigns.get_campaign(session, name="spring")
        assert campaign.columns == ["phone", "city"]
        assert campaign.source_file == "a.csv, b.csv"
        assert campaign.source_checksum == "bb"


@pytest.mark.parametrize(
    ("existing", "error"),
    [
        ({"status": CampaignStatus.COMPLETED}, CampaignError),
        ({"account": "other"}, InputError),
    ],
)
def test_append_refuses_a_finished_campaign_or_another_account(
    engine: Engine, existing: dict[str, object], error: type[Exception]
) -> None:
    with import_into(
        engine,
        campaign=_campaign(**existing),
        append=False,
        suppress=(),
        suppress_source="",
        now=utcnow(),
    ) as target:
        target.finish(read=0, accepted=0, rejected=0)
    with (
        pytest.raises(error),
        import_into(
            engine, campaign=_campaign(), append=True, suppress=(), suppress_source="", now=utcnow()
        ),
    ):
        pass


def test_the_campaign_phones_come_in_batches(engine: Engine) -> None:
    phones = [f"+1212555267{i}" for i in range(5)]
    with import_into(
        engine, campaign=_campaign(), append=False, suppress=(), suppress_source="", now=utcnow()
    ) as target:
        target.load(_contacts(*phones))
        target.finish(read=5, accepted=5, rejected=0)
    with session_scope(engine) as session:
        campaign = ledger_campaigns.get_campaign(session, name="spring")
        assert campaign.id is not None
        batches = list(
            ledger_contacts.campaign_phone_batches(session, campaign_id=campaign.id, size=2)
        )
    assert [len(batch) for batch in batches] == [2, 2, 1]
    assert sorted(phone for batch in batches for phone in batch) == phones


@pytest.mark.parametrize("database_url", ["postgres"], indirect=True)
def test_appends_to_one_campaign_take_turns(engine: Engine) -> None:
    """On Postgres a second append waits for the first to commit (the campaign row is
    locked), then sees the numbers and the file it added: its de-duplication is never
    stale, and no file is lost from the campaign's list. (SQLite has one writer: the second
    append waits or fails whole.)"""
    with import_into(
        engine, campaign=_campaign(), append=False, suppress=(), suppress_source="", now=utcnow()
    ) as target:
        target.load(_contacts("+12125552671"))
        target.finish(read=1, accepted=1, rejected=0)
    asked = ["+12125552671", "+12125552672", "+12125552673"]
    second_saw: list[list[int]] = []
    entered = threading.Event()

    def second_append() -> None:
        entered.set()
        third = _campaign(source_file="c.csv")
        with import_into(
            engine, campaign=third, append=True, suppress=(), suppress_source="", now=utcnow()
        ) as target:
            second_saw.append(target.seen.rows(asked).tolist())
            target.load(_contacts("+12125552673"))
            target.finish(read=1, accepted=1, rejected=0)

    second = _campaign(source_file="b.csv")
    with import_into(
        engine, campaign=second, append=True, suppress=(), suppress_source="", now=utcnow()
    ) as first:
        first.load(_contacts("+12125552672"))
        thread = threading.Thread(target=second_append)
        thread.start()
        entered.wait()
        assert _waits_for_a_lock(engine)
        assert second_saw == []
        first.finish(read=1, accepted=1, rejected=0)
    thread.join(timeout=30)
    assert second_saw == [[0, 0, -1]]
    assert _phones(engine) == set(asked)
    with session_scope(engine) as session:
        campaign = ledger_campaigns.get_campaign(session, name="spring")
        assert campaign.source_file == "a.csv, b.csv, c.csv"


def _waits_for_a_lock(engine: Engine, timeout: float = 10.0) -> bool:
    """True once a session of this database waits for a lock (within ``timeout``)."""
    query = text(
        "SELECT count(*) FROM pg_stat_activity"
        " WHERE datname = current_database() AND wait_event_type = 'Lock'"
    )
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with engine.connect() as connection:
            if connection.execute(query).scalar_one():
                return True
        time.sleep(0.02)
    return False
