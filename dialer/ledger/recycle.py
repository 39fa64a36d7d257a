"""Recycling: a campaign's contacts whose call ended with chosen outcomes, called again.

    reopen(...)   in the same campaign: back to ``pending`` with a fresh budget, history kept
    copy_into(...) into a new draft campaign with the source's settings, each new contact
                  linked to the one it came from (``recycled_from``)

Only ``placed`` contacts with one of the outcomes are taken: never one whose fate is
``unknown`` (not placed as far as we know, and never redialed automatically), a failed one
(a bad number ends ``failed``), or one whose number is on the global or the campaign's
do-not-call list now. Both are one set-based statement over the campaign's
(campaign, state) range, and the counts move with them (:mod:`dialer.ledger.counts`).
"""

from __future__ import annotations

import secrets
from collections.abc import Collection
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import ColumnElement, exists, func, insert, literal, select, update
from sqlmodel import Session, col

from dialer.ledger import campaigns as ledger_campaigns
from dialer.ledger import contacts as ledger_contacts
from dialer.ledger import counts as ledger_counts
from dialer.ledger.counts import Deltas
from dialer.models import GLOBAL_SCOPE, Campaign, CampaignStatus, Contact, ContactState, Suppression

PLACED, PENDING = ContactState.PLACED, ContactState.PENDING

_CAMPAIGN_NOT_COPIED = frozenset(
    {
        "id",
        "name",
        "name_key",
        "status",
        "status_reason",
        "callback_token",
        "created_at",
        "started_at",
        "finished_at",
        "rows_read",
        "rows_accepted",
        "rows_rejected",
        "source_file",
        "source_checksum",
    }
)
"""Campaign fields that belong to the campaign itself, not to its settings."""

_CONTACT_NOT_COPIED = frozenset(
    {
        "id",
        "campaign_id",
        "state",
        "attempts",
        "next_attempt_at",
        "state_changed_at",
        "last_error",
        "provider_call_id",
        "outcome",
        "recycled_from",
        "recycled_at",
    }
)
"""Contact fields that are its history in the source campaign; the rest is the lead."""


def _chosen(campaign_id: int, outcomes: Collection[str]) -> list[ColumnElement[bool]]:
    """The campaign's placed contacts with one of ``outcomes`` whose number is not listed."""
    listed = exists().where(
        col(Suppression.phone) == col(Contact.phone),
        col(Suppression.campaign_id).in_([GLOBAL_SCOPE, campaign_id]),
    )
    return [
        col(Contact.campaign_id) == campaign_id,
        col(Contact.state) == PLACED,
        col(Contact.outcome).in_(sorted(set(outcomes))),
        ~listed,
    ]


def reopen(
    session: Session, *, campaign: Campaign, outcomes: Collection[str], now: datetime
) -> int:
    """The campaign's placed contacts with one of ``outcomes`` → ``pending``, due now, with a
    fresh budget: ``attempts`` 0, and ``recycled_at`` = ``now``, from which the campaign's
    calls per contact are counted again. Their attempts and outcome stay as history. A
    completed or cancelled campaign becomes paused, to be started. Returns how many."""
    assert campaign.id is not None
    reopened = ledger_counts.move_all(
        session,
        update(Contact)
        .where(*_chosen(campaign.id, outcomes))
        .values(
            state=PENDING,
            attempts=0,
            next_attempt_at=None,
            state_changed_at=now,
            last_error="",
            recycled_at=now,
        ),
        old=PLACED,
        new=PENDING,
    )
    if reopened:
        ledger_campaigns.set_status(
            session,
            campaign_id=campaign.id,
            expected=[CampaignStatus.COMPLETED, CampaignStatus.CANCELLED],
            new=CampaignStatus.PAUSED,
            now=now,
            reason=f"{reopened} contact{'' if reopened == 1 else 's'} recycled; "
            "start it to dial them",
        )
    return reopened


def copy_into(
    session: Session,
    *,
    source: Campaign,
    name: str,
    outcomes: Collection[str],
    now: datetime,
) -> tuple[Campaign, int]:
    """A new draft campaign ``name`` with ``source``'s settings (a start or end time already
    past is left out), holding a ``pending`` copy of each of ``source``'s placed contacts
    with one of ``outcomes``: the lead's columns, alternates and zones as they were, and
    ``recycled_from`` naming the source contact. ``source`` is left as it is. Raises as
    :func:`~dialer.ledger.campaigns.create_campaign` does. Returns the campaign and how many
    contacts it got."""
    assert source.id is not None
    settings: dict[str, Any] = {
        field: getattr(source, field)
        for field in Campaign.model_fields
        if field not in _CAMPAIGN_NOT_COPIED
    }
    for field in ("start_at", "end_at"):
        moment = settings.get(field)
        if moment is not None and _aware(moment) <= now:
            settings[field] = None
    created = ledger_campaigns.create_campaign(
        session,
        campaign=Campaign(
            **settings,
            name=name,
            status=CampaignStatus.DRAFT,
            callback_token=secrets.token_urlsafe(24),
            source_file=f"recycled from {source.name}"[:500],
            created_at=now,
        ),
    )
    assert created.id is not None
    lead = [name for name in Contact.model_fields if name not in _CONTACT_NOT_COPIED]
    table = Contact.__table__  # type: ignore[attr-defined]
    chosen = select(
        *(table.c[field] for field in lead),
        literal(created.id).label("campaign_id"),
        literal(PENDING.value).label("state"),
        literal(0).label("attempts"),
        literal("").label("last_error"),
        table.c["id"].label("recycled_from"),
    ).where(*_chosen(source.id, outcomes))
    with ledger_contacts.adding_contacts(session.connection(), campaign_id=created.id):
        session.execute(
            insert(Contact).from_select(
                [*lead, "campaign_id", "state", "attempts", "last_error", "recycled_from"],
                chosen.order_by(table.c["id"]),
            )
        )
    # Counted from what landed: one range of the new campaign's own index.
    by_zone = session.execute(
        select(col(Contact.zone_key), func.count())
        .where(col(Contact.campaign_id) == created.id, col(Contact.state) == PENDING)
        .group_by(col(Contact.zone_key))
    ).all()
    copied = sum(n for _zone, n in by_zone)
    ledger_counts.record(
        session, Deltas({(created.id, PENDING.value, zone, ""): n for zone, n in by_zone})
    )
    created.rows_read = created.rows_accepted = copied
    session.flush()
    return created, copied


def _aware(moment: datetime) -> datetime:
    # The ledger keeps naive UTC on SQLite.
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)
