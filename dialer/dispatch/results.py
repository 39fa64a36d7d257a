"""What dispatch did with each contact of a batch."""

from __future__ import annotations

from enum import StrEnum

from dialer.models import ContactState


class DispatchResult(StrEnum):
    """What happened to one contact of a :func:`~dialer.dispatch.protocol.place_calls` batch.

    The value is the word logs show. Before any request: NOT_QUEUED (not claimed any more: a
    redelivered task), CANCELLED (campaign cancelled), SUPPRESSED (do-not-call), the claim
    handed back because the CAMPAIGN_NOT_RUNNING, the WINDOW_CLOSED, the LIMITER_UNAVAILABLE,
    the account had NO_CAPACITY (no free place, held, or its breaker open) or the batch
    STOPPED, HELD (its number was called too recently: put off, see dialer.holds), RELEASED
    (the campaign stopped before its begin) or LOST_RACE (another worker began it). After its
    request: the contact's next state.
    """

    NOT_QUEUED = "not-queued"
    LOST_RACE = "lost-race"
    RELEASED = "released"
    CANCELLED = "cancelled"
    SUPPRESSED = "suppressed"
    WINDOW_CLOSED = "window-closed"
    CAMPAIGN_NOT_RUNNING = "campaign-not-running"
    LIMITER_UNAVAILABLE = "limiter-unavailable"
    NO_CAPACITY = "no-capacity"
    STOPPED = "stopped"
    HELD = "held"
    PLACED = ContactState.PLACED.value
    PENDING = ContactState.PENDING.value
    FAILED = ContactState.FAILED.value
    UNKNOWN = ContactState.UNKNOWN.value

    @classmethod
    def after_request(cls, state: ContactState) -> DispatchResult:
        """The result of a contact whose attempt led to ``state``."""
        return cls(state.value)

    @property
    def begun(self) -> bool:
        """Whether the contact's attempt began (its request was sent, or was about to be)."""
        return self in _BEGUN


_BEGUN = frozenset(
    {DispatchResult.PLACED, DispatchResult.PENDING, DispatchResult.FAILED, DispatchResult.UNKNOWN}
)
