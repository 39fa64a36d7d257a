"""Calls per number across every campaign (frequency cap, minimum gap), and contacts put off
until their number may be called again.

A call "may have been placed" while its attempt is in flight (no result yet), placed, or
unknown: those count against a number. Attempts the provider answered with nothing placed
(pending again, failed) do not.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from datetime import datetime

from sqlalchemy import bindparam, or_, select, text, update
from sqlmodel import Session, col

from dialer.ledger import counts
from dialer.ledger.counts import MOVED_COLUMNS, Deltas, moved, record
from dialer.ledger.lists import one_of
from dialer.models import Attempt, Contact, ContactState

MAY_HAVE_PLACED = (ContactState.PLACED, ContactState.UNKNOWN)


def lock_numbers(session: Session, *, phones: Collection[str]) -> None:
    """Hold ``phones`` until this transaction ends, so that two workers beginning calls to
    one number (in two campaigns) judge its calls one after the other: a transaction-scoped
    advisory lock per number on Postgres, taken in one order; SQLite's write lock there."""
    if not phones:
        return
    connection = session.connection()
    if connection.dialect.name == "postgresql":
        connection.execute(
            text(
                "SELECT count(pg_advisory_xact_lock(hashtext(p)))"
                " FROM (SELECT unnest(CAST(:phones AS text[])) AS p ORDER BY 1) AS numbers"
            ),
            {"phones": sorted(set(phones))},
        )
    else:
        counts.lock_for_update(connection)


def recent_calls(
    session: Session, *, phones: Collection[str], since: datetime
) -> dict[str, list[datetime]]:
    """When each of ``phones`` was called after ``since`` (calls that may have been placed,
    in any campaign), newest first: one range of ``ix_attempt_phone_placed`` per number."""
    if not phones:
        return {}
    rows = session.execute(
        select(col(Attempt.phone), col(Attempt.started_at))
        .where(
            one_of(session, col(Attempt.phone), sorted(set(phones))),
            col(Attempt.started_at) > since,
            or_(col(Attempt.result).is_(None), col(Attempt.result).in_(MAY_HAVE_PLACED)),
        )
        .order_by(col(Attempt.started_at).desc())
    ).all()
    found: dict[str, list[datetime]] = {}
    for phone, started_at in rows:
        found.setdefault(phone, []).append(started_at)
    return found


def reschedule(
    session: Session,
    *,
    due: Mapping[int, datetime],
    expected: ContactState,
    now: datetime,
    reason: str,
) -> list[int]:
    """Each contact of ``due`` still in ``expected`` → ``pending``, due at its instant (it is
    not looked at before then), with ``reason`` as its last error. Returns the ids moved."""
    if not due:
        return []
    connection = session.connection()
    ids = sorted(due)
    query = (
        select(*MOVED_COLUMNS, col(Contact.id))
        .where(one_of(connection, col(Contact.id), ids), col(Contact.state) == expected)
        .order_by(col(Contact.id))
    )
    if connection.dialect.name == "postgresql":
        query = query.with_for_update()  # the counts move exactly as the rows do
    before = connection.execute(query).all()
    ids_moved = [int(row[3] or 0) for row in before]  # ids: never NULL
    if not ids_moved:
        return []
    connection.execute(
        update(Contact)
        .where(col(Contact.id) == bindparam("b_id"), col(Contact.state) == expected)
        .values(
            state=ContactState.PENDING,
            next_attempt_at=bindparam("b_due"),
            state_changed_at=now,
            last_error=reason,
        ),
        [{"b_id": contact_id, "b_due": due[contact_id]} for contact_id in ids_moved],
    )
    if expected != ContactState.PENDING:
        record(connection, moved(before, old=expected, new=ContactState.PENDING, deltas=Deltas()))
    return ids_moved


def numbers_of(session: Session, *, contact_ids: Collection[int]) -> list[tuple[int, str, str]]:
    """(id, phone, zone key) of each of ``contact_ids``, in id order."""
    if not contact_ids:
        return []
    rows = session.execute(
        select(col(Contact.id), col(Contact.phone), col(Contact.zone_key))
        .where(one_of(session, col(Contact.id), sorted(contact_ids)))
        .order_by(col(Contact.id))
    ).all()
    return [(i, p, z) for i, p, z in rows if i is not None]
