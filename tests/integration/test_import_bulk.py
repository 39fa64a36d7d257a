"""A generated 20,000-row leads file through the real import, on SQLite and Postgres.

The file is the benchmark's (``bench/make_leads.py``): every phone shape real exports hold,
garbage, and duplicates written in other shapes. What the import must produce is worked out
here row by row with ``normalize_phone``, and compared exactly with the ledger and the rejects
file. Chunks are small so that duplicates cross chunks and the normalizing pipeline holds
several chunks at once; the last chunk is below the process pool's threshold.
"""

from __future__ import annotations

import csv
import importlib.util
import sqlite3
from collections import Counter
from contextlib import closing
from dataclasses import dataclass, replace
from pathlib import Path
from types import ModuleType
from typing import Any

import pyarrow as pa
import pytest
from sqlalchemy import Index
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError

from campaigns.importer import import_campaign
from campaigns.spec import CampaignSpec
from dialer.csvsafe import neutralise
from dialer.leads.headers import column_names
from dialer.leads.phones import PhoneNumber, normalize_phone
from dialer.ledger import campaigns as ledger_campaigns
from dialer.ledger import contacts as ledger_contacts
from dialer.ledger.engine import make_engine, session_scope, utcnow
from dialer.providers.base import CallRequest
from dialer.providers.sandbox import SandboxProvider
from dialer.settings import Settings
from dialer.zone_keys import zones_of_key

ROWS = 20_000
CHUNK = 6_000
MAKE_LEADS = Path(__file__).parents[2] / "bench" / "make_leads.py"


def _make_leads() -> ModuleType:
    spec = importlib.util.spec_from_file_location("make_leads", MAKE_LEADS)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@dataclass
class Expected:
    contacts: dict[int, tuple[PhoneNumber, dict[str, str]]]
    rejects: list[tuple[str, str, str, str]]
    valid_phones: set[str]
    reshaped_duplicates: int


def _expected(path: Path) -> Expected:
    """Each row's fate, worked out one row at a time: the first row with a number wins."""
    with path.open(newline="", encoding="utf-8") as stream:
        records = list(csv.reader(stream))
    names = column_names(records[0])
    contacts: dict[int, tuple[PhoneNumber, dict[str, str]]] = {}
    rejects: list[tuple[str, str, str, str]] = []
    first_raw: dict[str, str] = {}
    first_row: dict[str, int] = {}
    reshaped = 0
    for row, cells in enumerate(records[1:], start=1):
        lead = dict(zip(names, cells, strict=True))
        result = normalize_phone(lead["phone"], "US")
        if not isinstance(result, PhoneNumber):
            reason, detail = result.reason, result.detail
        elif result.e164 in first_raw:
            reason, detail = "duplicate", f"same number as row {first_row[result.e164]}"
            reshaped += first_raw[result.e164] != lead["phone"]
        else:
            first_raw[result.e164] = lead["phone"]
            first_row[result.e164] = row
            contacts[row] = (result, lead)
            continue
        rejects.append((str(row), str(neutralise(lead["phone"])), reason, detail))
    return Expected(contacts, rejects, set(first_raw), reshaped)


def test_every_generated_row_ends_as_one_contact_or_one_reject(
    engine: Engine, database_url: str, tmp_path: Path
) -> None:
    leads = tmp_path / "leads.csv"
    _make_leads().write_leads(leads, ROWS, seed=11)
    expected = _expected(leads)
    # The file exercises what it is meant to.
    reasons = Counter(reason for _, _, reason, _ in expected.rejects)
    assert {"duplicate", "missing", "unparseable", "invalid"} <= set(reasons)
    assert expected.reshaped_duplicates > 100

    spec = CampaignSpec(
        name="bulk", account="sandbox", csv_path=leads, rejects_path=tmp_path / "rejects.csv"
    )
    summary = import_campaign(
        engine, Settings(database_url=database_url), spec, now=utcnow(), chunksize=CHUNK
    )

    assert summary.rows_read == ROWS
    assert summary.accepted + summary.rejected_total == ROWS
    assert summary.accepted == len(expected.contacts)
    assert summary.rejected == reasons
    with (tmp_path / "rejects.csv").open(newline="", encoding="utf-8") as stream:
        assert [tuple(line) for line in csv.reader(stream)] == [
            ("row", "value", "reason", "detail"),
            *expected.rejects,
        ]

    with session_scope(engine) as session:
        campaign = ledger_campaigns.get_campaign(session, name="bulk")
        assert campaign.id is not None
        counters = (campaign.rows_read, campaign.rows_accepted, campaign.rows_rejected)
        stored = [
            _fields(contact)
            for contact in ledger_contacts.iter_contacts(session, campaign_id=campaign.id)
        ]
    assert counters == (ROWS, len(expected.contacts), len(expected.rejects))
    # In source order, and exactly the phones normalizing the file's values gives.
    assert [fields["row"] for fields in stored] == sorted(expected.contacts)
    assert {fields["phone"] for fields in stored} == expected.valid_phones
    for fields in stored:
        number, lead = expected.contacts[fields["row"]]
        assert zones_of_key(fields.pop("zone_key")) == number.timezones
        assert fields == {
            "row": fields["row"],
            "phone": number.e164,
            "raw_phone": lead["phone"],
            "extension": number.extension,
            "number_type": number.number_type,
            "first_name": lead["first_name"].strip(),
            "last_name": lead["last_name"].strip(),
            "email": lead["email"].strip(),
            "variables": lead,
            "state": "pending",
            "attempts": 0,
        }


def _fields(contact: Any) -> dict[str, Any]:
    names = (
        "row",
        "phone",
        "raw_phone",
        "extension",
        "number_type",
        "zone_key",
        "first_name",
        "last_name",
        "email",
        "variables",
        "state",
        "attempts",
    )
    return {name: getattr(contact, name) for name in names}


def test_a_provider_without_row_rules_is_asked_once(
    sqlite_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """``checks_rows=False`` in a provider's capabilities: its rules read nothing a row
    changes, so the campaign's probe request is the only one checked."""
    leads = tmp_path / "leads.csv"
    _make_leads().write_leads(leads, 500, seed=3)
    asked: list[str] = []

    def check(self: SandboxProvider, request: CallRequest) -> str | None:
        asked.append(request.phone)
        return None

    monkeypatch.setattr(SandboxProvider, "check", check)
    declared = SandboxProvider.capabilities
    monkeypatch.setattr(SandboxProvider, "capabilities", replace(declared, checks_rows=True))
    settings = Settings(database_url=sqlite_url)
    engine = make_engine(sqlite_url)
    spec = CampaignSpec(
        name="bulk", account="sandbox", csv_path=leads, rejects_path=tmp_path / "rejects.csv"
    )
    summary = import_campaign(engine, settings, spec, now=utcnow())
    assert len(asked) == 1 + summary.accepted

    monkeypatch.setattr(SandboxProvider, "capabilities", replace(declared, checks_rows=False))
    asked.clear()
    again = import_campaign(
        engine, settings, replace(spec, name="again", append=False), now=utcnow()
    )
    engine.dispose()
    assert again.accepted == summary.accepted
    assert asked == ["+10000000000"]


def _index_names(sqlite_url: str) -> set[str]:
    """The contact table's indexes as a connection of its own sees them."""
    path = sqlite_url.removeprefix("sqlite:///")
    with closing(sqlite3.connect(path)) as other:
        query = "SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = 'contact'"
        return {name for (name,) in other.execute(query)}


def test_a_large_sqlite_import_builds_the_indexes_after_loading(
    sqlite_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The unique (campaign, phone) index is dropped for the load and built again before the
    commit; other connections see it all along, and a failed import leaves it in place."""
    monkeypatch.setattr(ledger_contacts, "BULK_LOAD_MIN_ROWS", 0)
    dropped: list[str] = []
    drop = Index.drop

    def spy(self: Index, bind: Any, checkfirst: bool = False) -> None:
        dropped.append(self.name or "")
        drop(self, bind, checkfirst)

    monkeypatch.setattr(Index, "drop", spy)
    leads = tmp_path / "leads.csv"
    _make_leads().write_leads(leads, 3_000, seed=5)
    engine = make_engine(sqlite_url)
    settings = Settings(database_url=sqlite_url)
    spec = CampaignSpec(
        name="bulk", account="sandbox", csv_path=leads, rejects_path=tmp_path / "rejects.csv"
    )
    indexes = _index_names(sqlite_url)
    assert {"ix_contact_claim", "uq_contact_campaign_phone"} <= indexes
    seen: list[set[str]] = []
    import_campaign(
        engine,
        settings,
        spec,
        now=utcnow(),
        chunksize=1_000,
        progress=lambda _read, _size: seen.append(_index_names(sqlite_url)),
    )
    assert dropped == ["uq_contact_campaign_phone"]
    assert seen == [indexes] * 3
    assert _index_names(sqlite_url) == indexes

    def broken(*_: Any, **__: Any) -> int:
        raise RuntimeError("disk full")

    monkeypatch.setattr(ledger_contacts, "insert_prepared", broken)
    with pytest.raises(RuntimeError):
        import_campaign(engine, settings, replace(spec, name="broken"), now=utcnow())
    engine.dispose()
    assert len(dropped) == 2  # dropped again, and restored by the rollback
    assert _index_names(sqlite_url) == indexes


def test_a_duplicate_that_reaches_a_large_sqlite_load_fails_the_whole_import(
    sqlite_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """With the unique index dropped for the load, its rebuild is the duplicate check: a
    number inserted twice (here by a broken insert) fails the import, and nothing lands."""
    monkeypatch.setattr(ledger_contacts, "BULK_LOAD_MIN_ROWS", 0)
    insert = ledger_contacts.insert_prepared

    def twice(connection: Any, prepared: ledger_contacts.PreparedContacts) -> int:
        insert(connection, prepared)
        assert isinstance(prepared.data, pa.Table)
        return insert(connection, replace(prepared, rows=1, data=prepared.data.slice(0, 1)))

    monkeypatch.setattr(ledger_contacts, "insert_prepared", twice)
    leads = tmp_path / "leads.csv"
    _make_leads().write_leads(leads, 3_000, seed=5)
    engine = make_engine(sqlite_url)
    spec = CampaignSpec(
        name="twice", account="sandbox", csv_path=leads, rejects_path=tmp_path / "rejects.csv"
    )
    with pytest.raises(IntegrityError):
        import_campaign(engine, Settings(database_url=sqlite_url), spec, now=utcnow())
    engine.dispose()
    path = sqlite_url.removeprefix("sqlite:///")
    with closing(sqlite3.connect(path)) as other:
        assert other.execute("SELECT count(*) FROM contact").fetchone() == (0,)
        assert other.execute("SELECT count(*) FROM campaign").fetchone() == (0,)
    assert "uq_contact_campaign_phone" in _index_names(sqlite_url)
    assert not (tmp_path / "rejects.csv").exists()
