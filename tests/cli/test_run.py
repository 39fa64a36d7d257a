"""``dialer run --drain``: per-campaign counts (drafts left out), and for a campaign that
waits, why nothing is due and when it will be. ``run`` is a process, as users start it; the
campaigns are made in this process."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from subprocess import CompletedProcess
from zoneinfo import ZoneInfo

import pytest

from tests.cli.running import dialer, dialer_here, one_line_error

NEW_YORK = ZoneInfo("America/New_York")


@pytest.fixture
def workdir(tmp_path: Path, sandbox_url: str) -> Path:
    (tmp_path / "dialer.toml").write_text(
        f'[accounts.box]\nprovider = "sandbox"\nbase_url = "{sandbox_url}"\nrate = "50/s"\n',
        encoding="utf-8",
    )
    (tmp_path / "two.csv").write_text("phone\n2125552671\n2125552672\n", encoding="utf-8")
    (tmp_path / "one.csv").write_text("phone\n2125552673\n", encoding="utf-8")
    return tmp_path


def ok(workdir: Path, *args: str, run: Callable[..., CompletedProcess[str]] = dialer_here) -> str:
    result = run(workdir, *args)
    assert result.returncode == 0, result.stderr
    return result.stdout


def create(workdir: Path, name: str, csv: str, *options: str) -> None:
    ok(workdir, "campaign", "create", name, "--account", "box", "--csv", csv, *options)


def test_drain_reports_each_campaign_and_why_one_waits(workdir: Path) -> None:
    # A one-hour window opening in New York one to two hours from now: closed now.
    opens = (datetime.now(NEW_YORK) + timedelta(hours=2)).replace(minute=0, second=0)
    opens = opens.replace(microsecond=0)
    window = f"{opens:%H}:00-{(opens + timedelta(hours=1)):%H}:00".replace("-00:00", "-24:00")
    create(workdir, "spring", "two.csv", "--window", window, "--days", "all")
    create(workdir, "draft", "one.csv")
    create(workdir, "now", "one.csv", "--window", "00:00-24:00", "--days", "all")
    ok(workdir, "campaign", "start", "spring")
    ok(workdir, "campaign", "start", "now")

    result = dialer(workdir, "run", "--drain")

    assert result.returncode == 0, result.stderr
    at = opens.astimezone(UTC)
    day = "" if at.date() == datetime.now(UTC).date() else f" on {at:%Y-%m-%d}"
    assert result.stdout.splitlines() == [
        "spring (running): 0 of 2 done, 2 pending: "
        f"window opens {opens:%H}:00 America/New_York ({at:%H:%M} UTC{day})",
        "now (completed): 1 of 1 done (placed 1), 0 pending",
    ]


def test_named_campaigns_say_when_they_start_or_that_they_are_paused(workdir: Path) -> None:
    create(
        workdir,
        "later",
        "two.csv",
        "--window",
        "00:00-24:00",
        "--days",
        "all",
        "--start",
        "2100-01-04T09:30:00Z",
    )
    create(workdir, "held", "one.csv", "--window", "00:00-24:00", "--days", "all")
    ok(workdir, "campaign", "start", "later")
    ok(workdir, "campaign", "start", "held")
    ok(workdir, "campaign", "pause", "held")
    create(workdir, "draft", "one.csv")

    assert ok(workdir, "run", "later", "held", "draft", "--drain", run=dialer).splitlines() == [
        "later (running): 0 of 2 done, 2 pending: starts at 2100-01-04 09:30 UTC",
        "held (paused): 0 of 1 done, 1 pending: paused",
        "draft (draft): 0 of 1 done, 1 pending: draft: not started (dialer campaign start draft)",
    ]
    assert "no campaign named 'ghost'" in one_line_error(dialer(workdir, "run", "ghost"))


def test_nothing_to_run(workdir: Path) -> None:
    create(workdir, "draft", "one.csv")
    assert ok(workdir, "run", "--drain", run=dialer) == (
        "No running campaign: start one with dialer campaign start NAME\n"
    )
