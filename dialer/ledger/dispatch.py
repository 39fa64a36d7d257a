"""The contact state machine's transitions (see :mod:`dialer.models`).

Every transition is one conditional ``UPDATE ... WHERE state = <expected>`` and returns whether
this caller won it, which is what makes claim, begin and finish safe to run twice, concurrently,
from any number of processes.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from operator import itemgetter

from sqlalchemy import and_, bindparam, exists, func, insert, literal, or_, select, update
from sqlmodel import Session, col

from dialer.ledger.engine import rowcount
from dialer.models import (
    ANSWERABLE_STATES,
    GLOBAL_SCOPE,
    IN_FLIGHT_STATES,
    NOT_BEGUN_STATES,
    OPEN_STATES,
    Attempt,
    Campaign,
    CampaignStatus,
    Contact,
    ContactState,
    Suppression,
)
from dialer.redaction import ERROR_LIMIT, redact

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

    @property
    def contact_id(self) -> int:
        assert self.contact.id is not None  # read from the database: always set
        return self.contact.id


def load_for_dispatch(session: Session, *, contact_ids: Collection[int]) -> list[Dispatchable]:
    """The contacts of ``contact_ids`` that exist, each with its campaign, in id order."""
    if not contact_ids:
        return []
    contacts = session.execute(
        select(Contact).where(col(Contact.id).in_(sorted(contact_ids))).order_by(col(Contact.id))
    ).scalars()
    found = list(contacts)
    # Campaigns apart, once each: joined, every contact's row would carry (and the driver
    # decode) its campaign's templates again.
    ids = sorted({contact.campaign_id for contact in found})
    campaigns = {
        campaign.id: campaign
        for campaign in session.execute(select(Campaign).where(col(Campaign.id).in_(ids))).scalars()
    }
    return [Dispatchable(contact=c, campaign=campaigns[c.campaign_id]) for c in found]


def release_claims(session: Session, *, contact_ids: Collection[int], now: datetime) -> list[int]:
    """``queued`` → ``pending`` for each of ``contact_ids`` still queued: their task will not
    dial them now (paused, window closed, stopping...). Returns the ids released."""
    if not contact_ids:
        return []
    result = session.execute(
        update(Contact)
        .where(col(Contact.id).in_(sorted(contact_ids)), col(Contact.state) == QUEUED)
        .values(state=PENDING, state_changed_at=now)
        .returning(col(Contact.id))
    )
    return sorted(result.scalars())


def cancel_contacts(
    session: Session,
    *,
    contact_ids: Collection[int],
    now: datetime,
    reason: str,
    expected: Collection[str] = (QUEUED,),
) -> int:
    """Move contacts to ``cancelled`` (e.g. suppressed after import) with the reason; returns
    how many were in an ``expected`` state and moved."""
    if not contact_ids:
        return 0
    result = session.execute(
        update(Contact)
        .where(col(Contact.id).in_(sorted(contact_ids)), col(Contact.state).in_(list(expected)))
        .values(state=ContactState.CANCELLED, state_changed_at=now, last_error=reason)
    )
    return rowcount(result)


def suppressed_among(session: Session, *, campaign_id: int, phones: Collection[str]) -> set[str]:
    """Which of ``phones`` are on the global or the campaign's do-not-call list now."""
    if not phones:
        return set()
    query = select(col(Suppression.phone)).where(
        col(Suppression.phone).in_(sorted(set(phones))),
        col(Suppression.campaign_id).in_([GLOBAL_SCOPE, campaign_id]),
    )
    return set(session.execute(query).scalars())


@dataclass(frozen=True, slots=True)
class Begin:
    """One contact about to be dialed: the attempt key sent to the provider, and how long its
    request waited for the account's rate limit."""

    contact_id: int
    attempt_key: str
    rate_wait_ms: int | None = None


def begin_attempts(
    session: Session, *, begins: Sequence[Begin], account: str, now: datetime
) -> dict[int, int]:
    """``queued`` → ``dialing`` and an attempt row for each contact that is still queued in a
    running campaign (re-read here, in the same statement, so a pause that lands while the
    caller waited for a rate-limit slot still holds). Returns {contact id: attempt id} of the
    contacts won; the others were taken by another worker or their campaign stopped.

    Two statements whatever the number of contacts. The caller must commit before sending
    any request: that commit is guarantee 1.
    """
    if not begins:
        return {}
    # Core statements on the session's connection: the ORM's bulk paths cost about a third
    # more CPU, and every call runs these.
    connection = session.connection()
    by_contact = {begin.contact_id: begin for begin in begins}
    won = connection.execute(
        update(Contact)
        .where(
            col(Contact.id).in_(sorted(by_contact)),
            col(Contact.state) == QUEUED,
            exists().where(
                col(Campaign.id) == col(Contact.campaign_id),
                col(Campaign.status) == CampaignStatus.RUNNING,
            ),
        )
        .values(state=DIALING, state_changed_at=now, attempts=col(Contact.attempts) + 1)
        .returning(col(Contact.id), col(Contact.campaign_id), col(Contact.phone))
    ).all()
    if not won:
        return {}
    rows = [
        {
            "key": by_contact[contact_id].attempt_key,
            "contact_id": contact_id,
            "campaign_id": campaign_id,
            "account": account,
            "phone": phone,
            "started_at": now,
            "rate_wait_ms": by_contact[contact_id].rate_wait_ms,
            "error": "",
            "response_body": "",
        }
        for contact_id, campaign_id, phone in sorted(won, key=itemgetter(0))
        if contact_id is not None
    ]
    inserted = connection.execute(
        insert(Attempt).returning(
            col(Attempt.contact_id), col(Attempt.id), sort_by_parameter_order=True
        ),
        rows,
    )
    return {
        contact_id: attempt_id
        for contact_id, attempt_id in inserted
        if attempt_id is not None  # always: the id is the primary key
    }


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


@dataclass(frozen=True, slots=True)
class Finish:
    """One attempt's answer, to record: see :func:`finish_attempts`."""

    attempt_id: int
    contact_id: int
    result: AttemptResult


def finish_attempts(session: Session, *, finishes: Sequence[Finish], now: datetime) -> None:
    """Record each provider answer on its attempt and move its contact out of ``dialing``.

    Also accepted from ``unknown``: a late answer that proves what happened is better than the
    reaper's guess; from any other state (cancelled, say) the contact keeps it. Two
    statements, each run for every row at once.
    """
    if not finishes:
        return
    connection = session.connection()  # Core, as in begin_attempts
    connection.execute(
        update(Attempt)
        .where(col(Attempt.id) == bindparam("b_attempt"))
        .values(
            finished_at=now,
            result=bindparam("b_state"),
            http_status=bindparam("b_status"),
            provider_call_id=bindparam("b_call_id"),
            error=bindparam("b_error"),
            response_body=bindparam("b_body"),
            latency_ms=bindparam("b_latency"),
        ),
        [
            {
                "b_attempt": finish.attempt_id,
                "b_state": finish.result.state.value,
                "b_status": finish.result.http_status,
                "b_call_id": finish.result.provider_call_id,
                "b_error": redact(finish.result.error, limit=ERROR_LIMIT),
                "b_body": redact(finish.result.body, limit=2000),
                "b_latency": finish.result.latency_ms,
            }
            for finish in finishes
        ],
    )
    connection.execute(
        update(Contact)
        .where(
            col(Contact.id) == bindparam("b_contact"),
            or_(*(col(Contact.state) == state for state in sorted(ANSWERABLE_STATES))),
        )
        .values(
            state=bindparam("b_state"),
            state_changed_at=now,
            last_error=bindparam("b_error"),
            next_attempt_at=bindparam("b_next"),
            # Keep the call id a contact already has when this answer carries none.
            provider_call_id=func.coalesce(bindparam("b_call_id"), col(Contact.provider_call_id)),
        ),
        [
            {
                "b_contact": finish.contact_id,
                "b_state": finish.result.state.value,
                "b_error": redact(finish.result.error, limit=ERROR_LIMIT),
                "b_next": finish.result.next_attempt_at,
                "b_call_id": finish.result.provider_call_id,
            }
            for finish in finishes
        ],
    )


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
    backing_off: int


def backlog(session: Session, *, campaign_ids: Sequence[int], now: datetime) -> Backlog:
    """Counts across ``campaign_ids``: in flight, and pending in a retry backoff."""
    if not campaign_ids:
        return Backlog(0, 0)
    in_campaigns = col(Contact.campaign_id).in_(list(campaign_ids))
    pending = and_(in_campaigns, col(Contact.state) == PENDING)
    backing_off = session.execute(
        select(func.count()).where(
            pending, col(Contact.attempts) > 0, col(Contact.next_attempt_at) > now
        )
    ).scalar_one()
    busy = in_flight(session, campaign_ids=campaign_ids)
    return Backlog(in_flight=busy, backing_off=backing_off)


def in_flight(session: Session, *, campaign_ids: Collection[int]) -> int:
    """How many contacts of ``campaign_ids`` are claimed or being dialed (queued, dialing)."""
    if not campaign_ids:
        return 0
    query = select(func.count()).where(
        col(Contact.campaign_id).in_(list(campaign_ids)),
        col(Contact.state).in_(sorted(IN_FLIGHT_STATES)),
    )
    return int(session.execute(query).scalar_one())


def has_open_contacts(session: Session, *, campaign_id: int) -> bool:
    """True while any contact of the campaign is not in a final state."""
    query = select(literal(1)).where(
        col(Contact.campaign_id) == campaign_id,
        col(Contact.state).in_(sorted(OPEN_STATES)),
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
        .where(
            col(Contact.campaign_id) == campaign_id,
            col(Contact.state).in_(sorted(NOT_BEGUN_STATES)),
        )
        .values(state=ContactState.CANCELLED, state_changed_at=now, last_error=reason)
    )
    return rowcount(result)
