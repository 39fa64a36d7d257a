"""Provider-reported outcomes: finding the attempt a report is about, recording it once, and
calling a contact again while the campaign's recall rules allow (:mod:`dialer.recalls`).

An outcome is written once per attempt (a conditional ``UPDATE ... WHERE outcome IS NULL``), so
a replayed webhook, or a webhook and a poll racing each other, change nothing the second time.
"""

from __future__ import annotations

import hmac
import re
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import and_, exists, func, or_, update
from sqlmodel import Session, col, select

from dialer.holds import callable_from
from dialer.ledger import campaigns as ledger_campaigns
from dialer.ledger import counts as ledger_counts
from dialer.ledger import outbox
from dialer.ledger.counts import Deltas
from dialer.ledger.engine import rowcount
from dialer.models import (
    MAY_HAVE_CALLED_STATES,
    Attempt,
    Campaign,
    CampaignStatus,
    Contact,
    ContactState,
)
from dialer.outcomes import Outcome
from dialer.recalls import campaign_rules, recall_wait

PLACED, UNKNOWN = ContactState.PLACED, ContactState.UNKNOWN

_TOKEN = re.compile(r"[A-Za-z0-9_-]{16,64}")
"""What a callback token can look like (``secrets.token_urlsafe``); anything else never matches."""

_RECALL_FROM = (CampaignStatus.RUNNING, CampaignStatus.PAUSED, CampaignStatus.COMPLETED)
"""Campaign statuses in which a contact with a recall rule goes back to ``pending``. A completed
campaign is reopened for it (it completed because every contact had been placed); a cancelled
one never is."""


def campaign_for_token(session: Session, *, token: str) -> Campaign | None:
    """The campaign whose ``callback_token`` is ``token``, or None. Looked up by the token,
    then compared in constant time; a token not shaped like one is never looked up."""
    if not _TOKEN.fullmatch(token):
        return None
    found = session.exec(select(Campaign).where(col(Campaign.callback_token) == token)).first()
    if found is None or not hmac.compare_digest(found.callback_token.encode(), token.encode()):
        return None
    return found


def find_attempt(
    session: Session, *, campaign_id: int, attempt_key: str | None, provider_call_id: str | None
) -> Attempt | None:
    """The campaign's attempt named by our ``attempt_key`` (preferred) or else the provider's
    call id; None when neither names one. Values that cannot be ids never match."""
    query = select(Attempt).where(col(Attempt.campaign_id) == campaign_id)
    if _usable(attempt_key, 36):
        query = query.where(col(Attempt.key) == attempt_key)
    elif _usable(provider_call_id, 200):
        query = query.where(col(Attempt.provider_call_id) == provider_call_id)
    else:
        return None
    return session.exec(query.order_by(col(Attempt.id).desc())).first()


def _usable(value: str | None, limit: int) -> bool:
    return bool(value) and len(value or "") <= limit and "\x00" not in (value or "")


class Recorded(StrEnum):
    """What :func:`record_outcome` did."""

    RECORDED = "recorded"
    """First report of this attempt's outcome: on the attempt, and on the contact."""
    RECALLED = "recalled"
    """Recorded, and the contact is ``pending`` again, to be called after its ladder's wait."""
    DUPLICATE = "duplicate"
    """The attempt already had an outcome: nothing changed."""
    NOT_PLACED = "not-placed"
    """The attempt is still being placed, or was never placed: nothing changed."""


def record_outcome(
    session: Session,
    *,
    attempt_id: int,
    outcome: Outcome,
    payload: Mapping[str, Any],
    now: datetime,
) -> Recorded:
    """Record a provider's report about one attempt.

    Accepted only for an attempt that was placed, or whose fate was ``unknown`` (a report of
    its outcome proves it was placed: attempt and contact become ``placed``). The contact takes
    the outcome when this is its latest attempt. A contact whose outcome has a recall rule
    goes back to ``pending`` with ``next_attempt_at`` after the ladder's step for the Nth call
    with that outcome (:mod:`dialer.recalls`), while it has had fewer placed calls than the
    campaign's ``max_attempts``, the campaign is running, paused or completed (then reopened),
    and the wait ends before the campaign's end time; past the ladder it is final.
    """
    won = None
    # MAY_HAVE_CALLED_STATES one at a time: an unknown attempt becoming placed moves the
    # attempt counts, a placed one does not.
    for result in (UNKNOWN, PLACED):
        won = session.execute(
            update(Attempt)
            .where(
                col(Attempt.id) == attempt_id,
                col(Attempt.outcome).is_(None),
                col(Attempt.result) == result,
            )
            .values(result=PLACED, outcome=outcome, outcome_payload=dict(payload), outcome_at=now)
            .returning(col(Attempt.contact_id), col(Attempt.campaign_id), col(Attempt.account))
        ).first()
        if won is not None:
            if result == UNKNOWN:
                ledger_counts.record_attempts(
                    session, Counter({(won[2], UNKNOWN.value): -1, (won[2], PLACED.value): 1})
                )
            break
    if won is None:
        known = session.execute(
            select(col(Attempt.outcome)).where(col(Attempt.id) == attempt_id)
        ).scalar_one_or_none()
        return Recorded.DUPLICATE if known is not None else Recorded.NOT_PLACED
    contact_id, campaign_id, _account = won
    outbox.call_outcome(session, attempt_id=attempt_id, now=now)
    newer = exists().where(col(Attempt.contact_id) == col(Contact.id), col(Attempt.id) > attempt_id)
    # The contact's state and outcome before: read with the row locked (Postgres; SQLite's
    # write lock is held since the attempt's update), so the counts move exactly as it does.
    before = select(col(Contact.zone_key), col(Contact.state), col(Contact.outcome)).where(
        col(Contact.id) == contact_id
    )
    if session.get_bind().dialect.name == "postgresql":
        before = before.with_for_update()
    zone_key, state, old_outcome = session.execute(before).one()
    moved = session.execute(
        update(Contact)
        .where(
            col(Contact.id) == contact_id,
            col(Contact.state).in_(sorted(MAY_HAVE_CALLED_STATES)),
            ~newer,
        )
        .values(state=PLACED, outcome=outcome, state_changed_at=now, last_error="")
    )
    if rowcount(moved) == 1:
        ledger_counts.record(
            session,
            Deltas(
                {
                    (campaign_id, state, zone_key, old_outcome or ""): -1,
                    (campaign_id, PLACED.value, zone_key, outcome.value): 1,
                }
            ),
        )
    recalled = rowcount(moved) == 1 and _recall(
        session, contact_id=contact_id, campaign_id=campaign_id, outcome=outcome, now=now
    )
    return Recorded.RECALLED if recalled else Recorded.RECORDED


def _recall(
    session: Session, *, contact_id: int, campaign_id: int, outcome: Outcome, now: datetime
) -> bool:
    """``placed`` → ``pending`` for another call, if the campaign's rules allow one (see
    :mod:`dialer.recalls`): due after the ladder's step for this outcome, moved on to the
    moment the contact's window is open (:func:`dialer.holds.callable_from`)."""
    campaign = session.get(Campaign, campaign_id)
    if campaign is None or campaign.status not in _RECALL_FROM:
        return False
    rules = campaign_rules(
        campaign.recall_rules, campaign.max_attempts, campaign.retry_after_seconds
    )
    if outcome not in rules:
        return False
    zone_key, recycled_at = session.execute(
        select(col(Contact.zone_key), col(Contact.recycled_at)).where(col(Contact.id) == contact_id)
    ).one()
    # The ladder, like the budget below, counts from the contact's last recycle.
    same_outcome = session.execute(
        select(func.count()).where(
            col(Attempt.contact_id) == contact_id,
            col(Attempt.outcome) == outcome,
            *([] if recycled_at is None else [col(Attempt.started_at) >= recycled_at]),
        )
    ).scalar_one()
    wait = recall_wait(rules, outcome, same_outcome)
    if wait is None:
        return False
    due = callable_from(campaign, zone_key, now + wait)
    if campaign.end_at is not None and due >= _aware(campaign.end_at):
        return False
    # Calls since the contact was last recycled (dialer.ledger.recycle): a fresh budget.
    placed_calls = (
        select(func.count())
        .where(
            col(Attempt.contact_id) == contact_id,
            col(Attempt.result) == PLACED,
            or_(
                col(Contact.recycled_at).is_(None),
                col(Attempt.started_at) >= col(Contact.recycled_at),
            ),
        )
        .correlate(Contact)
        .scalar_subquery()
    )
    moved = session.execute(
        update(Contact)
        .where(
            col(Contact.id) == contact_id,
            col(Contact.state) == PLACED,
            placed_calls < campaign.max_attempts,
        )
        .values(state=ContactState.PENDING, next_attempt_at=due, state_changed_at=now)
        .returning(*ledger_counts.MOVED_COLUMNS)
    ).all()
    if not moved:
        return False
    ledger_counts.record(session, ledger_counts.moved(moved, old=PLACED, new=ContactState.PENDING))
    ledger_campaigns.set_status(
        session,
        campaign_id=campaign_id,
        expected=[CampaignStatus.COMPLETED],
        new=CampaignStatus.RUNNING,
        now=now,
        reason=f"reopened to call {outcome} contacts again",
    )
    return True


def _aware(moment: datetime) -> datetime:
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


@dataclass(frozen=True, slots=True)
class PollTarget:
    """A placed call whose outcome is not known yet, and the account that placed it."""

    attempt_id: int
    account: str
    provider_call_id: str
    key: str = ""
    """The attempt key, which names the call's place (dialer/capacity)."""


def attempts_to_poll(
    session: Session,
    *,
    started_after: Mapping[str, datetime],
    after_id: int = 0,
    limit: int,
) -> list[PollTarget]:
    """Up to ``limit`` placed attempts with a provider call id and no outcome yet, of the
    accounts in ``started_after`` and started after that account's instant (the provider's
    retention), with an id above ``after_id``; oldest first (by id)."""
    if not started_after or limit <= 0:
        return []
    windows = [
        and_(col(Attempt.account) == account, col(Attempt.started_at) >= since)
        for account, since in started_after.items()
    ]
    rows = session.execute(
        select(
            col(Attempt.id), col(Attempt.account), col(Attempt.provider_call_id), col(Attempt.key)
        )
        .where(
            col(Attempt.id) > after_id,
            col(Attempt.result) == PLACED,
            col(Attempt.outcome).is_(None),
            col(Attempt.provider_call_id).is_not(None),
            or_(*windows),
        )
        .order_by(col(Attempt.id))
        .limit(limit)
    ).all()
    return [PollTarget(attempt_id=i, account=a, provider_call_id=c, key=k) for i, a, c, k in rows]
