"""``campaign create --account NAME=W`` (repeated, --failover), ``status`` and ``compare``
as a user runs them, against the sandbox (in this process: ``tests/cli/test_cli.py`` runs
a campaign end to end as processes)."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest

from tests.cli.running import dialer_here, one_line_error

LEADS = "".join(f"Lead{i},+1212555{4000 + i:04d}\n" for i in range(12))


@pytest.fixture
def workdir(tmp_path: Path, sandbox_url: str) -> Path:
    (tmp_path / "leads.csv").write_text("First Name,Phone\n" + LEADS, encoding="utf-8")
    (tmp_path / "dialer.toml").write_text(
        f'[accounts.main]\nprovider = "sandbox"\nbase_url = "{sandbox_url}"\nrate = "50/s"\n'
        f'[accounts.trial]\nprovider = "sandbox"\nbase_url = "{sandbox_url}"\nrate = "50/s"\n'
        '[accounts.poly]\nprovider = "polyai"\ntoken = "t"\nencryption = "TLS/SRTP"\n',
        encoding="utf-8",
    )
    return tmp_path


def _create(workdir: Path, *options: str) -> str:
    args = ["campaign", "create", "duo", "--csv", "leads.csv", "--window", "00:00-24:00"]
    result = dialer_here(workdir, *args, "--days", "all", *options)
    assert result.returncode == 0, result.stderr
    return result.stdout


def test_two_accounts_by_weight_then_status_export_and_compare(workdir: Path) -> None:
    _create(workdir, "--account", "main=70", "--account", "trial=30", "--failover")
    assert dialer_here(workdir, "campaign", "start", "duo").returncode == 0
    assert dialer_here(workdir, "run", "--drain").returncode == 0

    status = dialer_here(workdir, "campaign", "status", "duo")
    assert "  accounts   main 70 %, trial 30 %; failover on, reassigned 0" in status.stdout
    data = json.loads(dialer_here(workdir, "campaign", "status", "duo", "--json").stdout)
    assert data["accounts"] == [{"name": "main", "weight": 70}, {"name": "trial", "weight": 30}]
    assert data["failover"] is True and data["contacts"]["placed"] == 12

    assert dialer_here(workdir, "campaign", "export", "duo", "-o", "duo.csv").returncode == 0
    with (workdir / "duo.csv").open(newline="", encoding="utf-8") as stream:
        rows = list(csv.DictReader(stream))
    by_account = {name: sum(r["account"] == name for r in rows) for name in ("main", "trial")}
    assert sum(by_account.values()) == 12 and by_account["trial"] >= 1

    found = json.loads(dialer_here(workdir, "campaign", "compare", "duo", "--json").stdout)
    assert [(a["account"], a["contacts"]) for a in found["accounts"]] == [
        ("main", by_account["main"]),
        ("trial", by_account["trial"]),
    ]
    assert found["accounts"][1]["difference"]["versus"] == "main"
    table = dialer_here(workdir, "campaign", "compare", "duo").stdout
    assert "vs first (95 % CI)" in table and "trial" in table


def test_a_single_account_campaign_is_as_before(workdir: Path) -> None:
    _create(workdir, "--account", "main")
    data = json.loads(dialer_here(workdir, "campaign", "status", "duo", "--json").stdout)
    assert data["account"] == "main" and data["accounts"] == [] and data["reassigned"] == 0
    assert dialer_here(workdir, "campaign", "export", "duo", "-o", "duo.csv").returncode == 0
    header = (workdir / "duo.csv").read_text(encoding="utf-8").splitlines()[0]
    assert "account" not in header.split(",")


@pytest.mark.parametrize(
    ("options", "message"),
    [
        (
            ["--account", "main=70", "--account", "poly=30", "--instructions", "Be kind"],
            "account 'poly': polyai has no field for --instructions",
        ),
        (["--account", "main=0"], "the weight must be a whole number of at least 1"),
        (["--account", "main", "--account", "main=5"], "--account 'main' is given twice"),
        (["--account", "main", "--failover"], "--failover needs two accounts or more"),
        (["--account", "main=1", "--account", "ghost=1"], "ghost"),
    ],
)
def test_bad_account_options_are_one_line(workdir: Path, options: list[str], message: str) -> None:
    args = ["campaign", "create", "duo", "--csv", "leads.csv", *options]
    assert message in one_line_error(dialer_here(workdir, *args))
