"""Migrated, empty SQLite ledgers for tests, made by copying one template per test process.

Running the migrations from scratch costs a quarter to half a second (alembic imports and a
dozen DDL transactions); hundreds of tests each want an empty ledger at the newest revision.
The first call in a process migrates a template file the ordinary way (:func:`migrate`), and
every ledger is a byte copy of it: the same schema and ``alembic_version`` row a migration
gives. The migrations themselves are tested from scratch, up and down, in
tests/integration/test_migrations.py.
"""

from __future__ import annotations

import atexit
import functools
import shutil
import tempfile
from pathlib import Path

from sqlalchemy import text

from dialer.ledger.engine import make_engine, migrate
from dialer.private import private_file


def migrated_sqlite(path: Path) -> str:
    """Make ``path`` a migrated, empty SQLite ledger, 0600 as :func:`make_engine` makes one;
    return its URL."""
    template = _migrated_template()
    private_file(path)
    shutil.copyfile(template, path)  # into the existing file: its 0600 mode stays
    return f"sqlite:///{path}"


@functools.cache
def _migrated_template() -> Path:
    directory = Path(tempfile.mkdtemp(prefix="dialer-ledger-template-"))
    atexit.register(shutil.rmtree, directory, ignore_errors=True)
    path = directory / "ledger.db"
    engine = make_engine(f"sqlite:///{path}")
    migrate(engine)
    with engine.connect() as connection:
        # Everything into the main file, so that copying that file alone copies the ledger.
        connection.execute(text("PRAGMA wal_checkpoint(TRUNCATE)"))
    engine.dispose()
    return path
