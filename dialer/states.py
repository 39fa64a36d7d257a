"""Campaign statuses, contact states and the named sets of states.

Plain enums, apart from the table declarations in :mod:`dialer.models` (which re-exports
them): what reads the ledger without the ORM (``dialer campaign status``, whose start-up
must stay short) uses them without importing SQLModel.
"""

from __future__ import annotations

from enum import StrEnum


class CampaignStatus(StrEnum):
    DRAFT = "draft"
    RUNNING = "running"
    PAUSED = "paused"
    COMPLETED = "completed"
    CANCELLED = "cancelled"


class ContactState(StrEnum):
    PENDING = "pending"
    QUEUED = "queued"
    DIALING = "dialing"
    PLACED = "placed"
    FAILED = "failed"
    UNKNOWN = "unknown"
    CANCELLED = "cancelled"


# The state sets, named once; ledger queries, status, export and the API use these.
IN_FLIGHT_STATES = frozenset({ContactState.QUEUED, ContactState.DIALING})
"""Claimed or being dialed: the scheduler counts them against an account's room."""
OPEN_STATES = frozenset({ContactState.PENDING, *IN_FLIGHT_STATES})
"""Not final yet: a campaign with none of these left is complete."""
FINAL_STATES = frozenset(
    {ContactState.PLACED, ContactState.FAILED, ContactState.UNKNOWN, ContactState.CANCELLED}
)
"""Where a contact ends (the retry command and outcomes may reopen some)."""
NOT_BEGUN_STATES = frozenset({ContactState.PENDING, ContactState.QUEUED})
"""No request has left for the contact's current attempt: a cancel or an end may stop it."""
ANSWERABLE_STATES = frozenset({ContactState.DIALING, ContactState.UNKNOWN})
"""A provider's answer to the contact's request may still be recorded (a late answer beats
the reaper's ``unknown``)."""
MAY_HAVE_CALLED_STATES = frozenset({ContactState.PLACED, ContactState.UNKNOWN})
"""A call may have been placed: a provider-reported outcome may be recorded."""
