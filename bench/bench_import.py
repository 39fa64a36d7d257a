"""Time a leads import through the real code path, into SQLite or Postgres.

    python bench/bench_import.py [--rows 1000000] [--db sqlite|postgres] [--csv FILE]
                                 [--chunksize N] [--seed 7] [--cli]
                                 [--postgres-url postgresql+psycopg://postgres@127.0.0.1:5432/test]

Without ``--csv`` the leads file is written by ``make_leads.py`` (not timed) and kept under
the system's temporary directory for the next run. Each run imports into a new, migrated
database (a SQLite file in a temporary directory, or a Postgres database created on the
server of ``--postgres-url`` and dropped afterwards) with ``campaigns.importer
.import_campaign`` and the default ``sandbox`` account, exactly as ``dialer campaign
create`` does; the phone pool is started inside the timed part, as on a first import.

Prints rows/s and peak memory three ways:

- ``self``: the importing process's peak RSS (``getrusage(RUSAGE_SELF)``);
- ``children``: the largest *reaped* child's peak RSS (``getrusage(RUSAGE_CHILDREN)``). The
  phone pool's workers are children of multiprocessing's fork server, which outlives the
  run, so they rarely show up here;
- ``tree``: the peak of the summed RSS of this process and all its descendants (pool
  workers included), sampled from /proc every 20 ms. This is the figure to hold against a
  memory budget.

With ``--cli`` the import is ``dialer campaign create`` run as a user runs it (the installed
script, in a process of its own), and the figures are that process's tree (this one left out).

and CPU seconds of the importing process and of its children (the pool's workers): on a
machine shared with other work, wall time swings with the load; CPU time much less. On
Postgres also the CPU of the server's backends for the new database (read from /proc: run it
on the database's machine) and the WAL the server wrote meanwhile (other work's included).
"""

from __future__ import annotations

import argparse
import os
import re
import resource
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from make_leads import write_leads

# Each of the phone pool's workers starts by running this script again (multiprocessing
# re-imports the main module), so the dialer and its dependencies are imported where they
# are used: the workers then cost what they cost any caller of import_campaign. The
# `dialer` command's main module is heavier; bench/README.md says by how much.
if TYPE_CHECKING:
    from campaigns.importer import ImportSummary

_PAGE = os.sysconf("SC_PAGE_SIZE")
_TICKS = os.sysconf("SC_CLK_TCK")
_MIB = 1 << 20


class ProcessTree:
    """Samples this process and its descendants from /proc in a background thread: the peak
    of their summed RSS, and the CPU time each descendant had used when last seen."""

    def __init__(self, interval: float = 0.02, root: int | None = None) -> None:
        self.peak_rss = 0
        self._root = os.getpid() if root is None else root
        self._cpu: dict[int, float] = {}
        self._interval = interval
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    @property
    def children_cpu(self) -> float:
        """CPU seconds of every descendant seen, pool workers included."""
        return sum(cpu for pid, cpu in self._cpu.items() if pid != os.getpid())

    @property
    def cpu(self) -> float:
        """CPU seconds of every process seen, the root included."""
        return sum(self._cpu.values())

    def __enter__(self) -> ProcessTree:
        self._thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._stop.set()
        self._thread.join()

    def _run(self) -> None:
        while not self._stop.wait(self._interval):
            total = 0
            for pid, rss, cpu in _tree(self._root):
                total += rss
                self._cpu[pid] = cpu
            self.peak_rss = max(self.peak_rss, total)


def _tree(root: int) -> Iterator[tuple[int, int, float]]:
    """(pid, resident bytes, CPU seconds) of ``root`` and every process descended from it;
    a process that ends while we look is left out."""
    pending = [root]
    while pending:
        pid = pending.pop()
        try:
            with open(f"/proc/{pid}/stat", "rb") as stat:
                # The command name (field 2) may hold spaces: split after its closing ")".
                fields = stat.read().rsplit(b")", 1)[1].split()
            for task in os.listdir(f"/proc/{pid}/task"):
                with open(f"/proc/{pid}/task/{task}/children", "rb") as children:
                    pending.extend(int(child) for child in children.read().split())
        except (OSError, ValueError):
            continue
        # Fields 14 and 15 (utime, stime) and 24 (rss), counted from 1 with pid and name.
        cpu = (int(fields[11]) + int(fields[12])) / _TICKS
        yield pid, int(fields[21]) * _PAGE, cpu


@contextmanager
def database(kind: str, postgres_url: str) -> Iterator[str]:
    """The URL of a new, migrated ledger database, removed afterwards."""
    import sqlalchemy

    if kind == "sqlite":
        with tempfile.TemporaryDirectory(prefix="dialer-bench-") as folder:
            url = f"sqlite:///{Path(folder) / 'ledger.db'}"
            _migrate(url)
            yield url
        return
    admin = sqlalchemy.create_engine(postgres_url, isolation_level="AUTOCOMMIT")
    name = f"dialer_bench_{uuid.uuid4().hex[:10]}"
    with admin.connect() as connection:
        connection.execute(sqlalchemy.text(f'CREATE DATABASE "{name}"'))
    try:
        url = admin.url.set(database=name).render_as_string(hide_password=False)
        _migrate(url)
        yield url
    finally:
        with admin.connect() as connection:
            connection.execute(sqlalchemy.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def _migrate(url: str) -> None:
    from dialer.ledger.engine import make_engine, migrate

    engine = make_engine(url)
    migrate(engine)
    engine.dispose()


def _server(engine: Any) -> tuple[float, str]:
    """CPU seconds of the Postgres backends serving ``engine``'s database (read from /proc, so
    run on the database's machine) and the server's WAL position."""
    from sqlalchemy import text

    with engine.connect() as connection:
        pids = connection.execute(
            text("SELECT pid FROM pg_stat_activity WHERE datname = current_database()")
        ).scalars()
        cpu = sum(cpu for pid in pids for _, _, cpu in _tree(pid))
        return cpu, str(connection.execute(text("SELECT pg_current_wal_lsn()")).scalar_one())


def _wal_bytes(engine: Any, since: str) -> int:
    from sqlalchemy import text

    with engine.connect() as connection:
        query = text("SELECT pg_wal_lsn_diff(pg_current_wal_lsn(), :since)")
        return int(connection.execute(query, {"since": since}).scalar_one())


def run(csv_path: Path, url: str, chunksize: int | None) -> tuple[ImportSummary, float, float, str]:
    """Import ``csv_path`` into ``url``: the summary, wall seconds, this process's CPU and, on
    Postgres, a line on the server's share (its backends' CPU and the WAL written)."""
    from campaigns.importer import import_campaign
    from campaigns.spec import CampaignSpec
    from dialer.leads.phones import shutdown_pool
    from dialer.ledger.engine import make_engine
    from dialer.settings import Settings

    settings = Settings(database_url=url)
    engine = make_engine(settings.database_url)
    with tempfile.TemporaryDirectory(prefix="dialer-bench-") as folder:
        spec = CampaignSpec(
            name="bench",
            account="sandbox",
            csv_path=csv_path,
            rejects_path=Path(folder) / "rejects.csv",
        )
        postgres = engine.dialect.name == "postgresql"
        server_cpu, wal_at = _server(engine) if postgres else (0.0, "")
        cpu, started = time.process_time(), time.perf_counter()
        if chunksize is None:
            summary = import_campaign(engine, settings, spec, now=datetime.now(UTC))
        else:
            summary = import_campaign(
                engine, settings, spec, now=datetime.now(UTC), chunksize=chunksize
            )
        seconds, cpu = time.perf_counter() - started, time.process_time() - cpu
    server = ""
    if postgres:
        server_cpu = _server(engine)[0] - server_cpu
        wal = _wal_bytes(engine, wal_at) / 1e9
        server = f"server:    its backends' CPU {server_cpu:.1f} s, WAL {wal:.2f} GB"
    shutdown_pool()
    engine.dispose()
    return summary, seconds, cpu, server


def run_cli(csv_path: Path, url: str) -> tuple[str, float, ProcessTree]:
    """``dialer campaign create`` of ``csv_path`` into ``url``: its output, wall seconds, and
    its process tree as sampled (this process left out)."""
    with tempfile.TemporaryDirectory(prefix="dialer-bench-") as folder:
        command = [
            str(Path(sys.executable).with_name("dialer")),
            "campaign",
            "create",
            "bench",
            "--account",
            "sandbox",
            "--csv",
            str(csv_path),
        ]
        environment = {**os.environ, "DIALER_DATABASE_URL": url}
        started = time.perf_counter()
        with (
            subprocess.Popen(
                command, cwd=folder, env=environment, stdout=subprocess.PIPE, text=True
            ) as process,
            ProcessTree(root=process.pid) as tree,
        ):
            output, _ = process.communicate()
        seconds = time.perf_counter() - started
        if process.returncode != 0:
            raise SystemExit(f"dialer campaign create failed ({process.returncode}):\n{output}")
        return output, seconds, tree


def main() -> None:
    parser = argparse.ArgumentParser(description="Time a leads import (see the module docstring).")
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--db", choices=("sqlite", "postgres"), default="sqlite")
    parser.add_argument("--csv", type=Path, help="leads file to import instead of a generated one")
    parser.add_argument("--chunksize", type=int, help="rows per chunk (default: the importer's)")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--cli", action="store_true", help="import with `dialer campaign create`")
    parser.add_argument(
        "--postgres-url", default="postgresql+psycopg://postgres@127.0.0.1:5432/test"
    )
    args = parser.parse_args()

    csv_path = args.csv
    if csv_path is None:
        csv_path = Path(tempfile.gettempdir()) / f"dialer-bench-leads-{args.rows}-{args.seed}.csv"
        if not csv_path.exists():
            print(f"writing {csv_path} ...", flush=True)
            part = csv_path.with_name(csv_path.name + ".part")
            write_leads(part, args.rows, seed=args.seed)
            part.replace(csv_path)

    load = os.getloadavg()[0]
    if args.cli:
        with database(args.db, args.postgres_url) as url:
            output, seconds, tree = run_cli(csv_path, url)
        print(output, end="")
        print(f"database:  {args.db}, `dialer campaign create`, load average {load:.1f} before")
        read = re.search(r"rows read\s+([\d,]+)", output)
        rows = int(read.group(1).replace(",", "")) if read else args.rows
        print(f"time:      {seconds:.2f} s, {rows / seconds:,.0f} rows/s")
        print(f"CPU:       the command and its children {tree.cpu:.1f} s")
        print(f"peak RSS:  tree {tree.peak_rss / _MIB:,.0f} MiB")
        return
    with database(args.db, args.postgres_url) as url, ProcessTree() as tree:
        summary, seconds, cpu, server = run(csv_path, url, args.chunksize)
    self_peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    child_peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss * 1024

    reasons = ", ".join(f"{reason} {n:,}" for reason, n in summary.rejected.most_common())
    print(f"file:      {csv_path} ({csv_path.stat().st_size / _MIB:,.0f} MiB)")
    chunks = "default" if args.chunksize is None else f"{args.chunksize:,}"
    print(f"database:  {args.db}, chunks of {chunks} rows, load average {load:.1f} before")
    print(f"rows:      {summary.rows_read:,} = {summary.accepted:,} accepted + ", end="")
    print(f"{summary.rejected_total:,} rejected ({reasons})")
    print(f"time:      {seconds:.2f} s, {summary.rows_read / seconds:,.0f} rows/s")
    print(f"CPU:       importing process {cpu:.1f} s, its children {tree.children_cpu:.1f} s")
    print(
        f"peak RSS:  self {self_peak / _MIB:,.0f} MiB, children {child_peak / _MIB:,.0f} MiB, "
        f"tree {tree.peak_rss / _MIB:,.0f} MiB"
    )
    if server:
        print(server)


if __name__ == "__main__":
    main()
