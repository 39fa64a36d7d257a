"""Dispatch throughput through the real stack: Celery workers (thread pool) and beat over Redis,
a Postgres ledger, the sandbox as its own process.

    python bench/bench_dispatch.py [--contacts 5000] [--calls N] [--latency-ms 0 200] [--workers 2]
                                   [--threads 8] [--sending-threads 128] [--claim-batch 2000]
                                   [--tick 0.5] [--tick-worker] [--keep DIR]
    python bench/bench_dispatch.py --paced [--contacts 400] [--rate 20/s]

Each run gets a fresh Postgres database (dropped afterwards), its own redis-server on a free
port and a sandbox answering after ``--latency-ms``; it imports the contacts, starts the
workers and beat, then starts the campaign and waits until every contact is final.

Throughput mode (no rate limit: the account's ``rate = "unlimited"``) runs once per latency and
prints calls/s from the sandbox's first ``received_at`` to its last, the wall time from
``start`` to the last contact final, and the CPU milliseconds each process spent per call:
their sum bounds the throughput a machine's cores allow. ``--paced`` runs at ``--rate`` and
prints the achieved rate as a share of the limit and the busiest one-second window the
sandbox saw.

Needs PostgreSQL (``--postgres``, an admin URL on a database that exists) and ``redis-server``
on the PATH.
"""

from __future__ import annotations

import argparse
import bisect
import contextlib
import signal
import tempfile
import time
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from sqlalchemy import text
from sqlalchemy.engine import Engine
from stack import CAMPAIGN, fresh_database, import_leads, open_contacts, stop_on_sigterm

from campaigns import lifecycle
from dialer.ledger.engine import utcnow
from dialer.settings import UNLIMITED, load_settings, parse_rate

# tests/procs.py starts and stops these processes for the distributed tests too: share it.
from procs import (  # isort: skip (stack.py puts tests/ on the path)
    ALL_QUEUES,
    Processes,
    SandboxControl,
    cpu_seconds,
    free_port,
    phones,
    wait_until,
    wait_worker_ready,
    write_config,
)
from webhook_receiver import SECRET, Receiver  # isort: skip


@dataclass(frozen=True)
class Result:
    calls: int
    first_to_last: float  # seconds between the sandbox's first and last received_at
    wall: float  # seconds from campaign start to every contact final
    busiest_second: int  # most requests in any window [t, t + 1 s)
    cpu: dict[str, float]  # CPU seconds each process used from start to the end

    def cpu_report(self) -> str:
        """CPU milliseconds per call, by process."""
        return ", ".join(
            f"{name} {1000 * seconds / self.calls:.1f}" for name, seconds in self.cpu.items()
        )

    @property
    def calls_per_second(self) -> float:
        return (self.calls - 1) / self.first_to_last if self.first_to_last > 0 else 0.0


def run(
    args: argparse.Namespace, workdir: Path, *, rate: str, latency_ms: int, contacts: int
) -> Result:
    with fresh_database(args.postgres) as (engine, database_url), contextlib.ExitStack() as hooks:
        receiver = hooks.enter_context(Receiver()) if args.webhook else None
        return _run(args, workdir, engine, database_url, rate, latency_ms, contacts, receiver)


def _run(
    args: argparse.Namespace,
    workdir: Path,
    engine: Engine,
    database_url: str,
    rate: str,
    latency_ms: int,
    contacts: int,
    receiver: Receiver | None,
) -> Result:
    port = free_port()
    env = {"DIALER_DATABASE_URL": database_url, "DIALER_BROKER_URL": f"redis://127.0.0.1:{port}/0"}
    with Processes(workdir, env) as procs:
        procs.redis(port)
        _, url = procs.sandbox(latency_ms=latency_ms)
        config = write_config(
            workdir / "dialer.toml",
            sandbox_url=url,
            rate=rate,
            sending_threads=args.sending_threads,
            settings={"claim_batch": args.claim_batch, "tick_seconds": args.tick},
        )
        if receiver is not None:
            with config.open("a", encoding="utf-8") as toml:
                toml.write(f'[[webhooks]]\nname = "bench"\nurl = "{receiver.url}"\n')
                toml.write(f'secret = "{SECRET}"\nevents = ["call.placed", "campaign.completed"]\n')
        procs.env["DIALER_CONFIG"] = str(config)
        settings = load_settings(config, env=env)
        import_leads(engine, settings, workdir, phones(contacts))
        queues = "dialer.dial" if args.tick_worker else ALL_QUEUES
        workers = [
            procs.start_worker(f"w{i}", concurrency=args.threads, queues=queues)
            for i in range(1, args.workers + 1)
        ]
        if args.tick_worker:
            workers.append(procs.start_worker("ticker", concurrency=1, queues="dialer.schedule"))
        for worker in workers:
            wait_worker_ready(worker)
        procs.beat()

        cpu_before = {process.name: process.cpu_seconds() for process in procs.started}
        backends: dict[int, float] = {}

        target = min(args.calls or contacts, contacts)

        def settled() -> bool:
            # Postgres backends come and go with the workers' pools: what is sampled here
            # before each one exits is a lower bound of the database's CPU.
            for pid in _backends(engine):
                with contextlib.suppress(OSError):
                    backends[pid] = cpu_seconds(pid)
            return contacts - open_contacts(engine) >= target

        started = time.monotonic()
        lifecycle.change(engine, CAMPAIGN, "start", now=utcnow())
        wait_until(
            settled,
            timeout=args.timeout,
            what=lambda: f"{target} contacts final ({open_contacts(engine)} still open)",
            every=0.1,
        )
        wall = time.monotonic() - started
        if receiver is not None:
            wait_until(
                lambda: len(receiver.processed) >= contacts + 1,
                timeout=args.timeout,
                what=lambda: f"every event delivered ({len(receiver.processed)} so far)",
            )
            print(
                f"    webhooks: {len(receiver.processed)} events delivered "
                f"{time.monotonic() - started - wall:.2f} s after the last contact was final"
            )
        cpu = {name: procs_cpu - cpu_before[name] for name, procs_cpu in _cpu(procs).items()}
        cpu["postgres (at least)"] = sum(backends.values())
        control = SandboxControl(url)
        try:
            received = sorted(
                datetime.fromisoformat(str(record["received_at"])).timestamp()
                for record in control.requests()
            )[:target]
        finally:
            control.close()
    busiest = max(bisect.bisect_left(received, t + 1.0) - i for i, t in enumerate(received))
    return Result(len(received), received[-1] - received[0], wall, busiest, cpu)


def _cpu(procs: Processes) -> dict[str, float]:
    return {process.name: process.cpu_seconds() for process in procs.started}


def _backends(engine: Engine) -> list[int]:
    """The Postgres server processes serving the benchmark's database, but this process."""
    with engine.connect() as conn:
        query = text(
            "SELECT pid FROM pg_stat_activity WHERE datname = current_database() "
            "AND pid <> pg_backend_pid()"
        )
        return list(conn.execute(query).scalars())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--contacts", type=int, help="default 5000, or 400 with --paced")
    parser.add_argument(
        "--calls",
        type=int,
        help="stop once this many contacts are final and count calls/s over the first this"
        " many requests (default: every contact), so a large campaign can be measured",
    )
    parser.add_argument("--latency-ms", type=int, nargs="+", default=[0, 200])
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument(
        "--threads", type=int, default=8, help="task threads per worker (batches at once)"
    )
    parser.add_argument(
        "--sending-threads",
        type=int,
        default=128,
        help="the account's requests in flight per worker",
    )
    parser.add_argument("--claim-batch", type=int, default=2000)
    parser.add_argument("--tick", type=float, default=0.5, help="tick_seconds")
    parser.add_argument("--paced", action="store_true", help="run at --rate instead")
    parser.add_argument(
        "--tick-worker", action="store_true", help="run the tick on a worker of its own"
    )
    parser.add_argument("--rate", default="20/s")
    parser.add_argument(
        "--webhook", action="store_true", help="with one webhook endpoint (a local receiver)"
    )
    parser.add_argument("--timeout", type=float, default=300, help="seconds per run")
    parser.add_argument("--postgres", default="postgresql+psycopg://postgres@127.0.0.1:5432/test")
    parser.add_argument("--keep", type=Path, help="keep each process's log under this directory")
    args = parser.parse_args()
    signal.signal(signal.SIGTERM, stop_on_sigterm)
    contacts = args.contacts or (400 if args.paced else 5000)
    print(
        f"{contacts} contacts, {args.workers} workers x {args.threads} task threads, "
        f"sending_threads {args.sending_threads}, claim_batch {args.claim_batch}, "
        f"tick {args.tick} s"
    )
    with contextlib.ExitStack() as stack:
        if args.keep is None:
            tmp = stack.enter_context(tempfile.TemporaryDirectory(prefix="bench-dispatch-"))
        else:
            tmp = str(args.keep)
        if args.paced:
            limit = parse_rate(args.rate)
            workdir = Path(tmp) / "paced"
            workdir.mkdir(parents=True)
            result = run(args, workdir, rate=args.rate, latency_ms=0, contacts=contacts)
            print(
                f"rate {args.rate}: achieved {result.calls_per_second:.2f}/s "
                f"= {100 * result.calls_per_second / limit:.1f}% of the limit; "
                f"busiest 1 s window {result.busiest_second} (limit {limit:g}); "
                f"wall {result.wall:.1f} s"
            )
            return
        for latency in args.latency_ms:
            workdir = Path(tmp) / f"latency-{latency}"
            workdir.mkdir(parents=True)
            result = run(args, workdir, rate=UNLIMITED, latency_ms=latency, contacts=contacts)
            print(
                f"latency {latency:>3} ms: {result.calls_per_second:7.1f} calls/s "
                f"(first to last request), wall {result.wall:.2f} s "
                f"({result.calls / result.wall:.1f} contacts/s end to end)"
            )
            print(f"    CPU ms per call: {result.cpu_report()}")


if __name__ == "__main__":
    main()
