"""Campaign rows: creation, lookup, lifecycle transitions and counters (the counts by state,
outcome and zone key are :mod:`dialer.ledger.tallies`' functions, found here too)."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import replace
from datetime import datetime
from typing import Any

from sqlalchemy import func, update
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from dialer import split
from dialer.errors import CampaignError, InputError, UnknownCampaign
from dialer.ledger import outbox
from dialer.ledger.engine import rowcount
from dialer.ledger.tallies import outcome_counts as outcome_counts
from dialer.ledger.tallies import state_counts as state_counts
from dialer.ledger.tallies import state_counts_of as state_counts_of
from dialer.ledger.tallies import zone_key_counts as zone_key_counts
from dialer.models import Campaign, CampaignStatus
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

    Raises as ``appendable_campaign`` does. The campaign row stays locked until the
    caller's transaction ends, so appends to one campaign take turns (each sees the numbers
    the one before added, and ``adding_contacts`` tells its own contacts by their ids).
    """
    campaign = appendable_campaign(session, name=name, account=account, lock=True)
    campaign.columns = list(dict.fromkeys([*campaign.columns, *columns]))
    campaign.source_file = f"{campaign.source_file}, {source_file}"
    campaign.source_checksum = source_checksum
    # Written now: on SQLite, where FOR UPDATE is not a thing, this write takes the
    # database's write lock before the caller reads the campaign's numbers.
    session.flush()
    return campaign


def appendable_campaign(
    session: Session, *, name: str, account: str, lock: bool = False
) -> Campaign:
    """The campaign ``name``, if leads on ``account`` may be appended to it: UnknownCampaign
    if there is none, CampaignError if it is cancelled or completed, InputError if it uses
    another account. With ``lock``, its row is locked for the session's transaction first
    (on Postgres; SQLite has one writer at a time anyway)."""
    campaign = get_campaign(session, name=name, lock=lock)
    if campaign.status in (CampaignStatus.CANCELLED, CampaignStatus.COMPLETED):
        raise CampaignError(f"campaign {name!r} is {campaign.status}; cannot append")
    if campaign.account != account:
        raise InputError(f"campaign {name!r} uses account {campaign.account!r}, not {account!r}")
    return campaign


def get_campaign(session: Session, *, name: str, lock: bool = False) -> Campaign:
    """The campaign called ``name``; UnknownCampaign if there is none. With ``lock``, read
    as ``SELECT ... FOR UPDATE``, fresh from the database."""
    query = select(Campaign).where(Campaign.name == name)
    if lock:
        query = query.with_for_update().execution_options(populate_existing=True)
    found = session.exec(query).first()
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


def pause_account(
    session: Session, *, account: str, reason: str, now: datetime, refused: bool = True
) -> int:
    """Pause every running campaign on ``account``: its credentials were refused
    (``refused``), or its provider has been out for its ``outage_pause``. Returns how many.

    A campaign that fails over to another of its accounts still in use is not paused: refused,
    the account is marked out of it with ``reason`` (until the campaign is resumed); out of
    service, the account's breaker already sends its contacts elsewhere."""
    running = session.execute(
        select(Campaign).where(col(Campaign.status) == CampaignStatus.RUNNING)
    ).scalars()
    to_pause: list[int] = []
    for campaign in running:
        shares = split.shares_from_json(campaign.accounts, campaign.account)
        if campaign.id is None or all(share.account != account for share in shares):
            continue
        if campaign.failover and any(s.account != account and not s.out for s in shares):
            if refused:
                out = redact(reason, limit=ERROR_LIMIT)
                campaign.accounts = [
                    (replace(s, out=out) if s.account == account else s).to_json() for s in shares
                ]
            continue
        to_pause.append(campaign.id)
    result = session.execute(
        update(Campaign)
        .where(col(Campaign.id).in_(to_pause), col(Campaign.status) == CampaignStatus.RUNNING)
        .values(status=CampaignStatus.PAUSED, status_reason=redact(reason, limit=ERROR_LIMIT))
        .returning(col(Campaign.id))
    )
    paused = list(result.scalars())
    outbox.campaigns_changed(session, campaign_ids=paused, status=CampaignStatus.PAUSED, now=now)
    return len(paused)


def reinstate_accounts(campaign: Campaign) -> None:
    """Every account marked out of ``campaign`` (refused credentials) takes contacts again:
    what resuming it means."""
    shares = split.shares_from_json(campaign.accounts, campaign.account)
    if any(share.out for share in shares):
        campaign.accounts = [replace(share, out="").to_json() for share in shares]
