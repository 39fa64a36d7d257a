"""What the stack benchmarks share: a fresh Postgres database, the benchmark campaign, its open
contacts, and stopping cleanly on SIGTERM. The processes themselves (Redis, the sandbox, Celery
workers and beat) come from tests/procs.py, which the distributed tests use too."""

from __future__ import annotations

import sys
import uuid
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from types import FrameType

from sqlalchemy import create_engine, text
from sqlalchemy.engine import Engine

from dialer.ledger import campaigns as ledger_campaigns
from dialer.ledger.engine import make_engine, migrate, session_scope
from dialer.models import ContactState
from dialer.settings import Settings

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))
from campaign_support import sandbox_campaign

CAMPAIGN = "bench"
OPEN = (ContactState.PENDING, ContactState.QUEUED, ContactState.DIALING)


@contextmanager
def fresh_database(admin_url: str) -> Iterator[tuple[Engine, str]]:
    """A new, migrated Postgres database on ``admin_url``'s server, dropped afterwards: its
    engine and URL."""
    admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    name = f"dialer_bench_{uuid.uuid4().hex[:10]}"
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    database_url = admin.url.set(database=name).render_as_string(hide_password=False)
    engine = make_engine(database_url)
    try:
        migrate(engine)
        yield engine, database_url
    finally:
        engine.dispose()
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def import_leads(engine: Engine, settings: Settings, workdir: Path, numbers: Sequence[str]) -> None:
    """The campaign :data:`CAMPAIGN` of ``numbers`` on the ``sandbox`` account, callable at
    any hour of any day, imported (a draft: start it to dial)."""
    sandbox_campaign(engine, settings, workdir, list(numbers), name=CAMPAIGN, start=False)


def open_contacts(engine: Engine) -> int:
    """Open contacts of the campaign, from the ledger's counts (a count of the contacts would
    load Postgres ten times a second with a large campaign)."""
    with session_scope(engine) as session:
        campaign = ledger_campaigns.get_campaign(session, name=CAMPAIGN)
        assert campaign.id is not None
        counts = ledger_campaigns.state_counts(session, campaign_id=campaign.id)
    return sum(counts[state] for state in OPEN)


def stop_on_sigterm(signum: int, frame: FrameType | None) -> None:
    """A SIGTERM handler: unwind through the ``with`` blocks, so the workers, Redis and the
    sandbox are stopped and the database dropped when a benchmark is killed (``timeout``)."""
    raise SystemExit(128 + signum)
