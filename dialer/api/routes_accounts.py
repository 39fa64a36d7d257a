"""``GET /accounts``: the provider accounts a campaign can use (names and kinds only)."""

from __future__ import annotations

from fastapi import APIRouter

from dialer.api import errors
from dialer.api.auth import AUTHENTICATED
from dialer.api.context import Context
from dialer.api.schemas import Account

router = APIRouter(tags=["accounts"], dependencies=AUTHENTICATED, responses=errors.responses(401))


@router.get("/accounts")
def list_accounts(ctx: Context) -> list[Account]:
    """Every configured account, by name. Credentials never leave the server."""
    return [
        Account(name=name, provider=account.provider)
        for name, account in sorted(ctx.settings.accounts.items())
    ]
