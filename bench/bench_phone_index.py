"""What a unique (campaign, phone) index costs Postgres as a campaign grows, three ways.

    python bench/bench_phone_index.py [--rows 1000000 10000000] [--batch 16000] [--run 125000]
                                      [--postgres-url postgresql://postgres@127.0.0.1:5432/test]

Each way inserts ``rows`` distinct North American numbers, in an order that looks random (a
multiplicative scramble of 1..rows), with a 150-byte filler standing for a contact's other
columns, in one transaction, into a table of its own (dropped afterwards):

- ``random``: the table has the unique index, rows arrive ``--batch`` at a time in file
  order: what ``contact`` and ``uq_contact_campaign_phone`` get from an import today;
- ``sorted runs``: the same, but each ``--run`` rows are inserted sorted by number (ids
  still in file order): what an importer that sorted large batches before ``COPY`` would get;
- ``side table``: the table has no index on the number; at the end one ``INSERT ... SELECT
  ... ORDER BY`` fills a separate (campaign, phone) -> id table, whose key then arrives in
  order: what a lookup table built once per import would cost.

Prints, per way and size, the wall time, the CPU of the server process doing the work (read
from /proc, so run it on the database's machine) and the WAL written. The server's settings
(``shared_buffers``, ``max_wal_size``) are its own; bench/README.md says what they were.
"""

from __future__ import annotations

import argparse
import os
import time
import uuid
from collections.abc import Callable

import psycopg

# Numbers +1 2000000000 .. +1 9999999999: i * ODD mod SPAN is a permutation of the span.
_BASE, _SPAN, _ODD = 2_000_000_000, 8_000_000_000, 2_654_435_761
_NUMBER = f"'+1' || ({_BASE} + (i * {_ODD}) %% {_SPAN})::text"
_TICKS = os.sysconf("SC_CLK_TCK")


def _backend_cpu(pid: int) -> float:
    with open(f"/proc/{pid}/stat", "rb") as stat:
        fields = stat.read().rsplit(b")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / _TICKS


def _load(conn: psycopg.Connection, table: str, rows: int, step: int, *, sort: bool) -> None:
    """Insert ``rows`` numbers ``step`` at a time, each step sorted by number if ``sort``."""
    order = " ORDER BY phone" if sort else ""
    for start in range(0, rows, step):
        conn.execute(
            f"INSERT INTO {table} SELECT i, 1, {_NUMBER} AS phone, repeat('x', 150) "
            f"FROM generate_series(%s::bigint, %s::bigint) i{order}",
            (start + 1, min(rows, start + step)),
        )


def _random(conn: psycopg.Connection, table: str, rows: int, batch: int, _run: int) -> None:
    conn.execute(f"CREATE UNIQUE INDEX ON {table} (campaign_id, phone)")
    _load(conn, table, rows, batch, sort=False)


def _sorted_runs(conn: psycopg.Connection, table: str, rows: int, _batch: int, run: int) -> None:
    conn.execute(f"CREATE UNIQUE INDEX ON {table} (campaign_id, phone)")
    _load(conn, table, rows, run, sort=True)


def _side_table(conn: psycopg.Connection, table: str, rows: int, batch: int, _run: int) -> None:
    conn.execute(
        f"CREATE TABLE {table}_phone (campaign_id int NOT NULL, phone varchar(20) NOT NULL, "
        "id bigint NOT NULL, PRIMARY KEY (campaign_id, phone))"
    )
    _load(conn, table, rows, batch, sort=False)
    conn.execute(
        f"INSERT INTO {table}_phone SELECT campaign_id, phone, id FROM {table} "
        "WHERE campaign_id = 1 ORDER BY campaign_id, phone"
    )


WAYS: dict[str, Callable[[psycopg.Connection, str, int, int, int], None]] = {
    "random": _random,
    "sorted runs": _sorted_runs,
    "side table": _side_table,
}


def measure(url: str, way: str, rows: int, batch: int, run: int) -> tuple[float, float, float]:
    """(wall seconds, server CPU seconds, WAL GB) of one way at ``rows``."""
    table = f"bench_phone_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(url, autocommit=True) as conn:
        pid = conn.execute("SELECT pg_backend_pid()").fetchone()[0]  # type: ignore[index]
        start_lsn = conn.execute("SELECT pg_current_wal_lsn()").fetchone()[0]  # type: ignore[index]
        try:
            cpu, wall = _backend_cpu(pid), time.perf_counter()
            with conn.transaction():
                conn.execute(
                    f"CREATE TABLE {table} (id bigint PRIMARY KEY, campaign_id int NOT NULL, "
                    "phone varchar(20) NOT NULL, filler text NOT NULL)"
                )
                WAYS[way](conn, table, rows, batch, run)
            wall, cpu = time.perf_counter() - wall, _backend_cpu(pid) - cpu
            wal = conn.execute(
                "SELECT pg_wal_lsn_diff(pg_current_wal_lsn(), %s)", (start_lsn,)
            ).fetchone()[0]  # type: ignore[index]
        finally:
            conn.execute(f"DROP TABLE IF EXISTS {table}_phone, {table}")
    return wall, cpu, float(wal) / 1e9


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, nargs="+", default=[1_000_000, 10_000_000])
    parser.add_argument("--batch", type=int, default=16_000, help="rows per insert (random)")
    parser.add_argument("--run", type=int, default=125_000, help="rows per sorted run")
    parser.add_argument("--postgres-url", default="postgresql://postgres@127.0.0.1:5432/test")
    args = parser.parse_args()
    with psycopg.connect(args.postgres_url) as conn:
        settings = [
            conn.execute(f"SHOW {name}").fetchone()[0]  # type: ignore[index]
            for name in ("shared_buffers", "max_wal_size")
        ]
    print(f"server: shared_buffers {settings[0]}, max_wal_size {settings[1]}")
    print(f"{'way':<12} {'rows':>11} {'wall':>8} {'server CPU':>11} {'WAL':>8}  CPU vs first")
    for way in WAYS:
        first = None
        for rows in args.rows:
            wall, cpu, wal = measure(args.postgres_url, way, rows, args.batch, args.run)
            first = first or cpu
            growth = f"{cpu / first:.1f}x"
            print(
                f"{way:<12} {rows:>11,} {wall:>7.1f}s {cpu:>10.1f}s {wal:>6.2f}GB  {growth}",
                flush=True,
            )


if __name__ == "__main__":
    main()
