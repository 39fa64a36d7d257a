"""Help reads as click's does (NAME, no ``<bool>`` on flags), and the campaign's call budget
is ``--max-calls`` (the old ``--max-attempts`` still works, with a one-line notice). In this
process: ``tests/cli/test_startup.py`` runs ``--help`` as a process."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import typer.main
from sqlmodel import select

from dialer.cli.app import app
from dialer.cli.campaign import MAX_ATTEMPTS_DEPRECATED
from dialer.ledger.engine import make_engine, session_scope
from dialer.models import Campaign
from tests.cli.running import dialer_here


def test_usage_names_arguments_and_flags_show_no_type(tmp_path: Path) -> None:
    result = dialer_here(tmp_path, "campaign", "export", "--help", env={"COLUMNS": "100"})
    lines = [line.strip(" │") for line in result.stdout.splitlines()]
    assert "Usage: python -m dialer campaign export [OPTIONS] NAME" in lines
    assert re.search(r"--excel +UTF-8 with a byte-order mark", result.stdout)
    assert "<bool>" not in result.stdout
    run_help = dialer_here(tmp_path, "run", "--help").stdout
    assert "Usage: python -m dialer run [OPTIONS] [NAMES]..." in run_help
    root = dialer_here(tmp_path, "--help").stdout
    assert "<bool>" not in root and "{" not in root


def test_max_calls_and_its_old_name(tmp_path: Path) -> None:
    (tmp_path / "l.csv").write_text("phone\n+12125552671\n", encoding="utf-8")
    create = ("campaign", "create", "--account", "sandbox", "--csv", "l.csv")
    new = dialer_here(tmp_path, *create[:2], "a", *create[2:], "--max-calls", "3")
    assert new.returncode == 0 and new.stderr == ""
    old = dialer_here(tmp_path, *create[:2], "b", *create[2:], "--max-attempts", "4")
    assert old.returncode == 0, old.stderr
    assert old.stderr == MAX_ATTEMPTS_DEPRECATED + "\n"
    engine = make_engine(f"sqlite:///{tmp_path / 'dialer.db'}")
    with session_scope(engine) as session:
        budgets = {c.name: c.max_attempts for c in session.exec(select(Campaign))}
    engine.dispose()
    assert budgets == {"a": 3, "b": 4}
    assert "--max-calls" in dialer_here(tmp_path, "campaign", "create", "--help").stdout
    assert "--max-attempts" not in dialer_here(tmp_path, "campaign", "create", "--help").stdout


def test_every_command_is_summed_up_in_one_unbroken_line() -> None:
    """The help shows a command's first paragraph as written: a line break inside it
    breaks the sentence in ``dialer --help`` (as ``serve``'s did)."""

    def broken(command: Any, path: str) -> Iterator[str]:
        summary = (command.help or "").strip().split("\n\n")[0]
        if "\n" in summary:
            yield path
        for name, sub in getattr(command, "commands", {}).items():
            yield from broken(sub, f"{path} {name}")

    assert list(broken(typer.main.get_command(app), "dialer")) == []
