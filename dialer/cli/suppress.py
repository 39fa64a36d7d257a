"""``dialer suppress add|list|remove``: the global do-not-call list."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from dialer.cli.context import console, context, plural
from dialer.cli.help import Command, Group
from dialer.errors import InputError

app = typer.Typer(cls=Group, help="The global do-not-call list.", no_args_is_help=True)


def _numbers(items: list[str], region: str) -> tuple[set[str], str]:
    from campaigns.suppression import read_number_list
    from dialer.leads.phones import PhoneNumber, normalize_phone

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


@app.command(cls=Command)
def add(
    ctx: typer.Context,
    items: Annotated[list[str], typer.Argument(help="Files (CSV or one per line) or numbers.")],
    region: Annotated[str, typer.Option(help="Default country of the numbers.")] = "US",
) -> None:
    """Add numbers nobody may call, in any campaign, from now on (dispatch checks it too)."""
    from dialer.ledger import contacts as ledger_contacts
    from dialer.ledger import dispatch as ledger_dispatch
    from dialer.ledger.engine import session_scope, utcnow

    cli = context(ctx)
    numbers, source = _numbers(items, region.upper())
    with session_scope(cli.engine) as session:
        added = ledger_contacts.add_suppressions(
            session, phones=numbers, source=source, now=utcnow()
        )
        ledger_dispatch.cancel_listed(session, phones=numbers, now=utcnow())
    already = len(numbers) - added
    console.print(
        f"{plural(added, 'number')} added ({plural(already, 'was', 'were')} already listed)"
    )


@app.command(cls=Command)
def remove(
    ctx: typer.Context,
    items: Annotated[list[str], typer.Argument(help="Files or numbers to take off the list.")],
    region: Annotated[str, typer.Option(help="Default country of the numbers.")] = "US",
) -> None:
    """Take numbers off the global do-not-call list."""
    from dialer.ledger import contacts as ledger_contacts
    from dialer.ledger.engine import session_scope

    cli = context(ctx)
    numbers, _ = _numbers(items, region.upper())
    with session_scope(cli.engine) as session:
        removed = ledger_contacts.remove_suppressions(session, phones=numbers)
    console.print(f"{plural(removed, 'number')} removed")


@app.command("list", cls=Command)
def list_numbers(
    ctx: typer.Context,
    source: Annotated[
        str | None,
        typer.Option(help="Only the numbers of this source, e.g. 'provider': bad numbers."),
    ] = None,
) -> None:
    """Print the global do-not-call list (number, source, added at, reason)."""
    from dialer.ledger import contacts as ledger_contacts
    from dialer.ledger.engine import session_scope

    cli = context(ctx)
    with session_scope(cli.engine) as session:
        rows = ledger_contacts.list_suppressions(session, source=source)
    for row in rows:
        # Plain tab-separated lines (not rich): this output is meant for scripts too.
        typer.echo(f"{row.phone}\t{row.source}\t{row.created_at.isoformat()}\t{row.reason}")
    if not rows:
        scope = f" has no number from {source!r}" if source else " is empty"
        console.print(f"the do-not-call list{scope}", markup=False)
