"""``dialer campaign export``: one CSV row per contact, safe to open in a spreadsheet."""

from __future__ import annotations

import csv
from collections.abc import Iterator
from pathlib import Path
from typing import IO

from sqlalchemy.engine import Engine

from dialer.csvsafe import neutralise
from dialer.ledger import campaigns as ledger_campaigns
from dialer.ledger.engine import session_scope
from dialer.ledger.export import iter_export_rows
from dialer.models import IN_FLIGHT_STATES, ContactState
from dialer.private import open_private

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

_SHOWN_AS_PENDING = IN_FLIGHT_STATES


def status_of(state: str, outcome: str | None) -> str:
    """The export's ``status``: pending, placed, failed, unknown or cancelled — or the
    provider-reported outcome of a placed call once one is known."""
    if state in _SHOWN_AS_PENDING:
        return "pending"
    if state == ContactState.PLACED and outcome:
        return outcome
    return state


def export_rows(engine: Engine, name: str) -> Iterator[list[object]]:
    """The header, then one row per contact in source order (streamed from the ledger)."""
    with session_scope(engine) as session:
        campaign = ledger_campaigns.get_campaign(session, name=name)
        assert campaign.id is not None
        lead_columns = [c for c in campaign.columns if c not in FIXED_COLUMNS]
        yield [*FIXED_COLUMNS, *lead_columns]
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
                contact.zone_key,
                contact.state_changed_at.isoformat() if contact.state_changed_at else "",
            ]
            variables = contact.variables
            fixed.extend([neutralise(variables.get(column, "")) for column in lead_columns])
            yield fixed


def write_export(engine: Engine, name: str, out: IO[str]) -> int:
    """Write the export CSV to ``out``. Returns the number of contacts written."""
    writer = csv.writer(out)
    count = -1
    for count, row in enumerate(export_rows(engine, name)):  # noqa: B007
        writer.writerow(row)
    return max(count, 0)


def export_to_file(engine: Engine, name: str, path: Path) -> int:
    """Write the export to ``path`` atomically (a partial file never replaces a good one)."""
    partial = path.with_name(path.name + ".part")
    try:
        with open_private(partial, "w", newline="", encoding="utf-8") as out:
            count = write_export(engine, name, out)
        partial.replace(path)
    finally:
        partial.unlink(missing_ok=True)
    return count
