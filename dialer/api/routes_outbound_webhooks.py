"""``/outbound-webhooks``: the events sent to the customer's endpoints (``[[webhooks]]``), resending
them, and a signed ``ping``; plus each event type's body in the OpenAPI schema's ``webhooks``.

The same operations as ``dialer webhooks list|resend|test``. Endpoint URLs are shown with their
credentials masked; secrets never leave the server. (``/webhooks/...`` is where providers
report outcomes to the dialer: the other direction.)
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, FastAPI, Path, Query, Request
from pydantic import BaseModel, Field
from starlette.concurrency import run_in_threadpool

from dialer.api.auth import AUTHENTICATED
from dialer.api.context import Context
from dialer.api.errors import ApiError, ErrorBody
from dialer.errors import ConfigError
from dialer.ledger import deliveries
from dialer.ledger.engine import session_scope, utcnow
from dialer.webhooks.deliver import send_ping
from dialer.webhooks.endpoints import find_endpoint
from dialer.webhooks.payloads import CallEvent, CampaignEvent, PingEvent

router = APIRouter(
    prefix="/outbound-webhooks", tags=["outbound webhooks"], dependencies=AUTHENTICATED
)

_ERRORS = {
    401: "Missing or wrong X-API-Key header",
    404: "No such endpoint, or no such event to resend (unknown, or still pending)",
    422: "A query parameter is unknown or out of range",
    503: "The ledger database cannot be reached",
}


def _errors(*statuses: int) -> dict[int | str, dict[str, object]]:
    return {s: {"model": ErrorBody, "description": _ERRORS[s]} for s in (401, *statuses)}


class WebhookEndpointInfo(BaseModel):
    name: str
    url: str = Field(description="Credentials in the URL (user info, query values) masked.")
    events: list[str]
    include_lead: bool


class WebhookEventItem(BaseModel):
    id: int
    endpoint: str
    type: str
    state: Literal["pending", "delivered", "dead"]
    tries: int
    last_status: int | None = Field(description="The endpoint's last HTTP status, if any.")
    last_error: str
    occurred_at: datetime
    next_try_at: datetime | None = Field(description="Pending only: when it is tried next.")
    webhook_id: str = Field(description="The webhook-id header: the same on every try.")


class Resent(BaseModel):
    resent: list[int] = Field(description="Ids of the events that will be sent again.")


class PingResult(BaseModel):
    delivered: bool
    status: int | None = Field(description="The endpoint's HTTP status; null: no answer.")
    error: str


@router.get("/endpoints", responses=_errors())
def list_endpoints(ctx: Context) -> list[WebhookEndpointInfo]:
    """The configured endpoints (never their secrets)."""
    return [
        WebhookEndpointInfo(
            name=e.name, url=e.shown_url, events=list(e.events), include_lead=e.include_lead
        )
        for e in ctx.settings.webhooks
    ]


_LIST_PARAMS = frozenset({"status", "limit"})


def _known_params_only(request: Request) -> None:
    """422 for a query parameter the route does not take (a typo would silently list all)."""
    unknown = sorted(set(request.query_params) - _LIST_PARAMS)
    if unknown:
        raise ApiError(422, f"unknown query parameter {unknown[0][:40]!r}")


@router.get("/events", responses=_errors(422, 503), dependencies=[Depends(_known_params_only)])
def list_events(
    ctx: Context,
    status: Annotated[Literal["pending", "delivered", "dead"] | None, Query()] = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 50,
) -> list[WebhookEventItem]:
    """The newest events, of one state when ``status`` is given."""
    with session_scope(ctx.engine) as session:
        found = deliveries.list_events(session, state=status, limit=limit)
    return [
        WebhookEventItem(
            id=e.id or 0,
            endpoint=e.endpoint,
            type=e.event_type,
            state=e.state,
            tries=e.tries,
            last_status=e.last_status,
            last_error=e.last_error,
            occurred_at=deliveries.aware(e.occurred_at),
            next_try_at=deliveries.aware(e.next_try_at) if e.next_try_at else None,
            webhook_id=e.message_id,
        )
        for e in found
    ]


@router.post("/events/{event_id}/resend", responses=_errors(404, 503))
def resend_event(ctx: Context, event_id: Annotated[int, Path(ge=1, le=2**31 - 1)]) -> Resent:
    """Send a dead or delivered event again: same webhook-id, a fresh 24 h of retries."""
    with session_scope(ctx.engine) as session:
        resent = deliveries.resend(session, ids=[event_id], now=utcnow())
    if not resent:
        raise ApiError(404, f"no event {event_id} to resend (unknown, or still pending)")
    return Resent(resent=resent)


@router.post("/events/resend-dead", responses=_errors(503))
def resend_dead(ctx: Context) -> Resent:
    """Send every dead event again."""
    with session_scope(ctx.engine) as session:
        return Resent(resent=deliveries.resend(session, dead=True, now=utcnow()))


@router.post("/endpoints/{name}/test", responses=_errors(404))
async def test_endpoint(name: str, ctx: Context) -> PingResult:
    """Send a signed ``ping`` event to the endpoint now; how it answered."""
    try:
        endpoint = find_endpoint(ctx.settings.webhooks, name)
    except ConfigError as exc:
        raise ApiError(404, str(exc)) from None
    answer = await run_in_threadpool(send_ping, endpoint, now=utcnow())
    delivered = answer.status is not None and 200 <= answer.status < 300
    return PingResult(delivered=delivered, status=answer.status, error=answer.error)


def document_events(app: FastAPI) -> None:
    """Add each event type's body to the OpenAPI schema's ``webhooks`` (and its models to the
    components): what a customer's endpoint receives, signed per Standard Webhooks."""
    bodies = {
        "call.placed": CallEvent,
        "call.failed": CallEvent,
        "call.unknown": CallEvent,
        "call.outcome": CallEvent,
        "campaign.completed": CampaignEvent,
        "campaign.paused": CampaignEvent,
        "ping": PingEvent,
    }
    for event, model in bodies.items():
        app.webhooks.add_api_route(
            event,
            _receiver(model),
            methods=["POST"],
            summary=f"{event} (sent to your endpoint)",
            operation_id=f"webhook_{event.replace('.', '_')}",
            responses={200: {"description": "Acknowledged: the event is delivered"}},
        )
    generate = app.openapi

    def openapi() -> dict[str, Any]:
        schema = generate()
        # FastAPI documents its own 422 for a body; our endpoint's answers are the customer's.
        for item in schema.get("webhooks", {}).values():
            item["post"]["responses"].pop("422", None)
        return schema

    app.openapi = openapi  # type: ignore[method-assign]


def _receiver(model: type[BaseModel]) -> Callable[..., None]:
    def receive(body: BaseModel) -> None:
        """Answer 2xx to acknowledge; 408, 429 (with Retry-After) and 5xx are retried for 24 h,
        any other status makes the event dead at once."""

    # The body's model is the event's: FastAPI reads it from the annotations.
    receive.__annotations__ = {"body": model, "return": None}
    return receive
