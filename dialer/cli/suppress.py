"""``dialer suppress add|list|remove``: the global do-not-call list."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from campaigns.suppression import read_number_list
from dialer.cli.context import console, context
from dialer.errors import InputError
from dialer.leads.phones import PhoneNumber, normalize_phone
from dialer.ledger import contacts as ledger_contacts
from dialer.ledger.engine import session_scope, utcnow

app = typer.Typer(help="The global do-not-call list.", no_args_is_help=True)


def _numbers(items: list[str], region: str) -> tuple[set[str], str]:
    numbers: set[str] = set()
    sources: list[str] = []
    for item in items:
        path = Path(item)
        if path.is_file():
            numbers |= read_number_list(path, region)
            sources.append(path.name)
            continue
        parsed = normalize_phone(item, region)
        if not isinstance(parsed, PhoneNumber):
            raise InputError(f"{item!r} is neither a file nor a valid phone number")
        numbers.add(parsed.e164)
        sources.append("command line")
    return numbers, ", ".join(dict.fromkeys(sources))


@app.command()
def add(
    ctx: typer.Context,
    items: Annotated[list[str], typer.Argument(help="Files (CSV or one per line) or numbers.")],
    region: Annotated[str, typer.Option(help="Default country of the numbers.")] = "US",
) -> None:
    """Add numbers nobody may call, in any campaign, from now on (dispatch checks it too)."""
    cli = context(ctx)
    numbers, source = _numbers(items, region.upper())
    with session_scope(cli.engine) as session:
        added = ledger_contacts.add_suppressions(
            session, phones=numbers, source=source, now=utcnow()
        )
    console.print(f"{added:,} numbers added ({len(numbers) - added:,} were already listed)")


@app.command()
def remove(
    ctx: typer.Context,
    items: Annotated[list[str], typer.Argument(help="Files or numbers to take off the list.")],
    region: Annotated[str, typer.Option(help="Default country of the numbers.")] = "US",
) -> None:
    """Take numbers off the global do-not-call list."""
    cli = context(ctx)
    numbers, _ = _numbers(items, region.upper())
    with session_scope(cli.engine) as session:
        removed = ledger_contacts.remove_suppressions(session, phones=numbers)
    console.print(f"{removed:,} numbers removed")


@app.command("list")
def list_numbers(ctx: typer.Context) -> None:
    """Print the global do-not-call list (number, source, added at)."""
    cli = context(ctx)
    with session_scope(cli.engine) as session:
        rows = ledger_contacts.list_suppressions(session)
    for row in rows:
        # Plain tab-separated lines (not rich): this output is meant for scripts too.
        typer.echo(f"{row.phone}\t{row.source}\t{row.created_at.isoformat()}")
    if not rows:
        console.print("the do-not-call list is empty")
