"""The contact state machine's transitions (see :mod:`dialer.models`).

Every transition is one conditional ``UPDATE ... WHERE state = <expected>`` and returns whether
this caller won it, which is what makes claim, begin and finish safe to run twice, concurrently,
from any number of processes.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from operator import itemgetter
from typing import Any

from sqlalchemy import (
    BigInteger,
    Boolean,
    String,
    and_,
    bindparam,
    case,
    cast,
    exists,
    false,
    func,
    insert,
    literal,
    literal_column,
    or_,
    select,
    union_all,
    update,
)
from sqlalchemy.dialects import postgresql, sqlite
from sqlmodel import Session, col

from dialer import split
from dialer.ledger import counts, outbox
from dialer.ledger.counts import MOVED_COLUMNS, Deltas, moved, record
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
    ContactPhone,
    ContactState,
    Suppression,
)
from dialer.recalls import ClaimOrder
from dialer.redaction import ERROR_LIMIT, redact

PENDING, QUEUED, DIALING = ContactState.PENDING, ContactState.QUEUED, ContactState.DIALING


def claim_due(
    session: Session,
    *,
    campaign_id: int,
    zone_keys: Collection[str],
    now: datetime,
    limit: int,
    accounts: AccountFilter | None = None,
    order: ClaimOrder = ClaimOrder.INTERLEAVE,
) -> list[int]:
    """Move up to ``limit`` due contacts of a running campaign from ``pending`` to ``queued``.

    With ``accounts`` (a campaign over several), only the contacts those accounts may take.

    Due: pending, ``next_attempt_at`` passed (or unset), zone key among the open ``zone_keys``.
    Which first follows ``order``: never-called contacts (no ``next_attempt_at``) lowest id
    first, contacts due again (recalls, retries, rescheduled) by due time, and ``interleave``
    alternates the two. On Postgres the chosen rows are locked with SKIP LOCKED so concurrent
    ticks claim disjoint sets. Claimed contacts whose number is on a do-not-call list now are
    cancelled with :data:`SUPPRESSED_REASON` in the same transaction (a number listed after
    import is found when its contact comes up, not by a sweep). Returns the ids claimed and
    not cancelled; the caller commits before enqueueing them. The frequency cap and minimum
    gap are the caller's (:mod:`dialer.holds`): a held contact is put off, not skipped here
    at every tick.

    Each (zone key, never tried | due again) pair reads one range of ``ix_contact_claim``,
    at most ``limit`` entries: the cost follows the batch, not the campaign.
    """
    if not zone_keys or limit <= 0:
        return []
    ranges = []
    for zone_key in sorted(set(zone_keys)):
        same_zone = (
            col(Contact.campaign_id) == campaign_id,
            col(Contact.state) == PENDING,
            col(Contact.zone_key) == zone_key,
            *([] if accounts is None else [accounts.condition()]),
        )
        for kind, due in ((_FRESH, col(Contact.next_attempt_at).is_(None)), (_AGAIN, None)):
            where = due if due is not None else col(Contact.next_attempt_at) <= now
            ranges.append(
                select(col(Contact.id), col(Contact.next_attempt_at), literal(kind).label("kind"))
                .where(*same_zone, where)
                # By next_attempt_at too (all NULL for the fresh): Postgres follows an index's
                # order only past equality conditions, and ``IS NULL`` is not one.
                .order_by(col(Contact.next_attempt_at), col(Contact.id))
                .limit(limit)
            )
    found = union_all(*(r.subquery().select() for r in ranges)).subquery("found")
    rank = (
        func.row_number()
        .over(partition_by=found.c.kind, order_by=(found.c.next_attempt_at, found.c.id))
        .label("rank")
    )
    ranked = select(found.c.id, found.c.kind, rank).subquery("ranked")
    first = {
        ClaimOrder.FRESH_FIRST: (ranked.c.kind, ranked.c.rank),
        ClaimOrder.RECALLS_FIRST: (ranked.c.kind.desc(), ranked.c.rank),
        ClaimOrder.INTERLEAVE: (ranked.c.rank, ranked.c.kind),
    }[order]
    candidates = (
        select(col(Contact.id))
        .where(
            col(Contact.id).in_(select(ranked.c.id).order_by(*first).limit(limit)),
            col(Contact.state) == PENDING,
            exists().where(
                col(Campaign.id) == campaign_id, col(Campaign.status) == CampaignStatus.RUNNING
            ),
        )
        .order_by(col(Contact.id))
    )
    if session.get_bind().dialect.name == "postgresql":
        candidates = candidates.with_for_update(skip_locked=True)
    # A CTE, not ``id IN (subquery)``: Postgres may re-run an IN-subquery per outer row, and
    # with SKIP LOCKED each re-run finds the next rows, so the LIMIT would not hold.
    chosen = candidates.cte("chosen")
    claimed = session.execute(
        update(Contact)
        .where(col(Contact.id) == chosen.c.id, col(Contact.state) == PENDING)
        .values(state=QUEUED, state_changed_at=now)
        .returning(*MOVED_COLUMNS, col(Contact.id), _listed(campaign_id))
    ).all()
    deltas = moved(claimed, old=PENDING, new=QUEUED)
    listed = {r[3] for r in claimed if r[4]}
    if listed:
        cancelled = session.execute(
            update(Contact)
            .where(col(Contact.id).in_(sorted(listed)))
            .values(
                state=ContactState.CANCELLED, state_changed_at=now, last_error=SUPPRESSED_REASON
            )
            .returning(*MOVED_COLUMNS)
        )
        moved(cancelled, old=QUEUED, new=ContactState.CANCELLED, deltas=deltas)
    record(session, deltas)
    return sorted(r[3] for r in claimed if r[3] not in listed)


@dataclass(frozen=True, slots=True)
class AccountFilter:
    """Which contacts of a campaign over several accounts may be claimed: those assigned to
    one of ``accounts``, and those not assigned yet whose bucket (:mod:`dialer.split`) is in
    one of ``buckets`` (None: every one, when the campaign fails over)."""

    accounts: frozenset[str]
    buckets: tuple[tuple[int, int], ...] | None

    def condition(self) -> Any:
        unassigned: Any = col(Contact.account).is_(None)
        if self.buckets is not None:
            place = cast(col(Contact.id), BigInteger) * split.STEP % split.BUCKETS
            unassigned = and_(
                unassigned, or_(false(), *(place.between(lo, hi - 1) for lo, hi in self.buckets))
            )
        return or_(col(Contact.account).in_(sorted(self.accounts)), unassigned)


_FRESH, _AGAIN = 0, 1
"""A claim candidate's kind: never called, or due again."""


def _listed(campaign_id: int) -> Any:
    """Whether the contact's number is on the global or the campaign's do-not-call list: one
    probe of the suppression index per row, in the statement that reads the row."""
    # The contact's phone spelled with its table: SQLAlchemy writes SQLite's RETURNING columns
    # unqualified, and a bare ``phone`` inside the subquery would be the suppression's own.
    contact_phone = literal_column("contact.phone", String)
    return (
        exists()
        .where(
            col(Suppression.phone) == contact_phone,
            col(Suppression.campaign_id).in_([GLOBAL_SCOPE, campaign_id]),
        )
        .label("listed")
    )


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
    released = session.execute(
        update(Contact)
        .where(col(Contact.id).in_(sorted(contact_ids)), col(Contact.state) == QUEUED)
        .values(state=PENDING, state_changed_at=now)
        .returning(*MOVED_COLUMNS, col(Contact.id))
    ).all()
    record(session, moved(released, old=QUEUED, new=PENDING))
    return sorted(row[3] for row in released)


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
    deltas = Deltas()
    for state in sorted(set(expected)):
        rows = session.execute(
            update(Contact)
            .where(col(Contact.id).in_(sorted(contact_ids)), col(Contact.state) == state)
            .values(state=ContactState.CANCELLED, state_changed_at=now, last_error=reason)
            .returning(*MOVED_COLUMNS)
        )
        moved(rows, old=state, new=ContactState.CANCELLED, deltas=deltas)
    record(session, deltas)
    return sum(n for key, n in deltas.items() if key[1] == ContactState.CANCELLED)


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
    reassigned: bool = False
    """Its first attempt, on another account than its weighted one (failover)."""


def begin_attempts(
    session: Session, *, begins: Sequence[Begin], account: str, now: datetime
) -> dict[int, int]:
    """``queued`` → ``dialing`` and an attempt row for each contact that is still queued in a
    running campaign (re-read here, in the same statement, so a pause that lands while the
    caller waited for a rate-limit slot still holds), and not assigned to another account
    than ``account`` (at most one call per person across a campaign's accounts): each won
    contact is assigned ``account``. Returns {contact id: attempt id} of the contacts won; the
    others were taken by another worker, their campaign stopped or are another account's.

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
            or_(col(Contact.account).is_(None), col(Contact.account) == account),
            exists().where(
                col(Campaign.id) == col(Contact.campaign_id),
                col(Campaign.status) == CampaignStatus.RUNNING,
            ),
        )
        .values(
            state=DIALING,
            state_changed_at=now,
            attempts=col(Contact.attempts) + 1,
            account=account,
        )
        .returning(*MOVED_COLUMNS, col(Contact.id), col(Contact.phone))
    ).all()
    if not won:
        return {}
    record(connection, moved(won, old=QUEUED, new=DIALING))
    won_ids = {row[3] for row in won}
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
        for campaign_id, _zone, _outcome, contact_id, phone in sorted(won, key=itemgetter(3))
        if contact_id is not None
    ]
    waited = [
        wait
        for contact_id in by_contact
        if contact_id in won_ids and (wait := by_contact[contact_id].rate_wait_ms or 0) > 0
    ]
    counts.record_attempts(
        connection,
        Counter({(account, ""): len(rows)}),
        {account: (len(waited), sum(waited))},
    )
    reassigned = Counter(
        campaign_id
        for campaign_id, _zone, _outcome, contact_id, _phone in won
        if contact_id is not None and by_contact[contact_id].reassigned
    )
    for campaign_id, n in sorted(reassigned.items()):
        connection.execute(
            update(Campaign)
            .where(col(Campaign.id) == campaign_id)
            .values(reassigned=col(Campaign.reassigned) + n)
        )
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
    refunded: bool = False
    """The account was at fault, not the contact: this attempt does not spend its budget."""


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

    A contact back to ``pending`` with no call that may have been placed (none placed, none
    unknown) loses its account: nothing was called, so a campaign that fails over may send it
    to another account (:mod:`dialer.split`).
    """
    if not finishes:
        return
    connection = session.connection()  # Core, as in begin_attempts
    # What each attempt and contact is before: read with the rows locked (Postgres) or the
    # database's write lock taken (SQLite), so that the counts move exactly as they do.
    counts.lock_for_update(connection)
    attempts_before = (
        select(col(Attempt.id), col(Attempt.account), col(Attempt.result))
        .where(col(Attempt.id).in_(sorted({finish.attempt_id for finish in finishes})))
        .order_by(col(Attempt.id))  # locks taken in one order by every worker
    )
    if connection.dialect.name == "postgresql":
        attempts_before = attempts_before.with_for_update()
    results = {
        i: (account, result or "") for i, account, result in connection.execute(attempts_before)
    }
    attempt_deltas: Counter[counts.AttemptKey] = Counter()
    for finish in finishes:
        if finish.attempt_id in results:
            account, result = results[finish.attempt_id]
            attempt_deltas[(account, result)] -= 1
            attempt_deltas[(account, finish.result.state.value)] += 1
            results[finish.attempt_id] = (account, finish.result.state.value)
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
    before = (
        select(*MOVED_COLUMNS, col(Contact.id), col(Contact.state))
        .where(col(Contact.id).in_(sorted({finish.contact_id for finish in finishes})))
        .order_by(col(Contact.id))
    )
    if connection.dialect.name == "postgresql":
        before = before.with_for_update()
    current: dict[int | None, Any] = {row[3]: row for row in connection.execute(before)}
    deltas = Deltas()
    for finish in finishes:
        row = current.get(finish.contact_id)
        if row is not None and row[4] in ANSWERABLE_STATES:
            moved([row], old=row[4], new=finish.result.state, deltas=deltas)
            current[finish.contact_id] = (*row[:4], finish.result.state.value)
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
            attempts=col(Contact.attempts) - bindparam("b_refund"),
            # Keep the call id a contact already has when this answer carries none.
            provider_call_id=func.coalesce(bindparam("b_call_id"), col(Contact.provider_call_id)),
            account=case(
                (
                    and_(
                        bindparam("b_free", type_=Boolean),
                        col(Contact.provider_call_id).is_(None),
                        ~_may_have_called(),
                    ),
                    None,
                ),
                else_=col(Contact.account),
            ),
        ),
        [
            {
                "b_contact": finish.contact_id,
                "b_state": finish.result.state.value,
                "b_error": redact(finish.result.error, limit=ERROR_LIMIT),
                "b_next": finish.result.next_attempt_at,
                "b_call_id": finish.result.provider_call_id,
                "b_refund": int(finish.result.refunded),
                "b_free": finish.result.state == PENDING,
            }
            for finish in finishes
        ],
    )
    record(connection, deltas)
    counts.record_attempts(connection, attempt_deltas)
    outbox.calls_finished(session, attempt_ids=[f.attempt_id for f in finishes], now=now)


def _may_have_called() -> Any:
    """Whether an attempt of the contact (in the statement's row) placed a call or may have."""
    contact_id = literal_column("contact.id", BigInteger)
    return exists().where(
        col(Attempt.contact_id) == contact_id,
        # Not IN (...): an expanding list cannot go in an executemany statement.
        or_(
            col(Attempt.result) == literal_column(f"'{ContactState.PLACED.value}'"),
            col(Attempt.result) == literal_column(f"'{ContactState.UNKNOWN.value}'"),
        ),
    )


def reap(
    session: Session, *, now: datetime, queued_timeout: float, dialing_timeout: float
) -> tuple[int, int]:
    """Return lost claims to ``pending`` and turn stuck ``dialing`` contacts into ``unknown``.

    Queued longer than ``queued_timeout`` seconds: the task never began (lost in the broker), so
    nothing was sent and the contact may be dialed again. Dialing longer than ``dialing_timeout``:
    the worker died after the request may have left, so the call is ``unknown`` — never redialed
    automatically. Returns (returned to pending, marked unknown).

    Only campaigns whose counts hold queued or dialing contacts are looked at, each through
    its (campaign, state) range of ``ix_contact_claim``: the cost follows what is in flight.
    """
    busy = counts.campaigns_with(session, states=[QUEUED, DIALING])
    if not busy:
        return 0, 0
    in_busy = col(Contact.campaign_id).in_(busy)
    deltas = Deltas()
    returned = counts.move_all(
        session,
        update(Contact)
        .where(
            in_busy,
            col(Contact.state) == QUEUED,
            col(Contact.state_changed_at) < now - timedelta(seconds=queued_timeout),
        )
        .values(state=PENDING, state_changed_at=now),
        old=QUEUED,
        new=PENDING,
        deltas=deltas,
    )
    stuck_before = now - timedelta(seconds=dialing_timeout)
    stuck_ids = list(
        session.execute(
            select(col(Contact.id)).where(
                in_busy, col(Contact.state) == DIALING, col(Contact.state_changed_at) < stuck_before
            )
        ).scalars()
    )
    error = "no answer recorded before the dialing timeout (worker lost?)"
    unknown = 0
    if stuck_ids:
        unknown = counts.move_all(
            session,
            update(Contact)
            .where(col(Contact.id).in_(stuck_ids), col(Contact.state) == DIALING)
            .values(state=ContactState.UNKNOWN, state_changed_at=now, last_error=error),
            old=DIALING,
            new=ContactState.UNKNOWN,
            deltas=deltas,
        )
        lost = session.execute(
            update(Attempt)
            .where(col(Attempt.contact_id).in_(stuck_ids), col(Attempt.finished_at).is_(None))
            .values(result=ContactState.UNKNOWN, error=error, finished_at=now)
            .returning(col(Attempt.account), col(Attempt.result))
        ).all()
        # Only begin_attempts leaves an attempt unfinished, and it leaves it without a result.
        lost_deltas: Counter[counts.AttemptKey] = Counter()
        for account, _result in lost:
            lost_deltas[(account, "")] -= 1
            lost_deltas[(account, ContactState.UNKNOWN.value)] += 1
        counts.record_attempts(session, lost_deltas)
        outbox.calls_unknown(session, contact_ids=stuck_ids, now=now)
    record(session, deltas)
    return returned, unknown


@dataclass(frozen=True, slots=True)
class Backlog:
    """What a campaign (or set of campaigns) still has to do, for ``--drain`` and status."""

    in_flight: int
    backing_off: int


def backlog(session: Session, *, campaign_ids: Sequence[int], now: datetime) -> Backlog:
    """Counts across ``campaign_ids``: in flight, and pending in a retry backoff.

    Pending contacts are read per zone key (from the counts), each a range of
    ``ix_contact_claim``: a retry backoff costs what is backing off, not the campaign."""
    if not campaign_ids:
        return Backlog(0, 0)
    pending = counts.counts(session, campaign_ids=campaign_ids, states=[PENDING])
    backing_off = 0
    # A backoff, a recall or a contact put off (dialer.holds) sets next_attempt_at; a
    # refunded attempt (dialer/capacity) may leave a contact backing off with no attempt
    # counted.
    for campaign_id, zone_key in sorted({(c, z) for c, _state, z, _outcome in pending}):
        backing_off += session.execute(
            select(func.count()).where(
                col(Contact.campaign_id) == campaign_id,
                col(Contact.state) == PENDING,
                col(Contact.zone_key) == zone_key,
                col(Contact.next_attempt_at) > now,
            )
        ).scalar_one()
    busy = in_flight(session, campaign_ids=campaign_ids)
    return Backlog(in_flight=busy, backing_off=backing_off)


def in_flight(session: Session, *, campaign_ids: Collection[int]) -> int:
    """How many contacts of ``campaign_ids`` are claimed or being dialed (queued, dialing)."""
    return counts.total(session, campaign_ids=campaign_ids, states=sorted(IN_FLIGHT_STATES))


def has_open_contacts(session: Session, *, campaign_id: int) -> bool:
    """True while any contact of the campaign is not in a final state."""
    return counts.total(session, campaign_ids=[campaign_id], states=sorted(OPEN_STATES)) > 0


SUPPRESSED_REASON = "suppressed (do-not-call list)"

PROVIDER_SOURCE = "provider"
"""The ``source`` of a number a provider's answer proved cannot be called."""


def cancel_listed(
    session: Session, *, phones: Collection[str], now: datetime, campaign_id: int = GLOBAL_SCOPE
) -> int:
    """Pending contacts whose number was just put on a do-not-call list → ``cancelled`` with
    :data:`SUPPRESSED_REASON`: in every campaign for the global list, else in ``campaign_id``.

    The list changing is the event; a contact claimed meanwhile is caught by the claim's own
    check (:func:`claim_due`). Looked up by (campaign, phone) in ``contact_phone``, for the
    campaigns that have pending contacts at all: the cost follows the numbers listed.
    Returns how many.
    """
    if campaign_id == GLOBAL_SCOPE:
        scope = counts.campaigns_with(session, states=[PENDING])
    else:
        scope = [campaign_id]
    listed = sorted(set(phones))
    if not scope or not listed:
        return 0
    deltas = Deltas()
    cancelled = 0
    for start in range(0, len(listed), 5000):
        cancelled += counts.move_all(
            session,
            update(Contact)
            .where(
                col(Contact.id).in_(
                    select(col(ContactPhone.contact_id)).where(
                        col(ContactPhone.campaign_id).in_(scope),
                        col(ContactPhone.phone).in_(listed[start : start + 5000]),
                    )
                ),
                col(Contact.state) == PENDING,
            )
            .values(
                state=ContactState.CANCELLED, state_changed_at=now, last_error=SUPPRESSED_REASON
            ),
            old=PENDING,
            new=ContactState.CANCELLED,
            deltas=deltas,
        )
    record(session, deltas)
    return cancelled


def list_bad_numbers(session: Session, *, reasons: Mapping[str, str], now: datetime) -> int:
    """Put the numbers a provider's answer proved cannot be called ({phone: the provider's
    words}) on the global do-not-call list with source :data:`PROVIDER_SOURCE` and those words
    (masked again) as the reason, and cancel the pending contacts of every campaign that has
    them (:func:`cancel_listed`); a number already listed keeps its
    entry. Safe against a concurrent listing of the same number. Returns how many were added.
    """
    if not reasons:
        return 0
    rows = [
        {
            "phone": phone,
            "campaign_id": GLOBAL_SCOPE,
            "source": PROVIDER_SOURCE,
            "reason": redact(reason, limit=ERROR_LIMIT),
            "created_at": now,
        }
        for phone, reason in sorted(reasons.items())
    ]
    dialect = postgresql if session.get_bind().dialect.name == "postgresql" else sqlite
    added = session.execute(
        dialect.insert(Suppression)
        .values(rows)
        .on_conflict_do_nothing(index_elements=["phone", "campaign_id"])
        .returning(col(Suppression.phone))
    ).all()
    cancel_listed(session, phones=list(reasons), now=now)
    return len(added)


def cancel_open_contacts(session: Session, *, campaign_id: int, now: datetime, reason: str) -> int:
    """Every pending or queued contact of the campaign → ``cancelled`` (campaign cancel/end).

    ``dialing`` contacts are left to finish: their request is already on the wire.
    """
    deltas = Deltas()
    cancelled = 0
    for state in sorted(NOT_BEGUN_STATES):
        cancelled += counts.move_all(
            session,
            update(Contact)
            .where(col(Contact.campaign_id) == campaign_id, col(Contact.state) == state)
            .values(state=ContactState.CANCELLED, state_changed_at=now, last_error=reason),
            old=state,
            new=ContactState.CANCELLED,
            deltas=deltas,
        )
    record(session, deltas)
    return cancelled


def has_due(session: Session, *, campaign_id: int, now: datetime) -> bool:
    """True when a pending contact of the campaign is due now (its backoff, if any, passed):
    whether a tick that claimed nothing for want of capacity left work behind."""
    query = select(col(Contact.id)).where(
        col(Contact.campaign_id) == campaign_id,
        col(Contact.state) == PENDING,
        or_(col(Contact.next_attempt_at).is_(None), col(Contact.next_attempt_at) <= now),
    )
    return session.execute(query.limit(1)).first() is not None
