"""Contacts counted by campaign, state, zone key and outcome, kept with the transitions.

Every statement that creates contacts or moves them between states is followed, in the same
transaction, by one multi-row ``INSERT`` of the signed changes it made, one row per
(campaign, state, zone key, outcome) it touched (:func:`record`). No counter row is ever
updated in place: on Postgres a shared row would make every worker's commit wait for the
others', and two transactions touching two rows in different orders could deadlock. The
count of a key is the sum of its rows, exact in whatever snapshot reads it, and the rows
change only with the contacts they count. :func:`compact` folds a campaign's rows into one
per key (the tick does it for the running campaigns), so the sums stay a handful of rows
whatever the campaign's size. Outcome ``""`` stands for none.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Collection, Iterable, Sequence
from typing import Any

from sqlalchemy import Connection, Update, delete, func, insert, select
from sqlmodel import Session, col

from dialer.models import Contact, ContactCount

Key = tuple[int, str, str, str]
"""(campaign id, state, zone key, outcome or "")."""

Deltas = Counter[Key]

MOVED_COLUMNS = (col(Contact.campaign_id), col(Contact.zone_key), col(Contact.outcome))
"""What a transition's ``RETURNING`` gives :func:`moved`, in this order."""


def moved(rows: Iterable[Any], *, old: str, new: str, deltas: Deltas | None = None) -> Deltas:
    """The changes of contacts moved from state ``old`` to ``new``; each row starts with
    :data:`MOVED_COLUMNS` (more columns may follow). Added to ``deltas`` when given."""
    found = Deltas() if deltas is None else deltas
    for row in rows:
        campaign_id, zone_key, outcome = row[0], row[1], row[2] or ""
        found[(campaign_id, old, zone_key, outcome)] -= 1
        found[(campaign_id, new, zone_key, outcome)] += 1
    return found


def move_all(
    session: Session, statement: Update, *, old: str, new: str, deltas: Deltas | None = None
) -> int:
    """Run ``statement`` (an UPDATE moving contacts from state ``old`` to ``new``) and add its
    changes to ``deltas`` (recorded at once when None). Returns how many contacts moved.

    For set-wide moves (a campaign cancelled, its failures retried): on Postgres the moved
    rows are grouped by the database (a data-modifying CTE), so none comes to Python.
    """
    returning = statement.returning(*MOVED_COLUMNS)
    found = Deltas() if deltas is None else deltas
    rows: Sequence[Any]
    if session.get_bind().dialect.name == "postgresql":
        changed = returning.cte("moved")
        rows = session.execute(
            select(changed.c.campaign_id, changed.c.zone_key, changed.c.outcome, func.count())
            .select_from(changed)
            .group_by(changed.c.campaign_id, changed.c.zone_key, changed.c.outcome)
        ).all()
    else:
        rows = [(*row, 1) for row in session.execute(returning)]
    total = 0
    for campaign_id, zone_key, outcome, n in rows:
        found[(campaign_id, old, zone_key, outcome or "")] -= n
        found[(campaign_id, new, zone_key, outcome or "")] += n
        total += n
    if deltas is None:
        record(session, found)
    return total


def record(session: Session | Connection, deltas: Deltas) -> None:
    """Insert ``deltas`` (those that are not zero) in the caller's transaction."""
    rows = [
        {"campaign_id": c, "state": s, "zone_key": z, "outcome": o, "n": n}
        for (c, s, z, o), n in sorted(deltas.items())
        if n
    ]
    if rows:
        session.execute(insert(ContactCount), rows)


def compact(session: Session, *, campaign_ids: Collection[int]) -> None:
    """Fold the rows of ``campaign_ids`` into one per key with a count (zero counts dropped).

    Rows a concurrent transaction is still writing are not seen and stay as they are; two
    compactions at once each fold what the other did not take: the sums never change.
    """
    if not campaign_ids:
        return
    taken = session.execute(
        delete(ContactCount)
        .where(col(ContactCount.campaign_id).in_(sorted(campaign_ids)))
        .returning(
            col(ContactCount.campaign_id),
            col(ContactCount.state),
            col(ContactCount.zone_key),
            col(ContactCount.outcome),
            col(ContactCount.n),
        )
    ).all()
    folded = Deltas()
    for campaign_id, state, zone_key, outcome, n in taken:
        folded[(campaign_id, state, zone_key, outcome)] += n
    record(session, folded)


def counts(
    session: Session, *, campaign_ids: Collection[int], states: Collection[str] = ()
) -> dict[Key, int]:
    """The non-zero counts of ``campaign_ids`` (only ``states`` when given), by key."""
    if not campaign_ids:
        return {}
    query = select(
        col(ContactCount.campaign_id),
        col(ContactCount.state),
        col(ContactCount.zone_key),
        col(ContactCount.outcome),
        func.sum(col(ContactCount.n)),
    ).where(col(ContactCount.campaign_id).in_(sorted(campaign_ids)))
    if states:
        query = query.where(col(ContactCount.state).in_(sorted(states)))
    rows = session.execute(
        query.group_by(
            col(ContactCount.campaign_id),
            col(ContactCount.state),
            col(ContactCount.zone_key),
            col(ContactCount.outcome),
        )
    ).all()
    return {(c, s, z, o): int(n) for c, s, z, o, n in rows if n}


def total(session: Session, *, campaign_ids: Collection[int], states: Collection[str]) -> int:
    """How many contacts of ``campaign_ids`` are in ``states``."""
    return sum(counts(session, campaign_ids=campaign_ids, states=states).values())


def campaigns_with(session: Session, *, states: Collection[str]) -> list[int]:
    """The campaigns with at least one contact in ``states``."""
    rows = session.execute(
        select(col(ContactCount.campaign_id))
        .where(col(ContactCount.state).in_(sorted(states)))
        .group_by(col(ContactCount.campaign_id))
        .having(func.sum(col(ContactCount.n)) != 0)
    ).scalars()
    return sorted(rows)
