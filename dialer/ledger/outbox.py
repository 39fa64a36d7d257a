"""Writing the outbox: the events a transition makes true, in the transition's transaction.

Each function takes the session of the transition and the ids it changed, and writes, in one
``INSERT ... SELECT`` whatever the number of rows, one ``webhook_event`` row per event and
subscribed endpoint (``webhook_subscription``: none subscribed, none written). A rollback of
the transition takes its events with it; a commit makes them durable before anyone is told.

The ``webhook-id`` of a call's event is made of the attempt's key (a UUID) and the event, so
the same event written twice (a replayed answer) is one row: the insert skips it. A campaign
event gets a fresh id: each pause is news.
"""

from __future__ import annotations

import secrets
from collections.abc import Collection, Mapping
from datetime import datetime
from typing import Any

from sqlalchemy import Select, String, cast, delete, literal, select, tuple_
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.sql.elements import ColumnElement
from sqlmodel import Session, col

from dialer.models import Attempt, Campaign, WebhookEvent, WebhookSubscription
from dialer.webhooks.events import CALL_RESULT_EVENTS, CAMPAIGN_STATUS_EVENTS, EventType

PENDING = "pending"

_COLUMNS = (
    "endpoint",
    "message_id",
    "event_type",
    "campaign_id",
    "contact_id",
    "attempt_id",
    "status",
    "reason",
    "occurred_at",
    "state",
    "next_try_at",
    "tries",
    "last_error",
)
_CALL_PREFIX = "call."


def calls_finished(session: Session, *, attempt_ids: Collection[int], now: datetime) -> None:
    """``call.placed``/``call.failed``/``call.unknown`` for each of ``attempt_ids`` whose
    recorded result is one (a retry's ``pending`` is none)."""
    if not attempt_ids:
        return
    _call_events(
        session,
        col(Attempt.id).in_(sorted(attempt_ids)),
        col(Attempt.result).in_(sorted(CALL_RESULT_EVENTS)),
        now=now,
    )


def calls_unknown(session: Session, *, contact_ids: Collection[int], now: datetime) -> None:
    """``call.unknown`` for the attempts of ``contact_ids`` the reaper just marked unknown."""
    if not contact_ids:
        return
    _call_events(
        session,
        col(Attempt.contact_id).in_(sorted(contact_ids)),
        col(Attempt.result) == "unknown",
        col(Attempt.finished_at) == now,
        now=now,
    )


def call_outcome(session: Session, *, attempt_id: int, now: datetime) -> None:
    """``call.outcome`` for the attempt whose outcome was just recorded."""
    query = (
        select(
            col(WebhookSubscription.endpoint),
            literal("msg_") + col(Attempt.key) + literal("_outcome"),
            literal(EventType.CALL_OUTCOME.value),
            col(Attempt.campaign_id),
            col(Attempt.contact_id),
            col(Attempt.id),
            col(Attempt.outcome),
            literal(""),
            *_new(now),
        )
        .join(WebhookSubscription, _subscribed(EventType.CALL_OUTCOME))
        .where(col(Attempt.id) == attempt_id)
    )
    _insert(session, query)


def campaigns_changed(
    session: Session, *, campaign_ids: Collection[int], status: str, now: datetime
) -> None:
    """``campaign.completed``/``campaign.paused`` for ``campaign_ids`` that just took
    ``status`` (other statuses are no event)."""
    event = CAMPAIGN_STATUS_EVENTS.get(status)
    if event is None or not campaign_ids:
        return
    prefix = f"msg_{secrets.token_hex(12)}_"
    query = (
        select(
            col(WebhookSubscription.endpoint),
            literal(prefix) + cast(col(Campaign.id), String),
            literal(event.value),
            col(Campaign.id),
            literal(None),
            literal(None),
            literal(status),
            col(Campaign.status_reason),
            *_new(now),
        )
        .join(WebhookSubscription, _subscribed(event))
        .where(col(Campaign.id).in_(sorted(campaign_ids)))
    )
    _insert(session, query)


def _call_events(session: Session, *where: ColumnElement[bool], now: datetime) -> None:
    event_type = literal(_CALL_PREFIX) + col(Attempt.result)
    query = (
        select(
            col(WebhookSubscription.endpoint),
            literal("msg_") + col(Attempt.key) + literal("_") + col(Attempt.result),
            event_type,
            col(Attempt.campaign_id),
            col(Attempt.contact_id),
            col(Attempt.id),
            col(Attempt.result),
            literal(""),
            *_new(now),
        )
        .join(WebhookSubscription, col(WebhookSubscription.event_type) == event_type)
        .where(*where)
    )
    _insert(session, query)


def _subscribed(event: EventType) -> ColumnElement[bool]:
    """The join condition that pairs a row with each endpoint subscribed to ``event``."""
    return col(WebhookSubscription.event_type) == event.value


def _new(now: datetime) -> tuple[Any, ...]:
    """occurred_at, state, next_try_at, tries, last_error of a new event."""
    return literal(now), literal(PENDING), literal(now), literal(0), literal("")


def _insert(session: Session, query: Select[Any]) -> None:
    dialect = session.get_bind().dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    statement = (
        insert(WebhookEvent)
        .from_select(list(_COLUMNS), query)
        .on_conflict_do_nothing(index_elements=["endpoint", "message_id"])
    )
    session.connection().execute(statement)


def sync_subscriptions(session: Session, *, wanted: Mapping[str, Collection[str]]) -> bool:
    """Make the subscriptions {endpoint: event types} exactly ``wanted``; True if they were
    not. Safe to run from several processes at once."""
    pairs = {(endpoint, event) for endpoint, events in wanted.items() for event in events}
    rows = session.execute(
        select(col(WebhookSubscription.endpoint), col(WebhookSubscription.event_type))
    ).all()
    current = {(endpoint, event) for endpoint, event in rows}
    if current == pairs:
        return False
    stale = current - pairs
    if stale:
        key = tuple_(col(WebhookSubscription.endpoint), col(WebhookSubscription.event_type))
        session.execute(delete(WebhookSubscription).where(key.in_(sorted(stale))))
    missing = pairs - current
    if missing:
        dialect = session.get_bind().dialect.name
        insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
        session.execute(
            insert(WebhookSubscription).on_conflict_do_nothing(),
            [{"endpoint": endpoint, "event_type": event} for endpoint, event in sorted(missing)],
        )
    return True
