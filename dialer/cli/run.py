"""``dialer run``: dispatch in this process, no broker needed."""

from __future__ import annotations

import signal
from types import FrameType
from typing import Annotated

import typer

from dialer.cli.context import context, err_console


def run(
    ctx: typer.Context,
    names: Annotated[
        list[str] | None, typer.Argument(help="Campaigns to run (default: every running one).")
    ] = None,
    drain: Annotated[
        bool, typer.Option("--drain", help="Exit once nothing is in flight or due now.")
    ] = False,
    threads: Annotated[
        int,
        typer.Option(
            help="Dispatch threads; up to twice as many contacts are claimed at once "
            "(each account sends at most its `sending_threads` requests at once).",
            min=1,
        ),
    ] = 32,
) -> None:
    """Run the scheduler and the dialer in this process until Ctrl-C (or --drain)."""
    from campaigns.progress import campaigns_to_show
    from dialer.cli.run_display import final_report, showing
    from dialer.runner import EmbeddedRunner
    from dialer.wiring import build_service

    cli = context(ctx)
    shown = campaigns_to_show(cli.engine, names or ())
    runner = EmbeddedRunner(
        build_service(cli.settings, cli.engine),
        names or (),
        threads=threads,
        poll_seconds=cli.settings.poll_seconds,
    )

    def stop(_signum: int, _frame: FrameType | None) -> None:
        err_console.print("stopping: letting calls in flight finish...")
        runner.stop()
        # A second Ctrl-C is the user insisting: the default handler interrupts.
        signal.signal(signal.SIGINT, signal.default_int_handler)

    signal.signal(signal.SIGINT, stop)
    signal.signal(signal.SIGTERM, stop)
    with showing(cli.engine, shown):
        runner.run(drain=drain)
    final_report(cli.engine, shown)
