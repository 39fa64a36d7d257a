"""What ``dialer run`` shows while it runs and when it ends (see :mod:`dialer.cli.run`).

Progress is sampled on a timer of its own (once a second on a terminal, once a minute
otherwise), never per scheduler tick: each sample is one grouped count per campaign. On a
terminal it is a live bar per campaign; otherwise a plain line per campaign whose numbers
changed. At the end, one line per campaign, saying why nothing is due when contacts wait.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Sequence

from rich.progress import BarColumn, MofNCompleteColumn, TaskID, TextColumn
from rich.progress import Progress as Bars
from sqlalchemy.engine import Engine

from campaigns.progress import CampaignProgress, read_progress, waiting_reasons
from dialer.cli.context import console, err_console
from dialer.ledger.engine import utcnow
from dialer.models import FINAL_STATES

TERMINAL_SAMPLE_SECONDS = 1.0
PLAIN_SAMPLE_SECONDS = 60.0
REASON_SECONDS = 60.0  # how often a stalled campaign's reason is looked up again


def showing(engine: Engine, shown: Sequence[str]) -> LiveBars | PlainLines:
    """The display for stderr: live bars on a terminal, plain lines otherwise."""
    return LiveBars(engine, shown) if err_console.is_terminal else PlainLines(engine, shown)


def final_report(engine: Engine, shown: Sequence[str]) -> None:
    if not shown:
        console.print("No running campaign: start one with dialer campaign start NAME")
        return
    reasons = waiting_reasons(engine, shown, now=utcnow())
    for progress in read_progress(engine, shown):
        line = _line(progress)
        if progress.name in reasons:
            line += f": {reasons[progress.name]}"
        console.print(line, markup=False, soft_wrap=True)


def _line(progress: CampaignProgress) -> str:
    finals = ", ".join(
        f"{state} {progress.counts[state]:,}"
        for state in sorted(FINAL_STATES)
        if progress.counts[state]
    )
    line = f"{progress.name} ({progress.status}): {progress.done:,} of {progress.total:,} done"
    if finals:
        line += f" ({finals})"
    if progress.in_progress:
        line += f", {progress.in_progress:,} in progress"
    return line + f", {progress.pending:,} pending"


class _Sampler:
    """Calls ``sample`` every ``every`` seconds on a thread, and once more when stopped."""

    def __init__(self, every: float, sample: Callable[[], None]) -> None:
        self.every = every
        self.sample = sample
        self.stopping = threading.Event()
        self.thread = threading.Thread(target=self._loop, name="progress", daemon=True)

    def __enter__(self) -> _Sampler:
        self.thread.start()
        return self

    def __exit__(self, *_exc: object) -> None:
        self.stopping.set()
        self.thread.join()

    def _loop(self) -> None:
        while not self.stopping.wait(self.every):
            self.sample()


class LiveBars:
    """A rich bar per campaign on stderr: done of total, calls a second, calls in progress,
    and for a campaign that waits, why."""

    def __init__(self, engine: Engine, shown: Sequence[str]) -> None:
        self.engine = engine
        self.shown = shown
        self.bars = Bars(
            TextColumn("{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TextColumn("{task.fields[rate]}"),
            TextColumn("{task.fields[in_progress]}"),
            TextColumn("{task.fields[note]}"),
            console=err_console,
            transient=True,
        )
        self.tasks: dict[str, TaskID] = {}
        self.first: dict[str, tuple[float, int]] = {}
        self.last_done: dict[str, int] = {}
        self.reasons: dict[str, tuple[float, str]] = {}
        self.sampler = _Sampler(TERMINAL_SAMPLE_SECONDS, self.sample)

    def __enter__(self) -> None:
        self.bars.__enter__()
        for name in self.shown:
            self.tasks[name] = self.bars.add_task(
                name, total=None, rate="", in_progress="", note="starting"
            )
        self.sampler.__enter__()

    def __exit__(self, *exc: object) -> None:
        self.sampler.__exit__()
        self.bars.__exit__(None, None, None)

    def sample(self) -> None:
        now = time.monotonic()
        for progress in read_progress(self.engine, self.shown):
            first_at, first_done = self.first.setdefault(progress.name, (now, progress.done))
            elapsed = now - first_at
            rate = (progress.done - first_done) / elapsed if elapsed > 0 else 0.0
            stalled = (
                progress.pending
                and not progress.in_progress
                and self.last_done.get(progress.name) == progress.done
            )
            self.last_done[progress.name] = progress.done
            self.bars.update(
                self.tasks[progress.name],
                total=progress.total,
                completed=progress.done,
                rate=f"{rate:.1f}/s",
                in_progress=f"{progress.in_progress:,} in progress",
                note=self._reason(progress.name, now) if stalled else "",
            )

    def _reason(self, name: str, now: float) -> str:
        looked_at, reason = self.reasons.get(name, (-REASON_SECONDS, ""))
        if now - looked_at >= REASON_SECONDS:
            reason = waiting_reasons(self.engine, [name], now=utcnow()).get(name, "")
            self.reasons[name] = (now, reason)
        return reason


class PlainLines:
    """Off a terminal: a line per campaign whose numbers changed, once a minute at most."""

    def __init__(self, engine: Engine, shown: Sequence[str]) -> None:
        self.engine = engine
        self.shown = shown
        self.said: dict[str, str] = {}
        self.sampler = _Sampler(PLAIN_SAMPLE_SECONDS, self.sample)

    def __enter__(self) -> None:
        self.sampler.__enter__()

    def __exit__(self, *exc: object) -> None:
        self.sampler.__exit__()

    def sample(self) -> None:
        for progress in read_progress(self.engine, self.shown):
            line = _line(progress)
            if self.said.get(progress.name) != line:
                self.said[progress.name] = line
                err_console.print(line, markup=False, soft_wrap=True)
