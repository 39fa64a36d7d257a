"""What the ledger says about the whole dialer at one instant, for the API's ``/metrics``."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import func
from sqlmodel import Session, col, select

from dialer.models import Attempt, Campaign, Contact, ContactState


@dataclass(frozen=True)
class LedgerMetrics:
    """Counts across every campaign.

    ``attempts``: requests by (account, result); result is the contact state the request led
    to (``placed``, ``failed``, ``unknown``, ``pending`` for a retry), ``in_flight`` while it
    has none. ``contacts``: contacts by (account, state). ``oldest_queued_at``: when the
    longest-waiting ``queued`` contact was claimed (aware UTC), None when nothing is queued.
    """

    attempts: dict[tuple[str, str], int]
    contacts: dict[tuple[str, str], int]
    oldest_queued_at: datetime | None


def ledger_metrics(session: Session) -> LedgerMetrics:
    """Three grouped scans (attempts, contacts, the oldest queued contact); no per-row work."""
    attempts = session.execute(
        select(Attempt.account, Attempt.result, func.count()).group_by(
            col(Attempt.account), col(Attempt.result)
        )
    ).all()
    contacts = session.execute(
        select(Campaign.account, Contact.state, func.count())
        .join(Campaign, col(Campaign.id) == col(Contact.campaign_id))
        .group_by(col(Campaign.account), col(Contact.state))
    ).all()
    oldest = session.execute(
        select(func.min(Contact.state_changed_at)).where(col(Contact.state) == ContactState.QUEUED)
    ).scalar_one()
    return LedgerMetrics(
        attempts={(account, result or "in_flight"): n for account, result, n in attempts},
        contacts={(account, state): n for account, state, n in contacts},
        oldest_queued_at=_aware(oldest),
    )


def _aware(moment: datetime | None) -> datetime | None:
    """Postgres returns aware instants, SQLite naive UTC ones."""
    if moment is None or moment.tzinfo is not None:
        return moment
    return moment.replace(tzinfo=UTC)
