"""Reading and settling the outbox: claims for sending, each try's result, listing, resending,
and what ``/metrics`` reports. (Events are written by :mod:`dialer.ledger.outbox`.)

A sender claims due events of one endpoint by moving their ``next_try_at`` to the end of a
lease; a result is recorded only while that lease is still the event's, so a sender that
outlived its lease (another took the event over) changes nothing. A sender killed mid-send
leaves its events due again when the lease ends: sent again, with the same ``webhook-id``.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Collection, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import and_, bindparam, func, or_, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.sql.elements import ColumnElement
from sqlmodel import Session, col

from dialer.ledger.engine import rowcount
from dialer.models import Attempt, Campaign, Contact, WebhookCounter, WebhookEvent

PENDING, DELIVERED, DEAD = "pending", "delivered", "dead"
STATES = (PENDING, DELIVERED, DEAD)


def claim_due(
    session: Session, *, endpoint: str, now: datetime, limit: int, lease_until: datetime
) -> list[int]:
    """Up to ``limit`` pending events of ``endpoint`` due by ``now``, oldest due first, leased
    to the caller until ``lease_until``. Returns their ids; commit before sending."""
    if limit <= 0:
        return []
    due = (
        select(col(WebhookEvent.id))
        .where(
            col(WebhookEvent.state) == PENDING,
            col(WebhookEvent.endpoint) == endpoint,
            col(WebhookEvent.next_try_at) <= now,
        )
        .order_by(col(WebhookEvent.next_try_at), col(WebhookEvent.id))
        .limit(limit)
    )
    if session.get_bind().dialect.name == "postgresql":
        due = due.with_for_update(skip_locked=True)
    chosen = due.cte("chosen")
    result = session.execute(
        update(WebhookEvent)
        .where(col(WebhookEvent.id) == chosen.c.id, col(WebhookEvent.state) == PENDING)
        .values(next_try_at=lease_until)
        .returning(col(WebhookEvent.id))
    )
    return sorted(result.scalars())


@dataclass(frozen=True, slots=True)
class EventRecord:
    """An outbox event with what its payload tells: plain data, read in one query."""

    id: int
    endpoint: str
    message_id: str
    event_type: str
    status: str
    reason: str
    occurred_at: datetime
    tries: int
    first_tried_at: datetime | None
    campaign: dict[str, Any]
    contact: dict[str, Any] | None = None
    lead: dict[str, str] = field(default_factory=dict)
    call: dict[str, Any] | None = None


def load_events(session: Session, *, ids: Collection[int]) -> list[EventRecord]:
    """The events ``ids`` with their campaign, contact and attempt, in id order."""
    if not ids:
        return []
    rows = session.execute(
        select(WebhookEvent, Campaign, Contact, Attempt)
        .join(Campaign, col(Campaign.id) == col(WebhookEvent.campaign_id))
        .outerjoin(Contact, col(Contact.id) == col(WebhookEvent.contact_id))
        .outerjoin(Attempt, col(Attempt.id) == col(WebhookEvent.attempt_id))
        .where(col(WebhookEvent.id).in_(sorted(ids)))
        .order_by(col(WebhookEvent.id))
    ).all()
    return [_record(*row) for row in rows]


def _record(
    event: WebhookEvent, campaign: Campaign, contact: Contact | None, attempt: Attempt | None
) -> EventRecord:
    assert event.id is not None
    return EventRecord(
        id=event.id,
        endpoint=event.endpoint,
        message_id=event.message_id,
        event_type=event.event_type,
        status=event.status,
        reason=event.reason,
        occurred_at=aware(event.occurred_at),
        tries=event.tries,
        first_tried_at=aware(event.first_tried_at) if event.first_tried_at else None,
        campaign={"id": campaign.id, "name": campaign.name, "account": campaign.account},
        contact=None
        if contact is None
        else {"id": contact.id, "row": contact.row, "phone": contact.phone},
        lead={}
        if contact is None
        else {name: str(contact.variables.get(name, "")) for name in campaign.columns},
        call=None
        if attempt is None
        else {
            "attempt_id": attempt.key,
            "provider_call_id": attempt.provider_call_id,
            "http_status": attempt.http_status,
            "error": attempt.error,
            "outcome": attempt.outcome,
            "started_at": aware(attempt.started_at),
            "finished_at": aware(attempt.finished_at) if attempt.finished_at else None,
        },
    )


@dataclass(frozen=True, slots=True)
class TryResult:
    """How one try of one event ended. ``state``: pending (try again at ``next_try_at``),
    delivered or dead. ``lease``: the ``next_try_at`` the claim set."""

    event_id: int
    endpoint: str
    lease: datetime
    state: str
    http_status: int | None
    error: str
    next_try_at: datetime | None = None


COUNTED = {PENDING: "failed", DELIVERED: "delivered", DEAD: "dead"}
"""The ``result`` label of a try that left its event in this state."""


def record_tries(session: Session, *, results: Sequence[TryResult], now: datetime) -> int:
    """Record each try on its event, if the caller's lease still holds, and count it by
    endpoint and result. Returns how many events were updated. One statement for the events,
    one for the counters."""
    if not results:
        return 0
    connection = session.connection()
    updated = connection.execute(
        update(WebhookEvent)
        .where(
            col(WebhookEvent.id) == bindparam("b_id"),
            col(WebhookEvent.state) == PENDING,
            col(WebhookEvent.next_try_at) == bindparam("b_lease"),
        )
        .values(
            state=bindparam("b_state"),
            next_try_at=bindparam("b_next"),
            tries=col(WebhookEvent.tries) + 1,
            first_tried_at=func.coalesce(col(WebhookEvent.first_tried_at), now),
            last_tried_at=now,
            last_status=bindparam("b_status"),
            last_error=bindparam("b_error"),
            delivered_at=bindparam("b_delivered"),
        ),
        [
            {
                "b_id": r.event_id,
                "b_lease": r.lease,
                "b_state": r.state,
                "b_next": r.next_try_at if r.state == PENDING else None,
                "b_status": r.http_status,
                "b_error": r.error[:500],
                "b_delivered": now if r.state == DELIVERED else None,
            }
            for r in results
        ],
    )
    counts = Counter((r.endpoint, COUNTED[r.state]) for r in results)
    _count(session, counts)
    return rowcount(updated)


def _count(session: Session, counts: Counter[tuple[str, str]]) -> None:
    dialect = session.get_bind().dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    statement = insert(WebhookCounter)
    statement = statement.on_conflict_do_update(
        index_elements=["endpoint", "result"],
        set_={"count": col(WebhookCounter.count) + statement.excluded.count},
    )
    session.execute(
        statement,
        [{"endpoint": e, "result": r, "count": n} for (e, r), n in sorted(counts.items())],
    )


def hand_back(session: Session, *, ids: Collection[int], lease: datetime, due: datetime) -> int:
    """Events claimed under ``lease`` and not sent after all: due again at ``due``, no try
    counted. Returns how many were still the caller's."""
    if not ids:
        return 0
    result = session.execute(
        update(WebhookEvent)
        .where(
            col(WebhookEvent.id).in_(sorted(ids)),
            col(WebhookEvent.state) == PENDING,
            col(WebhookEvent.next_try_at) == lease,
        )
        .values(next_try_at=due)
    )
    return rowcount(result)


def list_events(
    session: Session, *, state: str | None = None, limit: int = 50
) -> list[WebhookEvent]:
    """The newest ``limit`` events, of ``state`` only when given."""
    query = select(WebhookEvent).order_by(col(WebhookEvent.id).desc()).limit(limit)
    if state is not None:
        query = query.where(col(WebhookEvent.state) == state)
    return list(session.execute(query).scalars())


def resend(
    session: Session, *, ids: Collection[int] = (), dead: bool = False, now: datetime
) -> list[int]:
    """Make events pending and due now, with a fresh retry budget: each of ``ids`` that is
    dead or delivered, and with ``dead`` every dead one. Returns the ids made pending."""
    chosen: list[ColumnElement[bool]] = []
    if ids:
        chosen.append(
            and_(col(WebhookEvent.id).in_(sorted(ids)), col(WebhookEvent.state) != PENDING)
        )
    if dead:
        chosen.append(col(WebhookEvent.state) == DEAD)
    if not chosen:
        return []
    result = session.execute(
        update(WebhookEvent)
        .where(or_(*chosen))
        .values(state=PENDING, next_try_at=now, tries=0, first_tried_at=None, delivered_at=None)
        .returning(col(WebhookEvent.id))
    )
    return sorted(result.scalars())


def oldest_undelivered(session: Session) -> datetime | None:
    """When the oldest pending event happened (None when every event is settled). One
    lookup at the start of the (state, occurred_at) index."""
    found = session.execute(
        select(func.min(WebhookEvent.occurred_at)).where(col(WebhookEvent.state) == PENDING)
    ).scalar_one()
    return aware(found) if found is not None else None


def delivery_counts(session: Session) -> dict[tuple[str, str], int]:
    """Tries so far by (endpoint, result): delivered, failed (to be tried again), dead."""
    rows = session.execute(
        select(col(WebhookCounter.endpoint), col(WebhookCounter.result), col(WebhookCounter.count))
    ).all()
    return {(endpoint, result): count for endpoint, result, count in rows}


def aware(moment: datetime) -> datetime:
    """Postgres returns aware instants, SQLite naive UTC ones."""
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


@dataclass(frozen=True, slots=True)
class WebhookMetrics:
    """``tries``: by (endpoint, result); ``oldest_undelivered_at``: see
    :func:`oldest_undelivered`."""

    tries: dict[tuple[str, str], int]
    oldest_undelivered_at: datetime | None


def webhook_metrics(session: Session) -> WebhookMetrics:
    """Two small reads: the counters' rows and one index lookup; no scan of the outbox."""
    return WebhookMetrics(delivery_counts(session), oldest_undelivered(session))
