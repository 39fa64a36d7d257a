"""How long the ``dialer`` command takes to start: the median of N runs of ``dialer --help``
and of ``dialer campaign status NAME`` (on a one-contact SQLite ledger made first), each a
fresh process of the installed script.

    python bench/bench_startup.py            # 10 runs each
    python bench/bench_startup.py --runs 20
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

COMMANDS = (
    ("dialer --help", ["--help"]),
    ("dialer campaign status demo", ["campaign", "status", "demo"]),
)


def dialer_script() -> list[str]:
    """The installed ``dialer`` script next to this Python, else ``python -m dialer``."""
    script = Path(sys.executable).with_name("dialer")
    return [str(script)] if script.exists() else [sys.executable, "-m", "dialer"]


def timed(command: list[str], cwd: Path) -> float:
    began = time.perf_counter()
    subprocess.run(command, cwd=cwd, check=True, stdout=subprocess.DEVNULL)
    return time.perf_counter() - began


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=10)
    args = parser.parse_args()
    dialer = dialer_script()
    with tempfile.TemporaryDirectory() as directory:
        workdir = Path(directory)
        (workdir / "leads.csv").write_text("phone\n+12125552671\n", encoding="utf-8")
        create = ["campaign", "create", "demo", "--account", "sandbox", "--csv", "leads.csv"]
        subprocess.run([*dialer, *create], cwd=workdir, check=True, stdout=subprocess.DEVNULL)
        for label, command in COMMANDS:
            timed([*dialer, *command], workdir)  # warm the page cache and .pyc files
            runs = [timed([*dialer, *command], workdir) for _ in range(args.runs)]
            print(
                f"{label:<30} median {statistics.median(runs):.3f} s  "
                f"(min {min(runs):.3f}, max {max(runs):.3f}, {args.runs} runs)"
            )


if __name__ == "__main__":
    main()
