"""What every command shares: the settings and the ledger engine, built once on first use."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import typer
from rich.console import Console

if TYPE_CHECKING:
    from sqlalchemy.engine import Engine

    from dialer.settings import Settings

console = Console(highlight=False)
err_console = Console(stderr=True, highlight=False)


@dataclass
class CliContext:
    config: Path | None = None
    _settings: Settings | None = field(default=None, repr=False)
    _engine: Engine | None = field(default=None, repr=False)
    _subscribed: bool = field(default=False, repr=False)

    @property
    def settings(self) -> Settings:
        if self._settings is None:
            from dialer import logredaction
            from dialer.settings import load_settings

            self._settings = load_settings(self.config)
            logredaction.install(self._settings)
        return self._settings

    @property
    def engine(self) -> Engine:
        """The ledger engine, its schema migrated to the newest revision, the ledger told
        which webhook endpoints want which events (a command that changes it writes them)."""
        engine = self.reading_engine
        if not self._subscribed:
            from dialer.webhooks.subscriptions import subscribe

            subscribe(engine, self.settings.webhooks)
            self._subscribed = True
        return engine

    @property
    def reading_engine(self) -> Engine:
        """The ledger engine for a command that only reads (``campaign status``): migrated,
        but without the webhook subscriptions, whose write imports the ORM."""
        if self._engine is None:
            from dialer.ledger.engine import make_engine, migrate

            self._engine = make_engine(self.settings.database_url)
            migrate(self._engine)
        return self._engine


def context(ctx: typer.Context) -> CliContext:
    obj = ctx.find_root().obj
    assert isinstance(obj, CliContext)
    return obj


def configure_logging(verbose: bool) -> None:
    from dialer import logredaction

    logredaction.install()
    logging.basicConfig(
        level=logging.INFO if verbose else logging.WARNING,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )


def plural(count: int, noun: str, nouns: str = "") -> str:
    """``1 number``, ``2 numbers``: the count (with thousands separators) and the noun."""
    return f"{count:,} {noun if count == 1 else nouns or noun + 's'}"


def counts_line(counts: dict[str, int]) -> str:
    """One line of contact counts by state, as ``run`` and ``demo`` show them."""
    waiting = counts.get("pending", 0) + counts.get("queued", 0)
    return (
        f"placed {counts.get('placed', 0):,}  failed {counts.get('failed', 0):,}  "
        f"unknown {counts.get('unknown', 0):,}  dialing {counts.get('dialing', 0):,}  "
        f"pending {waiting:,}  cancelled {counts.get('cancelled', 0):,}"
    )
