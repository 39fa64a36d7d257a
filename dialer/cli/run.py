"""``dialer run``: dispatch in this process, no broker needed."""

from __future__ import annotations

import signal
from types import FrameType
from typing import Annotated

import typer
from rich.progress import Progress as Bar
from rich.progress import TextColumn

from dialer.cli.context import console, context, counts_line, err_console
from dialer.runner import EmbeddedRunner, Progress
from dialer.wiring import build_service


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
            "(each account sends at most its `concurrency` requests at once).",
            min=1,
        ),
    ] = 32,
) -> None:
    """Run the scheduler and the dialer in this process until Ctrl-C (or --drain)."""
    cli = context(ctx)
    runner = EmbeddedRunner(build_service(cli.settings, cli.engine), names or (), threads=threads)

    def stop(_signum: int, _frame: FrameType | None) -> None:
        err_console.print("stopping: letting calls in flight finish...")
        runner.stop()
        # A second Ctrl-C is the user insisting: the default handler interrupts.
        signal.signal(signal.SIGINT, signal.default_int_handler)

    signal.signal(signal.SIGINT, stop)
    signal.signal(signal.SIGTERM, stop)
    last: dict[str, int] = {}
    with Bar(TextColumn("{task.description}"), console=err_console, transient=True) as bar:
        task = bar.add_task("starting")

        def show(progress: Progress) -> None:
            last.clear()
            last.update(progress.counts)
            bar.update(task, description=counts_line(progress.counts))

        runner.run(drain=drain, on_progress=show)
    console.print(counts_line(last) if last else "nothing to run")
