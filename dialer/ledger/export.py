"""The export's read path: one campaign's contacts as plain rows, streamed in batches."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from typing import Any, NamedTuple

from sqlalchemy import select
from sqlmodel import Session, col

from dialer.models import Contact


class ExportRow(NamedTuple):
    row: int
    phone: str
    state: str
    outcome: str | None
    attempts: int
    provider_call_id: str | None
    last_error: str
    extension: str | None
    number_type: str
    zone_key: str
    state_changed_at: datetime | None
    variables: dict[str, Any]


_COLUMNS = [col(getattr(Contact, name)) for name in ExportRow._fields]


def iter_export_rows(
    session: Session, *, campaign_id: int, batch: int = 5000
) -> Iterator[ExportRow]:
    """The campaign's contacts in source order as plain tuples (no ORM object per row), read
    ``batch`` at a time by keyset pagination so a million-row export never holds them all."""
    last_id = 0
    while True:
        query = (
            select(col(Contact.id), *_COLUMNS)
            .where(col(Contact.campaign_id) == campaign_id, col(Contact.id) > last_id)
            .order_by(col(Contact.id))
            .limit(batch)
        )
        rows = session.execute(query).all()
        if not rows:
            return
        for found in rows:
            yield ExportRow(*found[1:])
        last_id = rows[-1][0]
