"""The ``dialer`` command starts fast: each command imports only what it needs.

``bench/bench_startup.py`` measures the time; these tests hold the reason it is short.
"""

from __future__ import annotations

import subprocess
import sys
from importlib.resources import files
from pathlib import Path

from alembic.config import Config
from alembic.script import ScriptDirectory

from dialer.cli.sandbox import SANDBOX_PORT
from dialer.ledger.revision import head_revision
from dialer.providers.sandbox import SANDBOX_PORT as SETTINGS_SANDBOX_PORT
from tests.cli.running import dialer, dialer_here, environment

HEAVY = {"pandas", "numpy", "pyarrow", "alembic", "redis", "celery", "uvicorn"}


def imported_modules(cwd: Path, *args: str) -> set[str]:
    """The modules ``dialer ARGS`` imports (from ``python -X importtime``)."""
    result = subprocess.run(
        [sys.executable, "-X", "importtime", "-m", "dialer", *args],
        cwd=cwd,
        env=environment(),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    lines = [line for line in result.stderr.splitlines() if line.startswith("import time:")]
    return {line.rsplit("|", 1)[1].strip() for line in lines}


def imported_by(cwd: Path, *args: str) -> set[str]:
    """The top-level packages ``dialer ARGS`` imports."""
    return {module.split(".")[0] for module in imported_modules(cwd, *args)}


def test_help_imports_no_database_or_data_library(tmp_path: Path) -> None:
    loaded = imported_by(tmp_path, "--help")
    assert loaded & (HEAVY | {"sqlalchemy", "sqlmodel", "pydantic", "httpx"}) == set()


def test_campaign_status_on_a_current_ledger_imports_no_sqlalchemy(tmp_path: Path) -> None:
    (tmp_path / "leads.csv").write_text("phone\n+12125552671\n", encoding="utf-8")
    create = dialer_here(
        tmp_path, "campaign", "create", "c", "--account", "sandbox", "--csv", "leads.csv"
    )
    assert create.returncode == 0, create.stderr
    loaded = imported_by(tmp_path, "campaign", "status", "c")
    assert "sqlite3" in loaded  # it did read the ledger
    assert (
        loaded & (HEAVY | {"sqlalchemy", "sqlmodel", "phonenumbers", "httpx", "psycopg"}) == set()
    )


def test_db_upgrade_says_what_it_did(tmp_path: Path) -> None:
    assert dialer(tmp_path, "db", "upgrade").stdout == (
        f"created the ledger schema (revision {head_revision()})\n"
    )
    assert dialer(tmp_path, "db", "upgrade").stdout == (
        f"the ledger schema is up to date (revision {head_revision()})\n"
    )


def test_constants_kept_for_startup_match_their_sources() -> None:
    config = Config()
    config.set_main_option("script_location", str(files("dialer") / "migrations"))
    assert ScriptDirectory.from_config(config).get_current_head() == head_revision()
    assert SANDBOX_PORT == SETTINGS_SANDBOX_PORT
