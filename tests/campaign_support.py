"""What tests and benchmarks that dial the sandbox share: settings with one ``sandbox`` account
at it (embedded mode), and a campaign of given numbers imported (and started) on an account."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy.engine import Engine

from campaigns import lifecycle
from campaigns.importer import import_campaign
from campaigns.spec import CampaignSpec
from dialer.ledger.engine import utcnow
from dialer.polling import POLL_SECONDS
from dialer.settings import AccountConfig, Settings


def sandbox_settings(
    database_url: str,
    sandbox_url: str,
    *,
    rate: str = "200/s",
    poll_seconds: float = POLL_SECONDS,
    **account: object,
) -> Settings:
    """One ``sandbox`` account at ``rate`` with a small retry budget and short backoff (more
    fields in ``account``), and fast ticks."""
    fields: dict[str, object] = {
        "name": "sandbox",
        "provider": "sandbox",
        "base_url": sandbox_url,
        "rate": rate,
        "timeout": 2,
        "max_attempts": 3,
        "backoff_seconds": 0.2,
        **account,
    }
    return Settings(
        database_url=database_url,
        accounts={"sandbox": AccountConfig.model_validate(fields)},
        tick_seconds=0.1,
        poll_seconds=poll_seconds,
    )


def sandbox_campaign(
    engine: Engine,
    settings: Settings,
    tmp_path: Path,
    phones: list[str],
    *,
    name: str = "spring",
    account: str = "sandbox",
    window: str = "00:00-24:00",
    start: bool = True,
    max_attempts: int | None = None,
    retry_after: str | None = None,
) -> None:
    """Import ``phones`` (with a ``First Name`` each) as campaign ``name`` on ``account``,
    every day in ``window``; every one must be accepted. Started unless ``start`` is False."""
    leads = tmp_path / f"{name}.csv"
    rows = ["First Name,Phone", *(f"Lead{i},{phone}" for i, phone in enumerate(phones))]
    leads.write_text("\n".join(rows) + "\n", encoding="utf-8")
    spec = CampaignSpec(
        name=name,
        account=account,
        csv_path=leads,
        rejects_path=tmp_path / f"{name}-rejects.csv",
        window=window,
        days="all",
        max_attempts=max_attempts,
        retry_after=retry_after,
    )
    assert import_campaign(engine, settings, spec, now=utcnow()).accepted == len(phones)
    if start:
        lifecycle.change(engine, name, "start", now=utcnow())
