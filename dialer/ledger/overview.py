"""What ``dialer campaign status`` (and ``GET /campaigns/{name}``) reads of a campaign, on
SQLAlchemy Core alone (:mod:`dialer.ledger.tables`): its row and how long its account's calls
last. With :mod:`dialer.ledger.tallies`, a status is read without importing the ORM, SQLModel
or pydantic models, which would cost the command most of its start-up.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import select

from dialer.errors import UnknownCampaign
from dialer.ledger.tables import attempt, campaign

if TYPE_CHECKING:
    from sqlalchemy import Connection
    from sqlalchemy.orm import Session


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


_VIEW = tuple(campaign.c[name] for name in CampaignView.__dataclass_fields__)


def campaign_view(reader: Session | Connection, *, name: str) -> CampaignView:
    """The campaign called ``name``; UnknownCampaign if there is none."""
    found = reader.execute(select(*_VIEW).where(campaign.c.name == name)).first()
    if found is None:
        raise UnknownCampaign(name)
    return CampaignView(*found)


def recent_call_seconds(
    reader: Session | Connection, *, account: str, sample: int = 200
) -> float | None:
    """The mean time from start to outcome of the account's latest ``sample`` calls with an
    outcome (how long a call holds its place), or None when none has one yet."""
    rows = reader.execute(
        select(attempt.c.started_at, attempt.c.outcome_at)
        .where(attempt.c.account == account, attempt.c.outcome_at.is_not(None))
        .order_by(attempt.c.id.desc())
        .limit(sample)
    ).all()
    spans = [
        (ended - started).total_seconds()
        for started, ended in rows
        if started is not None and ended is not None
    ]
    return sum(spans) / len(spans) if spans else None
