"""Contacts and suppressions: set-based bulk paths for import, lookups for everything else."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from itertools import chain
from typing import Any, TypeVar

import pandas as pd
import pyarrow as pa
import pyarrow.csv as pacsv
from sqlalchemy import Connection, func, insert, select, update
from sqlmodel import Session, col

from dialer.ledger import counts as ledger_counts
from dialer.ledger.counts import Deltas
from dialer.ledger.engine import rowcount
from dialer.models import GLOBAL_SCOPE, Contact, ContactPhone, ContactState, Suppression

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
    (the importer de-duplicates; :func:`adding_contacts` checks). Runs inside the caller's
    transaction. Postgres gets ``COPY``, SQLite multi-row ``INSERT`` statements: no ORM
    object per row. The same as :func:`insert_prepared` of :func:`prepare_contacts` inside
    :func:`adding_contacts`.
    """
    prepared = prepare_contacts(connection.dialect.name, campaign_id=campaign_id, frame=frame)
    with adding_contacts(connection, campaign_id=campaign_id):
        return insert_prepared(connection, prepared)


@dataclass(frozen=True)
class PreparedContacts:
    """A chunk of new contacts as the database's bulk path takes them: ``data`` is the
    ``COPY`` data for Postgres, the columns for SQLite. Building it needs no connection, so
    an importer can prepare one chunk while the database loads the one before."""

    campaign_id: int
    rows: int
    data: pa.Table | pa.Buffer
    zone_keys: dict[str, int]
    """How many of the contacts have each zone key (for :mod:`dialer.ledger.counts`)."""


def prepare_contacts(dialect: str, *, campaign_id: int, frame: pd.DataFrame) -> PreparedContacts:
    """``frame`` (as :func:`insert_contacts` takes it) made ready for ``dialect``'s bulk path."""
    table = pa.Table.from_pandas(frame.loc[:, list(CONTACT_IMPORT_COLUMNS)], preserve_index=False)
    zone_keys = {str(k): int(n) for k, n in frame["zone_key"].value_counts().items()}
    if dialect != "postgresql":
        return PreparedContacts(campaign_id, len(frame), table, zone_keys)
    for name, value in _constants(campaign_id).items():
        table = table.append_column(name, pa.repeat(value, len(frame)))
    # pyarrow writes the CSV in C++: null as an empty field (NULL to COPY), "" as "".
    buffer = pa.BufferOutputStream()
    pacsv.write_csv(table, buffer, pacsv.WriteOptions(include_header=False, quoting_style="needed"))
    return PreparedContacts(campaign_id, len(frame), buffer.getvalue(), zone_keys)


def insert_prepared(connection: Connection, prepared: PreparedContacts) -> int:
    """Insert :func:`prepare_contacts`' chunk as ``pending`` contacts (see
    :func:`insert_contacts`), inside :func:`adding_contacts`. Returns how many."""
    if prepared.rows == 0:
        return 0
    constants = _constants(prepared.campaign_id)
    if isinstance(prepared.data, pa.Table):
        _insert_sqlite(connection, constants, prepared.data)
    else:
        _copy_postgres(connection, (*CONTACT_IMPORT_COLUMNS, *constants), prepared.data)
    pending = ContactState.PENDING.value
    ledger_counts.record(
        connection,
        Deltas({(prepared.campaign_id, pending, k, ""): n for k, n in prepared.zone_keys.items()}),
    )
    return prepared.rows


def _constants(campaign_id: int) -> dict[str, Any]:
    # Every new contact starts the same way: these columns are constants, not data.
    return {
        "campaign_id": campaign_id,
        "state": ContactState.PENDING.value,
        "attempts": 0,
        "last_error": "",
    }


@contextmanager
def adding_contacts(connection: Connection, *, campaign_id: int) -> Iterator[None]:
    """Wrap a run of :func:`insert_prepared` calls for ``campaign_id`` inside the caller's
    transaction: on a clean exit their numbers go into :class:`ContactPhone` in one sorted
    statement (:func:`index_phones`), which raises IntegrityError, failing the whole
    transaction, if any of them is already the campaign's or came twice.

    The new contacts are the campaign's above the highest id committed on entry: contacts
    take their ids from a sequence as they are inserted, and only one writer adds to a
    campaign at a time (an append locks the campaign row, and a new campaign is the
    writer's own until it commits; on SQLite, the campaign's row written first holds the
    database's one write lock).
    """
    after_id = connection.execute(select(func.max(col(Contact.id)))).scalar_one() or 0
    yield
    index_phones(connection, campaign_id=campaign_id, after_id=after_id)


def index_phones(bind: Connection | Session, *, campaign_id: int, after_id: int) -> int:
    """Put the campaign's contacts with an id above ``after_id`` into :class:`ContactPhone`,
    sorted by number so that its key is written in order, whatever order the file had.
    IntegrityError if a number is there already. Returns how many."""
    chosen = (
        select(col(Contact.campaign_id), col(Contact.phone), col(Contact.id))
        # "+ 0" keeps the planner off the campaign's range of ix_contact_claim (SQLite took
        # it): the new contacts are one range of ids, and an append to a campaign of
        # millions must read its own rows, not the campaign's.
        .where(col(Contact.campaign_id) + 0 == campaign_id, col(Contact.id) > after_id)
        .order_by(col(Contact.phone))
    )
    added = bind.execute(
        insert(ContactPhone).from_select(["campaign_id", "phone", "contact_id"], chosen)
    )
    return rowcount(added)


# SQLite's page cache while contacts are bulk-inserted, in KiB. The default 2 MiB cannot
# hold the index pages a large import writes to: every insert then reads pages back and
# spills dirty ones to the WAL, twice as slow (measured when contact still had its unique
# (campaign, phone) index; ix_contact_claim takes new contacts at one place per zone key).
# The setting stays with the (pooled) connection; the cache only grows as pages are read.
_SQLITE_IMPORT_CACHE_KIB = 32 * 1024
# Rows per SQLite INSERT statement at most (see _insert_sqlite).
_SQLITE_ROWS = 1024


def _insert_sqlite(connection: Connection, constants: dict[str, Any], table: pa.Table) -> None:
    if _cache_kib(connection) < _SQLITE_IMPORT_CACHE_KIB:
        connection.exec_driver_sql(f"PRAGMA cache_size = -{_SQLITE_IMPORT_CACHE_KIB}")
    quoted = ", ".join(f'"{name}"' for name in (*constants, *CONTACT_IMPORT_COLUMNS))
    # The constants go in as literals: binding is paid per value and per row.
    literals = ", ".join(_sqlite_literal(value) for value in constants.values())
    one_row = f"({literals}, {', '.join('?' for _ in CONTACT_IMPORT_COLUMNS)})"
    # Many rows per statement. The sqlite3 driver lets other threads run while a statement
    # steps and then waits for the GIL again: with a row per statement, and the importer's
    # normalizing thread busy, those waits made inserting several times slower than the
    # inserts themselves. Statements hold a power-of-two number of rows, _SQLITE_ROWS or as
    # many as SQLite takes bound values for, halving down to one row: the driver keeps every
    # statement it compiled (about 1 MB each at 1024 rows), so the set of statements must not
    # grow with the number of chunks. Rows become Python values one statement at a time.
    driver = connection.connection.driver_connection
    assert isinstance(driver, sqlite3.Connection)
    limit = driver.getlimit(sqlite3.SQLITE_LIMIT_VARIABLE_NUMBER) // len(CONTACT_IMPORT_COLUMNS)
    size = 1 << (min(limit, _SQLITE_ROWS).bit_length() - 1)
    # The driver's own cursor: SQLAlchemy would put the whole statement in any error message.
    cursor = driver.cursor()
    try:
        start = 0
        while start < table.num_rows:
            while size > table.num_rows - start:
                size //= 2
            part = table.slice(start, size)
            columns = (part.column(name).to_pylist() for name in CONTACT_IMPORT_COLUMNS)
            values = tuple(chain.from_iterable(zip(*columns, strict=True)))
            rows = ", ".join([one_row] * size)
            # Only constants are formatted in (the column list, "?" placeholders); every value
            # is a bound parameter.
            cursor.execute(f"INSERT INTO contact ({quoted}) VALUES {rows}", values)  # noqa: S608
            start += size
    finally:
        cursor.close()


def _cache_kib(connection: Connection) -> int:
    # PRAGMA cache_size is in pages when positive, in KiB when negative.
    size = int(connection.exec_driver_sql("PRAGMA cache_size").scalar_one())
    if size < 0:
        return -size
    return size * int(connection.exec_driver_sql("PRAGMA page_size").scalar_one()) // 1024


def _sqlite_literal(value: object) -> str:
    if isinstance(value, int):
        return str(value)
    return "'" + str(value).replace("'", "''") + "'"


def _copy_postgres(connection: Connection, columns: tuple[str, ...], data: pa.Buffer) -> None:
    quoted = ", ".join(f'"{name}"' for name in columns)
    # Unquoted empty CSV fields are NULL to COPY; the text columns are NOT NULL and "" is data.
    not_null = ", ".join(f'"{name}"' for name in _TEXT_COLUMNS)
    sql = f"COPY contact ({quoted}) FROM STDIN WITH (FORMAT csv, FORCE_NOT_NULL ({not_null}))"
    raw = connection.connection.driver_connection
    assert raw is not None
    with raw.cursor() as cursor, cursor.copy(sql) as copy:
        copy.write(memoryview(data))


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
    """Every phone in the campaign, as one set: for a campaign known to be small (the
    import reads :func:`campaign_phone_batches`)."""
    return set(chain.from_iterable(campaign_phone_batches(session, campaign_id=campaign_id)))


def campaign_phone_batches(
    session: Session | Connection, *, campaign_id: int, size: int = 100_000
) -> Iterator[list[str]]:
    """Every phone already in the campaign, ``size`` at a time (for ``--append``
    de-duplication, which so never holds a campaign of millions as one Python collection)."""
    query = select(col(ContactPhone.phone)).where(col(ContactPhone.campaign_id) == campaign_id)
    result = session.execute(query.execution_options(yield_per=size))
    for batch in result.scalars().partitions():
        yield list(batch)


def suppressed_phones(session: Session | Connection, *, campaign_id: int | None) -> set[str]:
    """The global do-not-call list, plus the campaign's own list when ``campaign_id`` is given."""
    scopes = [GLOBAL_SCOPE] if campaign_id is None else [GLOBAL_SCOPE, campaign_id]
    query = select(col(Suppression.phone)).where(col(Suppression.campaign_id).in_(scopes))
    return set(session.execute(query).scalars())


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


def list_suppressions(
    session: Session, *, campaign_id: int = GLOBAL_SCOPE, source: str | None = None
) -> list[Suppression]:
    """A suppression list by number; only the entries of ``source`` when given."""
    query = select(Suppression).where(col(Suppression.campaign_id) == campaign_id)
    if source is not None:
        query = query.where(col(Suppression.source) == source)
    return list(session.execute(query.order_by(col(Suppression.phone))).scalars())


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
    deltas = Deltas()
    reset = 0
    for state in sorted(set(states)):
        reset += ledger_counts.move_all(
            session,
            update(Contact)
            .where(col(Contact.campaign_id) == campaign_id, col(Contact.state) == state)
            .values(
                state=ContactState.PENDING,
                next_attempt_at=None,
                state_changed_at=now,
                attempts=0,
                last_error="",
            ),
            old=state,
            new=ContactState.PENDING,
            deltas=deltas,
        )
    ledger_counts.record(session, deltas)
    return reset
