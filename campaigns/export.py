"""``dialer campaign export``: one CSV row per contact (or, with ``--attempts``, per provider
request), safe to open in a spreadsheet."""

from __future__ import annotations

import csv
import io
import itertools
from collections.abc import Generator, Iterator, Sequence
from datetime import datetime
from pathlib import Path
from typing import IO

from sqlalchemy.engine import Engine
from sqlmodel import Session

from dialer import split
from dialer.csvsafe import neutralise
from dialer.ledger import campaigns as ledger_campaigns
from dialer.ledger.engine import session_scope
from dialer.ledger.export import iter_attempt_rows, iter_export_rows
from dialer.ledger.export_cells import MOST_LEAD_COLUMNS, iter_export_cells
from dialer.models import IN_FLIGHT_STATES, Campaign, ContactState
from dialer.private import open_private
from dialer.read_ahead import read_ahead
from dialer.zone_keys import listed_zones

FIXED_COLUMNS = (
    "row",
    "phone",
    "status",
    "attempts",
    "provider_call_id",
    "error",
    "outcome",
    "state",
    "extension",
    "number_type",
    "timezones",
    "last_change",
)
"""The export's own columns; the lead's own columns follow."""

ATTEMPT_COLUMNS = (
    "time",
    "row",
    "phone",
    "account",
    "http_status",
    "result",
    "outcome",
    "provider_call_id",
    "error",
    "latency_ms",
    "finished_at",
    "outcome_at",
)
"""The ``--attempts`` export: one row per request, for the people who audit calls. Never the
provider's answer body nor anything we sent: no credential can be in it."""

ACCOUNT_COLUMN = "account"
"""After :data:`FIXED_COLUMNS` for a campaign over several accounts: the contact's account
(empty until its first attempt)."""

LEAD_PREFIX = "lead_"
"""Put before a lead column whose name an export column (or another header) already has."""

EXCEL_ENCODING = "utf-8-sig"
"""UTF-8 with a byte-order mark: without it, Excel reads a CSV as the system code page."""

BYTE_ORDER_MARK = "\ufeff"
"""What :data:`EXCEL_ENCODING` writes first, for writers that encode as they stream."""

_PYTHON_BATCH = 1_000  # rows a batch of Python's cells: see _batches


def status_of(state: str, outcome: str | None) -> str:
    """The export's ``status``: pending, placed, failed, unknown or cancelled — or the
    provider-reported outcome of a placed call once one is known."""
    if state in IN_FLIGHT_STATES:
        return "pending"
    if state == ContactState.PLACED and outcome:
        return outcome
    return state


def export_rows(engine: Engine, name: str) -> Iterator[list[object]]:
    """The header, then one row per contact in source order (streamed from the ledger), each
    cell made here: the rule :func:`dialer.ledger.export_cells.iter_export_cells` follows on
    Postgres."""
    with session_scope(engine) as session:
        campaign = ledger_campaigns.get_campaign(session, name=name)
        header, with_account = _header(campaign)
        yield header
        yield from _contact_rows(session, campaign, with_account=with_account)


def _contact_rows(
    session: Session, campaign: Campaign, *, with_account: bool
) -> Iterator[list[object]]:
    """``campaign``'s rows after the header, each cell made here."""
    assert campaign.id is not None
    lead_columns = list(campaign.columns)
    for contact in iter_export_rows(session, campaign_id=campaign.id):
        # Only text from outside (the provider, the leads file) can start a formula: the
        # other cells are numbers, E.164 numbers, time zone names and our own words.
        fixed: list[object] = [
            contact.row,
            contact.phone,
            status_of(contact.state, contact.outcome),
            contact.attempts,
            neutralise(contact.provider_call_id or ""),
            neutralise(contact.last_error),
            contact.outcome or "",
            contact.state,
            neutralise(contact.extension or ""),
            contact.number_type,
            listed_zones(contact.zone_key),
            contact.state_changed_at.isoformat() if contact.state_changed_at else "",
            *([contact.account or ""] if with_account else []),
        ]
        variables = contact.variables
        fixed.extend([neutralise(variables.get(column, "")) for column in lead_columns])
        yield fixed


def export_batches(
    engine: Engine, name: str, *, attempts: bool = False
) -> Generator[Sequence[Sequence[object]], None, None]:
    """The export (with ``attempts``, of attempts) as lists of rows for
    ``csv.writer.writerows``: the header alone first, then the rows in source order, a batch
    at a time. An unknown campaign raises UnknownCampaign (on Postgres from this call, else
    from the first batch). On Postgres, for a campaign of few lead columns, the server makes
    the contacts' cells and the next batch is read while this process writes the last: the
    same bytes as :func:`export_rows`, a fifth to a half faster at one lead column, even at
    eight (bench/README.md, "The export's cells")."""
    if attempts:
        return _header_then_batches(attempt_rows(engine, name))
    if engine.dialect.name == "postgresql" and _lead_columns(engine, name) <= MOST_LEAD_COLUMNS:
        return read_ahead(_cells_from_server(engine, name), name="export-read")
    return _header_then_batches(export_rows(engine, name))


def _lead_columns(engine: Engine, name: str) -> int:
    with session_scope(engine) as session:
        return len(ledger_campaigns.get_campaign(session, name=name).columns)


def _cells_from_server(
    engine: Engine, name: str
) -> Generator[Sequence[Sequence[object]], None, None]:
    """The header alone, then the rows in batches, their cells made by Postgres."""
    with session_scope(engine) as session:
        campaign = ledger_campaigns.get_campaign(session, name=name)
        assert campaign.id is not None
        header, with_account = _header(campaign)
        yield [header]
        if len(campaign.columns) > MOST_LEAD_COLUMNS:
            # Columns appended since the path was chosen: rare, so slower is fine.
            yield from _batches(_contact_rows(session, campaign, with_account=with_account))
            return
        yield from iter_export_cells(
            session,
            campaign_id=campaign.id,
            lead_columns=list(campaign.columns),
            with_account=with_account,
        )


def _header(campaign: Campaign) -> tuple[list[object], bool]:
    """The export's header for ``campaign``, and whether it has the account column (a
    campaign over several accounts, :mod:`dialer.split`)."""
    with_account = len(split.shares_from_json(campaign.accounts, campaign.account)) > 1
    fixed_columns = (*FIXED_COLUMNS, *([ACCOUNT_COLUMN] if with_account else []))
    return [*fixed_columns, *lead_headers(list(campaign.columns), fixed_columns)], with_account


def _header_then_batches(
    rows: Iterator[list[object]],
) -> Generator[list[list[object]], None, None]:
    """``rows`` (a header, then rows) as the header alone, then :func:`_batches`."""
    yield [next(rows)]
    yield from _batches(rows)


def _batches(rows: Iterator[list[object]]) -> Iterator[list[list[object]]]:
    """``rows`` in lists of :data:`_PYTHON_BATCH` (few: the garbage collector walks every
    row a list holds; 10,000 wrote a fifth slower)."""
    while batch := list(itertools.islice(rows, _PYTHON_BATCH)):
        yield batch


def attempt_rows(engine: Engine, name: str) -> Iterator[list[object]]:
    """The header, then one row per attempt of the campaign, in the order they began."""
    with session_scope(engine) as session:
        campaign = ledger_campaigns.get_campaign(session, name=name)
        assert campaign.id is not None
        yield list(ATTEMPT_COLUMNS)
        for attempt in iter_attempt_rows(session, campaign_id=campaign.id):
            yield [
                _time(attempt.started_at),
                attempt.row,
                attempt.phone,
                attempt.account,
                "" if attempt.http_status is None else attempt.http_status,
                attempt.result or "",
                attempt.outcome or "",
                neutralise(attempt.provider_call_id or ""),
                neutralise(attempt.error),
                "" if attempt.latency_ms is None else attempt.latency_ms,
                _time(attempt.finished_at),
                _time(attempt.outcome_at),
            ]


def _time(moment: datetime | None) -> str:
    return moment.isoformat() if moment else ""


def lead_headers(columns: Sequence[str], fixed: Sequence[str] = FIXED_COLUMNS) -> list[str]:
    """The export's header for each lead column: its own name, or, when an export column
    (or an earlier header) has that name, the name with :data:`LEAD_PREFIX` before it as
    often as needed (``state`` -> ``lead_state``). Every lead column comes out, and the
    export's own columns keep their names and places."""
    taken = set(fixed)
    headers = []
    for column in columns:
        header = column
        while header in taken:
            header = LEAD_PREFIX + header
        taken.add(header)
        headers.append(header)
    return headers


def write_export(engine: Engine, name: str, out: IO[str], *, attempts: bool = False) -> int:
    """Write the export CSV to ``out`` (with ``attempts``, one row per attempt). Returns the
    number of contacts (attempts) written."""
    writer = csv.writer(out)
    count = -1
    for batch in export_batches(engine, name, attempts=attempts):
        writer.writerows(batch)
        count += len(batch)
    return max(count, 0)


def export_to_stream(
    engine: Engine, name: str, out: IO[bytes], *, excel: bool = False, attempts: bool = False
) -> int:
    """Write the export to the binary stream ``out`` (standard output); with ``excel``, as
    UTF-8 with a byte-order mark. The stream stays open."""
    text = io.TextIOWrapper(out, encoding=EXCEL_ENCODING if excel else "utf-8", newline="")
    try:
        return write_export(engine, name, text, attempts=attempts)
    finally:
        text.flush()
        text.detach()


def export_to_file(
    engine: Engine, name: str, path: Path, *, excel: bool = False, attempts: bool = False
) -> int:
    """Write the export to ``path`` atomically (a partial file never replaces a good one);
    with ``excel``, as UTF-8 with a byte-order mark."""
    partial = path.with_name(path.name + ".part")
    try:
        encoding = EXCEL_ENCODING if excel else "utf-8"
        with open_private(partial, "w", newline="", encoding=encoding) as out:
            count = write_export(engine, name, out, attempts=attempts)
        partial.replace(path)
    finally:
        partial.unlink(missing_ok=True)
    return count
