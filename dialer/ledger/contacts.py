"""Contacts and suppressions: set-based bulk paths for import, lookups for everything else."""

from __future__ import annotations

import io
from collections.abc import Iterable, Iterator
from datetime import datetime
from typing import Any, TypeVar

import pandas as pd
from sqlalchemy import Connection, insert, literal, select, update
from sqlmodel import Session, col

from dialer.ledger.engine import rowcount
from dialer.models import GLOBAL_SCOPE, Contact, ContactState, Suppression

CONTACT_IMPORT_COLUMNS = (
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
)
"""Columns of the frame :func:`insert_contacts` takes (``variables`` is JSON text)."""

_T = TypeVar("_T")
_TEXT_COLUMNS = ("raw_phone", "zone_key", "first_name", "last_name", "email", "last_error")


def insert_contacts(connection: Connection, *, campaign_id: int, frame: pd.DataFrame) -> int:
    """Insert a chunk of accepted contacts as ``pending`` in one set-based statement.

    ``frame`` has exactly :data:`CONTACT_IMPORT_COLUMNS`; its phones must be new to the campaign
    (the importer de-duplicates). Runs inside the caller's transaction. Postgres gets ``COPY``,
    SQLite one ``executemany``: no ORM object per row.
    """
    if frame.empty:
        return 0
    data = frame.loc[:, list(CONTACT_IMPORT_COLUMNS)].copy()
    data.insert(0, "campaign_id", campaign_id)
    data["state"] = ContactState.PENDING.value
    data["attempts"] = 0
    data["last_error"] = ""
    columns = list(data.columns)
    if connection.dialect.name == "postgresql":
        _copy_postgres(connection, columns, data)
    else:
        placeholders = ", ".join("?" for _ in columns)
        quoted = ", ".join(f'"{name}"' for name in columns)
        rows = list(
            data.astype(object).where(data.notna(), None).itertuples(index=False, name=None)
        )
        connection.exec_driver_sql(f"INSERT INTO contact ({quoted}) VALUES ({placeholders})", rows)
    return len(data)


def _copy_postgres(connection: Connection, columns: list[str], data: pd.DataFrame) -> None:
    buffer = io.StringIO()
    data.to_csv(buffer, index=False, header=False)
    quoted = ", ".join(f'"{name}"' for name in columns)
    # Unquoted empty CSV fields are NULL to COPY; the text columns are NOT NULL and "" is data.
    not_null = ", ".join(f'"{name}"' for name in _TEXT_COLUMNS)
    sql = f"COPY contact ({quoted}) FROM STDIN WITH (FORMAT csv, FORCE_NOT_NULL ({not_null}))"
    raw = connection.connection.driver_connection
    assert raw is not None
    with raw.cursor() as cursor, cursor.copy(sql) as copy:
        copy.write(buffer.getvalue())


def iter_contacts(session: Session, *, campaign_id: int, batch: int = 5000) -> Iterator[Contact]:
    """The campaign's contacts in source order, read in batches (keyset pagination) so an
    export of a million rows never holds them all."""
    last_id = 0
    while True:
        query = (
            select(Contact)
            .where(col(Contact.campaign_id) == campaign_id, col(Contact.id) > last_id)
            .order_by(col(Contact.id))
            .limit(batch)
        )
        rows = list(session.execute(query).scalars())
        if not rows:
            return
        yield from rows
        last_id = rows[-1].id or last_id
        session.expunge_all()


def campaign_phones(session: Session | Connection, *, campaign_id: int) -> set[str]:
    """Every phone already in the campaign (for ``--append`` de-duplication)."""
    query = select(col(Contact.phone)).where(col(Contact.campaign_id) == campaign_id)
    return set(session.execute(query).scalars())


def suppressed_phones(session: Session | Connection, *, campaign_id: int | None) -> set[str]:
    """The global do-not-call list, plus the campaign's own list when ``campaign_id`` is given."""
    scopes = [GLOBAL_SCOPE] if campaign_id is None else [GLOBAL_SCOPE, campaign_id]
    query = select(col(Suppression.phone)).where(col(Suppression.campaign_id).in_(scopes))
    return set(session.execute(query).scalars())


def is_suppressed(session: Session, *, phone: str, campaign_id: int) -> bool:
    query = select(literal(1)).where(
        col(Suppression.phone) == phone,
        col(Suppression.campaign_id).in_([GLOBAL_SCOPE, campaign_id]),
    )
    return session.execute(query).first() is not None


def add_suppressions(
    session: Session | Connection,
    *,
    phones: Iterable[str],
    campaign_id: int = GLOBAL_SCOPE,
    source: str,
    now: datetime,
) -> int:
    """Add numbers to a suppression list; numbers already on it are left alone. Returns added."""
    existing = _scope_phones(session, campaign_id)
    new = sorted(set(phones) - existing)
    rows: list[dict[str, Any]] = [
        {"phone": p, "campaign_id": campaign_id, "source": source, "created_at": now} for p in new
    ]
    for batch in _batches(rows, 5000):
        session.execute(insert(Suppression), batch)
    return len(new)


def remove_suppressions(
    session: Session, *, phones: Iterable[str], campaign_id: int = GLOBAL_SCOPE
) -> int:
    """Take numbers off a suppression list. Returns how many were on it."""
    removed = 0
    for batch in _batches(sorted(set(phones)), 5000):
        result = session.execute(
            Suppression.__table__.delete().where(  # type: ignore[attr-defined]
                col(Suppression.phone).in_(batch), col(Suppression.campaign_id) == campaign_id
            )
        )
        removed += rowcount(result)
    return removed


def list_suppressions(session: Session, *, campaign_id: int = GLOBAL_SCOPE) -> list[Suppression]:
    query = (
        select(Suppression)
        .where(col(Suppression.campaign_id) == campaign_id)
        .order_by(col(Suppression.phone))
    )
    return list(session.execute(query).scalars())


def _scope_phones(session: Session | Connection, campaign_id: int) -> set[str]:
    query = select(col(Suppression.phone)).where(col(Suppression.campaign_id) == campaign_id)
    return set(session.execute(query).scalars())


def _batches(items: list[_T], size: int) -> Iterator[list[_T]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def reset_contacts(
    session: Session, *, campaign_id: int, states: Iterable[str], now: datetime
) -> int:
    """Put the campaign's contacts in ``states`` back to ``pending`` (the retry command)."""
    result = session.execute(
        update(Contact)
        .where(col(Contact.campaign_id) == campaign_id, col(Contact.state).in_(list(states)))
        .values(
            state=ContactState.PENDING,
            next_attempt_at=None,
            state_changed_at=now,
            attempts=0,
            last_error="",
        )
    )
    return rowcount(result)
