"""What the ledger says about the whole dialer at one instant, for the API's ``/metrics``."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import func
from sqlmodel import Session, col, select

from dialer.ledger.counts import attempt_counts, campaigns_with
from dialer.models import Campaign, Contact, ContactCount, ContactState


@dataclass(frozen=True)
class LedgerMetrics:
    """Counts across every campaign.

    ``attempts``: requests by (account, result); result is the contact state the request led
    to (``placed``, ``failed``, ``unknown``, ``pending`` for a retry), ``in_flight`` while it
    has none. ``contacts``: contacts by (account, state). ``oldest_queued_at``: when the
    longest-waiting ``queued`` contact was claimed (aware UTC), None when nothing is queued.
    ``rate_limit_waits``: per account, how many requests waited for its rate limit (1 ms or
    more) and how many seconds they waited in all.
    """

    attempts: dict[tuple[str, str], int]
    contacts: dict[tuple[str, str], int]
    oldest_queued_at: datetime | None
    rate_limit_waits: dict[str, tuple[int, float]]


def ledger_metrics(session: Session) -> LedgerMetrics:
    """Contacts and attempts from the counts kept with the transitions
    (:mod:`dialer.ledger.counts`), the oldest queued contact from the (campaign, state) ranges
    of what is queued: nothing here grows with the ledger."""
    attempts, waits = attempt_counts(session)
    contacts = session.execute(
        select(Campaign.account, ContactCount.state, func.sum(ContactCount.n))
        .join(Campaign, col(Campaign.id) == col(ContactCount.campaign_id))
        .group_by(col(Campaign.account), col(ContactCount.state))
        .having(func.sum(ContactCount.n) != 0)
    ).all()
    queued = [ContactState.QUEUED]
    holding = campaigns_with(session, states=queued)
    oldest = None
    if holding:  # (SQLite scans the table for an empty IN list)
        oldest = session.execute(
            select(func.min(Contact.state_changed_at)).where(
                col(Contact.campaign_id).in_(holding), col(Contact.state).in_(queued)
            )
        ).scalar_one()
    return LedgerMetrics(
        attempts={(account, result or "in_flight"): n for (account, result), n in attempts.items()},
        contacts={(account, state): int(n) for account, state, n in contacts},
        oldest_queued_at=_aware(oldest),
        rate_limit_waits={account: (n, ms / 1000) for account, (n, ms) in waits.items()},
    )


def _aware(moment: datetime | None) -> datetime | None:
    """Postgres returns aware instants, SQLite naive UTC ones."""
    if moment is None or moment.tzinfo is not None:
        return moment
    return moment.replace(tzinfo=UTC)
