"""``GET /campaigns/{name}/compare``: the campaign's accounts side by side
(:mod:`campaigns.compare`). Grouped reads of the whole campaign, run only when asked for: the
console loads it on demand, never on its refresh timer."""

from __future__ import annotations

from fastapi import APIRouter
from pydantic import BaseModel, Field

from campaigns.compare import Comparison
from campaigns.compare import compare as compare_accounts
from dialer.api import errors
from dialer.api.auth import AUTHENTICATED
from dialer.api.context import Context

router = APIRouter(dependencies=AUTHENTICATED, responses=errors.responses(401))


class DifferenceBody(BaseModel):
    """This account's completed rate minus ``versus``'s, with its 95 % confidence interval
    (two-proportion normal approximation), as fractions."""

    versus: str
    difference: float
    low: float
    high: float


class AccountComparisonBody(BaseModel):
    account: str
    weight: int
    contacts: int = Field(description="Contacts whose first attempt began on the account.")
    placed: int = Field(description="Of those, contacts with a call placed.")
    outcomes: dict[str, int] = Field(
        description="Contacts by reported outcome: completed, no-answer, busy, failed, voicemail."
    )
    unknown: int
    unknown_rate: float | None = Field(description="unknown / contacts.")
    requests: int
    provider_errors: int = Field(description="Requests the provider answered with an error.")
    median_latency_ms: int | None
    completed_rate: float | None = Field(description="completed / contacts.")
    difference: DifferenceBody | None = Field(
        description="Against the first account; null for the first account itself."
    )


class ComparisonBody(BaseModel):
    campaign: str
    accounts: list[AccountComparisonBody]
    not_yet_attempted: int
    reassigned: int = Field(description="First attempts failed over to another account.")
    method: str

    @classmethod
    def of(cls, found: Comparison) -> ComparisonBody:
        return cls.model_validate(found.to_json())


@router.get("/campaigns/{name}/compare", tags=["campaigns"], responses=errors.responses(404, 503))
def campaign_compare(name: str, ctx: Context) -> ComparisonBody:
    """The campaign's accounts compared: contacts, placed, outcome mix, unknown rate, provider
    errors, median latency, and the completed rate's difference from the first account with a
    95 % confidence interval. Reads the whole campaign once per request: ask on demand."""
    return ComparisonBody.of(compare_accounts(ctx.engine, name))
