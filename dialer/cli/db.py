"""``dialer db upgrade``: bring the ledger schema up to date (the compose stack's one-shot)."""

from __future__ import annotations

import typer

from dialer.cli.context import console, context
from dialer.cli.help import Command, Group

app = typer.Typer(cls=Group, help="Ledger database maintenance.", no_args_is_help=True)


@app.command(cls=Command)
def upgrade(ctx: typer.Context) -> None:
    """Apply every pending schema migration (safe to run from several machines at once)."""
    from dialer.ledger.engine import make_engine, migrate
    from dialer.ledger.revision import head_revision

    cli = context(ctx)
    engine = make_engine(cli.settings.database_url)
    try:
        before = migrate(engine)
    finally:
        engine.dispose()
    if before is None:
        console.print(f"created the ledger schema (revision {head_revision()})")
    elif before != head_revision():
        console.print(f"upgraded the ledger schema from revision {before} to {head_revision()}")
    else:
        console.print(f"the ledger schema is up to date (revision {head_revision()})")
