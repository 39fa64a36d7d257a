"""``campaign create --recall/--order`` and what ``campaign status`` shows of them."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.cli.running import dialer_here, one_line_error

CREATE = ("campaign", "create", "spring", "--account", "sandbox", "--csv", "leads.csv")


@pytest.fixture
def workdir(tmp_path: Path) -> Path:
    (tmp_path / "leads.csv").write_text("Name,Phone\nAnn,2125552671\n", encoding="utf-8")
    return tmp_path


def test_recall_ladders_and_order_are_shown_by_status(workdir: Path) -> None:
    created = dialer_here(
        workdir,
        *CREATE,
        "--recall",
        "no-answer=1h,4h,1d",
        "--recall",
        "busy=15m,1h",
        "--recall",
        "voicemail=1d",
        "--order",
        "fresh-first",
    )
    assert created.returncode == 0, created.stderr
    status = dialer_here(workdir, "campaign", "status", "spring")
    assert "  recalls    no-answer=1h,4h,1d busy=15m,1h voicemail=1d (fresh-first)" in (
        status.stdout.splitlines()
    )
    shown = json.loads(dialer_here(workdir, "campaign", "status", "spring", "--json").stdout)
    assert shown["recall_rules"] == "no-answer=1h,4h,1d busy=15m,1h voicemail=1d"
    assert (shown["order"], shown["recalls_waiting"], shown["next_due"]) == (
        "fresh-first",
        0,
        None,
    )


def test_max_calls_is_the_flat_ladder(workdir: Path) -> None:
    assert dialer_here(workdir, *CREATE, "--max-calls", "2", "--retry-after", "2h").returncode == 0
    shown = json.loads(dialer_here(workdir, "campaign", "status", "spring", "--json").stdout)
    assert (shown["recall_rules"], shown["order"]) == ("busy=2h no-answer=2h", "interleave")


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("--recall", "hangup=1h"), "error: --recall 'hangup=1h': unknown outcome 'hangup' (use"),
        (("--recall", "busy=1h,2y"), "error: --recall 'busy=1h,2y': invalid duration '2y'"),
        (("--order", "oldest"), "error: --order 'oldest': use one of fresh-first"),
    ],
)
def test_bad_recall_options_are_one_line_and_create_nothing(
    workdir: Path, args: tuple[str, ...], message: str
) -> None:
    assert one_line_error(dialer_here(workdir, *CREATE, *args)).startswith(message)
    assert "no campaign named" in one_line_error(
        dialer_here(workdir, "campaign", "status", "spring")
    )
