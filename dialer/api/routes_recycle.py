"""``POST /campaigns/{name}/recycle``: call again the contacts whose call ended with chosen
outcomes, as ``dialer campaign recycle`` does (one call into :func:`campaigns.lifecycle.recycle`).
"""

from __future__ import annotations

from fastapi import APIRouter
from pydantic import BaseModel, Field

from campaigns import lifecycle
from dialer.api import errors
from dialer.api.auth import AUTHENTICATED
from dialer.api.context import Context
from dialer.ledger.engine import utcnow
from dialer.names import MAX_LENGTH
from dialer.outcomes import Outcome

router = APIRouter(
    prefix="/campaigns",
    tags=["campaigns"],
    dependencies=AUTHENTICATED,
    responses=errors.responses(401),
)


class RecycleRequest(BaseModel):
    """Which contacts, and where they go."""

    outcome: list[Outcome] = Field(
        min_length=1,
        description="Outcomes whose contacts are called again, e.g. no-answer, busy.",
        examples=[["no-answer", "busy"]],
    )
    into: str | None = Field(
        default=None,
        min_length=1,
        max_length=MAX_LENGTH,
        description="A new campaign (created as a draft with the source's settings) to copy "
        "them into; absent: they are reopened in this campaign.",
    )


class RecycleResult(BaseModel):
    """Where the recycled contacts are pending now, and how many there are."""

    campaign: str
    contacts: int
    created: bool = Field(description="True when ``campaign`` was created by this request.")


@router.post(
    "/{name}/recycle",
    operation_id="recycle_campaign",
    summary="Recycle a campaign's contacts by outcome",
    responses=errors.responses(400, 404, 409, 422, 503),
)
def recycle_campaign(name: str, body: RecycleRequest, ctx: Context) -> RecycleResult:
    """Reopen the placed contacts whose call ended with one of ``outcome`` (never an unknown,
    listed or bad number) with a fresh budget, or copy them into the new campaign ``into``,
    each copy linked to its source contact. A finished campaign becomes paused: start it."""
    outcomes = [outcome.value for outcome in body.outcome]
    done = lifecycle.recycle(ctx.engine, name, outcomes, into=body.into, now=utcnow())
    return RecycleResult(campaign=done.campaign, contacts=done.contacts, created=done.created)
