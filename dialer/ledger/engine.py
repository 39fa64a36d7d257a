"""Engines, sessions and schema migration for the ledger (SQLite or Postgres)."""

from __future__ import annotations

import contextlib
import logging
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from importlib.resources import files
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import Connection, create_engine, event, text
from sqlalchemy.engine import Engine, make_url
from sqlalchemy.exc import ArgumentError, OperationalError, ProgrammingError
from sqlalchemy.pool import ConnectionPoolEntry

# utcnow: the clock the ledger's callers read, imported from here by most of them.
from dialer.clock import utcnow as utcnow
from dialer.errors import DATABASE_DOWN, ConfigError, ServiceUnavailable
from dialer.ledger.revision import head_revision
from dialer.private import private_file

if TYPE_CHECKING:
    from sqlmodel import Session

log = logging.getLogger("dialer.ledger")

# Any fixed number: every process that migrates Postgres takes this advisory lock first, so
# workers started together on several machines never run the same migration twice.
_MIGRATION_LOCK = 7_273_1
_migrated: set[str] = set()
_migrate_lock = threading.Lock()


def _sqlite_pragmas(dbapi_connection: Any, _record: ConnectionPoolEntry) -> None:
    cursor = dbapi_connection.cursor()
    # WAL lets readers (status, export) run while the dispatcher writes; busy_timeout makes
    # concurrent writers from the thread pool wait for the lock instead of failing.
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


def _private_database(database: str | None) -> None:
    """Create a SQLite ledger file 0600 before SQLite does (it would follow the umask; its
    -wal and -shm files copy the database's mode). Left to SQLite's own error when the file
    cannot be made (no such directory, not ours)."""
    if not database or database == ":memory:" or database.startswith("file:"):
        return
    with contextlib.suppress(OSError):
        private_file(Path(database))


def make_engine(url: str) -> Engine:
    """An engine for ``url``; ConfigError when the URL is not one we can use."""
    try:
        parsed = make_url(url)
    except ArgumentError:
        raise ConfigError(f"database_url {url!r} is not a database URL") from None
    if parsed.get_backend_name() not in ("sqlite", "postgresql"):
        raise ConfigError(f"database_url must be sqlite:/// or postgresql+psycopg://, not {url!r}")
    if parsed.get_backend_name() == "sqlite":
        _private_database(parsed.database)
        engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": 30})
        event.listen(engine, "connect", _sqlite_pragmas)
        return engine
    if parsed.drivername == "postgresql":
        parsed = parsed.set(drivername="postgresql+psycopg")
    return create_engine(parsed, pool_pre_ping=True, pool_size=10, max_overflow=40)


def migrate(engine: Engine) -> str | None:
    """Bring the schema to the newest revision. Safe to call from many processes at once.

    Returns the revision the ledger had before (``None``: it had no schema), which is
    :func:`head_revision` when there was nothing to do.
    """
    key = engine.url.render_as_string(hide_password=False)
    with _migrate_lock:
        if key in _migrated:
            return head_revision()
        before = current_revision(engine)
        if before == head_revision():
            _migrated.add(key)
            return before
        from alembic import command
        from alembic.config import Config

        config = Config()
        config.set_main_option("script_location", str(files("dialer") / "migrations"))
        try:
            # Alembic runs each migration in its own transaction (so that one may build an
            # index CONCURRENTLY outside any); the advisory lock is the session's, held
            # across them.
            with engine.connect() as connection:
                postgres = connection.dialect.name == "postgresql"
                if postgres:
                    connection.execute(text("SELECT pg_advisory_lock(:k)"), {"k": _MIGRATION_LOCK})
                    connection.commit()
                try:
                    config.attributes["connection"] = connection
                    command.upgrade(config, "head")
                finally:
                    if postgres:
                        connection.rollback()
                        connection.execute(
                            text("SELECT pg_advisory_unlock(:k)"), {"k": _MIGRATION_LOCK}
                        )
                        connection.commit()
        except OperationalError as exc:
            raise ServiceUnavailable(f"database unreachable: {_first_line(exc)}") from None
        _migrated.add(key)
        return before


def current_revision(engine: Engine) -> str | None:
    """The ledger's schema revision; ``None`` when it has none yet (or cannot be reached:
    :func:`migrate` then says which)."""
    try:
        with engine.connect() as connection:
            found = connection.execute(text("SELECT version_num FROM alembic_version")).scalar()
    except (OperationalError, ProgrammingError):
        return None
    return None if found is None else str(found)


def _first_line(exc: BaseException) -> str:
    return str(getattr(exc, "orig", exc)).strip().splitlines()[0]


def rowcount(result: Any) -> int:
    """Rows matched by an UPDATE/DELETE result (typed access to ``CursorResult.rowcount``)."""
    return int(result.rowcount)


@contextmanager
def session_scope(engine: Engine) -> Iterator[Session]:
    """A session committed on success and rolled back on error.

    The ledger's boundary for storage errors: a database that cannot be reached (SQLAlchemy's
    OperationalError) leaves it as ServiceUnavailable, so callers see one vocabulary.
    """
    from sqlmodel import Session  # here: a read on Core alone (read_scope) need not import it

    with Session(engine, expire_on_commit=False) as session:
        try:
            yield session
            session.commit()
        except OperationalError as exc:
            session.rollback()
            log.warning("database unreachable: %s", _first_line(exc))
            raise ServiceUnavailable(DATABASE_DOWN) from exc
        except BaseException:
            session.rollback()
            raise


@contextmanager
def read_scope(engine: Engine) -> Iterator[Connection]:
    """A Core connection for reads (:mod:`dialer.ledger.tallies`, :mod:`~.statements`), in one
    transaction so that they agree, rolled back at the end; storage errors as
    :func:`session_scope` raises them. No ORM is imported."""
    try:
        with engine.connect() as connection:
            yield connection
            connection.rollback()
    except OperationalError as exc:
        log.warning("database unreachable: %s", _first_line(exc))
        raise ServiceUnavailable(DATABASE_DOWN) from exc
