"""Throughput under a concurrent-call cap through the real stack: two Celery workers (thread
pool) and beat over Redis, a Postgres ledger, the sandbox as its own process capping the
account at ``--cap`` calls in progress, each lasting ``--call-seconds``.

    python bench/bench_capacity.py [--contacts 150] [--cap 10] [--call-seconds 2]
                                   [--rate 50/s] [--tick 0.1] [--poll 0.1]

The account says ``concurrent_calls = --cap`` and a rate well above what the cap allows, so
the cap is the tighter limit; the best possible is ``cap / call-seconds`` calls per second.
Places come back when the outcome is polled (the sandbox's native API has no webhooks), so
``--poll`` and ``--tick`` bound how soon a freed place is used again. Prints the achieved
calls/s (the sandbox's first to last accepted request) as a share of that bound, the most
calls the sandbox saw in progress at once and how many requests it refused (must be 0).

Needs PostgreSQL (``--postgres``) and ``redis-server`` on the PATH.
"""

from __future__ import annotations

import argparse
import signal
import tempfile
import time
from datetime import datetime
from pathlib import Path

from sqlalchemy.engine import Engine
from stack import CAMPAIGN, fresh_database, import_leads, open_contacts, stop_on_sigterm

from campaigns import lifecycle
from dialer.ledger.engine import utcnow
from dialer.settings import load_settings

from procs import (  # isort: skip (stack.py puts tests/ on the path)
    Processes,
    SandboxControl,
    free_port,
    phones,
    wait_until,
    wait_worker_ready,
    write_config,
)


def run(args: argparse.Namespace, workdir: Path) -> None:
    with fresh_database(args.postgres) as (engine, database_url):
        _run(args, workdir, engine, database_url)


def _run(args: argparse.Namespace, workdir: Path, engine: Engine, database_url: str) -> None:
    port = free_port()
    env = {"DIALER_DATABASE_URL": database_url, "DIALER_BROKER_URL": f"redis://127.0.0.1:{port}/0"}
    with Processes(workdir, env) as procs:
        procs.redis(port)
        _, url = procs.sandbox()
        control = SandboxControl(url)
        control.configure(
            max_concurrent_calls=args.cap, call_duration_ms=int(args.call_seconds * 1000)
        )
        config = write_config(
            workdir / "dialer.toml",
            sandbox_url=url,
            rate=args.rate,
            settings={"tick_seconds": args.tick, "poll_seconds": args.poll},
            account={"concurrent_calls": args.cap},
        )
        procs.env["DIALER_CONFIG"] = str(config)
        settings = load_settings(config, env=env)
        import_leads(engine, settings, workdir, phones(args.contacts))
        workers = [procs.start_worker(f"w{i}", concurrency=8) for i in (1, 2)]
        for worker in workers:
            wait_worker_ready(worker)
        procs.beat()
        started = time.monotonic()
        lifecycle.change(engine, CAMPAIGN, "start", now=utcnow())
        wait_until(
            lambda: open_contacts(engine) == 0,
            timeout=args.timeout,
            what=lambda: f"every contact final ({open_contacts(engine)} still open)",
            every=0.2,
        )
        wall = time.monotonic() - started
        try:
            records = control.requests()
            load = control.load()
        finally:
            control.close()
    accepted = sorted(
        datetime.fromisoformat(str(r["received_at"])).timestamp()
        for r in records
        if r["status"] == 200
    )
    achieved = (len(accepted) - 1) / (accepted[-1] - accepted[0])
    best = args.cap / args.call_seconds
    refused = sum(load["refused"].values()) + sum(load["outage_refused"].values())
    print(
        f"cap {args.cap} calls of {args.call_seconds:g} s, rate {args.rate}: "
        f"achieved {achieved:.2f} calls/s = {100 * achieved / best:.1f}% of {best:g}/s; "
        f"most in progress {max(load['most'].values())}, refused {refused}, "
        f"{len(accepted)} placed of {args.contacts}, wall {wall:.1f} s"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--contacts", type=int, default=150)
    parser.add_argument("--cap", type=int, default=10)
    parser.add_argument("--call-seconds", type=float, default=2.0)
    parser.add_argument("--rate", default="50/s")
    parser.add_argument("--tick", type=float, default=0.1, help="tick_seconds")
    parser.add_argument("--poll", type=float, default=0.1, help="poll_seconds")
    parser.add_argument("--timeout", type=float, default=300)
    parser.add_argument("--postgres", default="postgresql+psycopg://postgres@127.0.0.1:5432/test")
    args = parser.parse_args()
    signal.signal(signal.SIGTERM, stop_on_sigterm)
    with tempfile.TemporaryDirectory(prefix="bench-capacity-") as tmp:
        run(args, Path(tmp))


if __name__ == "__main__":
    main()
