"""What the scheduler tick and the reads cost as a campaign grows, on Postgres or SQLite.

    python bench/bench_scale.py [--sizes 100000 1000000] [--db postgres|sqlite]
                                [--campaigns 50 --size 200000] [--ticks 21] [--no-export]
                                [--postgres-url postgresql+psycopg://postgres@127.0.0.1:5432/test]

For each size it builds a fresh, migrated ledger (a Postgres database created on the server of
``--postgres-url`` and dropped afterwards, or a SQLite file) holding one running campaign of N
pending contacts, written by one ``INSERT ... SELECT`` (``generate_series`` on Postgres, a
recursive CTE on SQLite), not the CSV path: the import has its own bench. Contacts spread over
five US zone keys like the population (New York 45 %, Chicago 30 %, Denver 5 %, Phoenix 5 %,
Los Angeles 15 %); the campaign calls 09:00-20:00 every day. Then it prints, in milliseconds:

- ``tick all``: the median of ``--ticks`` calls of ``dialer.scheduler.tick`` at 18:00 UTC on a
  winter Wednesday (every zone open), claim limit 500 (``claim_batch``, account rate
  unlimited). The claimed contacts are released through the ledger after each tick, untimed,
  so every tick finds the same campaign;
- ``tick one``: the same at 03:30 UTC, when only Los Angeles is inside the window (85 % of the
  contacts are not callable);
- ``status``: ``campaigns.status.campaign_report`` (``campaign status`` and
  ``GET /campaigns/{name}``), ``list``: the counts of ``GET /campaigns``, ``metrics``:
  ``dialer.ledger.metrics.ledger_metrics`` (the ledger side of ``/metrics``); medians of 5;
- ``export``: ``campaigns.export.export_to_file`` run in a child process: rows/s, that
  process's CPU per row (on Postgres the server does part of the work: see the load) and
  its peak RSS.

``--campaigns K --size N`` builds K running campaigns of N contacts each on one account and
prints the tick median over all of them. ``--url URL`` measures that database as it is (it is
migrated first, timed: how the upgrade of a large ledger was measured; built when it holds no
campaign) and keeps it.
"""

from __future__ import annotations

import argparse
import json
import resource
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import create_engine, inspect, text
from sqlalchemy.engine import Engine

from campaigns.export import export_to_file
from campaigns.status import campaign_report
from dialer.ledger import campaigns as ledger_campaigns
from dialer.ledger import contacts as ledger_contacts
from dialer.ledger import counts as ledger_counts
from dialer.ledger import dispatch as ledger_dispatch
from dialer.ledger.engine import make_engine, migrate, session_scope
from dialer.ledger.metrics import ledger_metrics
from dialer.models import Campaign, CampaignStatus
from dialer.scheduler import tick
from dialer.settings import UNLIMITED, AccountConfig, Settings

ALL_OPEN = datetime(2027, 1, 13, 18, 0, tzinfo=UTC)
ONE_OPEN = datetime(2027, 1, 14, 3, 30, tzinfo=UTC)
# (zone key, share in twentieths)
ZONES = [
    ("America/New_York", 9),
    ("America/Chicago", 6),
    ("America/Denver", 1),
    ("America/Phoenix", 1),
    ("America/Los_Angeles", 3),
]
COLUMNS = (
    "campaign_id, row, phone, raw_phone, extension, number_type, zone_key, first_name,"
    " last_name, email, variables, state, attempts, last_error"
)


def _zone_case(index: str) -> str:
    arms, start = [], 0
    for key, share in ZONES:
        start += share
        arms.append(f"WHEN ({index}) % 20 < {start} THEN '{key}'")
    return "CASE " + " ".join(arms) + " END"


def _fill_sql(dialect: str, campaign_id: int, first: int, count: int) -> str:
    values = (
        f"{campaign_id}, i, '+1' || (2000000000 + i), '' || (2000000000 + i), NULL, 'mobile',"
        f" {_zone_case('i')}, 'First', 'Last', '', '{{\"city\": \"x\"}}', 'pending', 0, ''"
    )
    if dialect == "postgresql":
        series = f"generate_series({first}, {first + count - 1}) AS i"
        return f"INSERT INTO contact ({COLUMNS}) SELECT {values} FROM {series}"
    return (
        f"WITH RECURSIVE s(i) AS (SELECT {first} UNION ALL SELECT i + 1 FROM s"
        f" WHERE i < {first + count - 1}) INSERT INTO contact ({COLUMNS}) SELECT {values} FROM s"
    )


def build(engine: Engine, campaigns: int, size: int) -> list[str]:
    """``campaigns`` running campaigns of ``size`` pending contacts each; their names."""
    names = []
    for number in range(campaigns):
        with session_scope(engine) as session:
            campaign = ledger_campaigns.create_campaign(
                session,
                campaign=Campaign(
                    name=f"scale-{number}",
                    account="bench",
                    window="09:00-20:00",
                    days="mon,tue,wed,thu,fri,sat,sun",
                    columns=["city"],
                    created_at=datetime(2027, 1, 1, tzinfo=UTC),
                    status=CampaignStatus.RUNNING,
                ),
            )
            assert campaign.id is not None
            campaign_id = campaign.id
        with engine.connect() as connection:
            before = connection.execute(text("SELECT COALESCE(MAX(id), 0) FROM contact")).scalar()
        step = 1_000_000
        for first in range(0, size, step):
            with engine.begin() as connection:
                connection.execute(
                    text(
                        _fill_sql(
                            engine.dialect.name,
                            campaign_id,
                            number * size + first + 1,
                            min(step, size - first),
                        )
                    )
                )
        with engine.begin() as connection:
            # Contacts written behind the ledger's back: counted from a full count, and
            # their numbers indexed (unless the ledger is from before the counts or the
            # phone table: to measure those upgrades).
            if inspect(connection).has_table("contact_count"):
                ledger_counts.recount(connection, campaign_ids=[campaign_id])
            if inspect(connection).has_table("contact_phone"):
                ledger_contacts.index_phones(
                    connection, campaign_id=campaign_id, after_id=int(before or 0)
                )
        names.append(f"scale-{number}")
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
        postgres = engine.dialect.name == "postgresql"
        connection.execute(text("VACUUM ANALYZE" if postgres else "ANALYZE"))
    return names


def median_ms(action: Callable[[], object], times: int) -> float:
    samples = []
    for _ in range(times):
        started = time.perf_counter()
        action()
        samples.append(1000 * (time.perf_counter() - started))
    return statistics.median(samples)


def tick_median(engine: Engine, settings: Settings, now: datetime, times: int) -> float:
    samples = []
    for _ in range(times):
        claimed: list[int] = []
        started = time.perf_counter()
        tick(engine, settings, now=now, enqueue=claimed.extend)
        samples.append(1000 * (time.perf_counter() - started))
        with session_scope(engine) as session:
            ledger_dispatch.release_claims(session, contact_ids=claimed, now=now)
    return statistics.median(samples)


def list_counts(engine: Engine) -> None:
    """The ledger side of ``GET /campaigns``."""
    with session_scope(engine) as session:
        campaigns = ledger_campaigns.list_campaigns(session)
        if hasattr(ledger_campaigns, "state_counts_of"):
            ids = [c.id for c in campaigns if c.id is not None]
            ledger_campaigns.state_counts_of(session, campaign_ids=ids)
            return
        for campaign in campaigns:  # main before the counts: one count per campaign
            assert campaign.id is not None
            ledger_campaigns.state_counts(session, campaign_id=campaign.id)


def metrics(engine: Engine) -> None:
    with session_scope(engine) as session:
        ledger_metrics(session)


def export_in_child(url: str, name: str) -> tuple[int, float, float, float]:
    """(rows, seconds, CPU seconds, peak RSS in MiB) of an export run in a process of its
    own."""
    with tempfile.TemporaryDirectory() as workdir:
        out = subprocess.run(
            [sys.executable, __file__, "--export-child", url, name, str(Path(workdir) / "x.csv")],
            check=True,
            capture_output=True,
            text=True,
        ).stdout
    found = json.loads(out)
    return found["rows"], found["seconds"], found["cpu_seconds"], found["rss_mib"]


def export_child(url: str, name: str, path: str) -> None:
    engine = make_engine(url)
    started = time.perf_counter()
    rows = export_to_file(engine, name, Path(path))
    seconds = time.perf_counter() - started
    usage = resource.getrusage(resource.RUSAGE_SELF)
    found = {
        "rows": rows,
        "seconds": seconds,
        "cpu_seconds": usage.ru_utime + usage.ru_stime,
        "rss_mib": usage.ru_maxrss / 1024,
    }
    sys.stdout.write(json.dumps(found))


@contextmanager
def ledger(db: str, postgres_url: str, url: str | None) -> Iterator[str]:
    if url:
        yield url
        return
    if db == "sqlite":
        with tempfile.TemporaryDirectory() as workdir:
            yield f"sqlite:///{workdir}/scale.db"
        return
    admin = create_engine(postgres_url, isolation_level="AUTOCOMMIT")
    name = f"dialer_scale_{uuid.uuid4().hex[:8]}"
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield admin.url.set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def run(args: argparse.Namespace, campaigns: int, size: int) -> None:
    settings = Settings(
        accounts={"bench": AccountConfig(name="bench", provider="sandbox", rate=UNLIMITED)},
        frequency_cap=0,
    )
    with ledger(args.db, args.postgres_url, args.url) as url:
        engine = make_engine(url)
        started = time.perf_counter()
        migrate(engine)
        migrated = time.perf_counter() - started
        with session_scope(engine) as session:
            names = [c.name for c in ledger_campaigns.list_campaigns(session)]
        started = time.perf_counter()
        if not names:
            names = build(engine, campaigns, size)
        built = time.perf_counter() - started
        label = f"{size:,}" if campaigns == 1 else f"{campaigns} x {size:,}"
        figures = {
            "tick all": tick_median(engine, settings, ALL_OPEN, args.ticks),
            "tick one": tick_median(engine, settings, ONE_OPEN, args.ticks),
            "status": median_ms(
                lambda: campaign_report(engine, settings, names[0], now=ALL_OPEN), 5
            ),
            "list": median_ms(lambda: list_counts(engine), 5),
            "metrics": median_ms(lambda: metrics(engine), 5),
        }
        line = ", ".join(f"{key} {value:.1f}" for key, value in figures.items())
        if not args.no_export and campaigns == 1:
            rows, seconds, cpu, rss = export_in_child(url, names[0])
            line += (
                f", export {rows / seconds:,.0f} rows/s ({rows:,} rows,"
                f" {cpu / rows * 1e6:.1f} µs CPU a row), RSS {rss:.0f} MiB"
            )
        prep = f"migrated in {migrated:.1f} s, built in {built:.0f} s"
        print(f"{engine.dialect.name} {label} ({prep}): {line} [ms]", flush=True)
        engine.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="*", default=[100_000, 1_000_000])
    parser.add_argument("--db", choices=["postgres", "sqlite"], default="postgres")
    parser.add_argument("--campaigns", type=int, default=0)
    parser.add_argument("--size", type=int, default=200_000)
    parser.add_argument("--ticks", type=int, default=21)
    parser.add_argument("--no-export", action="store_true")
    parser.add_argument(
        "--postgres-url", default="postgresql+psycopg://postgres@127.0.0.1:5432/test"
    )
    parser.add_argument(
        "--url", help="a database to use as it is (built first if it holds no campaign), kept"
    )
    parser.add_argument("--export-child", nargs=3, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.export_child:
        export_child(*args.export_child)
        return
    if args.campaigns:
        run(args, args.campaigns, args.size)
        return
    for size in args.sizes:
        run(args, 1, size)


if __name__ == "__main__":
    main()
