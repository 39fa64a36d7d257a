"""Reading the contact counts kept by :mod:`dialer.ledger.counts`, on SQLAlchemy Core alone.

The sum of a key's rows in ``contact_count`` is its count (see :mod:`dialer.ledger.counts`,
which writes them). These reads take a Core connection or an ORM session alike, and import
neither the ORM nor the models: ``dialer campaign status`` starts without them.
"""

from __future__ import annotations

from collections.abc import Collection
from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy import func, select

from dialer.ledger.tables import contact, contact_count
from dialer.states import ContactState

if TYPE_CHECKING:
    from sqlalchemy import Connection
    from sqlalchemy.orm import Session

Key = tuple[int, str, str, str]
"""(campaign id, state, zone key, outcome or "")."""


def counts(
    reader: Session | Connection, *, campaign_ids: Collection[int], states: Collection[str] = ()
) -> dict[Key, int]:
    """The non-zero counts of ``campaign_ids`` (only ``states`` when given), by key."""
    if not campaign_ids:
        return {}
    c = contact_count.c
    query = select(c.campaign_id, c.state, c.zone_key, c.outcome, func.sum(c.n)).where(
        c.campaign_id.in_(sorted(campaign_ids))
    )
    if states:
        query = query.where(c.state.in_(sorted(states)))
    rows = reader.execute(query.group_by(c.campaign_id, c.state, c.zone_key, c.outcome)).all()
    return {(cid, s, z, o): int(n) for cid, s, z, o, n in rows if n}


def state_counts(reader: Session | Connection, *, campaign_id: int) -> dict[str, int]:
    """Contacts of the campaign by state; every state present, zero where none. Exact, and a
    handful of rows whatever the campaign's size."""
    return state_counts_of(reader, campaign_ids=[campaign_id])[campaign_id]


def state_counts_of(
    reader: Session | Connection, *, campaign_ids: Collection[int]
) -> dict[int, dict[str, int]]:
    """:func:`state_counts` of each of ``campaign_ids``, in one query."""
    found = {
        campaign_id: {state.value: 0 for state in ContactState} for campaign_id in campaign_ids
    }
    for (campaign_id, state, _z, _o), n in counts(reader, campaign_ids=campaign_ids).items():
        found[campaign_id][state] += n
    return found


def outcome_counts(reader: Session | Connection, *, campaign_id: int) -> dict[str, int]:
    """Contacts by provider-reported outcome, whatever their state (none left out)."""
    found: dict[str, int] = {}
    for (_c, _s, _z, outcome), n in counts(reader, campaign_ids=[campaign_id]).items():
        if outcome:
            found[outcome] = found.get(outcome, 0) + n
    return found


def zone_key_counts(
    reader: Session | Connection, *, campaign_id: int, states: Collection[str]
) -> dict[str, int]:
    """Contacts in ``states`` grouped by zone key: what the scheduler and estimates work on.
    Only keys with contacts appear."""
    found: dict[str, int] = {}
    for (_c, _s, zone_key, _o), n in counts(
        reader, campaign_ids=[campaign_id], states=states
    ).items():
        found[zone_key] = found.get(zone_key, 0) + n
    return {key: n for key, n in found.items() if n}


def recalls_waiting(reader: Session | Connection, *, campaign_id: int) -> int:
    """Pending contacts that were called and wait to be called again (they keep their last
    outcome): read from the kept counts."""
    return sum(
        n
        for (_c, _s, _z, outcome), n in counts(
            reader, campaign_ids=[campaign_id], states=[ContactState.PENDING]
        ).items()
        if outcome
    )


def next_due(
    reader: Session | Connection, *, campaign_id: int, zone_keys: Collection[str]
) -> datetime | None:
    """The earliest ``next_attempt_at`` of the campaign's pending contacts in ``zone_keys``
    (recalls, retries, contacts put off): the first entry of one range of
    ``ix_contact_claim`` per zone key, whatever the campaign's size."""
    c = contact.c
    found = []
    for zone_key in sorted(set(zone_keys)):
        first = reader.execute(
            select(c.next_attempt_at)
            .where(
                c.campaign_id == campaign_id,
                c.state == ContactState.PENDING,
                c.zone_key == zone_key,
                c.next_attempt_at.is_not(None),
            )
            .order_by(c.next_attempt_at)
            .limit(1)
        ).scalar_one_or_none()
        if first is not None:
            found.append(first)
    return min(found, default=None)
