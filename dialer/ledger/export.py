"""The export's read paths: one campaign's contacts, or its attempts, as plain rows, streamed
in batches."""

from __future__ import annotations

import json
from collections.abc import Iterator, Sequence
from datetime import datetime
from typing import Any, NamedTuple

from sqlalchemy import (
    BindParameter,
    Connection,
    Executable,
    Row,
    Text,
    and_,
    bindparam,
    cast,
    or_,
    select,
)
from sqlmodel import Session, col

from dialer.models import Attempt, Contact


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
    account: str | None
    variables: dict[str, Any]


_TABLE = Contact.__table__  # type: ignore[attr-defined]
# ``variables`` as its JSON text: a batch's texts are decoded in one json.loads call, a
# third of what one call per row costs.
_COLUMNS = [
    cast(_TABLE.c[name], Text) if name == "variables" else _TABLE.c[name]
    for name in ExportRow._fields
]


def iter_export_rows(
    session: Session, *, campaign_id: int, batch: int = 10_000
) -> Iterator[ExportRow]:
    """The campaign's contacts in source order as plain tuples, read ``batch`` at a time by
    keyset pagination so a million-row export never holds them all. Core rows on the
    session's connection: the ORM's row processing cost more than the rest of the export."""
    query = (
        select(_TABLE.c["id"], *_COLUMNS)
        .where(_TABLE.c["campaign_id"] == campaign_id, _TABLE.c["id"] > bindparam("after"))
        .order_by(_TABLE.c["id"])
        .limit(batch)
    )
    for rows in id_pages(session.connection(), query, {}):
        variables = json.loads("[" + ",".join(row[-1] for row in rows) + "]")
        for found, values in zip(rows, variables, strict=True):
            yield ExportRow._make((*found[1:-1], values))


def id_pages(
    connection: Connection, query: Executable, params: dict[str, Any]
) -> Iterator[Sequence[Row[Any]]]:
    """The non-empty pages of ``query``, a keyset read ordered by the id it selects first:
    run with ``params`` and ``after`` (0, then the last id of the page before) until a page
    comes back empty."""
    after = 0
    while rows := connection.execute(query, {**params, "after": after}).all():
        yield rows
        after = rows[-1][0]


class AttemptRow(NamedTuple):
    """One provider request of the campaign and what became of it (never its body)."""

    id: int
    started_at: datetime
    row: int
    phone: str
    account: str
    http_status: int | None
    result: str | None
    outcome: str | None
    provider_call_id: str | None
    error: str
    latency_ms: int | None
    finished_at: datetime | None
    outcome_at: datetime | None


def iter_attempt_rows(
    session: Session, *, campaign_id: int, batch: int = 10_000
) -> Iterator[AttemptRow]:
    """The campaign's attempts in the order they began, with their contact's file row, read
    ``batch`` at a time by keyset pagination on (started_at, id): each batch is one range of
    ``ix_attempt_campaign_started``, so the cost follows the campaign's attempts, and a
    million of them are never held at once."""
    connection = session.connection()
    after_time: BindParameter[datetime] = bindparam("after_time")
    after_id: BindParameter[int] = bindparam("after_id")
    query = (
        select(
            col(Attempt.id),
            col(Attempt.started_at),
            col(Contact.row),
            col(Attempt.phone),
            col(Attempt.account),
            col(Attempt.http_status),
            col(Attempt.result),
            col(Attempt.outcome),
            col(Attempt.provider_call_id),
            col(Attempt.error),
            col(Attempt.latency_ms),
            col(Attempt.finished_at),
            col(Attempt.outcome_at),
        )
        .join(Contact, col(Contact.id) == col(Attempt.contact_id))
        .where(col(Attempt.campaign_id) == campaign_id)
        .order_by(col(Attempt.started_at), col(Attempt.id))
        .limit(batch)
    )
    later = or_(
        col(Attempt.started_at) > after_time,
        and_(col(Attempt.started_at) == after_time, col(Attempt.id) > after_id),
    )
    rows = connection.execute(query).all()
    while rows:
        yield from (AttemptRow._make(row) for row in rows)
        last = rows[-1]
        rows = connection.execute(
            query.where(later), {"after_time": last.started_at, "after_id": last.id}
        ).all()
