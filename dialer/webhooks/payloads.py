"""What an endpoint receives: the JSON body of each event type, as models.

The models are the contract: the body is built with them, ``docs/webhook-payload.schema.json``
and the OpenAPI schema's components are generated from them. Fields are only ever added.
Every body is ``{"type", "timestamp", "data"}`` (the Standard Webhooks shape); ``timestamp``
is when the event became true in the ledger, not when it was sent.
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter

from dialer.ledger.deliveries import EventRecord
from dialer.webhooks.events import PING, EventType


class _Model(BaseModel):
    model_config = ConfigDict(frozen=True)


class CampaignRef(_Model):
    id: int
    name: str
    account: str = Field(description="The provider account that places the campaign's calls.")


class CampaignState(CampaignRef):
    status: Literal["completed", "paused"]
    reason: str = Field(description="Why, when the dialer knows (e.g. credentials refused).")


class ContactData(_Model):
    id: int
    row: int = Field(description="The lead's row number in the imported file.")
    phone: str = Field(description="The number called, in E.164 (+12125550123).")
    lead: dict[str, str] | None = Field(
        description="The lead's own columns (snake_case headers) with include_lead; else null."
    )


class CallData(_Model):
    attempt_id: str = Field(description="The dialer's id of this call attempt (a UUID).")
    status: Literal["placed", "failed", "unknown"] = Field(
        description="placed: the provider accepted the call; failed: refused, or retries "
        "spent; unknown: the request left and no answer came (never redialed automatically)."
    )
    outcome: str | None = Field(
        description="call.outcome only: what the provider reported (completed, no-answer, "
        "busy, voicemail, failed, ...); else null."
    )
    provider_call_id: str | None
    http_status: int | None = Field(description="The provider's HTTP status, if it answered.")
    error: str = Field(description="The provider's error text, empty when none.")
    started_at: datetime
    finished_at: datetime | None


class CallEventData(_Model):
    campaign: CampaignRef
    contact: ContactData
    call: CallData


class CampaignEventData(_Model):
    campaign: CampaignState


class PingData(_Model):
    endpoint: str = Field(description="The endpoint's name in dialer.toml.")


class CallEvent(_Model):
    """A call attempt ended (placed, failed, unknown), or its outcome was reported."""

    type: Literal["call.placed", "call.failed", "call.unknown", "call.outcome"]
    timestamp: datetime
    data: CallEventData


class CampaignEvent(_Model):
    """A campaign completed (every contact final) or was paused."""

    type: Literal["campaign.completed", "campaign.paused"]
    timestamp: datetime
    data: CampaignEventData


class PingEvent(_Model):
    """Sent by ``dialer webhooks test``: check the endpoint and its signature verification."""

    type: Literal["ping"]
    timestamp: datetime
    data: PingData


WebhookPayload = Annotated[CallEvent | CampaignEvent | PingEvent, Field(discriminator="type")]
"""Any body the dialer sends."""

PAYLOAD_MODELS = (CallEvent, CampaignEvent, PingEvent)


def payload_schema() -> dict[str, Any]:
    """The JSON Schema of every body (what docs/webhook-payload.schema.json holds)."""
    schema = TypeAdapter(WebhookPayload).json_schema()
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "title": "dialer webhook payload",
        **schema,
    }


def event_body(record: EventRecord, *, include_lead: bool) -> bytes:
    """The body of an outbox event for an endpoint (with the lead's columns or not)."""
    payload: CallEvent | CampaignEvent
    if record.event_type.startswith("campaign."):
        payload = CampaignEvent.model_validate(
            {
                "type": record.event_type,
                "timestamp": record.occurred_at,
                "data": {
                    "campaign": {
                        **record.campaign,
                        "status": record.status,
                        "reason": record.reason,
                    }
                },
            }
        )
    else:
        assert record.contact is not None and record.call is not None
        outcome = record.status if record.event_type == EventType.CALL_OUTCOME else None
        status = "placed" if outcome is not None else record.status
        payload = CallEvent.model_validate(
            {
                "type": record.event_type,
                "timestamp": record.occurred_at,
                "data": {
                    "campaign": record.campaign,
                    "contact": {**record.contact, "lead": record.lead if include_lead else None},
                    "call": {**record.call, "status": status, "outcome": outcome},
                },
            }
        )
    return _encode(payload)


def ping_body(endpoint: str, now: datetime) -> bytes:
    return _encode(PingEvent(type=PING, timestamp=now, data=PingData(endpoint=endpoint)))


def _encode(payload: BaseModel) -> bytes:
    # Compact and stable: what is signed is exactly what is sent.
    return json.dumps(payload.model_dump(mode="json"), separators=(",", ":")).encode()
