"""A provider outage, as issue 12 tells it: the sandbox (its own process) answers 503 to every
call for ``--outage`` seconds while the embedded runner dials ``--contacts`` leads with
``backoff_seconds = --backoff``, on a SQLite ledger.

    python bench/bench_outage.py [--contacts 20] [--outage 30] [--backoff 1]
                                 [--long-outage 1200] [--outage-pause 10]

First run: the outage starts as the campaign does. Prints how many contacts ended ``failed``
(must be 0), whether every one was placed exactly once and only after the outage, the
requests the sandbox refused (the burst before the breaker opened, then the probes) and the
probes' rate: the gaps between them and the most in any 10 s.

Second run: an outage of ``--long-outage`` seconds (20 min) with ``outage_pause`` shortened to
``--outage-pause`` seconds so it runs in a minute: the pause fires on how long the breaker
has been open, so the sequence is the one a 15 min ``outage_pause`` gives after 15 min. Once
paused, the outage is ended and the campaign resumed, as a person would; prints when it
paused, with what reason, and how the campaign ended.
"""

from __future__ import annotations

import argparse
import bisect
import signal
import tempfile
import threading
import time
from collections import Counter
from dataclasses import dataclass
from datetime import datetime
from itertools import pairwise
from pathlib import Path

from sqlalchemy.engine import Engine
from stack import CAMPAIGN, import_leads, open_contacts, stop_on_sigterm

from campaigns import lifecycle
from dialer.ledger import campaigns as ledger_campaigns
from dialer.ledger.engine import make_engine, migrate, session_scope, utcnow
from dialer.runner import EmbeddedRunner
from dialer.settings import AccountConfig, Settings
from dialer.wiring import build_service

from procs import Processes, SandboxControl, phones, wait_until  # isort: skip (see stack.py)


@dataclass(frozen=True)
class Seen:
    """What the sandbox saw: accepted requests by phone, and refused ones' times (epoch s)."""

    accepted: dict[str, list[float]]
    refused: list[float]


def run(args: argparse.Namespace, workdir: Path) -> None:
    with Processes(workdir) as procs:
        _, url = procs.sandbox()
        control = SandboxControl(url)
        try:
            outage(args, workdir / "outage", control, url)
            control.client.post("/_sandbox/reset").raise_for_status()
            long_outage(args, workdir / "long", control, url)
        finally:
            control.close()


def _campaign(
    args: argparse.Namespace, workdir: Path, url: str, **account: float
) -> tuple[Engine, Settings]:
    """A fresh ledger in ``workdir`` with the campaign imported and started."""
    workdir.mkdir()
    fields = {"name": "sandbox", "provider": "sandbox", "base_url": url, "rate": "20/s"}
    settings = Settings(
        database_url=f"sqlite:///{workdir / 'ledger.db'}",
        accounts={
            "sandbox": AccountConfig.model_validate(
                fields | {"backoff_seconds": args.backoff, "timeout": 2, **account}
            )
        },
        tick_seconds=0.2,
        poll_seconds=1,
    )
    engine = make_engine(settings.database_url)
    migrate(engine)
    import_leads(engine, settings, workdir, phones(args.contacts))
    lifecycle.change(engine, CAMPAIGN, "start", now=utcnow())
    return engine, settings


def outage(args: argparse.Namespace, workdir: Path, control: SandboxControl, url: str) -> None:
    engine, settings = _campaign(args, workdir, url)
    began = time.time()
    control.outage(args.outage)
    runner = EmbeddedRunner(build_service(settings, engine), threads=8, poll_seconds=1)
    runner.run(drain=True)
    wall = time.time() - began
    seen = _seen(control)
    states = _states(engine)
    ended = began + args.outage
    placed = [t for times in seen.accepted.values() for t in times]
    burst = [t for t in seen.refused if t < seen.refused[0] + 1.0]
    probes = seen.refused[len(burst) :]
    gaps = [round(b - a, 1) for a, b in pairwise([seen.refused[0], *probes])]
    busiest = max(
        (bisect.bisect_left(probes, t + 10.0) - i for i, t in enumerate(probes)), default=0
    )
    print(f"{args.outage:g} s outage, {args.contacts} leads, backoff_seconds = {args.backoff:g}:")
    print(f"  contacts failed: {states.get('failed', 0)} (must be 0); states {dict(states)}")
    print(
        f"  placed: {len(seen.accepted)} of {args.contacts} numbers, each "
        f"{'once' if all(len(t) == 1 for t in seen.accepted.values()) else 'MORE THAN ONCE'}; "
        f"first {min(placed) - ended:+.1f} s after the outage ended, "
        f"all done {wall:.1f} s after it began"
    )
    print(
        f"  refused while it lasted: {len(seen.refused)} requests = {len(burst)} before the "
        f"breaker opened + {len(probes)} probes"
    )
    print(
        f"  probes: gaps {gaps} s (first from the burst); most in any 10 s: {busiest}; "
        f"max rate 1 per {min(gaps, default=0):g} s"
    )


def long_outage(args: argparse.Namespace, workdir: Path, control: SandboxControl, url: str) -> None:
    engine, settings = _campaign(args, workdir, url, outage_pause=args.outage_pause)
    began = time.time()
    control.outage(args.long_outage)
    runner = EmbeddedRunner(build_service(settings, engine), threads=8, poll_seconds=1)
    thread = threading.Thread(target=runner.run, kwargs={"drain": False})
    thread.start()
    try:
        wait_until(lambda: _status(engine)[0] == "paused", timeout=120, what="paused")
        paused_after = time.time() - began
        status, reason = _status(engine)
        control.outage(0)  # the provider is back; a person resumes
        lifecycle.change(engine, CAMPAIGN, "resume", now=utcnow())
        resumed = time.time()
        wait_until(
            lambda: _status(engine)[0] == "completed",
            timeout=180,
            what=lambda: f"completed after resume ({open_contacts(engine)} contacts open)",
        )
        finished_after = time.time() - resumed
    finally:
        runner.stop()
        thread.join()
    seen = _seen(control)
    states = _states(engine)
    print(
        f"{args.long_outage / 60:g} min outage, outage_pause shortened to "
        f"{args.outage_pause:g} s (default 900 s; the pause counts the open breaker's age, "
        "so the sequence is the same):"
    )
    print(f"  paused {paused_after:.1f} s after the outage began: {status}: {reason}")
    print(
        f"  resumed after the outage: completed {finished_after:.1f} s later; "
        f"failed {states.get('failed', 0)}; placed {len(seen.accepted)} of {args.contacts} "
        f"numbers, each {'once' if all(len(t) == 1 for t in seen.accepted.values()) else 'MORE'}"
    )


def _seen(control: SandboxControl) -> Seen:
    accepted: dict[str, list[float]] = {}
    refused = []
    for record in control.requests():
        at = datetime.fromisoformat(str(record["received_at"])).timestamp()
        if record["status"] == 200:
            accepted.setdefault(str(record["phone"]), []).append(at)
        elif record["status"] == 503:
            refused.append(at)
    return Seen(accepted, sorted(refused))


def _states(engine: Engine) -> Counter[str]:
    with session_scope(engine) as session:
        campaign = ledger_campaigns.get_campaign(session, name=CAMPAIGN)
        assert campaign.id is not None
        counts = ledger_campaigns.state_counts(session, campaign_id=campaign.id)
    return Counter({state: n for state, n in counts.items() if n})


def _status(engine: Engine) -> tuple[str, str]:
    with session_scope(engine) as session:
        campaign = ledger_campaigns.get_campaign(session, name=CAMPAIGN)
        return str(campaign.status), campaign.status_reason or ""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--contacts", type=int, default=20)
    parser.add_argument("--outage", type=float, default=30.0, help="seconds")
    parser.add_argument("--backoff", type=float, default=1.0, help="backoff_seconds")
    parser.add_argument("--long-outage", type=float, default=1200.0, help="seconds")
    parser.add_argument("--outage-pause", type=float, default=10.0, help="seconds")
    args = parser.parse_args()
    signal.signal(signal.SIGTERM, stop_on_sigterm)
    with tempfile.TemporaryDirectory(prefix="bench-outage-") as tmp:
        run(args, Path(tmp))


if __name__ == "__main__":
    main()
