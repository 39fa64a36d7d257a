"""Entry point: the command tree, and the one place errors become messages and exit codes."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer

from dialer.cli import campaign, db, demo, keygen, run, sandbox, serve, suppress, webhooks
from dialer.cli.context import CliContext, configure_logging, err_console
from dialer.cli.help import Command, Group
from dialer.errors import DialerError, ServiceUnavailable

app = typer.Typer(
    cls=Group,
    name="dialer",
    help="Bulk campaign dialer for AI voice agents.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
app.add_typer(campaign.app, name="campaign")
app.add_typer(suppress.app, name="suppress")
app.add_typer(db.app, name="db")
app.add_typer(webhooks.app, name="webhooks")
app.command("run", cls=Command)(run.run)
app.command("sandbox", cls=Command)(sandbox.sandbox)
app.command("demo", cls=Command)(demo.demo)
app.command("serve", cls=Command)(serve.serve)
app.command("keygen", cls=Command)(keygen.keygen)


@app.callback()
def root(
    ctx: typer.Context,
    config: Annotated[
        Path | None,
        typer.Option("--config", help="dialer.toml to use (else $DIALER_CONFIG, ./dialer.toml)"),
    ] = None,
    verbose: Annotated[bool, typer.Option("--verbose", "-v", help="Log each attempt.")] = False,
) -> None:
    configure_logging(verbose)
    ctx.obj = CliContext(config=config)


EXIT_USER_ERROR = 1
EXIT_SERVICE = 3
EXIT_INTERRUPTED = 130


def main() -> None:
    """Run the CLI. A DialerError is one line on stderr and a non-zero exit, never a traceback."""
    try:
        app()
    except ServiceUnavailable as exc:
        err_console.print(f"error: {exc}", markup=False, soft_wrap=True)
        sys.exit(EXIT_SERVICE)
    except DialerError as exc:
        err_console.print(f"error: {exc}", markup=False, soft_wrap=True)
        sys.exit(EXIT_USER_ERROR)
    except KeyboardInterrupt:
        err_console.print("interrupted", markup=False)
        sys.exit(EXIT_INTERRUPTED)
