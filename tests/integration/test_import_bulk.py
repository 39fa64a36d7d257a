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
from collections import Counter
from dataclasses import dataclass, replace
from pathlib import Path
from types import ModuleType
from typing import Any

import pyarrow as pa
import pytest
from sqlalchemy import text
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
        numbers = session.execute(
            text("SELECT phone, contact_id FROM contact_phone WHERE campaign_id = :id"),
            {"id": campaign.id},
        ).all()
        ids = {
            contact.phone: contact.id
            for contact in ledger_contacts.iter_contacts(session, campaign_id=campaign.id)
        }
    assert counters == (ROWS, len(expected.contacts), len(expected.rejects))
    # contact_phone finds each contact by its number, and holds nothing else.
    assert dict(tuple(row) for row in numbers) == ids
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


def _landed(engine: Engine) -> list[int]:
    """How many campaigns, contacts and contact_phone rows the ledger holds."""
    with engine.connect() as connection:
        return [
            connection.execute(text(f"SELECT count(*) FROM {table}")).scalar_one()
            for table in ("campaign", "contact", "contact_phone")
        ]


def _first_row(prepared: ledger_contacts.PreparedContacts) -> ledger_contacts.PreparedContacts:
    """The chunk's first contact alone, in the chunk's own form (columns or COPY data)."""
    if isinstance(prepared.data, pa.Table):
        return replace(prepared, rows=1, data=prepared.data.slice(0, 1))
    line = prepared.data.to_pybytes().split(b"\n", 1)[0] + b"\n"
    return replace(prepared, rows=1, data=pa.py_buffer(line))


def _spec(tmp_path: Path, name: str) -> CampaignSpec:
    leads = tmp_path / "leads.csv"
    if not leads.exists():
        _make_leads().write_leads(leads, 3_000, seed=5)
    return CampaignSpec(
        name=name, account="sandbox", csv_path=leads, rejects_path=tmp_path / "rejects.csv"
    )


def test_a_duplicate_that_reaches_the_load_fails_the_whole_import(
    engine: Engine, database_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The numbers are checked once, when the load ends (contact_phone's key): a number
    inserted twice (here by a broken insert) fails the import, and nothing lands."""
    insert = ledger_contacts.insert_prepared

    def twice(connection: Any, prepared: ledger_contacts.PreparedContacts) -> int:
        insert(connection, prepared)
        return insert(connection, _first_row(prepared))

    monkeypatch.setattr(ledger_contacts, "insert_prepared", twice)
    spec = _spec(tmp_path, "twice")
    with pytest.raises(IntegrityError):
        import_campaign(engine, Settings(database_url=database_url), spec, now=utcnow())
    assert _landed(engine) == [0, 0, 0]
    assert not (tmp_path / "rejects.csv").exists()


def test_an_import_that_fails_midway_leaves_no_contact_and_no_number(
    engine: Engine, database_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls: list[int] = []
    insert = ledger_contacts.insert_prepared

    def fails_second(connection: Any, prepared: ledger_contacts.PreparedContacts) -> int:
        calls.append(prepared.rows)
        if len(calls) == 2:
            raise RuntimeError("disk full")
        return insert(connection, prepared)

    monkeypatch.setattr(ledger_contacts, "insert_prepared", fails_second)
    settings = Settings(database_url=database_url)
    with pytest.raises(RuntimeError, match="disk full"):
        import_campaign(engine, settings, _spec(tmp_path, "broken"), now=utcnow(), chunksize=1_000)
    assert len(calls) == 2
    assert _landed(engine) == [0, 0, 0]
