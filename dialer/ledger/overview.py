"""What ``dialer campaign status`` (and ``GET /campaigns/{name}``) reads of a campaign: its row,
its contact counts, how long its accounts' calls last and when its next waiting contact is due.

Each read is a named statement (declared once, on SQLAlchemy Core, in
:mod:`dialer.ledger.statements`) run by a :class:`Fetch`: through SQLAlchemy
(:func:`dialer.ledger.statements.core_fetch`), or on a plain DBAPI connection with the
statement's SQL compiled ahead (:mod:`dialer.ledger.plainread`), so that the command can start
without importing SQLAlchemy. What is made of the rows is here, once, for both; this module
imports no database library.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

from dialer.errors import UnknownCampaign
from dialer.ledger import sums
from dialer.states import ContactState

RECENT_CALLS = 200
"""How many of an account's latest calls with an outcome tell how long its calls last."""


class Fetch(Protocol):
    def __call__(self, statement: str, /, **params: object) -> Sequence[Sequence[Any]]:
        """The rows of the named statement of :mod:`dialer.ledger.statements` run with
        ``params``, their values as the models have them (instants aware in UTC, JSON parsed,
        booleans as bool); ServiceUnavailable when the database fails."""
        ...


@dataclass(frozen=True)
class CampaignView:
    """The campaign's columns a status shows (as :class:`dialer.models.Campaign` has them)."""

    id: int
    name: str
    account: str
    status: str
    status_reason: str
    window: str
    days: str
    timezone: str
    start_at: datetime | None
    end_at: datetime | None
    source_file: str
    rows_read: int
    rows_accepted: int
    rows_rejected: int
    accounts: list[dict[str, Any]] | None
    failover: bool
    reassigned: int
    max_attempts: int
    retry_after_seconds: int | None
    recall_rules: dict[str, list[int]] | None
    claim_order: str | None


def campaign_view(fetch: Fetch, *, name: str) -> CampaignView:
    """The campaign called ``name``; UnknownCampaign if there is none."""
    found = fetch("campaign", name=name)
    if not found:
        raise UnknownCampaign(name)
    return CampaignView(*found[0])


def campaign_counts(fetch: Fetch, *, campaign_id: int) -> dict[sums.Key, int]:
    """The campaign's non-zero contact counts by key (:mod:`dialer.ledger.sums` adds them up)."""
    return sums.keyed(fetch("counts", campaign_id=campaign_id))


def recent_call_seconds(fetch: Fetch, *, account: str) -> float | None:
    """The mean time from start to outcome of the account's latest :data:`RECENT_CALLS` calls
    with an outcome (how long a call holds its place), or None when none has one yet."""
    spans = [
        (ended - started).total_seconds()
        for started, ended in fetch("recent_calls", account=account, sample=RECENT_CALLS)
        if started is not None and ended is not None
    ]
    return sum(spans) / len(spans) if spans else None


def next_due(fetch: Fetch, *, campaign_id: int, zone_keys: Collection[str]) -> datetime | None:
    """The earliest ``next_attempt_at`` of the campaign's pending contacts in ``zone_keys``
    (recalls, retries, contacts put off): the first entry of one range of
    ``ix_contact_claim`` per zone key, whatever the campaign's size."""
    found = []
    for zone_key in sorted(set(zone_keys)):
        first = fetch(
            "next_due", campaign_id=campaign_id, state=ContactState.PENDING.value, zone_key=zone_key
        )
        if first:
            found.append(first[0][0])
    return min(found, default=None)
