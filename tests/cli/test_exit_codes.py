"""The exit codes README's "Exit codes" promises: 0 done, 1 your error, 2 a command line the
command cannot parse, 3 a service (database, Redis) unreachable, 130 interrupted."""

from __future__ import annotations

import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx

from tests.cli.running import (
    EXIT_INTERRUPTED,
    EXIT_SERVICE_DOWN,
    EXIT_USER_ERROR,
    dialer,
    dialer_here,
    environment,
    one_line_error,
)

EXIT_USAGE = 2


def test_user_error_and_usage_error(tmp_path: Path) -> None:
    assert dialer(tmp_path, "campaign", "status", "ghost").returncode == EXIT_USER_ERROR
    usage = dialer(tmp_path, "campaign", "status")
    assert usage.returncode == EXIT_USAGE
    assert "Missing argument 'NAME'" in usage.stderr


def test_an_unreachable_database_is_service_down(tmp_path: Path) -> None:
    down = {"DIALER_DATABASE_URL": "postgresql+psycopg://postgres@127.0.0.1:1/dialer"}
    line = one_line_error(dialer(tmp_path, "campaign", "list", env=down), EXIT_SERVICE_DOWN)
    assert line.startswith("error: database unreachable: ")


def test_a_second_ctrl_c_interrupts(tmp_path: Path, sandbox_url: str) -> None:
    (tmp_path / "dialer.toml").write_text(
        f'[accounts.box]\nprovider = "sandbox"\nbase_url = "{sandbox_url}"\ntimeout = 30\n',
        encoding="utf-8",
    )
    (tmp_path / "l.csv").write_text("phone\n+12125552671\n", encoding="utf-8")
    create = ("campaign", "create", "c", "--account", "box", "--csv", "l.csv")
    created = dialer_here(tmp_path, *create, "--window", "00:00-24:00", "--days", "all")
    assert created.returncode == 0
    assert dialer_here(tmp_path, "campaign", "start", "c").returncode == 0
    httpx.post(f"{sandbox_url}/_sandbox/config", json={"latency_ms": 5_000}).raise_for_status()
    process = subprocess.Popen(
        [sys.executable, "-m", "dialer", "run"],
        cwd=tmp_path,
        env=environment(),
        stderr=subprocess.PIPE,
        text=True,
    )
    deadline = time.monotonic() + 60
    while not httpx.get(f"{sandbox_url}/_sandbox/requests").json():
        assert time.monotonic() < deadline and process.poll() is None
        time.sleep(0.1)
    process.send_signal(signal.SIGINT)  # first: let the call in flight finish...
    time.sleep(0.5)
    process.send_signal(signal.SIGINT)  # ...second: the user insists
    _, stderr = process.communicate(timeout=60)
    assert process.returncode == EXIT_INTERRUPTED, stderr
    assert stderr == "stopping: letting calls in flight finish...\n"
