"""What the claim costs for a campaign over two accounts, as the campaign grows.

    python bench/bench_claim_accounts.py [--sizes 100000 1000000] [--url DATABASE_URL]

For each size it builds a fresh, migrated SQLite ledger (or, with ``--url``, uses that empty
database, e.g. a Postgres one made with ``createdb``) holding one running campaign of N
pending contacts split ``a=70, b=30``, then prints the median of 7 claims of 100 contacts
(``dialer.ledger.dispatch.claim_due``, rolled back after each) in milliseconds:

- ``one account``: the claim with no account filter, as for a campaign over one account;
- ``a down, no failover``: only b's contacts (their bucket, computed in SQL);
- ``a down, failover``: any contact not yet assigned, or assigned to b.

The claim reads one range of ``ix_contact_claim`` and filters it: the cost follows the batch
(about 1 / 0.3 more rows read when only b's contacts qualify), not the campaign.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import text

from dialer import split
from dialer.ledger import campaigns as ledger_campaigns
from dialer.ledger import dispatch as ledger_dispatch
from dialer.ledger.engine import make_engine, migrate, session_scope
from dialer.models import Campaign

NOW = datetime(2026, 12, 4, 15, tzinfo=UTC)
SHARES = split.parse_shares(["a=70", "b=30"])


def measure(url: str, size: int) -> dict[str, float]:
    engine = make_engine(url)
    migrate(engine)
    with session_scope(engine) as session:
        campaign = ledger_campaigns.create_campaign(
            session,
            campaign=Campaign(
                name=f"bench-{size}",
                account="a",
                accounts=[share.to_json() for share in SHARES],
                created_at=NOW,
                status="running",
            ),
        )
        assert campaign.id is not None
        campaign_id = campaign.id
    with engine.begin() as connection:
        connection.execute(
            text(
                'INSERT INTO contact (campaign_id, "row", phone, raw_phone, number_type, zone_key,'
                " first_name, last_name, email, variables, state, attempts, last_error)"
                " SELECT :cid, n, '+1' || CAST(2000000000 + n AS TEXT), '', 'mobile', '', '',"
                " '', '', '{}', 'pending', 0, ''"
                " FROM (WITH RECURSIVE seq(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM seq"
                " WHERE n < :size) SELECT n FROM seq) AS numbers"
            ),
            {"cid": campaign_id, "size": size},
        )
    cut = split.intervals(SHARES)
    filters = {
        "one account": None,
        "a down, no failover": ledger_dispatch.AccountFilter(frozenset({"b"}), (cut["b"],)),
        "a down, failover": ledger_dispatch.AccountFilter(frozenset({"b"}), None),
    }
    found: dict[str, float] = {}
    for label, accounts in filters.items():
        times = []
        for _ in range(7):
            with session_scope(engine) as session:
                started = time.perf_counter()
                claimed = ledger_dispatch.claim_due(
                    session,
                    campaign_id=campaign_id,
                    zone_keys=[""],
                    now=NOW,
                    limit=100,
                    accounts=accounts,
                )
                times.append((time.perf_counter() - started) * 1000)
                assert len(claimed) == 100
                session.rollback()
        found[label] = statistics.median(times)
    with engine.begin() as connection:
        connection.execute(text("DELETE FROM contact"))
        connection.execute(text("DELETE FROM campaign"))
    engine.dispose()
    return found


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[100_000, 1_000_000])
    parser.add_argument("--url", help="an empty database to use (default: SQLite files)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        for size in args.sizes:
            url = args.url or f"sqlite:///{Path(folder) / f'bench-{size}.db'}"
            figures = measure(url, size)
            line = ", ".join(f"{label} {ms:.1f} ms" for label, ms in figures.items())
            print(f"{size:>10,} contacts: claim of 100: {line}", flush=True)


if __name__ == "__main__":
    main()
