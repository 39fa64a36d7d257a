"""A campaign's accounts side by side: the grouped reads behind ``dialer campaign compare``.

Read on demand only (the command, the API route, the console's table when asked for), never
by a tick or a page refresh: each read is one grouped pass over the campaign's contacts or
attempts (the ``campaign_id`` prefix of ``ix_contact_claim`` and ``ix_attempt_campaign_started``),
and the median latency one sorted read per account.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from sqlalchemy import func, select
from sqlmodel import Session, col

from dialer.models import Attempt, Contact, ContactState

PROVIDER_ERRORS = (ContactState.PENDING, ContactState.FAILED)
"""Attempt results that were the provider's error answers (4xx, 5xx, 429, refused)."""


@dataclass
class AccountTally:
    """One account's contacts and requests in a campaign."""

    contacts: int = 0
    """Contacts assigned to the account (their first attempt began there)."""
    placed: int = 0
    """Of those, contacts with a call placed."""
    unknown: int = 0
    outcomes: dict[str, int] = field(default_factory=dict)
    """Contacts by the outcome the provider reported (completed, no-answer, ...)."""
    requests: int = 0
    provider_errors: int = 0
    median_latency_ms: int | None = None


def tally_accounts(
    session: Session, *, campaign_id: int, accounts: Sequence[str]
) -> tuple[dict[str, AccountTally], int]:
    """Each of ``accounts``' tally in the campaign (an account no contact was sent to has an
    empty one), and how many contacts have no account yet."""
    tallies = {name: AccountTally() for name in accounts}
    unassigned = 0
    contacts = session.execute(
        select(
            col(Contact.account),
            col(Contact.state),
            col(Contact.outcome),
            func.count(),
            func.count(col(Contact.provider_call_id)),
        )
        .where(col(Contact.campaign_id) == campaign_id)
        .group_by(col(Contact.account), col(Contact.state), col(Contact.outcome))
    ).all()
    for account, state, outcome, n, called in contacts:
        if account is None:
            unassigned += n
            continue
        tally = tallies.setdefault(account, AccountTally())
        tally.contacts += n
        tally.placed += called
        if state == ContactState.UNKNOWN:
            tally.unknown += n
        if outcome:
            tally.outcomes[outcome] = tally.outcomes.get(outcome, 0) + n
    attempts = session.execute(
        select(col(Attempt.account), col(Attempt.result), func.count())
        .where(col(Attempt.campaign_id) == campaign_id)
        .group_by(col(Attempt.account), col(Attempt.result))
    ).all()
    for account, result, n in attempts:
        tally = tallies.setdefault(account, AccountTally())
        tally.requests += n
        if result in PROVIDER_ERRORS:
            tally.provider_errors += n
    for account, tally in tallies.items():
        tally.median_latency_ms = _median_latency(session, campaign_id, account)
    return tallies, unassigned


def _median_latency(session: Session, campaign_id: int, account: str) -> int | None:
    timed = (
        col(Attempt.campaign_id) == campaign_id,
        col(Attempt.account) == account,
        col(Attempt.latency_ms).is_not(None),
    )
    n = session.execute(select(func.count()).where(*timed)).scalar_one()
    if not n:
        return None
    middle = session.execute(
        select(col(Attempt.latency_ms))
        .where(*timed)
        .order_by(col(Attempt.latency_ms))
        .offset((n - 1) // 2)
        .limit(2 - n % 2)
    ).scalars()
    values = [v for v in middle if v is not None]
    return round(sum(values) / len(values)) if values else None
