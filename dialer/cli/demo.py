"""``dialer demo``: run the demo campaign end to end and show what the ledger recorded."""

from __future__ import annotations

import csv
import logging
from pathlib import Path
from typing import Annotated

import typer

from dialer.cli.context import console, counts_line, err_console


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
        f"Imported {summary.rows_read} rows: {summary.accepted} contacts, "
        f"{summary.rejected_total} rejected ({_reasons(summary.rejected)})"
    )
    console.print(f"Campaign {report.name!r} is {report.status}: {counts_line(report.contacts)}")
    retried = {phone: n for phone, n in result.requests_by_phone.items() if n > 1}
    console.print(
        f"The sandbox received {sum(result.requests_by_phone.values())} requests for "
        f"{len(result.requests_by_phone)} numbers; retried after 503/429: {len(retried)}"
    )
    _show_export(result.export_path)
    console.print(f"Export: {result.export_path}   Rejects: {summary.rejects_path}")


def _reasons(counts: dict[str, int]) -> str:
    return ", ".join(f"{reason} {count}" for reason, count in sorted(counts.items())) or "none"


def _show_export(path: Path, limit: int = 12) -> None:
    from rich import box
    from rich.table import Column, Table

    table = Table(
        Column("row", no_wrap=True, min_width=3),
        Column("phone", no_wrap=True, min_width=12),
        Column("status", no_wrap=True, min_width=7),
        Column("attempts", no_wrap=True, justify="right", min_width=8),
        Column("provider_call_id", no_wrap=True, overflow="ellipsis", max_width=16),
        Column("error", no_wrap=True, overflow="ellipsis", max_width=30),
        box=box.SIMPLE_HEAD,
        show_edge=False,
    )
    with path.open(newline="", encoding="utf-8") as stream:
        for index, row in enumerate(csv.DictReader(stream)):
            if index >= limit:
                break
            table.add_row(
                row["row"],
                row["phone"],
                row["status"],
                row["attempts"],
                row["provider_call_id"][:24],
                row["error"][:60],
            )
    console.print(table)
