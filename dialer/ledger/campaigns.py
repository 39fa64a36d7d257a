"""Campaign rows: creation, lookup, lifecycle transitions and counters."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import func, update
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from dialer.errors import CampaignError, InputError, UnknownCampaign
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
    return rowcount(result) == 1


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
    """Contacts of the campaign by state; every state present, zero where none."""
    rows = session.execute(
        select(Contact.state, func.count())
        .where(col(Contact.campaign_id) == campaign_id)
        .group_by(Contact.state)
    ).all()
    counts = {state.value: 0 for state in ContactState}
    counts.update({state: count for state, count in rows})
    return counts


def outcome_counts(session: Session, *, campaign_id: int) -> dict[str, int]:
    """Placed contacts by provider-reported outcome (``None`` outcomes left out)."""
    rows = session.execute(
        select(Contact.outcome, func.count())
        .where(col(Contact.campaign_id) == campaign_id, col(Contact.outcome).is_not(None))
        .group_by(Contact.outcome)
    ).all()
    return {outcome: count for outcome, count in rows}


def zone_key_counts(
    session: Session, *, campaign_id: int, states: Collection[str]
) -> dict[str, int]:
    """Contacts in ``states`` grouped by zone key: what the scheduler and estimates work on."""
    rows = session.execute(
        select(Contact.zone_key, func.count())
        .where(col(Contact.campaign_id) == campaign_id, col(Contact.state).in_(states))
        .group_by(Contact.zone_key)
    ).all()
    return {key: count for key, count in rows}


def pause_account(session: Session, *, account: str, reason: str, now: datetime) -> int:
    """Pause every running campaign on ``account`` (its credentials were refused)."""
    result = session.execute(
        update(Campaign)
        .where(col(Campaign.account) == account, col(Campaign.status) == CampaignStatus.RUNNING)
        .values(status=CampaignStatus.PAUSED, status_reason=redact(reason, limit=ERROR_LIMIT))
    )
    return rowcount(result)
