"""Contacts counted by campaign, state, zone key and outcome, and attempts by account and
result, kept with the transitions.

Every statement that creates contacts or moves them between states is followed, in the same
transaction, by one multi-row ``INSERT`` of the signed changes it made, one row per
(campaign, state, zone key, outcome) it touched (:func:`record`). No counter row is ever
updated in place: on Postgres a shared row would make every worker's commit wait for the
others', and two transactions touching two rows in different orders could deadlock. The
count of a key is the sum of its rows, exact in whatever snapshot reads it, and the rows
change only with the contacts they count. :func:`compact` folds a campaign's rows into one
per key (the tick does it for the running campaigns), so the sums stay a handful of rows
whatever the campaign's size. Outcome ``""`` stands for none. Attempts are counted the same
way (:func:`record_attempts`, :func:`compact_attempts`, :func:`attempt_counts`), a result
``""`` standing for in flight. The contact counts are read by :mod:`dialer.ledger.tallies`
(on SQLAlchemy Core alone, for ``campaign status``); :func:`counts` is its function.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Collection, Iterable, Sequence
from typing import Any

from sqlalchemy import Connection, Update, delete, func, insert, select, update
from sqlmodel import Session, col

from dialer.ledger.tallies import Key as Key
from dialer.ledger.tallies import counts as counts
from dialer.models import AttemptCount, Contact, ContactCount

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


COMPACT_ABOVE = 64
"""A campaign's rows are folded once it has more than this many (see :func:`compact`)."""


def compact(session: Session, *, campaign_ids: Collection[int]) -> None:
    """Fold the rows of each of ``campaign_ids`` that holds more than :data:`COMPACT_ABOVE`
    into one per key with a count (zero counts dropped): reads stay a few dozen rows, and a
    quiet campaign's rows are not rewritten every tick.

    Rows a concurrent transaction is still writing are not seen and stay as they are; two
    compactions at once each fold what the other did not take: the sums never change.
    """
    if not campaign_ids:
        return
    crowded = list(
        session.execute(
            select(col(ContactCount.campaign_id))
            .where(col(ContactCount.campaign_id).in_(sorted(campaign_ids)))
            .group_by(col(ContactCount.campaign_id))
            .having(func.count() > COMPACT_ABOVE)
        ).scalars()
    )
    if not crowded:
        return
    taken = session.execute(
        delete(ContactCount)
        .where(col(ContactCount.campaign_id).in_(sorted(crowded)))
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


def recount(session: Session | Connection, *, campaign_ids: Collection[int]) -> None:
    """Rebuild the counts of ``campaign_ids`` from a full count of their contacts: for
    contacts written behind the ledger's back (a repair, a benchmark's bulk fill, a test
    arranging states). Costs a scan of the campaigns' contacts."""
    ids = sorted(campaign_ids)
    if not ids:
        return
    session.execute(delete(ContactCount).where(col(ContactCount.campaign_id).in_(ids)))
    outcome = func.coalesce(col(Contact.outcome), "")
    grouped = (
        select(
            col(Contact.campaign_id),
            col(Contact.state),
            col(Contact.zone_key),
            outcome,
            func.count(),
        )
        .where(col(Contact.campaign_id).in_(ids))
        .group_by(col(Contact.campaign_id), col(Contact.state), col(Contact.zone_key), outcome)
    )
    session.execute(
        insert(ContactCount).from_select(
            ["campaign_id", "state", "zone_key", "outcome", "n"], grouped
        )
    )


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


AttemptKey = tuple[str, str]
"""(account, result or "")."""


def record_attempts(
    session: Session | Connection,
    deltas: Counter[AttemptKey],
    waits: dict[str, tuple[int, int]] | None = None,
) -> None:
    """Insert attempt count changes (non-zero ones), and per account how many attempts began
    after a rate-limit wait and how many milliseconds they waited."""
    rows = [
        {"account": a, "result": r, "n": n, "waits": 0, "wait_ms": 0}
        for (a, r), n in sorted(deltas.items())
        if n
    ]
    rows += [
        {"account": a, "result": "", "n": 0, "waits": w, "wait_ms": ms}
        for a, (w, ms) in sorted((waits or {}).items())
        if w
    ]
    if rows:
        session.execute(insert(AttemptCount), rows)


def compact_attempts(session: Session) -> None:
    """Fold the attempt counts into one row per (account, result) and wait totals, once
    there are more than :data:`COMPACT_ABOVE` rows (see :func:`compact`)."""
    rows = session.execute(select(func.count()).select_from(AttemptCount)).scalar_one()
    if rows <= COMPACT_ABOVE:
        return
    taken = session.execute(
        delete(AttemptCount).returning(
            col(AttemptCount.account),
            col(AttemptCount.result),
            col(AttemptCount.n),
            col(AttemptCount.waits),
            col(AttemptCount.wait_ms),
        )
    ).all()
    folded: dict[AttemptKey, list[int]] = {}
    for account, result, n, waits, wait_ms in taken:
        sums = folded.setdefault((account, result), [0, 0, 0])
        sums[0] += n
        sums[1] += waits
        sums[2] += wait_ms
    rows = [
        {"account": a, "result": r, "n": n, "waits": w, "wait_ms": ms}
        for (a, r), (n, w, ms) in sorted(folded.items())
        if n or w
    ]
    if rows:
        session.execute(insert(AttemptCount), rows)


def attempt_counts(session: Session) -> tuple[dict[AttemptKey, int], dict[str, tuple[int, int]]]:
    """Attempts by (account, result), non-zero ones; and per account (waits, waited ms)."""
    rows = session.execute(
        select(
            col(AttemptCount.account),
            col(AttemptCount.result),
            func.sum(col(AttemptCount.n)),
            func.sum(col(AttemptCount.waits)),
            func.sum(col(AttemptCount.wait_ms)),
        ).group_by(col(AttemptCount.account), col(AttemptCount.result))
    ).all()
    found: dict[AttemptKey, int] = {}
    waits: dict[str, tuple[int, int]] = {}
    for account, result, n, w, ms in rows:
        if n:
            found[(account, result)] = int(n)
        before = waits.get(account, (0, 0))
        waits[account] = (before[0] + int(w), before[1] + int(ms))
    return found, {a: w for a, w in waits.items() if w[0]}


def lock_for_update(connection: Connection) -> None:
    """On SQLite, take the database's write lock now (a write that changes nothing), so that
    what this transaction reads next stays true until it commits; Postgres locks rows with
    ``FOR UPDATE`` instead, and this does nothing there."""
    if connection.dialect.name == "sqlite":
        connection.execute(
            update(AttemptCount).where(col(AttemptCount.id) == 0).values(n=col(AttemptCount.n))
        )
