"""``POST /webhooks/{provider}/{token}``: where AlloMia and Trillet report what became of a call.

No API key: the URL's token, the campaign's unguessable ``callback_token`` (see
:mod:`dialer.callbacks`), is the credential, and it only reaches attempts of that campaign.
Answers, in the order they are checked::

    404  not a provider that sends webhooks
    413  body over 64 KB
    401  no campaign has this token, or its account is not this provider's
    400  the body is not a JSON object
    422  it names no call, or a status we do not know
    200  {"result": "ignored"}: not a final outcome (a call in progress, an SMS event)
    404  this campaign has no such call
    409  the call is still being placed: nothing recorded, send it again
    200  {"result": "recorded" | "recalled" | "duplicate"}

Every refusal is logged in one line (provider, status, reason), never with the token, the
body or a phone number; no refusal changes the ledger. Ledger work runs in the thread pool.
"""

from __future__ import annotations

import json
import logging
from typing import Any, Literal

from fastapi import APIRouter, Request
from pydantic import BaseModel, Field
from starlette.concurrency import run_in_threadpool

from dialer import split
from dialer.api.context import ApiContext, Context
from dialer.api.errors import ApiError, ErrorBody
from dialer.callbacks import WEBHOOK_PROVIDERS
from dialer.capacity import accounts as capacity
from dialer.errors import MalformedOutcome
from dialer.ledger import outcomes as ledger_outcomes
from dialer.ledger.engine import session_scope, utcnow
from dialer.ledger.outcomes import Recorded
from dialer.providers import PROVIDERS

log = logging.getLogger("dialer.api.webhooks")

MAX_BODY_BYTES = 64 * 1024

router = APIRouter(prefix="/webhooks", tags=["webhooks"])


Result = Literal["recorded", "recalled", "duplicate", "ignored"]
_RESULTS: dict[Recorded, Result] = {
    Recorded.RECORDED: "recorded",
    Recorded.RECALLED: "recalled",
    Recorded.DUPLICATE: "duplicate",
}


class WebhookAnswer(BaseModel):
    result: Result = Field(
        description="recorded: first report of this call's outcome; recalled: recorded, and "
        "the contact will be called again; duplicate: known already, nothing changed; "
        "ignored: not a final outcome."
    )


_REFUSALS = {
    400: "The body is not a JSON object",
    401: "No campaign has this callback token, or it is not this provider's",
    404: "Not a webhook provider, or no such call in this campaign",
    409: "The call is still being placed; nothing was recorded, send it again",
    413: "The body is larger than 64 KB",
    422: "The body names no call, or a status the dialer does not know",
    503: "The ledger database cannot be reached",
}
_BODY = {
    "required": True,
    "content": {"application/json": {"schema": {"type": "object", "additionalProperties": True}}},
}


@router.post(
    "/{provider}/{token}",
    openapi_extra={"requestBody": _BODY},
    responses={s: {"model": ErrorBody, "description": d} for s, d in _REFUSALS.items()},
)
async def receive_webhook(
    provider: str, token: str, request: Request, ctx: Context
) -> WebhookAnswer:
    """A provider's report about a call placed for the campaign whose callback token is
    ``token``. Idempotent: a repeated report changes nothing."""
    try:
        if provider not in WEBHOOK_PROVIDERS:
            raise ApiError(404, f"no webhooks for provider {provider[:30]!r}")
        body = await _read_body(request)
        result = await run_in_threadpool(_receive, ctx, provider, token, body)
    except ApiError as exc:
        log.warning("webhook %r refused (%d): %s", provider[:30], exc.status, exc)
        raise
    return WebhookAnswer(result=result)


async def _read_body(request: Request) -> bytes:
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > MAX_BODY_BYTES:
            raise ApiError(413, f"body over {MAX_BODY_BYTES} bytes")
        chunks.append(chunk)
    return b"".join(chunks)


def _receive(ctx: ApiContext, provider: str, token: str, body: bytes) -> Result:
    with session_scope(ctx.engine) as session:
        campaign = ledger_outcomes.campaign_for_token(session, token=token)
        shares = split.shares_from_json(campaign.accounts, campaign.account) if campaign else ()
        accounts = [a for s in shares if (a := ctx.settings.accounts.get(s.account)) is not None]
        if campaign is None or campaign.id is None or not accounts:
            raise ApiError(401, "unknown callback token")
        # A campaign over several accounts may use several providers: this one's account.
        account = next((a for a in accounts if a.provider == provider), None)
        if account is None:
            raise ApiError(401, f"campaign {campaign.id} does not use {provider}")
        payload = _json_object(body)
        try:
            found = PROVIDERS[provider].outcome_from_webhook(payload)
        except MalformedOutcome as exc:
            raise ApiError(422, str(exc)) from None
        if found is None:
            return "ignored"
        attempt = ledger_outcomes.find_attempt(
            session,
            campaign_id=campaign.id,
            attempt_key=found.attempt_key,
            provider_call_id=found.provider_call_id,
        )
        if attempt is None or attempt.id is None:
            raise ApiError(404, f"campaign {campaign.id} has no such call")
        recorded = ledger_outcomes.record_outcome(
            session, attempt_id=attempt.id, outcome=found.outcome, payload=payload, now=utcnow()
        )
    if recorded is Recorded.NOT_PLACED:
        raise ApiError(409, f"attempt {attempt.id} is not placed (yet)")
    if ctx.gate is not None:
        capacity.call_over(
            ctx.gate, ctx.settings.accounts.get(attempt.account, account), attempt.key
        )
    log.info(
        "webhook %s: campaign %d attempt %d %s: %s",
        provider,
        campaign.id,
        attempt.id,
        found.outcome,
        recorded,
    )
    return _RESULTS[recorded]


def _json_object(body: bytes) -> dict[str, Any]:
    """The body as a JSON object; ApiError 400 for anything else, and for what the ledger
    could not store as JSON (NaN, Infinity, NUL characters, lone surrogates)."""
    if b"\\u0000" in body:
        raise ApiError(400, "the body holds a NUL character")
    try:
        value = json.loads(body, parse_constant=_no_constant)
        json.dumps(value, ensure_ascii=False).encode()
    except (ValueError, RecursionError):  # UnicodeError is a ValueError
        raise ApiError(400, "the body is not JSON") from None
    if not isinstance(value, dict):
        raise ApiError(400, "the body is not a JSON object")
    return value


def _no_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")
