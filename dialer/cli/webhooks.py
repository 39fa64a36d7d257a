"""``dialer webhooks list|resend|test``: the outbox of outbound webhooks, and a signed ping."""

from __future__ import annotations

from typing import Annotated, Literal

import typer

from dialer.cli.context import console, context, err_console
from dialer.cli.help import Command, Group
from dialer.errors import InputError

app = typer.Typer(
    cls=Group, help="Outbound webhooks: events sent to your endpoints.", no_args_is_help=True
)

State = Literal["pending", "delivered", "dead"]


@app.command("list", cls=Command)
def list_events(
    ctx: typer.Context,
    status: Annotated[
        State | None, typer.Option("--status", help="Only events in this state.")
    ] = None,
    limit: Annotated[int, typer.Option(min=1, help="How many, newest first.")] = 50,
) -> None:
    """Print the newest events: id, endpoint, type, state, tries, last answer, when, webhook-id."""
    from dialer.ledger import deliveries
    from dialer.ledger.engine import session_scope

    cli = context(ctx)
    with session_scope(cli.engine) as session:
        found = deliveries.list_events(session, state=status, limit=limit)
    for event in found:
        # Plain tab-separated lines (not rich): this output is meant for scripts too.
        answer = event.last_error or (str(event.last_status) if event.last_status else "")
        typer.echo(
            f"{event.id}\t{event.endpoint}\t{event.event_type}\t{event.state}\t{event.tries}\t"
            f"{answer}\t{deliveries.aware(event.occurred_at).isoformat()}\t{event.message_id}"
        )
    if not found:
        console.print("no webhook events" + (f" {status}" if status else ""))


@app.command(cls=Command)
def resend(
    ctx: typer.Context,
    ids: Annotated[list[int] | None, typer.Argument(help="Event ids (see list).")] = None,
    dead: Annotated[bool, typer.Option("--dead", help="Every dead event.")] = False,
) -> None:
    """Send events again (same webhook-id, a fresh 24 h of retries): dead or delivered ones."""
    if not ids and not dead:
        raise InputError("name the events to resend (ids from 'dialer webhooks list') or --dead")
    from dialer.ledger import deliveries
    from dialer.ledger.engine import session_scope, utcnow

    cli = context(ctx)
    with session_scope(cli.engine) as session:
        resent = deliveries.resend(session, ids=ids or (), dead=dead, now=utcnow())
    skipped = sorted(set(ids or ()) - set(resent))
    console.print(f"{len(resent):,} events will be sent again")
    if skipped:
        err_console.print(
            f"not resent (no such event, or still pending): {', '.join(map(str, skipped))}",
            markup=False,
        )


@app.command(cls=Command)
def test(
    ctx: typer.Context, name: Annotated[str, typer.Argument(help="The endpoint's name.")]
) -> None:
    """Send a signed ``ping`` event to the endpoint now and say how it answered."""
    from dialer.ledger.engine import utcnow
    from dialer.webhooks.deliver import send_ping
    from dialer.webhooks.endpoints import find_endpoint

    endpoint = find_endpoint(context(ctx).settings.webhooks, name)
    answer = send_ping(endpoint, now=utcnow())
    where = f"{endpoint.name} ({endpoint.shown_url})"
    if answer.status is not None and 200 <= answer.status < 300:
        console.print(f"ping delivered to {where}: HTTP {answer.status}", markup=False)
        return
    err_console.print(f"error: ping to {where} failed: {answer.error}", markup=False)
    raise typer.Exit(1)
