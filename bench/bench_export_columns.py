"""The Postgres export's two paths as the number of lead columns grows.

    python bench/bench_export_columns.py [--rows 200000] [--columns 1 5 8 12 20 100]
                                         [--postgres-url postgresql+psycopg://postgres@127.0.0.1:5432/test]

In a new database (dropped afterwards), for each count K one campaign of ``--rows`` contacts
whose every lead column holds a short text, analysed as autovacuum would after an import.
Prints rows/s of ``campaigns.export.write_export`` (the path the dialer takes: the server's
cells up to ``MOST_LEAD_COLUMNS``, Python's beyond) and of ``export_rows`` written by
``csv.writer`` (Python's cells always), the latter run before and after the former; both
write the same bytes (checked). How ``dialer.ledger.export_cells.MOST_LEAD_COLUMNS`` was
chosen: where the first stops being faster.
"""

from __future__ import annotations

import argparse
import csv
import io
import time
import uuid
from collections.abc import Callable

from sqlalchemy import create_engine, text
from sqlalchemy.engine import Engine

from campaigns.export import export_rows, write_export
from dialer.ledger.engine import make_engine, migrate, session_scope, utcnow
from dialer.ledger.export_cells import MOST_LEAD_COLUMNS
from dialer.models import Campaign


def build(engine: Engine, name: str, columns: int, rows: int) -> None:
    names = [f"c{index}" for index in range(columns)]
    with session_scope(engine) as session:
        campaign = Campaign(
            name=name, name_key=name, account="a", columns=names, created_at=utcnow()
        )
        session.add(campaign)
        session.flush()
        campaign_id = campaign.id
    # jsonb_build_object takes at most 100 arguments: 50 columns a call, joined.
    objects = " || ".join(
        "jsonb_build_object("
        + ", ".join(
            f"'c{i}', 'value ' || n || ' {i}'" for i in range(start, min(start + 50, columns))
        )
        + ")"
        for start in range(0, columns, 50)
    )
    with engine.begin() as connection:
        connection.execute(
            text(
                "INSERT INTO contact (campaign_id, row, phone, raw_phone, number_type, zone_key,"
                " first_name, last_name, email, variables, state, attempts, last_error)"
                " SELECT :campaign, n, '+1212' || lpad(n::text, 7, '0'), '', 'mobile',"
                f" 'America/New_York', '', '', '', ({objects})::json, 'pending', 0, ''"
                " FROM generate_series(1, :rows) AS n"
            ),
            {"campaign": campaign_id, "rows": rows},
        )
        connection.execute(text("ANALYZE contact"))


def timed(write: Callable[[io.StringIO], object]) -> tuple[float, str]:
    out = io.StringIO()
    started = time.perf_counter()
    write(out)
    return time.perf_counter() - started, out.getvalue()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=200_000)
    parser.add_argument("--columns", type=int, nargs="*", default=[1, 5, 8, 12, 20, 100])
    parser.add_argument(
        "--postgres-url", default="postgresql+psycopg://postgres@127.0.0.1:5432/test"
    )
    args = parser.parse_args()
    admin = create_engine(args.postgres_url, isolation_level="AUTOCOMMIT")
    database = f"dialer_export_columns_{uuid.uuid4().hex[:8]}"
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{database}"'))
    engine = make_engine(admin.url.set(database=database).render_as_string(hide_password=False))
    try:
        migrate(engine)
        print(f"{args.rows:,} contacts a campaign; the server's cells up to {MOST_LEAD_COLUMNS}")
        for columns in args.columns:
            name = f"k{columns}"
            build(engine, name, columns, args.rows)
            python_before, expected = timed(
                lambda out, name=name: csv.writer(out).writerows(export_rows(engine, name))
            )
            taken, written = timed(lambda out, name=name: write_export(engine, name, out))
            python_after, _ = timed(
                lambda out, name=name: csv.writer(out).writerows(export_rows(engine, name))
            )
            assert written == expected
            path = "server" if columns <= MOST_LEAD_COLUMNS else "python"
            rates = [args.rows / seconds for seconds in (taken, python_before, python_after)]
            print(
                f"{columns:4d} lead columns: write_export ({path}) {rates[0]:9,.0f} rows/s,"
                f" Python's cells {rates[1]:9,.0f} / {rates[2]:9,.0f}",
                flush=True,
            )
    finally:
        engine.dispose()
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)'))
        admin.dispose()


if __name__ == "__main__":
    main()
