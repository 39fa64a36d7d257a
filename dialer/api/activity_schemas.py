"""Response bodies of the activity routes (:mod:`dialer.api.routes_activity`): what the
operator console reads besides a campaign's counters."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, Field

from campaigns.activity import AccountHealth, CallSeries
from campaigns.calling_window import WindowNow
from dialer.api.schemas import MESSAGES, AccountCapacity, messages_of
from dialer.ledger.activity import AttemptLine

_RESULT = (
    "The contact state the request led to: placed, pending (to be retried after a 5xx, 429 "
    "or connection failure), failed, unknown; in_flight while it has no answer."
)


class AttemptItem(BaseModel):
    """One provider request."""

    started_at: datetime
    finished_at: datetime | None
    row: int = Field(description="The contact's data row in the leads file (from 1).")
    phone: str = Field(description="E.164.")
    result: str = Field(description=_RESULT)
    http_status: int | None
    provider_call_id: str | None
    error: str
    outcome: str | None = Field(description="What the provider later reported, if it did.")
    latency_ms: int | None

    @classmethod
    def of(cls, line: AttemptLine) -> AttemptItem:
        return cls.model_validate(line, from_attributes=True)


class CallPoint(BaseModel):
    at: datetime = Field(description="Start of the bucket.")
    total: int
    by_result: dict[str, int] = Field(description=_RESULT)


class CallSeriesBody(BaseModel):
    """Requests over time, one point per bucket (empty buckets included)."""

    since: datetime
    until: datetime
    bucket_seconds: int
    first_attempt_at: datetime | None = Field(description="The campaign's first request.")
    points: list[CallPoint]

    @classmethod
    def of(cls, series: CallSeries) -> CallSeriesBody:
        return cls(
            since=series.since,
            until=series.until,
            bucket_seconds=series.bucket_seconds,
            first_attempt_at=series.first_attempt_at,
            points=[
                CallPoint(at=at, total=sum(counts.values()), by_result=counts)
                for at, counts in series.points
            ],
        )


class WindowReport(BaseModel):
    """The calling window in words and its state now, for the contacts still pending."""

    hours: str = Field(description="e.g. 09:00-20:00 in each recipient's own time zone, ...")
    is_default: bool
    fallback_zone: str = Field(description="The zone of numbers with no known zone.")
    pending: int
    open_now: int = Field(description="Pending contacts inside the window right now.")
    open_percent: int | None = Field(description="open_now of pending, rounded down.")
    next_opening: datetime | None = Field(
        description="When the window next opens for contacts it is closed for now."
    )
    summary: str = Field(description="All of the above in one line.")

    @classmethod
    def of(cls, window: WindowNow) -> WindowReport:
        return cls(
            hours=window.hours,
            is_default=window.is_default,
            fallback_zone=window.fallback_zone,
            pending=window.pending,
            open_now=window.open_now,
            open_percent=window.open_percent,
            next_opening=window.next_opening,
            summary=window.summary,
        )


class RejectRow(BaseModel):
    row: int
    value: str
    reason: str
    detail: str = Field("", description="More on the reason, e.g. 'same number as row 17'.")


class RejectRows(BaseModel):
    """The first rows of the campaign's latest rejects file on this server."""

    rows: list[RejectRow]
    more: bool = Field(description="True when the file holds more rows than returned.")


class AccountHealthBody(BaseModel):
    """An account's pace, how its requests went lately, the message fields its provider takes
    and its capacity now, as in ``GET /accounts`` (absent when this server cannot read it:
    no broker and no runner in this process)."""

    name: str
    provider: str
    rate: str = Field(description="The configured rate, e.g. 10/s or unlimited.")
    rate_per_second: float | None = Field(description="None when unlimited.")
    recent_seconds: int = Field(description="How far back `recent` looks.")
    recent: dict[str, int] = Field(description="Requests of the last recent_seconds. " + _RESULT)
    messages: list[str] = Field(description=MESSAGES)
    capacity: AccountCapacity | None = None

    @classmethod
    def of(cls, health: AccountHealth, capacity: AccountCapacity | None) -> AccountHealthBody:
        return cls(
            name=health.name,
            provider=health.provider,
            rate=health.rate,
            rate_per_second=health.rate_per_second,
            recent_seconds=health.recent_seconds,
            recent=health.recent,
            messages=messages_of(health.provider),
            capacity=capacity,
        )
