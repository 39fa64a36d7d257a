"""``python -m dialer.sandbox [--host H] [--port N] [--latency-ms MS]``: serve in the foreground.

Prints one line, ``dialer sandbox listening on URL``, once listening (with ``--port 0``, that is
how a parent process learns the port). Errors are one line on stderr and a non-zero exit.
"""

from __future__ import annotations

import argparse

from dialer.sandbox.server import run
from dialer.settings import SANDBOX_PORT


def main() -> None:
    parser = argparse.ArgumentParser(
        prog="python -m dialer.sandbox",
        description="Serve the provider sandbox (all provider APIs and /_sandbox/ control).",
    )
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=SANDBOX_PORT, help="0 picks a free port")
    parser.add_argument("--latency-ms", type=int, default=0, help="delay before every answer")
    args = parser.parse_args()
    try:
        run(args.port, args.latency_ms, host=args.host)
    except ValueError as exc:
        parser.error(str(exc))
    except OSError as exc:
        parser.exit(1, f"cannot listen on {args.host}:{args.port}: {exc.strerror or exc}\n")


if __name__ == "__main__":
    main()
