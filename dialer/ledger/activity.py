"""What a campaign and an account have been doing lately: attempts read by time.

Every read here is a range scan of one of the attempt table's time indexes
(``ix_attempt_campaign_started``, ``ix_attempt_account_started``) bounded by a time range or a
LIMIT, so its cost follows the range asked for, never the campaign's whole history.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import BigInteger, ColumnElement, cast, func, select
from sqlmodel import Session, col

from dialer.models import Attempt, Contact

IN_FLIGHT = "in_flight"
"""The result of an attempt whose request has not been answered yet."""


@dataclass(frozen=True)
class AttemptLine:
    """One provider request as the console lists it. ``result`` is the contact state the
    request led to (``pending`` = to be retried), or :data:`IN_FLIGHT`."""

    started_at: datetime
    finished_at: datetime | None
    row: int
    phone: str
    result: str
    http_status: int | None
    provider_call_id: str | None
    error: str
    outcome: str | None
    latency_ms: int | None


def recent_attempts(session: Session, *, campaign_id: int, limit: int) -> list[AttemptLine]:
    """The campaign's ``limit`` latest attempts, newest first."""
    rows = session.execute(
        select(
            col(Attempt.started_at),
            col(Attempt.finished_at),
            col(Contact.row),
            col(Attempt.phone),
            col(Attempt.result),
            col(Attempt.http_status),
            col(Attempt.provider_call_id),
            col(Attempt.error),
            col(Attempt.outcome),
            col(Attempt.latency_ms),
        )
        .join(Contact, col(Contact.id) == col(Attempt.contact_id))
        .where(col(Attempt.campaign_id) == campaign_id)
        .order_by(col(Attempt.started_at).desc(), col(Attempt.id).desc())
        .limit(limit)
    ).all()
    return [
        AttemptLine(
            started_at=_aware(started),
            finished_at=_aware(finished) if finished is not None else None,
            row=row,
            phone=phone,
            result=result or IN_FLIGHT,
            http_status=status,
            provider_call_id=call_id,
            error=error,
            outcome=outcome,
            latency_ms=latency,
        )
        for started, finished, row, phone, result, status, call_id, error, outcome, latency in rows
    ]


def attempts_by_bucket(
    session: Session,
    *,
    campaign_id: int,
    since: datetime,
    until: datetime,
    bucket_seconds: int,
) -> dict[datetime, dict[str, int]]:
    """The campaign's attempts started in ``[since, until)``, counted by result in buckets of
    ``bucket_seconds`` aligned on the Unix epoch; keyed by each bucket's start (aware UTC).
    Buckets with no attempt are absent."""
    start = _epoch_seconds(session)
    bucket = (start // bucket_seconds) * bucket_seconds
    rows = session.execute(
        select(bucket, col(Attempt.result), func.count())
        .where(
            col(Attempt.campaign_id) == campaign_id,
            col(Attempt.started_at) >= since,
            col(Attempt.started_at) < until,
        )
        .group_by(bucket, col(Attempt.result))
    ).all()
    counts: dict[datetime, dict[str, int]] = {}
    for seconds, result, count in rows:
        at = datetime.fromtimestamp(int(seconds), UTC)
        counts.setdefault(at, {})[result or IN_FLIGHT] = count
    return counts


def attempts_since(
    session: Session, *, since: datetime, campaign_id: int | None = None, account: str | None = None
) -> dict[str, int]:
    """Attempts started at or after ``since`` by result, of one campaign or of one account
    (exactly one of the two)."""
    if (campaign_id is None) == (account is None):
        raise ValueError("give campaign_id or account")
    scope = (
        col(Attempt.campaign_id) == campaign_id
        if campaign_id is not None
        else col(Attempt.account) == account
    )
    rows = session.execute(
        select(col(Attempt.result), func.count())
        .where(scope, col(Attempt.started_at) >= since)
        .group_by(col(Attempt.result))
    ).all()
    return {result or IN_FLIGHT: count for result, count in rows}


def first_attempt_at(session: Session, *, campaign_id: int) -> datetime | None:
    """When the campaign's first request left (the start of its calls-per-minute chart)."""
    found = session.execute(
        select(func.min(col(Attempt.started_at))).where(col(Attempt.campaign_id) == campaign_id)
    ).scalar_one()
    return _aware(found) if found is not None else None


def _epoch_seconds(session: Session) -> ColumnElement[int]:
    """``attempt.started_at`` as whole seconds since the Unix epoch (naive UTC in the table)."""
    if session.get_bind().dialect.name == "postgresql":
        return cast(func.floor(func.extract("epoch", col(Attempt.started_at))), BigInteger)
    return cast(func.strftime("%s", col(Attempt.started_at)), BigInteger)


def _aware(moment: datetime) -> datetime:
    """Postgres returns aware instants, SQLite naive UTC ones."""
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)
