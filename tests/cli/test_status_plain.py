"""``dialer campaign status`` on a ledger at the newest revision reads it without importing
SQLAlchemy (dialer/ledger/plainread.py) and prints, byte for byte, what the SQLAlchemy path
prints; any other ledger takes that path, which migrates it or says what is wrong."""

from __future__ import annotations

import subprocess
import sys
from importlib.resources import files
from pathlib import Path

import pytest
from alembic import command
from alembic.config import Config
from sqlalchemy import text
from sqlalchemy.engine import Engine

from dialer.ledger.engine import make_engine
from dialer.ledger.plainread import open_ledger
from dialer.ledger.revision import head_revision
from tests import status_support
from tests.cli.running import (
    EXIT_SERVICE_DOWN,
    dialer,
    dialer_here,
    environment,
    one_line_error,
)

# `dialer` at status_support.NOW, saying on stderr's last line whether it imported
# SQLAlchemy; with --fallback first, as if the ledger could not be read without it.
RUN = """
import sys
from datetime import UTC, datetime

import dialer.clock

dialer.clock.utcnow = lambda: datetime(2026, 12, 4, 15, 0, 30, tzinfo=UTC)
if sys.argv[1] == "--fallback":
    del sys.argv[1]
    import dialer.ledger.plainread

    dialer.ledger.plainread.open_ledger = lambda url: None
from dialer.cli.app import main

try:
    main()
finally:
    print("sqlalchemy" in sys.modules, file=sys.stderr)
"""

ACCOUNTS = "".join(
    f'[accounts.{name}]\nprovider = "sandbox"\nrate = "2/s"\nconcurrent_calls = 4\n'
    for name in ("sandbox", "other")
)


def status(cwd: Path, database_url: str, *args: str) -> tuple[str, bool]:
    """The output of ``dialer campaign status ARGS`` and whether it imported SQLAlchemy."""
    result = subprocess.run(
        [sys.executable, "-c", RUN, *args],
        cwd=cwd,
        env=environment(DIALER_DATABASE_URL=database_url),
        capture_output=True,
        text=True,
        timeout=120,
    )
    *errors, imported = result.stderr.splitlines()
    assert result.returncode == 0 and not errors, result.stderr
    return result.stdout, imported == "True"


def test_status_without_sqlalchemy_prints_what_sqlalchemy_does(
    tmp_path: Path, engine: Engine, database_url: str
) -> None:
    assert status_support.NOW.isoformat() == "2026-12-04T15:00:30+00:00"  # RUN's clock
    campaign_id = status_support.arranged(engine)
    status_support.with_recalls_and_accounts(engine, campaign_id)
    (tmp_path / "dialer.toml").write_text(ACCOUNTS, encoding="utf-8")
    shown = []
    for json in ([], ["--json"]):
        plain, imported = status(tmp_path, database_url, "campaign", "status", "spring", *json)
        assert not imported
        core, imported = status(
            tmp_path, database_url, "--fallback", "campaign", "status", "spring", *json
        )
        assert imported
        assert plain == core
        shown.append(plain)
    text, json_text = shown
    assert "  waiting    2 to call again; next due 2026-12-04T16:15:30.000250+00:00\n" in text
    assert "  accounts   sandbox 70 %, other 30 %; failover on, reassigned 3\n" in text
    assert '"next_due": "2026-12-04T16:15:30.000250+00:00"' in json_text


def test_a_ledger_a_revision_behind_is_migrated_and_read(tmp_path: Path) -> None:
    (tmp_path / "leads.csv").write_text("phone\n+12125552671\n", encoding="utf-8")
    create = dialer_here(
        tmp_path, "campaign", "create", "c", "--account", "sandbox", "--csv", "leads.csv"
    )
    assert create.returncode == 0, create.stderr
    url = f"sqlite:///{tmp_path / 'dialer.db'}"
    engine = make_engine(url)
    with engine.connect() as connection:
        config = Config()
        config.set_main_option("script_location", str(files("dialer") / "migrations"))
        config.attributes["connection"] = connection
        command.downgrade(config, "-1")
    assert _revision(engine) < head_revision()
    shown, imported = status(tmp_path, url, "campaign", "status", "c")
    assert imported and shown.startswith("Campaign 'c' on account 'sandbox': draft\n")
    assert _revision(engine) == head_revision()
    assert status(tmp_path, url, "campaign", "status", "c") == (shown, False)
    engine.dispose()
    ghost = one_line_error(dialer(tmp_path, "campaign", "status", "ghost"))
    assert "ghost" in ghost


def _revision(engine: Engine) -> str:
    with engine.connect() as connection:
        return str(connection.execute(text("SELECT version_num FROM alembic_version")).scalar())


@pytest.mark.parametrize(
    "url",
    [
        "postgresql+psycopg://postgres@127.0.0.1:1/dialer",
        "postgresql://postgres@127.0.0.1:1/dialer",
    ],
)
def test_an_unreachable_postgres_says_so_in_one_line(tmp_path: Path, url: str) -> None:
    down = dialer(tmp_path, "campaign", "status", "c", env={"DIALER_DATABASE_URL": url})
    line = one_line_error(down, EXIT_SERVICE_DOWN)
    assert line.startswith("error: database unreachable: ")


def test_the_plain_read_creates_and_leaves_no_file(tmp_path: Path) -> None:
    assert open_ledger(f"sqlite:///{tmp_path / 'none.db'}") is None
    assert list(tmp_path.iterdir()) == []
    (tmp_path / "leads.csv").write_text("phone\n+12125552671\n", encoding="utf-8")
    create = dialer_here(
        tmp_path, "campaign", "create", "c", "--account", "sandbox", "--csv", "leads.csv"
    )
    assert create.returncode == 0, create.stderr
    made = sorted(path.name for path in tmp_path.iterdir())
    url = f"sqlite:///{tmp_path / 'dialer.db'}"
    assert status(tmp_path, url, "campaign", "status", "c")[1] is False
    assert sorted(path.name for path in tmp_path.iterdir()) == made  # no -wal, -shm left
