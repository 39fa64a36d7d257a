"""Campaigns on every outcome-reporting provider, dialed for real against the sandbox, for the
outcome tests (webhooks, polling, re-calls)."""

from __future__ import annotations

from collections import Counter
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import text
from sqlalchemy.engine import Engine
from sqlmodel import col, select

from dialer.ledger import campaigns as ledger_campaigns
from dialer.ledger.engine import session_scope
from dialer.models import Attempt, Campaign
from dialer.service import CallService
from dialer.settings import AccountConfig, Settings
from tests.campaign_support import sandbox_campaign
from tests.draining import drain

NOWHERE = "http://127.0.0.1:9"
"""A public_url nothing listens on (the discard port): webhooks sent there go nowhere."""


def accounts(sandbox_url: str) -> dict[str, AccountConfig]:
    """One account per provider that reports outcomes, named after it, at the sandbox."""
    common: dict[str, Any] = {"base_url": sandbox_url, "rate": "200/s", "timeout": 2}
    fields: dict[str, dict[str, Any]] = {
        "allomia": {"api_key": "allo-key", "assistant_id": "a1", "phone_number_id": "p1"},
        "trillet": {"workspace_id": "ws1", "agent_id": "agent1"},
        "polyai": {"token": "poly-token"},
        "sandbox": {},
    }
    return {
        kind: AccountConfig(name=kind, provider=kind, **common, **extra)  # type: ignore[arg-type]
        for kind, extra in fields.items()
    }


def outcome_settings(database_url: str, sandbox_url: str, **extra: Any) -> Settings:
    fields: dict[str, Any] = {
        "database_url": database_url,
        "accounts": accounts(sandbox_url),
        "tick_seconds": 0.1,
        "public_url": NOWHERE,
        # These tests dial one number in a campaign per provider at once, and re-call within
        # real minutes by back-dating reports: no minimum gap (it has its own tests in
        # tests/integration/test_recalls.py).
        "min_call_gap": "0",
        **extra,
    }
    return Settings.model_validate(fields)


def make_campaign(
    engine: Engine,
    settings: Settings,
    tmp_path: Path,
    phones: list[str],
    *,
    name: str,
    account: str,
    max_attempts: int | None = None,
    retry_after: str | None = None,
) -> Campaign:
    """Import ``phones`` as a campaign on ``account`` (any time, any day) and start it."""
    sandbox_campaign(
        engine,
        settings,
        tmp_path,
        phones,
        name=name,
        account=account,
        max_attempts=max_attempts,
        retry_after=retry_after,
    )
    with session_scope(engine) as session:
        return ledger_campaigns.get_campaign(session, name=name)


def dial_all(dialer: CallService, timeout: float = 30) -> None:
    """Run the embedded runner with ``--drain`` (polling only at its first tick)."""
    drain(dialer, timeout=timeout, poll_seconds=3600)


def attempts(engine: Engine, campaign: str) -> list[Attempt]:
    with session_scope(engine) as session:
        found = ledger_campaigns.get_campaign(session, name=campaign)
        query = select(Attempt).where(col(Attempt.campaign_id) == found.id)
        return list(session.exec(query.order_by(col(Attempt.id))))


def snapshot(engine: Engine) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of the tables an outcome may change, to compare before and after."""
    with engine.connect() as connection:
        return {
            table: sorted(tuple(row) for row in connection.execute(text(f"SELECT * FROM {table}")))
            for table in ("campaign", "contact", "attempt")
        }


def sandbox_calls(sandbox_url: str, path_prefix: str, method: str = "POST") -> Counter[str]:
    """Requests the sandbox received under ``path_prefix``, by dialed phone (or by path)."""
    records = httpx.get(f"{sandbox_url}/_sandbox/requests").json()
    return Counter(
        r["phone"] or r["path"]
        for r in records
        if r["path"].startswith(path_prefix) and r["method"] == method
    )
