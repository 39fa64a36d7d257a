"""Ledger tables (DESIGN.md §3). Plain declarations: every query lives in :mod:`dialer.ledger`.

Contact states, and who moves a contact between them::

    pending ──claim──▶ queued ──begin──▶ dialing ──2xx──────────────▶ placed
       ▲                 │                  ├──5xx/429/connect──▶ pending (next_attempt_at)
       └──reaper─────────┘                  ├──4xx, budget spent─▶ failed
                                            └──no answer/timeout─▶ unknown
    any non-final ──cancel──▶ cancelled          failed/unknown ──retry command──▶ pending

Times are naive UTC in the database (SQLite has no time zones); :mod:`dialer.ledger` converts.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Column, Index, Text, UniqueConstraint
from sqlmodel import Field, SQLModel

from dialer.states import (
    ANSWERABLE_STATES,
    FINAL_STATES,
    IN_FLIGHT_STATES,
    MAY_HAVE_CALLED_STATES,
    NOT_BEGUN_STATES,
    OPEN_STATES,
    CampaignStatus,
    ContactState,
)

# The states are re-exported: the ledger's users import them from here too.
__all__ = [
    "ANSWERABLE_STATES",
    "FINAL_STATES",
    "GLOBAL_SCOPE",
    "IN_FLIGHT_STATES",
    "MAY_HAVE_CALLED_STATES",
    "NOT_BEGUN_STATES",
    "OPEN_STATES",
    "Attempt",
    "AttemptCount",
    "Campaign",
    "CampaignStatus",
    "Contact",
    "ContactCount",
    "ContactState",
    "Suppression",
    "WebhookCounter",
    "WebhookEvent",
    "WebhookSubscription",
]


class Campaign(SQLModel, table=True):
    __table_args__ = (Index("uq_campaign_name_key", "name_key", unique=True),)

    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(unique=True, max_length=200)
    name_key: str = Field(default="", max_length=200)  # dialer.names.name_key(name), unique
    account: str = Field(max_length=200)
    """The first (or only) account: see :mod:`dialer.split` for several."""
    accounts: list[dict[str, Any]] | None = Field(default=None, sa_column=Column(JSON))
    """``[{"name", "weight", "out"?}]`` (:func:`dialer.split.shares_of`); None: ``account``."""
    failover: bool = False
    reassigned: int = 0
    """First attempts sent to another account than the contact's weighted one (failover)."""
    status: str = Field(default=CampaignStatus.DRAFT, max_length=20, index=True)
    status_reason: str = Field(default="", sa_column=Column(Text, nullable=False, default=""))
    window: str = Field(default="09:00-20:00", max_length=20)
    days: str = Field(default="mon,tue,wed,thu,fri,sat", max_length=60)
    start_at: datetime | None = None
    end_at: datetime | None = None
    timezone: str = Field(default="UTC", max_length=64)
    region: str = Field(default="US", max_length=4)
    max_attempts: int = Field(default=5)
    retry_after_seconds: int | None = None
    recall_rules: dict[str, list[int]] | None = Field(
        default=None, sa_column=Column(JSON, nullable=True)
    )
    """Outcome → recall waits in seconds (dialer.recalls); None: the flat max_attempts ladder."""
    claim_order: str | None = Field(default=None, max_length=20)
    """dialer.recalls.ClaimOrder; None: interleave."""
    templates: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    columns: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    source_file: str = Field(default="", max_length=500)
    source_checksum: str = Field(default="", max_length=64)
    rows_read: int = 0
    rows_accepted: int = 0
    rows_rejected: int = 0
    callback_token: str = Field(default="", max_length=64)
    created_at: datetime
    started_at: datetime | None = None
    finished_at: datetime | None = None


class Contact(SQLModel, table=True):
    __table_args__ = (
        # No index on the number here: ContactPhone holds each campaign's numbers unique.
        # The claim's shape: per open zone key, never-tried contacts in id order and due
        # retries by due time, each one range of this index (dialer.ledger.dispatch.claim_due).
        Index("ix_contact_claim", "campaign_id", "state", "zone_key", "next_attempt_at", "id"),
    )

    id: int | None = Field(default=None, primary_key=True)
    campaign_id: int = Field(foreign_key="campaign.id")
    row: int
    phone: str = Field(max_length=20)
    raw_phone: str = Field(default="", sa_column=Column(Text, nullable=False, default=""))
    extension: str | None = Field(default=None, max_length=20)
    number_type: str = Field(default="unknown", max_length=30)
    zone_key: str = Field(default="", sa_column=Column(Text, nullable=False, default=""))
    first_name: str = Field(default="", sa_column=Column(Text, nullable=False, default=""))
    last_name: str = Field(default="", sa_column=Column(Text, nullable=False, default=""))
    email: str = Field(default="", sa_column=Column(Text, nullable=False, default=""))
    variables: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    state: str = Field(default=ContactState.PENDING, max_length=20)
    attempts: int = 0
    next_attempt_at: datetime | None = None
    state_changed_at: datetime | None = None
    last_error: str = Field(default="", sa_column=Column(Text, nullable=False, default=""))
    provider_call_id: str | None = Field(default=None, max_length=200)
    outcome: str | None = Field(default=None, max_length=30)
    recycled_from: int | None = Field(
        default=None, description="the contact of another campaign this one was copied from"
    )
    recycled_at: datetime | None = Field(
        default=None, description="last reopened by a recycle: recalls count calls since then"
    )
    account: str | None = Field(default=None, max_length=200)
    """The account its first attempt began on, kept for its recalls; None until then (and
    again while no attempt may have called: :func:`dialer.ledger.dispatch.finish_attempts`)."""


class ContactPhone(SQLModel, table=True):
    """Each campaign's numbers, one row each: its key refuses a campaign the same number
    twice, and it finds a contact by (campaign, number).

    Apart from ``contact`` so that an import fills it once, sorted by number, at its end
    (:func:`dialer.ledger.contacts.index_phones`): a unique index on ``contact`` itself
    would take every number of a large file in random order, and past the database's
    buffer cache each of those inserts costs a page read and, after each checkpoint, a
    logged page image: a 10M import then cost 12-15x a 1M one (bench/README.md).
    No foreign keys, for the same reason: the ledger writes its rows with the contacts'.
    """

    __tablename__ = "contact_phone"
    __table_args__ = {"sqlite_with_rowid": False}

    campaign_id: int = Field(primary_key=True)
    phone: str = Field(max_length=20, primary_key=True)
    contact_id: int


class Attempt(SQLModel, table=True):
    __table_args__ = (
        Index("ix_attempt_contact", "contact_id"),
        Index("ix_attempt_phone_placed", "phone", "started_at"),
        Index("ix_attempt_provider_call_id", "provider_call_id"),
        # The console's reads by time: a campaign's calls per minute and latest attempts, an
        # account's latest requests (dialer.ledger.activity).
        Index("ix_attempt_campaign_started", "campaign_id", "started_at", "result"),
        Index("ix_attempt_account_started", "account", "started_at"),
    )

    id: int | None = Field(default=None, primary_key=True)
    key: str = Field(max_length=36, unique=True, description="correlation id sent to providers")
    contact_id: int = Field(foreign_key="contact.id")
    campaign_id: int = Field(foreign_key="campaign.id")
    account: str = Field(max_length=200)
    phone: str = Field(max_length=20)
    started_at: datetime
    finished_at: datetime | None = None
    result: str | None = Field(default=None, max_length=20, description="contact state it led to")
    http_status: int | None = None
    provider_call_id: str | None = Field(default=None, max_length=200)
    error: str = Field(default="", sa_column=Column(Text, nullable=False, default=""))
    response_body: str = Field(default="", sa_column=Column(Text, nullable=False, default=""))
    latency_ms: int | None = None
    rate_wait_ms: int | None = Field(
        default=None, description="how long the request waited for the account's rate limit"
    )
    outcome: str | None = Field(default=None, max_length=30)
    outcome_payload: dict[str, Any] | None = Field(default=None, sa_column=Column(JSON))
    outcome_at: datetime | None = None


class ContactCount(SQLModel, table=True):
    """Signed changes to how many contacts of a campaign are in a state, by zone key and
    outcome (``""`` for none): the sum of a key's rows is its count. Written by every
    transition in its own transaction, folded together by the tick (see
    :mod:`dialer.ledger.counts`)."""

    __tablename__ = "contact_count"
    __table_args__ = (Index("ix_contact_count_campaign", "campaign_id", "state"),)

    id: int | None = Field(default=None, primary_key=True)
    campaign_id: int
    state: str = Field(max_length=20)
    zone_key: str = Field(sa_column=Column(Text, nullable=False))
    outcome: str = Field(max_length=30)
    n: int


class AttemptCount(SQLModel, table=True):
    """Signed changes to how many attempts of an account have each result (``""`` while in
    flight), and how many of them waited for the account's rate limit (1 ms or more) and how
    long in all (written when an attempt begins). Kept like :class:`ContactCount`."""

    __tablename__ = "attempt_count"

    id: int | None = Field(default=None, primary_key=True)
    account: str = Field(max_length=200)
    result: str = Field(max_length=20)
    n: int
    waits: int = 0
    wait_ms: int = 0


GLOBAL_SCOPE = 0
"""``Suppression.campaign_id`` of a number nobody may call in any campaign."""


class Suppression(SQLModel, table=True):
    __table_args__ = (UniqueConstraint("phone", "campaign_id", name="uq_suppression_phone_scope"),)

    id: int | None = Field(default=None, primary_key=True)
    phone: str = Field(max_length=20)
    campaign_id: int = Field(default=GLOBAL_SCOPE, description="0: global, else that campaign")
    source: str = Field(default="", max_length=500)
    reason: str = Field(
        default="",
        sa_column=Column(Text, nullable=False, default="", server_default=""),
        description="why it is listed, e.g. the provider's words for a bad number",
    )
    created_at: datetime


class WebhookSubscription(SQLModel, table=True):
    """Which endpoint wants which event type: the ``[[webhooks]]`` of dialer.toml as the
    ledger sees them, so a transition writes its events with one ``INSERT ... SELECT``."""

    __tablename__ = "webhook_subscription"

    endpoint: str = Field(primary_key=True, max_length=100)
    event_type: str = Field(primary_key=True, max_length=40)


class WebhookEvent(SQLModel, table=True):
    """The outbox: one event for one endpoint, written in the transaction that made it true.

    ``state``: ``pending`` until delivered (``next_try_at``: when it may be sent; a sender's
    lease while it is being sent), then ``delivered`` or ``dead``. ``message_id`` is the
    ``webhook-id`` header of every try. What the payload says of the contact, the attempt and
    the campaign is read from their rows when sent (those fields never change); what changes
    (the status) is kept here.
    """

    __tablename__ = "webhook_event"
    __table_args__ = (
        Index("uq_webhook_event_message", "endpoint", "message_id", unique=True),
        Index("ix_webhook_event_due", "state", "endpoint", "next_try_at"),
        Index("ix_webhook_event_age", "state", "occurred_at"),
    )

    id: int | None = Field(default=None, primary_key=True)
    endpoint: str = Field(max_length=100)
    message_id: str = Field(max_length=100)
    event_type: str = Field(max_length=40)
    campaign_id: int
    contact_id: int | None = None
    attempt_id: int | None = None
    status: str = Field(default="", max_length=30, description="call result, outcome, status")
    reason: str = Field(default="", sa_column=Column(Text, nullable=False, default=""))
    occurred_at: datetime
    state: str = Field(default="pending", max_length=12)
    next_try_at: datetime | None = None
    tries: int = 0
    first_tried_at: datetime | None = None
    last_tried_at: datetime | None = None
    last_status: int | None = None
    last_error: str = Field(default="", sa_column=Column(Text, nullable=False, default=""))
    delivered_at: datetime | None = None


class WebhookCounter(SQLModel, table=True):
    """Delivery tries by endpoint and result, kept with each result (for ``/metrics``)."""

    __tablename__ = "webhook_counter"

    endpoint: str = Field(primary_key=True, max_length=100)
    result: str = Field(primary_key=True, max_length=20)
    count: int = 0
