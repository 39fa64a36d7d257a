"""The ledger's tables as SQLAlchemy Core sees them, for reads that must not import the ORM.

:mod:`dialer.models` declares the tables (with SQLModel, i.e. pydantic and SQLAlchemy's ORM:
a third of a second to import). A command whose whole run is a few reads, such as
``dialer campaign status``, queries these lightweight clauses instead. Each names only the
columns such reads use, with the type the model gives them (so values come back converted
alike); ``tests/unit/test_ledger_tables.py`` holds every one equal to its model's column.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Boolean, DateTime, Integer, String, Text, column, table
from sqlalchemy.types import TypeDecorator

from dialer.clock import stored_instant


class UTCDateTime(TypeDecorator[datetime]):
    """An instant read as the models read it (SQLModel's type of the same name): aware, in
    UTC, whether the database kept an offset (Postgres) or not (SQLite)."""

    impl = DateTime
    cache_ok = True

    def __init__(self) -> None:
        super().__init__(timezone=True)

    def process_result_value(self, value: datetime | None, dialect: Any) -> datetime | None:
        return None if value is None else stored_instant(value)


campaign = table(
    "campaign",
    column("id", Integer),
    column("name", String),
    column("account", String),
    column("status", String),
    column("status_reason", Text),
    column("window", String),
    column("days", String),
    column("start_at", UTCDateTime()),
    column("end_at", UTCDateTime()),
    column("timezone", String),
    column("source_file", String),
    column("rows_read", Integer),
    column("rows_accepted", Integer),
    column("rows_rejected", Integer),
    column("accounts", JSON),
    column("failover", Boolean),
    column("reassigned", Integer),
    column("max_attempts", Integer),
    column("retry_after_seconds", Integer),
    column("recall_rules", JSON),
    column("claim_order", String),
)

contact = table(
    "contact",
    column("campaign_id", Integer),
    column("state", String),
    column("zone_key", Text),
    column("next_attempt_at", UTCDateTime()),
)

contact_count = table(
    "contact_count",
    column("campaign_id", Integer),
    column("state", String),
    column("zone_key", Text),
    column("outcome", String),
    column("n", Integer),
)

attempt = table(
    "attempt",
    column("id", Integer),
    column("account", String),
    column("started_at", UTCDateTime()),
    column("outcome_at", UTCDateTime()),
)
