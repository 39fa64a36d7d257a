"""The ledger read on a plain DBAPI connection, without SQLAlchemy: how ``dialer campaign
status`` starts in a fraction of a second (importing SQLAlchemy alone costs ~0.2 s).

Only for what is known to be safe: a ``sqlite:///PATH`` URL (an existing file, never created
here, with the engine's 30 s busy timeout) or a ``postgresql[+psycopg]://`` one
(psycopg, which the engine uses too), on a ledger that answers and is at the newest schema
revision. Anything else leaves :func:`open_ledger` with None, and the caller goes the
ordinary way (:func:`dialer.ledger.engine.make_engine`, :func:`~dialer.ledger.engine.migrate`),
which migrates the ledger or says in its one line what is wrong.

The statements are SQLAlchemy's own, compiled ahead (:mod:`dialer.ledger.status_sql`); the
values come back as SQLAlchemy gives them (instants aware in UTC, JSON parsed, booleans as
bool) and a failing database raises the ServiceUnavailable the ledger's boundary raises.
"""

from __future__ import annotations

import contextlib
import json
import logging
import sqlite3
from collections.abc import Callable, Sequence
from datetime import datetime
from pathlib import Path
from types import TracebackType
from typing import Any

from dialer.clock import stored_instant
from dialer.errors import DATABASE_DOWN, ServiceUnavailable
from dialer.ledger.revision import head_revision
from dialer.ledger.status_sql import STORED

log = logging.getLogger("dialer.ledger")

_SQLITE = "sqlite:///"
_POSTGRES = ("postgresql://", "postgresql+psycopg://")


class PlainLedger:
    """An open read of the ledger: every :meth:`fetch` in one transaction (so that they agree),
    rolled back by :meth:`close`."""

    def __init__(
        self, connection: Any, database: str, error: type[Exception], down: type[Exception]
    ) -> None:
        self._connection = connection
        self._database = database
        self.error = error
        """The driver's base exception."""
        self._down = down
        """The driver's OperationalError: what SQLAlchemy's boundary maps to
        ServiceUnavailable (any other error is a bug, and stays one)."""
        self._convert = _SQLITE_VALUES if database == "sqlite" else _POSTGRES_VALUES

    def fetch(self, statement: str, /, **params: object) -> Sequence[Sequence[Any]]:
        """See :class:`dialer.ledger.overview.Fetch`."""
        sql, fixed, kinds = STORED[self._database][statement]
        try:
            cursor = self._connection.cursor()
            cursor.execute(sql, {**fixed, **params})
            rows = cursor.fetchall()
        except self._down as exc:
            log.warning("database unreachable: %s", str(exc).strip().splitlines()[0])
            raise ServiceUnavailable(DATABASE_DOWN) from exc
        convert = [self._convert[kind] for kind in kinds]
        return [tuple(f(value) for f, value in zip(convert, row, strict=True)) for row in rows]

    def revision(self) -> str | None:
        """The ledger's schema revision; None without one."""
        cursor = self._connection.cursor()
        cursor.execute("SELECT version_num FROM alembic_version")
        found = cursor.fetchone()
        return None if found is None else str(found[0])

    def close(self) -> None:
        # Its reads are over: a failure here (the server gone) has nothing left to lose.
        with contextlib.suppress(self.error):
            self._connection.rollback()
        with contextlib.suppress(self.error):
            self._connection.close()

    def __enter__(self) -> PlainLedger:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()


def open_ledger(url: str) -> PlainLedger | None:
    """The ledger at ``url`` opened for reading, if it is one this module can read and is at
    the newest revision; None otherwise (see the module's docstring)."""
    if url.startswith(_SQLITE):
        ledger = _open_sqlite(url.removeprefix(_SQLITE))
    elif url.startswith(_POSTGRES):
        ledger = _open_postgres("postgresql://" + url.split("://", 1)[1])
    else:
        return None
    if ledger is None:
        return None
    try:
        current = ledger.revision() == head_revision()
    except ledger.error:  # no schema yet, or a failure: the ordinary way says which
        current = False
    if not current:
        ledger.close()
        return None
    return ledger


def _open_sqlite(database: str) -> PlainLedger | None:
    """``database`` as SQLAlchemy reads ``sqlite:///DATABASE``: a path, absolute or relative
    to the working directory. Other forms (memory, URI filenames, query options, escapes)
    are left to SQLAlchemy."""
    if (
        not database
        or database == ":memory:"
        or any(c in database for c in "?%#")
        or (database.startswith("file:"))
    ):
        return None
    # Read-write, never create: a read-only connection could not remove the -wal and -shm
    # files it makes, which SQLite removes when the last connection closes (it writes nothing).
    uri = Path(database).absolute().as_uri() + "?mode=rw"
    try:
        connection = sqlite3.connect(uri, uri=True, timeout=30, isolation_level=None)
    except sqlite3.Error:
        return None
    try:
        # One transaction for every read (the module's isolation_level=None: no implicit one).
        connection.execute("BEGIN")
    except sqlite3.Error:
        connection.close()
        return None
    return PlainLedger(connection, "sqlite", sqlite3.Error, sqlite3.OperationalError)


def _open_postgres(conninfo: str) -> PlainLedger | None:
    """libpq reads the URL as SQLAlchemy's psycopg dialect hands it over: the same host,
    database and options. A transaction begins at the first read (psycopg's default)."""
    import psycopg  # here: only a Postgres ledger pays for it

    try:
        connection = psycopg.connect(conninfo)
    except psycopg.Error:
        return None
    return PlainLedger(connection, "postgresql", psycopg.Error, psycopg.OperationalError)


def _instant(value: datetime | str | None) -> datetime | None:
    """As :class:`dialer.ledger.tables.UTCDateTime` reads it: aware, in UTC. SQLite keeps
    naive UTC text (SQLAlchemy's format, which ``fromisoformat`` reads), Postgres an aware
    instant."""
    if value is None:
        return None
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    return stored_instant(value)


def _kept(value: Any) -> Any:
    return value


def _sqlite_json(value: str | None) -> Any:
    return None if value is None else json.loads(value)


def _sqlite_bool(value: int | None) -> bool | None:
    return None if value is None else bool(value)


_SQLITE_VALUES: dict[str, Callable[[Any], Any]] = {
    "": _kept,
    "instant": _instant,
    "json": _sqlite_json,
    "bool": _sqlite_bool,
}
# psycopg parses json and booleans itself.
_POSTGRES_VALUES: dict[str, Callable[[Any], Any]] = {
    "": _kept,
    "instant": _instant,
    "json": _kept,
    "bool": _kept,
}
