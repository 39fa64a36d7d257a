"""The contact state machine's transitions (see :mod:`dialer.models`).

Every transition is one conditional ``UPDATE ... WHERE state = <expected>`` and returns whether
this caller won it, which is what makes claim, begin and finish safe to run twice, concurrently,
from any number of processes.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import and_, exists, func, insert, literal, or_, select, update
from sqlmodel import Session, col

from dialer.ledger.engine import rowcount
from dialer.models import (
    GLOBAL_SCOPE,
    Attempt,
    Campaign,
    CampaignStatus,
    Contact,
    ContactState,
    Suppression,
)

PENDING, QUEUED, DIALING = ContactState.PENDING, ContactState.QUEUED, ContactState.DIALING


def claim_due(
    session: Session,
    *,
    campaign_id: int,
    zone_keys: Collection[str],
    now: datetime,
    limit: int,
    frequency_cap: int = 0,
) -> list[int]:
    """Move up to ``limit`` due contacts of a running campaign from ``pending`` to ``queued``.

    Due: pending, ``next_attempt_at`` passed (or unset), zone key among the open ``zone_keys``,
    not suppressed, and fewer than ``frequency_cap`` placed calls to the number in the last
    24 h across all campaigns (0 = no cap). One statement; on Postgres the candidate rows are
    locked with SKIP LOCKED so concurrent ticks claim disjoint sets. Returns the claimed ids;
    the caller commits before enqueueing them.
    """
    if not zone_keys or limit <= 0:
        return []
    candidates = (
        select(col(Contact.id))
        .where(
            col(Contact.campaign_id) == campaign_id,
            col(Contact.state) == PENDING,
            or_(col(Contact.next_attempt_at).is_(None), col(Contact.next_attempt_at) <= now),
            col(Contact.zone_key).in_(list(zone_keys)),
            ~exists().where(
                col(Suppression.phone) == col(Contact.phone),
                col(Suppression.campaign_id).in_([GLOBAL_SCOPE, campaign_id]),
            ),
            exists().where(
                col(Campaign.id) == campaign_id, col(Campaign.status) == CampaignStatus.RUNNING
            ),
        )
        .order_by(col(Contact.id))
        .limit(limit)
    )
    if frequency_cap > 0:
        placed_recently = (
            select(func.count())
            .where(
                col(Attempt.phone) == col(Contact.phone),
                col(Attempt.result) == ContactState.PLACED,
                col(Attempt.started_at) > now - timedelta(hours=24),
            )
            .correlate(Contact)
            .scalar_subquery()
        )
        candidates = candidates.where(placed_recently < frequency_cap)
    if session.get_bind().dialect.name == "postgresql":
        candidates = candidates.with_for_update(skip_locked=True)
    # A CTE, not ``id IN (subquery)``: Postgres may re-run an IN-subquery per outer row, and
    # with SKIP LOCKED each re-run finds the next rows, so the LIMIT would not hold.
    chosen = candidates.cte("chosen")
    result = session.execute(
        update(Contact)
        .where(col(Contact.id) == chosen.c.id, col(Contact.state) == PENDING)
        .values(state=QUEUED, state_changed_at=now)
        .returning(col(Contact.id))
    )
    return sorted(result.scalars())


@dataclass(frozen=True, slots=True)
class Dispatchable:
    """A queued contact and its campaign, read together when a task begins."""

    contact: Contact
    campaign: Campaign


def load_for_dispatch(session: Session, *, contact_id: int) -> Dispatchable | None:
    row = session.execute(
        select(Contact, Campaign)
        .join(Campaign, col(Campaign.id) == col(Contact.campaign_id))
        .where(col(Contact.id) == contact_id)
    ).first()
    return None if row is None else Dispatchable(contact=row[0], campaign=row[1])


def release_claim(
    session: Session, *, contact_id: int, now: datetime, next_attempt_at: datetime | None = None
) -> bool:
    """``queued`` → ``pending``: the task will not dial now (paused, window closed...)."""
    values: dict[str, object] = {"state": PENDING, "state_changed_at": now}
    if next_attempt_at is not None:
        values["next_attempt_at"] = next_attempt_at
    result = session.execute(
        update(Contact)
        .where(col(Contact.id) == contact_id, col(Contact.state) == QUEUED)
        .values(**values)
    )
    return rowcount(result) == 1


def cancel_contact(
    session: Session,
    *,
    contact_id: int,
    now: datetime,
    reason: str,
    expected: Collection[str] = (QUEUED,),
) -> bool:
    """Move one contact to ``cancelled`` (e.g. suppressed after import) with the reason."""
    result = session.execute(
        update(Contact)
        .where(col(Contact.id) == contact_id, col(Contact.state).in_(list(expected)))
        .values(state=ContactState.CANCELLED, state_changed_at=now, last_error=reason)
    )
    return rowcount(result) == 1


def begin_attempt(
    session: Session, *, contact_id: int, account: str, attempt_key: str, now: datetime
) -> Attempt | None:
    """``queued`` → ``dialing`` and the attempt row, or None when another worker won or the
    campaign is no longer running (re-read here, in the same statement, so a pause that lands
    while the caller waited for a rate-limit token still holds).

    The caller must commit before sending the request: that commit is guarantee 1.
    """
    # Core statements on the session's connection: every call runs this and finish_attempt,
    # and through the ORM's bulk-update path they took about a third more CPU.
    connection = session.connection()
    result = connection.execute(
        update(Contact)
        .where(
            col(Contact.id) == contact_id,
            col(Contact.state) == QUEUED,
            exists().where(
                col(Campaign.id) == col(Contact.campaign_id),
                col(Campaign.status) == CampaignStatus.RUNNING,
            ),
        )
        .values(state=DIALING, state_changed_at=now, attempts=col(Contact.attempts) + 1)
        .returning(col(Contact.campaign_id), col(Contact.phone))
    )
    won = result.first()
    if won is None:
        return None
    attempt = Attempt(
        key=attempt_key,
        contact_id=contact_id,
        campaign_id=won[0],
        account=account,
        phone=won[1],
        started_at=now,
    )
    attempt.id = connection.execute(
        insert(Attempt)
        .values(attempt.model_dump(exclude={"id"}, exclude_unset=True))
        .returning(col(Attempt.id))
    ).scalar_one()
    return attempt


@dataclass(frozen=True, slots=True)
class AttemptResult:
    """What an attempt led to: the contact's next state and what the provider said."""

    state: ContactState
    http_status: int | None = None
    provider_call_id: str | None = None
    error: str = ""
    body: str = ""
    latency_ms: int | None = None
    next_attempt_at: datetime | None = None


_FINISHABLE = (DIALING, ContactState.UNKNOWN)


def finish_attempt(
    session: Session, *, attempt_id: int, contact_id: int, result: AttemptResult, now: datetime
) -> bool:
    """Record the provider's answer on the attempt and move the contact out of ``dialing``.

    Also accepted from ``unknown``: a late answer that proves what happened is better than the
    reaper's guess. Returns whether the contact moved.
    """
    connection = session.connection()  # Core, as in begin_attempt
    connection.execute(
        update(Attempt)
        .where(col(Attempt.id) == attempt_id)
        .values(
            finished_at=now,
            result=result.state,
            http_status=result.http_status,
            provider_call_id=result.provider_call_id,
            error=result.error,
            response_body=result.body[:2000],
            latency_ms=result.latency_ms,
        )
    )
    values: dict[str, object] = {
        "state": result.state,
        "state_changed_at": now,
        "last_error": result.error,
        "next_attempt_at": result.next_attempt_at,
    }
    if result.provider_call_id is not None:
        values["provider_call_id"] = result.provider_call_id
    moved = connection.execute(
        update(Contact)
        .where(col(Contact.id) == contact_id, col(Contact.state).in_(_FINISHABLE))
        .values(**values)
    )
    return rowcount(moved) == 1


def reap(
    session: Session, *, now: datetime, queued_timeout: float, dialing_timeout: float
) -> tuple[int, int]:
    """Return lost claims to ``pending`` and turn stuck ``dialing`` contacts into ``unknown``.

    Queued longer than ``queued_timeout`` seconds: the task never began (lost in the broker), so
    nothing was sent and the contact may be dialed again. Dialing longer than ``dialing_timeout``:
    the worker died after the request may have left, so the call is ``unknown`` — never redialed
    automatically. Returns (returned to pending, marked unknown).
    """
    queued = session.execute(
        update(Contact)
        .where(
            col(Contact.state) == QUEUED,
            col(Contact.state_changed_at) < now - timedelta(seconds=queued_timeout),
        )
        .values(state=PENDING, state_changed_at=now)
    )
    stuck_before = now - timedelta(seconds=dialing_timeout)
    stuck_ids = list(
        session.execute(
            select(col(Contact.id)).where(
                col(Contact.state) == DIALING, col(Contact.state_changed_at) < stuck_before
            )
        ).scalars()
    )
    error = "no answer recorded before the dialing timeout (worker lost?)"
    unknown = 0
    if stuck_ids:
        unknown = rowcount(
            session.execute(
                update(Contact)
                .where(col(Contact.id).in_(stuck_ids), col(Contact.state) == DIALING)
                .values(state=ContactState.UNKNOWN, state_changed_at=now, last_error=error)
            )
        )
        session.execute(
            update(Attempt)
            .where(col(Attempt.contact_id).in_(stuck_ids), col(Attempt.finished_at).is_(None))
            .values(result=ContactState.UNKNOWN, error=error, finished_at=now)
        )
    return rowcount(queued), unknown


@dataclass(frozen=True, slots=True)
class Backlog:
    """What a campaign (or set of campaigns) still has to do, for ``--drain`` and status."""

    in_flight: int
    due_now: int
    backing_off: int


def backlog(session: Session, *, campaign_ids: Sequence[int], now: datetime) -> Backlog:
    """Counts across ``campaign_ids``: in flight, pending and due, pending in a retry backoff."""
    if not campaign_ids:
        return Backlog(0, 0, 0)
    in_campaigns = col(Contact.campaign_id).in_(list(campaign_ids))
    pending = and_(in_campaigns, col(Contact.state) == PENDING)
    due = session.execute(
        select(func.count()).where(
            pending,
            or_(col(Contact.next_attempt_at).is_(None), col(Contact.next_attempt_at) <= now),
        )
    ).scalar_one()
    backing_off = session.execute(
        select(func.count()).where(
            pending, col(Contact.attempts) > 0, col(Contact.next_attempt_at) > now
        )
    ).scalar_one()
    busy = in_flight(session, campaign_ids=campaign_ids)
    return Backlog(in_flight=busy, due_now=due, backing_off=backing_off)


def in_flight(session: Session, *, campaign_ids: Collection[int]) -> int:
    """How many contacts of ``campaign_ids`` are claimed or being dialed (queued, dialing)."""
    if not campaign_ids:
        return 0
    query = select(func.count()).where(
        col(Contact.campaign_id).in_(list(campaign_ids)), col(Contact.state).in_([QUEUED, DIALING])
    )
    return int(session.execute(query).scalar_one())


def has_open_contacts(session: Session, *, campaign_id: int) -> bool:
    """True while any contact of the campaign is not in a final state."""
    query = select(literal(1)).where(
        col(Contact.campaign_id) == campaign_id,
        col(Contact.state).in_([PENDING, QUEUED, DIALING]),
    )
    return session.execute(query.limit(1)).first() is not None


def cancel_suppressed(session: Session, *, campaign_id: int, now: datetime) -> int:
    """Pending contacts whose number is now on a do-not-call list → ``cancelled``, so a number
    suppressed after import ends final with its reason instead of waiting forever."""
    result = session.execute(
        update(Contact)
        .where(
            col(Contact.campaign_id) == campaign_id,
            col(Contact.state) == PENDING,
            exists().where(
                col(Suppression.phone) == col(Contact.phone),
                col(Suppression.campaign_id).in_([GLOBAL_SCOPE, campaign_id]),
            ),
        )
        .values(
            state=ContactState.CANCELLED,
            state_changed_at=now,
            last_error=SUPPRESSED_REASON,
        )
    )
    return rowcount(result)


SUPPRESSED_REASON = "suppressed (do-not-call list)"


def cancel_open_contacts(session: Session, *, campaign_id: int, now: datetime, reason: str) -> int:
    """Every pending or queued contact of the campaign → ``cancelled`` (campaign cancel/end).

    ``dialing`` contacts are left to finish: their request is already on the wire.
    """
    result = session.execute(
        update(Contact)
        .where(col(Contact.campaign_id) == campaign_id, col(Contact.state).in_([PENDING, QUEUED]))
        .values(state=ContactState.CANCELLED, state_changed_at=now, last_error=reason)
    )
    return rowcount(result)
