"""``dialer db upgrade``: bring the ledger schema up to date (the compose stack's one-shot)."""

from __future__ import annotations

import typer

from dialer.cli.context import console, context

app = typer.Typer(help="Ledger database maintenance.", no_args_is_help=True)


@app.command()
def upgrade(ctx: typer.Context) -> None:
    """Apply every pending schema migration (safe to run from several machines at once)."""
    cli = context(ctx)
    cli.engine  # noqa: B018  (building the engine migrates it)
    console.print("ledger schema is up to date")
