"""ruff's security rules (``S``, the bandit set) are on for the shipped packages and find
nothing there (each exception is justified inline, or for S101 in pyproject.toml)."""

from __future__ import annotations

import subprocess
import sys
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_the_security_rules_are_selected_for_the_shipped_code() -> None:
    lint = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["ruff"]["lint"]
    assert "S" in lint["select"]
    ignored_everywhere = {code for code in lint["ignore"] if code.startswith("S")}
    assert ignored_everywhere == {"S101"}


def test_the_shipped_code_has_no_security_finding() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "ruff", "check", "--select", "S", "--ignore", "S101",
         "--output-format", "concise", "dialer", "campaigns", "workers"],
        cwd=ROOT, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert result.returncode == 0, result.stdout
