"""What the operator console's reads cost on a large campaign (SQLite or Postgres).

    python bench/bench_console.py [--rows 200000] [--database-url URL] [--without-indexes]

Imports ``--rows`` leads (bench/make_leads.py) into a fresh ledger, then writes one attempt
per contact spread evenly over the last 24 hours (set-based SQL: what a day of dialing leaves)
and times each read the console makes, over HTTP through the API (median of 5). With
``--without-indexes`` the attempt time indexes of migration 0005 are dropped first: the
"before" figures.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

from fastapi.testclient import TestClient
from pydantic import SecretStr
from sqlalchemy import text

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.make_leads import write_leads  # noqa: E402
from dialer.api.app import create_app  # noqa: E402
from dialer.ledger.engine import make_engine, migrate  # noqa: E402
from dialer.settings import AccountConfig, Settings  # noqa: E402

KEY = "bench-console-key-0123456789"

_ATTEMPTS = """
INSERT INTO attempt (key, contact_id, campaign_id, account, phone, started_at, finished_at,
                     result, http_status, provider_call_id, error, response_body)
SELECT 'k' || id, id, campaign_id, 'sandbox', phone, {started}, {started}, 'placed', 200,
       'call-' || id, '', ''
FROM contact
"""
_SQLITE_STARTED = "datetime('now', '-' || (86400 - id * 86400 / :n) || ' seconds')"
_POSTGRES_STARTED = "(now() at time zone 'utc') - make_interval(secs => 86400 - id * 86400.0 / :n)"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=200_000)
    parser.add_argument("--database-url", default=None, help="default: a SQLite file")
    parser.add_argument("--without-indexes", action="store_true")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-console-") as tmp:
        workdir = Path(tmp)
        url = args.database_url or f"sqlite:///{workdir / 'ledger.db'}"
        engine = make_engine(url)
        migrate(engine)
        account = AccountConfig(name="sandbox", provider="sandbox", rate="100/s")
        settings = Settings(
            database_url=url, accounts={"sandbox": account}, api_keys=(SecretStr(KEY),)
        )
        leads = workdir / "leads.csv"
        write_leads(leads, args.rows)
        app = create_app(settings, engine, workdir / "files")
        with TestClient(app, headers={"X-API-Key": KEY}) as client:
            with leads.open("rb") as stream:
                client.post(
                    "/campaigns",
                    files={"file": ("leads.csv", stream, "text/csv")},
                    data={"name": "big", "account": "sandbox", "window": "00:00-24:00"},
                ).raise_for_status()
            started = _SQLITE_STARTED if engine.dialect.name == "sqlite" else _POSTGRES_STARTED
            with engine.begin() as conn:
                contacts = conn.execute(text("SELECT count(*) FROM contact")).scalar_one()
                conn.execute(text(_ATTEMPTS.format(started=started)), {"n": contacts})
                if args.without_indexes:
                    conn.execute(text("DROP INDEX ix_attempt_campaign_started"))
                    conn.execute(text("DROP INDEX ix_attempt_account_started"))
                if engine.dialect.name == "postgresql":
                    conn.execute(text("ANALYZE"))
            client.post("/campaigns/big/start").raise_for_status()
            series = client.get("/campaigns/big/calls").json()
            last = series["points"][-1]["at"]
            reads = {
                "GET /campaigns": "/campaigns",
                "GET /campaigns/big": "/campaigns/big",
                "calls, whole life": "/campaigns/big/calls",
                "calls, latest bucket": f"/campaigns/big/calls?since={last}&bucket="
                f"{series['bucket_seconds']}",
                "attempts?limit=20": "/campaigns/big/attempts?limit=20",
                "window": "/campaigns/big/window",
                "GET /accounts/sandbox": "/accounts/sandbox",
            }
            print(
                f"{engine.dialect.name}, {contacts:,} contacts, {contacts:,} attempts over 24 h,"
                f" indexes {'dropped' if args.without_indexes else 'present'}"
            )
            for label, path in reads.items():
                times = []
                for _ in range(5):
                    begin = time.perf_counter()
                    client.get(path).raise_for_status()
                    times.append(time.perf_counter() - begin)
                print(f"  {label:<24} {statistics.median(times) * 1000:8.1f} ms")
        engine.dispose()


if __name__ == "__main__":
    main()
