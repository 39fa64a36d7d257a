"""``GET /accounts``: the provider accounts a campaign can use (names, kinds and capacity)."""

from __future__ import annotations

from datetime import datetime

from fastapi import APIRouter

from dialer.api import errors
from dialer.api.auth import AUTHENTICATED
from dialer.api.context import ApiContext, Context
from dialer.api.schemas import Account, AccountCapacity, messages_of
from dialer.capacity import accounts as capacity
from dialer.ledger.engine import utcnow
from dialer.settings import AccountConfig

router = APIRouter(tags=["accounts"], dependencies=AUTHENTICATED, responses=errors.responses(401))


# Fields that do not apply (no capacity known, no hold...) are left out, not null.
@router.get("/accounts", response_model_exclude_none=True)
def list_accounts(ctx: Context) -> list[Account]:
    """Every configured account, by name, with the message fields its provider takes and its
    capacity (calls in progress of its cap, breaker, hold) when this server can read it: a
    broker is configured, or this server dials. Credentials never leave the server."""
    now = utcnow()
    return [
        Account(
            name=name,
            provider=account.provider,
            messages=messages_of(account.provider),
            capacity=capacity_now(ctx, account, now),
        )
        for name, account in sorted(ctx.settings.accounts.items())
    ]


def capacity_now(ctx: ApiContext, account: AccountConfig, now: datetime) -> AccountCapacity | None:
    """``account``'s capacity from the server's gate; None without one or when unreachable."""
    return (
        None
        if ctx.gate is None
        else AccountCapacity.of(capacity.capacity_of(ctx.gate, account, now))
    )
