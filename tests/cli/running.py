"""The ``dialer`` command run as a user runs it: a real process, its exit code and output."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

EXIT_USER_ERROR = 1
EXIT_SERVICE_DOWN = 3
EXIT_INTERRUPTED = 130


def environment(**extra: str) -> dict[str, str]:
    """This process's environment without DIALER_* settings, 200 columns wide."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("DIALER_")}
    env.update({"COLUMNS": "200", **extra})
    return env


def dialer(
    cwd: Path, *args: str, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    """``dialer ARGS`` in ``cwd`` (``python -m dialer``), its output captured as text."""
    return subprocess.run(
        [sys.executable, "-m", "dialer", *args],
        cwd=cwd,
        env=environment(**(env or {})),
        capture_output=True,
        text=True,
        timeout=120,
    )


def one_line_error(result: subprocess.CompletedProcess[str], code: int = EXIT_USER_ERROR) -> str:
    """The one ``error: ...`` line of a failed command, which exited with ``code``."""
    assert result.returncode == code, result.stderr
    assert "Traceback" not in result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("error: ")
    return lines[0]
