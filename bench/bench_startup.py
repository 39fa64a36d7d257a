"""How long the ``dialer`` command takes to start: the median of N runs of ``dialer --help``
and of ``dialer campaign status NAME`` (on a one-contact ledger made first: SQLite, or a new
Postgres database on the server of ``--postgres-url``, dropped afterwards), each a fresh
process of the installed script.

    python bench/bench_startup.py            # 10 runs each, SQLite
    python bench/bench_startup.py --runs 20
    python bench/bench_startup.py --db postgres [--postgres-url postgresql+psycopg://...]
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from contextlib import nullcontext
from pathlib import Path

from bench_import import database

COMMANDS = (
    ("dialer --help", ["--help"]),
    ("dialer campaign status demo", ["campaign", "status", "demo"]),
)


def dialer_script() -> list[str]:
    """The installed ``dialer`` script next to this Python, else ``python -m dialer``."""
    script = Path(sys.executable).with_name("dialer")
    return [str(script)] if script.exists() else [sys.executable, "-m", "dialer"]


def timed(command: list[str], cwd: Path, env: dict[str, str]) -> float:
    began = time.perf_counter()
    subprocess.run(command, cwd=cwd, env=env, check=True, stdout=subprocess.DEVNULL)
    return time.perf_counter() - began


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=10)
    parser.add_argument("--db", choices=("sqlite", "postgres"), default="sqlite")
    parser.add_argument(
        "--postgres-url", default="postgresql+psycopg://postgres@127.0.0.1:5432/test"
    )
    args = parser.parse_args()
    dialer = dialer_script()
    ledger = database("postgres", args.postgres_url) if args.db == "postgres" else nullcontext()
    with tempfile.TemporaryDirectory() as directory, ledger as url:
        workdir = Path(directory)
        # As a user runs it: no DIALER_* settings, and a Python that keeps the bytecode it
        # compiles (with PYTHONDONTWRITEBYTECODE set, as on some CI machines, every run would
        # compile the dialer's modules again: ~0.06 s more).
        env = {
            k: v
            for k, v in os.environ.items()
            if not k.startswith("DIALER_") and k != "PYTHONDONTWRITEBYTECODE"
        }
        if url is not None:
            env["DIALER_DATABASE_URL"] = url
        (workdir / "leads.csv").write_text("phone\n+12125552671\n", encoding="utf-8")
        create = ["campaign", "create", "demo", "--account", "sandbox", "--csv", "leads.csv"]
        subprocess.run(
            [*dialer, *create], cwd=workdir, env=env, check=True, stdout=subprocess.DEVNULL
        )
        for label, command in COMMANDS:
            timed([*dialer, *command], workdir, env)  # warm the page cache and .pyc files
            runs = [timed([*dialer, *command], workdir, env) for _ in range(args.runs)]
            print(
                f"{label:<30} median {statistics.median(runs):.3f} s  "
                f"(min {min(runs):.3f}, max {max(runs):.3f}, {args.runs} runs)"
            )


if __name__ == "__main__":
    main()
