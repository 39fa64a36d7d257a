"""``GET /accounts``: the provider accounts a campaign can use (names, kinds and capacity)."""

from __future__ import annotations

from fastapi import APIRouter

from dialer.api import errors
from dialer.api.auth import AUTHENTICATED
from dialer.api.context import Context
from dialer.api.schemas import Account, AccountCapacity
from dialer.capacity import accounts as capacity
from dialer.ledger.engine import utcnow

router = APIRouter(tags=["accounts"], dependencies=AUTHENTICATED, responses=errors.responses(401))


# Fields that do not apply (no capacity known, no hold...) are left out, not null.
@router.get("/accounts", response_model_exclude_none=True)
def list_accounts(ctx: Context) -> list[Account]:
    """Every configured account, by name, with its capacity (calls in progress of its cap,
    breaker, hold) when a broker is configured. Credentials never leave the server."""
    now = utcnow()
    accounts = []
    for name, account in sorted(ctx.settings.accounts.items()):
        found = None if ctx.gate is None else capacity.capacity_of(ctx.gate, account, now)
        state = None
        if found is not None:
            state = AccountCapacity(
                in_progress=found.in_progress,
                cap=found.cap,
                breaker=found.breaker,
                open_since=found.open_since,
                next_probe_at=found.next_probe_at,
                held_until=found.held_until,
            )
        accounts.append(Account(name=name, provider=account.provider, capacity=state))
    return accounts
