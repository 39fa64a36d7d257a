"""The kinds of event an endpoint can subscribe to, and the one it never subscribes to."""

from __future__ import annotations

from enum import StrEnum


class EventType(StrEnum):
    CALL_PLACED = "call.placed"
    """The provider accepted the call request (2xx): a call was placed."""
    CALL_FAILED = "call.failed"
    """The provider refused it, or the contact's retry budget is spent: no call."""
    CALL_UNKNOWN = "call.unknown"
    """The request left and no answer came: the call may or may not have been placed."""
    CALL_OUTCOME = "call.outcome"
    """The provider reported what became of a placed call (completed, no-answer, ...)."""
    CAMPAIGN_COMPLETED = "campaign.completed"
    CAMPAIGN_PAUSED = "campaign.paused"


PING = "ping"
"""The type of ``dialer webhooks test``'s event: sent directly, never kept in the outbox."""

CALL_RESULT_EVENTS = {
    "placed": EventType.CALL_PLACED,
    "failed": EventType.CALL_FAILED,
    "unknown": EventType.CALL_UNKNOWN,
}
"""Attempt results (contact states) that are events, and their event type."""

CAMPAIGN_STATUS_EVENTS = {
    "completed": EventType.CAMPAIGN_COMPLETED,
    "paused": EventType.CAMPAIGN_PAUSED,
}
"""Campaign statuses that are events, and their event type."""
