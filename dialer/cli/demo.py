"""``dialer demo``: run the demo campaign end to end and show what the ledger recorded."""

from __future__ import annotations

import csv
import logging
from pathlib import Path
from typing import Annotated

import typer

from dialer.cli.context import console, counts_line, err_console, plural


def demo(
    workdir: Annotated[Path, typer.Option(help="Where the demo's ledger and files go.")] = Path(
        "demo-output"
    ),
) -> None:
    """Import the sample leads, dial them all against a local sandbox, print the results."""
    # Imported here: the sandbox and runner cost every other command startup time.
    from rich.progress import Progress as Bar
    from rich.progress import TextColumn

    from campaigns.demo import run_demo
    from dialer.runner import Progress

    # The demo provokes a dropped connection on purpose: its warning would only be noise here.
    logging.getLogger("dialer").setLevel(logging.ERROR)
    console.print("Starting a local sandbox provider and an embedded dialer (SQLite, no Redis)")
    with Bar(TextColumn("{task.description}"), console=err_console, transient=True) as bar:
        task = bar.add_task("dialing")

        def show(progress: Progress) -> None:
            bar.update(task, description=counts_line(progress.counts))

        result = run_demo(workdir, on_progress=show)
    summary, report = result.summary, result.report
    console.print(
        f"Imported {plural(summary.rows_read, 'row')}: {plural(summary.accepted, 'contact')}, "
        f"{summary.rejected_total} rejected ({_reasons(summary.rejected)})",
        soft_wrap=True,
    )
    console.print(
        f"Campaign {report.name!r} is {report.status}: {counts_line(report.contacts)}",
        soft_wrap=True,
    )
    retried = {phone: n for phone, n in result.requests_by_phone.items() if n > 1}
    console.print(
        f"The sandbox received {plural(sum(result.requests_by_phone.values()), 'request')} for "
        f"{plural(len(result.requests_by_phone), 'number')}; retried after 503/429: "
        f"{len(retried)}",
        soft_wrap=True,
    )
    _show_export(result.export_path)
    console.print(f"Export: {result.export_path}   Rejects: {summary.rejects_path}", soft_wrap=True)


def _reasons(counts: dict[str, int]) -> str:
    return ", ".join(f"{reason} {count}" for reason, count in sorted(counts.items())) or "none"


def _show_export(path: Path, limit: int = 12) -> None:
    """The export's first ``limit`` rows as a table, and how many more the file holds. Errors
    wrap rather than being cut, on a terminal or not (off one, the table may be 200 wide)."""
    from rich import box
    from rich.console import Console
    from rich.table import Column, Table

    table = Table(
        Column("row", no_wrap=True, min_width=3),
        Column("phone", no_wrap=True, min_width=12),
        Column("status", no_wrap=True, min_width=7),
        Column("attempts", no_wrap=True, justify="right", min_width=8),
        Column("provider_call_id", no_wrap=True, overflow="ellipsis", max_width=16),
        Column("error", overflow="fold", min_width=20),
        box=box.SIMPLE_HEAD,
        show_edge=False,
    )
    total = 0
    with path.open(newline="", encoding="utf-8") as stream:
        for total, row in enumerate(csv.DictReader(stream), start=1):
            if total <= limit:
                table.add_row(
                    row["row"],
                    row["phone"],
                    row["status"],
                    row["attempts"],
                    row["provider_call_id"],
                    row["error"],
                )
    # Off a terminal rich assumes 80 columns; a file or a pipe has room for whole errors.
    wide = console if console.is_terminal else Console(highlight=False, width=200)
    wide.print(table)
    if total > limit:
        console.print(f"... and {plural(total - limit, 'more contact')} in the export")
