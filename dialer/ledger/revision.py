"""The ledger schema's newest revision, known without importing SQLAlchemy or alembic."""

from __future__ import annotations

import functools
from importlib.resources import files


@functools.cache
def head_revision() -> str:
    """The newest migration's revision: migration files are named ``NNNN_what.py`` with
    revision ``NNNN`` (a test holds this equal to alembic's head). A ledger already there is
    used as it is, without importing alembic (a third of a second)."""
    versions = files("dialer") / "migrations" / "versions"
    return max(
        entry.name.split("_", 1)[0]
        for entry in versions.iterdir()
        if entry.name.endswith(".py") and entry.name[:4].isdigit()
    )
