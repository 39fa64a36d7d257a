"""``dialer campaign ...``: create, start, pause, resume, cancel, retry, recycle, status, export,
list."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from dialer.cli.context import console, context, err_console, plural
from dialer.cli.help import Command, Group
from dialer.names import campaign_name
from dialer.windows import DEFAULT_DAYS, DEFAULT_WINDOW

if TYPE_CHECKING:
    from campaigns.compare import Comparison
    from campaigns.importer import ImportSummary
    from campaigns.preview import ImportPreview
    from campaigns.status import CampaignReport

# Each command imports what it needs when it runs: pandas, SQLAlchemy and the rest would
# cost every command (and `--help`) a second or more of start-up.

app = typer.Typer(cls=Group, help="Create and control campaigns.", no_args_is_help=True)

MAX_ATTEMPTS_DEPRECATED = (
    "warning: --max-attempts is now --max-calls (calls per contact); "
    "the old name will go away in a later release"
)

# Files smaller than this import in about a second: no progress bar needed.
_PROGRESS_BAR_BYTES = 5_000_000


@app.command(cls=Command)
def create(
    ctx: typer.Context,
    name: Annotated[str, typer.Argument(help="Campaign name (unique).")],
    account: Annotated[
        list[str],
        typer.Option(
            help="Provider account from dialer.toml; repeat as NAME=WEIGHT to split the "
            "contacts between several (e.g. --account a=70 --account b=30)."
        ),
    ],
    csv: Annotated[Path, typer.Option("--csv", help="Leads file.")],
    region: Annotated[str, typer.Option(help="Default country of the numbers.")] = "US",
    phone_column: Annotated[
        list[str] | None,
        typer.Option(help="Column holding the phone (repeat: several, preferred first)."),
    ] = None,
    country_column: Annotated[
        str | None, typer.Option(help="Column with each row's ISO country code.")
    ] = None,
    suppress: Annotated[
        list[Path] | None, typer.Option(help="Do-not-call list for this campaign (repeatable).")
    ] = None,
    rejects: Annotated[
        Path | None, typer.Option(help="Where rejected rows go (default NAME-rejects.csv).")
    ] = None,
    start: Annotated[str | None, typer.Option(help="ISO 8601 start (default: on start).")] = None,
    end: Annotated[str | None, typer.Option(help="ISO 8601 end: dialing stops then.")] = None,
    window: Annotated[
        str, typer.Option(help="Calling window in each recipient's local time.")
    ] = DEFAULT_WINDOW,
    days: Annotated[str, typer.Option(help="Days the window opens.")] = DEFAULT_DAYS,
    timezone: Annotated[
        str | None, typer.Option(help="Zone for numbers with no known zone (default UTC).")
    ] = None,
    max_calls: Annotated[
        int | None,
        typer.Option(help="Calls per contact: a no-answer/busy is called again until then.", min=1),
    ] = None,
    max_attempts: Annotated[
        int | None, typer.Option(hidden=True, help="Old name of --max-calls.", min=1)
    ] = None,
    retry_after: Annotated[
        str | None, typer.Option(help="Wait before calling a no-answer/busy again, e.g. 2h.")
    ] = None,
    recall: Annotated[
        list[str] | None,
        typer.Option(
            help="Recall ladder of an outcome, e.g. no-answer=1h,4h,1d (repeat per outcome; "
            "an outcome without one is final)."
        ),
    ] = None,
    order: Annotated[
        str,
        typer.Option(help="Due contacts first: fresh-first, recalls-first or interleave."),
    ] = "interleave",
    intro: Annotated[str, typer.Option(help="Message when a human answers.")] = "",
    voicemail: Annotated[str, typer.Option(help="Message left on voicemail.")] = "",
    instructions: Annotated[str, typer.Option(help="Call instructions (instead).")] = "",
    intro_notes: Annotated[str, typer.Option(help="Notes the agent builds its intro from.")] = "",
    question: Annotated[list[str] | None, typer.Option(help="Question to ask (repeat).")] = None,
    rule: Annotated[list[str] | None, typer.Option(help="Conversation rule (repeat).")] = None,
    var: Annotated[
        list[str] | None, typer.Option(help="KEY=VALUE for every call (repeat).")
    ] = None,
    append: Annotated[
        bool, typer.Option("--append", help="Add these leads to an existing campaign.")
    ] = False,
    dry_run: Annotated[
        bool,
        typer.Option("--dry-run", help="Read, check and report the file; create nothing."),
    ] = False,
    failover: Annotated[
        bool,
        typer.Option(
            "--failover",
            help="Send contacts not yet called to the other accounts while one cannot call.",
        ),
    ] = False,
) -> None:
    """Import a leads CSV into a new campaign (or --append to an existing one)."""
    from rich.progress import BarColumn, DownloadColumn, Progress, TimeRemainingColumn

    from campaigns.importer import import_campaign
    from campaigns.preview import preview_import
    from campaigns.spec import CampaignSpec
    from dialer.ledger.engine import utcnow
    from dialer.split import parse_shares
    from dialer.templates import MessageTemplates, parse_variables

    if max_attempts is not None:
        err_console.print(MAX_ATTEMPTS_DEPRECATED, markup=False, soft_wrap=True)
    cli = context(ctx)
    shares = parse_shares(account)
    spec = CampaignSpec(
        name=campaign_name(name),
        account=shares[0].account,
        shares=shares if len(shares) > 1 else (),
        failover=failover,
        csv_path=csv,
        region=region.upper(),
        phone_column=tuple(phone_column) if phone_column else None,
        country_column=country_column,
        suppress_files=tuple(suppress or ()),
        rejects_path=rejects,
        start=start,
        end=end,
        window=window,
        days=days,
        timezone=timezone,
        max_attempts=max_calls if max_calls is not None else max_attempts,
        retry_after=retry_after,
        recall=tuple(recall or ()),
        order=order,
        templates=MessageTemplates(
            intro=intro,
            voicemail=voicemail,
            instructions=instructions,
            intro_notes=intro_notes,
            questions=tuple(question or ()),
            rules=tuple(rule or ()),
            variables=parse_variables(var or []),
        ),
        append=append,
    )
    if dry_run:
        preview = preview_import(
            cli.settings, spec, now=utcnow(), engine=cli.engine, rejects=spec.rejects
        )
        _print_preview(preview, csv)
        return
    size = csv.stat().st_size if csv.is_file() else 0
    show_bar = size > _PROGRESS_BAR_BYTES and err_console.is_terminal
    with Progress(
        "[progress.description]{task.description}",
        BarColumn(),
        DownloadColumn(),
        TimeRemainingColumn(),
        console=err_console,
        transient=True,
        disable=not show_bar,
    ) as bar:
        task = bar.add_task(f"importing {csv.name}", total=size)
        summary = import_campaign(
            cli.engine,
            cli.settings,
            spec,
            now=utcnow(),
            progress=lambda done, total: bar.update(task, completed=done, total=total),
        )
    _print_summary(summary, csv)


def _print_summary(summary: ImportSummary, csv: Path) -> None:
    verb = "Appended" if summary.appended else "Imported"
    console.print(f"{verb} {csv.name} into campaign {summary.campaign!r}")
    _print_counts(summary)
    if not summary.appended:
        console.print(f"Next: dialer campaign start {summary.campaign}")


def _print_preview(preview: ImportPreview, csv: Path) -> None:
    summary = preview.summary
    console.print(f"Dry run: {csv.name} for campaign {summary.campaign!r}; nothing was created")
    _print_counts(summary)
    if preview.contacts:
        console.print(f"The first {len(preview.contacts)} contacts, as they will be dialed:")
    for contact in preview.contacts:
        line = f"  row {contact.row:<6} {contact.phone:<16} {contact.number_type:<22}"
        console.print(f"{line} {', '.join(contact.timezones)}", markup=False)
    if preview.estimate:
        # One line however long: the estimate is read by scripts as well as people.
        console.print(f"Estimate: {preview.estimate}", markup=False, soft_wrap=True)


def _print_counts(summary: ImportSummary) -> None:
    console.print(f"  rows read  {summary.rows_read:>10,}")
    console.print(f"  accepted   {summary.accepted:>10,}")
    console.print(f"  rejected   {summary.rejected_total:>10,}")
    for reason, count in summary.rejected.most_common():
        console.print(f"    {reason:<24} {count:>8,}", markup=False)
    used = ", ".join(f"{header} ({count:,})" for header, count in summary.phone_columns.items())
    console.print(f"Phone numbers from: {used}", markup=False)
    if summary.rejected_total:
        console.print(f"Rejected rows (row, value, reason, detail) are in {summary.rejects_path}")


def _change(ctx: typer.Context, name: str, action: str) -> None:
    from campaigns import lifecycle
    from campaigns.status import campaign_report
    from dialer.ledger.engine import utcnow

    cli = context(ctx)
    now = utcnow()
    campaign = lifecycle.change(cli.engine, name, action, now=now)
    console.print(f"Campaign {campaign.name!r} is {campaign.status}.")
    if action in ("start", "resume"):
        report = campaign_report(cli.engine, cli.settings, name, now=now)
        if report.estimate:
            console.print(report.estimate, markup=False)
        if cli.settings.embedded:
            console.print(f"No broker configured: dial with `dialer run {name}`.", markup=False)


@app.command(cls=Command)
def start(ctx: typer.Context, name: str) -> None:
    """Start dialing (at --start if that is later)."""
    _change(ctx, name, "start")


@app.command(cls=Command)
def pause(ctx: typer.Context, name: str) -> None:
    """Hold every call, including retries waiting for their backoff."""
    _change(ctx, name, "pause")


@app.command(cls=Command)
def resume(ctx: typer.Context, name: str) -> None:
    """Continue a paused campaign."""
    _change(ctx, name, "resume")


@app.command(cls=Command)
def cancel(ctx: typer.Context, name: str) -> None:
    """Stop for good: every contact not yet dialed becomes cancelled."""
    _change(ctx, name, "cancel")


@app.command(cls=Command)
def retry(
    ctx: typer.Context,
    name: str,
    status: Annotated[str, typer.Option(help="Which contacts: failed,unknown,cancelled.")],
) -> None:
    """Put chosen contacts back to pending (the only way an unknown contact is redialed)."""
    from campaigns import lifecycle
    from dialer.ledger.engine import utcnow

    cli = context(ctx)
    states = [s.strip() for s in status.split(",") if s.strip()]
    count = lifecycle.retry(cli.engine, name, states, now=utcnow())
    verb = "is" if count == 1 else "are"
    console.print(f"{plural(count, 'contact')} of {name!r} {verb} pending again.", markup=False)


@app.command(cls=Command)
def recycle(
    ctx: typer.Context,
    name: str,
    outcome: Annotated[
        str, typer.Option(help="Which calls' contacts: no-answer,busy,voicemail,failed,completed.")
    ],
    into: Annotated[
        str | None,
        typer.Option(help="Copy them into this new (draft) campaign instead of reopening them."),
    ] = None,
) -> None:
    """Call again the contacts whose calls ended with these outcomes, with a fresh budget.

    Reopened in NAME or copied into a new campaign; never unknown calls, listed or bad numbers.
    """
    from campaigns import lifecycle
    from dialer.ledger.engine import utcnow

    cli = context(ctx)
    outcomes = [o.strip() for o in outcome.split(",") if o.strip()]
    done = lifecycle.recycle(cli.engine, name, outcomes, into=into, now=utcnow())
    if done.created:
        console.print(
            f"Campaign {done.campaign!r} created (draft) with {plural(done.contacts, 'contact')}"
            f" of {name!r}; start it to dial them.",
            markup=False,
        )
        return
    verb = "is" if done.contacts == 1 else "are"
    console.print(
        f"{plural(done.contacts, 'contact')} of {name!r} {verb} pending again.", markup=False
    )


@app.command(cls=Command)
def status(
    ctx: typer.Context,
    name: str,
    as_json: Annotated[bool, typer.Option("--json", help="Machine-readable output.")] = False,
) -> None:
    """Counters, progress and the finish estimate of one campaign."""
    from campaigns.status import campaign_report, report_from
    from dialer.clock import utcnow
    from dialer.ledger.plainread import open_ledger

    cli = context(ctx)
    gate = None
    if cli.settings.broker_url is not None:
        # Only then is there a shared gate to read (and Redis worth importing).
        from dialer.wiring import make_gate

        gate = make_gate(cli.settings)
    # A current ledger is read without SQLAlchemy (a fifth of a second of start-up); any
    # other goes the ordinary way, which migrates it or says what is wrong.
    ledger = open_ledger(cli.settings.database_url)
    if ledger is None:
        report = campaign_report(cli.reading_engine, cli.settings, name, now=utcnow(), gate=gate)
    else:
        with ledger:
            report = report_from(ledger.fetch, cli.settings, name, now=utcnow(), gate=gate)
    if as_json:
        console.print_json(json.dumps(report.to_json()))
        return
    _print_report(report)


@app.command(cls=Command)
def compare(
    ctx: typer.Context,
    name: str,
    as_json: Annotated[bool, typer.Option("--json", help="Machine-readable output.")] = False,
) -> None:
    """The campaign's accounts side by side, with a 95 % interval on the completed rate.

    Per account: contacts, placed, outcomes, unknown rate, provider errors, median latency,
    and the difference in completed rate from the first account."""
    from campaigns.compare import compare as compare_accounts

    found = compare_accounts(context(ctx).engine, name)
    if as_json:
        console.print_json(json.dumps(found.to_json()))
        return
    _print_comparison(found)


def _print_comparison(found: Comparison) -> None:
    from campaigns.compare import OUTCOMES

    def pct(value: float | None) -> str:
        return "-" if value is None else f"{value * 100:.1f} %"

    console.print(f"Campaign {found.campaign!r}: accounts compared", markup=False)
    header = ["account", "contacts", "placed", *OUTCOMES, "unknown", "errors", "latency"]
    lines = [[*header, "completed", "vs first (95 % CI)"]]
    for row in found.accounts:
        versus = "-"
        if row.difference is not None:
            d = row.difference
            versus = f"{d.difference * 100:+.1f} pts [{d.low * 100:+.1f}, {d.high * 100:+.1f}]"
        latency = "-" if row.median_latency_ms is None else f"{row.median_latency_ms} ms"
        lines.append(
            [
                row.account,
                f"{row.contacts:,}",
                f"{row.placed:,}",
                *(f"{row.outcomes[o]:,}" for o in OUTCOMES),
                pct(row.unknown_rate),
                f"{row.provider_errors:,}",
                latency,
                pct(row.completed_rate),
                versus,
            ]
        )
    widths = [max(len(line[i]) for line in lines) for i in range(len(lines[0]))]
    for line in lines:
        cells = [
            cell.rjust(w) if i else cell.ljust(w)
            for i, (cell, w) in enumerate(zip(line, widths, strict=True))
        ]
        console.print("  " + "  ".join(cells), markup=False)
    console.print(
        f"  not yet attempted {found.not_yet_attempted:,}; reassigned {found.reassigned:,}; "
        "completed = completed / contacts; CI: two-proportion normal approximation",
        markup=False,
    )


def _print_report(report: CampaignReport) -> None:
    reason = f" ({report.status_reason})" if report.status_reason else ""
    console.print(
        f"Campaign {report.name!r} on account {report.account!r}: {report.status}{reason}",
        markup=False,
    )
    console.print(f"  window     {report.window} (fallback zone {report.timezone})", markup=False)
    if report.start_at or report.end_at:
        start = report.start_at.isoformat() if report.start_at else "on start"
        end = report.end_at.isoformat() if report.end_at else "none"
        console.print(f"  start      {start}   end {end}")
    console.print(
        f"  imported   {report.rows_accepted:,} of {report.rows_read:,} rows "
        f"({report.rows_rejected:,} rejected) from {report.source_file}",
        markup=False,
    )
    console.print(f"  progress   {report.done:,} / {report.total:,} final")
    for state, count in report.contacts.items():
        if count:
            console.print(f"    {state:<12} {count:>10,}")
    for outcome, count in report.outcomes.items():
        console.print(f"    outcome {outcome:<10} {count:>7,}", markup=False)
    console.print(f"  recalls    {report.recall_rules} ({report.order})", markup=False)
    if report.recalls_waiting or report.next_due:
        due = report.next_due.isoformat() if report.next_due else "-"
        console.print(
            f"  waiting    {report.recalls_waiting:,} to call again; next due {due}", markup=False
        )
    if report.estimate:
        console.print(f"  estimate   {report.estimate}", markup=False)
    if report.capacity:
        console.print(f"  account    {report.capacity}", markup=False)
    if report.accounts:
        console.print(f"  accounts   {report.accounts_line()}", markup=False)


@app.command(cls=Command)
def export(
    ctx: typer.Context,
    name: str,
    output: Annotated[
        Path, typer.Option("--output", "-o", help="CSV file to write ('-': standard output).")
    ],
    excel: Annotated[
        bool, typer.Option("--excel", help="UTF-8 with a byte-order mark, for Excel.")
    ] = False,
    attempts: Annotated[
        bool,
        typer.Option("--attempts", help="One row per provider request (time, account, status...)."),
    ] = False,
) -> None:
    """Write every contact with its status, attempts, call id and error to a CSV.

    With --attempts: every request instead, for audits."""
    from campaigns.export import export_to_file, export_to_stream

    cli = context(ctx)
    what = "attempt" if attempts else "contact"
    if str(output) == "-":
        count = export_to_stream(
            cli.engine, name, sys.stdout.buffer, excel=excel, attempts=attempts
        )
        err_console.print(f"Exported {plural(count, what)} of {name!r}", markup=False)
        return
    count = export_to_file(cli.engine, name, output, excel=excel, attempts=attempts)
    console.print(f"Exported {plural(count, what)} of {name!r} to {output}", markup=False)


@app.command("list", cls=Command)
def list_campaigns(ctx: typer.Context) -> None:
    """Every campaign with its status and counts."""
    from rich.table import Table

    from dialer.ledger import campaigns as ledger_campaigns
    from dialer.ledger.engine import session_scope

    cli = context(ctx)
    table = Table("name", "account", "status", "contacts", "placed", "failed", "pending")
    with session_scope(cli.engine) as session:
        for campaign in ledger_campaigns.list_campaigns(session):
            assert campaign.id is not None
            counts = ledger_campaigns.state_counts(session, campaign_id=campaign.id)
            open_count = counts["pending"] + counts["queued"] + counts["dialing"]
            table.add_row(
                campaign.name,
                campaign.account,
                campaign.status,
                f"{sum(counts.values()):,}",
                f"{counts['placed']:,}",
                f"{counts['failed']:,}",
                f"{open_count:,}",
            )
    if table.row_count:
        console.print(table)
    else:
        console.print("No campaigns yet: dialer campaign create NAME --account ACCOUNT --csv FILE")
