"""Reading the contact counts kept by :mod:`dialer.ledger.counts`, on SQLAlchemy Core alone.

The sum of a key's rows in ``contact_count`` is its count (see :mod:`dialer.ledger.counts`,
which writes them). These reads take a Core connection or an ORM session alike, and import
neither the ORM nor the models: ``dialer campaign status`` starts without them.
"""

from __future__ import annotations

from collections.abc import Collection
from typing import TYPE_CHECKING

from sqlalchemy import ColumnElement, Select, func, select

from dialer.ledger import sums
from dialer.ledger.sums import Key as Key
from dialer.ledger.tables import contact_count

if TYPE_CHECKING:
    from sqlalchemy import Connection
    from sqlalchemy.orm import Session


def counts(
    reader: Session | Connection, *, campaign_ids: Collection[int], states: Collection[str] = ()
) -> dict[Key, int]:
    """The non-zero counts of ``campaign_ids`` (only ``states`` when given), by key."""
    if not campaign_ids:
        return {}
    c = contact_count.c
    where = [c.campaign_id.in_(sorted(campaign_ids))]
    if states:
        where.append(c.state.in_(sorted(states)))
    return sums.keyed(reader.execute(summed(*where)).all())


def summed(*where: ColumnElement[bool]) -> Select[tuple[int, str, str, str, int]]:
    """The sums of ``contact_count`` by key, of the rows ``where`` selects."""
    c = contact_count.c
    return (
        select(c.campaign_id, c.state, c.zone_key, c.outcome, func.sum(c.n))
        .where(*where)
        .group_by(c.campaign_id, c.state, c.zone_key, c.outcome)
    )


def state_counts(reader: Session | Connection, *, campaign_id: int) -> dict[str, int]:
    """Contacts of the campaign by state; every state present, zero where none. Exact, and a
    handful of rows whatever the campaign's size."""
    return state_counts_of(reader, campaign_ids=[campaign_id])[campaign_id]


def state_counts_of(
    reader: Session | Connection, *, campaign_ids: Collection[int]
) -> dict[int, dict[str, int]]:
    """:func:`state_counts` of each of ``campaign_ids``, in one query."""
    return sums.by_state(counts(reader, campaign_ids=campaign_ids), campaign_ids)


def outcome_counts(reader: Session | Connection, *, campaign_id: int) -> dict[str, int]:
    """Contacts by provider-reported outcome, whatever their state (none left out)."""
    return sums.by_outcome(counts(reader, campaign_ids=[campaign_id]))


def zone_key_counts(
    reader: Session | Connection, *, campaign_id: int, states: Collection[str]
) -> dict[str, int]:
    """Contacts in ``states`` grouped by zone key: what the scheduler and estimates work on.
    Only keys with contacts appear."""
    return sums.by_zone_key(counts(reader, campaign_ids=[campaign_id], states=states))
