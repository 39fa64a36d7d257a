"""Contact counts by key, summed by state, outcome or zone key.

Arithmetic on the sums of ``contact_count`` by key (see :mod:`dialer.ledger.counts`), whoever
read them: :mod:`dialer.ledger.tallies` through SQLAlchemy, or ``dialer campaign status`` on a
plain DBAPI connection (:mod:`dialer.ledger.plainread`). It imports no database library.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping, Sequence
from typing import Any

from dialer.states import ContactState

Key = tuple[int, str, str, str]
"""(campaign id, state, zone key, outcome or "")."""


def keyed(rows: Iterable[Sequence[Any]]) -> dict[Key, int]:
    """Rows of (campaign id, state, zone key, outcome, sum) as the non-zero counts by key."""
    return {(cid, s, z, o): int(n) for cid, s, z, o, n in rows if n}


def by_state(found: Mapping[Key, int], campaign_ids: Collection[int]) -> dict[int, dict[str, int]]:
    """Contacts of each of ``campaign_ids`` by state; every state present, zero where none."""
    states = {
        campaign_id: {state.value: 0 for state in ContactState} for campaign_id in campaign_ids
    }
    for (campaign_id, state, _z, _o), n in found.items():
        states[campaign_id][state] += n
    return states


def by_outcome(found: Mapping[Key, int]) -> dict[str, int]:
    """Contacts by provider-reported outcome, whatever their state (none left out)."""
    outcomes: dict[str, int] = {}
    for (_c, _s, _z, outcome), n in found.items():
        if outcome:
            outcomes[outcome] = outcomes.get(outcome, 0) + n
    return outcomes


def by_zone_key(found: Mapping[Key, int], *, states: Collection[str] = ()) -> dict[str, int]:
    """Contacts (in ``states``, when given) by zone key; only keys with contacts appear."""
    keys: dict[str, int] = {}
    for (_c, state, zone_key, _o), n in found.items():
        if not states or state in states:
            keys[zone_key] = keys.get(zone_key, 0) + n
    return {key: n for key, n in keys.items() if n}


def recalls_waiting(found: Mapping[Key, int]) -> int:
    """Pending contacts that were called and wait to be called again (they keep their last
    outcome)."""
    return sum(
        n
        for (_c, state, _z, outcome), n in found.items()
        if state == ContactState.PENDING and outcome
    )
