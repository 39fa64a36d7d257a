"""Campaign rows: creation, lookup, lifecycle transitions and counters."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import func, update
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from dialer.errors import CampaignError, InputError, UnknownCampaign
from dialer.ledger import counts as ledger_counts
from dialer.ledger import outbox
from dialer.ledger.engine import rowcount
from dialer.models import Campaign, CampaignStatus, Contact, ContactState
from dialer.names import campaign_name, name_key
from dialer.redaction import ERROR_LIMIT, redact


def create_campaign(session: Session, *, campaign: Campaign) -> Campaign:
    """Insert a new campaign. InputError unless its name follows :mod:`dialer.names`' rule
    (normalised already), CampaignError if the name is taken, in any case."""
    if campaign_name(campaign.name) != campaign.name:
        raise InputError(f"campaign name {campaign.name.strip()[:100]!r} is not normalised")
    campaign.name_key = name_key(campaign.name)
    session.add(campaign)
    try:
        session.flush()
    except IntegrityError:
        session.rollback()
        raise _name_taken(campaign.name) from None
    return campaign


def check_name_free(session: Session, *, name: str) -> None:
    """CampaignError, as ``create_campaign`` would raise it, when ``name`` is taken (by a
    campaign of the same ``name_key``)."""
    taken = select(Campaign.id).where(Campaign.name_key == name_key(name))
    if session.exec(taken).first() is not None:
        raise _name_taken(name)


def _name_taken(name: str) -> CampaignError:
    return CampaignError(f"campaign {name!r} already exists (use --append to add leads to it)")


def extend_campaign(
    session: Session,
    *,
    name: str,
    account: str,
    columns: Sequence[str],
    source_file: str,
    source_checksum: str,
) -> Campaign:
    """The campaign ``name`` with another file's columns and name added (``--append``).

    Raises as ``appendable_campaign`` does.
    """
    campaign = appendable_campaign(session, name=name, account=account)
    campaign.columns = list(dict.fromkeys([*campaign.columns, *columns]))
    campaign.source_file = f"{campaign.source_file}, {source_file}"
    campaign.source_checksum = source_checksum
    return campaign


def appendable_campaign(session: Session, *, name: str, account: str) -> Campaign:
    """The campaign ``name``, if leads on ``account`` may be appended to it: UnknownCampaign
    if there is none, CampaignError if it is cancelled or completed, InputError if it uses
    another account."""
    campaign = get_campaign(session, name=name)
    if campaign.status in (CampaignStatus.CANCELLED, CampaignStatus.COMPLETED):
        raise CampaignError(f"campaign {name!r} is {campaign.status}; cannot append")
    if campaign.account != account:
        raise InputError(f"campaign {name!r} uses account {campaign.account!r}, not {account!r}")
    return campaign


def get_campaign(session: Session, *, name: str) -> Campaign:
    """The campaign called ``name``; UnknownCampaign if there is none."""
    found = session.exec(select(Campaign).where(Campaign.name == name)).first()
    if found is None:
        raise UnknownCampaign(name)
    return found


def list_campaigns(session: Session) -> list[Campaign]:
    return list(session.exec(select(Campaign).order_by(col(Campaign.id))))


def campaigns_with_status(session: Session, *, statuses: Collection[str]) -> list[Campaign]:
    query = select(Campaign).where(col(Campaign.status).in_(statuses)).order_by(col(Campaign.id))
    return list(session.exec(query))


def set_status(
    session: Session,
    *,
    campaign_id: int,
    expected: Collection[str],
    new: CampaignStatus,
    now: datetime,
    reason: str = "",
) -> bool:
    """Move the campaign to ``new`` if it is in one of ``expected``. True if this call won."""
    values: dict[str, Any] = {"status": new, "status_reason": reason}
    if new is CampaignStatus.RUNNING:
        values["started_at"] = func.coalesce(Campaign.started_at, now)
    if new in (CampaignStatus.COMPLETED, CampaignStatus.CANCELLED):
        values["finished_at"] = now
    result = session.execute(
        update(Campaign)
        .where(col(Campaign.id) == campaign_id, col(Campaign.status).in_(expected))
        .values(**values)
    )
    won = rowcount(result) == 1
    outbox.campaigns_changed(session, campaign_ids=[campaign_id] * won, status=new, now=now)
    return won


def record_import(
    session: Session, *, campaign_id: int, read: int, accepted: int, rejected: int
) -> None:
    """Add one import's row counts to the campaign's counters."""
    session.execute(
        update(Campaign)
        .where(col(Campaign.id) == campaign_id)
        .values(
            rows_read=Campaign.rows_read + read,
            rows_accepted=Campaign.rows_accepted + accepted,
            rows_rejected=Campaign.rows_rejected + rejected,
        )
    )


def state_counts(session: Session, *, campaign_id: int) -> dict[str, int]:
    """Contacts of the campaign by state; every state present, zero where none. Read from
    the counts kept with the transitions (:mod:`dialer.ledger.counts`): exact, and a handful
    of rows whatever the campaign's size."""
    return state_counts_of(session, campaign_ids=[campaign_id])[campaign_id]


def state_counts_of(
    session: Session, *, campaign_ids: Collection[int]
) -> dict[int, dict[str, int]]:
    """:func:`state_counts` of each of ``campaign_ids``, in one query."""
    found = {
        campaign_id: {state.value: 0 for state in ContactState} for campaign_id in campaign_ids
    }
    for (campaign_id, state, _z, _o), n in ledger_counts.counts(
        session, campaign_ids=campaign_ids
    ).items():
        found[campaign_id][state] += n
    return found


def outcome_counts(session: Session, *, campaign_id: int) -> dict[str, int]:
    """Contacts by provider-reported outcome, whatever their state (none left out)."""
    found: dict[str, int] = {}
    for (_c, _s, _z, outcome), n in ledger_counts.counts(
        session, campaign_ids=[campaign_id]
    ).items():
        if outcome:
            found[outcome] = found.get(outcome, 0) + n
    return found


def zone_key_counts(
    session: Session, *, campaign_id: int, states: Collection[str]
) -> dict[str, int]:
    """Contacts in ``states`` grouped by zone key: what the scheduler and estimates work on.
    Only keys with contacts appear."""
    found: dict[str, int] = {}
    for (_c, _s, zone_key, _o), n in ledger_counts.counts(
        session, campaign_ids=[campaign_id], states=states
    ).items():
        found[zone_key] = found.get(zone_key, 0) + n
    return {key: n for key, n in found.items() if n}


def recalls_waiting(session: Session, *, campaign_id: int) -> int:
    """Pending contacts that were called and wait to be called again (they keep their last
    outcome): read from the kept counts."""
    return sum(
        n
        for (_c, _s, _z, outcome), n in ledger_counts.counts(
            session, campaign_ids=[campaign_id], states=[ContactState.PENDING]
        ).items()
        if outcome
    )


def next_due(session: Session, *, campaign_id: int, zone_keys: Collection[str]) -> datetime | None:
    """The earliest ``next_attempt_at`` of the campaign's pending contacts in ``zone_keys``
    (recalls, retries, contacts put off): the first entry of one range of
    ``ix_contact_claim`` per zone key, whatever the campaign's size."""
    found = []
    for zone_key in sorted(set(zone_keys)):
        first = session.execute(
            select(col(Contact.next_attempt_at))
            .where(
                col(Contact.campaign_id) == campaign_id,
                col(Contact.state) == ContactState.PENDING,
                col(Contact.zone_key) == zone_key,
                col(Contact.next_attempt_at).is_not(None),
            )
            .order_by(col(Contact.next_attempt_at))
            .limit(1)
        ).scalar_one_or_none()
        if first is not None:
            found.append(first if first.tzinfo is not None else first.replace(tzinfo=UTC))
    return min(found, default=None)


def pause_account(session: Session, *, account: str, reason: str, now: datetime) -> int:
    """Pause every running campaign on ``account`` (its credentials were refused)."""
    result = session.execute(
        update(Campaign)
        .where(col(Campaign.account) == account, col(Campaign.status) == CampaignStatus.RUNNING)
        .values(status=CampaignStatus.PAUSED, status_reason=redact(reason, limit=ERROR_LIMIT))
        .returning(col(Campaign.id))
    )
    paused = list(result.scalars())
    outbox.campaigns_changed(session, campaign_ids=paused, status=CampaignStatus.PAUSED, now=now)
    return len(paused)
