"""The status reads of :mod:`dialer.ledger.overview` as SQLAlchemy Core statements, by name,
run through SQLAlchemy here (:func:`core_fetch`)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from sqlalchemy import bindparam, select

from dialer.ledger import overview, tallies
from dialer.ledger.tables import attempt, campaign, contact, contact_count

if TYPE_CHECKING:
    from sqlalchemy import Connection, Select

_contact = contact.c

STATEMENTS: dict[str, Select[Any]] = {
    "campaign": select(
        *(campaign.c[name] for name in overview.CampaignView.__dataclass_fields__)
    ).where(campaign.c.name == bindparam("name")),
    "counts": tallies.summed(contact_count.c.campaign_id == bindparam("campaign_id")),
    "recent_calls": select(attempt.c.started_at, attempt.c.outcome_at)
    .where(attempt.c.account == bindparam("account"), attempt.c.outcome_at.is_not(None))
    .order_by(attempt.c.id.desc())
    .limit(bindparam("sample")),
    "next_due": select(_contact.next_attempt_at)
    .where(
        _contact.campaign_id == bindparam("campaign_id"),
        _contact.state == bindparam("state"),
        _contact.zone_key == bindparam("zone_key"),
        _contact.next_attempt_at.is_not(None),
    )
    .order_by(_contact.next_attempt_at)
    .limit(1),
}


def core_fetch(connection: Connection) -> overview.Fetch:
    """The status reads on ``connection`` (see :class:`dialer.ledger.overview.Fetch`)."""

    def fetch(statement: str, /, **params: object) -> Sequence[Sequence[Any]]:
        return connection.execute(STATEMENTS[statement], params).all()

    return fetch
